"""Per-request context: request id, client address, device, the cooperative's clock and language."""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Callable

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from control_plane.audit.services import RequestOrigin, reset_origin, set_origin
from control_plane.observability import bind_tenant
from tenants.db import current_schema

SUPPORTED_LANGUAGES = frozenset(code for code, _name in settings.LANGUAGES)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address; behind the TLS proxy, the first X-Forwarded-For hop it appended."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and settings.CONFIG.tls_proxy_header:
        return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Tenant and request id onto logs, Sentry and the audit trail; the tenant's time zone activated."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # django-structlog's RequestMiddleware (earlier in the chain) has bound the request id already,
        # taken from the proxy's X-Request-ID header when there is one.
        request_id = str(structlog.contextvars.get_contextvars().get("request_id", ""))[:64]
        if not request_id:
            request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
            structlog.contextvars.bind_contextvars(request_id=request_id)
        bind_tenant(current_schema())
        token = set_origin(
            RequestOrigin(
                ip_address=client_ip(request),
                device_id=request.headers.get("X-Device-ID", "")[:100],
                request_id=request_id,
            )
        )
        tenant = getattr(request, "tenant", None)
        zone = getattr(tenant, "time_zone", "") or settings.TIME_ZONE
        timezone.activate(zoneinfo.ZoneInfo(zone))
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
            reset_origin(token)
        response["X-Request-ID"] = request_id
        return response


class WorkspaceLocaleMiddleware:
    """Language: the one the person chose (cookie or profile), else the cooperative's default."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self.choose(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response

    @staticmethod
    def choose(request: HttpRequest) -> str:
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if cookie in SUPPORTED_LANGUAGES:
            return cookie
        user = getattr(request, "user", None)
        preferred = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if preferred in SUPPORTED_LANGUAGES:
            return preferred
        tenant_default = getattr(getattr(request, "tenant", None), "default_language", "")
        if tenant_default in SUPPORTED_LANGUAGES:
            return tenant_default
        return settings.LANGUAGE_CODE
