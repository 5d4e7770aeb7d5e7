"""Reminders in a real Celery worker: beat sends the job to the workspace, it queues the day's
reminder once; runs racing in their own connections queue it once too."""

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
from core_banking.lending.models import LoanInstallment
from core_banking.lending.services import (
    approval_levels_set,
    loan_application_decide,
    loan_application_submit,
    loan_disburse,
    loan_product_create,
)
from core_banking.organisation.models import Branch
from core_banking.staff.roles import Role
from core_banking.staff.services import staff_user_create
from notifications.models import MessageKind, OutboxMessage
from notifications.reminder_tasks import reminders_daily
from notifications.reminders import reminders_enqueue
from notifications.template_services import notification_settings_save
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.control_plane.test_celery_worker import worker_queue  # noqa: F401 - the worker process
from tests.core_banking.savings.conftest import make_member
from tests.core_banking.threads import in_threads

pytestmark = [pytest.mark.worker, pytest.mark.django_db, pytest.mark.xdist_group("celery-worker")]

ENTRY = "workspace-notifications-reminders"


class Book(NamedTuple):
    cooperative: Cooperative
    installment_id: int
    today: dt.date
    due_date: dt.date


@pytest.fixture(scope="module")
def book(django_db_setup: None, django_db_blocker: Any) -> Book:
    """A workspace of its own, committed (the worker is another process), with one loan whose first
    instalment falls due 8 to 11 days from today; reminders are set to that many days before."""
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Reminding", slug=f"remind-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@reminding.example"),
        )
        with tenant_context(cooperative):
            today = cooperative.business_date()
            paid_out = today - dt.timedelta(days=20)
            approval_levels_set(actor=None, levels=[(1, 0)])
            approver = staff_user_create(
                actor=None,
                username="approver",
                password=None,
                roles=[Role.APPROVER.value],
                approver_level=1,
                home_branch=Branch.objects.get(is_head_office=True),
                email="approver@reminding.example",
            )
            product = loan_product_create(
                actor=None,
                code="GEN",
                name="General loan",
                product_type="ordinary",
                annual_rate=Decimal("12"),
                rate_effective_from=dt.date(2025, 1, 1),
                default_installments=12,
                maximum_installments=24,
                interest_method="declining",
                frequency="monthly",
            )
            application = loan_application_submit(
                actor=None,
                member_id=make_member("HO-000001", phone="+8801711000001").pk,
                product_id=product.pk,
                amount_minor=60_000_00,
                installments=12,
                applied_on=paid_out,
            ).application
            loan_application_decide(actor=approver, application_id=application.pk, decision="approved")
            loan = loan_disburse(
                actor=None, application_id=application.pk, disbursed_on=paid_out, idempotency_key="d-1"
            )
            first = LoanInstallment.objects.get(loan=loan, number=1)
            days = (first.due_date - today).days
            assert 1 <= days <= 14, (first.due_date, today)
            notification_settings_save(
                actor=None,
                upcoming_reminder_days=days,
                overdue_reminder_days=0,
                send_hour=0,
                unaccented_vietnamese=False,
            )
        connection.close()
    return Book(cooperative, first.pk, today, first.due_date)


def _reminders(book: Book) -> list[OutboxMessage]:
    with tenant_context(book.cooperative):
        return list(OutboxMessage.objects.filter(kind=MessageKind.UPCOMING_REMINDER))


def test_beat_sends_the_job_to_the_workspace_and_it_reminds_once(
    worker_queue: str,  # noqa: F811
    book: Book,
    tmp_path: Path,
) -> None:
    configured = settings.CELERY_BEAT_SCHEDULE[ENTRY]
    assert configured == {"task": "notifications.reminder_tasks.reminders_daily", "schedule": 15 * 60}
    scheduler = WorkspaceScheduler(app=celery_app, lazy=True, schedule_filename=str(tmp_path / "beat"))
    ((name, fields),) = scheduler._tenant_aware_beat_schedule_to_dict(
        {
            ENTRY: {
                **configured,
                "options": {"queue": worker_queue},
                "tenant_schemas": [book.cooperative.schema_name],
            }
        }
    ).items()
    entry = scheduler.Entry(name=name, app=celery_app, **fields)

    scheduler.apply_entry(entry, producer=None)
    deadline = time.monotonic() + 60
    while not _reminders(book) and time.monotonic() < deadline:
        time.sleep(0.2)
    scheduler.apply_entry(entry, producer=None)
    with tenant_context(book.cooperative):
        again = reminders_daily.apply_async(queue=worker_queue).get(timeout=60)
    assert again == {"local_date": book.today.isoformat(), "upcoming": 0, "overdue": 0, "due_today": 1}

    (message,) = _reminders(book)
    assert message.source_ref == f"reminder:{book.installment_id}:{book.today.isoformat()}"
    assert message.context["due_date"] == book.due_date.isoformat()
    assert message.phone == "+8801711000001"


def test_runs_racing_on_one_day_remind_once(book: Book) -> None:
    """Four runs at once on the day after the due date, each in its own connection and committed
    transaction: one overdue reminder."""
    days_before = (book.due_date - book.today).days
    in_threads(
        1,
        lambda _number: notification_settings_save(
            actor=None,
            upcoming_reminder_days=days_before,
            overdue_reminder_days=1,
            send_hour=0,
            unaccented_vietnamese=False,
        ),
        book.cooperative,
    )
    day_after = book.due_date + dt.timedelta(days=1)
    local_now = dt.datetime.combine(day_after, dt.time(10), tzinfo=book.cooperative.zone)
    runs = in_threads(4, lambda _number: reminders_enqueue(local_now=local_now), book.cooperative)
    assert all(run.local_date == day_after for run in runs), runs
    with tenant_context(book.cooperative):
        overdue = list(OutboxMessage.objects.filter(kind=MessageKind.OVERDUE_REMINDER))
    assert [message.source_ref for message in overdue] == [
        f"reminder:{book.installment_id}:{day_after.isoformat()}"
    ]
    assert overdue[0].context["days"] == 1
