"""Read-only roles (auditors) cannot change anything, and group leaders reach nothing but the field
app and their own cash, whatever a view forgets to check."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from control_plane.errors import ErrorCode, error_body
from core_banking.staff.roles import is_group_leader
from tenants.db import in_public_schema

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Changing one's own session or language is not a change to the cooperative's data.
ALLOWED_URL_NAMES = frozenset({"logout", "set_language", "login"})


class ReadOnlyRoleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in SAFE_METHODS and self._is_read_only(request):
            try:
                url_name = resolve(request.path_info).url_name
            except Resolver404:
                url_name = None
            if url_name not in ALLOWED_URL_NAMES:
                message = _("Your role is read-only: you can look, not change.")
                return JsonResponse(error_body(ErrorCode.READ_ONLY_ROLE, message), status=403)
        return self.get_response(request)

    @staticmethod
    def _is_read_only(request: HttpRequest) -> bool:
        if in_public_schema():
            return False  # staff profiles exist only in workspaces
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        profile = getattr(user, "staff_profile", None)
        return bool(profile and profile.read_only)


# A group leader is a member who collects with the field app: the app, its API, the staff page of
# their own records, their own cash (the cash pages show them nothing else), their session.
GROUP_LEADER_NAMESPACES = frozenset({"field_app", "field_collections", "cash"})
GROUP_LEADER_URL_NAMES = ALLOWED_URL_NAMES | frozenset(
    {"home", "api_me", "password_change", "password_change_done", "healthz", "livez"}
)


def group_leader_may_open(url_name: str | None, namespace: str) -> bool:
    if namespace:
        return namespace in GROUP_LEADER_NAMESPACES
    return url_name in GROUP_LEADER_URL_NAMES or (url_name or "").startswith("api_field_")


class GroupLeaderScopeMiddleware:
    """Deny by default: a signed-in group leader gets 403 anywhere outside ``group_leader_may_open``
    (member lists, accounts, reports, other staff's pages and APIs)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._is_group_leader(request):
            try:
                match = resolve(request.path_info)
                url_name, namespace = match.url_name, match.namespace
            except Resolver404:
                url_name, namespace = None, ""
            if not group_leader_may_open(url_name, namespace):
                message = _("A group leader's sign-in opens the field app and their own cash only.")
                return JsonResponse(error_body(ErrorCode.PERMISSION_DENIED, message), status=403)
        return self.get_response(request)

    @staticmethod
    def _is_group_leader(request: HttpRequest) -> bool:
        if in_public_schema():
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        profile = getattr(user, "staff_profile", None)
        return bool(profile and is_group_leader(profile.roles))
