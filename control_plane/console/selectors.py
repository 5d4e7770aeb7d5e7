"""What the console reads: the tenant list, schema versions, usage, last backup, a tenant's history.

Everything here runs in the public schema. Nothing reads a workspace's own tables except
``schema_versions``, which reads the ``django_migrations`` table of many schemas in one statement
(never one query per tenant).
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from control_plane.audit.models import AuditEvent
from tenants.models import Cooperative, Domain, Lifecycle, UsageSnapshot
from tenants.services import expected_tenant_migrations

# Schema names come from tenants.services.schema_name_for (``coop_`` + the slug); checked again
# here because they are written into SQL as identifiers.
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
COOPERATIVE_OBJECT_TYPE = "tenants.cooperative"


# --- The tenant list -----------------------------------------------------------------------------


def cooperatives_search(*, query: str = "", lifecycle: str = "") -> QuerySet[Cooperative]:
    """Customer workspaces (never the template), by name, subdomain or registration number."""
    cooperatives = Cooperative.objects.filter(is_template=False)
    query = query.strip()
    if query:
        cooperatives = cooperatives.filter(
            Q(name__icontains=query) | Q(slug__icontains=query) | Q(registration_number__icontains=query)
        )
    if lifecycle in Lifecycle.values and lifecycle != Lifecycle.TEMPLATE:
        cooperatives = cooperatives.filter(lifecycle=lifecycle)
    return cooperatives.order_by("name", "id")


def lifecycle_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Lifecycle.choices if value != Lifecycle.TEMPLATE]


# --- Schema version ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaVersion:
    """How far one workspace schema is migrated, against the tenant migrations this code ships."""

    schema_name: str
    exists: bool
    expected: int
    applied: int  # of the expected ones
    missing: tuple[str, ...] = field(default=())  # "app.migration_name", sorted

    @property
    def current(self) -> bool:
        return self.exists and not self.missing


@cache
def _expected() -> tuple[tuple[str, str], ...]:
    # The migrations on disk do not change while the process runs.
    return tuple(sorted(expected_tenant_migrations()))


def _with_migrations_table(schema_names: Sequence[str]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_catalog.pg_namespace n "
            "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = 'django_migrations' "
            "WHERE n.nspname = ANY(%s)",
            [list(schema_names)],
        )
        return {row[0] for row in cursor.fetchall()}


def schema_versions(schema_names: Iterable[str]) -> dict[str, SchemaVersion]:
    """Applied vs expected tenant migrations of each schema: two statements, however many schemas.

    The first finds which schemas have a ``django_migrations`` table (a schema being restored or
    half-provisioned may not); the second reads all of their tables at once (``UNION ALL``) and
    compares them with the expected set inside PostgreSQL, returning only the counts and the names
    of the missing migrations.
    """
    names = sorted({name for name in schema_names if SCHEMA_NAME.match(name)})
    expected = _expected()
    if not names:
        return {}
    present = _with_migrations_table(names)
    versions = {
        name: SchemaVersion(schema_name=name, exists=False, expected=len(expected), applied=0)
        for name in names
        if name not in present
    }
    if not present:
        return versions
    branches = " UNION ALL ".join(
        f'SELECT %s::text AS schema_name, app::text, name::text FROM "{name}".django_migrations'  # noqa: S608
        for name in sorted(present)
    )
    statement = (
        f"WITH applied AS ({branches}), "  # noqa: S608 - schema names checked against SCHEMA_NAME
        "expected AS (SELECT * FROM unnest(%s::text[], %s::text[]) AS e(app, name)) "
        "SELECT s.schema_name, count(a.name), "
        "COALESCE(array_agg(e.app || '.' || e.name ORDER BY e.app, e.name) "
        "FILTER (WHERE a.name IS NULL), '{}') "
        "FROM unnest(%s::text[]) AS s(schema_name) CROSS JOIN expected e "
        "LEFT JOIN applied a ON a.schema_name = s.schema_name AND a.app = e.app AND a.name = e.name "
        "GROUP BY s.schema_name"
    )
    params: list[Any] = [*sorted(present)]
    params += [[app for app, _name in expected], [name for _app, name in expected], sorted(present)]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for schema_name, applied, missing in cursor.fetchall():
            versions[schema_name] = SchemaVersion(
                schema_name=schema_name,
                exists=True,
                expected=len(expected),
                applied=int(applied),
                missing=tuple(missing),
            )
    if not expected:
        for name in present:
            versions[name] = SchemaVersion(schema_name=name, exists=True, expected=0, applied=0)
    return versions


# --- Usage and backups ---------------------------------------------------------------------------


def latest_usage(cooperative_ids: Iterable[int]) -> dict[int, UsageSnapshot]:
    """Each cooperative's most recent daily usage count (one query)."""
    ids = list(cooperative_ids)
    if not ids:
        return {}
    snapshots = (
        UsageSnapshot.objects.filter(cooperative_id__in=ids)
        .order_by("cooperative_id", "-measured_on")
        .distinct("cooperative_id")
    )
    return {snapshot.cooperative_id: snapshot for snapshot in snapshots}


