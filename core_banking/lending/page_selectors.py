"""Reads the lending staff pages and documents need: visibility, the schedule as staff read it,
the approver's queue, projected schedules, refinance figures, interest paid in a year, the chart.

Read-only. Anything outside the user's branches is answered as if it did not exist (``Http404``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.http import Http404

from core_banking.lending import selectors
from core_banking.lending import terms as loan_terms
from core_banking.lending.models import (
    ApplicationStatus,
    ApprovalDecision,
    Decision,
    FeeCollection,
    FeeKind,
    Guarantor,
    Loan,
    LoanApplication,
    LoanInstallment,
    LoanProduct,
    LoanStatus,
    LoanTransaction,
    LoanTransactionKind,
    RepaymentSource,
)
from core_banking.lending.schedule import Schedule, TermsError
from core_banking.members.models import Member
from core_banking.staff.models import StaffProfile
from tenants.db import workspace_currency

# --- What a user may see ---------------------------------------------------------------------------


def application_for(profile: StaffProfile, application_id: int) -> LoanApplication:
    found = (
        selectors.applications_visible(visible_branch_ids=profile.visible_branch_ids())
        .select_related("pledged_savings", "refinances", "member__member_type", "member__group")
        .filter(pk=application_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def loan_for(profile: StaffProfile, loan_id: int) -> Loan:
    found = (
        selectors.loans_visible(visible_branch_ids=profile.visible_branch_ids())
        .select_related("member__member_type", "product__sub_type", "application__pledged_savings")
        .filter(pk=loan_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def guarantors_of(application: LoanApplication) -> list[Guarantor]:
    return list(application.guarantors.select_related("member__member_type").order_by("id"))


# --- A loan's schedule as staff read it --------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRow:
    """One instalment: what was due, what is paid, what is left, and whether it is late."""

    number: int
    period_start: dt.date
    due_date: dt.date
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    due_minor: int
    paid_minor: int
    outstanding_minor: int
    balance_minor: int  # principal still owed after this instalment, as scheduled
    paid_on: dt.date | None
    overdue: bool

    @property
    def settled(self) -> bool:
        return self.outstanding_minor == 0


@dataclass(frozen=True)
class ScheduleTotals:
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    due_minor: int
    paid_minor: int
    outstanding_minor: int
    overdue_minor: int
    overdue_count: int


def schedule_rows(
    installments: Iterable[LoanInstallment], *, principal_minor: int, today: dt.date
) -> list[ScheduleRow]:
    rows = []
    balance = principal_minor
    for item in sorted(installments, key=lambda row: row.number):
        balance -= item.principal_minor
        outstanding = item.outstanding_minor
        rows.append(
            ScheduleRow(
                number=item.number,
                period_start=item.period_start,
                due_date=item.due_date,
                principal_minor=item.principal_minor,
                # Interest given up at a settlement is not owed: show what was charged.
                interest_minor=item.interest_minor - item.interest_waived_minor,
                fee_minor=item.fee_minor,
                penalty_minor=item.penalty_minor,
                due_minor=item.due_minor,
                paid_minor=item.paid_minor,
                outstanding_minor=outstanding,
                balance_minor=balance,
                paid_on=item.paid_on,
                overdue=outstanding > 0 and item.due_date < today,
            )
        )
    return rows


def schedule_totals(rows: Sequence[ScheduleRow]) -> ScheduleTotals:
    return ScheduleTotals(
        principal_minor=sum(row.principal_minor for row in rows),
        interest_minor=sum(row.interest_minor for row in rows),
        fee_minor=sum(row.fee_minor for row in rows),
        penalty_minor=sum(row.penalty_minor for row in rows),
        due_minor=sum(row.due_minor for row in rows),
        paid_minor=sum(row.paid_minor for row in rows),
        outstanding_minor=sum(row.outstanding_minor for row in rows),
        overdue_minor=sum(row.outstanding_minor for row in rows if row.overdue),
        overdue_count=sum(1 for row in rows if row.overdue),
    )


def loan_schedule(loan: Loan, today: dt.date) -> list[ScheduleRow]:
    return schedule_rows(
        LoanInstallment.objects.filter(loan_id=loan.pk).order_by("number"),
        principal_minor=loan.principal_minor,
        today=today,
    )


def projected_rows(schedule: Schedule, *, fee_first_minor: int = 0) -> list[ScheduleRow]:
    """An engine schedule (nothing paid yet) in the rows the schedule table and PDF show."""
    rows = []
    for item in schedule.installments:
        fee = fee_first_minor if item.number == 1 else 0
        due = item.principal_minor + item.interest_minor + fee
        rows.append(
            ScheduleRow(
                number=item.number,
                period_start=item.period_start,
                due_date=item.due_date,
                principal_minor=item.principal_minor,
                interest_minor=item.interest_minor,
                fee_minor=fee,
                penalty_minor=0,
                due_minor=due,
                paid_minor=0,
                outstanding_minor=due,
                balance_minor=item.balance_minor,
                paid_on=None,
                overdue=False,
            )
        )
    return rows


def disbursement_fee_minor(product: LoanProduct, principal_minor: int) -> int:
    """The product's disbursement fee on a principal, as the disbursement will charge it."""
    from core_banking.lending.services.loans import disbursement_fee

    return disbursement_fee(product, principal_minor)


