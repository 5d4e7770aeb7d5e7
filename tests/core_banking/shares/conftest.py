"""Share fixtures: members (rows made like the savings tests make them), share terms, staff users."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from core_banking.members.models import Member
from core_banking.organisation.models import Branch
from core_banking.savings.models import SavingsProduct
from core_banking.savings.services import savings_product_create
from core_banking.shares.exit_rules import unregister_exit_blocker
from core_banking.shares.models import ShareSettings
from core_banking.shares.services import share_settings_update
from core_banking.staff.services import staff_user_create
from tests.conftest import PASSWORD, Workspace
from tests.core_banking.savings.conftest import OPENED, make_member

DAY = dt.date(2026, 11, 24)

__all__ = ["DAY", "OPENED", "make_member"]


@pytest.fixture
def terms(in_alpha: Workspace) -> ShareSettings:
    """One share is Tk 100.00; a member holds 5 to 200 shares."""
    return share_settings_update(actor=None, nominal_value_minor=100_00, minimum_shares=5, maximum_shares=200)


@pytest.fixture
def member(in_alpha: Workspace) -> Member:
    return make_member("HO-000001")


@pytest.fixture
def br1_member(in_alpha: Workspace) -> Member:
    return make_member("BR1-000001", phone="+8801711000002", branch=Branch.objects.get(code="BR1"))


@pytest.fixture
def voluntary(in_alpha: Workspace) -> SavingsProduct:
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
def compulsory(in_alpha: Workspace) -> SavingsProduct:
    return savings_product_create(
        actor=None,
        code="CMP",
        name="Compulsory savings",
        kind="compulsory",
        annual_rate=Decimal("5.0"),
        rate_effective_from=OPENED,
        withdrawals_allowed=False,
        minimum_balance_minor=1_000_00,
    )


@pytest.fixture
def temporary_blockers() -> Iterator[list[str]]:
    """Names registered by a test are removed afterwards, so other tests see the shipped registry."""
    names: list[str] = []
    yield names
    for name in names:
        unregister_exit_blocker(name)


@pytest.fixture
def br1_manager(in_alpha: Workspace) -> str:
    """A branch manager of alpha limited to branch BR1 (members, transactions)."""
    staff_user_create(
        actor=None,
        username="br1-manager",
        password=PASSWORD,
        roles=["branch_manager"],
        home_branch=Branch.objects.get(code="BR1"),
    )
    return "br1-manager"
