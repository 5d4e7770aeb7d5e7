"""Background work per workspace. Each task runs in the schema it was queued from."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from tenants.db import current_cooperative, current_schema
from tenants.models import Cooperative, UsageSnapshot


def _current_cooperative() -> Cooperative:
    cooperative = current_cooperative()
    if cooperative is None:
        raise RuntimeError(f"This task runs inside a cooperative's workspace, not in {current_schema()!r}")
    return cooperative


@shared_task(name="tenants.tasks.usage_snapshot")
def usage_snapshot() -> dict[str, Any]:
    """Count what the workspace uses today (idempotent: one row per cooperative per day, updated)."""
    from billing.selectors import workspace_counts

    cooperative = _current_cooperative()
    counts = workspace_counts(cooperative)
    UsageSnapshot.objects.update_or_create(
        cooperative=cooperative,
        measured_on=cooperative.business_date(),
        defaults={
            "measured_at": timezone.now(),
            "staff_users": counts.staff_users,
            "branches": counts.branches,
            "members": counts.members,
            "sms_this_month": counts.sms_this_month,
            "sms_segments_this_month": counts.sms_segments_this_month,
        },
    )
    return {"schema": current_schema(), "staff_users": counts.staff_users, "branches": counts.branches}


@shared_task(name="tenants.tasks.workspace_probe")
def workspace_probe(usernames: list[str]) -> dict[str, Any]:
    """Report which schema the task ran in and which of the given staff user names exist there.

    Used by the operations console's health check of a workspace, and by the isolation tests:
    a task queued from one workspace sees that workspace's people only.
    """
    from control_plane.identity.models import User

    cooperative = _current_cooperative()
    found = sorted(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    return {"schema": current_schema(), "cooperative": cooperative.slug, "found": found}


@shared_task(name="tenants.tasks.fleet_migrate_run", acks_late=False)
def fleet_migrate_run(run_id: int) -> dict[str, Any]:
    """Run a fleet migration the console queued (in the public schema, where it was queued).

    The run happens in ``manage.py migrate_fleet --run``, a process of its own: a Celery prefork
    worker is daemonic and may not start the worker processes the run migrates with. Acknowledged
    on receipt, not redelivered: a run that dies half-way is marked interrupted by the next one,
    and running again continues where it stopped (finished schemas have nothing to apply).
    """
    import os
    import subprocess
    import sys

    from django.conf import settings

    from tenants.models import FleetMigrationRun, FleetRunStatus

    run = FleetMigrationRun.objects.filter(pk=run_id, status=FleetRunStatus.QUEUED).first()
    if run is None:
        return {"run": run_id, "status": "not queued"}
    # The environment's settings module first: under overridden settings (tests) Django's
    # SETTINGS_MODULE is None.
    settings_module = os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module or "control_plane.settings"}
    result = subprocess.run(  # noqa: S603 - our own command, no shell
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "migrate_fleet", "--run", str(run.pk)],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    run.refresh_from_db()
    if run.status == FleetRunStatus.QUEUED:  # the command never got to it
        run.status = FleetRunStatus.INTERRUPTED
        output = (result.stderr or result.stdout)[-4000:]
        run.error = output or f"migrate_fleet exited with {result.returncode}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
    return {"run": run.pk, "status": run.status, "applied": run.applied, "failed": run.failed}


@shared_task(name="tenants.tasks.spare_workspaces_refill", ignore_result=True)
def spare_workspaces_refill() -> int:
    """Keep ``TENANT_SPARE_WORKSPACES`` template clones ready for the next sign-ups (public schema)."""
    from tenants.spares import spares_refill

    return spares_refill()
