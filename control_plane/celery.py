"""The Celery app. Tasks queued from a workspace carry its schema and run in it, nowhere else."""

from __future__ import annotations

import os
from typing import Any

from celery import bootsteps
from django_structlog.celery.steps import DjangoStructLogInitStep
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")

app = CeleryApp("coopcore")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

WORKER_HEARTBEAT_KEY = "coopcore:worker-heartbeat"


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Writes a short-lived key to Redis while the worker runs; /healthz reads it."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.tref: Any = None

    def start(self, worker: Any) -> None:
        from django.conf import settings

        interval = settings.COOPCORE_WORKER_HEARTBEAT_SECONDS
        self._beat(worker, interval)
        self.tref = worker.timer.call_repeatedly(interval, self._beat, (worker, interval), priority=10)

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()

    @staticmethod
    def _beat(worker: Any, interval: int) -> None:
        from control_plane.health import record_worker_heartbeat

        record_worker_heartbeat(worker.hostname, ttl_seconds=interval * 3)


app.steps["worker"].add(WorkerHeartbeat)
# Task log lines carry the task id and the id of the request that queued the task.
app.steps["worker"].add(DjangoStructLogInitStep)
