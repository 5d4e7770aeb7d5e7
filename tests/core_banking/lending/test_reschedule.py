"""A holiday added after disbursement moves live loans' future due dates, with an audit record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from control_plane.audit.models import AuditEvent
from core_banking.lending.models import LoanInstallment, LoanProduct
from core_banking.lending.services import loan_disburse, loan_repay
from core_banking.members.models import Member
from core_banking.organisation.services import holiday_create
from tests.core_banking.lending.conftest import DISBURSED
from tests.core_banking.lending.test_workflow import EMI, _approved

pytestmark = pytest.mark.django_db


def _due_dates(loan_id: int) -> list[dt.date]:
    return list(
        LoanInstallment.objects.filter(loan_id=loan_id).order_by("number").values_list("due_date", flat=True)
    )


def test_a_new_holiday_moves_the_future_due_date_to_the_next_working_day(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    loan = loan_disburse(
        actor=None,
        application_id=_approved(staff, borrower, monthly_product).pk,
        disbursed_on=DISBURSED,
        idempotency_key="disb",
    )
    loan_repay(
        actor=None, loan_id=loan.pk, amount_minor=EMI, value_date=dt.date(2026, 3, 5), idempotency_key="r"
    )
    before = _due_dates(loan.pk)
    interest_before = list(
        LoanInstallment.objects.filter(loan=loan).order_by("number").values_list("interest_minor", flat=True)
    )
    assert before[10] == dt.date(2027, 1, 5)  # a Tuesday
    holiday_create(actor=None, day=dt.date(2027, 1, 5), name="Cooperative day")
    after = _due_dates(loan.pk)
    assert after[10] == dt.date(2027, 1, 6)
    assert after[:10] == before[:10] and after[11:] == before[11:]
    # Interest by the repayment period (30/360) does not change with the date.
    assert list(
        LoanInstallment.objects.filter(loan=loan).order_by("number").values_list("interest_minor", flat=True)
    ) == (interest_before)
    event = AuditEvent.objects.filter(action="lending.loan.reschedule").get()
    assert event.changes["moved"] == [
        [11, "2027-01-05", "2027-01-06", interest_before[10], interest_before[10]]
    ]
    assert "2027-01-05" in loan.__class__.objects.get(pk=loan.pk).terms_json["holidays"]


def test_a_holiday_in_the_past_or_on_paid_instalments_moves_nothing(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    loan = loan_disburse(
        actor=None,
        application_id=_approved(staff, borrower, monthly_product).pk,
        disbursed_on=DISBURSED,
        idempotency_key="disb",
    )
    before = _due_dates(loan.pk)
    holiday_create(actor=None, day=dt.date(2026, 3, 5), name="Past day")
    assert _due_dates(loan.pk) == before
    assert not AuditEvent.objects.filter(action="lending.loan.reschedule").exists()
