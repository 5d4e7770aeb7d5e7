"""Loan reports read from the loan book: the day's applications, decisions, disbursements and
collections; the month end's debtors, balances and provisions; overdue instalments; a group's
collection sheet.

Every selector takes a date or a period and a branch set (a list of branch ids, or None for the whole
cooperative, consolidated). Amounts are integer minor units.

The month-end reports (debtors, outstanding balances by product, provisions by bucket) read the
month-end snapshot the close of business wrote (``LoanMonthEndSnapshot``, never changed afterwards):
the figures stay as they were at that month end however the loans move later. A date with no
snapshot gives an empty result with ``snapshot_found`` False, never figures computed another way.

Approvals and returns are dated by the day of the decision on the cooperative's own clock.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.lending.models import (
    ApplicationStatus,
    ApprovalDecision,
    Decision,
    Loan,
    LoanApplication,
    LoanInstallment,
    LoanMonthEndSnapshot,
    LoanStatus,
    LoanTransaction,
    LoanTransactionKind,
    ProvisionRate,
)
from core_banking.members.models import MemberGroup
from core_banking.reporting.selectors import BranchIds, MemberRef, ProductRef, _check_period
from tenants.db import current_cooperative, workspace_business_date


def _in_branches(queryset: QuerySet[Any], branch_ids: BranchIds, field: str = "branch_id") -> QuerySet[Any]:
    if branch_ids is None:
        return queryset
    return queryset.filter(**{f"{field}__in": list(branch_ids)})


def _time_zone() -> dt.tzinfo:
    cooperative = current_cooperative()
    if cooperative is None:
        return timezone.get_current_timezone()
    return zoneinfo.ZoneInfo(cooperative.time_zone)


def _local_day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime, dt.tzinfo]:
    """From the start of ``start`` to the start of the day after ``end``, on the cooperative's clock."""
    zone = _time_zone()
    return (
        dt.datetime.combine(start, dt.time.min, zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, zone),
        zone,
    )


def _member(member: Any) -> MemberRef:
    return MemberRef(member.pk, member.number, member.full_name, member.branch.code)


def _product(product: Any) -> ProductRef:
    return ProductRef(product.pk, product.code, product.name)


# --- Applications ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationRow:
    application_id: int
    number: str
    applied_on: dt.date
    branch_code: str
    member: MemberRef
    product: ProductRef
    amount_minor: int
    installments: int
    status: str  # core_banking.lending.models.ApplicationStatus, as it stands now


@dataclass(frozen=True)
class ApplicationSummaryRow:
    product: ProductRef
    status: str
    applications: int
    amount_minor: int


@dataclass(frozen=True)
class LoanApplications:
    start: dt.date
    end: dt.date
    rows: list[ApplicationRow]
    summary: list[ApplicationSummaryRow]  # by product, then status
    applications: int
    amount_minor: int


def loan_applications(*, start: dt.date, end: dt.date, branch_ids: BranchIds) -> LoanApplications:
    """The applications made (applied on) in the period, with their status now and totals per product
    and status."""
    _check_period(start, end)
    found = _in_branches(
        LoanApplication.objects.select_related("member__branch", "product", "branch").filter(
            applied_on__gte=start, applied_on__lte=end
        ),
        branch_ids,
    ).order_by("applied_on", "number")
    rows = [
        ApplicationRow(
            application_id=application.pk,
            number=application.number,
            applied_on=application.applied_on,
            branch_code=application.branch.code,
            member=_member(application.member),
            product=_product(application.product),
            amount_minor=application.amount_minor,
            installments=application.installments,
            status=application.status,
        )
        for application in found
    ]
    groups: dict[tuple[str, str], list[ApplicationRow]] = defaultdict(list)
    products: dict[str, ProductRef] = {}
    for row in rows:
        groups[(row.product.code, row.status)].append(row)
        products[row.product.code] = row.product
    status_order = list(ApplicationStatus.values)
    summary = [
        ApplicationSummaryRow(
            product=products[code],
            status=status,
            applications=len(members),
            amount_minor=sum(row.amount_minor for row in members),
        )
        for (code, status), members in sorted(
            groups.items(), key=lambda item: (item[0][0], status_order.index(item[0][1]))
        )
    ]
    return LoanApplications(
        start=start,
        end=end,
        rows=rows,
        summary=summary,
        applications=len(rows),
        amount_minor=sum(row.amount_minor for row in rows),
    )


