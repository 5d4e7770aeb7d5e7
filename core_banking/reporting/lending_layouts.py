"""How each loan report's result is laid out as a table (``layouts.py`` for the books and savings).

Called while a request's language is active, so labels come out in the reader's language.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core_banking.lending.models import ApplicationStatus
from core_banking.lending.reports import PortfolioAtRisk
from core_banking.members.models import Weekday
from core_banking.reporting.lending_selectors import (
    ApprovalsAndDisbursements,
    Collections,
    GroupCollectionSheet,
    LoanApplications,
    LoanDebtors,
    OutstandingByProduct,
    OverdueItems,
    ProvisionsByBucket,
    ReturnedApplications,
)
from core_banking.reporting.selectors import MemberRef
from core_banking.reporting.tables import CellKind, Column, ReportTable, RowStyle
from core_banking.savings.models import Channel

MONEY = CellKind.MONEY
NUMBER = CellKind.NUMBER
DATE = CellKind.DATE


def _member(member: MemberRef) -> str:
    return f"{member.number} {member.name}"


def _status(status: str) -> str:
    return str(ApplicationStatus(status).label) if status in ApplicationStatus.values else status


def _channel(channel: str) -> str:
    return str(Channel(channel).label) if channel in Channel.values else channel


def _percent(ratio: Decimal) -> str:
    """A ratio (0.1234) as a percent with two decimals (12.34 %)."""
    return f"{(ratio * 100).quantize(Decimal('0.01'))} %"


def _no_snapshot(table: ReportTable) -> None:
    table.section(
        _(
            "There is no month-end snapshot for this date: the close of business has not closed it as a "
            "month end, so there are no figures to show. Choose a month end that has been closed."
        )
    )


def _loans(count: int) -> str:
    return ngettext("%(count)s loan", "%(count)s loans", count) % {"count": count}


# --- Daily ---------------------------------------------------------------------------------------


def loan_applications_table(result: LoanApplications) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Applied on"), DATE),
            Column(_("Application")),
            Column(_("Branch")),
            Column(_("Member")),
            Column(_("Product")),
            Column(_("Instalments"), NUMBER),
            Column(_("Status")),
            Column(_("Amount"), MONEY),
        )
    )
    for row in result.rows:
        table.add(
            row.applied_on,
            row.number,
            row.branch_code,
            _member(row.member),
            row.product.name,
            row.installments,
            _status(row.status),
            row.amount_minor,
        )
    applications = ngettext(
        "Total of %(count)s application", "Total of %(count)s applications", result.applications
    ) % {"count": result.applications}
    table.add(None, None, None, applications, None, None, None, result.amount_minor, style=RowStyle.TOTAL)
    return table


def loan_applications_summary_table(result: LoanApplications) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Code")),
            Column(_("Product"), repeat=False),
            Column(_("Status")),
            Column(_("Applications"), NUMBER),
            Column(_("Amount"), MONEY),
        )
    )
    previous = None
    for row in result.summary:
        table.add(
            row.product.code,
            row.product.name,
            _status(row.status),
            row.applications,
            row.amount_minor,
            group_start=row.product.code != previous,
        )
        previous = row.product.code
    table.add(None, _("Total"), None, result.applications, result.amount_minor, style=RowStyle.TOTAL)
    return table


def _level(level: int | None) -> str:
    return "" if level is None else _("Level %(level)s") % {"level": level}


def approvals_and_disbursements_table(result: ApprovalsAndDisbursements) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Date"), DATE),
            Column(_("Application or loan")),
            Column(_("Branch")),
            Column(_("Member")),
            Column(_("Product")),
            Column(_("Decision")),
            Column(_("Amount"), MONEY),
        )
    )
    table.section(_("Approvals"))
    for approval in result.approvals:
        decision = _level(approval.level)
        if approval.final:
            decision = f"{decision} · {_('approved')}" if decision else _("approved")
        table.add(
            approval.decided_on,
            approval.application_number,
            approval.branch_code,
            _member(approval.member),
            approval.product.name,
            decision,
            approval.amount_minor,
        )
    approved = ngettext(
        "%(count)s application approved", "%(count)s applications approved", result.approved
    ) % {"count": result.approved}
    table.add(None, None, None, approved, None, None, result.approved_minor, style=RowStyle.SUBTOTAL)
    table.section(_("Disbursements"))
    for disbursement in result.disbursements:
        table.add(
            disbursement.disbursed_on,
            disbursement.loan_number,
            disbursement.branch_code,
            _member(disbursement.member),
            disbursement.product.name,
            None,
            disbursement.principal_minor,
        )
    disbursed = ngettext("%(count)s loan disbursed", "%(count)s loans disbursed", result.disbursed) % {
        "count": result.disbursed
    }
    table.add(None, None, None, disbursed, None, None, result.disbursed_minor, style=RowStyle.TOTAL)
    return table


def approvals_and_disbursements_summary_table(result: ApprovalsAndDisbursements) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Code")),
            Column(_("Product")),
            Column(_("Approved"), NUMBER),
            Column(_("Amount approved"), MONEY),
            Column(_("Disbursed"), NUMBER),
            Column(_("Amount disbursed"), MONEY),
        )
    )
    for row in result.summary:
        table.add(
            row.product.code,
            row.product.name,
            row.approved,
            row.approved_minor,
            row.disbursed,
            row.disbursed_minor,
        )
    table.add(
        None,
        _("Total"),
        result.approved,
        result.approved_minor,
        result.disbursed,
        result.disbursed_minor,
        style=RowStyle.TOTAL,
    )
    return table


def returned_applications_table(result: ReturnedApplications) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Returned on"), DATE),
            Column(_("Application")),
            Column(_("Branch")),
            Column(_("Member")),
            Column(_("Product")),
            Column(_("Level")),
            Column(_("Reasons")),
            Column(_("Status now")),
            Column(_("Amount"), MONEY),
        )
    )
    for row in result.rows:
        table.add(
            row.returned_on,
            row.application_number,
            row.branch_code,
            _member(row.member),
            row.product.name,
            _level(row.level),
            row.reason,
            _status(row.status),
            row.amount_minor,
        )
    count = len(result.rows)
    returned = ngettext("%(count)s return", "%(count)s returns", count) % {"count": count}
    table.add(None, None, None, returned, None, None, None, None, result.amount_minor, style=RowStyle.TOTAL)
    return table


def collections_table(result: Collections) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Date"), DATE),
            Column(_("Channel")),
            Column(_("Payments"), NUMBER),
            Column(_("Principal"), MONEY),
            Column(_("Interest"), MONEY),
            Column(_("Fee"), MONEY),
            Column(_("Penalty"), MONEY),
            Column(_("Total"), MONEY),
        )
    )
    table.section(_("By day"))
    for day in result.days:
        table.add(
            day.day,
            None,
            day.payments,
            day.principal_minor,
            day.interest_minor,
            day.fee_minor,
            day.penalty_minor,
            day.total_minor,
        )
    table.add(
        None,
        _("Total"),
        result.payments,
        result.principal_minor,
        result.interest_minor,
        result.fee_minor,
        result.penalty_minor,
        result.total_minor,
        style=RowStyle.SUBTOTAL,
    )
    table.section(_("By channel"))
    for channel in result.channels:
        table.add(
            None, _channel(channel.channel), channel.payments, None, None, None, None, channel.total_minor
        )
    table.add(
        None, _("Total"), result.payments, None, None, None, None, result.total_minor, style=RowStyle.TOTAL
    )
    return table


# --- Month end -------------------------------------------------------------------------------------


def loan_debtors_table(result: LoanDebtors) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Loan")),
            Column(_("Branch")),
            Column(_("Member")),
            Column(_("Product")),
            Column(_("Days past due"), NUMBER),
            Column(_("Principal outstanding"), MONEY),
            Column(_("Overdue"), MONEY),
            Column(_("Provision required"), MONEY),
        )
    )
    if not result.snapshot_found:
        _no_snapshot(table)
        return table
    for row in result.rows:
        table.add(
            row.loan_number,
            row.branch_code,
            _member(row.member),
            row.product.name,
            row.days_past_due,
            row.principal_outstanding_minor,
            row.overdue_minor,
            row.provision_required_minor,
        )
    table.add(
        None,
        None,
        _loans(len(result.rows)),
        None,
        None,
        result.principal_outstanding_minor,
        result.overdue_minor,
        result.provision_required_minor,
        style=RowStyle.TOTAL,
    )
    return table


def outstanding_by_product_table(result: OutstandingByProduct) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Code")),
            Column(_("Product")),
            Column(_("Loans"), NUMBER),
            Column(_("Principal outstanding"), MONEY),
            Column(_("Loans overdue"), NUMBER),
            Column(_("Overdue"), MONEY),
        )
    )
    if not result.snapshot_found:
        _no_snapshot(table)
        return table
    for row in result.rows:
        table.add(
            row.product.code,
            row.product.name,
            row.loans,
            row.principal_outstanding_minor,
            row.overdue_loans,
            row.overdue_minor,
        )
    table.add(
        None,
        _("Total"),
        result.loans,
        result.principal_outstanding_minor,
        result.overdue_loans,
        result.overdue_minor,
        style=RowStyle.TOTAL,
    )
    return table


def provisions_by_bucket_table(result: ProvisionsByBucket) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Days past due")),
            Column(_("Bucket")),
            Column(_("Rate")),
            Column(_("Loans"), NUMBER),
            Column(_("Principal outstanding"), MONEY),
            Column(_("Provision required"), MONEY),
        )
    )
    if not result.snapshot_found:
        _no_snapshot(table)
        return table
    for row in result.rows:
        table.add(
            _("%(days)s or more") % {"days": row.bucket_days},
            row.label,
            f"{row.rate_percent} %",
            row.loans,
            row.principal_outstanding_minor,
            row.provision_required_minor,
        )
    table.add(
        None,
        _("Total"),
        None,
        result.loans,
        result.principal_outstanding_minor,
        result.provision_required_minor,
        style=RowStyle.TOTAL,
    )
    return table


def portfolio_at_risk_table(result: PortfolioAtRisk) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Measure")),
            Column(_("Loans"), NUMBER),
            Column(_("Principal"), MONEY),
            Column(_("Share of the portfolio")),
        )
    )
    if result.source == "snapshot":
        table.section(_("From the month-end snapshot"))
    else:
        table.section(_("From the loans as they stand, aged at this date"))
    table.add(_("Portfolio outstanding"), result.loans, result.outstanding_minor, None)
    for line in result.at_risk:
        table.add(
            _("PAR %(days)s (more than %(days)s days past due)") % {"days": line.days}
            if line.days > 1
            else _("PAR 1 (one day or more past due)"),
            line.loans,
            line.at_risk_minor,
            _percent(line.ratio),
        )
    return table


def overdue_items_table(result: OverdueItems) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Loan"), repeat=False),
            Column(_("Branch"), repeat=False),
            Column(_("Member"), repeat=False),
            Column(_("Instalment"), NUMBER),
            Column(_("Due date"), DATE),
            Column(_("Days past due"), NUMBER),
            Column(_("Principal"), MONEY),
            Column(_("Interest"), MONEY),
            Column(_("Fee"), MONEY),
            Column(_("Penalty"), MONEY),
            Column(_("Total"), MONEY),
        )
    )
    previous = None
    for row in result.rows:
        table.add(
            row.loan_number,
            row.branch_code,
            _member(row.member),
            row.installment,
            row.due_date,
            row.days_past_due,
            row.principal_minor,
            row.interest_minor,
            row.fee_minor,
            row.penalty_minor,
            row.total_minor,
            group_start=row.loan_id != previous,
        )
        previous = row.loan_id
    table.add(
        None,
        None,
        _loans(result.loans),
        None,
        None,
        None,
        result.principal_minor,
        result.interest_minor,
        result.fee_minor,
        result.penalty_minor,
        result.total_minor,
        style=RowStyle.TOTAL,
    )
    return table


# --- Group collection sheet ---------------------------------------------------------------------


def group_collection_sheet_subtitle(result: GroupCollectionSheet) -> str:
    group = result.group
    return _("%(code)s %(name)s · meets on %(weekday)s") % {
        "code": group.code,
        "name": group.name,
        "weekday": str(Weekday(group.meeting_weekday).label),
    }


def group_collection_sheet_table(result: GroupCollectionSheet) -> ReportTable:
    table = ReportTable(
        (
            Column(_("Member"), repeat=False),
            Column(_("Loan")),
            Column(_("Instalments due"), NUMBER),
            Column(_("Principal"), MONEY),
            Column(_("Interest"), MONEY),
            Column(_("Fee"), MONEY),
            Column(_("Penalty"), MONEY),
            Column(_("Due at the meeting"), MONEY),
            Column(_("Collected")),
        )
    )
    previous = None
    for line in result.lines:
        table.add(
            _member(line.member),
            line.loan_number,
            line.installments_due,
            line.principal_minor,
            line.interest_minor,
            line.fee_minor,
            line.penalty_minor,
            line.total_minor,
            None,  # left blank for the field officer to write in
            group_start=line.member.id != previous,
        )
        previous = line.member.id
    table.add(
        _("Total"),
        None,
        None,
        result.principal_minor,
        result.interest_minor,
        result.fee_minor,
        result.penalty_minor,
        result.total_minor,
        None,
        style=RowStyle.TOTAL,
    )
    return table
