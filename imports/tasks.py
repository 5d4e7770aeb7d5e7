"""Background work of imports. Each task runs in the workspace it was queued from (tenant-schemas-celery)."""

from __future__ import annotations

from celery import shared_task

from imports.models import ImportJob
from imports.services import import_dry_run
from tenants.db import current_cooperative, current_schema


@shared_task(name="imports.tasks.import_dry_run", ignore_result=True)
def import_dry_run_task(job_id: int) -> str:
    """Run one job's dry run (idempotent: a job already run or running is left as it is)."""
    if current_cooperative() is None:
        raise RuntimeError(f"This task runs inside a cooperative's workspace, not in {current_schema()!r}")
    if not ImportJob.objects.filter(pk=job_id).exists():
        return "missing"  # queued by a request whose transaction rolled back
    return str(import_dry_run(job_id=job_id).status)


@shared_task(name="imports.tasks.import_commit", ignore_result=True)
def import_commit_task(job_id: int) -> str:
    """Write one job's records (idempotent: only a job asked to commit and not yet done runs)."""
    from imports.commit import import_commit

    if current_cooperative() is None:
        raise RuntimeError(f"This task runs inside a cooperative's workspace, not in {current_schema()!r}")
    job = import_commit(job_id=job_id)
    return str(job.status) if job is not None else "missing"
