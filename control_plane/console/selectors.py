"""What the console reads: the tenant list, schema versions, usage, billing, backups, a tenant's history.

Everything here runs in the public schema. Nothing reads a workspace's own tables except
``schema_versions``, which reads the ``django_migrations`` table of many schemas in one statement
(never one query per tenant), and the tenant page's usage against the plan's limits
(``billing.selectors.usage_against_limits``, a few counts inside that one workspace). SMS this
month in the list comes from the daily ``UsageSnapshot`` (messages and segments) and the plan.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from babel.numbers import get_currency_precision
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import get_language

from billing.models import BillingAccount, OneTimeCharge
from billing.selectors import (
    NEAR_LIMIT,
    BillingState,
    Usage,
    billing_state,
    billing_states,
    one_time_charges_for,
    usage_against_limits,
)
from control_plane.audit.models import AuditEvent
from control_plane.backups.models import Backup, Restore, RunStatus
from control_plane.backups.selectors import backups_for, operations_running, restores_for, retired_schemas
from control_plane.backups.selectors import last_backup as backups_last_backup
from frontend.formatting import format_money
from tenants.fleet import FleetRunDetail, fleet_run_detail
from tenants.models import Cooperative, Domain, FleetMigrationRun, FleetRunStatus, Lifecycle, UsageSnapshot
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
    record: Backup


def _as_last_backup(record: Backup) -> LastBackup:
    return LastBackup(
        at=record.finished_at or record.created_at,
        status=str(record.status),
        status_label=str(record.get_status_display()),
        record=record,
    )


def last_backup(cooperative: Cooperative) -> LastBackup | None:
    """The cooperative's newest backup that can be restored (``backups.selectors.last_backup``)."""
    record = backups_last_backup(cooperative)
    return None if record is None else _as_last_backup(record)


def last_backups(cooperative_ids: Iterable[int]) -> dict[int, LastBackup]:
    """``last_backup`` of many cooperatives in one query (the same rule: succeeded and still stored)."""
    ids = list(cooperative_ids)
    if not ids:
        return {}
    records = (
        Backup.objects.filter(cooperative_id__in=ids, status=RunStatus.SUCCEEDED, pruned_at__isnull=True)
        .exclude(storage_key="")
        .order_by("cooperative_id", "-started_at", "-id")
        .distinct("cooperative_id")
    )
    return {record.cooperative_id: _as_last_backup(record) for record in records}


@dataclass(frozen=True)
class SmsMeter:
    """SMS this month from the daily snapshot against the plan's allowance (segments a month)."""

    messages: int
    segments: int
    allowance: int | None  # None: no plan, or a plan without a limit
    measured_on: dt.date

    @property
    def over(self) -> bool:
        return self.allowance is not None and self.segments > self.allowance

    @property
    def near(self) -> bool:
        return self.allowance is not None and not self.over and self.segments >= self.allowance * NEAR_LIMIT

    @property
    def percent(self) -> int | None:
        if not self.allowance:
            return None
        return round(100 * self.segments / self.allowance)


def sms_meter(usage: UsageSnapshot | None, billing: BillingState | None) -> SmsMeter | None:
    """Read from what is already loaded (the snapshot and the plan): no query, no workspace table."""
    if usage is None:
        return None
    plan = billing.plan if billing is not None else None
    return SmsMeter(
        messages=usage.sms_this_month,
        segments=usage.sms_segments_this_month,
        allowance=plan.sms_per_month if plan is not None else None,
        measured_on=usage.measured_on,
    )


# --- One tenant ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantRow:
    cooperative: Cooperative
    version: SchemaVersion | None
    usage: UsageSnapshot | None
    backup: LastBackup | None
    billing: BillingState | None

    @property
    def sms(self) -> SmsMeter | None:
        return sms_meter(self.usage, self.billing)


