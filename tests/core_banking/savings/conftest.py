"""Savings fixtures: a product and members with accounts, made through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core_banking.members.models import Member, MemberType
from core_banking.organisation.models import Branch
from core_banking.savings.models import SavingsAccount, SavingsProduct
from core_banking.savings.services import savings_account_open, savings_product_create

OPENED = dt.date(2026, 1, 5)


def make_member(number: str, *, phone: str = "+8801711000001", branch: Branch | None = None) -> Member:
    """A member row for savings tests (the member service is tested on its own)."""
    member_type, _created = MemberType.objects.get_or_create(code="ORD", defaults={"name": "Ordinary"})
    return Member.objects.create(
        number=number,
        branch=branch or Branch.objects.get(is_head_office=True),
        member_type=member_type,
        full_name=f"Member {number}",
        phone=phone,
        message_language="bn",
        join_date=OPENED,
    )


@pytest.fixture
def voluntary(in_alpha: object) -> SavingsProduct:
    return savings_product_create(
        actor=None,
        code="VOL",
        name="Voluntary savings",
        kind="voluntary",
        annual_rate=Decimal("6.0"),
        rate_effective_from=OPENED,
        minimum_balance_minor=500_00,
    )


@pytest.fixture
def fdr(in_alpha: object) -> SavingsProduct:
    """A one-year fixed deposit at 8 %, interest credited quarterly, 2 points off if closed early."""
    return savings_product_create(
        actor=None,
        code="FDR",
        name="Fixed deposit",
        kind="fixed",
        annual_rate=Decimal("8"),
        rate_effective_from=dt.date(2020, 1, 1),
        term_months=12,
        posting_period="quarterly",
        withdrawals_allowed=False,
        premature_rate_reduction=Decimal("2"),
    )


@pytest.fixture
def member(in_alpha: object) -> Member:
    return make_member("HO-000001")


@pytest.fixture
def account(voluntary: SavingsProduct, member: Member) -> SavingsAccount:
    return savings_account_open(actor=None, member=member, product=voluntary, opened_on=OPENED)
