"""Background work of backups, all in the public schema (the records live there).

``backup_run`` and ``restore_run`` run what a service recorded (idempotent: a run that already
happened is not repeated on redelivery). The two nightly tasks are beat entries of the control plane
(``control_plane.beat.CONTROL_PLANE_SCHEDULE``): every quarter hour they start what is due, each
cooperative on its own clock, as separate runs that workers share.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from control_plane.backups import services


@shared_task(name="control_plane.backups.tasks.backup_run")
def backup_run(backup_id: int) -> dict[str, Any]:
    backup = services.backup_run(backup_id=backup_id)
    return {"backup": backup.pk, "status": backup.status, "error": backup.error}


@shared_task(name="control_plane.backups.tasks.restore_run")
def restore_run(restore_id: int) -> dict[str, Any]:
    restore = services.restore_run(restore_id=restore_id)
    return {"restore": restore.pk, "status": restore.status, "error": restore.error}


@shared_task(name="control_plane.backups.tasks.backups_nightly")
def backups_nightly() -> dict[str, Any]:
    started = services.backups_nightly_start()
    return {"started": [backup.pk for backup in started]}


@shared_task(name="control_plane.backups.tasks.restore_drills_nightly")
def restore_drills_nightly() -> dict[str, Any]:
    drills = services.restore_drills_nightly_start()
    return {"drills": [restore.pk for restore in drills]}
