"""Day close per branch, month close, and the year-end closing into retained surplus."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.accounting.models import BranchDayClose, PeriodClose, YearEndClosing
from core_banking.accounting.services import (
    VoucherLine,
    branch_day_close,
    correction_submit,
    fiscal_year_close,
    period_close,
)
from core_banking.ledger.models import AccountDayBalance, JournalEntry, LedgerState
from core_banking.ledger.services import LineSpec, journal_post
from core_banking.organisation.models import Branch
from tests.core_banking.accounting.conftest import DAY, payment, receipt


def test_a_closed_day_records_its_totals_and_refuses_office_postings(
    head_office: Branch, branch_one: Branch, maker: User
) -> None:
    receipt(head_office, "rv-0", ("4300", 2_000_00), day=DAY - dt.timedelta(days=1))
    first = receipt(head_office, "rv-1", ("4300", 1_000_00))
    payment(head_office, "pv-1", ("5300", 250_50))
    close = branch_day_close(actor=maker, branch=head_office, day=DAY)
    assert (close.entry_count, close.debit_minor, close.credit_minor) == (2, 1_250_50, 1_250_50)
    assert close.cash_balance_minor == 2_000_00 + 1_000_00 - 250_50
    assert close.closed_by == maker
    assert AuditEvent.objects.get(action="accounting.day_close").changes["cash_balance_minor"] == 2_749_50
    assert branch_day_close(actor=maker, branch=head_office, day=DAY).pk == close.pk  # closing again

    with pytest.raises(BusinessRuleViolation) as refused:
        receipt(head_office, "rv-2", ("4300", 5))
    assert refused.value.code == ErrorCode.DAY_CLOSED
    assert refused.value.fields == {"value_date": ["This branch's day is closed."]}
    with pytest.raises(BusinessRuleViolation) as correction:
        correction_submit(
            actor=maker, original=first.entry, reason="Wrong", value_date=DAY, corrected_lines=[],
            idempotency_key="fix-1",
        )  # fmt: skip
    assert correction.value.code == ErrorCode.DAY_CLOSED
    assert receipt(branch_one, "rv-3", ("4300", 5)).number  # another branch's day is open
    assert receipt(head_office, "rv-4", ("4300", 5), day=DAY + dt.timedelta(days=1)).number
    assert JournalEntry.objects.filter(branch=head_office, value_date=DAY).count() == 2


def test_a_future_day_cannot_be_closed(head_office: Branch) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        branch_day_close(actor=None, branch=head_office, day=dt.date(2099, 1, 1))
    assert raised.value.code == ErrorCode.ACCOUNTING_DATE_IN_FUTURE


def test_a_month_close_refuses_postings_into_it_in_the_service_and_in_postgresql(
    head_office: Branch, branch_one: Branch, maker: User
) -> None:
    receipt(head_office, "rv-1", ("4300", 1_000_00), day=dt.date(2026, 9, 14))
    receipt(branch_one, "rv-2", ("4300", 30_00), day=dt.date(2026, 9, 20))
    close = period_close(actor=maker, period_end=dt.date(2026, 9, 30))
    assert LedgerState.objects.get().closed_through == dt.date(2026, 9, 30)
    assert (close.previous_closed_through, close.is_year_end) == (None, False)
    # The days that had postings and were left open are closed with their totals.
    assert sorted(BranchDayClose.objects.values_list("branch__code", "day", "debit_minor")) == [
        ("BR1", dt.date(2026, 9, 20), 30_00),
        ("HO", dt.date(2026, 9, 14), 1_000_00),
    ]
    assert period_close(actor=maker, period_end=dt.date(2026, 9, 30)).pk == close.pk

    with pytest.raises(BusinessRuleViolation) as voucher:
        receipt(head_office, "rv-3", ("4300", 5), day=dt.date(2026, 9, 29))
    assert voucher.value.code == ErrorCode.PERIOD_CLOSED
    with pytest.raises(BusinessRuleViolation) as ledger:
        journal_post(
            idempotency_key="late", value_date=dt.date(2026, 9, 1), branch=head_office,
            lines=[LineSpec("1200", debit_minor=5), LineSpec("1100-HO", credit_minor=5)],
        )  # fmt: skip
    assert ledger.value.code == ErrorCode.PERIOD_CLOSED
    with pytest.raises(IntegrityError, match="closed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journalentry (value_date, branch_id, memo, idempotency_key, payload_hash, "
            "previous_hash, entry_hash, posted_at) "
            "VALUES ('2026-09-30', %s, '', 'raw', 'x', 'x', 'raw', now())",
            [head_office.pk],
        )
    assert receipt(head_office, "rv-4", ("4300", 5), day=dt.date(2026, 10, 1)).number


@pytest.mark.parametrize(
    ("period_end", "code"),
    [
        (dt.date(2026, 9, 29), ErrorCode.PERIOD_CLOSE_INVALID),  # not a month end
        (dt.date(2026, 11, 30), ErrorCode.PERIOD_CLOSE_INVALID),  # the month is not over
        (dt.date(2026, 6, 30), ErrorCode.PERIOD_CLOSE_INVALID),  # a fiscal year end: year-end closing
        (dt.date(2026, 7, 31), ErrorCode.FISCAL_YEAR_NOT_CLOSED),  # 2025-26 had postings, not closed
    ],
)
def test_months_that_cannot_be_closed(head_office: Branch, period_end: dt.date, code: ErrorCode) -> None:
    receipt(head_office, "rv-1", ("4300", 5), day=dt.date(2026, 5, 2))
    with pytest.raises(BusinessRuleViolation) as raised:
        period_close(actor=None, period_end=period_end)
    assert raised.value.code == code
    assert LedgerState.objects.get().closed_through is None


def _net(code: str, *, branch: Branch | None = None) -> int:
    rows = AccountDayBalance.objects.filter(account__code=code)
    if branch is not None:
        rows = rows.filter(branch=branch)
    totals = rows.aggregate(debit=Sum("debit_minor"), credit=Sum("credit_minor"))
    return int(totals["debit"] or 0) - int(totals["credit"] or 0)


def test_year_end_closes_income_and_expense_into_retained_surplus_per_branch(
    head_office: Branch, branch_one: Branch, maker: User
) -> None:
    # Fiscal year 2025-26 (July 2025 to June 2026): the head office makes a surplus, BR1 a deficit.
    receipt(head_office, "rv-1", ("4100", 12_000_00), ("4300", 1_500_25), day=dt.date(2025, 9, 10))
    payment(head_office, "pv-1", ("5300", 4_200_00), ("5100", 800_00), day=dt.date(2026, 3, 3))
    receipt(branch_one, "rv-2", ("4300", 300_00), day=dt.date(2026, 2, 1))
    payment(branch_one, "pv-2", ("5300", 1_000_00), day=dt.date(2026, 6, 30))
    # The next year's income stays where it is.
    receipt(head_office, "rv-3", ("4300", 77_00), day=dt.date(2026, 7, 1))

    result = fiscal_year_close(actor=maker, fiscal_year=2025)
    assert result.fiscal_year.label == "2025-26"
    assert (result.period.period_end, result.period.is_year_end) == (dt.date(2026, 6, 30), True)
    closings = {closing.branch.code: closing for closing in result.closings}
    head, one = closings["HO"], closings["BR1"]
    assert (head.income_minor, head.expense_minor, head.surplus_minor) == (13_500_25, 5_000_00, 8_500_25)
    assert (one.income_minor, one.expense_minor, one.surplus_minor) == (300_00, 1_000_00, -700_00)
    assert head.entry is not None and head.entry.value_date == dt.date(2026, 6, 30)
    assert [(line.account.code, line.debit_minor, line.credit_minor) for line in head.entry.lines.all()] == [
        ("4100", 12_000_00, 0),
        ("4300", 1_500_25, 0),
        ("5100", 0, 800_00),
        ("5300", 0, 4_200_00),
        ("3900", 0, 8_500_25),
    ]
    through_year_end = AccountDayBalance.objects.filter(day__lte=dt.date(2026, 6, 30))
    for code in ("4100", "4300", "5100", "5300"):
        rows = through_year_end.filter(account__code=code).aggregate(
            d=Sum("debit_minor"), c=Sum("credit_minor")
        )
        assert (rows["d"] or 0) == (rows["c"] or 0), code
    assert _net("3900", branch=head_office) == -8_500_25
    assert _net("3900", branch=branch_one) == 700_00
    assert _net("4300", branch=head_office) == -77_00  # July 2026 belongs to the next year
    totals = AccountDayBalance.objects.aggregate(d=Sum("debit_minor"), c=Sum("credit_minor"))
    assert totals["d"] == totals["c"]  # the trial balance still balances
    assert LedgerState.objects.get().closed_through == dt.date(2026, 6, 30)

    again = fiscal_year_close(actor=maker, fiscal_year=2025)
    assert [closing.pk for closing in again.closings] == [one.pk, head.pk]
    assert YearEndClosing.objects.count() == 2 and PeriodClose.objects.count() == 1
    with pytest.raises(BusinessRuleViolation) as corrected:
        correction_submit(
            actor=maker, original=head.entry, reason="No", value_date=DAY,
            corrected_lines=[VoucherLine("4100", debit_minor=1), VoucherLine("3900", credit_minor=1)],
            idempotency_key="fix-year-end",
        )  # fmt: skip
    assert corrected.value.code == ErrorCode.ENTRY_OWNED_BY_MODULE
    assert period_close(actor=maker, period_end=dt.date(2026, 7, 31)).previous_closed_through == dt.date(
        2026, 6, 30
    )


def test_a_year_is_closed_after_the_one_before_and_only_once_over(head_office: Branch) -> None:
    receipt(head_office, "rv-1", ("4300", 5), day=dt.date(2025, 5, 2))  # in fiscal year 2024-25
    with pytest.raises(BusinessRuleViolation) as order:
        fiscal_year_close(actor=None, fiscal_year=2025)
    assert order.value.code == ErrorCode.FISCAL_YEAR_NOT_CLOSED
    with pytest.raises(BusinessRuleViolation) as not_over:
        fiscal_year_close(actor=None, fiscal_year=2026)
    assert not_over.value.code == ErrorCode.FISCAL_YEAR_CLOSE_INVALID
    assert fiscal_year_close(actor=None, fiscal_year=2024).closings[0].surplus_minor == 5
    assert fiscal_year_close(actor=None, fiscal_year=2025).closings == []
