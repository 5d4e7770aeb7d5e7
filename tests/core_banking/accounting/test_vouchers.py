"""Office vouchers: balanced entries through the ledger, numbered per branch and fiscal year, replay-safe."""

from __future__ import annotations

import datetime as dt

import pytest

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.accounting.fiscal import FiscalYear, fiscal_year_of
from core_banking.accounting.services import VoucherLine, voucher_post
from core_banking.ledger.models import AccountDayBalance, JournalEntry
from core_banking.organisation.models import Branch
from tests.core_banking.accounting.conftest import DAY, entry_lines, payment, receipt


def test_a_receipt_posts_one_balanced_entry_into_the_branch_cash(head_office: Branch, maker: User) -> None:
    voucher = receipt(head_office, "rv-1", ("4300", 1_250_75), ("4200", 100_00), actor=maker)
    assert voucher.number == "RV-HO-2026-27-00001"
    assert (voucher.kind, voucher.fiscal_year, voucher.sequence) == ("receipt", 2026, 1)
    assert entry_lines(voucher) == [("1100-HO", 1_350_75, 0), ("4300", 0, 1_250_75), ("4200", 0, 100_00)]
    assert voucher.entry.memo == "RV-HO-2026-27-00001 Fees received"
    assert voucher.entry.posted_by_id == maker.pk
    cash = AccountDayBalance.objects.get(account__code="1100-HO", branch=head_office, day=DAY)
    assert (cash.debit_minor, cash.credit_minor) == (1_350_75, 0)
    event = AuditEvent.objects.get(action="accounting.voucher_post")
    assert event.actor_id == maker.pk and event.changes["number"] == "RV-HO-2026-27-00001"


def test_a_payment_and_a_journal_voucher(head_office: Branch) -> None:
    paid = payment(head_office, "pv-1", ("5300", 480_00))
    assert paid.number == "PV-HO-2026-27-00001"
    assert entry_lines(paid) == [("5300", 480_00, 0), ("1100-HO", 0, 480_00)]
    journal = voucher_post(
        actor=None,
        branch=head_office,
        kind="journal",
        value_date=DAY,
        narration="Cash deposited in the bank",
        lines=[VoucherLine("1200", debit_minor=10_000_00), VoucherLine("1100-HO", credit_minor=10_000_00)],
        idempotency_key="jv-1",
    ).voucher
    assert journal.number == "JV-HO-2026-27-00001"
    assert entry_lines(journal) == [("1200", 10_000_00, 0), ("1100-HO", 0, 10_000_00)]


def test_numbers_run_per_branch_kind_and_fiscal_year(head_office: Branch, branch_one: Branch) -> None:
    numbers = [
        receipt(head_office, "a", ("4300", 1), day=dt.date(2026, 6, 30)).number,
        receipt(head_office, "b", ("4300", 1), day=dt.date(2026, 7, 1)).number,
        receipt(head_office, "c", ("4300", 1), day=dt.date(2026, 7, 2)).number,
        receipt(branch_one, "d", ("4300", 1), day=dt.date(2026, 7, 2)).number,
        payment(head_office, "e", ("5300", 1), day=dt.date(2026, 7, 2)).number,
    ]
    assert numbers == [
        "RV-HO-2025-26-00001",
        "RV-HO-2026-27-00001",
        "RV-HO-2026-27-00002",
        "RV-BR1-2026-27-00001",
        "PV-HO-2026-27-00001",
    ]


def test_an_unbalanced_journal_voucher_is_refused_with_field_errors(head_office: Branch) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        voucher_post(
            actor=None,
            branch=head_office,
            kind="journal",
            value_date=DAY,
            narration="Typo",
            lines=[VoucherLine("1200", debit_minor=100_00), VoucherLine("1100-HO", credit_minor=99_00)],
            idempotency_key="jv-bad",
        )
    assert raised.value.code == ErrorCode.ENTRY_UNBALANCED
    assert raised.value.fields == {"lines": ["Debits 100.00 ≠ credits 99.00."]}
    assert not JournalEntry.objects.exists()


def test_bad_lines_are_named_one_by_one(head_office: Branch) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        voucher_post(
            actor=None,
            branch=head_office,
            kind="receipt",
            value_date=DAY,
            narration="Mixed up",
            lines=[
                VoucherLine("9999", credit_minor=5),
                VoucherLine("4300", debit_minor=5),
                VoucherLine("1100-BR1", credit_minor=5),
            ],
            idempotency_key="rv-bad",
        )
    assert raised.value.code == ErrorCode.ACCOUNT_UNKNOWN
    assert raised.value.fields == {
        "lines[0].account": ["No active account 9999."],
        "lines[1].amount": ["A receipt's lines are credits."],
        "lines[2].account": ["Account 1100-BR1 belongs to another branch."],
    }
    with pytest.raises(BusinessRuleViolation) as no_narration:
        voucher_post(
            actor=None, branch=head_office, kind="receipt", value_date=DAY, narration=" ",
            lines=[VoucherLine("4300", credit_minor=5)], idempotency_key="rv-bad",
        )  # fmt: skip
    assert no_narration.value.fields == {"narration": ["Required."]}
    assert not JournalEntry.objects.exists()


def test_the_same_key_returns_the_same_voucher_and_other_content_is_refused(head_office: Branch) -> None:
    first = voucher_post(
        actor=None, branch=head_office, kind="receipt", value_date=DAY, narration="Fees",
        lines=[VoucherLine("4300", credit_minor=700_00)], idempotency_key="rv-1",
    )  # fmt: skip
    again = voucher_post(
        actor=None, branch=head_office, kind="receipt", value_date=DAY, narration="Fees",
        lines=[VoucherLine("4300", credit_minor=700_00)], idempotency_key="rv-1",
    )  # fmt: skip
    assert (again.voucher.pk, again.replayed, first.replayed) == (first.voucher.pk, True, False)
    assert JournalEntry.objects.count() == 1
    with pytest.raises(BusinessRuleViolation) as raised:
        voucher_post(
            actor=None, branch=head_office, kind="receipt", value_date=DAY, narration="Fees",
            lines=[VoucherLine("4300", credit_minor=700_01)], idempotency_key="rv-1",
        )  # fmt: skip
    assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert raised.value.fields == {"idempotency_key": ["Used by voucher RV-HO-2026-27-00001."]}
    assert JournalEntry.objects.count() == 1


def test_a_voucher_dated_after_the_business_date_is_refused(head_office: Branch) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        receipt(head_office, "rv-late", ("4300", 5), day=dt.date(2099, 1, 1))
    assert raised.value.code == ErrorCode.ACCOUNTING_DATE_IN_FUTURE


def test_fiscal_years_start_where_the_cooperative_says() -> None:
    july = fiscal_year_of(dt.date(2026, 6, 30), 7)
    assert (july.start, july.end, july.label) == (dt.date(2025, 7, 1), dt.date(2026, 6, 30), "2025-26")
    assert fiscal_year_of(dt.date(2026, 7, 1), 7) == FiscalYear(2026, 7)
    calendar_year = fiscal_year_of(dt.date(2026, 2, 28), 1)
    assert (calendar_year.start, calendar_year.end, calendar_year.label) == (
        dt.date(2026, 1, 1), dt.date(2026, 12, 31), "2026",
    )  # fmt: skip
    assert FiscalYear(2023, 3).end == dt.date(2024, 2, 29)  # a leap year's February