@dataclass(frozen=True)
class Projection:
    """An application's schedule if it were paid out on ``on_date``, or why it cannot be made."""

    on_date: dt.date
    rows: list[ScheduleRow]
    totals: ScheduleTotals | None
    fee_minor: int
    fee_deducted: bool
    problems: dict[str, list[str]]


def projection(
    *,
    product: LoanProduct,
    amount_minor: int,
    installments: int,
    on_date: dt.date,
    member: Member | None,
    annual_rate: Any = None,
) -> Projection:
    terms = loan_terms.terms_json_for(
        product=product,
        principal_minor=amount_minor,
        currency=workspace_currency(),
        installments=installments,
        disbursement_date=on_date,
        annual_rate=annual_rate,
        branch=member.branch if member is not None else None,
        member=member,
    )
    fee = disbursement_fee_minor(product, amount_minor)
    added = product.fee_collection == FeeCollection.ADDED and product.fee_kind in (
        FeeKind.FLAT,
        FeeKind.PERCENT,
    )
    try:
        schedule = loan_terms.schedule_for(terms)
    except TermsError as error:
        return Projection(on_date, [], None, fee, not added, error.errors)
    rows = projected_rows(schedule, fee_first_minor=fee if added else 0)
    return Projection(on_date, rows, schedule_totals(rows), fee, not added, {})


def application_projection(application: LoanApplication, on_date: dt.date) -> Projection:
    return projection(
        product=application.product,
        amount_minor=application.amount_minor,
        installments=application.installments,
        on_date=on_date,
        member=application.member,
        annual_rate=application.annual_rate,
    )


# --- Refinance ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refinance:
    """What paying out this application on ``on_date`` leaves the member after the old loan is settled."""

    loan: Loan
    on_date: dt.date
    payoff: Any  # services.PayoffQuote
    fee_deducted_minor: int
    net_minor: int


def refinance_figures(application: LoanApplication, on_date: dt.date) -> Refinance | None:
    from core_banking.lending.services import loan_payoff_quote

    old = application.refinances
    if old is None or old.status != LoanStatus.ACTIVE or on_date < old.disbursed_on:
        return None
    quote = loan_payoff_quote(loan_id=old.pk, on_date=on_date)
    product = application.product
    fee = disbursement_fee_minor(product, application.amount_minor)
    deducted = fee if product.fee_collection == FeeCollection.DEDUCTED else 0
    return Refinance(old, on_date, quote, deducted, application.amount_minor - deducted - quote.total_minor)


# --- The approver's queue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    application: LoanApplication
    level: int
    approved_levels: tuple[int, ...]


def _waiting_level(
    application: LoanApplication, decisions: list[ApprovalDecision]
) -> tuple[int | None, list[ApprovalDecision]]:
    """The next level the application waits for and the approvals given since it was last returned."""
    last_return = max((d.id for d in decisions if d.decision == Decision.RETURNED), default=0)
    approvals = [d for d in decisions if d.decision == Decision.APPROVED and d.id > last_return]
    done = {d.level for d in approvals}
    for level in application.required_levels:
        if level not in done:
            return level, approvals
    return None, approvals


