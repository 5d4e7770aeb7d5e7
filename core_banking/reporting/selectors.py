"""Accounting reports read from the ledger: balances from the day balances, listings from the period's lines.

Every selector takes a date or a period and a branch set: a list of branch ids, or None for the whole
cooperative (consolidated). Each entry posts all its lines to one branch, so the books of any set
of branches balance on their own.

Balances (trial balance, balance sheet, income statement and every opening balance) come from one
aggregate over ``ledger_accountdaybalance`` (one row per account, branch and day with postings):
their cost depends on the number of accounts, branches and days, never on the journal's size.
Listings (cash book, general ledger, day journal) read the lines of their period only.

Amounts are integer minor units. A *balance* is signed in the account's normal direction: positive
is a debit balance for assets and expenses, a credit balance for liabilities, equity and income.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from django.db import connection
from django.db.models import Sum

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import DEBIT_NORMAL_KINDS, Account, AccountKind
from core_banking.ledger.presets import CASH_CONTROL_PREFIX
from core_banking.lending.models import Loan, LoanTransaction, LoanTransactionKind
from core_banking.members.models import Member
from core_banking.organisation.models import Branch
from core_banking.savings.models import SavingsAccount, SavingsProduct
from core_banking.savings.selectors import account_statement, member_accounts, open_accounts_by_product
from core_banking.shares.selectors import members_visible, share_history

BranchIds = Sequence[int] | None

# A listing longer than this is refused with a request to narrow it: nobody reads it on screen or on
# paper, and building it would hold a web worker for long.
MAX_LISTING_LINES = 50_000


@dataclass(frozen=True)
class AccountRef:
    id: int
    code: str
    name: str
    kind: str


def _is_debit_normal(kind: str) -> bool:
    return kind in DEBIT_NORMAL_KINDS


def _natural(kind: str, net_debit: int) -> int:
    """A net debit (debits minus credits) expressed in the account's normal direction."""
    return net_debit if _is_debit_normal(kind) else -net_debit


def _debit_credit(net_debit: int) -> tuple[int, int]:
    return (net_debit, 0) if net_debit >= 0 else (0, -net_debit)


def _branch_clause(column: str, branch_ids: BranchIds, parameters: dict[str, Any]) -> str:
    if branch_ids is None:
        return ""
    parameters["branch_ids"] = list(branch_ids)
    return f" AND {column} = ANY(%(branch_ids)s::bigint[])"


