"""How each report's result is laid out as a table (columns, sections, subtotals, totals).

Called while a request's language is active, so labels come out in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core_banking.lending.models import LoanTransactionKind
from core_banking.reporting.selectors import (
    AccountRef,
    BalanceSheet,
    CashBook,
    DayJournal,
    GeneralLedger,
    IncomeStatement,
    MemberStatement,
    SavingsBalances,
    StatementSection,
    TrialBalance,
)
from core_banking.reporting.tables import CellKind, Column, ReportTable, RowStyle
from core_banking.savings.models import TransactionKind
from core_banking.shares.models import ShareTransactionKind


def _or_blank(amount: int) -> int | None:
    """A zero on the side of a debit/credit pair that does not apply reads better as a blank."""
    return amount or None


def account_label(account: AccountRef) -> str:
    return f"{account.code} {account.name}"


def _accounts_text(accounts: Sequence[AccountRef]) -> str:
    return "; ".join(account_label(account) for account in accounts)


def _particulars(memo: str, reverses_entry_id: int | None) -> str:
    if reverses_entry_id is None:
        return memo
    reversal = _("Reversal of entry %(entry)s") % {"entry": reverses_entry_id}
    return f"{memo} ({reversal})" if memo else reversal


def trial_balance_table(result: TrialBalance) -> ReportTable:
    money = CellKind.MONEY
    if result.start is None:
        table = ReportTable(
            (Column(_("Code")), Column(_("Account")), Column(_("Debit"), money), Column(_("Credit"), money))
        )
        for row in result.rows:
            table.add(
                row.account.code,
                row.account.name,
                _or_blank(row.closing_debit_minor),
                _or_blank(row.closing_credit_minor),
            )
        table.add(
            None, _("Total"), result.closing_debit_minor, result.closing_credit_minor, style=RowStyle.TOTAL
        )
        return table
    table = ReportTable(
        (
            Column(_("Code")),
            Column(_("Account")),
            Column(_("Opening debit"), money),
            Column(_("Opening credit"), money),
            Column(_("Period debits"), money),
            Column(_("Period credits"), money),
            Column(_("Closing debit"), money),
            Column(_("Closing credit"), money),
        )
    )
    for row in result.rows:
        table.add(
            row.account.code,
            row.account.name,
            _or_blank(row.opening_debit_minor),
            _or_blank(row.opening_credit_minor),
            _or_blank(row.period_debit_minor),
            _or_blank(row.period_credit_minor),
            _or_blank(row.closing_debit_minor),
            _or_blank(row.closing_credit_minor),
        )
    table.add(
        None,
        _("Total"),
        result.opening_debit_minor,
        result.opening_credit_minor,
        result.period_debit_minor,
        result.period_credit_minor,
        result.closing_debit_minor,
        result.closing_credit_minor,
        style=RowStyle.TOTAL,
    )
    return table


def _statement_table() -> ReportTable:
    return ReportTable((Column(_("Code")), Column(_("Account")), Column(_("Amount"), CellKind.MONEY)))


def _add_section(table: ReportTable, title: str, total_label: str, section: StatementSection) -> None:
    table.section(title)
    for line in section.lines:
        table.add(line.account.code, line.account.name, line.amount_minor)
    table.add(None, total_label, section.total_minor, style=RowStyle.SUBTOTAL)


def balance_sheet_table(result: BalanceSheet) -> ReportTable:
    table = _statement_table()
    _add_section(table, _("Assets"), _("Total assets"), result.assets)
    _add_section(table, _("Liabilities"), _("Total liabilities"), result.liabilities)
    table.section(_("Equity"))
    for line in result.equity.lines:
        table.add(line.account.code, line.account.name, line.amount_minor)
    table.add(None, _("Surplus (deficit) not yet closed"), result.unclosed_surplus_minor)
    table.add(None, _("Total equity"), result.total_equity_minor, style=RowStyle.SUBTOTAL)
    table.add(
        None,
        _("Total liabilities and equity"),
        result.total_liabilities_and_equity_minor,
        style=RowStyle.TOTAL,
    )
    return table


def income_statement_table(result: IncomeStatement) -> ReportTable:
    table = _statement_table()
    _add_section(table, _("Income"), _("Total income"), result.income)
    _add_section(table, _("Expenses"), _("Total expenses"), result.expense)
    table.add(None, _("Net surplus (deficit)"), result.net_surplus_minor, style=RowStyle.TOTAL)
    return table


def cash_book_table(result: CashBook) -> ReportTable:
    money = CellKind.MONEY
    table = ReportTable(
        (
            Column(_("Date"), CellKind.DATE, repeat=False),
            Column(_("Entry"), CellKind.NUMBER),
            Column(_("Branch")),
            Column(_("Particulars")),
            Column(_("Counter-accounts")),
            Column(_("Receipts"), money),
            Column(_("Payments"), money),
            Column(_("Balance"), money),
        )
    )
    table.add(result.start, None, None, _("Opening balance"), None, None, None, result.opening_minor)
    for day in result.days:
        for number, entry in enumerate(day.entries):
            table.add(
                entry.value_date,
                entry.entry_id,
                entry.branch_code,
                _particulars(entry.memo, entry.reverses_entry_id),
                _accounts_text(entry.counter_accounts),
                _or_blank(entry.receipt_minor),
                _or_blank(entry.payment_minor),
                None,
                group_start=number == 0,
            )
        table.add(
            day.day,
            None,
            None,
            _("Day total"),
            None,
            day.receipts_minor,
            day.payments_minor,
            day.closing_minor,
            style=RowStyle.SUBTOTAL,
        )
    table.add(
        result.end,
        None,
        None,
        _("Closing balance"),
        None,
        result.receipts_minor,
        result.payments_minor,
        result.closing_minor,
        style=RowStyle.TOTAL,
    )
    return table


def general_ledger_table(result: GeneralLedger) -> ReportTable:
    money = CellKind.MONEY
    table = ReportTable(
        (
            Column(_("Date"), CellKind.DATE),
            Column(_("Entry"), CellKind.NUMBER),
            Column(_("Branch")),
            Column(_("Particulars")),
            Column(_("Counter-accounts")),
            Column(_("Debit"), money),
            Column(_("Credit"), money),
            Column(_("Balance"), money),
        )
    )
    table.add(result.start, None, None, _("Opening balance"), None, None, None, result.opening_minor)
    for line in result.lines:
        table.add(
            line.value_date,
            line.entry_id,
            line.branch_code,
            _particulars(line.memo, line.reverses_entry_id),
            _accounts_text(line.counter_accounts),
            _or_blank(line.debit_minor),
            _or_blank(line.credit_minor),
            line.balance_minor,
        )
    table.add(
        result.end,
        None,
        None,
        _("Closing balance"),
        None,
        result.debit_minor,
        result.credit_minor,
        result.closing_minor,
        style=RowStyle.TOTAL,
    )
    return table


def day_journal_table(result: DayJournal) -> ReportTable:
    money = CellKind.MONEY
    table = ReportTable(
        (
            Column(_("Entry"), CellKind.NUMBER, repeat=False),
            Column(_("Branch"), repeat=False),
            Column(_("Particulars"), repeat=False),
            Column(_("Code")),
            Column(_("Account")),
            Column(_("Debit"), money),
            Column(_("Credit"), money),
        )
    )
    for entry in result.entries:
        particulars = _particulars(entry.memo, entry.reverses_entry_id)
        for number, line in enumerate(entry.lines):
            table.add(
                entry.entry_id,
                entry.branch_code,
                particulars,
                line.account.code,
                line.account.name,
                _or_blank(line.debit_minor),
                _or_blank(line.credit_minor),
                group_start=number == 0,
            )
    count = len(result.entries)
    entries = ngettext("Total of %(count)s entry", "Total of %(count)s entries", count) % {"count": count}
    table.add(None, None, entries, None, None, result.debit_minor, result.credit_minor, style=RowStyle.TOTAL)
    return table


def savings_balances_table(result: SavingsBalances) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Code")),
            Column(_("Product")),
            Column(_("Accounts"), CellKind.NUMBER),
            Column(_("Balance"), CellKind.MONEY),
        )
    )
    for row in result.rows:
        table.add(row.product.code, row.product.name, row.accounts, row.balance_minor)
    table.add(None, _("Total"), result.accounts, result.balance_minor, style=RowStyle.TOTAL)
    return table


def _label(
    choices: type[TransactionKind] | type[ShareTransactionKind] | type[LoanTransactionKind],
    kind: str,
    memo: str,
) -> str:
    label = str(choices(kind).label) if kind in choices.values else kind
    return f"{label} — {memo}" if memo else label


def member_statement_table(result: MemberStatement) -> ReportTable:
    money = CellKind.MONEY
    table = ReportTable(
        (
            Column(_("Date"), CellKind.DATE),
            Column(_("Particulars")),
            Column(_("Shares"), CellKind.NUMBER),
            Column(_("Paid in"), money),
            Column(_("Taken out"), money),
            Column(_("Balance"), money),
        )
    )
    for account in result.savings:
        table.section(
            _("Savings account %(number)s · %(product)s")
            % {"number": account.number, "product": account.product.name}
        )
        table.add(result.start, _("Opening balance"), None, None, None, account.opening_minor)
        for movement in account.movements:
            table.add(
                movement.value_date,
                _label(TransactionKind, movement.kind, movement.memo),
                None,
                _or_blank(movement.paid_in_minor),
                _or_blank(movement.taken_out_minor),
                movement.balance_minor,
            )
        table.add(
            result.end,
            _("Closing balance"),
            None,
            account.paid_in_minor,
            account.taken_out_minor,
            account.closing_minor,
            style=RowStyle.SUBTOTAL,
        )
    shares = result.shares
    table.section(_("Share capital"))
    table.add(
        result.start, _("Shares held at the start"), shares.opening_shares, None, None, shares.opening_minor
    )
    for share_movement in shares.movements:
        table.add(
            share_movement.value_date,
            _label(ShareTransactionKind, share_movement.kind, share_movement.memo),
            share_movement.shares,
            _or_blank(share_movement.paid_in_minor),
            _or_blank(share_movement.taken_out_minor),
            share_movement.balance_minor,
        )
    table.add(
        result.end,
        _("Shares held at the end"),
        shares.closing_shares,
        shares.paid_in_minor,
        shares.taken_out_minor,
        shares.closing_minor,
        style=RowStyle.SUBTOTAL,
    )
    table.add(None, _("Total savings"), None, None, None, result.savings_closing_minor, style=RowStyle.TOTAL)
    if result.loans:
        _add_loans(table, result)
    return table


def _add_loans(table: ReportTable, result: MemberStatement) -> None:
    """Each loan: principal outstanding at the start, the period's movements, at the end, and overdue."""
    for loan in result.loans:
        table.section(
            _("Loan %(number)s · %(product)s") % {"number": loan.number, "product": loan.product.name}
        )
        table.add(loan.disbursed_on, _("Principal lent"), None, None, None, loan.principal_minor)
        table.add(
            result.start,
            _("Principal outstanding at the start"),
            None,
            None,
            None,
            loan.opening_outstanding_minor,
        )
        for movement in loan.movements:
            table.add(
                movement.value_date,
                _label(LoanTransactionKind, movement.kind, movement.memo),
                None,
                movement.paid_in_minor or None,
                _or_blank(movement.taken_out_minor),
                movement.principal_outstanding_minor,
            )
        table.add(
            result.end,
            _("Principal outstanding at the end"),
            None,
            sum(movement.paid_in_minor for movement in loan.movements),
            sum(movement.taken_out_minor for movement in loan.movements),
            loan.closing_outstanding_minor,
            style=RowStyle.SUBTOTAL,
        )
        if loan.overdue_as_of is not None:
            table.add(
                loan.overdue_as_of,
                ngettext(
                    "Overdue, %(days)s day past due",
                    "Overdue, %(days)s days past due",
                    loan.days_past_due,
                )
                % {"days": loan.days_past_due},
                None,
                None,
                None,
                loan.overdue_minor,
            )
    table.add(
        None,
        _("Total loans outstanding"),
        None,
        None,
        None,
        result.loans_outstanding_minor,
        style=RowStyle.TOTAL,
    )
