"""Due dates: the regular calendar of a loan, month ends, working days and group meeting days.

A loan has *nominal* due dates, the regular calendar computed from an anchor (never from the
previous, possibly moved, due date), and *actual* due dates: a nominal date that falls on a holiday
or a weekly off-day moves to the next working day.
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from collections.abc import Iterator

from core_banking.lending.schedule.terms import LoanTerms

ONE_DAY = dt.timedelta(days=1)


def add_months(day: dt.date, months: int, anchor_day: int) -> dt.date:
    """The month ``months`` after ``day``'s month, on ``anchor_day`` or that month's last day if shorter."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year = day.year + years
    month = month_index + 1
    return dt.date(year, month, min(anchor_day, monthrange(year, month)[1]))


def anchor_day(terms: LoanTerms) -> int:
    """The day of the month a monthly (or one-time) loan falls due on, when the month has it."""
    if terms.first_due_date is not None:
        return terms.first_due_date.day
    return terms.disbursement_date.day


def step_days(terms: LoanTerms) -> int:
    """Days between two due dates of a weekly or fortnightly loan."""
    return (7 if terms.frequency == "weekly" else 14) * terms.repay_every


def first_meeting_day(terms: LoanTerms) -> dt.date:
    """The group's first meeting day after disbursement and at least the minimum days after it."""
    assert terms.meeting_weekday is not None
    earliest = terms.disbursement_date + dt.timedelta(days=max(1, terms.minimum_days_to_first_meeting))
    return earliest + dt.timedelta(days=(terms.meeting_weekday - earliest.weekday()) % 7)


def first_nominal_due_date(terms: LoanTerms) -> dt.date:
    if terms.first_due_date is not None:
        return terms.first_due_date
    if terms.meeting_weekday is not None:
        return first_meeting_day(terms)
    if terms.frequency in ("monthly", "once"):
        return add_months(terms.disbursement_date, terms.repay_every, terms.disbursement_date.day)
    return terms.disbursement_date + dt.timedelta(days=step_days(terms))


def nominal_due_dates(terms: LoanTerms) -> Iterator[dt.date]:
    """Every nominal due date in order: without end, except for a one-time loan's single date."""
    first = first_nominal_due_date(terms)
    if terms.frequency == "once":
        yield first
        return
    number = 0
    if terms.frequency == "monthly":
        anchor = anchor_day(terms)
        while True:
            yield add_months(first, number * terms.repay_every, anchor)
            number += 1
    step = dt.timedelta(days=step_days(terms))
    while True:
        yield first + number * step
        number += 1


def working_day(day: dt.date, holidays: frozenset[dt.date], weekly_off_days: frozenset[int]) -> dt.date:
    """``day`` itself when it is a working day, else the next working day."""
    while day in holidays or day.weekday() in weekly_off_days:
        day += ONE_DAY
    return day


def months_and_days(start: dt.date, end: dt.date, anchor: int) -> tuple[int, int]:
    """Whole months counted back from ``end`` (on the anchor day) to ``start``, and the days left over."""
    months = 0
    while True:
        earlier = add_months(end, -(months + 1), anchor)
        if earlier < start:
            break
        months += 1
    return months, (add_months(end, -months, anchor) - start).days if months else (end - start).days
