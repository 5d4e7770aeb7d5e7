"""The tenant list (search, filter, columns), schema versions read in one statement, the detail page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Max
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from control_plane.backups.models import Backup, BackupKind, RunStatus
from control_plane.console import selectors
from tenants.models import Cooperative, Lifecycle, UsageSnapshot
from tests.conftest import Workspace

pytestmark = pytest.mark.django_db


def _slugs(response: object) -> list[str]:
    import re

    return re.findall(r'<tr data-slug="([a-z0-9-]+)"', response.content.decode())  # type: ignore[attr-defined]


def _delete_migration(schema_name: str, app: str) -> str:
    """Forget one applied migration of a workspace (rolled back with the test)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{schema_name}".django_migrations WHERE id = ('
            f'SELECT id FROM "{schema_name}".django_migrations WHERE app = %s ORDER BY name DESC LIMIT 1) '
            "RETURNING app || '.' || name",
            [app],
        )
        return str(cursor.fetchone()[0])


def test_the_list_shows_every_customer_workspace_and_not_the_template(
    console: Client, alpha: Workspace, beta: Workspace
) -> None:
    response = console.get("/console/")
    assert response.status_code == 200
    slugs = _slugs(response)
    assert {"alpha", "beta"} <= set(slugs)
    assert "workspace-template" not in slugs
    page = response.content.decode()
    for heading in [
        "Name",
        "Subdomain",
        "Country",
        "State",
        "Plan",
        "Created",
        "Schema version",
        "Usage",
        "Last backup",
    ]:
        assert f">{heading}</th>" in page


def test_search_by_name_subdomain_or_registration_number(
    console: Client, alpha: Workspace, beta: Workspace
) -> None:
    Cooperative.objects.filter(slug="beta").update(registration_number="HCM-2024-0917")
    assert _slugs(console.get("/console/", {"q": "Alpha Coop"})) == ["alpha"]
    assert _slugs(console.get("/console/", {"q": "bet"})) == ["beta"]
    assert _slugs(console.get("/console/", {"q": "2024-0917"})) == ["beta"]
    response = console.get("/console/", {"q": "no such cooperative"})
    assert _slugs(response) == [] and b"No tenant matches." in response.content


def test_filter_by_lifecycle_state(console: Client, alpha: Workspace, beta: Workspace) -> None:
    Cooperative.objects.filter(slug="beta").update(lifecycle=Lifecycle.PAST_DUE)
    assert _slugs(console.get("/console/", {"lifecycle": "past_due"})) == ["beta"]
    assert "alpha" in _slugs(console.get("/console/", {"lifecycle": "active"}))
    assert "beta" not in _slugs(console.get("/console/", {"lifecycle": "active"}))
    # An unknown state is not a filter.
    assert {"alpha", "beta"} <= set(_slugs(console.get("/console/", {"lifecycle": "template"})))