def tenant_rows(cooperatives: Sequence[Cooperative]) -> list[TenantRow]:
    """The list's rows: schema versions, usage, last backups and billing (plan) read once for all of them."""
    versions = schema_versions(cooperative.schema_name for cooperative in cooperatives)
    usage = latest_usage(cooperative.pk for cooperative in cooperatives)
    billing = billing_states(cooperatives)
    backups = last_backups(cooperative.pk for cooperative in cooperatives)
    return [
        TenantRow(
            cooperative=cooperative,
            version=versions.get(cooperative.schema_name),
            usage=usage.get(cooperative.pk),
            backup=backups.get(cooperative.pk),
            billing=billing.get(cooperative.pk),
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
class ChargeRow:
    charge: OneTimeCharge
    amount: str  # formatted in the charge's currency, in the operator's language


@dataclass(frozen=True)
class TenantDetail:
    cooperative: Cooperative
    domains: list[Domain]
    version: SchemaVersion | None
    usage: UsageSnapshot | None
    backup: LastBackup | None
    history: list[AuditEvent]
    billing: BillingState
    # Counted now inside the workspace against the plan's limits; None when the schema is missing.
    limits: Usage | None
    charges: list[ChargeRow]
    backups: BackupsPanel

    @property
    def sms(self) -> SmsMeter | None:
        return sms_meter(self.usage, self.billing)


def charge_rows(cooperative: Cooperative) -> list[ChargeRow]:
    language = get_language() or "en"
    return [
        ChargeRow(charge=charge, amount=format_money(charge.amount_minor, charge.currency, language))
        for charge in one_time_charges_for(cooperative)
    ]


def tenant_detail(cooperative: Cooperative) -> TenantDetail:
    version = schema_versions([cooperative.schema_name]).get(cooperative.schema_name)
    return TenantDetail(
        cooperative=cooperative,
        domains=cooperative_domains(cooperative),
        version=version,
        usage=latest_usage([cooperative.pk]).get(cooperative.pk),
        backup=last_backup(cooperative),
        history=cooperative_history(cooperative),
        billing=billing_state(cooperative),
        limits=usage_against_limits(cooperative) if version is not None and version.exists else None,
        charges=charge_rows(cooperative),
        backups=backups_panel(cooperative),
    )


# --- Backups, restores and kept schemas of one tenant (polled while something runs) --------------

BACKUPS_SHOWN = 20
RESTORES_SHOWN = 10


@dataclass(frozen=True)
class BackupsPanel:
    cooperative: Cooperative
    running: list[Backup | Restore]
    backups: list[Backup]
    backups_total: int
    restores: list[Restore]
    retired: list[Restore]

    @property
    def busy(self) -> bool:
        return bool(self.running)


def backups_panel(cooperative: Cooperative) -> BackupsPanel:
    """What the tenant page's Backups section shows; the latest ``BACKUPS_SHOWN`` backups only."""
    backups = backups_for(cooperative)
    return BackupsPanel(
        cooperative=cooperative,
        running=operations_running(cooperative),
        backups=list(backups[:BACKUPS_SHOWN]),
        backups_total=backups.count(),
        restores=list(restores_for(cooperative)[:RESTORES_SHOWN]),
        retired=list(retired_schemas(cooperative)),
    )


# --- Fleet migrations ----------------------------------------------------------------------------


def fleet_run_or_none(run_id: int) -> FleetRunDetail | None:
    try:
        return fleet_run_detail(run_id)
    except FleetMigrationRun.DoesNotExist:
        return None


def fleet_busy() -> bool:
    """A run is queued or running: the start button waits."""
    return FleetMigrationRun.objects.filter(
        status__in=[FleetRunStatus.QUEUED, FleetRunStatus.RUNNING]
    ).exists()


# --- Small reads for the action pages ------------------------------------------------------------


def billing_currency(cooperative: Cooperative) -> str:
    """What the cooperative is billed in: its account's currency, else its own (a plan change opens one)."""
    account = BillingAccount.objects.filter(cooperative=cooperative).only("currency").first()
    return account.currency if account is not None else cooperative.currency


def currency_decimals(currency: str) -> int:
    return int(get_currency_precision(currency))


def money(amount_minor: int, currency: str) -> str:
    return format_money(amount_minor, currency, get_language() or "en")


def backup_of(cooperative: Cooperative, backup_id: int) -> Backup | None:
    """One of the cooperative's own backups (another cooperative's id finds nothing here)."""
    return Backup.objects.filter(pk=backup_id, cooperative=cooperative).first()


def retired_schema_of(cooperative: Cooperative, schema_name: str) -> Restore | None:
    return retired_schemas(cooperative).filter(retired_schema=schema_name).first()
