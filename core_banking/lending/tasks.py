"""Background work of the lending module. Each task runs in the workspace it was queued for."""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from celery import shared_task

from control_plane.errors import BusinessRuleViolation
from core_banking.lending.close_of_business import close_of_business_run, latest_close
from tenants.access import workspace_writable
from tenants.db import current_cooperative, current_schema

logger = structlog.get_logger(__name__)

# A workspace whose job stopped for a while closes each day it missed, oldest first, up to this many.
CATCH_UP_DAYS = 31


def days_to_close(*, today: dt.date, last_closed: dt.date | None) -> list[dt.date]:
    """The days a run on ``today`` closes: from the day after the last one closed through yesterday.

    A workspace never closed starts with yesterday; a gap longer than ``CATCH_UP_DAYS`` closes
    only its last ``CATCH_UP_DAYS`` days (the earlier ones would only be aged with today's data).
    """
    yesterday = today - dt.timedelta(days=1)
    if last_closed is None or last_closed >= yesterday:
        return [] if last_closed is not None else [yesterday]
    first = max(last_closed + dt.timedelta(days=1), yesterday - dt.timedelta(days=CATCH_UP_DAYS - 1))
    return [first + dt.timedelta(days=offset) for offset in range((yesterday - first).days + 1)]


@shared_task(name="core_banking.lending.tasks.close_of_business_daily")
def close_of_business_daily() -> dict[str, Any]:
    """Close the loan book for the day that ended on the cooperative's own clock (idempotent per date).

    Beat runs it hourly for each live cooperative, like the savings interest, so each workspace's
    day is closed soon after its own midnight; the runs after the first find it closed and do
    nothing. Days missed while the job was stopped are closed in order first.
    """
    cooperative = current_cooperative()
    if cooperative is None:
        raise RuntimeError(f"This task runs inside a cooperative's workspace, not in {current_schema()!r}")
    if not workspace_writable():
        # Read-only or suspended for its subscription: nothing is posted now; the days missed are
        # caught up once the cooperative has paid (the job is idempotent per date).
        logger.info("close_of_business_skipped", lifecycle=cooperative.lifecycle)
        return {"skipped": cooperative.lifecycle}
    last = latest_close()
    days = days_to_close(today=cooperative.business_date(), last_closed=last.business_date if last else None)
    closed: list[dict[str, Any]] = []
    for day in days:
        try:
            run = close_of_business_run(business_date=day)
        except BusinessRuleViolation as error:
            logger.warning("close_of_business_failed", business_date=day.isoformat(), code=error.code)
            return {"closed": closed, "failed": {"business_date": day.isoformat(), "code": str(error.code)}}
        closed.append({"business_date": run.business_date.isoformat(), **run.counts})
    return {"closed": closed, "failed": None}
