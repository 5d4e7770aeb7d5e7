"""Correcting a deposit or withdrawal: reversal and corrected entry, balance and history kept in step."""

from __future__ import annotations

import datetime as dt

import pytest

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import JournalEntry
from core_banking.savings.models import SavingsAccount, SavingsTransaction
from core_banking.savings.services import savings_correct, savings_deposit, savings_withdraw
from notifications.models import OutboxMessage

DAY = dt.date(2026, 3, 2)
LATER = dt.date(2026, 3, 3)


def _lines(entry: JournalEntry) -> list[tuple[str, int, int]]:
    return [(line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")]


def test_a_deposit_keyed_wrong_is_corrected_to_the_right_amount(account: SavingsAccount) -> None:
    deposit = savings_deposit(
        account_id=account.pk, amount_minor=5_000_00, value_date=DAY, idempotency_key="d1"
    )
    result = savings_correct(
        transaction_id=deposit.pk,
        corrected_amount_minor=500_00,
        reason="Keyed 5,000 for 500",
        idempotency_key="c1",
        value_date=LATER,
    )
    account.refresh_from_db()
    assert account.balance_minor == 500_00
    assert (result.movement.kind, result.movement.amount_minor, result.movement.balance_after_minor) == (
        "correction",
        -4_500_00,
        500_00,
    )
    assert result.movement.corrects_id == deposit.pk
    cash = f"1100-{account.branch.code}"
    assert _lines(result.reversal) == [(cash, 0, 5_000_00), ("2100-VOL", 5_000_00, 0)]
    assert result.reversal.reverses_id == deposit.entry_id
    assert result.corrected is not None and _lines(result.corrected) == [
        (cash, 500_00, 0),
        ("2100-VOL", 0, 500_00),
    ]
    assert sum(t.amount_minor for t in SavingsTransaction.objects.filter(account=account)) == 500_00
    message = OutboxMessage.objects.get(source_ref="c1")
    assert message.kind == "correction" and message.context["original_minor"] == 5_000_00
    assert message.context["amount_minor"] == 500_00 and message.context["balance_minor"] == 500_00


def test_a_withdrawal_is_cancelled_and_the_money_is_back(account: SavingsAccount) -> None:
    savings_deposit(account_id=account.pk, amount_minor=2_000_00, value_date=DAY, idempotency_key="d2")
    taken = savings_withdraw(account_id=account.pk, amount_minor=700_00, value_date=DAY, idempotency_key="w2")
    result = savings_correct(
        transaction_id=taken.pk,
        corrected_amount_minor=0,
        reason="Never paid out",
        idempotency_key="c2",
        value_date=LATER,
    )
    account.refresh_from_db()
    assert account.balance_minor == 2_000_00 and result.corrected is None
    assert result.movement.amount_minor == 700_00


def test_the_same_correction_again_returns_the_first_and_a_second_one_is_refused(
    account: SavingsAccount,
) -> None:
    deposit = savings_deposit(
        account_id=account.pk, amount_minor=900_00, value_date=DAY, idempotency_key="d3"
    )
    first = savings_correct(
        transaction_id=deposit.pk,
        corrected_amount_minor=990_00,
        reason="Digit missed",
        idempotency_key="c3",
        value_date=LATER,
    )
    again = savings_correct(
        transaction_id=deposit.pk,
        corrected_amount_minor=990_00,
        reason="Digit missed",
        idempotency_key="c3",
        value_date=LATER,
    )
    assert again.movement.pk == first.movement.pk and again.reversal.pk == first.reversal.pk
    with pytest.raises(BusinessRuleViolation) as twice:
        savings_correct(
            transaction_id=deposit.pk,
            corrected_amount_minor=5_00,
            reason="Again",
            idempotency_key="c3b",
            value_date=LATER,
        )
    assert twice.value.code == ErrorCode.ENTRY_ALREADY_CORRECTED
    account.refresh_from_db()
    assert account.balance_minor == 990_00


def test_a_correction_that_would_overdraw_the_account_is_refused_and_writes_nothing(
    account: SavingsAccount,
) -> None:
    deposit = savings_deposit(
        account_id=account.pk, amount_minor=1_000_00, value_date=DAY, idempotency_key="d4"
    )
    savings_withdraw(account_id=account.pk, amount_minor=400_00, value_date=DAY, idempotency_key="w4")
    with pytest.raises(BusinessRuleViolation) as refused:
        savings_correct(
            transaction_id=deposit.pk,
            corrected_amount_minor=100_00,
            reason="Wrong",
            idempotency_key="c4",
            value_date=LATER,
        )
    assert refused.value.code == ErrorCode.INSUFFICIENT_BALANCE
    account.refresh_from_db()
    assert account.balance_minor == 600_00
    assert not JournalEntry.objects.filter(idempotency_key__startswith="c4").exists()
    for bad, code in ((1_000_00, ErrorCode.VALIDATION_ERROR), (-5, ErrorCode.VALIDATION_ERROR)):
        with pytest.raises(BusinessRuleViolation) as invalid:
            savings_correct(
                transaction_id=deposit.pk,
                corrected_amount_minor=bad,
                reason="x",
                idempotency_key="c5",
                value_date=LATER,
            )
        assert invalid.value.code == code
