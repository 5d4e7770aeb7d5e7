"""Lending fixtures: a product, an approval ladder, staff with roles, members — made through services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum

from core_banking.ledger.models import JournalLine
from core_banking.lending.models import LoanProduct
from core_banking.lending.services import approval_levels_set, loan_product_create
from core_banking.members.models import Member
from core_banking.organisation.models import Branch
from core_banking.staff.roles import Role
from core_banking.staff.services import staff_user_create
from tests.conftest import PASSWORD
from tests.core_banking.savings.conftest import make_member

APPLIED = dt.date(2026, 2, 2)
DISBURSED = dt.date(2026, 2, 5)


def ledger_balance(code: str) -> int:
    """Debits minus credits of one account over the whole journal (minor units)."""
    sums = JournalLine.objects.filter(account__code=code).aggregate(
        d=Sum("debit_minor"), c=Sum("credit_minor")
    )
    return int(sums["d"] or 0) - int(sums["c"] or 0)


def journal_balanced() -> bool:
    sums = JournalLine.objects.aggregate(d=Sum("debit_minor"), c=Sum("credit_minor"))
    return sums["d"] == sums["c"]


@pytest.fixture
def staff(in_alpha: object) -> dict[str, Any]:
    head_office = Branch.objects.get(is_head_office=True)
    return {
        "officer": staff_user_create(
            actor=None,
            username="loan-officer",
            password=PASSWORD,
            roles=[Role.LOAN_OFFICER.value],
            home_branch=head_office,
        ),
        "approver1": staff_user_create(
            actor=None,
            username="approver-one",
            password=PASSWORD,
            roles=[Role.APPROVER.value],
            approver_level=1,
            home_branch=head_office,
        ),
        "approver2": staff_user_create(
            actor=None,
            username="approver-two",
            password=PASSWORD,
            roles=[Role.APPROVER.value],
            approver_level=2,
            home_branch=head_office,
            all_branches=True,
        ),
        "teller": staff_user_create(
            actor=None,
            username="teller",
            password=PASSWORD,
            roles=[Role.ACCOUNTANT.value],
            home_branch=head_office,
        ),
    }


@pytest.fixture
def ladder(in_alpha: object) -> None:
    """Every loan needs level 1; loans above Tk 1,00,000 also need level 2."""
    approval_levels_set(actor=None, levels=[(1, 0), (2, 100_000_00)])


@pytest.fixture
def monthly_product(in_alpha: object) -> LoanProduct:
    """12 % a year, declining balance, equal monthly instalments, 30/360: 1 % a month exactly.

    A 2 % fee deducted at disbursement; a Tk 50 penalty per instalment 3 days late.
    """
    return loan_product_create(
        actor=None,
        code="GEN",
        name="General loan",
        product_type="ordinary",
        annual_rate=Decimal("12"),
        rate_effective_from=dt.date(2025, 1, 1),
        default_installments=12,
        maximum_installments=24,
        interest_method="declining",
        amortization="equal_installments",
        interest_period="same_as_repayment",
        days_in_year="360",
        days_in_month="30",
        frequency="monthly",
        minimum_amount_minor=5_000_00,
        maximum_amount_minor=500_000_00,
        fee_kind="percent",
        fee_percent=Decimal("2"),
        penalty_kind="flat",
        penalty_flat_minor=50_00,
        penalty_grace_days=3,
    )


@pytest.fixture
def borrower(in_alpha: object) -> Member:
    member = make_member("HO-000101", phone="+8801711000101")
    member.join_date = dt.date(2020, 1, 1)
    member.save(update_fields=["join_date"])
    return member


@pytest.fixture
def guarantor(in_alpha: object) -> Member:
    return make_member("HO-000102", phone="+8801711000102")
