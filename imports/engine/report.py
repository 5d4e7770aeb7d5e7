"""The dry run's report as a spreadsheet: one row per issue, and the reconciliation. Plain Python."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import IO

from imports.engine.validate import Issue, ReconciliationLine, Totals


def _identity(message: str) -> str:
    return message


def _major(minor: int, exponent: int) -> Decimal:
    return Decimal(minor).scaleb(-exponent)


def write_issues_xlsx(
    issues: Iterable[Issue],
    out: IO[bytes],
    *,
    reconciliation: Iterable[ReconciliationLine] = (),
    totals: Totals | None = None,
    exponent: int = 2,
    translate: Callable[[str], str] = _identity,
) -> None:
    """Sheets "Issues" (entity, row, column, severity, code, message), "Reconciliation" (per control
    account: records, ledger, difference, in major units) and "Members per branch"."""
    from openpyxl import Workbook

    _ = translate
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title="Issues")
    sheet.append([_("Sheet"), _("Row"), _("Column"), _("Severity"), _("Code"), _("Message")])
    for issue in issues:
        sheet.append([issue.entity, issue.row, issue.column, _(issue.severity), issue.code, issue.message])
    lines = list(reconciliation)
    if lines:
        sheet = book.create_sheet(title="Reconciliation")
        sheet.append([_("Control"), _("Accounts"), _("Records"), _("Ledger"), _("Difference")])
        for line in lines:
            sheet.append(
                [
                    line.control,
                    ", ".join(line.accounts),
                    _major(line.records_total, exponent),
                    _major(line.ledger_total, exponent),
                    _major(line.difference, exponent),
                ]
            )
    if totals is not None:
        sheet = book.create_sheet(title="Members per branch")
        sheet.append([_("Branch"), _("Members")])
        for branch, count in sorted(totals.members_per_branch.items()):
            sheet.append([branch, count])
    book.save(out)
