"""Reads of the office books: settings, vouchers, entries with their lines, corrections and closings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet, Sum

from core_banking.accounting.fiscal import FiscalYear, default_start_month, fiscal_year_of
from core_banking.accounting.models import (
    AccountingSettings,
    BranchDayClose,
    CorrectionRequest,
    CorrectionStatus,
    PeriodClose,
    Voucher,
    YearEndClosing,
)
from core_banking.ledger.models import (
    Account,
    AccountDayBalance,
    AccountKind,
    JournalEntry,
    JournalLine,
    LedgerState,
)
from core_banking.ledger.presets import cash_account_code
from core_banking.organisation.models import Branch
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability
from tenants.db import current_cooperative

SETTINGS_ID = 1


def accounting_settings() -> AccountingSettings:
    """The workspace's settings; until someone saves them, the defaults of the cooperative's country."""
    saved = AccountingSettings.objects.filter(pk=SETTINGS_ID).first()
    if saved is not None:
        return saved
    cooperative = current_cooperative()
    return AccountingSettings(
        id=SETTINGS_ID,
        fiscal_year_start_month=default_start_month(cooperative.country if cooperative else ""),
    )


def fiscal_year_for(day: dt.date) -> FiscalYear:
    return fiscal_year_of(day, accounting_settings().fiscal_year_start_month)


def business_date() -> dt.date:
    cooperative = current_cooperative()
    return cooperative.business_date() if cooperative else dt.date.today()


def closed_through() -> dt.date | None:
    state = LedgerState.objects.first()
    return state.closed_through if state else None


def closes_whole_books(profile: StaffProfile) -> bool:
    """Months and years are closed by head-office staff (or staff of every branch)."""
    return profile.visible_branch_ids() is None or profile.home_branch.is_head_office


def branches_visible(visible_branch_ids: list[int] | None) -> QuerySet[Branch]:
    branches = Branch.objects.all()
    return branches if visible_branch_ids is None else branches.filter(pk__in=visible_branch_ids)


def accounts_for_branch(branch_id: int | None = None) -> QuerySet[Account]:
    """Active accounts a branch may post to: the shared chart and the branch's own accounts."""
    accounts = Account.objects.filter(is_active=True)
    if branch_id is None:
        return accounts
    return accounts.filter(Q(branch__isnull=True) | Q(branch_id=branch_id))


