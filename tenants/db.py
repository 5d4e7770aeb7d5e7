"""Which workspace the current database connection points at (django-tenants sets it per request/task)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

if TYPE_CHECKING:
    from tenants.models import Cooperative


def on_commit_here(callback: Callable[[], object]) -> None:
    """Run ``callback`` once the current transaction commits, in the workspace current now.

    The outermost transaction may end after the caller has left the workspace: the operations
    console works inside a cooperative's workspace while its request is served from the public
    schema, and a task queued from there would otherwise be published for the public schema.
    """
    from django.db import transaction
    from django_tenants.utils import tenant_context

    tenant: Any = getattr(connection, "tenant", None)

    def run() -> None:
        if tenant is None:
            callback()
            return
        with tenant_context(tenant):
            callback()

    transaction.on_commit(run)


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


# ISO 4217's code for "no currency": what amounts are written in outside a cooperative's workspace.
NO_CURRENCY = "XXX"


def workspace_currency() -> str:
    """The ISO 4217 code of the workspace's currency (``NO_CURRENCY`` outside a workspace)."""
    tenant: Any = getattr(connection, "tenant", None)
    return str(getattr(tenant, "currency", "") or NO_CURRENCY)


def workspace_language() -> str:
    """The cooperative's default language: what its ledger memos and records are written in."""
    tenant: Any = getattr(connection, "tenant", None)
    return str(getattr(tenant, "default_language", "") or "en")


def workspace_business_date() -> dt.date:
    """The cooperative's business date on its own clock (today's local date outside a workspace)."""
    cooperative = current_cooperative()
    return cooperative.business_date() if cooperative else timezone.localdate()
