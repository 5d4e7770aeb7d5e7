"""The dry run as it runs for real: queued from the workspace, run by a Celery worker process in
that workspace, its progress and result committed where the pages read them."""

from __future__ import annotations

import io
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from control_plane.celery import app as celery_app
from imports.engine.sample import write_sample
from imports.models import ImportJob, JobStatus
from imports.services import ImportOptions, import_job_create
from imports.tasks import import_dry_run_task
from tests.conftest import ALPHA, workspace_client
from tests.core_banking.threads import in_threads
from tests.processes import running_process

pytestmark = [pytest.mark.worker, pytest.mark.django_db, pytest.mark.xdist_group("imports-worker")]


@pytest.fixture(scope="module")
def import_worker(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A worker on a queue of its own."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    node = f"{queue}@localhost"
    command = [
        sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-Q", queue,
        "-n", node, "--pool", "solo", "-l", "info", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    log_path: Path = tmp_path_factory.mktemp("import-worker") / "worker.log"
    with running_process(
        command,
        name="Celery worker",
        log_path=log_path,
        ready=lambda: bool(celery_app.control.ping(destination=[node], timeout=1)),
    ):
        yield queue


def test_the_worker_runs_the_dry_run_in_the_workspace(import_worker: str) -> None:
    out = io.BytesIO()
    summary = write_sample(out, members=200, country="BD", bad_rows=4)
    cooperative = ALPHA.cooperative()

    def create() -> int:
        job = import_job_create(
            actor=None, files=[SimpleUploadedFile("legacy.xlsx", out.getvalue())], options=ImportOptions()
        )
        return job.pk

    (job_id,) = in_threads(1, lambda _number: create(), cooperative)
    try:
        with tenant_context(cooperative):
            import_dry_run_task.apply_async(args=[job_id], queue=import_worker)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with tenant_context(cooperative):
                job = ImportJob.objects.get(pk=job_id)
            if not job.is_running:
                break
            time.sleep(0.3)
        assert job.status == JobStatus.VALIDATED, job.failure
        savings = next(line for line in job.reconciliation if line["control"] == "savings")
        assert savings["records_minor"] == summary.savings_total and savings["difference_minor"] == 0
        assert job.rows_done == job.rows_total > 200
        page = workspace_client(ALPHA, username=ALPHA.admin).get(f"/imports/{job_id}/")
        assert b'data-testid="import-reconciliation"' in page.content
        assert b'data-status="validated"' in page.content
    finally:

        def remove() -> None:
            # The worker stored the report under the project's media folder: take it away with the job.
            job = ImportJob.objects.get(pk=job_id)
            for path in [*job.files.values_list("storage_path", flat=True), job.report_path]:
                if path:
                    default_storage.delete(path)
            job.delete()

        in_threads(1, lambda _number: remove(), cooperative)
