"""Reads of the loan book for reports: portfolio at risk (PAR 1/30/90).

Portfolio at risk is the principal outstanding of the loans that are late, against the whole
principal outstanding: PAR1 counts loans one day or more past due, PAR30 more than 30 days, PAR90
more than 90 days (the bounds of the default provision buckets).

For a month end the close of business has closed, the figures are its month-end snapshot
(``LoanMonthEndSnapshot``): what the book was at that month end, however the loans have moved
since. For any other date the active loans are aged at ``as_of`` from their instalments as they
stand now (the same rule as the close of business: days since the oldest instalment due before
``as_of`` with principal, interest or fee unpaid), with their principal outstanding now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db import connection

from core_banking.lending.close_of_business import is_month_end
from core_banking.lending.models import CloseOfBusinessRun

# PAR label (days) → the fewest days past due a loan must have to count.
PAR_THRESHOLDS: dict[int, int] = {1: 1, 30: 31, 90: 91}


@dataclass(frozen=True)
class AtRisk:
    days: int  # 1, 30 or 90
    loans: int
    at_risk_minor: int
    ratio: Decimal  # at_risk / outstanding, 4 decimal places (0 when nothing is outstanding)


@dataclass(frozen=True)
class PortfolioAtRisk:
    as_of: dt.date
    source: str  # "snapshot" (a closed month end) or "book" (the loans as they stand, aged at as_of)
    loans: int
    outstanding_minor: int
    at_risk: tuple[AtRisk, ...]

    def par(self, days: int) -> AtRisk:
        return next(line for line in self.at_risk if line.days == days)


_BRANCH_FILTER = "(%(all_branches)s::boolean OR {alias}.branch_id = ANY(%(branch_ids)s::bigint[]))"

_AT_RISK_COLUMNS = ", ".join(
    f"count(*) FILTER (WHERE days >= {minimum}), "
    f"COALESCE(sum(outstanding) FILTER (WHERE days >= {minimum}), 0)"
    for minimum in PAR_THRESHOLDS.values()
)

_BOOK_SQL = f"""
WITH aged AS (
    SELECT l.principal_outstanding_minor AS outstanding,
        COALESCE(%(day)s::date - (
            SELECT min(i.due_date) FROM lending_loaninstallment i
            WHERE i.loan_id = l.id AND i.due_date < %(day)s::date
                AND (i.principal_minor - i.principal_paid_minor)
                    + (i.interest_minor - i.interest_waived_minor - i.interest_paid_minor)
                    + (i.fee_minor - i.fee_paid_minor) > 0
        ), 0) AS days
    FROM lending_loan l
    WHERE l.status = 'active' AND l.disbursed_on <= %(day)s::date AND {_BRANCH_FILTER.format(alias="l")}
)
SELECT count(*), COALESCE(sum(outstanding), 0), {_AT_RISK_COLUMNS} FROM aged
"""  # noqa: S608 - constant fragments; values are bound

_SNAPSHOT_SQL = f"""
WITH aged AS (
    SELECT s.principal_outstanding_minor AS outstanding, s.days_past_due AS days
    FROM lending_loanmonthendsnapshot s
    WHERE s.month_end = %(day)s::date AND {_BRANCH_FILTER.format(alias="s")}
)
SELECT count(*), COALESCE(sum(outstanding), 0), {_AT_RISK_COLUMNS} FROM aged
"""  # noqa: S608 - constant fragments; values are bound


def _ratio(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal(0)
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def portfolio_at_risk(*, as_of: dt.date, branch_ids: Sequence[int] | None) -> PortfolioAtRisk:
    """PAR 1/30/90 of the branches ``branch_ids`` (None: the whole cooperative) at ``as_of``."""
    closed_month_end = is_month_end(as_of) and CloseOfBusinessRun.objects.filter(business_date=as_of).exists()
    parameters: dict[str, Any] = {
        "day": as_of,
        "all_branches": branch_ids is None,
        "branch_ids": list(branch_ids or []),
    }
    with connection.cursor() as cursor:
        cursor.execute(_SNAPSHOT_SQL if closed_month_end else _BOOK_SQL, parameters)
        row = cursor.fetchone()
    assert row is not None
    loans, outstanding = int(row[0]), int(row[1])
    lines = []
    for position, days in enumerate(PAR_THRESHOLDS):
        count, amount = int(row[2 + 2 * position]), int(row[3 + 2 * position])
        lines.append(AtRisk(days=days, loans=count, at_risk_minor=amount, ratio=_ratio(amount, outstanding)))
    return PortfolioAtRisk(
        as_of=as_of,
        source="snapshot" if closed_month_end else "book",
        loans=loans,
        outstanding_minor=outstanding,
        at_risk=tuple(lines),
    )
