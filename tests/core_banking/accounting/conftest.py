"""Accounting fixtures: alpha's branches, an accountant each side of maker-checker, voucher helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from control_plane.identity.models import User
from core_banking.accounting.models import Voucher
from core_banking.accounting.services import VoucherLine, voucher_post
from core_banking.organisation.models import Branch
from core_banking.staff.services import staff_user_create
from tests.conftest import PASSWORD, Workspace, workspace_client

# Alpha is a Bangladeshi samity: its fiscal year runs July to June (2025-26 ends 30 June 2026).
DAY = dt.date(2026, 10, 5)


@pytest.fixture
def head_office(in_alpha: Workspace) -> Branch:
    return Branch.objects.get(is_head_office=True)


@pytest.fixture
def branch_one(in_alpha: Workspace) -> Branch:
    return Branch.objects.get(code="BR1")


@pytest.fixture
def maker(in_alpha: Workspace) -> User:
    return User.objects.get(username="clerk0")  # an accountant of the head office


@pytest.fixture
def checker(in_alpha: Workspace) -> User:
    return User.objects.get(username="clerk1")


@pytest.fixture
def br1_accountant(in_alpha: Workspace) -> User:
    """An accountant who sees branch BR1 only."""
    return staff_user_create(
        actor=None,
        username="br1-accountant",
        password=PASSWORD,
        roles=["accountant"],
        home_branch=Branch.objects.get(code="BR1"),
    )


def receipt(
    branch: Branch,
    key: str,
    *lines: tuple[str, int],
    day: dt.date = DAY,
    actor: Any | None = None,
    narration: str = "Fees received",
) -> Voucher:
    """A receipt voucher into the branch's cash: (account code, credit in minor units) per line."""
    return voucher_post(
        actor=actor,
        branch=branch,
        kind="receipt",
        value_date=day,
        narration=narration,
        lines=[VoucherLine(code, credit_minor=amount) for code, amount in lines],
        idempotency_key=key,
    ).voucher


def payment(
    branch: Branch, key: str, *lines: tuple[str, int], day: dt.date = DAY, actor: Any | None = None
) -> Voucher:
    return voucher_post(
        actor=actor,
        branch=branch,
        kind="payment",
        value_date=day,
        narration="Office expenses",
        lines=[VoucherLine(code, debit_minor=amount) for code, amount in lines],
        idempotency_key=key,
    ).voucher


def entry_lines(voucher: Voucher) -> list[tuple[str, int, int]]:
    return [
        (line.account.code, line.debit_minor, line.credit_minor)
        for line in voucher.entry.lines.select_related("account").order_by("id")
    ]


def english_client(workspace: Workspace, username: str) -> Client:
    """A logged-in client reading English, whatever the cooperative's language: messages are compared."""
    client = workspace_client(workspace, username=username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client
