"""Host-based routing: the bare domain is the public site, <slug>.<suffix> a workspace, anything else 404."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.models import Lifecycle


class WorkspaceRoutingMiddleware(TenantMainMiddleware):
    """django-tenants' router, with the public site on the bare domain and the template never served."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        try:
            hostname = self.hostname_from_request(request)
        except Exception:
            return super().process_request(request)
        if hostname == settings.COOPCORE_DOMAIN_SUFFIX:
            self.setup_url_routing(request, force_public=True)
            return None
        return super().process_request(request)

    def get_tenant(self, domain_model: Any, hostname: str) -> Any:
        tenant = super().get_tenant(domain_model, hostname)
        # The template is never a workspace; a closed cooperative's workspace is gone for its users
        # (its data stays, for operations staff). Suspension and read-only are billing states,
        # handled where billing lives.
        if tenant.is_template or tenant.lifecycle == Lifecycle.CLOSED:
            raise domain_model.DoesNotExist
        return tenant