def _fetchall(sql: str, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return list(cursor.fetchall())


def _accounts_by_id(ids: set[int] | None = None) -> dict[int, AccountRef]:
    accounts = Account.objects.all() if ids is None else Account.objects.filter(id__in=ids)
    return {
        account_id: AccountRef(account_id, code, name, kind)
        for account_id, code, name, kind in accounts.values_list("id", "code", "name", "kind")
    }


def _branch_codes() -> dict[int, str]:
    return dict(Branch.objects.values_list("id", "code"))


# --- Balances from the day balances --------------------------------------------------------------


@dataclass(frozen=True)
class _AccountTotals:
    account: AccountRef
    opening_net_debit: int  # before the period's first day
    period_debit: int
    period_credit: int

    @property
    def closing_net_debit(self) -> int:
        return self.opening_net_debit + self.period_debit - self.period_credit


# One pass over the day balances up to the period's end: rows before the start make the opening,
# the others the period's movements. The account join brings code, name and kind along.
_TOTALS_SQL = """
SELECT account.id, account.code, account.name, account.kind, totals.opening, totals.debit, totals.credit
FROM (
    SELECT account_id,
        COALESCE(SUM(debit_minor - credit_minor) FILTER (WHERE day < %(start)s::date), 0)::bigint AS opening,
        COALESCE(SUM(debit_minor) FILTER (WHERE day >= %(start)s::date), 0)::bigint AS debit,
        COALESCE(SUM(credit_minor) FILTER (WHERE day >= %(start)s::date), 0)::bigint AS credit
    FROM ledger_accountdaybalance
    WHERE day <= %(end)s::date{branch_clause}
    GROUP BY account_id
) AS totals
JOIN ledger_account AS account ON account.id = totals.account_id{kind_clause}
ORDER BY account.code
"""


def _account_totals(
    *, start: dt.date | None, end: dt.date, branch_ids: BranchIds, kinds: Sequence[str] | None = None
) -> list[_AccountTotals]:
    parameters: dict[str, Any] = {"start": start or dt.date.min, "end": end}
    branch_clause = _branch_clause("branch_id", branch_ids, parameters)
    kind_clause = ""
    if kinds is not None:
        parameters["kinds"] = list(kinds)
        kind_clause = " WHERE account.kind = ANY(%(kinds)s::text[])"
    rows = _fetchall(_TOTALS_SQL.format(branch_clause=branch_clause, kind_clause=kind_clause), parameters)
    return [
        _AccountTotals(AccountRef(account_id, code, name, kind), opening, debit, credit)
        for account_id, code, name, kind, opening, debit, credit in rows
    ]


_OPENING_SQL = """
SELECT COALESCE(SUM(debit_minor - credit_minor), 0)::bigint
FROM ledger_accountdaybalance
WHERE account_id = ANY(%(account_ids)s::bigint[]) AND day < %(before)s::date{branch_clause}
"""


def _opening_net_debit(*, account_ids: Sequence[int], before: dt.date, branch_ids: BranchIds) -> int:
    parameters: dict[str, Any] = {"account_ids": list(account_ids), "before": before}
    branch_clause = _branch_clause("branch_id", branch_ids, parameters)
    rows = _fetchall(_OPENING_SQL.format(branch_clause=branch_clause), parameters)
    return int(rows[0][0])


def _check_period(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise BusinessRuleViolation(
            ErrorCode.REPORT_PERIOD_INVALID,
            "The period's first day is after its last day.",
            fields={"start": [f"{start.isoformat()} is after {end.isoformat()}."]},
        )


@dataclass(frozen=True)
class TrialBalanceRow:
    account: AccountRef
    opening_debit_minor: int
    opening_credit_minor: int
    period_debit_minor: int
    period_credit_minor: int
    closing_debit_minor: int
    closing_credit_minor: int


@dataclass(frozen=True)
class TrialBalance:
    start: dt.date | None  # None: as of ``end``, everything before it counted in the closing balances
    end: dt.date
    rows: list[TrialBalanceRow]
    opening_debit_minor: int
    opening_credit_minor: int
    period_debit_minor: int
    period_credit_minor: int
    closing_debit_minor: int
    closing_credit_minor: int

    @property
    def balanced(self) -> bool:
        return (
            self.opening_debit_minor == self.opening_credit_minor
            and self.period_debit_minor == self.period_credit_minor
            and self.closing_debit_minor == self.closing_credit_minor
        )


def trial_balance(*, end: dt.date, branch_ids: BranchIds, start: dt.date | None = None) -> TrialBalance:
    """Each account's debit or credit balance at the end of ``end``.

    With ``start``, also the balance before ``start`` and the debits and credits of ``start``..``end``.
    Accounts with no postings up to ``end`` in these branches are left out.
    """
    if start is not None:
        _check_period(start, end)
    rows = []
    for totals in _account_totals(start=start, end=end, branch_ids=branch_ids):
        opening_debit, opening_credit = _debit_credit(totals.opening_net_debit)
        closing_debit, closing_credit = _debit_credit(totals.closing_net_debit)
        rows.append(
            TrialBalanceRow(
                account=totals.account,
                opening_debit_minor=opening_debit,
                opening_credit_minor=opening_credit,
                period_debit_minor=totals.period_debit,
                period_credit_minor=totals.period_credit,
                closing_debit_minor=closing_debit,
                closing_credit_minor=closing_credit,
            )
        )
    return TrialBalance(
        start=start,
        end=end,
        rows=rows,
        opening_debit_minor=sum(row.opening_debit_minor for row in rows),
        opening_credit_minor=sum(row.opening_credit_minor for row in rows),
        period_debit_minor=sum(row.period_debit_minor for row in rows),
        period_credit_minor=sum(row.period_credit_minor for row in rows),
        closing_debit_minor=sum(row.closing_debit_minor for row in rows),
        closing_credit_minor=sum(row.closing_credit_minor for row in rows),
    )


@dataclass(frozen=True)
class StatementLine:
    account: AccountRef
    amount_minor: int  # in the account's normal direction: a contra account shows negative


@dataclass(frozen=True)
class StatementSection:
    kind: str
    lines: list[StatementLine]
    total_minor: int


def _section(kind: str, totals: Sequence[_AccountTotals], *, closing: bool) -> StatementSection:
    lines = []
    for item in totals:
        if item.account.kind != kind:
            continue
        net_debit = item.closing_net_debit if closing else item.period_debit - item.period_credit
        lines.append(StatementLine(item.account, _natural(kind, net_debit)))
    return StatementSection(kind=kind, lines=lines, total_minor=sum(line.amount_minor for line in lines))


@dataclass(frozen=True)
class BalanceSheet:
    as_of: dt.date
    assets: StatementSection
    liabilities: StatementSection
    equity: StatementSection
    # Income minus expense still standing in the income and expense accounts (not yet closed to
    # retained surplus): part of equity, shown on its own line.
    unclosed_surplus_minor: int
    total_equity_minor: int
    total_liabilities_and_equity_minor: int

    @property
    def balanced(self) -> bool:
        return self.assets.total_minor == self.total_liabilities_and_equity_minor


def balance_sheet(*, as_of: dt.date, branch_ids: BranchIds) -> BalanceSheet:
    totals = _account_totals(start=None, end=as_of, branch_ids=branch_ids)
    income = _section(AccountKind.INCOME, totals, closing=True)
    expense = _section(AccountKind.EXPENSE, totals, closing=True)
    liabilities = _section(AccountKind.LIABILITY, totals, closing=True)
    equity = _section(AccountKind.EQUITY, totals, closing=True)
    surplus = income.total_minor - expense.total_minor
    total_equity = equity.total_minor + surplus
    return BalanceSheet(
        as_of=as_of,
        assets=_section(AccountKind.ASSET, totals, closing=True),
        liabilities=liabilities,
        equity=equity,
        unclosed_surplus_minor=surplus,
        total_equity_minor=total_equity,
        total_liabilities_and_equity_minor=liabilities.total_minor + total_equity,
    )


@dataclass(frozen=True)
class IncomeStatement:
    start: dt.date
    end: dt.date
    income: StatementSection
    expense: StatementSection
    net_surplus_minor: int  # negative: a deficit


def income_statement(*, start: dt.date, end: dt.date, branch_ids: BranchIds) -> IncomeStatement:
    _check_period(start, end)
    totals = _account_totals(
        start=start, end=end, branch_ids=branch_ids, kinds=[AccountKind.INCOME, AccountKind.EXPENSE]
    )
    # Accounts with postings only before the period have no movement in it: leave them out.
    moved = [item for item in totals if item.period_debit or item.period_credit]
    income = _section(AccountKind.INCOME, moved, closing=False)
    expense = _section(AccountKind.EXPENSE, moved, closing=False)
    return IncomeStatement(
        start=start,
        end=end,
        income=income,
        expense=expense,
        net_surplus_minor=income.total_minor - expense.total_minor,
    )


# --- Listings from the period's lines -------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    line_id: int
    account_id: int
    debit_minor: int
    credit_minor: int


@dataclass(frozen=True)
class _Entry:
    entry_id: int
    value_date: dt.date
    branch_id: int
    memo: str
    reverses_id: int | None
    posted_at: dt.datetime
    lines: list[_Line]


# Entries of the period (and branches), in value-date then posting order, with all their lines;
# when accounts are given, only the entries with a line on one of them.
_ENTRIES_SQL = """
SELECT entry.id, entry.value_date, entry.branch_id, entry.memo, entry.reverses_id, entry.posted_at,
    line.id, line.account_id, line.debit_minor, line.credit_minor
FROM ledger_journalentry AS entry
JOIN ledger_journalline AS line ON line.entry_id = entry.id
WHERE entry.value_date BETWEEN %(start)s::date AND %(end)s::date{branch_clause}{account_clause}
ORDER BY entry.value_date, entry.id, line.id
LIMIT %(limit)s
"""

_TOUCHES_ACCOUNTS = """
    AND EXISTS (SELECT 1 FROM ledger_journalline AS touched
                WHERE touched.entry_id = entry.id AND touched.account_id = ANY(%(account_ids)s::bigint[]))"""


def _entries(
    *, start: dt.date, end: dt.date, branch_ids: BranchIds, account_ids: Sequence[int] | None = None
) -> list[_Entry]:
    parameters: dict[str, Any] = {"start": start, "end": end, "limit": MAX_LISTING_LINES + 1}
    branch_clause = _branch_clause("entry.branch_id", branch_ids, parameters)
    account_clause = ""
    if account_ids is not None:
        parameters["account_ids"] = list(account_ids)
        account_clause = _TOUCHES_ACCOUNTS
    rows = _fetchall(
        _ENTRIES_SQL.format(branch_clause=branch_clause, account_clause=account_clause), parameters
    )
    if len(rows) > MAX_LISTING_LINES:
        raise BusinessRuleViolation(
            ErrorCode.REPORT_TOO_LARGE,
            f"The listing would have more than {MAX_LISTING_LINES} lines; choose a shorter period.",
            fields={"start": ["Choose a shorter period or fewer branches."]},
        )
    entries = []
    for _entry_id, group in groupby(rows, key=lambda row: row[0]):
        lines = list(group)
        entry_id, value_date, branch_id, memo, reverses_id, posted_at = lines[0][:6]
        entries.append(
            _Entry(
                entry_id=entry_id,
                value_date=value_date,
                branch_id=branch_id,
                memo=memo,
                reverses_id=reverses_id,
                posted_at=posted_at,
                lines=[_Line(row[6], row[7], row[8], row[9]) for row in lines],
            )
        )
    return entries


def _counter_accounts(
    entry: _Entry, own_account_ids: set[int], accounts: dict[int, AccountRef], *, own_debit: bool | None
) -> list[AccountRef]:
    """The accounts on the other side of the entry: what the money came from or went to.

    ``own_debit`` is the side of the account(s) being reported; lines on the opposite side are the
    counter-accounts. When the entry has no other account on that side (cash moved between two of
    the reported accounts), every other line's account is named instead.
    """
    others = [line for line in entry.lines if line.account_id not in own_account_ids]
    opposite = [line for line in others if own_debit is None or (line.credit_minor > 0) == own_debit]
    chosen = opposite or others or [line for line in entry.lines]
    seen: dict[int, AccountRef] = {}
    for line in chosen:
        seen.setdefault(line.account_id, accounts[line.account_id])
    return list(seen.values())


@dataclass(frozen=True)
class CashBookEntry:
    entry_id: int
    value_date: dt.date
    branch_code: str
    memo: str
    reverses_entry_id: int | None
    counter_accounts: list[AccountRef]
    receipt_minor: int
    payment_minor: int


@dataclass(frozen=True)
class CashBookDay:
    day: dt.date
    entries: list[CashBookEntry]
    receipts_minor: int
    payments_minor: int
    closing_minor: int


@dataclass(frozen=True)
class CashBook:
    start: dt.date
    end: dt.date
    cash_accounts: list[AccountRef]
    opening_minor: int
    days: list[CashBookDay]
    receipts_minor: int
    payments_minor: int
    closing_minor: int


def cash_accounts() -> list[AccountRef]:
    """The branch cash accounts (1100-<branch code>)."""
    cash = Account.objects.filter(code__startswith=f"{CASH_CONTROL_PREFIX}-").order_by("code")
    return [AccountRef(*row) for row in cash.values_list("id", "code", "name", "kind")]


def cash_book(*, start: dt.date, end: dt.date, branch_ids: BranchIds) -> CashBook:
    """Receipts and payments of the branches' cash, entry by entry, with daily subtotals."""
    _check_period(start, end)
    cash = cash_accounts()
    cash_ids = {account.id for account in cash}
    opening = _opening_net_debit(account_ids=sorted(cash_ids), before=start, branch_ids=branch_ids)
    entries = _entries(start=start, end=end, branch_ids=branch_ids, account_ids=sorted(cash_ids))
    accounts = _accounts_by_id()
    branch_codes = _branch_codes()
    days: list[CashBookDay] = []
    balance = opening
    for day, group in groupby(entries, key=lambda entry: entry.value_date):
        rows = []
        for entry in group:
            receipt = sum(line.debit_minor for line in entry.lines if line.account_id in cash_ids)
            payment = sum(line.credit_minor for line in entry.lines if line.account_id in cash_ids)
            rows.append(
                CashBookEntry(
                    entry_id=entry.entry_id,
                    value_date=entry.value_date,
                    branch_code=branch_codes[entry.branch_id],
                    memo=entry.memo,
                    reverses_entry_id=entry.reverses_id,
                    counter_accounts=_counter_accounts(
                        entry, cash_ids, accounts, own_debit=receipt >= payment
                    ),
                    receipt_minor=receipt,
                    payment_minor=payment,
                )
            )
        receipts = sum(row.receipt_minor for row in rows)
        payments = sum(row.payment_minor for row in rows)
        balance += receipts - payments
        days.append(CashBookDay(day, rows, receipts, payments, balance))
    return CashBook(
        start=start,
        end=end,
        cash_accounts=cash,
        opening_minor=opening,
        days=days,
        receipts_minor=sum(day.receipts_minor for day in days),
        payments_minor=sum(day.payments_minor for day in days),
        closing_minor=balance,
    )


@dataclass(frozen=True)
class LedgerLine:
    entry_id: int
    line_id: int
    value_date: dt.date
    branch_code: str
    memo: str
    reverses_entry_id: int | None
    counter_accounts: list[AccountRef]
    debit_minor: int
    credit_minor: int
    balance_minor: int  # running, in the account's normal direction


@dataclass(frozen=True)
class GeneralLedger:
    account: AccountRef
    start: dt.date
    end: dt.date
    opening_minor: int  # in the account's normal direction
    lines: list[LedgerLine]
    debit_minor: int
    credit_minor: int
    closing_minor: int


def account_for_report(code: str) -> AccountRef:
    account = Account.objects.filter(code=code).values_list("id", "code", "name", "kind").first()
    if account is None:
        raise BusinessRuleViolation(
            ErrorCode.ACCOUNT_UNKNOWN, "There is no account with this code.", fields={"account": [code]}
        )
    return AccountRef(*account)


def general_ledger(
    *, account_code: str, start: dt.date, end: dt.date, branch_ids: BranchIds
) -> GeneralLedger:
    """One account's lines of the period with counter-accounts and the running balance."""
    _check_period(start, end)
    account = account_for_report(account_code)
    opening = _natural(
        account.kind, _opening_net_debit(account_ids=[account.id], before=start, branch_ids=branch_ids)
    )
    entries = _entries(start=start, end=end, branch_ids=branch_ids, account_ids=[account.id])
    accounts = _accounts_by_id()
    branch_codes = _branch_codes()
    balance = opening
    lines = []
    for entry in entries:
        for line in entry.lines:
            if line.account_id != account.id:
                continue
            balance += _natural(account.kind, line.debit_minor - line.credit_minor)
            lines.append(
                LedgerLine(
                    entry_id=entry.entry_id,
                    line_id=line.line_id,
                    value_date=entry.value_date,
                    branch_code=branch_codes[entry.branch_id],
                    memo=entry.memo,
                    reverses_entry_id=entry.reverses_id,
                    counter_accounts=_counter_accounts(
                        entry, {account.id}, accounts, own_debit=line.debit_minor > 0
                    ),
                    debit_minor=line.debit_minor,
                    credit_minor=line.credit_minor,
                    balance_minor=balance,
                )
            )
    return GeneralLedger(
        account=account,
        start=start,
        end=end,
        opening_minor=opening,
        lines=lines,
        debit_minor=sum(line.debit_minor for line in lines),
        credit_minor=sum(line.credit_minor for line in lines),
        closing_minor=balance,
    )


@dataclass(frozen=True)
class JournalLineView:
    account: AccountRef
    debit_minor: int
    credit_minor: int


@dataclass(frozen=True)
class JournalEntryView:
    entry_id: int
    value_date: dt.date
    branch_code: str
    memo: str
    reverses_entry_id: int | None
    posted_at: dt.datetime
    lines: list[JournalLineView]
    debit_minor: int
    credit_minor: int


@dataclass(frozen=True)
class DayJournal:
    day: dt.date
    entries: list[JournalEntryView]
    debit_minor: int
    credit_minor: int


def day_journal(*, day: dt.date, branch_ids: BranchIds) -> DayJournal:
    """Every entry with value date ``day``, in posting order, with its lines and totals."""
    accounts = _accounts_by_id()
    branch_codes = _branch_codes()
    entries = [
        JournalEntryView(
            entry_id=entry.entry_id,
            value_date=entry.value_date,
            branch_code=branch_codes[entry.branch_id],
            memo=entry.memo,
            reverses_entry_id=entry.reverses_id,
            posted_at=entry.posted_at,
            lines=[
                JournalLineView(accounts[line.account_id], line.debit_minor, line.credit_minor)
                for line in entry.lines
            ],
            debit_minor=sum(line.debit_minor for line in entry.lines),
            credit_minor=sum(line.credit_minor for line in entry.lines),
        )
        for entry in _entries(start=day, end=day, branch_ids=branch_ids)
    ]
    return DayJournal(
        day=day,
        entries=entries,
        debit_minor=sum(entry.debit_minor for entry in entries),
        credit_minor=sum(entry.credit_minor for entry in entries),
    )


# --- Savings and members ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class ProductBalanceRow:
    product: ProductRef
    control_account: AccountRef
    accounts: int  # open at the end of the day
    balance_minor: int  # the product's control account, a credit balance


@dataclass(frozen=True)
class SavingsBalances:
    as_of: dt.date
    rows: list[ProductBalanceRow]
    accounts: int
    balance_minor: int


def savings_balances(*, as_of: dt.date, branch_ids: BranchIds) -> SavingsBalances:
    """Per savings product: the accounts open and the balance held at the end of ``as_of``.

    The balance is the product's control account (2100-<product code>) summed from the day balances,
    like every other balance in the reports; the count comes from the accounts' opening and closing
    dates.
    """
    branch_list = None if branch_ids is None else list(branch_ids)
    counts = open_accounts_by_product(branch_ids=branch_list, as_of=as_of)
    balances = {
        totals.account.id: _natural(totals.account.kind, totals.closing_net_debit)
        for totals in _account_totals(
            start=None, end=as_of, branch_ids=branch_ids, kinds=[AccountKind.LIABILITY]
        )
    }
    products = list(
        SavingsProduct.objects.order_by("code").values_list("id", "code", "name", "control_account_id")
    )
    controls = _accounts_by_id({control_id for *_product, control_id in products})
    rows = [
        ProductBalanceRow(
            product=ProductRef(product_id, code, name),
            control_account=controls[control_id],
            accounts=counts.get(product_id, 0),
            balance_minor=balances.get(control_id, 0),
        )
        for product_id, code, name, control_id in products
    ]
    return SavingsBalances(
        as_of=as_of,
        rows=rows,
        accounts=sum(row.accounts for row in rows),
        balance_minor=sum(row.balance_minor for row in rows),
    )


@dataclass(frozen=True)
class MemberRef:
    id: int
    number: str
    name: str
    branch_code: str


@dataclass(frozen=True)
class SavingsMovement:
    transaction_id: int
    entry_id: int
    value_date: dt.date
    kind: str  # core_banking.savings.models.TransactionKind
    memo: str
    paid_in_minor: int
    taken_out_minor: int
    balance_minor: int  # running, in value-date order


@dataclass(frozen=True)
class SavingsAccountStatement:
    account_id: int
    number: str
    product: ProductRef
    status: str
    opening_minor: int
    movements: list[SavingsMovement]
    paid_in_minor: int
    taken_out_minor: int
    closing_minor: int


@dataclass(frozen=True)
class ShareMovement:
    transaction_id: int
    entry_id: int
    value_date: dt.date
    kind: str  # core_banking.shares.models.ShareTransactionKind
    memo: str
    shares: int  # signed: negative when shares go back
    paid_in_minor: int
    taken_out_minor: int
    shares_held: int  # running, in value-date order
    balance_minor: int


@dataclass(frozen=True)
class ShareStatement:
    opening_shares: int
    opening_minor: int
    movements: list[ShareMovement]
    paid_in_minor: int
    taken_out_minor: int
    closing_shares: int
    closing_minor: int


@dataclass(frozen=True)
class LoanMovement:
    transaction_id: int
    value_date: dt.date
    kind: str  # core_banking.lending.models.LoanTransactionKind
    memo: str
    amount_minor: int
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    paid_in_minor: int  # repaid by the member (a reversal takes a repayment back: negative)
    taken_out_minor: int  # paid out to the member
    principal_outstanding_minor: int  # running, in value-date order


@dataclass(frozen=True)
class LoanStatement:
    loan_id: int
    number: str
    product: ProductRef
    status: str  # core_banking.lending.models.LoanStatus, now
    disbursed_on: dt.date
    principal_minor: int
    opening_outstanding_minor: int  # principal outstanding before the period
    movements: list[LoanMovement]
    closing_outstanding_minor: int
    overdue_minor: int  # as of ``overdue_as_of`` (the last close of business that aged the loan)
    days_past_due: int
    overdue_as_of: dt.date | None


@dataclass(frozen=True)
class MemberStatement:
    member: MemberRef
    start: dt.date
    end: dt.date
    savings: list[SavingsAccountStatement]
    shares: ShareStatement
    savings_closing_minor: int  # all the member's savings at the end of the period
    loans: list[LoanStatement] = field(default_factory=list)
    loans_outstanding_minor: int = 0  # principal the member owed at the end of the period


def _member_in_branches(number: str, branch_ids: BranchIds) -> Member:
    visible = None if branch_ids is None else list(branch_ids)
    member = members_visible(visible_branch_ids=visible).filter(number=number.strip()).first()
    if member is None:
        # The same answer for a member who does not exist and one outside the chosen branches, so
        # that staff limited to some branches learn nothing about the others' members.
        raise BusinessRuleViolation(
            ErrorCode.REPORT_MEMBER_UNKNOWN,
            "There is no member with this number in the chosen branches.",
            fields={"member": [number]},
        )
    return member


def _savings_statement(account: SavingsAccount, start: dt.date, end: dt.date) -> SavingsAccountStatement:
    statement = account_statement(account=account, start=start, end=end)
    balance = statement.opening_minor
    movements = []
    for movement in statement.transactions:
        balance += movement.amount_minor
        movements.append(
            SavingsMovement(
                transaction_id=movement.pk,
                entry_id=movement.entry_id,
                value_date=movement.value_date,
                kind=movement.kind,
                memo=movement.memo,
                paid_in_minor=max(movement.amount_minor, 0),
                taken_out_minor=max(-movement.amount_minor, 0),
                balance_minor=balance,
            )
        )
    return SavingsAccountStatement(
        account_id=account.pk,
        number=account.number,
        product=ProductRef(account.product.pk, account.product.code, account.product.name),
        status=account.status,
        opening_minor=statement.opening_minor,
        movements=movements,
        paid_in_minor=statement.deposits_minor,
        taken_out_minor=statement.withdrawals_minor,
        closing_minor=statement.closing_minor,
    )


def _share_statement(member: Member, start: dt.date, end: dt.date) -> ShareStatement:
    history = share_history(member=member)
    before = history.filter(value_date__lt=start).aggregate(shares=Sum("shares"), amount=Sum("amount_minor"))
    shares = opening_shares = int(before["shares"] or 0)
    balance = opening_minor = int(before["amount"] or 0)
    movements = []
    for movement in history.filter(value_date__gte=start, value_date__lte=end):
        shares += movement.shares
        balance += movement.amount_minor
        movements.append(
            ShareMovement(
                transaction_id=movement.pk,
                entry_id=movement.entry_id,
                value_date=movement.value_date,
                kind=movement.kind,
                memo=movement.memo,
                shares=movement.shares,
                paid_in_minor=max(movement.amount_minor, 0),
                taken_out_minor=max(-movement.amount_minor, 0),
                shares_held=shares,
                balance_minor=balance,
            )
        )
    return ShareStatement(
        opening_shares=opening_shares,
        opening_minor=opening_minor,
        movements=movements,
        paid_in_minor=sum(movement.paid_in_minor for movement in movements),
        taken_out_minor=sum(movement.taken_out_minor for movement in movements),
        closing_shares=shares,
        closing_minor=balance,
    )


# How each loan movement changes the principal outstanding, and whether the member paid or received it.
_PRINCIPAL_EFFECT = {
    LoanTransactionKind.DISBURSEMENT: 1,
    LoanTransactionKind.REPAYMENT: -1,
    LoanTransactionKind.WRITE_OFF: -1,
    LoanTransactionKind.REVERSAL: 1,  # a repayment undone
}


def _loan_movement_effect(movement: LoanTransaction) -> tuple[int, int, int]:
    """(principal change, paid in, taken out) of one movement."""
    principal = _PRINCIPAL_EFFECT.get(LoanTransactionKind(movement.kind), 0) * movement.principal_minor
    if movement.kind in (LoanTransactionKind.REPAYMENT, LoanTransactionKind.RECOVERY):
        return principal, movement.amount_minor, 0
    if movement.kind == LoanTransactionKind.REVERSAL:
        return principal, -movement.amount_minor, 0
    if movement.kind == LoanTransactionKind.DISBURSEMENT:
        return principal, 0, movement.amount_minor
    return principal, 0, 0


def _loan_statement(loan: Loan, start: dt.date, end: dt.date) -> LoanStatement:
    history = LoanTransaction.objects.filter(loan=loan, value_date__lte=end).order_by("value_date", "id")
    opening = 0
    movements: list[LoanMovement] = []
    for movement in history:
        change, paid_in, taken_out = _loan_movement_effect(movement)
        if movement.value_date < start:
            opening += change
            continue
        balance = (movements[-1].principal_outstanding_minor if movements else opening) + change
        movements.append(
            LoanMovement(
                transaction_id=movement.pk,
                value_date=movement.value_date,
                kind=movement.kind,
                memo=movement.memo,
                amount_minor=movement.amount_minor,
                principal_minor=movement.principal_minor,
                interest_minor=movement.interest_minor,
                fee_minor=movement.fee_minor,
                penalty_minor=movement.penalty_minor,
                paid_in_minor=paid_in,
                taken_out_minor=taken_out,
                principal_outstanding_minor=balance,
            )
        )
    return LoanStatement(
        loan_id=loan.pk,
        number=loan.number,
        product=ProductRef(loan.product.pk, loan.product.code, loan.product.name),
        status=loan.status,
        disbursed_on=loan.disbursed_on,
        principal_minor=loan.principal_minor,
        opening_outstanding_minor=opening,
        movements=movements,
        closing_outstanding_minor=movements[-1].principal_outstanding_minor if movements else opening,
        overdue_minor=loan.overdue_minor,
        days_past_due=loan.days_past_due,
        overdue_as_of=loan.arrears_as_of,
    )


def member_statement(
    *, member_number: str, start: dt.date, end: dt.date, branch_ids: BranchIds
) -> MemberStatement:
    """One member's savings accounts, share capital and loans over a period, with running balances.

    The member must belong to one of the branches asked for; every account of theirs is shown.
    Accounts opened after the period or closed before it are left out, and so are loans paid out
    after the period or closed before it. A loan's balance is its principal outstanding.
    """
    _check_period(start, end)
    member = _member_in_branches(member_number, branch_ids)
    accounts = member_accounts(member_id=member.pk).filter(opened_on__lte=end).exclude(closed_on__lt=start)
    savings = [_savings_statement(account, start, end) for account in accounts]
    loans = [
        _loan_statement(loan, start, end)
        for loan in Loan.objects.select_related("product")
        .filter(member=member, disbursed_on__lte=end)
        .exclude(closed_on__lt=start)
        .order_by("disbursed_on", "number")
    ]
    return MemberStatement(
        member=MemberRef(member.pk, member.number, member.full_name, member.branch.code),
        start=start,
        end=end,
        savings=savings,
        shares=_share_statement(member, start, end),
        savings_closing_minor=sum(account.closing_minor for account in savings),
        loans=loans,
        loans_outstanding_minor=sum(loan.closing_outstanding_minor for loan in loans),
    )
