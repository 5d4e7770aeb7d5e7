"""Background work of the savings module. Each task runs in the workspace it was queued for."""

from __future__ import annotations

from typing import Any

import structlog
from celery import shared_task

from core_banking.savings.interest_posting import savings_interest_daily_run
from tenants.access import workspace_writable
from tenants.db import current_cooperative, current_schema

logger = structlog.get_logger(__name__)


@shared_task(name="core_banking.savings.tasks.savings_interest_daily")
def savings_interest_daily() -> dict[str, Any]:
    """Post the interest of the month that ended and credit the deposits that matured (idempotent).

    Beat runs it once per live cooperative, often enough (hourly) that each workspace's new business
    day, on its own clock, is picked up soon after its midnight; runs that find nothing due write
    nothing.
    """
    cooperative = current_cooperative()
    if cooperative is None:
        raise RuntimeError(f"This task runs inside a cooperative's workspace, not in {current_schema()!r}")
    if not workspace_writable():
        # Read-only or suspended for its subscription: nothing is posted now; the days missed are
        # caught up once the cooperative has paid (the job is idempotent per date).
        logger.info("savings_interest_skipped", lifecycle=cooperative.lifecycle)
        return {"skipped": cooperative.lifecycle}
    run = savings_interest_daily_run(business_date=cooperative.business_date())
    result = run.as_dict()
    for part in ("interest", "maturities"):
        for failure in result[part]["failures"]:
            logger.warning("savings_interest_not_booked", part=part, **failure)
    return result
