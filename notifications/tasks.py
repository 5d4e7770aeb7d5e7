"""Background sending. Each task runs in the workspace it was queued for (tenant-schemas-celery)."""

from __future__ import annotations

import functools
from typing import Any

import redis
import structlog
from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from notifications.email_channel import outbox_email_run
from notifications.relay import outbox_relay_run
from notifications.staff_alerts import staff_dead_letter_alerts_send
from tenants.db import current_cooperative, current_schema

logger = structlog.get_logger(__name__)

# Per workspace (the cache key function prefixes the schema): set while a kicked run is queued.
KICK_KEY = "notifications:relay-kick"
KICK_SECONDS = 30


@shared_task(name="notifications.tasks.outbox_relay", acks_late=False)
def outbox_relay() -> dict[str, Any]:
    """Send the workspace's due messages (idempotent: every row is claimed before it is sent).

    Acknowledged on receipt: a worker that dies mid-run leaves its claims to expire, and the next
    run (the sweep, or the next kick) takes them up again, asking the gateway before any resend.
    """
    if current_cooperative() is None:
        raise RuntimeError(f"This task runs inside a cooperative's workspace, not in {current_schema()!r}")
    # Kicks after this point queue a new run: rows committed from now on may come after our last claim.
    cache.delete(KICK_KEY)
    report = outbox_relay_run()
    if report.more:
        _queue_run()
    if report.sent or report.retried or report.dead or report.skipped:
        logger.info("outbox_relay_run", **report.as_dict())
    # The second channel: the same texts by e-mail to members with an address.
    emailed = outbox_email_run()
    if emailed.sent or emailed.failed or emailed.retried:
        logger.info("outbox_email_run", **emailed.as_dict())
    return {**report.as_dict(), "email": emailed.as_dict()}


def outbox_relay_kick() -> bool:
    """Queue relay runs for the current workspace, unless they are queued already (True if queued).

    ``NOTIFICATIONS_RELAY_RUNS_PER_KICK`` runs, so that a burst is sent by several worker processes
    at once (they claim different rows); a run that finds nothing left ends after one query.
    """
    # SET NX on a client kept for the process: every repayment and deposit kicks after its commit,
    # and Django's cache builds a client per call (half a millisecond on the teller's request).
    if _kick_client().set(cache.make_key(KICK_KEY), 1, nx=True, ex=KICK_SECONDS):
        for _run in range(settings.NOTIFICATIONS_RELAY_RUNS_PER_KICK):
            _queue_run()
        return True
    return False


@functools.cache
def _kick_client() -> redis.Redis:
    # The cache's own Redis (its LOCATION), so the run's ``cache.delete(KICK_KEY)`` clears this key.
    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


def _queue_run() -> None:
    # NOTIFICATIONS_RELAY_QUEUE gives sending workers of their own; empty: the default queue.
    queue = settings.NOTIFICATIONS_RELAY_QUEUE
    if queue:
        outbox_relay.apply_async(queue=queue)
    else:
        outbox_relay.apply_async()


@shared_task(name="notifications.tasks.staff_alerts")
def staff_alerts() -> dict[str, int]:
    """Hourly per workspace: e-mail staff about dead messages (each staff user once a workspace day)."""
    if current_cooperative() is None:
        raise RuntimeError(f"This task runs inside a cooperative's workspace, not in {current_schema()!r}")
    report = staff_dead_letter_alerts_send()
    if report.sent or report.failed:
        logger.info("staff_alerts", **report.as_dict())
    return report.as_dict()
