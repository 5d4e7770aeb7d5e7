"""One backup or restore of a cooperative at a time: refused while one is queued or running."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from control_plane.backups import postgres
from control_plane.backups.errors import BackupErrorCode, BackupRefused
from control_plane.backups.models import Backup, BackupKind, Phase, Restore, RestoreMode, RunStatus
from control_plane.backups.services import backup_create, backup_run, restore_create, restore_run
from tenants.models import Cooperative
from tests.control_plane.backups.conftest import committed, forget, provision

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("backups")]


@pytest.fixture(scope="module")
def workspace(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[Cooperative, Backup]]:
    with django_db_blocker.unblock():
        cooperative = provision("lock")
        backup = backup_run(backup_id=backup_create(cooperative=cooperative, actor=None).pk)
        assert backup.status == RunStatus.SUCCEEDED
    yield cooperative, backup
    with django_db_blocker.unblock():
        forget(cooperative)


def _busy(**kwargs: Any) -> None:
    with pytest.raises(BackupRefused) as refused:
        if "backup" in kwargs:
            restore_create(actor=None, **kwargs)
        else:
            backup_create(actor=None, **kwargs)
    assert refused.value.code == BackupErrorCode.OPERATION_IN_PROGRESS
    assert refused.value.http_status == 409


def test_a_queued_backup_refuses_another_backup_and_any_restore(
    workspace: tuple[Cooperative, Backup],
) -> None:
    cooperative, good = workspace
    queued = backup_create(cooperative=cooperative, actor=None)
    _busy(cooperative=cooperative)
    _busy(backup=good)
    Backup.objects.filter(pk=queued.pk).update(status=RunStatus.SUCCEEDED)
    restore = restore_create(backup=good, actor=None)
    _busy(cooperative=cooperative)
    assert restore.status == RunStatus.QUEUED


def test_runs_whose_process_died_or_never_started_do_not_block(workspace: tuple[Cooperative, Backup]) -> None:
    cooperative, good = workspace
    # Marked running, but nobody holds the cooperative's lock: its worker died.
    died = Backup.objects.create(
        cooperative=cooperative, schema_name=cooperative.schema_name, kind=BackupKind.ON_DEMAND
    )
    Backup.objects.filter(pk=died.pk).update(status=RunStatus.RUNNING)
    # Queued seven hours ago and never picked up.
    lost = Restore.objects.create(cooperative=cooperative, backup=good, mode=RestoreMode.RESTORE)
    Restore.objects.filter(pk=lost.pk).update(created_at=timezone.now() - dt.timedelta(hours=7))

    fresh = backup_create(cooperative=cooperative, actor=None)

    died.refresh_from_db()
    lost.refresh_from_db()
    assert (died.status, died.error) == (RunStatus.FAILED, "Interrupted: the process running it stopped.")
    assert (lost.status, lost.error) == (RunStatus.FAILED, "Never started.")
    assert fresh.status == RunStatus.QUEUED


def _lock_the_journal(schema: str, locked: threading.Event, release: threading.Event) -> None:
    with postgres.open_connection(autocommit=False) as conn:
        conn.execute(f'LOCK TABLE "{schema}".ledger_journalline IN ACCESS EXCLUSIVE MODE')
        locked.set()
        release.wait(60)
        conn.rollback()


@committed
def test_while_a_backup_runs_nothing_else_of_that_cooperative_runs(
    workspace: tuple[Cooperative, Backup],
) -> None:
    cooperative, good = workspace
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_lock_the_journal, args=(cooperative.schema_name, locked, release))
    holder.start()
    assert locked.wait(10)
    first = backup_create(cooperative=cooperative, actor=None)
    outcome: dict[str, Backup] = {}

    def run_first() -> None:
        try:
            outcome["first"] = backup_run(backup_id=first.pk)
        finally:
            connections.close_all()

    runner = threading.Thread(target=run_first)
    runner.start()
    try:
        # The first run holds the cooperative's lock and waits for the journal table.
        deadline = time.monotonic() + 30
        while Backup.objects.get(pk=first.pk).phase != Phase.COUNTING and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Backup.objects.get(pk=first.pk).status == RunStatus.RUNNING

        # Refused at the door while it runs (and not mistaken for a dead run) ...
        _busy(cooperative=cooperative)
        _busy(backup=good)
        assert Backup.objects.get(pk=first.pk).status == RunStatus.RUNNING
        # ... and refused by the lock if two requests got past the door together.
        raced = Backup.objects.create(
            cooperative=cooperative, schema_name=cooperative.schema_name, kind=BackupKind.ON_DEMAND
        )
        raced = backup_run(backup_id=raced.pk)
        assert (raced.status, raced.error) == (
            RunStatus.FAILED,
            "Another backup or restore of this cooperative is running.",
        )
        raced_restore = Restore.objects.create(
            cooperative=cooperative,
            backup=good,
            mode=RestoreMode.RESTORE,
            live_schema=cooperative.schema_name,
        )
        raced_restore = restore_run(restore_id=raced_restore.pk)
        assert raced_restore.status == RunStatus.FAILED and "is running" in raced_restore.error
    finally:
        release.set()
        holder.join(10)
        runner.join(60)
    assert outcome["first"].status == RunStatus.SUCCEEDED, outcome["first"].error
    # Free again once it is done.
    Backup.objects.filter(pk=backup_create(cooperative=cooperative, actor=None).pk).update(
        status=RunStatus.FAILED
    )
