"""Property: whatever sequence of money movements staff enter, the books stay right.

Random sequences of deposits, withdrawals, transfers, share purchases, corrections and office
vouchers (including ones the rules refuse) must leave every entry balanced, the trial balance at
zero, each account's balance equal to the sum of its postings, the savings and share sub-ledgers
equal to their control accounts, and the hash chain valid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from control_plane.errors import BusinessRuleViolation
from core_banking.ledger.models import Account, AccountDayBalance, JournalLine
from core_banking.ledger.services import LineSpec, journal_post, ledger_verify
from core_banking.organisation.models import Branch
from core_banking.reporting.selectors import trial_balance
from core_banking.savings.models import SavingsAccount, SavingsProduct, SavingsTransaction
from core_banking.savings.services import (
    savings_account_open,
    savings_correct,
    savings_deposit,
    savings_product_create,
    savings_transfer,
    savings_withdraw,
)
from core_banking.shares.models import ShareAccount
from core_banking.shares.services import share_purchase
from tests.core_banking.savings.conftest import OPENED, make_member

DAY = dt.date(2026, 6, 1)
amounts = st.integers(min_value=1, max_value=5_000_00)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), st.integers(0, 2), amounts),
        st.tuples(st.just("withdraw"), st.integers(0, 2), amounts),
        st.tuples(st.just("transfer"), st.integers(0, 1), amounts),
        st.tuples(st.just("shares"), st.integers(0, 1), st.integers(1, 30)),
        st.tuples(st.just("correct"), st.integers(0, 50), st.integers(0, 5_000_00)),
        st.tuples(st.just("voucher"), st.integers(0, 1), amounts),
    ),
    min_size=1,
    max_size=25,
)


@pytest.fixture
def books(in_alpha: object) -> dict[str, Any]:
    """Two members; the first holds two accounts (transfers), the second one."""
    voluntary = savings_product_create(
        actor=None,
        code="VOL",
        name="Voluntary",
        kind="voluntary",
        annual_rate=Decimal("5"),
        rate_effective_from=OPENED,
    )
    compulsory = savings_product_create(
        actor=None,
        code="CMP",
        name="Compulsory",
        kind="compulsory",
        annual_rate=Decimal("4"),
        rate_effective_from=OPENED,
    )
    first, second = make_member("HO-700001"), make_member("HO-700002")
    accounts = [
        savings_account_open(actor=None, member=first, product=voluntary, opened_on=OPENED),
        savings_account_open(actor=None, member=first, product=compulsory, opened_on=OPENED),
        savings_account_open(actor=None, member=second, product=voluntary, opened_on=OPENED),
    ]
    return {"accounts": [a.pk for a in accounts], "members": [first.pk, second.pk]}


def _apply(step: int, operation: tuple[Any, ...], books: dict[str, Any], done: list[int]) -> None:
    kind, which, amount = operation
    key = f"prop-{step}"
    accounts: list[int] = books["accounts"]
    if kind == "deposit":
        done.append(
            savings_deposit(
                account_id=accounts[which], amount_minor=amount, value_date=DAY, idempotency_key=key
            ).pk
        )
    elif kind == "withdraw":
        done.append(
            savings_withdraw(
                account_id=accounts[which], amount_minor=amount, value_date=DAY, idempotency_key=key
            ).pk
        )
    elif kind == "transfer":
        source, target = (accounts[0], accounts[1]) if which == 0 else (accounts[1], accounts[0])
        savings_transfer(
            from_account_id=source,
            to_account_id=target,
            amount_minor=amount,
            value_date=DAY,
            idempotency_key=key,
        )
    elif kind == "shares":
        share_purchase(member_id=books["members"][which], shares=amount, value_date=DAY, idempotency_key=key)
    elif kind == "correct" and done:
        savings_correct(
            transaction_id=done[which % len(done)],
            corrected_amount_minor=amount,
            reason="Property check",
            idempotency_key=key,
            value_date=DAY,
        )
    elif kind == "voucher":
        # An office receipt (a fee) or payment (an expense) at the head office.
        branch = Branch.objects.get(is_head_office=True)
        cash = f"1100-{branch.code}"
        other = Account.objects.filter(kind="income" if which == 0 else "expense", is_active=True).order_by(
            "code"
        )[0]
        lines = (
            [LineSpec(cash, debit_minor=amount), LineSpec(other.code, credit_minor=amount)]
            if which == 0
            else [LineSpec(other.code, debit_minor=amount), LineSpec(cash, credit_minor=amount)]
        )
        journal_post(idempotency_key=key, value_date=DAY, branch=branch, lines=lines, memo="Voucher")


def _check_the_books() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT entry_id FROM ledger_journalline GROUP BY entry_id "
            "HAVING SUM(debit_minor) <> SUM(credit_minor) OR COUNT(*) < 2"
        )
        assert cursor.fetchall() == []
    report = trial_balance(end=DAY, branch_ids=None)
    assert report.closing_debit_minor == report.closing_credit_minor
    assert report.period_debit_minor == report.period_credit_minor
    # The day balances the reports read equal the journal's own lines, account by account.
    journal: dict[int, tuple[int, int]] = {}
    for line in JournalLine.objects.values("account_id", "debit_minor", "credit_minor"):
        debit, credit = journal.get(line["account_id"], (0, 0))
        journal[line["account_id"]] = (debit + line["debit_minor"], credit + line["credit_minor"])
    kept: dict[int, tuple[int, int]] = {}
    for row in AccountDayBalance.objects.values("account_id", "debit_minor", "credit_minor"):
        debit, credit = kept.get(row["account_id"], (0, 0))
        kept[row["account_id"]] = (debit + row["debit_minor"], credit + row["credit_minor"])
    assert kept == journal
    # Each savings account is the sum of its history, and each product's accounts its control account.
    for account in SavingsAccount.objects.all():
        history = sum(
            SavingsTransaction.objects.filter(account=account).values_list("amount_minor", flat=True)
        )
        assert account.balance_minor == history >= 0
    for product in SavingsProduct.objects.select_related("control_account"):
        debit, credit = journal.get(product.control_account_id, (0, 0))
        held = sum(SavingsAccount.objects.filter(product=product).values_list("balance_minor", flat=True))
        assert credit - debit == held
    share_capital = Account.objects.get(code="3100")
    debit, credit = journal.get(share_capital.pk, (0, 0))
    assert credit - debit == sum(ShareAccount.objects.values_list("balance_minor", flat=True))
    assert ledger_verify().reason == ""


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_any_sequence_of_movements_keeps_the_books_right(
    books: dict[str, Any], steps: list[tuple[Any, ...]]
) -> None:
    with transaction.atomic():  # each example starts from the same books
        done: list[int] = []
        for step, operation in enumerate(steps):
            try:
                with transaction.atomic():
                    _apply(step, operation, books, done)
            except BusinessRuleViolation:
                pass  # a refused movement must leave nothing behind: the checks below see to it
        _check_the_books()
        transaction.set_rollback(True)
