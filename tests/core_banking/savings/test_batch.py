"""The batch path (field sync, imports): the guarantees of one deposit, for many at once."""

from __future__ import annotations

import datetime as dt

import pytest

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import AccountDayBalance, JournalEntry, JournalLine, LedgerState
from core_banking.ledger.services import LineSpec, PostingRequest, journal_post_batch, ledger_verify
from core_banking.organisation.models import Branch
from core_banking.savings.batch import DepositRequest, savings_deposit_batch
from core_banking.savings.models import SavingsAccount, SavingsProduct, SavingsTransaction
from core_banking.savings.services import savings_account_open, savings_deposit
from notifications.models import OutboxMessage
from tests.core_banking.savings.conftest import OPENED, make_member

DAY = dt.date(2026, 11, 24)


def _as_if_committed() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_batch_posts_one_chained_entry_per_deposit_with_sms(
    account: SavingsAccount, voluntary: SavingsProduct
) -> None:
    other = savings_account_open(
        actor=None, member=make_member("HO-000002"), product=voluntary, opened_on=OPENED
    )
    savings_deposit(account_id=account.pk, amount_minor=1_000, value_date=DAY, idempotency_key="single-1")
    results = savings_deposit_batch(
        deposits=[
            DepositRequest(account.pk, 250_50, DAY, "b-1"),
            DepositRequest(other.pk, 99, DAY, "b-2"),
            DepositRequest(account.pk, 100_00, DAY, "b-3"),
        ]
    )
    assert [(result.balance_after_minor, result.replayed) for result in results] == [
        (1_000 + 250_50, False),
        (99, False),
        (1_000 + 250_50 + 100_00, False),
    ]
    account.refresh_from_db()
    other.refresh_from_db()
    assert (account.balance_minor, other.balance_minor) == (1_000 + 250_50 + 100_00, 99)
    assert JournalEntry.objects.count() == 4 and JournalLine.objects.count() == 8
    entry = JournalEntry.objects.get(idempotency_key="b-2")
    assert [
        (line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")
    ] == [
        ("1100-HO", 99, 0),
        ("2100-VOL", 0, 99),
    ]
    cash = AccountDayBalance.objects.get(account__code="1100-HO", day=DAY)
    assert (cash.debit_minor, cash.credit_minor) == (1_000 + 250_50 + 99 + 100_00, 0)
    assert sorted(OutboxMessage.objects.values_list("source_ref", flat=True)) == [
        "b-1",
        "b-2",
        "b-3",
        "single-1",
    ]
    assert OutboxMessage.objects.get(source_ref="b-3").context["balance_minor"] == 1_000 + 250_50 + 100_00
    _as_if_committed()
    assert ledger_verify().reason == ""
    assert LedgerState.objects.get().last_entry_hash == JournalEntry.objects.latest("id").entry_hash


def test_a_batch_sent_again_posts_nothing_and_answers_the_same(account: SavingsAccount) -> None:
    deposits = [DepositRequest(account.pk, 500, DAY, "b-1"), DepositRequest(account.pk, 700, DAY, "b-2")]
    first = savings_deposit_batch(deposits=deposits)
    again = savings_deposit_batch(deposits=[*deposits, DepositRequest(account.pk, 700, DAY, "b-2")])
    assert [result.transaction_id for result in again] == [
        first[0].transaction_id,
        first[1].transaction_id,
        first[1].transaction_id,
    ]
    assert all(result.replayed for result in again)
    account.refresh_from_db()
    assert account.balance_minor == 1_200
    assert SavingsTransaction.objects.count() == 2 and OutboxMessage.objects.count() == 2


def test_a_key_repeated_inside_one_batch_posts_once(account: SavingsAccount) -> None:
    results = savings_deposit_batch(
        deposits=[DepositRequest(account.pk, 500, DAY, "b-1"), DepositRequest(account.pk, 500, DAY, "b-1")]
    )
    assert results[0].transaction_id == results[1].transaction_id
    assert (results[0].replayed, results[1].replayed) == (False, True)
    account.refresh_from_db()
    assert account.balance_minor == 500


def test_a_reused_key_with_other_content_refuses_the_whole_batch(account: SavingsAccount) -> None:
    savings_deposit(account_id=account.pk, amount_minor=500, value_date=DAY, idempotency_key="b-1")
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_deposit_batch(
            deposits=[
                DepositRequest(account.pk, 300, DAY, "b-0"),
                DepositRequest(account.pk, 501, DAY, "b-1"),
            ]
        )
    assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert "postings[1].idempotency_key" in raised.value.fields
    assert not JournalEntry.objects.filter(idempotency_key="b-0").exists()


def test_bad_batches_name_the_bad_item(account: SavingsAccount) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_deposit_batch(
            deposits=[DepositRequest(account.pk, 300, DAY, "b-0"), DepositRequest(account.pk, 0, DAY, "b-1")]
        )
    assert raised.value.code == ErrorCode.AMOUNT_INVALID
    assert list(raised.value.fields) == ["deposits[1].amount_minor"]
    LedgerState.objects.update(closed_through=DAY)
    with pytest.raises(BusinessRuleViolation) as closed:
        savings_deposit_batch(deposits=[DepositRequest(account.pk, 300, DAY, "b-2")])
    assert closed.value.code == ErrorCode.PERIOD_CLOSED
    assert not SavingsTransaction.objects.exists()


def test_the_ledger_batch_refuses_unknown_accounts(in_alpha: object) -> None:
    branch = Branch.objects.get(is_head_office=True)
    with pytest.raises(BusinessRuleViolation) as raised:
        journal_post_batch(
            postings=[
                PostingRequest(
                    "x-1", DAY, branch, [LineSpec("1100-HO", debit_minor=5), LineSpec("9999", credit_minor=5)]
                )
            ]
        )
    assert raised.value.code == ErrorCode.ACCOUNT_UNKNOWN
    assert raised.value.fields == {"postings[0].lines": ["No active account 9999."]}
