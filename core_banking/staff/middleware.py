"""Read-only roles (auditors) cannot change anything, whatever a view forgets to check."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from control_plane.errors import ErrorCode, error_body
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