def approval_queue(profile: StaffProfile, user_id: int) -> list[QueueItem]:
    """Applications this approver may decide now: at or below their level, not their own, not
    one whose earlier level they approved. Oldest first, as they arrived."""
    authority = profile.approver_level or 0
    waiting = (
        selectors.applications_visible(visible_branch_ids=profile.visible_branch_ids())
        .filter(status=ApplicationStatus.SUBMITTED)
        .exclude(created_by_id=user_id)
        .prefetch_related(Prefetch("decisions", queryset=ApprovalDecision.objects.order_by("id")))
        .order_by("applied_on", "id")
    )
    queue = []
    for application in waiting:
        level, approvals = _waiting_level(application, list(application.decisions.all()))
        if level is None or level > authority:
            continue
        if any(d.decided_by_id == user_id for d in approvals):
            continue
        queue.append(QueueItem(application, level, tuple(sorted(d.level or 0 for d in approvals))))
    return queue


def next_levels(applications: Iterable[LoanApplication]) -> dict[int, int | None]:
    """The level each submitted application waits for (by id), in two queries."""
    submitted = [a for a in applications if a.status == ApplicationStatus.SUBMITTED]
    by_application: dict[int, list[ApprovalDecision]] = defaultdict(list)
    for decision in ApprovalDecision.objects.filter(application_id__in=[a.pk for a in submitted]).order_by(
        "id"
    ):
        by_application[decision.application_id].append(decision)
    return {a.pk: _waiting_level(a, by_application[a.pk])[0] for a in submitted}


# --- Transactions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransactionRow:
    transaction: LoanTransaction
    reversed: bool
    reversible: bool


def loan_transactions(loan: Loan) -> list[TransactionRow]:
    """Every movement of the loan, newest first; a cash repayment that stands may be reversed."""
    rows = list(
        LoanTransaction.objects.filter(loan_id=loan.pk)
        .select_related("reverses")
        .order_by("-value_date", "-id")
    )
    reversed_ids = {row.reverses_id for row in rows if row.reverses_id is not None}
    standing_savings = [
        row
        for row in rows
        if row.kind == LoanTransactionKind.REPAYMENT
        and row.pk not in reversed_ids
        and row.source != RepaymentSource.CASH
    ]
    # The service re-applies later repayments and refuses when any of them came from savings.
    earliest_blocking = min(((row.value_date, row.pk) for row in standing_savings), default=None)
    found = []
    for row in rows:
        reversible = (
            loan.status != LoanStatus.WRITTEN_OFF
            and row.kind == LoanTransactionKind.REPAYMENT
            and row.source == RepaymentSource.CASH
            and row.pk not in reversed_ids
            and (earliest_blocking is None or (row.value_date, row.pk) > earliest_blocking)
        )
        found.append(TransactionRow(row, row.pk in reversed_ids, reversible))
    return found


def principal_outstanding_after(transaction: LoanTransaction) -> int:
    """The loan's principal still owed once this repayment was taken (repayments reversed since left out)."""
    loan = transaction.loan
    standing = (
        LoanTransaction.objects.filter(
            loan_id=loan.pk, kind=LoanTransactionKind.REPAYMENT, reversed_by__isnull=True
        )
        .filter(
            Q(value_date__lt=transaction.value_date)
            | Q(value_date=transaction.value_date, id__lte=transaction.pk)
        )
        .aggregate(total=Sum("principal_minor"))["total"]
    )
    return int(loan.principal_minor - int(standing or 0))


# --- Interest paid in a year (L9) -----------------------------------------------------------------------


@dataclass(frozen=True)
class InterestLine:
    loan: Loan
    interest_minor: int
    penalty_minor: int


