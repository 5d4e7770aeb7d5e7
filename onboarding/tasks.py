"""Sign-up's background work, in the public schema. Every task is idempotent."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from onboarding import services


@shared_task(name="onboarding.tasks.signup_provision", bind=True, max_retries=8)
def signup_provision(self: Any, signup_id: int) -> str:
    """Create a paid sign-up's workspace; retried while the cause is ours to fix (a missing template)."""
    try:
        return services.signup_provision(signup_id=signup_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


@shared_task(name="onboarding.tasks.signups_expire")
def signups_expire() -> list[str]:
    """Beat: unpaid sign-ups past their time expire; their Checkout sessions are closed first."""
    return services.signups_expire()
