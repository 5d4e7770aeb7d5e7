"""Pure steps of an import's commit that run on every core (``imports.engine.parallel``): a loan's
schedule with what was paid before the cut-over, a member's search text. No Django."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core_banking.lending.schedule import TermsError, schedule_generate, terms_from_json
from core_banking.members.identity import phone_search_forms
from core_banking.members.normalise import search_text_for

# The columns of lending_loaninstallment after the loan id, in the order ``instalment_rows`` gives.
INSTALMENT_COLUMNS = (
    "number, period_start, due_date, principal_minor, interest_minor, earned_interest_minor, "
    "fee_minor, penalty_minor, principal_paid_minor, interest_paid_minor, fee_paid_minor, "
    "penalty_paid_minor, interest_waived_minor, paid_on"
)


def instalment_rows(
    job: tuple[dict[str, Any], int, int, dt.date],
) -> list[tuple[Any, ...]] | dict[str, list[str]]:
    """The schedule of a loan's terms as instalment rows (``INSTALMENT_COLUMNS``), the principal and
    interest paid before the cut-over applied to the oldest ones; the engine's complaints instead
    when the terms cannot make a schedule."""
    terms, principal_paid, interest_paid, cut_over = job
    try:
        schedule = schedule_generate(terms_from_json(terms))
    except TermsError as error:
        return dict(error.errors)
    rows = []
    for item in schedule.installments:
        principal = min(principal_paid, item.principal_minor)
        interest = min(interest_paid, item.interest_minor)
        principal_paid -= principal
        interest_paid -= interest
        paid = principal == item.principal_minor and interest == item.interest_minor
        rows.append(
            (item.number, item.period_start, item.due_date, item.principal_minor, item.interest_minor,
             item.earned_interest_minor, 0, 0, principal, interest, 0, 0, 0,
             min(item.due_date, cut_over) if paid else None)
        )  # fmt: skip
    return rows


def arrears_at(rows: list[tuple[Any, ...]], cut_over: dt.date) -> tuple[int, dt.date | None]:
    """What a loan owes at the close of the cut-over date, counted as the close of business counts
    it: the unpaid principal, interest and fees of the instalments due before that date, and the
    oldest such due date (None when nothing is overdue)."""
    overdue, oldest = 0, None
    for row in rows:
        due = row[2]
        if due >= cut_over:
            break  # the schedule is in due-date order
        owed = row[3] - row[8] + row[4] - row[12] - row[9] + row[6] - row[10]
        if owed > 0:
            overdue += owed
            oldest = oldest or due
    return overdue, oldest


def member_search_text(parts: tuple[str, str, str, str]) -> str:
    """What member search matches against: name, number, national ID and the phone's forms."""
    full_name, number, national_id, phone = parts
    return search_text_for(full_name, number, national_id, extra=phone_search_forms(phone))
