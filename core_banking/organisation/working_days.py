"""Working days: plain Python over dates, no Django, so any engine can use it as it is.

Weekdays are numbered as ``date.weekday()`` numbers them: 0 is Monday, 6 is Sunday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

WEEKDAYS = frozenset(range(7))

# The weekly off-days a new cooperative starts with, by ISO 3166 country; elsewhere Saturday and Sunday.
COUNTRY_WEEKLY_OFF_DAYS: dict[str, frozenset[int]] = {
    "BD": frozenset({4}),  # Friday
    "VN": frozenset({5, 6}),  # Saturday, Sunday
    "TH": frozenset({5, 6}),
}
DEFAULT_WEEKLY_OFF_DAYS = frozenset({5, 6})


def weekly_off_days_for_country(country: str) -> frozenset[int]:
    return COUNTRY_WEEKLY_OFF_DAYS.get(country.strip().upper(), DEFAULT_WEEKLY_OFF_DAYS)


def yearly_occurrence(first: dt.date, year: int) -> dt.date | None:
    """The date a holiday repeated every year since ``first`` falls on in ``year``.

    None before its first year, and in years without its day (29 February outside leap years).
    """
    if year < first.year:
        return None
    try:
        return first.replace(year=year)
    except ValueError:
        return None


def holidays_between(
    *, one_off: Iterable[dt.date], yearly: Iterable[dt.date], first_year: int, last_year: int
) -> frozenset[dt.date]:
    """Every holiday of the years ``first_year`` to ``last_year``: the one-off ones in those years and
    each yearly one (given by its first date) on its day in each of them."""
    days = {day for day in one_off if first_year <= day.year <= last_year}
    for first in yearly:
        for year in range(first_year, last_year + 1):
            occurrence = yearly_occurrence(first, year)
            if occurrence is not None:
                days.add(occurrence)
    return frozenset(days)


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days a branch (or the whole cooperative) works, for the years from ``start`` to ``end``.

    ``holidays`` holds every holiday of those whole years (1 January of ``start``'s year to 31 December
    of ``end``'s); a day outside them is judged by the weekly off-days alone.
    """

    weekly_off_days: frozenset[int]
    holidays: frozenset[dt.date]
    start: dt.date = dt.date.min
    end: dt.date = dt.date.max

    def __post_init__(self) -> None:
        if not self.weekly_off_days <= WEEKDAYS:
            raise ValueError(f"Weekdays are 0 (Monday) to 6 (Sunday), not {sorted(self.weekly_off_days)}.")
        if self.weekly_off_days == WEEKDAYS:
            raise ValueError("A week needs at least one working day.")
        if self.start > self.end:
            raise ValueError("The start is after the end.")

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() not in self.weekly_off_days and day not in self.holidays

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the first working day after it."""
        # Each week of a run of days off holds a holiday on a day that would be worked: the walk ends.
        for _step in range(7 * (len(self.holidays) + 1)):
            if self.is_working_day(day):
                return day
            day += dt.timedelta(days=1)
        raise AssertionError("unreachable: a week has a working day")  # pragma: no cover