# --- Approvals and disbursements --------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalRow:
    decision_id: int
    decided_on: dt.date
    application_number: str
    branch_code: str
    member: MemberRef
    product: ProductRef
    amount_minor: int
    level: int | None
    final: bool  # the last level the application needed: it was approved with this decision


@dataclass(frozen=True)
class DisbursementRow:
    loan_id: int
    loan_number: str
    disbursed_on: dt.date
    branch_code: str
    member: MemberRef
    product: ProductRef
    principal_minor: int


@dataclass(frozen=True)
class ApprovalDisbursementSummaryRow:
    product: ProductRef
    approved: int  # applications approved (their final level) in the period
    approved_minor: int
    disbursed: int
    disbursed_minor: int


@dataclass(frozen=True)
class ApprovalsAndDisbursements:
    start: dt.date
    end: dt.date
    approvals: list[ApprovalRow]
    disbursements: list[DisbursementRow]
    summary: list[ApprovalDisbursementSummaryRow]
    approved: int
    approved_minor: int
    disbursed: int
    disbursed_minor: int


def _decisions(start: dt.date, end: dt.date, branch_ids: BranchIds, decision: str) -> list[Any]:
    since, until, zone = _local_day_bounds(start, end)
    found = ApprovalDecision.objects.select_related(
        "application__member__branch", "application__product", "application__branch"
    ).filter(decision=decision, decided_at__gte=since, decided_at__lt=until)
    decisions = list(_in_branches(found, branch_ids, "application__branch_id").order_by("decided_at", "id"))
    for row in decisions:
        row.decided_on = timezone.localtime(row.decided_at, zone).date()
    return decisions


def approvals_and_disbursements(
    *, start: dt.date, end: dt.date, branch_ids: BranchIds
) -> ApprovalsAndDisbursements:
    """Every approval decision of the period (each level) and every loan paid out, with per-product
    totals: applications approved at their last level, loans disbursed and their principal."""
    _check_period(start, end)
    approvals = []
    for decision in _decisions(start, end, branch_ids, Decision.APPROVED):
        application = decision.application
        last_level = max(application.required_levels or [decision.level or 0])
        approvals.append(
            ApprovalRow(
                decision_id=decision.pk,
                decided_on=decision.decided_on,
                application_number=application.number,
                branch_code=application.branch.code,
                member=_member(application.member),
                product=_product(application.product),
                amount_minor=application.amount_minor,
                level=decision.level,
                final=(decision.level or 0) >= last_level,
            )
        )
    loans = _in_branches(
        Loan.objects.select_related("member__branch", "product", "branch").filter(
            disbursed_on__gte=start, disbursed_on__lte=end
        ),
        branch_ids,
    ).order_by("disbursed_on", "number")
    disbursements = [
        DisbursementRow(
            loan_id=loan.pk,
            loan_number=loan.number,
            disbursed_on=loan.disbursed_on,
            branch_code=loan.branch.code,
            member=_member(loan.member),
            product=_product(loan.product),
            principal_minor=loan.principal_minor,
        )
        for loan in loans
    ]
    products: dict[str, ProductRef] = {}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for approval in approvals:
        if approval.final:
            products[approval.product.code] = approval.product
            totals[approval.product.code][0] += 1
            totals[approval.product.code][1] += approval.amount_minor
    for disbursement in disbursements:
        products[disbursement.product.code] = disbursement.product
        totals[disbursement.product.code][2] += 1
        totals[disbursement.product.code][3] += disbursement.principal_minor
    summary = [ApprovalDisbursementSummaryRow(products[code], *totals[code]) for code in sorted(products)]
    return ApprovalsAndDisbursements(
        start=start,
        end=end,
        approvals=approvals,
        disbursements=disbursements,
        summary=summary,
        approved=sum(row.approved for row in summary),
        approved_minor=sum(row.approved_minor for row in summary),
        disbursed=len(disbursements),
        disbursed_minor=sum(row.principal_minor for row in disbursements),
    )