@dataclass(frozen=True)
class LastBackup:
    at: dt.datetime | None
    status: str
    status_label: str
    record: Any


def _backups_provider() -> Any | None:
    try:
        module = importlib.import_module("control_plane.backups.selectors")
    except ModuleNotFoundError as exc:
        if exc.name in {"control_plane.backups.selectors", "control_plane.backups"}:
            return None
        raise
    return getattr(module, "last_backup", None)


def last_backup(cooperative: Cooperative) -> LastBackup | None:
    """The cooperative's last backup, as the backups app reports it; None until it does."""
    provider = _backups_provider()
    if provider is None:
        return None
    record = provider(cooperative)
    if record is None:
        return None
    at = getattr(record, "finished_at", None) or getattr(record, "created_at", None)
    status = str(getattr(record, "status", "") or "")
    label_of = getattr(record, "get_status_display", None)
    return LastBackup(
        at=at, status=status, status_label=str(label_of()) if callable(label_of) else status, record=record
    )


# --- One tenant ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantRow:
    cooperative: Cooperative
    version: SchemaVersion | None
    usage: UsageSnapshot | None
    backup: LastBackup | None


def tenant_rows(cooperatives: Sequence[Cooperative]) -> list[TenantRow]:
    """The list's rows: schema versions and usage read once for all of them."""
    versions = schema_versions(cooperative.schema_name for cooperative in cooperatives)
    usage = latest_usage(cooperative.pk for cooperative in cooperatives)
    return [
        TenantRow(
            cooperative=cooperative,
            version=versions.get(cooperative.schema_name),
            usage=usage.get(cooperative.pk),
            backup=last_backup(cooperative),
        )
        for cooperative in cooperatives
    ]


def cooperative_by_slug(slug: str) -> Cooperative | None:
    return Cooperative.objects.filter(slug=slug, is_template=False).first()


def cooperative_domains(cooperative: Cooperative) -> list[Domain]:
    return list(Domain.objects.filter(tenant=cooperative).order_by("-is_primary", "domain"))


def cooperative_history(cooperative: Cooperative, *, limit: int = 100) -> list[AuditEvent]:
    """The control plane's trail for this cooperative: provisioning, lifecycle changes, operations."""
    return list(
        AuditEvent.objects.filter(
            object_type=COOPERATIVE_OBJECT_TYPE, object_id=str(cooperative.pk)
        ).order_by("-occurred_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class TenantDetail:
    cooperative: Cooperative
    domains: list[Domain]
    version: SchemaVersion | None
    usage: UsageSnapshot | None
    backup: LastBackup | None
    history: list[AuditEvent]


def tenant_detail(cooperative: Cooperative) -> TenantDetail:
    return TenantDetail(
        cooperative=cooperative,
        domains=cooperative_domains(cooperative),
        version=schema_versions([cooperative.schema_name]).get(cooperative.schema_name),
        usage=latest_usage([cooperative.pk]).get(cooperative.pk),
        backup=last_backup(cooperative),
        history=cooperative_history(cooperative),
    )