def vouchers_visible(
    *,
    visible_branch_ids: list[int] | None,
    branch_id: int | None = None,
    kind: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> QuerySet[Voucher]:
    vouchers = Voucher.objects.select_related("branch", "entry", "posted_by").annotate(
        total_minor=Sum("entry__lines__debit_minor")
    )
    if visible_branch_ids is not None:
        vouchers = vouchers.filter(branch_id__in=visible_branch_ids)
    if branch_id is not None:
        vouchers = vouchers.filter(branch_id=branch_id)
    if kind:
        vouchers = vouchers.filter(kind=kind)
    if start is not None:
        vouchers = vouchers.filter(value_date__gte=start)
    if end is not None:
        vouchers = vouchers.filter(value_date__lte=end)
    return vouchers.order_by("-value_date", "-id")


def entries_visible(*, visible_branch_ids: list[int] | None) -> QuerySet[JournalEntry]:
    entries = JournalEntry.objects.select_related("branch")
    if visible_branch_ids is not None:
        entries = entries.filter(branch_id__in=visible_branch_ids)
    return entries


@dataclass(frozen=True)
class EntryLine:
    account_code: str
    account_name: str
    debit_minor: int
    credit_minor: int


@dataclass
class EntryView:
    """One journal entry as the entry page and the API show it: lines, voucher, links."""

    entry: JournalEntry
    lines: list[EntryLine]
    debit_minor: int
    credit_minor: int
    voucher: Voucher | None
    reversals: list[JournalEntry]
    corrections: list[CorrectionRequest] = field(default_factory=list)
    corrected_by: CorrectionRequest | None = None  # the request that posted this entry, if any
    owner: str = ""  # the module record the entry belongs to ("" for office entries)

    @property
    def correctable(self) -> bool:
        live = any(c.status in (CorrectionStatus.PENDING, CorrectionStatus.POSTED) for c in self.corrections)
        return (
            self.entry.reverses_id is None
            and not self.reversals
            and not live
            and not self.owner
            and not hasattr(self.entry, "year_end_closing")
        )


def entry_owner(entry: JournalEntry) -> str:
    """The verbose name of another module's record posted with this entry ("" if none).

    Such an entry is corrected through its own module (a savings deposit through savings), so that
    the module's balances stay equal to the ledger's.
    """
    office = {"ledger", "accounting"}
    for relation in JournalEntry._meta.related_objects:
        model = relation.related_model
        if not isinstance(model, type) or model._meta.app_label in office:
            continue
        if model._default_manager.filter(**{relation.field.name: entry.pk}).exists():
            return str(model._meta.verbose_name)
    return ""


def entry_view(entry: JournalEntry) -> EntryView:
    lines = [
        EntryLine(line.account.code, line.account.name, line.debit_minor, line.credit_minor)
        for line in JournalLine.objects.filter(entry=entry).select_related("account").order_by("id")
    ]
    corrections = list(
        CorrectionRequest.objects.filter(original=entry).select_related("maker", "checker").order_by("-id")
    )
    corrected_by = (
        CorrectionRequest.objects.filter(Q(reversal=entry) | Q(corrected=entry))
        .select_related("maker", "checker")
        .first()
    )
    return EntryView(
        entry=entry,
        lines=lines,
        debit_minor=sum(line.debit_minor for line in lines),
        credit_minor=sum(line.credit_minor for line in lines),
        voucher=Voucher.objects.filter(entry=entry).select_related("posted_by").first(),
        reversals=list(entry.reversals.order_by("id")),
        corrections=corrections,
        corrected_by=corrected_by,
        owner=entry_owner(entry),
    )


def corrections_visible(
    *, visible_branch_ids: list[int] | None, status: str = ""
) -> QuerySet[CorrectionRequest]:
    requests = CorrectionRequest.objects.select_related("original__branch", "maker", "checker")
    if visible_branch_ids is not None:
        requests = requests.filter(original__branch_id__in=visible_branch_ids)
    if status:
        requests = requests.filter(status=status)
    return requests.order_by("-id")


@dataclass(frozen=True)
class DayTotals:
    entry_count: int
    debit_minor: int
    credit_minor: int
    cash_balance_minor: int  # the branch's cash account at the end of the day


def day_totals(*, branch: Branch, day: dt.date) -> DayTotals:
    """What a branch posted on a day, and its cash in hand at the end of it."""
    posted = AccountDayBalance.objects.filter(branch=branch, day=day).aggregate(
        debit=Sum("debit_minor"), credit=Sum("credit_minor")
    )
    cash = AccountDayBalance.objects.filter(
        branch=branch, day__lte=day, account__code=cash_account_code(branch.code)
    ).aggregate(debit=Sum("debit_minor"), credit=Sum("credit_minor"))
    return DayTotals(
        entry_count=JournalEntry.objects.filter(branch=branch, value_date=day).count(),
        debit_minor=int(posted["debit"] or 0),
        credit_minor=int(posted["credit"] or 0),
        cash_balance_minor=int(cash["debit"] or 0) - int(cash["credit"] or 0),
    )


def day_is_closed(*, branch_id: int, day: dt.date) -> bool:
    return BranchDayClose.objects.filter(branch_id=branch_id, day=day).exists()


def day_closes_visible(*, visible_branch_ids: list[int] | None) -> QuerySet[BranchDayClose]:
    closes = BranchDayClose.objects.select_related("branch", "closed_by")
    if visible_branch_ids is not None:
        closes = closes.filter(branch_id__in=visible_branch_ids)
    return closes.order_by("-day", "branch__code")


def open_days_with_postings(*, after: dt.date | None, through: dt.date) -> list[tuple[int, dt.date]]:
    """(branch id, day) pairs in (after, through] that have postings and no day close yet."""
    balances = AccountDayBalance.objects.filter(day__lte=through)
    if after is not None:
        balances = balances.filter(day__gt=after)
    posted = set(balances.values_list("branch_id", "day").distinct())
    closes = BranchDayClose.objects.filter(day__lte=through)
    if after is not None:
        closes = closes.filter(day__gt=after)
    closed = set(closes.values_list("branch_id", "day"))
    return sorted(posted - closed, key=lambda pair: (pair[1], pair[0]))


def first_posting_date() -> dt.date | None:
    first = JournalEntry.objects.order_by("value_date").values_list("value_date", flat=True).first()
    return first


def period_closes() -> QuerySet[PeriodClose]:
    return PeriodClose.objects.select_related("closed_by").order_by("-period_end")


def year_end_closings(*, visible_branch_ids: list[int] | None = None) -> QuerySet[YearEndClosing]:
    closings = YearEndClosing.objects.select_related("branch", "entry", "closed_by")
    if visible_branch_ids is not None:
        closings = closings.filter(branch_id__in=visible_branch_ids)
    return closings.order_by("-fiscal_year", "branch__code")


@dataclass(frozen=True)
class BranchResult:
    """Income and expense balances of one branch's accounts through a day: what year-end closes."""

    branch_id: int
    balances: dict[str, int]  # account code -> net debit (debit minus credit)
    income_minor: int
    expense_minor: int

    @property
    def surplus_minor(self) -> int:
        return self.income_minor - self.expense_minor


def income_and_expense_through(day: dt.date) -> list[BranchResult]:
    """Per branch, the net debit of every income and expense account with a balance on ``day``."""
    rows = (
        AccountDayBalance.objects.filter(day__lte=day, account__kind__in=["income", "expense"])
        .values("branch_id", "account__code", "account__kind")
        .annotate(debit=Sum("debit_minor"), credit=Sum("credit_minor"))
        .order_by("branch_id", "account__code")
    )
    results: dict[int, dict[str, int]] = {}
    income: dict[int, int] = {}
    expense: dict[int, int] = {}
    for row in rows:
        net = int(row["debit"] or 0) - int(row["credit"] or 0)
        if net == 0:
            continue
        branch_id = row["branch_id"]
        results.setdefault(branch_id, {})[row["account__code"]] = net
        if row["account__kind"] == "income":
            income[branch_id] = income.get(branch_id, 0) - net
        else:
            expense[branch_id] = expense.get(branch_id, 0) + net
    return [
        BranchResult(branch_id, balances, income.get(branch_id, 0), expense.get(branch_id, 0))
        for branch_id, balances in sorted(results.items())
    ]


def chart_of_accounts() -> QuerySet[Account]:
    """Every account of the chart, active or not, by code."""
    return Account.objects.select_related("branch").order_by("code")


@dataclass(frozen=True)
class ChartGroup:
    kind: str
    label: str
    accounts: list[Account]


def chart_by_kind() -> list[ChartGroup]:
    """The chart grouped by kind, in the order of a balance sheet then the income statement."""
    accounts = list(chart_of_accounts())
    return [
        ChartGroup(kind=kind, label=str(label), accounts=[a for a in accounts if a.kind == kind])
        for kind, label in AccountKind.choices
    ]


def chart_editor(profile: StaffProfile) -> bool:
    """The chart is kept by accountants or administrators at the head office."""
    return (
        (profile.can(Capability.POST_JOURNAL) or profile.can(Capability.MANAGE_ORGANISATION))
        and closes_whole_books(profile)
        and not profile.read_only
    )
