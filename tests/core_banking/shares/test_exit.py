"""Member exit: refused while something blocks it; otherwise shares and savings paid out, once."""

from __future__ import annotations

import datetime as dt

import pytest

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import AccountDayBalance, JournalEntry
from core_banking.ledger.services import ledger_verify
from core_banking.members.models import Member
from core_banking.savings.models import SavingsAccount, SavingsProduct, SavingsTransaction
from core_banking.savings.services import lien_place, lien_release, savings_account_open, savings_deposit
from core_banking.shares.exit_rules import exit_blockers, register_exit_blocker, registered_exit_blockers
from core_banking.shares.models import MemberExit, ShareAccount, ShareSettings, ShareTransaction
from core_banking.shares.selectors import exit_preview
from core_banking.shares.services import member_exit, share_purchase
from notifications.models import OutboxMessage
from tests.core_banking.shares.conftest import DAY, OPENED

EXIT_DAY = dt.date(2026, 11, 30)


def _lines(key: str) -> list[tuple[str, int, int]]:
    entry = JournalEntry.objects.get(idempotency_key=key)
    return [(line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")]


def _net_credit(code: str) -> int:
    rows = AccountDayBalance.objects.filter(account__code=code)
    return sum(row.credit_minor - row.debit_minor for row in rows)


@pytest.fixture
def holdings(
    terms: ShareSettings, member: Member, voluntary: SavingsProduct, compulsory: SavingsProduct
) -> tuple[SavingsAccount, SavingsAccount]:
    """12 shares (Tk 1,200.00), Tk 2,000.00 voluntary and Tk 3,000.50 compulsory savings."""
    share_purchase(member_id=member.pk, shares=12, value_date=DAY, idempotency_key="sp-1")
    free = savings_account_open(actor=None, member=member, product=voluntary, opened_on=OPENED)
    locked_in = savings_account_open(actor=None, member=member, product=compulsory, opened_on=OPENED)
    savings_deposit(account_id=free.pk, amount_minor=2_000_00, value_date=DAY, idempotency_key="d-1")
    savings_deposit(account_id=locked_in.pk, amount_minor=3_000_50, value_date=DAY, idempotency_key="d-2")
    return free, locked_in


def _nothing_paid_out(member: Member) -> None:
    member.refresh_from_db()
    assert (member.status, member.exit_date) == ("active", None)
    assert ShareAccount.objects.get(member=member).shares == 12
    assert not MemberExit.objects.exists()
    assert not ShareTransaction.objects.filter(kind="withdrawal").exists()
    assert not SavingsTransaction.objects.filter(kind="withdrawal").exists()
    assert not OutboxMessage.objects.filter(kind__in=["share_withdrawal", "savings_withdrawal"]).exists()


def test_the_shipped_blocker_is_registered() -> None:
    assert "savings_lien" in [blocker.name for blocker in registered_exit_blockers()]


def test_exit_is_refused_while_savings_are_pledged(
    holdings: tuple[SavingsAccount, SavingsAccount], member: Member
) -> None:
    free, _locked_in = holdings
    lien = lien_place(
        actor=None, account_id=free.pk, amount_minor=800_00, reason="Security for loan", reference="L-1"
    )
    with pytest.raises(BusinessRuleViolation) as raised:
        member_exit(member_id=member.pk, exit_date=EXIT_DAY, idempotency_key="exit-1", reason="Moved away")
    assert raised.value.code == ErrorCode.EXIT_REFUSED
    assert raised.value.http_status == 409
    assert list(raised.value.fields) == ["savings_lien"]
    [reason] = raised.value.fields["savings_lien"]
    assert free.number in reason and "800.00" in reason and "Security for loan (L-1)" in reason
    _nothing_paid_out(member)
    preview = exit_preview(member=member)
    assert not preview.allowed and preview.blockers == raised.value.fields
    # Once the lien is released, the same key goes through.
    lien_release(actor=None, lien_id=lien.pk)
    member_exit(member_id=member.pk, exit_date=EXIT_DAY, idempotency_key="exit-1", reason="Moved away")
    member.refresh_from_db()
    assert member.status == "exited"


def test_a_registered_blocker_refuses_the_exit_with_its_reasons(
    holdings: tuple[SavingsAccount, SavingsAccount], member: Member, temporary_blockers: list[str]
) -> None:
    def loans_outstanding(candidate: Member) -> list[str]:
        return [f"Loan L-7 of {candidate.number} owes 5,000.00."] if candidate.pk == member.pk else []

    def guarantees(candidate: Member) -> list[str]:
        return []

    register_exit_blocker("loans_outstanding", loans_outstanding)
    register_exit_blocker("guarantees_live_loan", guarantees)
    temporary_blockers.extend(["loans_outstanding", "guarantees_live_loan"])
    with pytest.raises(BusinessRuleViolation) as raised:
        member_exit(member_id=member.pk, exit_date=EXIT_DAY, idempotency_key="exit-1", reason="Moved away")
    assert raised.value.code == ErrorCode.EXIT_REFUSED
    assert raised.value.fields == {"loans_outstanding": ["Loan L-7 of HO-000001 owes 5,000.00."]}
    _nothing_paid_out(member)


def test_a_blocker_name_is_a_stable_key(temporary_blockers: list[str]) -> None:
    with pytest.raises(ValueError, match="snake_case"):
        register_exit_blocker("loans outstanding!", lambda member: [])


def test_an_exit_pays_out_shares_and_all_savings_and_closes_everything(
    holdings: tuple[SavingsAccount, SavingsAccount], member: Member
) -> None:
    free, locked_in = holdings
    preview = exit_preview(member=member)
    assert preview.allowed and preview.total_minor == 1_200_00 + 2_000_00 + 3_000_50
    settlement = member_exit(
        member_id=member.pk, exit_date=EXIT_DAY, idempotency_key="exit-1", reason="Moved away"
    )
    # Shares back in cash at the member's branch, savings paid out whatever the product rules say.
    assert _lines("exit-1:shares") == [("3100", 1_200_00, 0), ("1100-HO", 0, 1_200_00)]
    assert _lines(f"exit-1:savings:{free.pk}") == [("2100-VOL", 2_000_00, 0), ("1100-HO", 0, 2_000_00)]
    assert _lines(f"exit-1:savings:{locked_in.pk}") == [("2100-CMP", 3_000_50, 0), ("1100-HO", 0, 3_000_50)]
    assert JournalEntry.objects.filter(idempotency_key__startswith="exit-1").count() == 3
    assert (
        _net_credit("3100"),
        _net_credit("2100-VOL"),
        _net_credit("2100-CMP"),
        _net_credit("1100-HO"),
    ) == (
        0,
        0,
        0,
        0,
    )
    account = ShareAccount.objects.get(member=member)
    assert (account.shares, account.balance_minor) == (0, 0)
    withdrawal = settlement.share_withdrawal
    assert withdrawal is not None
    assert (withdrawal.kind, withdrawal.shares, withdrawal.amount_minor, withdrawal.shares_after) == (
        "withdrawal",
        -12,
        -1_200_00,
        0,
    )
    assert sorted(payout.amount_minor for payout in settlement.savings_payouts) == [-3_000_50, -2_000_00]
    for savings in (free, locked_in):
        savings.refresh_from_db()
        assert (savings.balance_minor, savings.status, savings.closed_on) == (0, "closed", EXIT_DAY)
    member.refresh_from_db()
    assert (member.status, member.exit_date) == ("exited", EXIT_DAY)
    record = settlement.exit
    assert (record.shares_paid_out, record.share_amount_minor, record.savings_paid_out_minor) == (
        12,
        1_200_00,
        5_000_50,
    )
    # One SMS per payout, each about its own movement.
    messages = {
        message.source_ref: message
        for message in OutboxMessage.objects.filter(source_ref__startswith="exit-1")
    }
    assert sorted((ref, message.kind) for ref, message in messages.items()) == sorted(
        [
            ("exit-1:shares", "share_withdrawal"),
            (f"exit-1:savings:{free.pk}", "savings_withdrawal"),
            (f"exit-1:savings:{locked_in.pk}", "savings_withdrawal"),
        ]
    )
    assert messages["exit-1:shares"].context == {
        "amount_minor": 1_200_00,
        "shares": 12,
        "shares_held": 0,
        "balance_minor": 0,
        "currency": "BDT",
        "member": "HO-000001",
        "value_date": "2026-11-30",
    }
    assert messages[f"exit-1:savings:{locked_in.pk}"].context["amount_minor"] == 3_000_50
    event = AuditEvent.objects.get(action="member.exit")
    assert event.object_id == str(member.pk)
    assert event.changes["status"] == ["active", "exited"]
    assert event.changes["savings_paid_out_minor"] == 5_000_50
    assert AuditEvent.objects.filter(action="savings.account.close").count() == 2
    assert ledger_verify().first_broken_entry_id is None


def test_the_same_exit_sent_again_changes_nothing(
    holdings: tuple[SavingsAccount, SavingsAccount], member: Member
) -> None:
    first = member_exit(
        member_id=member.pk, exit_date=EXIT_DAY, idempotency_key="exit-1", reason="Moved away"
    )
    counts = (
        JournalEntry.objects.count(),
        OutboxMessage.objects.count(),
        ShareTransaction.objects.count(),
        SavingsTransaction.objects.count(),
        AuditEvent.objects.count(),
    )
    again = member_exit(
        member_id=member.pk, exit_date=EXIT_DAY, idempotency_key="exit-1", reason="Moved away"
    )
    assert again.exit.pk == first.exit.pk
    assert again.share_withdrawal is not None and first.share_withdrawal is not None
    assert again.share_withdrawal.pk == first.share_withdrawal.pk
    assert sorted(payout.pk for payout in again.savings_payouts) == sorted(
        payout.pk for payout in first.savings_payouts
    )
    assert counts == (
        JournalEntry.objects.count(),
        OutboxMessage.objects.count(),
        ShareTransaction.objects.count(),
        SavingsTransaction.objects.count(),
        AuditEvent.objects.count(),
    )
    with pytest.raises(BusinessRuleViolation) as other_content:
        member_exit(member_id=member.pk, exit_date=EXIT_DAY, idempotency_key="exit-1", reason="Deceased")
    assert other_content.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    with pytest.raises(BusinessRuleViolation) as other_key:
        member_exit(member_id=member.pk, exit_date=EXIT_DAY, idempotency_key="exit-2", reason="Moved away")
    assert other_key.value.code == ErrorCode.MEMBER_EXITED


def test_after_exit_no_money_comes_in(
    holdings: tuple[SavingsAccount, SavingsAccount], member: Member
) -> None:
    free, _locked_in = holdings
    member_exit(member_id=member.pk, exit_date=EXIT_DAY, idempotency_key="exit-1", reason="Moved away")
    with pytest.raises(BusinessRuleViolation) as shares:
        share_purchase(member_id=member.pk, shares=5, value_date=EXIT_DAY, idempotency_key="sp-late")
    assert shares.value.code == ErrorCode.MEMBER_EXITED
    with pytest.raises(BusinessRuleViolation) as savings:
        savings_deposit(account_id=free.pk, amount_minor=100, value_date=EXIT_DAY, idempotency_key="d-late")
    assert savings.value.code == ErrorCode.SAVINGS_ACCOUNT_NOT_ACTIVE
    # The purchase made before the exit still replays to the same answer.
    replay = share_purchase(member_id=member.pk, shares=12, value_date=DAY, idempotency_key="sp-1")
    assert replay.kind == "purchase" and replay.shares == 12


def test_a_member_with_nothing_exits_without_postings(terms: ShareSettings, member: Member) -> None:
    settlement = member_exit(member_id=member.pk, exit_date=EXIT_DAY, idempotency_key="exit-1", reason="Left")
    assert settlement.share_withdrawal is None and settlement.savings_payouts == []
    assert not JournalEntry.objects.exists() and not OutboxMessage.objects.exists()
    member.refresh_from_db()
    assert member.status == "exited"


@pytest.mark.parametrize(
    ("request_values", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 81}, "idempotency_key"),
        ({"exit_date": dt.date(2025, 12, 31)}, "exit_date"),
    ],
)
def test_an_exit_request_is_checked(member: Member, request_values: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"exit_date": EXIT_DAY, "idempotency_key": "exit-1", "reason": "Left"}
    values.update(request_values)
    with pytest.raises(BusinessRuleViolation) as raised:
        member_exit(member_id=member.pk, **values)  # type: ignore[arg-type]
    assert raised.value.code == ErrorCode.VALIDATION_ERROR
    assert list(raised.value.fields) == [field]


def test_exit_blockers_ask_every_registered_blocker(member: Member, temporary_blockers: list[str]) -> None:
    assert exit_blockers(member) == {}
    register_exit_blocker("always", lambda candidate: ("one", "two"))
    temporary_blockers.append("always")
    assert exit_blockers(member) == {"always": ["one", "two"]}
