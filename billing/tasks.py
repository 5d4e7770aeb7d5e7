"""Billing's background work. Every task runs in the public schema and is idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task

from billing import services
from billing.models import BillingAccount


@shared_task(name="billing.tasks.stripe_event_process", bind=True, max_retries=10)
def stripe_event_process(self: Any, event_id: str) -> str:
    """Apply a stored Stripe event once; on failure keep the error and retry with a growing delay."""
    try:
        return services.stripe_event_process(event_id=event_id)
    except Exception as exc:
        services.stripe_event_failure_record(event_id=event_id, error=f"{type(exc).__name__}: {exc}")
        raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc


@shared_task(name="billing.tasks.stripe_events_retry")
def stripe_events_retry() -> int:
    """Beat: queue again the events left unprocessed (a worker was down, retries ran out)."""
    event_ids = services.stripe_events_unprocessed(older_than=dt.timedelta(minutes=5))
    for event_id in event_ids:
        stripe_event_process.delay(event_id)
    return len(event_ids)


@shared_task(name="billing.tasks.billing_grace_periods_expire")
def billing_grace_periods_expire() -> list[str]:
    """Beat: past-due cooperatives whose grace period has ended become read-only."""
    return services.billing_grace_periods_expire()


@shared_task(name="billing.tasks.billing_notice_send", bind=True, max_retries=5)
def billing_notice_send(self: Any, account_id: int, kind: str) -> str:
    try:
        return services.billing_notice_send(account_id=account_id, kind=kind)
    except OSError as exc:  # the mail server did not answer
        raise self.retry(exc=exc, countdown=60 * (self.request.retries + 1)) from exc


@shared_task(name="billing.tasks.billing_account_sync")
def billing_account_sync(account_id: int, reason: str) -> str:
    account = BillingAccount.objects.get(pk=account_id)
    return services.billing_account_sync(account=account, reason=reason)
