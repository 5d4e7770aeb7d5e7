"""Retention: which backups a policy keeps (the pure rule), and the service that removes the rest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from control_plane.audit.models import AuditEvent
from control_plane.backups import storage
from control_plane.backups.models import Backup, BackupKind, Restore, RestoreMode, RunStatus
from control_plane.backups.retention import Candidate, RetentionPolicy, backups_to_keep
from control_plane.backups.selectors import last_backup
from control_plane.backups.services import backups_prune
from tenants.models import Cooperative
from tests.conftest import Workspace

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def _daily(days: int, *, start: dt.date = dt.date(2026, 11, 25), hour: int = 2) -> list[Candidate]:
    """One backup a day, the newest first, ids counting up into the past (id 0 is ``start``)."""
    out = []
    for back in range(days):
        day = start - dt.timedelta(days=back)
        taken = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)
        out.append(Candidate(back, taken, day))
    return out


def _keep(candidates: list[Candidate], **policy: int) -> set[int]:
    values = {"daily": 0, "weekly": 0, "monthly": 0, "recent_hours": 0, **policy}
    return backups_to_keep(candidates, RetentionPolicy(**values), now=NOW)


def test_daily_keeps_the_newest_of_each_of_the_last_days() -> None:
    assert _keep(_daily(10), daily=3) == {0, 1, 2}


def test_two_backups_on_one_day_count_as_that_day_once() -> None:
    morning = Candidate(100, dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC), dt.date(2026, 11, 25))
    evening = Candidate(101, dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC), dt.date(2026, 11, 25))
    yesterday = Candidate(102, dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC), dt.date(2026, 11, 24))
    assert _keep([morning, evening, yesterday], daily=2) == {101, 102}


def test_days_without_a_backup_are_not_counted() -> None:
    gaps = [c for c in _daily(40) if c.id in {0, 10, 20, 30}]
    assert _keep(gaps, daily=2) == {0, 10}


def test_weekly_keeps_the_newest_of_each_iso_week() -> None:
    # 2026-11-25 is a Wednesday: its week began on Monday the 23rd; the one before on the 16th.
    candidates = _daily(21)
    kept = _keep(candidates, weekly=3)
    days = sorted(c.local_date for c in candidates if c.id in kept)
    assert days == [dt.date(2026, 11, 15), dt.date(2026, 11, 22), dt.date(2026, 11, 25)]


def test_monthly_keeps_the_newest_of_each_month() -> None:
    candidates = _daily(120)
    kept = _keep(candidates, monthly=4)
    days = sorted(c.local_date for c in candidates if c.id in kept)
    assert days == [dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 25)]


def test_the_usual_policy_over_a_year_of_nightly_backups() -> None:
    kept = _keep(_daily(400), daily=7, weekly=4, monthly=12)
    days = sorted((c.local_date for c in _daily(400) if c.id in kept), reverse=True)
    daily = [dt.date(2026, 11, 25) - dt.timedelta(days=back) for back in range(7)]
    weekly = [dt.date(2026, 11, 15), dt.date(2026, 11, 8)]  # the 22nd is among the daily ones
    monthly = [dt.date(2026, month, day) for month, day in ((10, 31), (9, 30), (8, 31), (7, 31), (6, 30))]
    monthly += [dt.date(2026, month, day) for month, day in ((5, 31), (4, 30), (3, 31), (2, 28), (1, 31))]
    monthly += [dt.date(2025, 12, 31)]
    assert days == sorted({*daily, *weekly, *monthly}, reverse=True)


def test_the_newest_backup_is_kept_whatever_the_policy() -> None:
    assert _keep(_daily(5)) == {0}
    assert _keep([]) == set()


def test_everything_from_the_last_hours_is_kept() -> None:
    recent = [
        Candidate(number, NOW - dt.timedelta(hours=hours), (NOW - dt.timedelta(hours=hours)).date())
        for number, hours in enumerate((1, 5, 11, 30))
    ]
    assert _keep(recent, recent_hours=24) == {0, 1, 2}


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        RetentionPolicy(daily=-1)


# --- The service ---------------------------------------------------------------------------------


def _stored_backup(
    cooperative: Cooperative, taken: dt.datetime, *, status: str = RunStatus.SUCCEEDED
) -> Backup:
    backup = Backup.objects.create(
        cooperative=cooperative,
        schema_name=cooperative.schema_name,
        kind=BackupKind.SCHEDULED,
        status=status,
        started_at=taken,
        finished_at=taken,
    )
    if status == RunStatus.SUCCEEDED:
        key = storage.dump_key(
            cooperative_id=cooperative.pk, schema=cooperative.schema_name, backup_id=backup.pk, at=taken
        )
        store = storage.backup_storage()
        store.save(key, ContentFile(b"dump", name=key))
        store.save(storage.manifest_key_for(key), ContentFile(b"{}", name="m"))
        backup.storage_key, backup.manifest_key = key, storage.manifest_key_for(key)
        backup.size_bytes, backup.sha256 = 4, "0" * 64
        backup.save()
    return backup


@pytest.mark.django_db
def test_prune_removes_the_files_of_what_the_policy_does_not_keep(alpha: Workspace) -> None:
    cooperative = alpha.cooperative()
    # Nightly at 02:00 UTC (08:00 in Dhaka) for ten days, and one failed run in between.
    backups = [
        _stored_backup(cooperative, NOW.replace(hour=2) - dt.timedelta(days=back)) for back in range(10)
    ]
    failed = _stored_backup(cooperative, NOW.replace(hour=3) - dt.timedelta(days=4), status=RunStatus.FAILED)
    # A restore waiting to run keeps its backup, whatever its age.
    in_use = backups[8]
    Restore.objects.create(cooperative=cooperative, backup=in_use, mode=RestoreMode.RESTORE)

    report = backups_prune(
        cooperative=cooperative, policy=RetentionPolicy(daily=3, weekly=0, monthly=0, recent_hours=0), now=NOW
    )

    kept = {backups[0].pk, backups[1].pk, backups[2].pk, in_use.pk}
    assert set(report.kept) == kept
    assert set(report.pruned) == {backup.pk for backup in backups} - kept
    store = storage.backup_storage()
    for backup in backups:
        backup.refresh_from_db()
        gone = backup.pk not in kept
        assert (backup.pruned_at is not None) is gone
        assert store.exists(backup.storage_key) is not gone
        assert store.exists(backup.manifest_key) is not gone
        assert backup.status == RunStatus.SUCCEEDED  # the record stays, for the history
    failed.refresh_from_db()
    assert failed.pruned_at is None
    assert last_backup(cooperative) == backups[0]
    event = AuditEvent.objects.get(action="backup.prune", object_id=str(cooperative.pk))
    assert sorted(event.changes["pruned"]) == sorted(report.pruned)

    # Nothing more to do the second time; a policy of zeros still keeps the newest.
    assert backups_prune(cooperative=cooperative, policy=RetentionPolicy(3, 0, 0, 0), now=NOW).pruned == []
    Restore.objects.filter(backup=in_use).update(status=RunStatus.FAILED)
    report = backups_prune(cooperative=cooperative, policy=RetentionPolicy(0, 0, 0, 0), now=NOW)
    assert set(report.pruned) == {backups[1].pk, backups[2].pk, in_use.pk}
    assert last_backup(cooperative) == backups[0] and store.exists(backups[0].storage_key)


@pytest.mark.django_db
def test_prune_without_a_cooperative_applies_to_each(alpha: Workspace, beta: Workspace) -> None:
    # Other tests' real backups (taken minutes ago) stay within the policy's recent hours.
    now = timezone.now()
    synthetic: dict[str, list[int]] = {}
    for workspace in (alpha, beta):
        synthetic[workspace.slug] = [
            _stored_backup(workspace.cooperative(), now - dt.timedelta(days=back)).pk for back in (3, 4, 5)
        ]
    report = backups_prune(policy=RetentionPolicy(daily=1, weekly=0, monthly=0, recent_hours=48), now=now)
    for workspace in (alpha, beta):
        newest = last_backup(workspace.cooperative())
        assert newest is not None
        expected = {pk for pk in synthetic[workspace.slug] if pk != newest.pk}
        assert expected <= set(report.pruned)
        assert not Backup.objects.filter(pk__in=expected, pruned_at__isnull=True).exists()
    recent = Backup.objects.filter(started_at__gt=now - dt.timedelta(hours=47), status=RunStatus.SUCCEEDED)
    assert not recent.filter(pruned_at__isnull=False).exists()
