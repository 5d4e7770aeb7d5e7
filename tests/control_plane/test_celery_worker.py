"""A real Celery worker process (Redis broker) runs each task in the schema it was queued from."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from control_plane.celery import app as celery_app
from tenants.models import Cooperative, UsageSnapshot
from tenants.tasks import workspace_probe
from tests.conftest import ALPHA, BETA, Workspace
from tests.processes import running_process

ROOT = Path(__file__).resolve().parents[2]
WORKER_LOGS: list[Path] = []
pytestmark = [pytest.mark.worker, pytest.mark.django_db, pytest.mark.xdist_group("celery-worker")]


@pytest.fixture(scope="session")
def worker_queue(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `celery worker` as its own process on a queue of its own; stop it afterwards."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    node = f"{queue}@localhost"
    command = [
        sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-Q", queue, "-n", node,
        "--pool", "solo", "-l", "info", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    WORKER_LOGS.append(log_path)
    with running_process(
        command,
        name="Celery worker",
        log_path=log_path,
        ready=lambda: bool(celery_app.control.ping(destination=[node], timeout=1)),
    ):
        yield queue


def test_a_task_runs_in_the_schema_it_was_queued_from(worker_queue: str, alpha: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        result = workspace_probe.apply_async(args=[[ALPHA.only_here, BETA.only_here]], queue=worker_queue)
    assert result.get(timeout=30) == {
        "schema": "coop_alpha",
        "cooperative": "alpha",
        "found": [ALPHA.only_here],
    }


def test_a_task_queued_with_the_other_workspaces_ids_finds_nothing_there(
    worker_queue: str, beta: Workspace
) -> None:
    with tenant_context(beta.cooperative()):
        result = workspace_probe.apply_async(args=[[ALPHA.only_here, ALPHA.admin]], queue=worker_queue)
    assert result.get(timeout=30) == {"schema": "coop_beta", "cooperative": "beta", "found": []}


def test_a_task_queued_outside_any_workspace_refuses_to_run(worker_queue: str, db: None) -> None:
    result = workspace_probe.apply_async(args=[[ALPHA.only_here]], queue=worker_queue)
    with pytest.raises(RuntimeError, match="inside a cooperative's workspace"):
        result.get(timeout=30)


def test_beat_runs_a_periodic_task_once_per_live_workspace(
    worker_queue: str, db: None, tmp_path: Path
) -> None:
    from control_plane.beat import WorkspaceScheduler

    started = timezone.now()
    scheduler = WorkspaceScheduler(app=celery_app, lazy=True, schedule_filename=str(tmp_path / "beat"))
    schedule = scheduler._tenant_aware_beat_schedule_to_dict(
        {
            "snapshot": {
                "task": "tenants.tasks.usage_snapshot",
                "schedule": 3600,
                "options": {"queue": worker_queue},
            }
        }
    )
    ((name, entry_fields),) = schedule.items()
    entry = scheduler.Entry(name=name, app=celery_app, **entry_fields)
    scheduler.apply_entry(entry, producer=None)

    live = set(Cooperative.objects.live().values_list("slug", flat=True))
    assert {"alpha", "beta"} <= live and "workspace-template" not in live
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        measured = set(
            UsageSnapshot.objects.filter(measured_at__gte=started).values_list("cooperative__slug", flat=True)
        )
        if measured >= live:
            break
        time.sleep(0.2)
    assert measured == live
    alpha_snapshot = UsageSnapshot.objects.get(cooperative__slug="alpha", measured_at__gte=started)
    assert (alpha_snapshot.staff_users, alpha_snapshot.branches) == (6, 2)


def test_the_worker_heartbeat_makes_healthz_green(worker_queue: str, db: None) -> None:
    from django.test import Client

    from control_plane.health import HEARTBEAT_PREFIX, _redis

    # This test's own worker beats (not any other worker that shares the Redis).
    assert _redis().exists(HEARTBEAT_PREFIX + f"{worker_queue}@localhost")
    body = Client(HTTP_HOST="localhost").get("/healthz").json()
    assert body["checks"]["worker"].startswith("ok")


def test_task_log_lines_carry_the_tenant(worker_queue: str, beta: Workspace) -> None:
    with tenant_context(beta.cooperative()):
        result = workspace_probe.apply_async(args=[[]], queue=worker_queue)
    result.get(timeout=30)
    deadline = time.monotonic() + 10
    lines: list[str] = []
    while time.monotonic() < deadline and not lines:
        lines = [
            line
            for line in WORKER_LOGS[-1].read_text().splitlines()
            if result.id in line and "task_succeeded" in line
        ]
        time.sleep(0.2)
    assert lines, WORKER_LOGS[-1].read_text()[-2000:]
    assert "tenant=coop_beta" in lines[-1]
