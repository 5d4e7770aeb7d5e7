"""Restore drills: the latest backup restored into a scratch schema and checked; failures are alerted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_exists

from control_plane.audit.models import AuditEvent
from control_plane.backups import postgres
from control_plane.backups.models import Backup, BackupKind, Restore, RestoreMode, RunStatus
from control_plane.backups.selectors import drills_failing, drills_recent, operations_running
from control_plane.backups.services import (
    backup_create,
    backup_due,
    backup_run,
    backups_nightly_start,
    drill_due,
    restore_drill,
    restore_drills_nightly_start,
)
from tenants.models import Cooperative
from tests.conftest import Workspace
from tests.control_plane.backups.conftest import committed, forget, provision, schemas_like, table_counts

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("backups")]


class Drilled(NamedTuple):
    good: Cooperative
    bad: Cooperative
    bare: Cooperative
    broken_entry: int


def _tamper_with_an_entry(cooperative: Cooperative) -> int:
    """Edit a posted entry behind the ledger's back (triggers off), as a rogue superuser could."""
    schema = postgres.quoted(cooperative.schema_name)
    with postgres.open_connection() as conn:
        conn.execute("SET session_replication_role = replica")
        row = conn.execute(
            f"SELECT id FROM {schema}.ledger_journalentry ORDER BY id OFFSET 2 LIMIT 1"
        ).fetchone()
        assert row is not None
        conn.execute(f"UPDATE {schema}.ledger_journalentry SET memo = 'tampered' WHERE id = %s", [row[0]])
        return int(row[0])


@pytest.fixture(scope="module")
def drilled(django_db_setup: None, django_db_blocker: Any) -> Iterator[Drilled]:
    with django_db_blocker.unblock():
        good, bad, bare = provision("drill-good"), provision("drill-bad", entries=6), provision("drill-bare")
        broken = _tamper_with_an_entry(bad)
        for cooperative in (good, bad):
            backup = backup_run(backup_id=backup_create(cooperative=cooperative, actor=None).pk)
            assert backup.status == RunStatus.SUCCEEDED, backup.error
    yield Drilled(good, bad, bare, broken)
    with django_db_blocker.unblock():
        for cooperative in (good, bad, bare):
            forget(cooperative)


def _local(cooperative: Cooperative, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 30, tzinfo=cooperative.zone)


