"""Every report's figures, to the smallest unit, for the books of ``conftest.py``: consolidated, per
branch and for several branches; balances from the day balances, never from the journal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import JournalEntry
from core_banking.reporting import selectors
from tests.core_banking.reporting.conftest import APR_30, FEB, MAR_1, MAR_2, MAR_10, MAR_31, Books

FEB_1 = dt.date(2026, 2, 1)
FEB_28 = dt.date(2026, 2, 28)
APR_1 = dt.date(2026, 4, 1)


def _entry(key: str) -> int:
    return JournalEntry.objects.get(idempotency_key=key).pk


def _closing(result: selectors.TrialBalance) -> list[tuple[str, int, int]]:
    return [(row.account.code, row.closing_debit_minor, row.closing_credit_minor) for row in result.rows]


def _lines(section: selectors.StatementSection) -> list[tuple[str, int]]:
    return [(line.account.code, line.amount_minor) for line in section.lines]


def test_trial_balance_consolidated_equals_the_branches_added_up(books: Books) -> None:
    consolidated = selectors.trial_balance(end=MAR_31, branch_ids=None)
    assert _closing(consolidated) == [
        ("1100-BR1", 3_150_50, 0),
        ("1100-HO", 13_224_75, 0),
        ("2100-CMP", 0, 1_800_00),
        ("2100-VOL", 0, 13_000_25),
        ("3100", 0, 1_500_00),
        ("4300", 0, 150_00),
        ("5300", 75_00, 0),
    ]
    assert (consolidated.closing_debit_minor, consolidated.closing_credit_minor) == (16_450_25, 16_450_25)
    assert consolidated.balanced

    head_office = selectors.trial_balance(end=MAR_31, branch_ids=[books.ho.pk])
    assert _closing(head_office) == [
        ("1100-HO", 13_224_75, 0),
        ("2100-CMP", 0, 1_800_00),
        ("2100-VOL", 0, 10_499_75),
        ("3100", 0, 1_000_00),
        ("5300", 75_00, 0),
    ]
    assert (head_office.closing_debit_minor, head_office.closing_credit_minor) == (13_299_75, 13_299_75)

    branch = selectors.trial_balance(end=MAR_31, branch_ids=[books.br1.pk])
    assert _closing(branch) == [
        ("1100-BR1", 3_150_50, 0),
        ("2100-VOL", 0, 2_500_50),
        ("3100", 0, 500_00),
        ("4300", 0, 150_00),
    ]
    assert (branch.closing_debit_minor, branch.closing_credit_minor) == (3_150_50, 3_150_50)

    both = selectors.trial_balance(end=MAR_31, branch_ids=[books.br1.pk, books.ho.pk])
    assert both == consolidated


def test_trial_balance_of_a_period_has_opening_movements_and_closing(books: Books) -> None:
    result = selectors.trial_balance(start=MAR_1, end=MAR_31, branch_ids=None)
    assert [
        (
            row.account.code,
            row.opening_debit_minor,
            row.opening_credit_minor,
            row.period_debit_minor,
            row.period_credit_minor,
            row.closing_debit_minor,
            row.closing_credit_minor,
        )
        for row in result.rows
    ] == [
        ("1100-BR1", 0, 0, 3_150_50, 0, 3_150_50, 0),
        ("1100-HO", 3_000_00, 0, 11_500_00, 1_275_25, 13_224_75, 0),
        ("2100-CMP", 0, 0, 0, 1_800_00, 0, 1_800_00),
        ("2100-VOL", 0, 2_000_00, 1_500_25, 12_500_50, 0, 13_000_25),
        ("3100", 0, 1_000_00, 0, 500_00, 0, 1_500_00),
        ("4300", 0, 0, 0, 150_00, 0, 150_00),
        ("5300", 0, 0, 75_00, 0, 75_00, 0),
    ]
    assert (result.opening_debit_minor, result.opening_credit_minor) == (3_000_00, 3_000_00)
    assert (result.period_debit_minor, result.period_credit_minor) == (16_225_75, 16_225_75)
    assert (result.closing_debit_minor, result.closing_credit_minor) == (16_450_25, 16_450_25)
    assert result.balanced


def test_balance_sheet_balances_for_any_branch_set(books: Books) -> None:
    sheet = selectors.balance_sheet(as_of=MAR_31, branch_ids=None)
    assert _lines(sheet.assets) == [("1100-BR1", 3_150_50), ("1100-HO", 13_224_75)]
    assert _lines(sheet.liabilities) == [("2100-CMP", 1_800_00), ("2100-VOL", 13_000_25)]
    assert _lines(sheet.equity) == [("3100", 1_500_00)]
    assert (sheet.assets.total_minor, sheet.liabilities.total_minor) == (16_375_25, 14_800_25)
    assert (sheet.unclosed_surplus_minor, sheet.total_equity_minor) == (75_00, 1_575_00)
    assert sheet.total_liabilities_and_equity_minor == 16_375_25
    assert sheet.balanced

    head_office = selectors.balance_sheet(as_of=MAR_31, branch_ids=[books.ho.pk])
    assert (head_office.assets.total_minor, head_office.liabilities.total_minor) == (13_224_75, 12_299_75)
    # The head office spent on stationery and earned nothing: a deficit inside its equity.
    assert (head_office.unclosed_surplus_minor, head_office.total_equity_minor) == (-75_00, 925_00)
    assert head_office.balanced

    branch = selectors.balance_sheet(as_of=MAR_31, branch_ids=[books.br1.pk])
    assert (branch.assets.total_minor, branch.total_equity_minor) == (3_150_50, 650_00)
    assert branch.balanced

    april = selectors.balance_sheet(as_of=APR_30, branch_ids=None)
    assert _lines(april.assets) == [("1100-BR1", 103_150_50), ("1100-HO", 13_424_75)]
    assert april.assets.total_minor == april.total_liabilities_and_equity_minor == 116_575_25


def test_income_statement_nets_income_against_expenses(books: Books) -> None:
    march = selectors.income_statement(start=MAR_1, end=MAR_31, branch_ids=None)
    assert _lines(march.income) == [("4300", 150_00)]
    assert _lines(march.expense) == [("5300", 75_00)]
    assert march.net_surplus_minor == 75_00
    assert selectors.income_statement(
        start=MAR_1, end=MAR_31, branch_ids=[books.ho.pk]
    ).net_surplus_minor == (-75_00)
    assert selectors.income_statement(
        start=MAR_1, end=MAR_31, branch_ids=[books.br1.pk]
    ).net_surplus_minor == (150_00)
    april = selectors.income_statement(start=APR_1, end=APR_30, branch_ids=None)
    assert (april.income.lines, april.expense.lines, april.net_surplus_minor) == ([], [], 0)


def test_cash_book_runs_from_the_opening_balance_day_by_day(books: Books) -> None:
    book = selectors.cash_book(start=MAR_1, end=MAR_31, branch_ids=None)
    assert [account.code for account in book.cash_accounts] == ["1100-BR1", "1100-HO"]
    assert book.opening_minor == 3_000_00
    assert [(day.day, day.receipts_minor, day.payments_minor, day.closing_minor) for day in book.days] == [
        (MAR_2, 14_500_50, 0, 17_500_50),
        (MAR_10, 150_00, 1_275_25, 16_375_25),
    ]
    assert [
        (entry.entry_id, entry.branch_code, entry.receipt_minor, entry.payment_minor)
        for entry in book.days[1].entries
    ] == [
        (_entry("b-7"), "HO", 0, 1_200_25),
        (_entry("b-9"), "BR1", 150_00, 0),
        (_entry("b-10"), "HO", 0, 75_00),
    ]
    assert [[account.code for account in entry.counter_accounts] for entry in book.days[1].entries] == [
        ["2100-VOL"],
        ["4300"],
        ["5300"],
    ]
    assert (book.receipts_minor, book.payments_minor, book.closing_minor) == (14_650_50, 1_275_25, 16_375_25)

    head_office = selectors.cash_book(start=MAR_1, end=MAR_31, branch_ids=[books.ho.pk])
    assert (head_office.opening_minor, head_office.closing_minor) == (3_000_00, 13_224_75)
    branch = selectors.cash_book(start=MAR_1, end=MAR_31, branch_ids=[books.br1.pk])
    assert (branch.opening_minor, branch.receipts_minor, branch.closing_minor) == (0, 3_150_50, 3_150_50)


def test_general_ledger_of_a_liability_and_of_an_asset(books: Books) -> None:
    savings = selectors.general_ledger(account_code="2100-VOL", start=MAR_1, end=MAR_31, branch_ids=None)
    assert savings.opening_minor == 2_000_00
    assert [
        (line.entry_id, line.branch_code, line.debit_minor, line.credit_minor, line.balance_minor)
        for line in savings.lines
    ] == [
        (_entry("b-3"), "HO", 0, 10_000_00, 12_000_00),
        (_entry("b-5"), "BR1", 0, 2_500_50, 14_500_50),
        (_entry("b-7"), "HO", 1_200_25, 0, 13_300_25),
        (_entry("b-8"), "HO", 300_00, 0, 13_000_25),
    ]
    assert [[account.code for account in line.counter_accounts] for line in savings.lines] == [
        ["1100-HO"],
        ["1100-BR1"],
        ["1100-HO"],
        ["2100-CMP"],
    ]
    assert (savings.debit_minor, savings.credit_minor, savings.closing_minor) == (
        1_500_25,
        12_500_50,
        13_000_25,
    )

    branch = selectors.general_ledger(
        account_code="2100-VOL", start=MAR_1, end=MAR_31, branch_ids=[books.br1.pk]
    )
    assert (branch.opening_minor, len(branch.lines), branch.closing_minor) == (0, 1, 2_500_50)

    cash = selectors.general_ledger(account_code="1100-HO", start=FEB_1, end=MAR_31, branch_ids=None)
    assert cash.opening_minor == 0
    assert [line.balance_minor for line in cash.lines] == [
        2_000_00,
        3_000_00,
        13_000_00,
        14_500_00,
        13_299_75,
        13_224_75,
    ]


def test_day_journal_lists_each_entry_with_its_lines(books: Books) -> None:
    journal = selectors.day_journal(day=MAR_10, branch_ids=None)
    assert [entry.entry_id for entry in journal.entries] == [
        _entry(f"b-{number}") for number in (7, 8, 9, 10)
    ]
    assert [
        [(line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines]
        for entry in journal.entries
    ] == [
        [("2100-VOL", 1_200_25, 0), ("1100-HO", 0, 1_200_25)],
        [("2100-VOL", 300_00, 0), ("2100-CMP", 0, 300_00)],
        [("1100-BR1", 150_00, 0), ("4300", 0, 150_00)],
        [("5300", 75_00, 0), ("1100-HO", 0, 75_00)],
    ]
    assert [entry.memo for entry in journal.entries][2:] == ["Passbook fee", "Stationery"]
    assert (journal.debit_minor, journal.credit_minor) == (1_725_25, 1_725_25)
    branch = selectors.day_journal(day=MAR_10, branch_ids=[books.br1.pk])
    assert [(entry.entry_id, entry.debit_minor) for entry in branch.entries] == [(_entry("b-9"), 150_00)]


def _products(result: selectors.SavingsBalances) -> list[tuple[str, str, int, int]]:
    return [
        (row.product.code, row.control_account.code, row.accounts, row.balance_minor) for row in result.rows
    ]


def test_savings_balances_by_product_as_of_a_date(books: Books) -> None:
    march = selectors.savings_balances(as_of=MAR_31, branch_ids=None)
    assert _products(march) == [("CMP", "2100-CMP", 1, 1_800_00), ("VOL", "2100-VOL", 2, 13_000_25)]
    assert (march.accounts, march.balance_minor) == (3, 14_800_25)

    branch = selectors.savings_balances(as_of=MAR_31, branch_ids=[books.br1.pk])
    assert _products(branch) == [("CMP", "2100-CMP", 0, 0), ("VOL", "2100-VOL", 1, 2_500_50)]
    head_office = selectors.savings_balances(as_of=MAR_31, branch_ids=[books.ho.pk])
    assert _products(head_office) == [("CMP", "2100-CMP", 1, 1_800_00), ("VOL", "2100-VOL", 1, 10_499_75)]

    # Before the March openings only the head office's voluntary account was open.
    february = selectors.savings_balances(as_of=FEB_28, branch_ids=None)
    assert _products(february) == [("CMP", "2100-CMP", 0, 0), ("VOL", "2100-VOL", 1, 2_000_00)]

    # At the end of the books the ledger agrees with the accounts' own balances.
    april = selectors.savings_balances(as_of=APR_30, branch_ids=None)
    accounts = (books.ho_voluntary, books.ho_compulsory, books.br1_voluntary)
    for account in accounts:
        account.refresh_from_db()
    assert april.balance_minor == sum(account.balance_minor for account in accounts) == 114_800_25


def test_member_statement_runs_each_account_and_the_shares(books: Books) -> None:
    statement = selectors.member_statement(
        member_number="HO-000001", start=MAR_1, end=MAR_31, branch_ids=None
    )
    assert (statement.member.number, statement.member.branch_code) == ("HO-000001", "HO")
    compulsory, voluntary = statement.savings  # in account number order
    assert (voluntary.number, voluntary.opening_minor, voluntary.closing_minor) == (
        "HO-000001-VOL-1",
        2_000_00,
        10_499_75,
    )
    assert [
        (m.value_date, m.kind, m.paid_in_minor, m.taken_out_minor, m.balance_minor)
        for m in voluntary.movements
    ] == [
        (MAR_2, "deposit", 10_000_00, 0, 12_000_00),
        (MAR_10, "withdrawal", 0, 1_200_25, 10_799_75),
        (MAR_10, "transfer_out", 0, 300_00, 10_499_75),
    ]
    assert (voluntary.paid_in_minor, voluntary.taken_out_minor) == (10_000_00, 1_500_25)
    assert [(m.kind, m.balance_minor) for m in compulsory.movements] == [
        ("deposit", 1_500_00),
        ("transfer_in", 1_800_00),
    ]
    assert (compulsory.opening_minor, compulsory.closing_minor) == (0, 1_800_00)
    assert statement.savings_closing_minor == 12_299_75
    shares = statement.shares
    assert (shares.opening_shares, shares.opening_minor, shares.movements) == (10, 1_000_00, [])
    assert (shares.closing_shares, shares.closing_minor) == (10, 1_000_00)

    whole = selectors.member_statement(
        member_number="HO-000001", start=FEB_1, end=APR_30, branch_ids=[books.ho.pk]
    )
    assert [
        (m.value_date, m.shares, m.paid_in_minor, m.shares_held, m.balance_minor)
        for m in whole.shares.movements
    ] == [
        (FEB, 10, 1_000_00, 10, 1_000_00),
        (dt.date(2026, 4, 6), 2, 200_00, 12, 1_200_00),
    ]
    assert (whole.shares.opening_shares, whole.shares.closing_shares, whole.shares.closing_minor) == (
        0,
        12,
        1_200_00,
    )

    # The compulsory account opened in March has no place in February's statement.
    february = selectors.member_statement(member_number="HO-000001", start=FEB_1, end=FEB_28, branch_ids=None)
    assert [account.number for account in february.savings] == ["HO-000001-VOL-1"]


def test_member_statement_refuses_a_member_outside_the_branches_like_an_unknown_one(books: Books) -> None:
    refusals = []
    for number in ("HO-000001", "NOBODY-1"):
        with pytest.raises(BusinessRuleViolation) as refused:
            selectors.member_statement(
                member_number=number, start=MAR_1, end=MAR_31, branch_ids=[books.br1.pk]
            )
        refusals.append((refused.value.code, refused.value.message))
    assert refusals[0] == refusals[1]
    assert refusals[0][0] == ErrorCode.REPORT_MEMBER_UNKNOWN


@pytest.mark.parametrize(
    "run",
    [
        lambda: selectors.trial_balance(start=MAR_1, end=MAR_31, branch_ids=None),
        lambda: selectors.balance_sheet(as_of=MAR_31, branch_ids=None),
        lambda: selectors.income_statement(start=MAR_1, end=MAR_31, branch_ids=None),
        lambda: selectors.savings_balances(as_of=MAR_31, branch_ids=None),
    ],
    ids=["trial-balance", "balance-sheet", "income-statement", "savings-balances"],
)
def test_balances_come_from_the_day_balances_never_the_journal(books: Books, run: Callable[[], Any]) -> None:
    with CaptureQueriesContext(connection) as queries:
        run()
    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert "ledger_accountdaybalance" in statements
    assert "ledger_journalline" not in statements
    assert "ledger_journalentry" not in statements
    assert "savings_savingstransaction" not in statements


def test_a_period_ending_before_it_starts_is_refused(books: Books) -> None:
    with pytest.raises(BusinessRuleViolation) as refused:
        selectors.cash_book(start=MAR_31, end=MAR_1, branch_ids=None)
    assert refused.value.code == ErrorCode.REPORT_PERIOD_INVALID
    with pytest.raises(BusinessRuleViolation) as unknown:
        selectors.general_ledger(account_code="9999", start=MAR_1, end=MAR_31, branch_ids=None)
    assert unknown.value.code == ErrorCode.ACCOUNT_UNKNOWN
