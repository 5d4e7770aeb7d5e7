"""Lending page and document fixtures: an approved and a paid-out loan, made through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core_banking.lending.models import Loan, LoanApplication, LoanProduct
from core_banking.lending.services import (
    GuarantorInput,
    loan_application_decide,
    loan_application_submit,
    loan_disburse,
)
from core_banking.members.models import Member
from core_banking.organisation.models import Branch
from core_banking.savings.models import SavingsProduct
from core_banking.savings.services import savings_product_create
from tests.core_banking.lending.conftest import APPLIED, DISBURSED
from tests.core_banking.savings.conftest import OPENED, make_member

PRINCIPAL = 120_000_00
EMI = 10_661_85  # 1,20,000 at 1 % a month over 12 months (see test_workflow)


@pytest.fixture(name="voluntary_savings")
def voluntary_savings_fixture(in_alpha: object) -> SavingsProduct:
    return savings_product_create(
        actor=None,
        code="VOL",
        name="Voluntary savings",
        kind="voluntary",
        annual_rate=Decimal("6.0"),
        rate_effective_from=OPENED,
    )


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Documents stored by a test land in its own folder, never in the development media root."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def approved_application(
    staff: dict[str, Any],
    member: Member,
    product: LoanProduct,
    *,
    amount_minor: int = PRINCIPAL,
    guarantors: tuple[GuarantorInput, ...] = (),
) -> LoanApplication:
    application = loan_application_submit(
        actor=staff["officer"],
        member_id=member.pk,
        product_id=product.pk,
        amount_minor=amount_minor,
        installments=12,
        applied_on=APPLIED,
        purpose="Rickshaw van",
        guarantors=guarantors,
    ).application
    for approver in ("approver1", "approver2"):
        application.refresh_from_db()
        if application.status == "submitted":
            loan_application_decide(actor=staff[approver], application_id=application.pk, decision="approved")
    application.refresh_from_db()
    return application


@dataclass(frozen=True)
class Book:
    loan: Loan
    application: LoanApplication
    borrower: Member
    guarantor: Member


@pytest.fixture(name="book")
def book_fixture(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member, guarantor: Member
) -> Book:
    """A Tk 1,20,000 loan at the head office, paid out on 5 February 2026, with one guarantor."""
    application = approved_application(
        staff, borrower, monthly_product, guarantors=(GuarantorInput(guarantor.pk, None, 50_000_00),)
    )
    loan = loan_disburse(
        actor=staff["teller"],
        application_id=application.pk,
        disbursed_on=DISBURSED,
        idempotency_key="disb-book",
    )
    return Book(loan, application, borrower, guarantor)


@pytest.fixture(name="br1_loan")
def br1_loan_fixture(staff: dict[str, Any], ladder: None, monthly_product: LoanProduct) -> Loan:
    member = make_member("BR1-000201", phone="+8801711000201", branch=Branch.objects.get(code="BR1"))
    member.join_date = dt.date(2020, 1, 1)
    member.save(update_fields=["join_date"])
    application = approved_application(staff, member, monthly_product, amount_minor=50_000_00)
    return loan_disburse(
        actor=staff["teller"],
        application_id=application.pk,
        disbursed_on=DISBURSED,
        idempotency_key="disb-br1",
    )
