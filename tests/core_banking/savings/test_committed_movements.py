"""Deposits and withdrawals that really commit: the one-statement deposit, replays and races.

Each call runs in a thread of its own with its own connection outside any transaction, as a
teller's request does; the workspace is one of this module's own (committed rows stay).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import translation
from django_tenants.utils import tenant_context

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import AccountDayBalance, JournalEntry, LedgerState
from core_banking.ledger.services import LineSpec, ledger_verify, payload_hash
from core_banking.savings import services as savings_services
from core_banking.savings.models import SavingsAccount, SavingsTransaction
from core_banking.savings.services import (
    savings_account_open,
    savings_deposit,
    savings_product_create,
    savings_withdraw,
)
from notifications.models import OutboxMessage
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.core_banking.savings.conftest import OPENED, make_member
from tests.core_banking.threads import in_threads

DAY = dt.date(2026, 11, 23)
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def books(django_db_setup: None, django_db_blocker: Any) -> Cooperative:
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Committed savings", slug=f"sav-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@savings.example"),
        )
        with tenant_context(cooperative):
            savings_product_create(
                actor=None,
                code="VOL",
                name="Voluntary savings",
                kind="voluntary",
                annual_rate=Decimal("6"),
                rate_effective_from=OPENED,
            )
        connection.close()
    return cooperative


def _new_account(books: Cooperative, number: str) -> int:
    def open_account(_number: int) -> int:
        from core_banking.savings.models import SavingsProduct

        product = SavingsProduct.objects.get(code="VOL")
        return savings_account_open(
            actor=None, member=make_member(number), product=product, opened_on=OPENED
        ).pk

    (account_id,) = in_threads(1, open_account, books)
    assert isinstance(account_id, int), account_id
    return account_id


def _in_bangla(text: str) -> str:
    with translation.override("bn"):
        return translation.gettext(text)


def _deposit(account_id: int, amount: int, key: str) -> SavingsTransaction:
    return savings_deposit(account_id=account_id, amount_minor=amount, value_date=DAY, idempotency_key=key)


def _one(books: Cooperative, work: Any) -> Any:
    (result,) = in_threads(1, lambda _number: work(), books)
    if isinstance(result, Exception):
        raise result
    return result


def test_a_teller_deposit_writes_everything_in_one_statement(books: Cooperative) -> None:
    account_id = _new_account(books, "HO-100001")
    before = savings_services._deposit_target.cache_info()
    movement = _one(books, lambda: _deposit(account_id, 1_250_00, "one-statement"))
    assert savings_services._deposit_target.cache_info().misses == before.misses + 1  # the fast path ran
    assert movement.balance_after_minor == 1_250_00 and movement.amount_minor == 1_250_00
    with tenant_context(books):
        account = SavingsAccount.objects.select_related("branch").get(pk=account_id)
        assert account.balance_minor == 1_250_00
        stored = SavingsTransaction.objects.get(idempotency_key="one-statement")
        assert (stored.pk, stored.entry_id, stored.balance_after_minor) == (
            movement.pk,
            movement.entry_id,
            1_250_00,
        )
        entry = JournalEntry.objects.get(pk=movement.entry_id)
        lines = [(line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.all()]
        assert lines == [(f"1100-{account.branch.code}", 1_250_00, 0), ("2100-VOL", 0, 1_250_00)]
        assert entry.memo == f"{_in_bangla('Deposit')} {account.number}"  # the cooperative's language
        # The content hash is the ledger's own, so a replay through any path is recognised.
        assert entry.payload_hash == payload_hash(
            value_date=DAY,
            branch_code=account.branch.code,
            memo=entry.memo,
            reverses_id=None,
            lines=[LineSpec(code, debit, credit) for code, debit, credit in lines],
        )
        message = OutboxMessage.objects.get(source_ref="one-statement")
        assert message.kind == "savings_deposit" and message.status == "pending"
        assert message.context["amount_minor"] == 1_250_00 and message.context["balance_minor"] == 1_250_00
        assert AccountDayBalance.objects.get(account__code="2100-VOL", day=DAY).credit_minor >= 1_250_00
        assert ledger_verify().reason == ""


def test_the_same_key_again_returns_the_first_deposit_and_other_content_is_refused(
    books: Cooperative,
) -> None:
    account_id = _new_account(books, "HO-100002")
    first = _one(books, lambda: _deposit(account_id, 300_00, "again"))
    replay = _one(books, lambda: _deposit(account_id, 300_00, "again"))
    assert (replay.pk, replay.entry_id) == (first.pk, first.entry_id)
    with pytest.raises(BusinessRuleViolation) as refused:
        _one(books, lambda: _deposit(account_id, 301_00, "again"))
    assert refused.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    with tenant_context(books):
        assert SavingsAccount.objects.get(pk=account_id).balance_minor == 300_00
        assert JournalEntry.objects.filter(idempotency_key="again").count() == 1
        assert OutboxMessage.objects.filter(source_ref="again").count() == 1


def test_racing_deposits_under_one_key_post_once(books: Cooperative) -> None:
    account_id = _new_account(books, "HO-100003")
    results = in_threads(6, lambda _number: _deposit(account_id, 50_00, "raced").pk, books)
    assert all(isinstance(result, int) for result in results), results
    assert len(set(results)) == 1
    with tenant_context(books):
        assert SavingsAccount.objects.get(pk=account_id).balance_minor == 50_00
        assert JournalEntry.objects.filter(idempotency_key="raced").count() == 1


def test_racing_deposits_to_one_account_all_land(books: Cooperative) -> None:
    account_id = _new_account(books, "HO-100004")
    results = in_threads(8, lambda number: _deposit(account_id, 10_00 + number, f"many-{number}"), books)
    assert all(isinstance(result, SavingsTransaction) for result in results), results
    with tenant_context(books):
        assert SavingsAccount.objects.get(pk=account_id).balance_minor == sum(10_00 + n for n in range(8))
        assert ledger_verify().reason == ""


def test_racing_withdrawals_cannot_both_pass(books: Cooperative) -> None:
    account_id = _new_account(books, "HO-100005")
    _one(books, lambda: _deposit(account_id, 1_000_00, "fund"))

    def withdraw(number: int) -> Any:
        return savings_withdraw(
            account_id=account_id, amount_minor=700_00, value_date=DAY, idempotency_key=f"take-{number}"
        )

    results = in_threads(6, withdraw, books)
    paid = [result for result in results if isinstance(result, SavingsTransaction)]
    refused = [result for result in results if isinstance(result, BusinessRuleViolation)]
    assert len(paid) == 1 and len(refused) == 5, results
    assert {error.code for error in refused} == {ErrorCode.INSUFFICIENT_BALANCE}
    with tenant_context(books):
        assert SavingsAccount.objects.get(pk=account_id).balance_minor == 300_00
        assert SavingsTransaction.objects.filter(account_id=account_id, kind="withdrawal").count() == 1


def test_a_deposit_the_one_statement_cannot_take_is_explained_and_writes_nothing(books: Cooperative) -> None:
    account_id = _new_account(books, "HO-100006")
    _one(books, lambda: _deposit(account_id, 20_00, "before-close"))  # the account is now cached
    # The test's own connection is inside a transaction that never commits: settings change in threads.
    _one(books, lambda: LedgerState.objects.update(closed_through=DAY))
    try:
        with pytest.raises(BusinessRuleViolation) as closed:
            _one(books, lambda: _deposit(account_id, 5_00, "into-closed-day"))
    finally:
        _one(books, lambda: LedgerState.objects.update(closed_through=None))
    assert closed.value.code == ErrorCode.PERIOD_CLOSED
    _one(books, lambda: SavingsAccount.objects.filter(pk=account_id).update(status="closed"))
    with pytest.raises(BusinessRuleViolation) as inactive:
        _one(books, lambda: _deposit(account_id, 5_00, "into-closed-account"))
    assert inactive.value.code != ErrorCode.PERIOD_CLOSED
    with tenant_context(books):
        assert SavingsAccount.objects.get(pk=account_id).balance_minor == 20_00
        assert not JournalEntry.objects.filter(idempotency_key__startswith="into-closed").exists()
        assert not OutboxMessage.objects.filter(source_ref__startswith="into-closed").exists()
