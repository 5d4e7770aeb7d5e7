"""A holiday added after disbursement, or a group meeting on another day, moves live loans' future
due dates, with an audit record. Dates are relative to the workspace's business date (today on
its clock), which is what the rescheduling keeps fixed: instalments already due stay as they are."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from control_plane.audit.models import AuditEvent
from core_banking.lending.models import Loan, LoanInstallment, LoanProduct
from core_banking.lending.services import loan_disburse, loan_product_create
from core_banking.members.models import Member
from core_banking.members.services import GroupData, group_create, group_data_of, group_update
from core_banking.organisation.services import holiday_create
from tenants.db import workspace_business_date
from tests.core_banking.lending.test_workflow import _approved

pytestmark = pytest.mark.django_db


def _due_dates(loan_id: int) -> list[dt.date]:
    return list(
        LoanInstallment.objects.filter(loan_id=loan_id).order_by("number").values_list("due_date", flat=True)
    )


def _interest(loan_id: int) -> list[int]:
    rows = LoanInstallment.objects.filter(loan_id=loan_id).order_by("number")
    return list(rows.values_list("interest_minor", flat=True))


def _disbursed(staff: dict[str, Any], borrower: Member, product: LoanProduct, on: dt.date) -> Loan:
    return loan_disburse(
        actor=None,
        application_id=_approved(staff, borrower, product).pk,
        disbursed_on=on,
        idempotency_key="disb",
    )


def test_a_new_holiday_moves_the_future_due_date_to_the_next_working_day(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    today = workspace_business_date()
    loan = _disbursed(staff, borrower, monthly_product, today - dt.timedelta(days=75))
    before, interest_before = _due_dates(loan.pk), _interest(loan.pk)
    # The first future due date that falls on a Monday to Wednesday: the next day is a working day
    # (Friday is the weekly day off in Bangladesh).
    index, day = next((i, d) for i, d in enumerate(before) if d > today and d.weekday() in (0, 1, 2))
    holiday_create(actor=None, day=day, name="Cooperative day")
    after = _due_dates(loan.pk)
    assert after[index] == day + dt.timedelta(days=1)
    assert after[:index] == before[:index] and after[index + 1 :] == before[index + 1 :]
    # Interest by the repayment period (30/360) does not change with the date.
    assert _interest(loan.pk) == interest_before
    event = AuditEvent.objects.filter(action="lending.loan.reschedule").get()
    moved = [index + 1, day.isoformat(), (day + dt.timedelta(days=1)).isoformat()]
    assert event.changes["moved"] == [[*moved, interest_before[index], interest_before[index]]]
    assert day.isoformat() in Loan.objects.get(pk=loan.pk).terms_json["holidays"]


def test_a_holiday_on_a_due_date_already_passed_moves_nothing(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    today = workspace_business_date()
    loan = _disbursed(staff, borrower, monthly_product, today - dt.timedelta(days=75))
    before = _due_dates(loan.pk)
    holiday_create(actor=None, day=before[0], name="Past day")
    assert _due_dates(loan.pk) == before
    assert not AuditEvent.objects.filter(action="lending.loan.reschedule").exists()


def test_a_new_group_meeting_day_moves_weekly_group_loans_to_it(
    staff: dict[str, Any], ladder: None, borrower: Member
) -> None:
    today = workspace_business_date()
    group = group_create(
        actor=None, branch=borrower.branch, data=GroupData(code="G1", name="Shapla", meeting_weekday=1)
    )
    borrower.group = group
    borrower.save(update_fields=["group"])
    weekly = loan_product_create(
        actor=None,
        code="SAM",
        name="Samity loan",
        product_type="ordinary",
        annual_rate=Decimal("10"),
        rate_effective_from=dt.date(2025, 1, 1),
        default_installments=12,
        maximum_installments=52,
        interest_method="flat",
        frequency="weekly",
        follows_group_meetings=True,
        minimum_days_to_first_meeting=7,
    )
    loan = _disbursed(staff, borrower, weekly, today - dt.timedelta(days=20))
    before = _due_dates(loan.pk)
    assert all(day.weekday() == 1 for day in before)  # Tuesdays
    kept = [day for day in before if day <= today]
    group_update(actor=None, group=group, data=dataclasses.replace(group_data_of(group), meeting_weekday=2))
    after = _due_dates(loan.pk)
    assert len(after) == len(before)
    assert after[: len(kept)] == kept
    assert all(day.weekday() == 2 for day in after[len(kept) :])  # Wednesdays from now on
    principal = LoanInstallment.objects.filter(loan=loan).values_list("principal_minor", flat=True)
    assert sum(principal) == loan.principal_minor
    event = AuditEvent.objects.filter(action="lending.loan.reschedule").get()
    assert event.changes["reason"] == "meeting_day_changed"
