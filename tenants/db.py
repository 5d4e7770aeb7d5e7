"""Which workspace the current database connection points at (django-tenants sets it per request/task)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection

if TYPE_CHECKING:
    from tenants.models import Cooperative


def current_schema() -> str:
    return str(getattr(connection, "schema_name", settings.PUBLIC_SCHEMA_NAME))


def in_public_schema() -> bool:
    return current_schema() == settings.PUBLIC_SCHEMA_NAME


def current_cooperative() -> Cooperative | None:
    """The cooperative whose workspace the connection is in; None in the public schema or the template."""
    from tenants.models import Cooperative

    tenant: Any = getattr(connection, "tenant", None)
    if isinstance(tenant, Cooperative) and not tenant.is_template:
        return tenant
    return None
