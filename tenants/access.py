"""What a cooperative's lifecycle state lets its workspace do (P2): read, write, or nothing at all.

- trial, active, past due: everything (past due shows a banner: pay before the grace period ends);
- read-only: everything can be read and exported; nothing new is posted or changed;
- suspended: the workspace answers with a page saying so, and nobody logs in;
- closed: the workspace no longer routes (``tenants.routing``); its data is kept.

Billing moves a cooperative between the states (``tenants.lifecycle``); this module is what the
workspace checks. ``WorkspaceStateMiddleware`` refuses requests, and the ledger refuses postings
(``workspace_writable_require``), so a background job or an import cannot post into a read-only
workspace either. A cooperative's data is never deleted by any of this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from control_plane.errors import BusinessRuleViolation, ErrorCode, error_body
from tenants.models import Cooperative, Lifecycle

WRITABLE = frozenset({Lifecycle.TRIAL, Lifecycle.ACTIVE, Lifecycle.PAST_DUE})
LOCKED_OUT = frozenset({Lifecycle.SUSPENDED, Lifecycle.CLOSED})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Logging in and out and choosing a language change nobody's data: a read-only workspace is
# still there to be read. The SMS gateway's delivery reports are about messages already sent; a
# member asking for their balance by SMS only reads it. Field sync keeps collected cash (queued,
# not posted: field.services) so that no collection is lost while the workspace is read-only.
ALLOWED_WHEN_READ_ONLY = frozenset(
    {
        "login",
        "logout",
        "set_language",
        "notifications_twilio_status",
        "notifications_twilio_inbound",
        "api_field_sync",
    }
)


def _workspace_state() -> str | None:
    """The lifecycle of the workspace the connection is in (None in the public schema or template)."""
    tenant: Any = getattr(connection, "tenant", None)
    if not isinstance(tenant, Cooperative) or tenant.is_template:
        return None
    return tenant.lifecycle


def workspace_writable() -> bool:
    state = _workspace_state()
    return state is None or state in WRITABLE


def read_only_error() -> BusinessRuleViolation:
    state = _workspace_state()
    if state in LOCKED_OUT:
        return BusinessRuleViolation(ErrorCode.WORKSPACE_SUSPENDED, _("This workspace is suspended."))
    return BusinessRuleViolation(
        ErrorCode.WORKSPACE_READ_ONLY,
        _(
            "This workspace is read-only: you can look and export, not change. Paying an overdue "
            "subscription ends it at once; otherwise, ask CoopCore support."
        ),
    )


def workspace_writable_require() -> None:
    """Refuse a write (a posting, a change) in a workspace that is read-only or suspended."""
    if not workspace_writable():
        raise read_only_error()


def _wants_json(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


class WorkspaceStateMiddleware:
    """A suspended workspace shows why and serves nothing else; a read-only one refuses changes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = _workspace_state()
        if state in LOCKED_OUT:
            return self._refuse(request, read_only_error(), template="workspace/suspended.html")
        if state == Lifecycle.READ_ONLY and request.method not in SAFE_METHODS:
            try:
                url_name = resolve(request.path_info).url_name
            except Resolver404:
                url_name = None
            if url_name not in ALLOWED_WHEN_READ_ONLY:
                return self._refuse(request, read_only_error(), template="workspace/read_only.html")
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, error: BusinessRuleViolation, *, template: str) -> HttpResponse:
        status = error.http_status
        if _wants_json(request) or getattr(request, "htmx", False):
            return JsonResponse(error_body(error.code, error.message), status=status)
        tenant = getattr(request, "tenant", None)
        return render(request, template, {"cooperative": tenant, "message": error.message}, status=status)
