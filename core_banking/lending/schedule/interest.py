"""Interest arithmetic: exact fractions of integers, one rounding per figure.

A rate for a period is a fraction ``numerator / denominator`` of two integers; an amount in minor
units times that fraction is divided once and rounded once with the loan's rounding mode. Annual
rates are scaled to integers (at most six decimal places), so nothing is lost on the way: the
same terms give the same figures on any machine.

Day counts (``interest_period = daily``):

* the numerator counts rate x days; the denominator is 100 x the rate scale x the days in a year;
* ``days_in_year = actual`` (actual/actual): each day is divided by the length of its own
  calendar year, so a period crossing 31 December is split at the year end (the common
  denominator is 365 x 366);
* ``days_in_month = 30`` (monthly and one-time loans, declining balance): a period counts 30 days
  for each whole month (counted back from its regular due date) plus the days left over, plus or
  minus the days its dates were moved by holidays;
* a rate change takes effect on its own date, so a period is split at it.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterator
from decimal import Decimal
from math import gcd

from core_banking.lending.schedule.terms import RATE_PLACES, LoanTerms, Rounding

RATE_SCALE = 10**RATE_PLACES
# Repayment periods in a year when interest follows the repayment period (as Apache Fineract counts).
PERIODS_PER_YEAR = {"weekly": 52, "fortnightly": 52, "monthly": 12}
_BOTH_YEARS = 365 * 366


def round_div(numerator: int, denominator: int, mode: Rounding) -> int:
    """``numerator / denominator`` rounded to an integer with ``mode`` (ties and signs as ``Decimal``)."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder:
        if mode == "up":
            quotient += 1
        elif mode == "half_up":
            quotient += 2 * remainder >= denominator
        elif mode == "half_even":
            twice = 2 * remainder
            quotient += twice > denominator or (twice == denominator and quotient % 2 == 1)
    return sign * quotient


def to_multiple(numerator: int, denominator: int, multiple: int, mode: Rounding) -> int:
    """``numerator / denominator`` rounded to a multiple of ``multiple`` with ``mode``."""
    return round_div(numerator, denominator * multiple, mode) * multiple


def rate_units(rate: Decimal) -> int:
    """An annual rate in percent as an integer count of 1/RATE_SCALE percent."""
    return int(rate.scaleb(RATE_PLACES))


class Rates:
    """The loan's rate on any day: the base rate, then each change from its own date on."""

    __slots__ = ("dates", "units")

    def __init__(self, terms: LoanTerms) -> None:
        self.dates: list[dt.date] = [change.effective_from for change in terms.rate_changes]
        self.units: list[int] = [rate_units(terms.annual_rate)] + [
            rate_units(change.annual_rate) for change in terms.rate_changes
        ]

    def on(self, day: dt.date) -> int:
        return self.units[bisect_right(self.dates, day)]

    def pieces(self, start: dt.date, end: dt.date) -> Iterator[tuple[dt.date, dt.date, int]]:
        """``start`` to ``end`` split where the rate changes: (from, to, rate units)."""
        index = bisect_right(self.dates, start)
        while start < end:
            if index < len(self.dates) and self.dates[index] < end:
                yield start, self.dates[index], self.units[index]
                start = self.dates[index]
                index += 1
            else:
                yield start, end, self.units[index]
                return


class DayCount:
    """Rate x time for a run of days, over one common denominator for the loan."""

    __slots__ = ("actual_year", "denominator", "rates", "year")

    def __init__(self, terms: LoanTerms, rates: Rates) -> None:
        self.rates = rates
        self.actual_year = terms.days_in_year == "actual"
        self.year = _BOTH_YEARS if self.actual_year else int(terms.days_in_year)
        self.denominator = 100 * RATE_SCALE * self.year

    def numerator(self, start: dt.date, end: dt.date) -> int:
        """Sum over the days from ``start`` (inclusive) to ``end`` (exclusive) of rate x day weight."""
        total = 0
        for piece_start, piece_end, units in self.rates.pieces(start, end):
            if not self.actual_year:
                total += units * (piece_end - piece_start).days
                continue
            day = piece_start
            while day < piece_end:
                year_end = dt.date(day.year + 1, 1, 1)
                until = min(year_end, piece_end)
                weight = 365 if _leap(day.year) else 366  # 1/366 of a leap year's days, 1/365 otherwise
                total += units * (until - day).days * weight
                day = until
        return total


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def pmt(balance: int, rate_numerator: int, rate_denominator: int, periods: int) -> tuple[int, int]:
    """The level payment that repays ``balance`` over ``periods`` at the periodic rate, as a fraction.

    ``balance x r x (1 + r)^n / ((1 + r)^n - 1)`` with ``r = rate_numerator / rate_denominator``,
    computed exactly; with no interest it is ``balance / n``.
    """
    if rate_numerator == 0:
        return balance, periods
    common = gcd(rate_numerator, rate_denominator)
    a, b = rate_numerator // common, rate_denominator // common
    grown = (a + b) ** periods
    return balance * a * grown, b * (grown - b**periods)
