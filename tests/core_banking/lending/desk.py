"""A lending desk in the current workspace: a loan officer, a level-1 approver and a 12-month product,
and a Tk 1,20,000 loan disbursed through the services (application, approval, disbursement).

For tests whose loans must be committed (threads, workers): they build them with these, inside their
own provisioned workspace, rather than with the rolled-back fixtures of ``conftest``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core_banking.lending.models import Loan, LoanProduct
from core_banking.lending.services import (
    loan_application_decide,
    loan_application_submit,
    loan_disburse,
    loan_product_create,
)
from core_banking.organisation.models import Branch
from core_banking.staff.roles import Role
from core_banking.staff.services import staff_user_create

PRINCIPAL = 120_000_00


@dataclass(frozen=True)
class LendingDesk:
    head_office: Branch
    officer: Any
    approver: Any
    product: LoanProduct


def lending_desk(*, password: str) -> LendingDesk:
    head_office = Branch.objects.get(is_head_office=True)
    officer = staff_user_create(
        actor=None,
        username="officer",
        password=password,
        roles=[Role.LOAN_OFFICER.value],
        home_branch=head_office,
    )
    approver = staff_user_create(
        actor=None,
        username="approver",
        password=password,
        roles=[Role.APPROVER.value],
        approver_level=1,
        home_branch=head_office,
    )
    product = loan_product_create(
        actor=None,
        code="GEN",
        name="General loan",
        product_type="ordinary",
        annual_rate=Decimal("12"),
        rate_effective_from=dt.date(2025, 1, 1),
        default_installments=12,
        maximum_installments=12,
        interest_method="declining",
        days_in_year="360",
        days_in_month="30",
        frequency="monthly",
    )
    return LendingDesk(head_office=head_office, officer=officer, approver=approver, product=product)


def disbursed_loan(desk: LendingDesk, member: Any, *, idempotency_key: str = "disb") -> Loan:
    """Tk 1,20,000 over 12 months, applied for on 2 February 2026 and paid out on the 5th."""
    application = loan_application_submit(
        actor=desk.officer,
        member_id=member.pk,
        product_id=desk.product.pk,
        amount_minor=PRINCIPAL,
        installments=12,
        applied_on=dt.date(2026, 2, 2),
    ).application
    loan_application_decide(actor=desk.approver, application_id=application.pk, decision="approved")
    return loan_disburse(
        actor=None,
        application_id=application.pk,
        disbursed_on=dt.date(2026, 2, 5),
        idempotency_key=idempotency_key,
    )
