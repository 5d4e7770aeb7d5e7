"""The reminders' periodic job. Beat runs it once per live cooperative; each run is idempotent."""

from __future__ import annotations

from typing import Any

import structlog
from celery import shared_task

from notifications.reminders import reminders_enqueue
from tenants.access import workspace_writable
from tenants.db import current_cooperative, current_schema

logger = structlog.get_logger(__name__)


@shared_task(name="notifications.reminder_tasks.reminders_daily")
def reminders_daily() -> dict[str, Any]:
    """Queue the day's instalment reminders once the cooperative's local sending hour has come.

    Beat runs it every quarter of an hour, so the hour is met on each workspace's own clock
    (half-hour time zones included); every run after the first that day inserts nothing.
    """
    cooperative = current_cooperative()
    if cooperative is None:
        raise RuntimeError(f"This task runs inside a cooperative's workspace, not in {current_schema()!r}")
    if not workspace_writable():
        # Read-only or suspended for its subscription: no reminders until the cooperative has paid.
        logger.info("reminders_skipped", lifecycle=cooperative.lifecycle)
        return {"skipped": cooperative.lifecycle}
    run = reminders_enqueue(local_now=cooperative.local_now())
    result = run.as_dict()
    logger.info("reminders_queued", **result)
    return result