# --- Returned applications -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnedRow:
    decision_id: int
    returned_on: dt.date
    application_number: str
    branch_code: str
    member: MemberRef
    product: ProductRef
    amount_minor: int
    level: int | None
    reason: str
    status: str  # the application's status now (returned, or submitted again after the fix)


@dataclass(frozen=True)
class ReturnedApplications:
    start: dt.date
    end: dt.date
    rows: list[ReturnedRow]
    amount_minor: int


def returned_applications(*, start: dt.date, end: dt.date, branch_ids: BranchIds) -> ReturnedApplications:
    """Each return of an application as incomplete in the period, with the approver's reasons."""
    _check_period(start, end)
    rows = [
        ReturnedRow(
            decision_id=decision.pk,
            returned_on=decision.decided_on,
            application_number=decision.application.number,
            branch_code=decision.application.branch.code,
            member=_member(decision.application.member),
            product=_product(decision.application.product),
            amount_minor=decision.application.amount_minor,
            level=decision.level,
            reason=decision.reason,
            status=decision.application.status,
        )
        for decision in _decisions(start, end, branch_ids, Decision.RETURNED)
    ]
    return ReturnedApplications(
        start=start, end=end, rows=rows, amount_minor=sum(row.amount_minor for row in rows)
    )


# --- Collections -----------------------------------------------------------------------------------

# Money received on loans; a reversal takes its repayment's parts back on the reversal's own day.
_COLLECTED = (LoanTransactionKind.REPAYMENT, LoanTransactionKind.RECOVERY)


@dataclass(frozen=True)
class CollectionDay:
    day: dt.date
    payments: int  # repayments less reversals
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    total_minor: int


@dataclass(frozen=True)
class CollectionChannel:
    channel: str  # core_banking.savings.models.Channel
    payments: int
    total_minor: int


@dataclass(frozen=True)
class Collections:
    start: dt.date
    end: dt.date
    days: list[CollectionDay]
    channels: list[CollectionChannel]
    payments: int
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    total_minor: int


def collections(*, start: dt.date, end: dt.date, branch_ids: BranchIds) -> Collections:
    """Repayments (and recoveries after write-off) received in the period, day by day, split into
    principal, interest, fee and penalty, and by channel; reversals count against their own day."""
    _check_period(start, end)
    movements = _in_branches(
        LoanTransaction.objects.filter(value_date__gte=start, value_date__lte=end).filter(
            Q(kind__in=_COLLECTED) | Q(kind=LoanTransactionKind.REVERSAL, reverses__kind__in=_COLLECTED)
        ),
        branch_ids,
        "loan__branch_id",
    ).order_by("value_date", "id")
    by_day: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    by_channel: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    fields = ("value_date", "kind", "channel", "amount_minor", "principal_minor", "interest_minor")
    for value_date, kind, channel, amount, principal, interest, fee, penalty in movements.values_list(
        *fields, "fee_minor", "penalty_minor"
    ):
        sign = -1 if kind == LoanTransactionKind.REVERSAL else 1
        day = by_day[value_date]
        for position, part in enumerate((1, principal, interest, fee, penalty, amount)):
            day[position] += sign * part
        by_channel[channel][0] += sign
        by_channel[channel][1] += sign * amount
    days = [CollectionDay(day, *by_day[day]) for day in sorted(by_day)]
    channels = [CollectionChannel(channel, *by_channel[channel]) for channel in sorted(by_channel)]
    return Collections(
        start=start,
        end=end,
        days=days,
        channels=channels,
        payments=sum(day.payments for day in days),
        principal_minor=sum(day.principal_minor for day in days),
        interest_minor=sum(day.interest_minor for day in days),
        fee_minor=sum(day.fee_minor for day in days),
        penalty_minor=sum(day.penalty_minor for day in days),
        total_minor=sum(day.total_minor for day in days),
    )


