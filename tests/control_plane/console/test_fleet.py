"""Fleet migrations from the console: the recent runs, a start button (a reason, audited; a second
start while one is queued is refused with its code), and a run's page whose progress polls while the
run goes on and stops polling once it has ended."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from control_plane.audit.models import AuditEvent
from tenants.fleet import fleet_migrate
from tenants.models import FleetMigrationOutcome, FleetMigrationRun, FleetOutcomeStatus, FleetRunStatus
from tests.control_plane.backups.conftest import committed
from tests.control_plane.console.conftest import Operator
from tests.control_plane.console.conftest import logged_in_operator as _logged_in_operator

pytestmark = pytest.mark.django_db

POLLING = 'hx-trigger="every 2s"'


def test_the_fleet_page_is_in_the_menu_and_starts_a_run_with_a_reason(
    console: Client, operator: Operator
) -> None:
    earlier = list(FleetMigrationRun.objects.values_list("pk", flat=True))  # committed by other tests
    home = console.get("/console/").content.decode()
    assert 'href="/console/fleet/"' in home and "Fleet migrations" in home
    assert (b"No run yet." in console.get("/console/fleet/").content) == (not earlier)

    no_reason = console.post("/console/fleet/", {"reason": " "})
    assert no_reason.status_code == 200 and not FleetMigrationRun.objects.exclude(pk__in=earlier).exists()

    started = console.post("/console/fleet/", {"reason": "REL-4 release 2026.11"})
    run = FleetMigrationRun.objects.exclude(pk__in=earlier).get()
    assert (started.status_code, started["Location"]) == (302, f"/console/fleet/{run.pk}/")
    assert (run.status, run.requested_by_label) == (FleetRunStatus.QUEUED, operator.username)
    event = AuditEvent.objects.get(action="console.fleet_migrate", object_id=str(run.pk))
    assert (event.object_type, event.object_id, event.actor_label) == (
        "tenants.fleetmigrationrun",
        str(run.pk),
        operator.username,
    )
    assert event.changes == {"reason": "REL-4 release 2026.11"}
    assert AuditEvent.objects.filter(action="fleet.migrate_request", object_id=str(run.pk)).exists()

    # Queued, waiting for a worker: the page polls; the list says a run is on its way.
    page = console.get(f"/console/fleet/{run.pk}/").content.decode()
    assert POLLING in page and f'hx-get="/console/fleet/{run.pk}/progress/"' in page
    assert "Waiting for a worker" in page
    listing = console.get("/console/fleet/").content.decode()
    assert f'data-run="{run.pk}"' in listing and 'data-testid="fleet-busy"' in listing

    refused = console.post("/console/fleet/", {"reason": "REL-4 again"})
    assert refused.status_code == 200
    assert b"already queued or running" in refused.content
    assert b'data-error-code="fleet_migration_busy"' in refused.content
    assert FleetMigrationRun.objects.exclude(pk__in=earlier).count() == 1
    assert (
        AuditEvent.objects.filter(action="console.fleet_migrate", changes__reason="REL-4 again").count() == 0
    )


def test_a_running_runs_page_shows_progress_failures_and_the_slowest_then_stops_polling(
    console: Client,
) -> None:
    started = timezone.now() - dt.timedelta(seconds=30)
    run = FleetMigrationRun.objects.create(
        status=FleetRunStatus.RUNNING, started_at=started, workers=2, schemas=10, targets=4, done=2,
        applied=1, failed=1, skipped=6, migrations=["members.0031_member_phone_index"],
    )  # fmt: skip
    FleetMigrationOutcome.objects.create(
        run=run, schema_name="coop_slow", status=FleetOutcomeStatus.APPLIED, migrations=1, seconds=4.25,
        finished_at=started + dt.timedelta(seconds=5),
    )  # fmt: skip
    FleetMigrationOutcome.objects.create(
        run=run, schema_name="coop_broken", status=FleetOutcomeStatus.FAILED, seconds=0.5,
        error="LockNotAvailable: canceling statement due to lock timeout",
        finished_at=started + dt.timedelta(seconds=6),
    )  # fmt: skip
    for name in ("coop_next_a", "coop_next_b"):
        FleetMigrationOutcome.objects.create(run=run, schema_name=name)

    page = console.get(f"/console/fleet/{run.pk}/").content.decode()
    assert POLLING in page and '<progress value="50" max="100"' in page
    assert "2 of 4 (1 migrated, 1 failed, 2 waiting)" in page
    failures = page[page.index('data-testid="fleet-failures"') :].split("</table>")[0]
    assert "coop_broken" in failures and "lock timeout" in failures and "coop_slow" not in failures
    slowest = page[page.index('data-testid="fleet-slowest"') :].split("</table>")[0]
    assert slowest.index("coop_slow") < slowest.index("coop_broken")
    assert "members.0031_member_phone_index" in page

    progress = console.get(f"/console/fleet/{run.pk}/progress/")
    assert progress.status_code == 200 and POLLING in progress.content.decode()
    assert b"<html" not in progress.content  # the partial alone

    run.outcomes.filter(status=FleetOutcomeStatus.PENDING).update(
        status=FleetOutcomeStatus.APPLIED, seconds=1.0, finished_at=timezone.now()
    )
    FleetMigrationRun.objects.filter(pk=run.pk).update(
        status=FleetRunStatus.FAILED, done=4, applied=3, finished_at=timezone.now()
    )
    ended = console.get(f"/console/fleet/{run.pk}/progress/").content.decode()
    assert "hx-trigger" not in ended and 'data-status="failed"' in ended
    assert '<progress value="100" max="100"' in ended


def test_an_unknown_run_is_not_found(console: Client) -> None:
    connection.set_schema_to_public()
    assert console.get("/console/fleet/999999/").status_code == 404
    assert console.get("/console/fleet/999999/progress/").status_code == 404


@committed
def test_a_run_started_from_the_console_and_carried_out_shows_its_result_without_polling() -> None:
    """For real: the console queues the run (committed); ``fleet_migrate`` carries it out as the
    ``migrate_fleet --run`` command does on a worker; its page then shows the result and stops polling."""
    with _logged_in_operator() as (_operator, console):
        started = console.post("/console/fleet/", {"reason": "REL-5 nothing new expected"})
        run = FleetMigrationRun.objects.get(pk=int(started["Location"].rstrip("/").rsplit("/", 1)[1]))
        try:
            assert POLLING in console.get(f"/console/fleet/{run.pk}/").content.decode()
            finished = fleet_migrate(actor=None, run=run, workers=1)
            assert finished.status == FleetRunStatus.SUCCEEDED, finished.error
            page = console.get(f"/console/fleet/{run.pk}/").content.decode()
            assert "hx-trigger" not in page and 'data-status="succeeded"' in page
            assert '<progress value="100" max="100"' in page
            assert f"{finished.schemas} in all" in page and finished.schemas > 0
            listing = console.get("/console/fleet/").content.decode()
            assert f'data-run="{run.pk}" data-status="succeeded"' in listing
            assert 'data-testid="fleet-busy"' not in listing
        finally:
            FleetMigrationRun.objects.filter(pk=run.pk).delete()
