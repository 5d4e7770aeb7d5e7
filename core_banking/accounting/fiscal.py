"""Fiscal years and months: plain date arithmetic, no Django.

A fiscal year is named by the calendar year it starts in: with a July start (Bangladesh), fiscal
year 2026 runs from 1 July 2026 to 30 June 2027 and is labelled "2026-27"; with a January start it
is the calendar year and labelled "2026".
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

# Where a country's cooperatives start their year unless they say otherwise (Bangladesh: July).
FISCAL_YEAR_START_MONTH_BY_COUNTRY = {"BD": 7}
DEFAULT_FISCAL_YEAR_START_MONTH = 1


def default_start_month(country: str) -> int:
    return FISCAL_YEAR_START_MONTH_BY_COUNTRY.get(country.upper(), DEFAULT_FISCAL_YEAR_START_MONTH)


@dataclass(frozen=True)
class FiscalYear:
    start_year: int
    start_month: int

    @property
    def start(self) -> dt.date:
        return dt.date(self.start_year, self.start_month, 1)

    @property
    def end(self) -> dt.date:
        return add_months(self.start, 12) - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.start_month == 1:
            return str(self.start_year)
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    def previous(self) -> FiscalYear:
        return FiscalYear(self.start_year - 1, self.start_month)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def fiscal_year_of(day: dt.date, start_month: int) -> FiscalYear:
    if not 1 <= start_month <= 12:
        raise ValueError("a fiscal year starts in month 1-12")
    start_year = day.year if day.month >= start_month else day.year - 1
    return FiscalYear(start_year, start_month)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` later, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def is_month_end(day: dt.date) -> bool:
    return day == month_end(day)


def first_year_end_after(after: dt.date, through: dt.date, start_month: int) -> dt.date | None:
    """The earliest fiscal-year end in (after, through], if any."""
    end = fiscal_year_of(after + dt.timedelta(days=1), start_month).end
    return end if end <= through else None
