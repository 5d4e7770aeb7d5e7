"""The reports the workspace offers: one entry each, read by the pages, the exports and the API.

Adding a report takes a selector that returns a dataclass (``selectors.py`` or the module's own
``selectors.py``), a layout function that turns it into a ``ReportTable`` (``layouts.py``) and one
``register(ReportSpec(...))`` below. The staff page, the PDF, XLSX and CSV exports, the JSON endpoint
``/api/v1/reports/<slug>/`` and its OpenAPI schema follow from the entry. A report whose screen needs
more than the shared table names its own template in ``template`` (it receives the same context).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core_banking.lending.reports import PortfolioAtRisk, portfolio_at_risk
from core_banking.reporting import layouts, lending_layouts, lending_selectors, selectors
from core_banking.reporting.access import BranchSet
from core_banking.reporting.tables import ReportTable

if TYPE_CHECKING:  # type-checking only: django-stubs-ext is a development dependency
    from django_stubs_ext import StrPromise

Result = TypeVar("Result")


class Parameter(enum.StrEnum):
    AS_OF = "as_of"
    START = "start"
    END = "end"
    DAY = "day"
    ACCOUNT = "account"
    MEMBER = "member"
    GROUP = "group"


PARAMETER_LABELS: dict[Parameter, StrPromise] = {
    Parameter.AS_OF: gettext_lazy("As of"),
    Parameter.START: pgettext_lazy("period start", "From"),
    Parameter.END: pgettext_lazy("period end", "To"),
    Parameter.DAY: gettext_lazy("Day"),
    Parameter.ACCOUNT: gettext_lazy("Account"),
    Parameter.MEMBER: gettext_lazy("Member number"),
    Parameter.GROUP: gettext_lazy("Group code"),
}


@dataclass(frozen=True)
class ReportQuery:
    """What a report is asked for: checked parameters and a permitted branch set."""

    branch_set: BranchSet
    as_of: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    day: dt.date | None = None
    account: str | None = None
    member: str | None = None
    group: str | None = None

    @property
    def branch_ids(self) -> list[int] | None:
        return self.branch_set.as_list()

    def require_date(self, parameter: Parameter) -> dt.date:
        value = getattr(self, parameter.value)
        if not isinstance(value, dt.date):
            raise ValueError(f"the report needs {parameter.value}")
        return value


@dataclass(frozen=True)
class ReportSpec(Generic[Result]):
    slug: str
    title: StrPromise
    description: StrPromise
    group: StrPromise
    parameters: tuple[Parameter, ...]
    run: Callable[[ReportQuery], Result]
    layout: Callable[[Result], ReportTable]
    result_type: type[Result]
    optional: frozenset[Parameter] = frozenset()
    subtitle: Callable[[Result], str] | None = None
    template: str = "reporting/table.html"
    landscape: bool = False  # on paper: wide listings print across an A4 page

    def required(self, parameter: Parameter) -> bool:
        return parameter in self.parameters and parameter not in self.optional


REPORTS: dict[str, ReportSpec[Any]] = {}


def register(spec: ReportSpec[Result]) -> ReportSpec[Result]:
    if spec.slug in REPORTS:
        raise ValueError(f"report {spec.slug!r} is registered twice")
    REPORTS[spec.slug] = spec
    return spec


def period_label(query: ReportQuery, format_date: Callable[[dt.date], str]) -> str:
    """The date or period a report covers, as its heading says it."""
    if query.day is not None:
        return format_date(query.day)
    if query.start is not None and query.end is not None:
        return _("%(start)s to %(end)s") % {"start": format_date(query.start), "end": format_date(query.end)}
    as_of = query.as_of or query.end
    if as_of is not None:
        return _("As of %(date)s") % {"date": format_date(as_of)}
    return ""


FINANCIAL_STATEMENTS = gettext_lazy("Financial statements")
BOOKS = gettext_lazy("Books of account")
MEMBERS_AND_SAVINGS = gettext_lazy("Members and savings")
LOANS_DAILY = gettext_lazy("Loans: daily")
LOANS_MONTHLY = gettext_lazy("Loans: month end")

register(
    ReportSpec(
        slug="trial-balance",
        title=gettext_lazy("Trial balance"),
        description=gettext_lazy(
            "Every account's debit or credit balance; with a start date also the opening balance and "
            "the period's debits and credits."
        ),
        group=FINANCIAL_STATEMENTS,
        parameters=(Parameter.START, Parameter.END),
        optional=frozenset({Parameter.START}),
        run=lambda query: selectors.trial_balance(
            start=query.start, end=query.require_date(Parameter.END), branch_ids=query.branch_ids
        ),
        layout=layouts.trial_balance_table,
        result_type=selectors.TrialBalance,
        landscape=True,
    )
)
register(
    ReportSpec(
        slug="balance-sheet",
        title=gettext_lazy("Balance sheet"),
        description=gettext_lazy(
            "Assets, liabilities and equity on a date, with the surplus not yet closed to reserves."
        ),
        group=FINANCIAL_STATEMENTS,
        parameters=(Parameter.AS_OF,),
        run=lambda query: selectors.balance_sheet(
            as_of=query.require_date(Parameter.AS_OF), branch_ids=query.branch_ids
        ),
        layout=layouts.balance_sheet_table,
        result_type=selectors.BalanceSheet,
    )
)
register(
    ReportSpec(
        slug="income-statement",
        title=gettext_lazy("Income statement"),
        description=gettext_lazy("Income and expenses of a period and the net surplus or deficit."),
        group=FINANCIAL_STATEMENTS,
        parameters=(Parameter.START, Parameter.END),
        run=lambda query: selectors.income_statement(
            start=query.require_date(Parameter.START),
            end=query.require_date(Parameter.END),
            branch_ids=query.branch_ids,
        ),
        layout=layouts.income_statement_table,
        result_type=selectors.IncomeStatement,
    )
)
register(
    ReportSpec(
        slug="cash-book",
        title=gettext_lazy("Cash book"),
        description=gettext_lazy(
            "Cash received and paid by the branches, entry by entry, with daily totals and balances."
        ),
        group=BOOKS,
        parameters=(Parameter.START, Parameter.END),
        run=lambda query: selectors.cash_book(
            start=query.require_date(Parameter.START),
            end=query.require_date(Parameter.END),
            branch_ids=query.branch_ids,
        ),
        layout=layouts.cash_book_table,
        result_type=selectors.CashBook,
        landscape=True,
    )
)
register(
    ReportSpec(
        slug="general-ledger",
        title=gettext_lazy("General ledger"),
        description=gettext_lazy(
            "One account's postings of a period with counter-accounts and the running balance."
        ),
        group=BOOKS,
        parameters=(Parameter.ACCOUNT, Parameter.START, Parameter.END),
        run=lambda query: selectors.general_ledger(
            account_code=query.account or "",
            start=query.require_date(Parameter.START),
            end=query.require_date(Parameter.END),
            branch_ids=query.branch_ids,
        ),
        layout=layouts.general_ledger_table,
        result_type=selectors.GeneralLedger,
        subtitle=lambda result: layouts.account_label(result.account),
        landscape=True,
    )
)
register(
    ReportSpec(
        slug="day-journal",
        title=gettext_lazy("Daily transaction journal"),
        description=gettext_lazy("Every journal entry of one day with its lines and totals."),
        group=BOOKS,
        parameters=(Parameter.DAY,),
        run=lambda query: selectors.day_journal(
            day=query.require_date(Parameter.DAY), branch_ids=query.branch_ids
        ),
        layout=layouts.day_journal_table,
        result_type=selectors.DayJournal,
        landscape=True,
    )
)
register(
    ReportSpec(
        slug="savings-balances",
        title=gettext_lazy("Savings balances by product"),
        description=gettext_lazy(
            "For each savings product, the accounts open and the balance held on a date."
        ),
        group=MEMBERS_AND_SAVINGS,
        parameters=(Parameter.AS_OF,),
        run=lambda query: selectors.savings_balances(
            as_of=query.require_date(Parameter.AS_OF), branch_ids=query.branch_ids
        ),
        layout=layouts.savings_balances_table,
        result_type=selectors.SavingsBalances,
    )
)
register(
    ReportSpec(
        slug="member-statement",
        title=gettext_lazy("Member statement"),
        description=gettext_lazy(
            "One member's savings accounts, share capital and loans over a period, with running balances."
        ),
        group=MEMBERS_AND_SAVINGS,
        parameters=(Parameter.MEMBER, Parameter.START, Parameter.END),
        run=lambda query: selectors.member_statement(
            member_number=query.member or "",
            start=query.require_date(Parameter.START),
            end=query.require_date(Parameter.END),
            branch_ids=query.branch_ids,
        ),
        layout=layouts.member_statement_table,
        result_type=selectors.MemberStatement,
        subtitle=lambda result: f"{result.member.number} {result.member.name}",
    )
)


def _period(query: ReportQuery) -> dict[str, Any]:
    return {
        "start": query.require_date(Parameter.START),
        "end": query.require_date(Parameter.END),
        "branch_ids": query.branch_ids,
    }


def _month_end(query: ReportQuery) -> dict[str, Any]:
    return {"month_end": query.require_date(Parameter.AS_OF), "branch_ids": query.branch_ids}


register(
    ReportSpec(
        slug="loan-applications",
        title=gettext_lazy("Loan applications"),
        description=gettext_lazy(
            "Every loan application made in a period with its member, product, amount and status now."
        ),
        group=LOANS_DAILY,
        parameters=(Parameter.START, Parameter.END),
        run=lambda query: lending_selectors.loan_applications(**_period(query)),
        layout=lending_layouts.loan_applications_table,
        result_type=lending_selectors.LoanApplications,
        landscape=True,
    )
)
register(
    ReportSpec(
        slug="loan-applications-summary",
        title=gettext_lazy("Loan applications by product and status"),
        description=gettext_lazy(
            "The number and amount of the loan applications made in a period, by product and status."
        ),
        group=LOANS_DAILY,
        parameters=(Parameter.START, Parameter.END),
        run=lambda query: lending_selectors.loan_applications(**_period(query)),
        layout=lending_layouts.loan_applications_summary_table,
        result_type=lending_selectors.LoanApplications,
    )
)
register(
    ReportSpec(
        slug="loan-approvals-disbursements",
        title=gettext_lazy("Loan approvals and disbursements"),
        description=gettext_lazy("Every approval decision (each level) and every loan paid out in a period."),
        group=LOANS_DAILY,
        parameters=(Parameter.START, Parameter.END),
        run=lambda query: lending_selectors.approvals_and_disbursements(**_period(query)),
        layout=lending_layouts.approvals_and_disbursements_table,
        result_type=lending_selectors.ApprovalsAndDisbursements,
        landscape=True,
    )
)
register(
    ReportSpec(
        slug="loan-approvals-disbursements-summary",
        title=gettext_lazy("Loan approvals and disbursements by product"),
        description=gettext_lazy(
            "Per loan product: applications approved and loans paid out in a period, and their amounts."
        ),
        group=LOANS_DAILY,
        parameters=(Parameter.START, Parameter.END),
        run=lambda query: lending_selectors.approvals_and_disbursements(**_period(query)),
        layout=lending_layouts.approvals_and_disbursements_summary_table,
        result_type=lending_selectors.ApprovalsAndDisbursements,
    )
)
register(
    ReportSpec(
        slug="loan-applications-returned",
        title=gettext_lazy("Returned loan applications"),
        description=gettext_lazy("Loan applications returned as incomplete in a period, with the reasons."),
        group=LOANS_DAILY,
        parameters=(Parameter.START, Parameter.END),
        run=lambda query: lending_selectors.returned_applications(**_period(query)),
        layout=lending_layouts.returned_applications_table,
        result_type=lending_selectors.ReturnedApplications,
        landscape=True,
    )
)
register(
    ReportSpec(
        slug="loan-collections",
        title=gettext_lazy("Loan collections"),
        description=gettext_lazy(
            "Repayments received in a period, day by day, split into principal, interest, fee and "
            "penalty, and by channel."
        ),
        group=LOANS_DAILY,
        parameters=(Parameter.START, Parameter.END),
        run=lambda query: lending_selectors.collections(**_period(query)),
        layout=lending_layouts.collections_table,
        result_type=lending_selectors.Collections,
        landscape=True,
    )
)
register(
    ReportSpec(
        slug="group-collection-sheet",
        title=gettext_lazy("Group collection sheet"),
        description=gettext_lazy(
            "What each member of a group owes at a meeting: the instalments due by that day and not "
            "paid, with penalties, exact to the smallest unit."
        ),
        group=LOANS_DAILY,
        parameters=(Parameter.GROUP, Parameter.DAY),
        optional=frozenset({Parameter.DAY}),
        run=lambda query: lending_selectors.group_collection_sheet(
            group_code=query.group or "", meeting_on=query.day, branch_ids=query.branch_ids
        ),
        layout=lending_layouts.group_collection_sheet_table,
        result_type=lending_selectors.GroupCollectionSheet,
        subtitle=lending_layouts.group_collection_sheet_subtitle,
        landscape=True,
    )
)
register(
    ReportSpec(
        slug="loan-debtors",
        title=gettext_lazy("Loan debtors at month end"),
        description=gettext_lazy(
            "Every loan debtor as the month end's close of business recorded them; the figures stay "
            "as they were however the loans move later."
        ),
        group=LOANS_MONTHLY,
        parameters=(Parameter.AS_OF,),
        run=lambda query: lending_selectors.loan_debtors(**_month_end(query)),
        layout=lending_layouts.loan_debtors_table,
        result_type=lending_selectors.LoanDebtors,
        landscape=True,
    )
)
register(
    ReportSpec(
        slug="loan-outstanding-by-product",
        title=gettext_lazy("Loans outstanding by product"),
        description=gettext_lazy(
            "Per loan product at a month end: loans, principal outstanding and what was overdue."
        ),
        group=LOANS_MONTHLY,
        parameters=(Parameter.AS_OF,),
        run=lambda query: lending_selectors.outstanding_by_product(**_month_end(query)),
        layout=lending_layouts.outstanding_by_product_table,
        result_type=lending_selectors.OutstandingByProduct,
    )
)
register(
    ReportSpec(
        slug="loan-overdue-items",
        title=gettext_lazy("Overdue instalments"),
        description=gettext_lazy(
            "The instalments due before a date and not fully paid, with days past due and what is "
            "still owed of each part."
        ),
        group=LOANS_MONTHLY,
        parameters=(Parameter.AS_OF,),
        run=lambda query: lending_selectors.overdue_items(
            as_of=query.require_date(Parameter.AS_OF), branch_ids=query.branch_ids
        ),
        layout=lending_layouts.overdue_items_table,
        result_type=lending_selectors.OverdueItems,
        landscape=True,
    )
)
register(
    ReportSpec(
        slug="portfolio-at-risk",
        title=gettext_lazy("Portfolio at risk"),
        description=gettext_lazy(
            "PAR 1, 30 and 90: the principal outstanding of late loans against the whole portfolio."
        ),
        group=LOANS_MONTHLY,
        parameters=(Parameter.AS_OF,),
        run=lambda query: portfolio_at_risk(
            as_of=query.require_date(Parameter.AS_OF), branch_ids=query.branch_ids
        ),
        layout=lending_layouts.portfolio_at_risk_table,
        result_type=PortfolioAtRisk,
    )
)
register(
    ReportSpec(
        slug="loan-provisions",
        title=gettext_lazy("Loan-loss provisions by bucket"),
        description=gettext_lazy(
            "The provision a month end required, by days past due, at the rates then in force."
        ),
        group=LOANS_MONTHLY,
        parameters=(Parameter.AS_OF,),
        run=lambda query: lending_selectors.provisions_by_bucket(**_month_end(query)),
        layout=lending_layouts.provisions_by_bucket_table,
        result_type=lending_selectors.ProvisionsByBucket,
    )
)
