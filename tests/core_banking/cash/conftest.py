"""Cash custody fixtures: alpha's head office with opening cash in its vault, and the people who handle it.

- ``manager`` keeps the head office vault (branch manager);
- ``teller`` is an accountant at the head office (holds a till, and may also keep the vault);
- ``field`` is a field officer at the head office;
- alpha's ``alpha-only`` field officer works at branch BR1 only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from control_plane.identity.models import User
from core_banking.cash.services import cash_handover_confirm, cash_handover_send
from core_banking.ledger.services import LineSpec, journal_post
from core_banking.organisation.models import Branch
from core_banking.staff.services import staff_user_create
from tests.conftest import PASSWORD, Workspace

DAY = dt.date(2026, 11, 2)
OPENING_MINOR = 100_000_00  # Tk 1,00,000.00 in the head office vault


def make_staff(username: str, roles: list[str], branch: Branch | None = None) -> User:
    return staff_user_create(
        actor=None,
        username=username,
        password=PASSWORD,
        roles=roles,
        home_branch=branch or Branch.objects.get(is_head_office=True),
        first_name=username.title(),
    )


@pytest.fixture
def head_office(in_alpha: Workspace) -> Branch:
    branch = Branch.objects.get(is_head_office=True)
    journal_post(
        idempotency_key="opening-cash",
        value_date=DAY - dt.timedelta(days=1),
        branch=branch,
        memo="Opening cash",
        lines=[LineSpec("1100-HO", debit_minor=OPENING_MINOR), LineSpec("3100", credit_minor=OPENING_MINOR)],
    )
    return branch


@pytest.fixture
def manager(head_office: Branch) -> User:
    return make_staff("vault-keeper", ["branch_manager"])


@pytest.fixture
def teller(head_office: Branch) -> User:
    return make_staff("teller", ["accountant"])


@pytest.fixture
def field(head_office: Branch) -> User:
    return make_staff("field-ho", ["field_officer"])


def give_teller(manager: User, teller: User, branch: Branch, amount_minor: int, key: str = "float-1") -> Any:
    """The vault hands cash to the teller, who confirms it."""
    handover = cash_handover_send(
        actor=manager,
        branch=branch,
        giver_user=None,
        receiver_user=teller,
        amount_minor=amount_minor,
        value_date=DAY,
        idempotency_key=key,
    )
    return cash_handover_confirm(actor=teller, handover_id=handover.pk)
