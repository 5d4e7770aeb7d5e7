"""Spare workspaces: template clones made ahead, renamed into place by provisioning."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_exists, tenant_context

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation
from control_plane.identity.models import User
from core_banking.organisation.models import Branch
from tenants import services, spares
from tenants.models import SpareWorkspace
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision

pytestmark = pytest.mark.django_db

ADMIN = AdminSpec(username="founder", password="long-enough-password-1", email="founder@example.org")
SPEC = CooperativeSpec(name="Gamma Samity", slug="gamma", country="BD")


def _trigger_function_schemas(schema_name: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT pn.nspname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace "
            "WHERE n.nspname = %s AND NOT t.tgisinternal",
            [schema_name],
        )
        return {row[0] for row in cursor.fetchall()}


def test_a_refill_clones_the_template_until_the_pool_is_full() -> None:
    assert spares.spares_refill(target=2) == 2
    names = list(SpareWorkspace.objects.values_list("schema_name", flat=True))
    assert len(names) == 2 and all(name.startswith("spare_") for name in names)
    template_migrations = services.applied_migrations(settings.TENANT_BASE_SCHEMA)
    for name in names:
        assert schema_exists(name)
        assert services.applied_migrations(name) == template_migrations
    assert spares.spares_refill(target=2) == 0
    assert spares.spares_ready() == 2


def test_provisioning_renames_a_spare_into_place() -> None:
    spares.spares_refill(target=1)
    spare = SpareWorkspace.objects.get()

    cooperative = cooperative_provision(spec=SPEC, admin=ADMIN)

    assert cooperative.schema_name == "coop_gamma" and schema_exists("coop_gamma")
    assert not schema_exists(spare.schema_name) and not SpareWorkspace.objects.exists()
    assert services.applied_migrations("coop_gamma") == services.applied_migrations(
        settings.TENANT_BASE_SCHEMA
    )
    with tenant_context(cooperative):
        assert Branch.objects.get().is_head_office
        assert User.objects.get().check_password("long-enough-password-1")


def test_a_renamed_spare_is_a_working_workspace() -> None:
    spares.spares_refill(target=1)
    cooperative = cooperative_provision(spec=SPEC, admin=ADMIN)
    # Triggers call functions by OID: after the rename they are the workspace's own.
    assert _trigger_function_schemas("coop_gamma") == {"coop_gamma"}
    with tenant_context(cooperative):
        event = AuditEvent.objects.order_by("id").first()
        assert event is not None
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="tampered")


def test_without_a_spare_provisioning_clones() -> None:
    assert spares.spares_ready() == 0
    cooperative = cooperative_provision(spec=SPEC, admin=ADMIN)
    assert schema_exists(cooperative.schema_name)
    assert _trigger_function_schemas("coop_gamma") == {"coop_gamma"}


def test_a_stale_spare_is_never_handed_out_and_the_next_refill_drops_it() -> None:
    spares.spares_refill(target=1)
    stale = SpareWorkspace.objects.get()
    SpareWorkspace.objects.filter(pk=stale.pk).update(migrations_fingerprint="before-the-last-deploy")

    cooperative_provision(spec=SPEC, admin=ADMIN)
    assert schema_exists(stale.schema_name)  # cloned instead: the stale spare was left alone

    assert spares.spares_refill(target=1) == 1
    assert not schema_exists(stale.schema_name)
    assert list(SpareWorkspace.objects.values_list("migrations_fingerprint", flat=True)) == [
        spares.migrations_fingerprint()
    ]


def test_a_failed_provisioning_gives_the_spare_back() -> None:
    spares.spares_refill(target=1)
    spare = SpareWorkspace.objects.get()
    weak = AdminSpec(username="founder", password="123", email="founder@example.org")

    with pytest.raises(BusinessRuleViolation):
        cooperative_provision(spec=SPEC, admin=weak)

    assert SpareWorkspace.objects.get().schema_name == spare.schema_name
    assert schema_exists(spare.schema_name) and not schema_exists("coop_gamma")


def test_the_pool_is_refilled_after_a_provisioning_commits(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TENANT_SPARE_WORKSPACES = 2
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cooperative_provision(spec=SPEC, admin=ADMIN)
    refills = [callback for callback in callbacks if "spare_workspaces_refill" in repr(callback)]
    assert len(refills) == 1

    settings.TENANT_SPARE_WORKSPACES = 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cooperative_provision(spec=CooperativeSpec(name="Delta", slug="delta", country="BD"), admin=ADMIN)
    assert not [callback for callback in callbacks if "spare_workspaces_refill" in repr(callback)]


def test_a_refill_running_elsewhere_makes_this_one_return_at_once() -> None:
    import psycopg

    database = connection.settings_dict
    with psycopg.connect(
        host=database.get("HOST") or "127.0.0.1",
        port=database.get("PORT") or 5432,
        user=database.get("USER") or "postgres",
        password=database.get("PASSWORD") or None,
        dbname=database["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [spares.REFILL_LOCK_KEY])
        assert spares.spares_refill(target=2) == 0
        other.execute("SELECT pg_advisory_unlock(%s)", [spares.REFILL_LOCK_KEY])
    assert spares.spares_ready() == 0