def interest_paid_in_year(member: Member, year: int) -> list[InterestLine]:
    """Interest the member paid on each loan in the calendar year, by value date.

    Repayments (from cash, savings or a refinancing loan) count in the year they were taken; a
    reversal takes its interest out in the year it was posted, as the books do.
    """
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    movements = (
        LoanTransaction.objects.filter(
            loan__member_id=member.pk,
            value_date__range=(start, end),
            kind__in=(LoanTransactionKind.REPAYMENT, LoanTransactionKind.REVERSAL),
        )
        .values("loan_id", "kind")
        .annotate(interest=Sum("interest_minor"), penalty=Sum("penalty_minor"))
    )
    interest: dict[int, int] = defaultdict(int)
    penalty: dict[int, int] = defaultdict(int)
    for movement in movements:
        sign = -1 if movement["kind"] == LoanTransactionKind.REVERSAL else 1
        interest[movement["loan_id"]] += sign * int(movement["interest"] or 0)
        penalty[movement["loan_id"]] += sign * int(movement["penalty"] or 0)
    loans = Loan.objects.filter(pk__in=list(interest)).select_related("product").order_by("number")
    return [
        InterestLine(loan, interest[loan.pk], penalty[loan.pk])
        for loan in loans
        if interest[loan.pk] or penalty[loan.pk]
    ]


# --- A member's lending (member page) ---------------------------------------------------------------------


@dataclass(frozen=True)
class MemberLending:
    loans: list[Loan]
    applications: list[LoanApplication]
    guarantees: list[Guarantor]
    interest_years: list[int]


def member_lending(member: Member) -> MemberLending:
    loans = list(
        Loan.objects.filter(member_id=member.pk).select_related("product").order_by("-disbursed_on", "-id")
    )
    applications = list(
        LoanApplication.objects.filter(member_id=member.pk)
        .exclude(status=ApplicationStatus.DISBURSED)
        .select_related("product")
        .order_by("-applied_on", "-id")
    )
    guarantees = list(
        Guarantor.objects.filter(member_id=member.pk)
        .select_related("application__member", "application__loan")
        .exclude(application__status__in=(ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN))
        .order_by("-application__applied_on")
    )
    years = sorted(
        {
            value.year
            for value in LoanTransaction.objects.filter(
                loan__member_id=member.pk, kind=LoanTransactionKind.REPAYMENT, interest_minor__gt=0
            ).values_list("value_date", flat=True)
        },
        reverse=True,
    )
    return MemberLending(loans, applications, guarantees, years)


def member_loans_for_refinance(member: Member) -> QuerySet[Loan]:
    return (
        Loan.objects.filter(member_id=member.pk, status=LoanStatus.ACTIVE)
        .select_related("product")
        .order_by("number")
    )


# --- The chart: paid and outstanding, instalment by instalment ---------------------------------------------


@dataclass(frozen=True)
class Bar:
    number: int
    x: float
    paid_y: float
    paid_height: float
    left_y: float
    outstanding_height: float
    overdue: bool
    due_date: dt.date
    paid_minor: int
    outstanding_minor: int


@dataclass(frozen=True)
class Chart:
    """An SVG column per instalment (paid part below, what is left above, late ones marked)."""

    width: float
    height: float
    bar_width: float
    bars: list[Bar]
    paid_share: float  # of everything due, for the summary bar (0..100)
    overdue_share: float


CHART_HEIGHT = 100.0
BAR_STEP = 10.0
BAR_WIDTH = 7.0


def paid_chart(rows: Sequence[ScheduleRow]) -> Chart | None:
    if not rows:
        return None
    tallest = max(row.due_minor for row in rows) or 1
    bars = []
    for index, row in enumerate(rows):
        paid = round(CHART_HEIGHT * row.paid_minor / tallest, 2)
        left = round(CHART_HEIGHT * row.outstanding_minor / tallest, 2)
        bars.append(
            Bar(
                number=row.number,
                x=index * BAR_STEP + (BAR_STEP - BAR_WIDTH) / 2,
                paid_y=round(CHART_HEIGHT - paid, 2),
                paid_height=paid,
                left_y=round(CHART_HEIGHT - paid - left, 2),
                outstanding_height=left,
                overdue=row.overdue,
                due_date=row.due_date,
                paid_minor=row.paid_minor,
                outstanding_minor=row.outstanding_minor,
            )
        )
    due = sum(row.due_minor for row in rows) or 1
    return Chart(
        width=len(rows) * BAR_STEP,
        height=CHART_HEIGHT,
        bar_width=BAR_WIDTH,
        bars=bars,
        paid_share=round(100 * sum(row.paid_minor for row in rows) / due, 2),
        overdue_share=round(100 * sum(row.outstanding_minor for row in rows if row.overdue) / due, 2),
    )
