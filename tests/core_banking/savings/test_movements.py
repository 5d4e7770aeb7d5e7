"""Deposits, withdrawals, transfers and liens: exact amounts, one entry each, one SMS each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import AccountDayBalance, JournalEntry, LedgerState
from core_banking.ledger.services import ledger_verify
from core_banking.members.models import Member
from core_banking.savings.models import SavingsAccount, SavingsProduct, SavingsTransaction
from core_banking.savings.services import (
    lien_place,
    lien_release,
    savings_account_open,
    savings_deposit,
    savings_product_create,
    savings_transfer,
    savings_withdraw,
)
from notifications.models import OutboxMessage
from tests.core_banking.savings.conftest import OPENED, make_member

DAY = dt.date(2026, 11, 24)


def _net(code: str) -> int:
    rows = AccountDayBalance.objects.filter(account__code=code)
    return sum(row.credit_minor - row.debit_minor for row in rows)


def test_a_product_gets_its_own_control_account(voluntary: SavingsProduct) -> None:
    assert voluntary.control_account.code == "2100-VOL"
    assert voluntary.control_account.kind == "liability"
    assert voluntary.rates.get().annual_rate == Decimal("6.0000")


def test_a_deposit_posts_one_entry_moves_the_balance_and_queues_one_sms(account: SavingsAccount) -> None:
    movement = savings_deposit(
        account_id=account.pk, amount_minor=1_250_75, value_date=DAY, idempotency_key="d-1"
    )
    account.refresh_from_db()
    assert account.balance_minor == 1_250_75
    assert (movement.amount_minor, movement.balance_after_minor, movement.kind) == (
        1_250_75,
        1_250_75,
        "deposit",
    )
    entry = JournalEntry.objects.get(idempotency_key="d-1")
    assert [
        (line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")
    ] == [
        ("1100-HO", 1_250_75, 0),
        ("2100-VOL", 0, 1_250_75),
    ]
    assert _net("2100-VOL") == 1_250_75
    message = OutboxMessage.objects.get()
    assert (message.kind, message.source_ref, message.phone, message.language, message.status) == (
        "savings_deposit",
        "d-1",
        "+8801711000001",
        "bn",
        "pending",
    )
    assert message.context == {
        "amount_minor": 1_250_75,
        "balance_minor": 1_250_75,
        "currency": "BDT",
        "account": account.number,
        "value_date": "2026-11-24",
    }


def test_the_same_deposit_sent_twice_is_posted_once(account: SavingsAccount) -> None:
    first = savings_deposit(account_id=account.pk, amount_minor=300_00, value_date=DAY, idempotency_key="d-1")
    again = savings_deposit(account_id=account.pk, amount_minor=300_00, value_date=DAY, idempotency_key="d-1")
    assert again.pk == first.pk
    account.refresh_from_db()
    assert account.balance_minor == 300_00
    assert JournalEntry.objects.count() == 1 and OutboxMessage.objects.count() == 1
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_deposit(account_id=account.pk, amount_minor=301_00, value_date=DAY, idempotency_key="d-1")
    assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    account.refresh_from_db()
    assert account.balance_minor == 300_00


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_a_deposit_must_be_a_positive_whole_amount(account: SavingsAccount, amount: object) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_deposit(account_id=account.pk, amount_minor=amount, value_date=DAY, idempotency_key="bad")  # type: ignore[arg-type]
    assert raised.value.code == ErrorCode.AMOUNT_INVALID


def test_a_deposit_into_a_closed_period_writes_nothing(account: SavingsAccount) -> None:
    LedgerState.objects.update(closed_through=DAY)
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_deposit(account_id=account.pk, amount_minor=100, value_date=DAY, idempotency_key="late")
    assert raised.value.code == ErrorCode.PERIOD_CLOSED
    account.refresh_from_db()
    assert account.balance_minor == 0
    assert not SavingsTransaction.objects.exists() and not OutboxMessage.objects.exists()


def test_a_member_without_a_phone_gets_no_sms_and_staff_can_see_why(voluntary: SavingsProduct) -> None:
    silent = make_member("HO-000009", phone="")
    account = savings_account_open(actor=None, member=silent, product=voluntary, opened_on=OPENED)
    savings_deposit(account_id=account.pk, amount_minor=100, value_date=DAY, idempotency_key="d-9")
    assert OutboxMessage.objects.get().status == "no_recipient"


def test_withdrawals_keep_the_minimum_balance_and_never_overdraw(account: SavingsAccount) -> None:
    savings_deposit(account_id=account.pk, amount_minor=2_000_00, value_date=DAY, idempotency_key="d-1")
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_withdraw(account_id=account.pk, amount_minor=1_500_01, value_date=DAY, idempotency_key="w-1")
    assert raised.value.code == ErrorCode.INSUFFICIENT_BALANCE
    assert raised.value.fields == {"amount_minor": ["At most 150000."]}
    taken = savings_withdraw(
        account_id=account.pk, amount_minor=1_500_00, value_date=DAY, idempotency_key="w-2"
    )
    assert (taken.amount_minor, taken.balance_after_minor) == (-1_500_00, 500_00)
    entry = JournalEntry.objects.get(idempotency_key="w-2")
    assert [
        (line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")
    ] == [
        ("2100-VOL", 1_500_00, 0),
        ("1100-HO", 0, 1_500_00),
    ]
    assert OutboxMessage.objects.filter(kind="savings_withdrawal").count() == 1
    assert _net("2100-VOL") == 500_00


def test_a_lien_blocks_withdrawal_until_released(account: SavingsAccount) -> None:
    savings_deposit(account_id=account.pk, amount_minor=10_000_00, value_date=DAY, idempotency_key="d-1")
    lien = lien_place(
        actor=None, account_id=account.pk, amount_minor=8_000_00, reason="Security for loan L-1"
    )
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_withdraw(account_id=account.pk, amount_minor=2_000_00, value_date=DAY, idempotency_key="w-1")
    assert raised.value.code == ErrorCode.INSUFFICIENT_BALANCE
    assert "pledged" in raised.value.message
    savings_withdraw(account_id=account.pk, amount_minor=1_500_00, value_date=DAY, idempotency_key="w-2")
    lien_release(actor=None, lien_id=lien.pk)
    savings_withdraw(account_id=account.pk, amount_minor=8_000_00, value_date=DAY, idempotency_key="w-3")
    account.refresh_from_db()
    assert (account.balance_minor, account.lien_minor) == (500_00, 0)


def test_product_withdrawal_rules(in_alpha: object, member: Member) -> None:
    compulsory = savings_product_create(
        actor=None,
        code="CMP",
        name="Compulsory",
        kind="compulsory",
        annual_rate=Decimal("5"),
        rate_effective_from=OPENED,
        withdrawals_allowed=False,
    )
    limited = savings_product_create(
        actor=None,
        code="LIM",
        name="Limited",
        kind="voluntary",
        annual_rate=Decimal("5"),
        rate_effective_from=OPENED,
        maximum_withdrawal_minor=1_000_00,
        withdrawals_per_month=2,
    )
    locked_in = savings_account_open(actor=None, member=member, product=compulsory, opened_on=OPENED)
    free = savings_account_open(actor=None, member=member, product=limited, opened_on=OPENED)
    for account in (locked_in, free):
        savings_deposit(
            account_id=account.pk, amount_minor=5_000_00, value_date=DAY, idempotency_key=f"d-{account.pk}"
        )
    with pytest.raises(BusinessRuleViolation) as not_allowed:
        savings_withdraw(account_id=locked_in.pk, amount_minor=100, value_date=DAY, idempotency_key="w-0")
    assert not_allowed.value.code == ErrorCode.WITHDRAWAL_NOT_ALLOWED
    with pytest.raises(BusinessRuleViolation) as too_big:
        savings_withdraw(account_id=free.pk, amount_minor=1_000_01, value_date=DAY, idempotency_key="w-1")
    assert too_big.value.code == ErrorCode.WITHDRAWAL_LIMIT_EXCEEDED
    savings_withdraw(account_id=free.pk, amount_minor=100, value_date=DAY, idempotency_key="w-2")
    savings_withdraw(account_id=free.pk, amount_minor=100, value_date=DAY, idempotency_key="w-3")
    with pytest.raises(BusinessRuleViolation) as third:
        savings_withdraw(account_id=free.pk, amount_minor=100, value_date=DAY, idempotency_key="w-4")
    assert third.value.code == ErrorCode.WITHDRAWAL_LIMIT_EXCEEDED
    # A new month allows withdrawals again.
    savings_withdraw(
        account_id=free.pk, amount_minor=100, value_date=dt.date(2026, 12, 1), idempotency_key="w-5"
    )


def test_a_transfer_between_a_members_accounts_is_one_balanced_entry(
    voluntary: SavingsProduct, account: SavingsAccount, member: Member
) -> None:
    fixed = savings_product_create(
        actor=None, code="FDR", name="Fixed deposit", kind="fixed", annual_rate=Decimal("9"),
        rate_effective_from=OPENED, term_months=12, withdrawals_allowed=False,
    )  # fmt: skip
    deposit_account = savings_account_open(actor=None, member=member, product=fixed, opened_on=OPENED)
    assert deposit_account.maturity_date == dt.date(2027, 1, 5)
    savings_deposit(account_id=account.pk, amount_minor=5_000_00, value_date=DAY, idempotency_key="d-1")
    moved = savings_transfer(
        from_account_id=account.pk, to_account_id=deposit_account.pk, amount_minor=4_000_00, value_date=DAY,
        idempotency_key="t-1",
    )  # fmt: skip
    assert (moved.taken.balance_after_minor, moved.added.balance_after_minor) == (1_000_00, 4_000_00)
    # One SMS per account, each saying its side of the transfer.
    messages = OutboxMessage.objects.filter(kind="savings_transfer").order_by("id")
    assert [(m.context["account"], m.context["direction"], m.context["balance_minor"]) for m in messages] == [
        (account.number, "out", 1_000_00),
        (deposit_account.number, "in", 4_000_00),
    ]
    assert _net("2100-VOL") == 1_000_00 and _net("2100-FDR") == 4_000_00
    again = savings_transfer(
        from_account_id=account.pk, to_account_id=deposit_account.pk, amount_minor=4_000_00, value_date=DAY,
        idempotency_key="t-1",
    )  # fmt: skip
    assert again.taken.pk == moved.taken.pk
    other = savings_account_open(
        actor=None, member=make_member("HO-000002"), product=voluntary, opened_on=OPENED
    )
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_transfer(
            from_account_id=account.pk, to_account_id=other.pk, amount_minor=100, value_date=DAY,
            idempotency_key="t-2",
        )  # fmt: skip
    assert raised.value.code == ErrorCode.TRANSFER_BETWEEN_MEMBERS
    assert ledger_verify().reason == ""


def test_one_workspaces_accounts_cannot_be_moved_from_another(account: SavingsAccount, beta: object) -> None:
    from django_tenants.utils import tenant_context

    from tests.conftest import BETA

    with tenant_context(BETA.cooperative()), pytest.raises(BusinessRuleViolation) as raised:
        savings_deposit(account_id=account.pk, amount_minor=100, value_date=DAY, idempotency_key="x-1")
    assert raised.value.code == ErrorCode.NOT_FOUND
