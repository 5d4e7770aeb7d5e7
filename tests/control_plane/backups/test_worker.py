"""Backups, restores and the nightly rounds through a real Celery worker process (Redis broker)."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django_tenants.utils import schema_exists

from control_plane.audit.models import AuditEvent
from control_plane.backups.models import Backup, BackupKind, Phase, Restore, RestoreMode, RunStatus
from control_plane.backups.services import (
    backup_create,
    backup_old_schema_drop,
    backup_run,
    backup_start,
    restore_start,
)
from control_plane.celery import app as celery_app
from control_plane.identity.models import User
from tenants.models import Cooperative
from tests.control_plane.backups.conftest import committed, forget, provision, stored_path
from tests.processes import running_process

pytestmark = [pytest.mark.worker, pytest.mark.django_db, pytest.mark.xdist_group("backups")]


@pytest.fixture(scope="module")
def backup_queue(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A worker of its own on a queue of its own; the runs it queues itself go to that queue too."""
    queue = f"backups-{uuid.uuid4().hex[:12]}"
    node = f"{queue}@localhost"
    command = [
        sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-Q", queue, "-n", node,
        "--pool", "solo", "-l", "info", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    names = {"COOPCORE_BACKUP_QUEUE": queue, "COOPCORE_BACKUP_HOUR": "0", "COOPCORE_BACKUP_DRILL_HOUR": "0"}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        with (
            running_process(
                command,
                name="Celery worker",
                log_path=tmp_path_factory.mktemp("backup-worker") / "worker.log",
                ready=lambda: bool(celery_app.control.ping(destination=[node], timeout=1)),
            ),
            override_settings(BACKUP_QUEUE=queue),
        ):
            yield queue
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def workspace(django_db_setup: None, django_db_blocker: Any) -> Iterator[Cooperative]:
    with django_db_blocker.unblock():
        cooperative = provision("worker")
    yield cooperative
    with django_db_blocker.unblock():
        forget(cooperative)


def _until(check: Callable[[], Any], seconds: float = 240) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail("the worker did not finish in time")


def _operator() -> User:
    return User.objects.create_user(username=f"ops-{uuid.uuid4().hex[:6]}", password="operator-password-1")


@committed
def test_a_backup_started_from_the_console_runs_on_the_worker(
    backup_queue: str, workspace: Cooperative
) -> None:
    operator = _operator()
    backup = backup_start(cooperative=workspace, actor=operator, kind=BackupKind.ON_DEMAND)
    assert backup.requested_by == operator.username
    phases = set()

    def done() -> bool:
        row = Backup.objects.get(pk=backup.pk)
        phases.add(row.phase)
        return row.status in {RunStatus.SUCCEEDED, RunStatus.FAILED}

    _until(done)
    backup.refresh_from_db()
    assert backup.status == RunStatus.SUCCEEDED, backup.error
    assert (backup.progress_percent, backup.phase) == (100, Phase.DONE)
    assert phases <= set(Phase.values) and Phase.DONE in phases
    assert Path(stored_path(backup.storage_key)).is_file()
    request = AuditEvent.objects.get(action="backup.request", object_id=str(backup.pk))
    assert (request.actor_id, request.actor_label) == (operator.pk, operator.username)


@committed
def test_a_restore_started_from_the_console_runs_on_the_worker(
    backup_queue: str, workspace: Cooperative
) -> None:
    backup = backup_run(backup_id=backup_create(cooperative=workspace, actor=None).pk)
    assert backup.status == RunStatus.SUCCEEDED
    operator = _operator()
    restore = restore_start(backup=backup, actor=operator)
    _until(lambda: Restore.objects.get(pk=restore.pk).status in {RunStatus.SUCCEEDED, RunStatus.FAILED})
    restore.refresh_from_db()
    assert restore.status == RunStatus.SUCCEEDED, restore.error
    assert restore.checks["ledger"]["reason"] == ""
    assert schema_exists(restore.retired_schema) and schema_exists(workspace.schema_name)
    backup_old_schema_drop(cooperative=workspace, schema_name=restore.retired_schema, actor=operator)
    assert not schema_exists(restore.retired_schema)


@committed
def test_the_nightly_rounds_back_up_and_drill_every_live_cooperative(
    backup_queue: str, workspace: Cooperative
) -> None:
    started = time.time()
    celery_app.send_task("control_plane.backups.tasks.backups_nightly", queue=backup_queue).get(timeout=60)
    scheduled = _until(
        lambda: Backup.objects.filter(
            cooperative=workspace, kind=BackupKind.SCHEDULED, status=RunStatus.SUCCEEDED
        ).first()
    )
    assert scheduled.started_at.timestamp() >= started - 1
    live = set(Cooperative.objects.live().values_list("pk", flat=True))
    assert (
        set(
            Backup.objects.filter(
                kind=BackupKind.SCHEDULED, created_at__gte=scheduled.created_at
            ).values_list("cooperative_id", flat=True)
        )
        | {workspace.pk}
        <= live
    )

    celery_app.send_task("control_plane.backups.tasks.restore_drills_nightly", queue=backup_queue).get(
        timeout=60
    )
    drill = _until(
        lambda: Restore.objects.filter(
            cooperative=workspace, mode=RestoreMode.DRILL, status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]
        ).first()
    )
    assert drill.status == RunStatus.SUCCEEDED, drill.error
    assert drill.backup_id == scheduled.pk
