"""Instalment reminders: N days before the due date and on the first days overdue, on the
cooperative's own clock (Asia/Dhaka for alpha, UTC+6), after its sending hour, once per instalment
per day however often the job runs."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest

from core_banking.lending.models import LoanInstallment
from core_banking.lending.services import loan_repay
from notifications.models import MessageKind, OutboxMessage, OutboxStatus
from notifications.reminder_tasks import reminders_daily
from notifications.reminders import reminders_enqueue
from notifications.rendering import outbox_message_render
from notifications.template_services import notification_settings_save
from tests.conftest import ALPHA
from tests.core_banking.lending.conftest import (  # noqa: F401 - fixtures
    borrower,
    guarantor,
    ladder,
    monthly_product,
    staff,
)
from tests.core_banking.lending.page_fixtures import EMI, Book, book_fixture  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

UTC = dt.UTC
DHAKA = zoneinfo.ZoneInfo("Asia/Dhaka")


def _at(utc: dt.datetime) -> dt.datetime:
    return utc.astimezone(DHAKA)


def _reminders() -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(
            kind__in=[MessageKind.UPCOMING_REMINDER, MessageKind.OVERDUE_REMINDER]
        ).order_by("id")
    )


@pytest.fixture
def settings_1am(in_alpha: Any) -> None:
    notification_settings_save(
        actor=None,
        upcoming_reminder_days=2,
        overdue_reminder_days=3,
        send_hour=1,
        unaccented_vietnamese=False,
    )


@pytest.fixture
def first(book: Book) -> LoanInstallment:
    row = LoanInstallment.objects.get(loan=book.loan, number=1)
    assert row.due_date == dt.date(2026, 3, 5)
    return row


def test_alpha_keeps_dhaka_time_and_bangla_digits(in_alpha: Any) -> None:
    cooperative = ALPHA.cooperative()
    assert (cooperative.time_zone, cooperative.use_native_digits) == ("Asia/Dhaka", True)


def test_upcoming_reminder_on_the_local_day_across_the_utc_date_line(
    book: Book, first: LoanInstallment, settings_1am: None
) -> None:
    # 2 March 19:30 UTC is 3 March 01:30 in Dhaka: two days before the 5 March instalment there,
    # while in UTC it is still 2 March (three days before).
    run = reminders_enqueue(local_now=_at(dt.datetime(2026, 3, 2, 19, 30, tzinfo=UTC)))
    assert run.as_dict() == {"local_date": "2026-03-03", "upcoming": 1, "overdue": 0, "due_today": 1}
    [message] = _reminders()
    assert message.kind == MessageKind.UPCOMING_REMINDER
    assert message.source_ref == f"reminder:{first.pk}:2026-03-03"
    assert message.member_id == book.borrower.pk
    assert message.phone == "+8801711000101"
    assert message.language == "bn"
    assert message.status == OutboxStatus.PENDING
    assert message.context == {
        "loan": book.loan.number,
        "installment_number": 1,
        "due_date": "2026-03-05",
        "due_minor": EMI,
        "currency": "BDT",
        "days": 2,
    }
    rendered = outbox_message_render(message)
    assert rendered.body == f"ঋণ {book.loan.number} এর কিস্তি ১০,৬৬১.৮৫৳ পরিশোধের তারিখ ৫/৩/২৬"
    assert (rendered.encoding, rendered.segments) == ("UCS-2", 1)


def test_nothing_before_the_local_sending_hour(
    book: Book, first: LoanInstallment, settings_1am: None
) -> None:
    # 3 March 00:59 in Dhaka (2 March 18:59 UTC): the right day, but before 01:00 there.
    run = reminders_enqueue(local_now=_at(dt.datetime(2026, 3, 2, 18, 59, tzinfo=UTC)))
    assert run.local_date is None
    assert _reminders() == []
    # 2 March 23:59 UTC is already 3 March 05:59 in Dhaka; 3 March 18:00 UTC is 4 March 00:00 there,
    # the day after the reminder day and before the hour: nothing more.
    reminders_enqueue(local_now=_at(dt.datetime(2026, 3, 2, 23, 59, tzinfo=UTC)))
    reminders_enqueue(local_now=_at(dt.datetime(2026, 3, 3, 18, 0, tzinfo=UTC)))
    assert [m.source_ref for m in _reminders()] == [f"reminder:{first.pk}:2026-03-03"]


def test_running_twice_the_same_day_sends_one(book: Book, first: LoanInstallment, settings_1am: None) -> None:
    first_run = reminders_enqueue(local_now=_at(dt.datetime(2026, 3, 2, 20, 0, tzinfo=UTC)))
    second_run = reminders_enqueue(local_now=_at(dt.datetime(2026, 3, 3, 9, 45, tzinfo=UTC)))  # 15:45 there
    assert (first_run.upcoming, second_run.upcoming) == (1, 0)
    assert second_run.as_dict()["due_today"] == 1
    assert len(_reminders()) == 1


def test_overdue_on_each_of_the_first_days_then_stops(
    book: Book, first: LoanInstallment, settings_1am: None
) -> None:
    days = [dt.date(2026, 3, 5) + dt.timedelta(days=n) for n in range(0, 6)]  # 5 … 10 March
    for day in days:
        for hour in (2, 14):  # twice a day, local time
            reminders_enqueue(local_now=dt.datetime.combine(day, dt.time(hour), tzinfo=DHAKA))
    found = [(m.kind, m.source_ref, m.context["days"]) for m in _reminders()]
    assert found == [
        (MessageKind.OVERDUE_REMINDER, f"reminder:{first.pk}:2026-03-06", 1),
        (MessageKind.OVERDUE_REMINDER, f"reminder:{first.pk}:2026-03-07", 2),
        (MessageKind.OVERDUE_REMINDER, f"reminder:{first.pk}:2026-03-08", 3),
    ]
    overdue = _reminders()[0]
    assert outbox_message_render(overdue).body == (
        f"ঋণ {book.loan.number} এর কিস্তি ১০,৬৬১.৮৫৳ বকেয়া, তারিখ ছিল ৫/৩/২৬"
    )


def test_what_is_still_owed_and_nothing_for_a_paid_instalment(
    book: Book,
    first: LoanInstallment,
    staff: dict[str, Any],  # noqa: F811 - the lending fixture
    settings_1am: None,
) -> None:
    loan_repay(
        actor=staff["teller"],
        loan_id=book.loan.pk,
        amount_minor=4_000_00,
        value_date=dt.date(2026, 3, 1),
        idempotency_key="part-1",
    )
    reminders_enqueue(local_now=dt.datetime(2026, 3, 3, 9, 0, tzinfo=DHAKA))
    [partly] = _reminders()
    assert partly.context["due_minor"] == EMI - 4_000_00 == 6_661_85
    loan_repay(
        actor=staff["teller"],
        loan_id=book.loan.pk,
        amount_minor=6_661_85,
        value_date=dt.date(2026, 3, 5),
        idempotency_key="rest-1",
    )
    reminders_enqueue(local_now=dt.datetime(2026, 3, 6, 9, 0, tzinfo=DHAKA))
    assert len(_reminders()) == 1  # paid on the due date: no overdue reminder


def test_settings_zero_days_send_nothing(book: Book, first: LoanInstallment) -> None:
    notification_settings_save(
        actor=None,
        upcoming_reminder_days=0,
        overdue_reminder_days=0,
        send_hour=0,
        unaccented_vietnamese=False,
    )
    reminders_enqueue(local_now=dt.datetime(2026, 3, 3, 9, 0, tzinfo=DHAKA))
    reminders_enqueue(local_now=dt.datetime(2026, 3, 6, 9, 0, tzinfo=DHAKA))
    assert _reminders() == []


def test_the_task_runs_in_the_workspace_on_its_clock(book: Book, first: LoanInstallment) -> None:
    """The beat task, on the real clock: an instalment moved to fall due two local days from now."""
    cooperative = ALPHA.cooperative()
    today = cooperative.business_date()
    LoanInstallment.objects.filter(pk=first.pk).update(due_date=today + dt.timedelta(days=2))
    notification_settings_save(
        actor=None,
        upcoming_reminder_days=2,
        overdue_reminder_days=0,
        send_hour=0,
        unaccented_vietnamese=False,
    )
    assert reminders_daily() == {"local_date": today.isoformat(), "upcoming": 1, "overdue": 0, "due_today": 1}
    assert reminders_daily() == {"local_date": today.isoformat(), "upcoming": 0, "overdue": 0, "due_today": 1}
    assert [m.source_ref for m in _reminders()] == [f"reminder:{first.pk}:{today.isoformat()}"]