@override_settings(BACKUP_NIGHTLY_HOUR=1, BACKUP_DRILL_HOUR=4)
def test_nightly_runs_are_due_once_a_night_on_the_cooperatives_own_clock(alpha: Workspace) -> None:
    cooperative = alpha.cooperative()
    Cooperative.objects.filter(pk=cooperative.pk).update(created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    cooperative.refresh_from_db()
    day = cooperative.business_date() + dt.timedelta(days=1)
    # 00:30 in Dhaka is still yesterday's night for the schedule; 01:30 is due.
    assert not backup_due(cooperative, now=_local(cooperative, day, 0))
    assert backup_due(cooperative, now=_local(cooperative, day, 1))
    backup = Backup.objects.create(
        cooperative=cooperative, schema_name=cooperative.schema_name, kind=BackupKind.SCHEDULED
    )
    Backup.objects.filter(pk=backup.pk).update(created_at=_local(cooperative, day, 1))
    assert not backup_due(cooperative, now=_local(cooperative, day, 5))
    # A failed attempt is tried again within the same night, up to three times.
    Backup.objects.filter(pk=backup.pk).update(status=RunStatus.FAILED)
    assert backup_due(cooperative, now=_local(cooperative, day, 5))
    for _ in range(2):
        again = Backup.objects.create(
            cooperative=cooperative,
            schema_name=cooperative.schema_name,
            kind=BackupKind.SCHEDULED,
            status=RunStatus.FAILED,
        )
        Backup.objects.filter(pk=again.pk).update(created_at=_local(cooperative, day, 2))
    assert not backup_due(cooperative, now=_local(cooperative, day, 5))
    # The next night it is due again.
    assert backup_due(cooperative, now=_local(cooperative, day + dt.timedelta(days=1), 1))

    assert not drill_due(cooperative, now=_local(cooperative, day, 3))
    assert drill_due(cooperative, now=_local(cooperative, day, 4))
    drill = Restore.objects.create(cooperative=cooperative, mode=RestoreMode.DRILL, status=RunStatus.FAILED)
    Restore.objects.filter(pk=drill.pk).update(created_at=_local(cooperative, day, 4))
    assert not drill_due(cooperative, now=_local(cooperative, day, 9))


@override_settings(BACKUP_NIGHTLY_HOUR=0, BACKUP_DRILL_HOUR=0)
def test_the_nightly_rounds_start_what_is_due_and_nothing_twice(drilled: Drilled) -> None:
    # Tomorrow: whatever other tests ran today does not count as tomorrow's backup or drill.
    tomorrow = timezone.now() + dt.timedelta(days=1)
    started = backups_nightly_start(now=tomorrow)
    started_for = {backup.cooperative_id for backup in started}
    assert {drilled.good.pk, drilled.bad.pk, drilled.bare.pk} <= started_for
    assert all(
        backup.kind == BackupKind.SCHEDULED and backup.status == RunStatus.QUEUED for backup in started
    )
    assert backups_nightly_start(now=tomorrow) == []  # each is queued: not started twice
    # A drill is not started while the cooperative's backup is queued; once it is done, it is.
    assert all(
        drill.cooperative_id not in started_for for drill in restore_drills_nightly_start(now=tomorrow)
    )
    assert {record.pk for record in operations_running()} >= {backup.pk for backup in started}
    Backup.objects.filter(pk__in=[backup.pk for backup in started]).update(status=RunStatus.FAILED)
    drills = restore_drills_nightly_start(now=tomorrow)
    by_cooperative = {drill.cooperative_id: drill for drill in drills}
    assert by_cooperative[drilled.good.pk].status == RunStatus.QUEUED
    assert by_cooperative[drilled.bad.pk].status == RunStatus.QUEUED
    # No good backup to drill: failed at once (and alerted), not queued.
    assert by_cooperative[drilled.bare.pk].status == RunStatus.FAILED
    assert "No good backup" in by_cooperative[drilled.bare.pk].error
    # Queued drills are not queued again (a cooperative with no backup fails again each round).
    again = {drill.cooperative_id for drill in restore_drills_nightly_start(now=tomorrow)}
    assert drilled.good.pk not in again and drilled.bad.pk not in again


@committed
def test_a_drill_restores_the_latest_backup_checks_it_and_drops_it(
    drilled: Drilled, sentry_events: list[dict[str, Any]]
) -> None:
    live = table_counts(drilled.good.schema_name)
    drill = restore_drill(cooperative=drilled.good)

    assert drill.status == RunStatus.SUCCEEDED, drill.error
    assert drill.mode == RestoreMode.DRILL and drill.backup is not None
    assert drill.target_schema == f"drill_{drilled.good.pk}_{drill.pk}"
    assert not schema_exists(drill.target_schema) and not schemas_like("coopcore_hold_%")
    assert drill.checks["row_count_mismatches"] == {}
    assert drill.checks["ledger"]["reason"] == "" and drill.checks["ledger"]["entries_checked"] == 12
    # The live workspace was neither replaced nor backed up again.
    assert drill.swapped_at is None and drill.retired_schema == "" and drill.safety_backup is None
    assert table_counts(drilled.good.schema_name) == live
    assert drill in drills_recent()
    assert drill not in drills_failing()
    assert sentry_events == []
    assert set(
        AuditEvent.objects.filter(object_type="backups.restore", object_id=str(drill.pk)).values_list(
            "action", flat=True
        )
    ) == {"drill.request", "drill.succeed"}


@committed
def test_a_drill_of_a_backup_with_a_broken_chain_fails_and_alerts(
    drilled: Drilled, sentry_events: list[dict[str, Any]]
) -> None:
    drill = restore_drill(cooperative=drilled.bad)

    assert drill.status == RunStatus.FAILED
    assert f"hash chain is broken at entry {drilled.broken_entry}" in drill.error
    assert drill.checks["ledger"]["first_broken_entry_id"] == drilled.broken_entry
    assert drill.checks["row_count_mismatches"] == {}
    assert not schema_exists(drill.target_schema)
    assert drill in drills_failing()
    (event,) = sentry_events
    assert event["level"] == "error"
    assert event["tags"]["cooperative"] == drilled.bad.slug
    assert event["tags"]["tenant"] == drilled.bad.schema_name
    assert drilled.bad.slug in event["message"] or drilled.bad.slug in str(event.get("logentry"))
    assert AuditEvent.objects.filter(action="drill.fail", object_id=str(drill.pk)).exists()


@committed
def test_a_cooperative_without_a_backup_fails_its_drill(
    drilled: Drilled, sentry_events: list[dict[str, Any]]
) -> None:
    drill = restore_drill(cooperative=drilled.bare)
    assert drill.status == RunStatus.FAILED and drill.backup is None
    assert "No good backup" in drill.error
    assert len(sentry_events) == 1


@committed
def test_the_drill_command_fails_when_any_drill_fails(
    drilled: Drilled, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(CommandError, match=f"1 of 2: {drilled.bad.slug}"):
        call_command("backup_drill", drilled.good.slug, drilled.bad.slug)
    captured = capsys.readouterr()
    assert f"{drilled.good.slug}: ok" in captured.out
    assert f"{drilled.bad.slug}: FAILED" in captured.err
    call_command("backup_drill", drilled.good.slug)
    assert "passed for 1" in capsys.readouterr().out