# --- Month end: from the snapshot ----------------------------------------------------------------


def _snapshot(month_end: dt.date, branch_ids: BranchIds) -> QuerySet[LoanMonthEndSnapshot]:
    return _in_branches(
        LoanMonthEndSnapshot.objects.select_related("loan", "branch", "product", "member__branch").filter(
            month_end=month_end
        ),
        branch_ids,
    )


def snapshot_taken(month_end: dt.date) -> bool:
    """Whether the close of business took a month-end snapshot of the loan book on ``month_end``
    (for the whole cooperative: a branch with no loans then has an empty one, not a missing one)."""
    return LoanMonthEndSnapshot.objects.filter(month_end=month_end).exists()


@dataclass(frozen=True)
class DebtorRow:
    loan_id: int
    loan_number: str
    branch_code: str
    member: MemberRef
    product: ProductRef
    principal_outstanding_minor: int
    overdue_minor: int
    days_past_due: int
    bucket_days: int
    provision_required_minor: int


@dataclass(frozen=True)
class LoanDebtors:
    month_end: dt.date
    snapshot_found: bool
    rows: list[DebtorRow]
    principal_outstanding_minor: int
    overdue_minor: int
    provision_required_minor: int


def loan_debtors(*, month_end: dt.date, branch_ids: BranchIds) -> LoanDebtors:
    """Every loan debtor as the month end's snapshot holds them, by branch and loan number."""
    rows = [
        DebtorRow(
            loan_id=row.loan_id,
            loan_number=row.loan.number,
            branch_code=row.branch.code,
            member=_member(row.member),
            product=_product(row.product),
            principal_outstanding_minor=row.principal_outstanding_minor,
            overdue_minor=row.overdue_minor,
            days_past_due=row.days_past_due,
            bucket_days=row.bucket_days,
            provision_required_minor=row.provision_required_minor,
        )
        for row in _snapshot(month_end, branch_ids).order_by("branch__code", "loan__number")
    ]
    return LoanDebtors(
        month_end=month_end,
        snapshot_found=snapshot_taken(month_end),
        rows=rows,
        principal_outstanding_minor=sum(row.principal_outstanding_minor for row in rows),
        overdue_minor=sum(row.overdue_minor for row in rows),
        provision_required_minor=sum(row.provision_required_minor for row in rows),
    )


@dataclass(frozen=True)
class OutstandingRow:
    product: ProductRef
    loans: int
    principal_outstanding_minor: int
    overdue_loans: int  # one day or more past due
    overdue_minor: int


@dataclass(frozen=True)
class OutstandingByProduct:
    month_end: dt.date
    snapshot_found: bool
    rows: list[OutstandingRow]
    loans: int
    principal_outstanding_minor: int
    overdue_loans: int
    overdue_minor: int


def outstanding_by_product(*, month_end: dt.date, branch_ids: BranchIds) -> OutstandingByProduct:
    """Per loan product: the loans and the principal outstanding at the month end, and what was late."""
    products: dict[str, ProductRef] = {}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in _snapshot(month_end, branch_ids):
        products[row.product.code] = _product(row.product)
        line = totals[row.product.code]
        line[0] += 1
        line[1] += row.principal_outstanding_minor
        if row.days_past_due > 0:
            line[2] += 1
        line[3] += row.overdue_minor
    rows = [OutstandingRow(products[code], *totals[code]) for code in sorted(products)]
    return OutstandingByProduct(
        month_end=month_end,
        snapshot_found=snapshot_taken(month_end),
        rows=rows,
        loans=sum(row.loans for row in rows),
        principal_outstanding_minor=sum(row.principal_outstanding_minor for row in rows),
        overdue_loans=sum(row.overdue_loans for row in rows),
        overdue_minor=sum(row.overdue_minor for row in rows),
    )