def test_htmx_search_answers_with_the_results_only(console: Client, alpha: Workspace) -> None:
    response = console.get("/console/", {"q": "alpha"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and 'data-slug="alpha"' in body


def test_schema_version_column_shows_a_workspace_missing_a_migration(
    console: Client, alpha: Workspace, beta: Workspace
) -> None:
    expected = len(selectors._expected())
    missing = _delete_migration(alpha.schema_name, "members")
    versions = selectors.schema_versions([alpha.schema_name, beta.schema_name])
    assert versions[alpha.schema_name].missing == (missing,)
    assert (versions[alpha.schema_name].applied, versions[alpha.schema_name].expected) == (
        expected - 1,
        expected,
    )
    assert versions[beta.schema_name].current and versions[beta.schema_name].applied == expected

    page = console.get("/console/").content.decode()
    alpha_row = page.split('data-slug="alpha"')[1].split("</tr>")[0]
    beta_row = page.split('data-slug="beta"')[1].split("</tr>")[0]
    assert 'data-version="behind" data-missing="1"' in alpha_row
    assert f"1 migration missing ({expected - 1}/{expected})" in alpha_row
    assert 'data-version="current"' in beta_row

    detail = console.get("/console/tenants/alpha/").content.decode()
    assert missing in detail.split('data-testid="missing-migrations"')[1]


def test_schema_versions_read_all_schemas_in_one_statement(alpha: Workspace, beta: Workspace) -> None:
    schemas = [alpha.schema_name, beta.schema_name, "coop_does_not_exist"]
    with CaptureQueriesContext(connection) as queries:
        versions = selectors.schema_versions(schemas)
    reads = [query["sql"] for query in queries.captured_queries if "django_migrations" in query["sql"]]
    assert len(reads) == 2  # the catalog check, then one UNION ALL over every schema's table
    assert sum(".django_migrations" in sql and "UNION ALL" in sql for sql in reads) == 1
    assert not versions["coop_does_not_exist"].exists
    with CaptureQueriesContext(connection) as single:
        selectors.schema_versions([alpha.schema_name])
    assert len([q for q in single.captured_queries if "django_migrations" in q["sql"]]) == len(reads)


def test_the_list_reads_migrations_once_whatever_the_number_of_tenants(
    console: Client, alpha: Workspace, beta: Workspace
) -> None:
    with CaptureQueriesContext(connection) as queries:
        console.get("/console/")
    union_reads = [q for q in queries.captured_queries if ".django_migrations" in q["sql"]]
    assert (
        len(union_reads) == 1
        and '"coop_alpha"' in union_reads[0]["sql"]
        and '"coop_beta"' in union_reads[0]["sql"]
    )


def test_usage_column_shows_the_latest_snapshot(console: Client, alpha: Workspace) -> None:
    cooperative = alpha.cooperative()
    now = timezone.now()
    UsageSnapshot.objects.create(
        cooperative=cooperative, measured_on=dt.date(2026, 3, 1), measured_at=now, staff_users=2, branches=1
    )
    latest = UsageSnapshot.objects.create(
        cooperative=cooperative, measured_on=dt.date(2026, 3, 2), measured_at=now, staff_users=7, branches=3
    )
    UsageSnapshot.objects.filter(pk=latest.pk).update(members=412)
    row = console.get("/console/").content.decode().split('data-slug="alpha"')[1].split("</tr>")[0]
    assert "412 members · 3 branches · 7 staff" in row and "counted 2026-03-02" in row
    detail = console.get("/console/tenants/alpha/").content.decode()
    assert "<dd>412</dd>" in detail and "<dd>7</dd>" in detail


def test_last_backup_is_the_newest_one_still_restorable_read_once_for_the_list(
    console: Client, alpha: Workspace, beta: Workspace
) -> None:
    cooperative = alpha.cooperative()

    def backup(started: dt.datetime, status: str, **extra: object) -> Backup:
        return Backup.objects.create(
            cooperative=cooperative, schema_name=cooperative.schema_name, kind=BackupKind.SCHEDULED,
            status=status, started_at=started, finished_at=started + dt.timedelta(minutes=2),
            storage_key=f"backups/{cooperative.pk}/{started:%Y%m%d%H%M}.dump", **extra,
        )  # fmt: skip

    # After any backup other tests on this database may have committed (real ones, taken now).
    latest = Backup.objects.aggregate(latest=Max("started_at"))["latest"] or timezone.now()
    day = max(latest, timezone.now()).replace(hour=1, minute=30, second=0, microsecond=0)
    backup(day + dt.timedelta(days=1), RunStatus.SUCCEEDED)
    backup(day + dt.timedelta(days=2), RunStatus.SUCCEEDED)
    backup(day + dt.timedelta(days=3), RunStatus.SUCCEEDED, pruned_at=timezone.now())
    backup(day + dt.timedelta(days=4), RunStatus.FAILED, error="pg_dump: out of disk")
    newest_restorable = day + dt.timedelta(days=2, minutes=2)
    beta_backed_up = selectors.last_backup(beta.cooperative()) is not None
    with CaptureQueriesContext(connection) as queries:
        page = console.get("/console/").content.decode()
    alpha_row = page.split('data-slug="alpha"')[1].split("</tr>")[0]
    beta_row = page.split('data-slug="beta"')[1].split("</tr>")[0]
    assert f"{newest_restorable:%Y-%m-%d %H:%M}" in alpha_row and "Succeeded" in alpha_row
    assert ("None recorded" in beta_row) is not beta_backed_up
    # The panel of failing drills reads restores (joined to their backups); the column reads backups once.
    backup_reads = [q["sql"] for q in queries.captured_queries if 'FROM "backups_backup"' in q["sql"]]
    assert len(backup_reads) == 1, backup_reads
    assert selectors.last_backup(cooperative).at == newest_restorable  # type: ignore[union-attr]


def test_detail_shows_identity_domains_usage_schema_and_history(console: Client, alpha: Workspace) -> None:
    response = console.get("/console/tenants/alpha/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alpha Cooperative" in page and "<code>coop_alpha</code>" in page
    assert "<code>alpha.localhost</code>" in page
    assert 'data-action="cooperative.provision"' in page  # the history, from the audit trail
    for section in ["identity", "state", "usage", "billing", "schema", "backups", "export", "history"]:
        assert f'id="{section}"' in page
    assert console.get("/console/tenants/workspace-template/").status_code == 404
    assert console.get("/console/tenants/nope/").status_code == 404


def test_failing_restore_drills_are_listed_above_the_tenants_until_a_drill_passes(
    console: Client, alpha: Workspace, beta: Workspace
) -> None:
    from control_plane.backups.models import Restore, RestoreMode

    failed = Restore.objects.create(
        cooperative=alpha.cooperative(),
        mode=RestoreMode.DRILL,
        status=RunStatus.FAILED,
        error="ledger hash chain broken at entry 1042",
        finished_at=timezone.now(),
    )
    from control_plane.backups.selectors import drills_failing

    page = console.get("/console/").content.decode()
    assert 'data-testid="failing-drills"' in page
    failing = len(drills_failing())  # other tests on this database may have committed failed drills
    counted = "cooperative" if failing == 1 else "cooperatives"
    assert f"The last restore drill failed for {failing} {counted}" in page
    assert f'href="/console/tenants/{alpha.slug}/#backups">Alpha Cooperative</a>' in page
    assert "ledger hash chain broken at entry 1042" in page
    # The htmx search answers with the results only, without the panel.
    partial = console.get("/console/?q=alpha", HTTP_HX_REQUEST="true").content.decode()
    assert "failing-drills" not in partial

    # A later drill that passes takes the cooperative off the panel.
    Restore.objects.create(
        cooperative=alpha.cooperative(),
        mode=RestoreMode.DRILL,
        status=RunStatus.SUCCEEDED,
        created_at=failed.created_at + dt.timedelta(days=1),
        finished_at=timezone.now(),
    )
    assert f'href="/console/tenants/{alpha.slug}/#backups"' not in console.get("/console/").content.decode()
