"""The close of business in a real Celery worker: beat sends it to the workspace; it closes yesterday once."""

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
from core_banking.lending.close_of_business import close_of_business_run
from core_banking.lending.models import CloseOfBusinessRun, Loan, LoanInstallment
from core_banking.lending.services import (
    approval_levels_set,
    loan_application_decide,
    loan_application_submit,
    loan_disburse,
    loan_product_create,
)
from core_banking.lending.tasks import close_of_business_daily
from core_banking.organisation.models import Branch
from core_banking.staff.roles import Role
from core_banking.staff.services import staff_user_create
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.control_plane.test_celery_worker import worker_queue  # noqa: F401 - the worker process
from tests.core_banking.savings.conftest import make_member
from tests.core_banking.threads import in_threads

pytestmark = [pytest.mark.worker, pytest.mark.django_db, pytest.mark.xdist_group("celery-worker")]

ENTRY = "workspace-loans-close-of-business"


class Book(NamedTuple):
    cooperative: Cooperative
    loan_id: int
    yesterday: dt.date


@pytest.fixture(scope="module")
def book(django_db_setup: None, django_db_blocker: Any) -> Book:
    """A workspace of its own, committed (the worker is another process), with one loan in arrears.

    Tk 60,000.00 over 12 months, paid out 75 days before yesterday and never repaid: its first
    instalment is more than a month late, with the product's Tk 50.00 penalty after 3 grace days.
    """
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Closing", slug=f"closing-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@closing.example"),
        )
        with tenant_context(cooperative):
            yesterday = cooperative.business_date() - dt.timedelta(days=1)
            paid_out = yesterday - dt.timedelta(days=75)
            approval_levels_set(actor=None, levels=[(1, 0)])
            approver = staff_user_create(
                actor=None,
                username="approver",
                password=None,
                roles=[Role.APPROVER.value],
                approver_level=1,
                home_branch=Branch.objects.get(is_head_office=True),
                email="approver@closing.example",
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
                penalty_kind="flat",
                penalty_flat_minor=50_00,
                penalty_grace_days=3,
            )
            application = loan_application_submit(
                actor=None,
                member_id=make_member("HO-000001").pk,
                product_id=product.pk,
                amount_minor=60_000_00,
                installments=12,
                applied_on=paid_out,
            ).application
            loan_application_decide(actor=approver, application_id=application.pk, decision="approved")
            loan = loan_disburse(
                actor=None, application_id=application.pk, disbursed_on=paid_out, idempotency_key="d-1"
            )
        connection.close()
    return Book(cooperative, loan.pk, yesterday)


def _runs(book: Book) -> list[CloseOfBusinessRun]:
    with tenant_context(book.cooperative):
        return list(CloseOfBusinessRun.objects.all())


def test_beat_sends_the_close_to_the_workspace_and_it_closes_yesterday_once(
    worker_queue: str,  # noqa: F811
    book: Book,
    tmp_path: Path,
) -> None:
    # Hourly and for every live cooperative (no "tenant_schemas"); sent here to this workspace only,
    # so the shared test workspaces keep no close of their own.
    configured = settings.CELERY_BEAT_SCHEDULE[ENTRY]
    assert configured == {"task": "core_banking.lending.tasks.close_of_business_daily", "schedule": 3600}
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
    while not _runs(book) and time.monotonic() < deadline:
        time.sleep(0.2)
    scheduler.apply_entry(entry, producer=None)
    with tenant_context(book.cooperative):
        again = close_of_business_daily.apply_async(queue=worker_queue).get(timeout=60)
    assert again == {"closed": [], "failed": None}

    (run,) = _runs(book)
    assert run.business_date == book.yesterday and run.finished_at is not None
    with tenant_context(book.cooperative):
        loan = Loan.objects.get(pk=book.loan_id)
        rows = list(LoanInstallment.objects.filter(loan=loan).order_by("number"))
        late = [row for row in rows if row.due_date < book.yesterday]
        penalised = [row for row in late if row.due_date + dt.timedelta(days=3) < book.yesterday]
        assert late and (book.yesterday - late[0].due_date).days > 30
        assert (loan.days_past_due, loan.arrears_as_of) == (
            (book.yesterday - late[0].due_date).days,
            book.yesterday,
        )
        assert [row.penalty_minor for row in rows] == [50_00 if row in penalised else 0 for row in rows]
        assert loan.overdue_minor == sum(
            row.principal_minor + row.interest_minor for row in late
        ) + 50_00 * len(penalised)
        # 25 % of Tk 60,000.00 (31–90 days past due) held for the head office, posted once.
        entry_row = JournalEntry.objects.get(idempotency_key=f"cob:{book.yesterday.isoformat()}:provision:HO")
        assert [
            (line.account.code, line.debit_minor, line.credit_minor) for line in entry_row.lines.all()
        ] == [
            ("5200", 15_000_00, 0),
            ("1390", 0, 15_000_00),
        ]
        assert run.counts["penalties_charged"] == len(penalised)


def test_the_task_refuses_to_run_outside_a_workspace(worker_queue: str, db: None) -> None:  # noqa: F811
    result = close_of_business_daily.apply_async(queue=worker_queue)
    with pytest.raises(RuntimeError, match="inside a cooperative's workspace"):
        result.get(timeout=30)


def test_closes_racing_for_one_date_close_it_once(book: Book) -> None:
    """Four closes of the same day at once, each in its own connection and committed transaction."""
    today = book.yesterday + dt.timedelta(days=1)
    runs = in_threads(4, lambda _number: close_of_business_run(business_date=today), book.cooperative)

    assert all(isinstance(run, CloseOfBusinessRun) for run in runs), runs
    assert len({run.pk for run in runs}) == 1
    with tenant_context(book.cooperative):
        assert CloseOfBusinessRun.objects.filter(business_date=today).count() == 1
        assert Loan.objects.get(pk=book.loan_id).arrears_as_of == today
        assert (
            JournalEntry.objects.filter(idempotency_key__startswith=f"cob:{today.isoformat()}:").count() <= 1
        )