@dataclass(frozen=True)
class ProvisionRow:
    bucket_days: int  # loans this many days past due or more
    label: str
    rate_percent: Decimal
    loans: int
    principal_outstanding_minor: int
    provision_required_minor: int


@dataclass(frozen=True)
class ProvisionsByBucket:
    month_end: dt.date
    snapshot_found: bool
    rows: list[ProvisionRow]
    loans: int
    principal_outstanding_minor: int
    provision_required_minor: int


def provisions_by_bucket(*, month_end: dt.date, branch_ids: BranchIds) -> ProvisionsByBucket:
    """The loan-loss provision the month end required, by ageing bucket, at the rates it was taken at."""
    labels = dict(ProvisionRate.objects.values_list("min_days_past_due", "label"))
    totals: dict[tuple[int, Decimal], list[int]] = defaultdict(lambda: [0, 0, 0])
    for bucket, rate, outstanding, provision in _snapshot(month_end, branch_ids).values_list(
        "bucket_days", "provision_rate", "principal_outstanding_minor", "provision_required_minor"
    ):
        line = totals[(bucket, rate)]
        line[0] += 1
        line[1] += outstanding
        line[2] += provision
    rows = [
        ProvisionRow(bucket, labels.get(bucket, ""), rate.normalize(), *totals[(bucket, rate)])
        for bucket, rate in sorted(totals)
    ]
    return ProvisionsByBucket(
        month_end=month_end,
        snapshot_found=snapshot_taken(month_end),
        rows=rows,
        loans=sum(row.loans for row in rows),
        principal_outstanding_minor=sum(row.principal_outstanding_minor for row in rows),
        provision_required_minor=sum(row.provision_required_minor for row in rows),
    )


# --- Overdue instalments --------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueItem:
    loan_id: int
    loan_number: str
    branch_code: str
    member: MemberRef
    product: ProductRef
    installment: int
    due_date: dt.date
    days_past_due: int
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    total_minor: int


@dataclass(frozen=True)
class OverdueItems:
    as_of: dt.date
    rows: list[OverdueItem]
    loans: int
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    total_minor: int


def _unpaid_parts(installment: LoanInstallment) -> tuple[int, int, int, int]:
    return (
        installment.principal_minor - installment.principal_paid_minor,
        installment.interest_minor - installment.interest_waived_minor - installment.interest_paid_minor,
        installment.fee_minor - installment.fee_paid_minor,
        installment.penalty_minor - installment.penalty_paid_minor,
    )


_UNPAID = (
    Q(principal_paid_minor__lt=F("principal_minor"))
    | Q(interest_paid_minor__lt=F("interest_minor") - F("interest_waived_minor"))
    | Q(fee_paid_minor__lt=F("fee_minor"))
    | Q(penalty_paid_minor__lt=F("penalty_minor"))
)


def overdue_items(*, as_of: dt.date, branch_ids: BranchIds) -> OverdueItems:
    """The instalments of active loans due before ``as_of`` and not fully paid, as the instalments
    stand now, with days past due counted at ``as_of``; by branch, loan and instalment."""
    found = _in_branches(
        LoanInstallment.objects.select_related(
            "loan__branch", "loan__product", "loan__member__branch"
        ).filter(_UNPAID, loan__status=LoanStatus.ACTIVE, due_date__lt=as_of),
        branch_ids,
        "loan__branch_id",
    ).order_by("loan__branch__code", "loan__number", "number")
    rows = []
    for installment in found:
        loan = installment.loan
        principal, interest, fee, penalty = _unpaid_parts(installment)
        rows.append(
            OverdueItem(
                loan_id=loan.pk,
                loan_number=loan.number,
                branch_code=loan.branch.code,
                member=_member(loan.member),
                product=_product(loan.product),
                installment=installment.number,
                due_date=installment.due_date,
                days_past_due=(as_of - installment.due_date).days,
                principal_minor=principal,
                interest_minor=interest,
                fee_minor=fee,
                penalty_minor=penalty,
                total_minor=principal + interest + fee + penalty,
            )
        )
    return OverdueItems(
        as_of=as_of,
        rows=rows,
        loans=len({row.loan_id for row in rows}),
        principal_minor=sum(row.principal_minor for row in rows),
        interest_minor=sum(row.interest_minor for row in rows),
        fee_minor=sum(row.fee_minor for row in rows),
        penalty_minor=sum(row.penalty_minor for row in rows),
        total_minor=sum(row.total_minor for row in rows),
    )


