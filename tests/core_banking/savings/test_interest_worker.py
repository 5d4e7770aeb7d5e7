"""The savings interest task in a real Celery worker: beat sends it to each workspace; it posts once."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from control_plane.beat import WorkspaceScheduler
from control_plane.celery import app as celery_app
from core_banking.ledger.models import JournalEntry
from core_banking.savings.interest_posting import (
    InterestJobSummary,
    last_month_end_before,
    savings_interest_post,
)
from core_banking.savings.models import InterestPosting, SavingsAccount
from core_banking.savings.services import savings_account_open, savings_deposit, savings_product_create
from core_banking.savings.tasks import savings_interest_daily
from notifications.models import OutboxMessage
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.control_plane.test_celery_worker import worker_queue  # noqa: F401 - the worker process
from tests.core_banking.savings.conftest import make_member
from tests.core_banking.threads import in_threads

pytestmark = [pytest.mark.worker, pytest.mark.django_db, pytest.mark.xdist_group("celery-worker")]

ENTRY = "workspace-savings-interest"


class Books(NamedTuple):
    cooperative: Cooperative
    account_id: int
    period_end: Any  # dt.date: the month end the task posts for


@pytest.fixture(scope="module")
def books(django_db_setup: None, django_db_blocker: Any) -> Books:
    """A workspace of its own, committed (the worker is another process), with one savings account.

    The account is opened on the first day of the month that last ended, with 73 000.00 taka at 5 %
    (actual/365): 7 300 000 x 0.05 / 365 = 1 000 paisa a day, so the month earns 10.00 taka a day.
    """
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Interest", slug=f"interest-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@interest.example"),
        )
        with tenant_context(cooperative):
            period_end = last_month_end_before(cooperative.business_date())
            first = period_end.replace(day=1)
            product = savings_product_create(
                actor=None,
                code="VOL",
                name="Voluntary",
                kind="voluntary",
                annual_rate=Decimal("5"),
                rate_effective_from=first,
            )
            account = savings_account_open(
                actor=None, member=make_member("HO-000001"), product=product, opened_on=first
            )
            savings_deposit(
                account_id=account.pk, amount_minor=73_000_00, value_date=first, idempotency_key="d-1"
            )
        connection.close()
    return Books(cooperative, account.pk, period_end)


def _posted(books: Books) -> list[InterestPosting]:
    with tenant_context(books.cooperative):
        return list(InterestPosting.objects.filter(account_id=books.account_id))


def test_beat_sends_the_task_to_each_workspace_and_running_it_again_posts_nothing(
    worker_queue: str,  # noqa: F811
    books: Books,
    tmp_path: Path,
) -> None:
    # Hourly, and without "tenant_schemas": the scheduler runs it once per live cooperative.
    configured = settings.CELERY_BEAT_SCHEDULE[ENTRY]
    assert configured == {"task": "core_banking.savings.tasks.savings_interest_daily", "schedule": 3600}
    scheduler = WorkspaceScheduler(app=celery_app, lazy=True, schedule_filename=str(tmp_path / "beat"))
    ((name, fields),) = scheduler._tenant_aware_beat_schedule_to_dict(
        {ENTRY: {**configured, "options": {"queue": worker_queue}}}
    ).items()
    entry = scheduler.Entry(name=name, app=celery_app, **fields)

    scheduler.apply_entry(entry, producer=None)
    deadline = time.monotonic() + 60
    while not _posted(books) and time.monotonic() < deadline:
        time.sleep(0.2)
    # The next tick, and the task queued by hand: the worker takes them in order.
    scheduler.apply_entry(entry, producer=None)
    with tenant_context(books.cooperative):
        again = savings_interest_daily.apply_async(queue=worker_queue).get(timeout=60)

    days = books.period_end.day
    (posting,) = _posted(books)
    # 1 000 paisa a day for every day of the month.
    assert (posting.period_start, posting.period_end) == (books.period_end.replace(day=1), books.period_end)
    assert posting.credited_minor == days * 1_000
    assert again["interest"] == {
        "on": books.period_end.isoformat(),
        "booked": 0,
        "credited": 0,
        "credited_minor": 0,
        "accrued_minor": 0,
        "already_done": 0,
        "failures": [],
    }
    key = f"savings-posting:{books.account_id}:{books.period_end.isoformat()}"
    with tenant_context(books.cooperative):
        assert SavingsAccount.objects.get(pk=books.account_id).balance_minor == 73_000_00 + days * 1_000
        assert JournalEntry.objects.filter(idempotency_key=key).count() == 1
        assert OutboxMessage.objects.filter(kind="savings_interest", source_ref=key).count() == 1


def test_the_task_refuses_to_run_outside_a_workspace(worker_queue: str, db: None) -> None:  # noqa: F811
    result = savings_interest_daily.apply_async(queue=worker_queue)
    with pytest.raises(RuntimeError, match="inside a cooperative's workspace"):
        result.get(timeout=30)


def test_runs_racing_for_one_period_post_once(books: Books) -> None:
    """Four runs at once, each in its own connection and committed transactions (no worker needed)."""
    january_end = dt.date(2026, 1, 31)

    def open_account(_number: int) -> int:
        product = savings_product_create(
            actor=None,
            code="RACE",
            name="Raced",
            kind="voluntary",
            annual_rate=Decimal("5"),
            rate_effective_from=dt.date(2026, 1, 1),
        )
        account = savings_account_open(
            actor=None, member=make_member("HO-000002"), product=product, opened_on=dt.date(2026, 1, 1)
        )
        savings_deposit(
            account_id=account.pk,
            amount_minor=73_000_00,
            value_date=dt.date(2026, 1, 1),
            idempotency_key="d-2",
        )
        return account.pk

    (account_id,) = in_threads(1, open_account, books.cooperative)
    summaries = in_threads(
        4, lambda _number: savings_interest_post(period_end=january_end), books.cooperative
    )

    assert all(isinstance(summary, InterestJobSummary) for summary in summaries), summaries
    bookings = [booking for summary in summaries for booking in summary.booked]
    # 31 days x 1 000 paisa (73 000.00 taka at 5 %, actual/365).
    assert [(booking.account_id, booking.credited_minor) for booking in bookings] == [(account_id, 31_000)]
    assert sum(summary.already_done for summary in summaries) <= 3
    with tenant_context(books.cooperative):
        assert InterestPosting.objects.filter(account_id=account_id).count() == 1
        assert SavingsAccount.objects.get(pk=account_id).balance_minor == 73_000_00 + 31_000
        key = f"savings-posting:{account_id}:2026-01-31"
        assert JournalEntry.objects.filter(idempotency_key=key).count() == 1
        assert OutboxMessage.objects.filter(kind="savings_interest", source_ref=key).count() == 1