# --- Group collection sheet ---------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRef:
    id: int
    code: str
    name: str
    branch_code: str
    meeting_weekday: int  # 0 Monday … 6 Sunday


@dataclass(frozen=True)
class CollectionSheetLine:
    member: MemberRef
    loan_id: int
    loan_number: str
    product: ProductRef
    installments_due: int  # instalments due by the meeting and not fully paid
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    total_minor: int
    principal_outstanding_minor: int


@dataclass(frozen=True)
class GroupCollectionSheet:
    group: GroupRef
    meeting_on: dt.date
    lines: list[CollectionSheetLine]
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    total_minor: int


def next_meeting(weekday: int, on_or_after: dt.date) -> dt.date:
    return on_or_after + dt.timedelta(days=(weekday - on_or_after.weekday()) % 7)


def group_for_report(code: str, branch_ids: BranchIds) -> MemberGroup:
    group = _in_branches(MemberGroup.objects.select_related("branch"), branch_ids).filter(code=code.strip())
    found = group.first()
    if found is None:
        # The same answer for a group that does not exist and one outside the chosen branches.
        raise BusinessRuleViolation(
            ErrorCode.REPORT_GROUP_UNKNOWN,
            "There is no group with this code in the chosen branches.",
            fields={"group": [code]},
        )
    return found


def group_collection_sheet(
    *, group_code: str, meeting_on: dt.date | None, branch_ids: BranchIds
) -> GroupCollectionSheet:
    """What each member of a group owes at a meeting: for every active loan, the instalments due on or
    before the meeting day and not fully paid (principal, interest, fee and penalty unpaid), exact to the
    smallest unit. Without a day, the group's next meeting from today (today, if it meets today)."""
    group = group_for_report(group_code, branch_ids)
    day = meeting_on or next_meeting(group.meeting_weekday, workspace_business_date())
    loans = list(
        Loan.objects.select_related("member__branch", "product")
        .filter(member__group=group, status=LoanStatus.ACTIVE, disbursed_on__lte=day)
        .order_by("member__number", "number")
    )
    owed: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for installment in LoanInstallment.objects.filter(_UNPAID, loan__in=loans, due_date__lte=day):
        line = owed[installment.loan_id]
        line[0] += 1
        for position, part in enumerate(_unpaid_parts(installment), start=1):
            line[position] += part
    lines = []
    for loan in loans:
        count, principal, interest, fee, penalty = owed[loan.pk]
        lines.append(
            CollectionSheetLine(
                member=_member(loan.member),
                loan_id=loan.pk,
                loan_number=loan.number,
                product=_product(loan.product),
                installments_due=count,
                principal_minor=principal,
                interest_minor=interest,
                fee_minor=fee,
                penalty_minor=penalty,
                total_minor=principal + interest + fee + penalty,
                principal_outstanding_minor=loan.principal_outstanding_minor,
            )
        )
    return GroupCollectionSheet(
        group=GroupRef(group.pk, group.code, group.name, group.branch.code, group.meeting_weekday),
        meeting_on=day,
        lines=lines,
        principal_minor=sum(line.principal_minor for line in lines),
        interest_minor=sum(line.interest_minor for line in lines),
        fee_minor=sum(line.fee_minor for line in lines),
        penalty_minor=sum(line.penalty_minor for line in lines),
        total_minor=sum(line.total_minor for line in lines),
    )
