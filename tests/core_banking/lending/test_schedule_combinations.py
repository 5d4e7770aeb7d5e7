"""Every method x interest period x day count x frequency x rounding the settings allow.

Each expected schedule is worked by an independent calculation here, written from the rules in
docs/lending-schedule.md with ``fractions.Fraction`` (exact rationals), Python's own rounding and
day-by-day counting: not from the engine's integer arithmetic, nor by calling the engine twice.
The loans cross a year end into the leap year 2024, so actual/actual splits periods.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction

import pytest

from core_banking.lending.schedule import LoanTerms, schedule_generate

RATE = Fraction(1375, 100)  # 13.75 % a year
ONE_DAY = dt.timedelta(days=1)

# frequency -> (repay_every, installments, disbursement date, first due date or None)
LOANS = {
    "weekly": (1, 10, dt.date(2023, 12, 14), None),
    "fortnightly": (1, 6, dt.date(2023, 12, 14), None),
    "monthly": (2, 6, dt.date(2023, 11, 20), None),
    "once": (1, 1, dt.date(2023, 11, 20), dt.date(2024, 3, 25)),
}
METHODS = [
    ("flat", "equal_installments"),
    ("declining", "equal_installments"),
    ("declining", "equal_principal"),
]
DAY_COUNTS = [(year, month) for month in ("actual", 30) for year in (360, 364, 365, 366, "actual")]
DAY_COUNTS.remove(("actual", 30))  # refused: 30-day months need a fixed year
ROUNDINGS = ["half_even", "half_up", "down", "up"]


def rounded(value: Fraction, mode: str) -> int:
    if mode == "down":
        return math.floor(value)
    if mode == "up":
        return math.ceil(value)
    if mode == "half_up":
        return math.floor(value + Fraction(1, 2))
    return round(value)  # Fraction rounds half to even


def year_fraction(start: dt.date, end: dt.date, days_in_year: int | str) -> Fraction:
    """Days from start to end over the year; actual: each day over its own year's length."""
    if days_in_year != "actual":
        return Fraction((end - start).days, int(days_in_year))
    total, day = Fraction(0), start
    while day < end:
        total += Fraction(1, 366 if day.year % 4 == 0 else 365)
        day += ONE_DAY
    return total


def due_dates(frequency: str) -> list[dt.date]:
    every, count, disbursed, first = LOANS[frequency]
    if frequency == "once":
        assert first is not None
        return [first]
    if frequency == "monthly":
        result = []
        for number in range(1, count + 1):
            month = disbursed.month - 1 + every * number
            result.append(disbursed.replace(year=disbursed.year + month // 12, month=month % 12 + 1))
        return result
    step = 7 * every if frequency == "weekly" else 14 * every
    return [disbursed + dt.timedelta(days=step * number) for number in range(1, count + 1)]


def period_fraction(
    frequency: str,
    period: str,
    days_in_year: int | str,
    days_in_month: int | str,
    span: tuple[dt.date, dt.date] | None = None,
) -> Fraction:
    """The rate fraction (not percent) one period earns."""
    every = LOANS[frequency][0]
    rate = RATE / 100
    if period == "same_as_repayment" and frequency != "once":
        if frequency == "monthly":
            return rate * every / 12
        return rate * every * (2 if frequency == "fortnightly" else 1) / 52
    if days_in_month == 30 and frequency == "monthly":
        return rate * 30 * every / int(days_in_year)
    if days_in_month == 30 and frequency == "once":
        # 20 Nov 2023 to 25 Mar 2024: four whole months (to 20 March) and 5 days
        return rate * (4 * 30 + 5) / int(days_in_year)
    assert span is not None
    return rate * year_fraction(*span, days_in_year)


def level_rate(frequency: str, period: str, days_in_year: int | str) -> Fraction:
    every = LOANS[frequency][0]
    if period == "same_as_repayment":
        return period_fraction(frequency, period, days_in_year, "actual")
    days = {"monthly": 30, "weekly": 7, "fortnightly": 14}[frequency] * every
    return RATE / 100 * days / (365 if days_in_year == "actual" else int(days_in_year))


def expected(
    principal: int,
    *,
    method: str,
    amortization: str,
    period: str,
    diy: int | str,
    dim: int | str,
    frequency: str,
    mode: str,
) -> list[tuple[int, dt.date, dt.date, int, int, int]]:
    _every, count, disbursed, _first = LOANS[frequency]
    dates = due_dates(frequency)
    starts = [disbursed, *dates[:-1]]
    rows = []
    if method == "flat":
        if period == "same_as_repayment" and frequency != "once":
            term = period_fraction(frequency, period, diy, dim) * count
        else:
            term = RATE / 100 * year_fraction(disbursed, dates[-1], diy)
        total_interest = rounded(principal * term, mode)
        per_interest = rounded(Fraction(total_interest, count), mode)
        per_principal = rounded(Fraction(principal, count), mode)
        balance = principal
        for number in range(1, count + 1):
            last = number == count
            principal_part = balance if last else per_principal
            interest = total_interest - per_interest * (count - 1) if last else per_interest
            balance -= principal_part
            rows.append((number, starts[number - 1], dates[number - 1], principal_part, interest, balance))
        return rows
    balance = principal
    if amortization == "equal_installments" and count > 1:
        rate = level_rate(frequency, period, diy)
        level = rounded(principal * rate / (1 - (1 + rate) ** -count), mode)
    else:
        share = rounded(Fraction(principal, count), mode)
    for number in range(1, count + 1):
        start, end = starts[number - 1], dates[number - 1]
        interest = rounded(balance * period_fraction(frequency, period, diy, dim, (start, end)), mode)
        if number == count:
            principal_part = balance
        elif amortization == "equal_installments":
            principal_part = level - interest
        else:
            principal_part = share
        balance -= principal_part
        rows.append((number, start, end, principal_part, interest, balance))
    return rows


@pytest.mark.parametrize("mode", ROUNDINGS)
@pytest.mark.parametrize("frequency", list(LOANS))
@pytest.mark.parametrize(("days_in_year", "days_in_month"), DAY_COUNTS)
@pytest.mark.parametrize("period", ["same_as_repayment", "daily"])
@pytest.mark.parametrize(("method", "amortization"), METHODS)
def test_schedule_matches_the_independent_calculation(
    *,
    method: str,
    amortization: str,
    period: str,
    days_in_year: int | str,
    days_in_month: int | str,
    frequency: str,
    mode: str,
) -> None:
    every, count, disbursed, first = LOANS[frequency]
    principal = 12_345_678  # 123,456.78 BDT
    terms = LoanTerms(
        principal_minor=principal,
        currency="BDT",
        annual_rate=Decimal("13.75"),
        interest_method=method,  # type: ignore[arg-type]
        amortization=amortization,  # type: ignore[arg-type]
        interest_period=period,  # type: ignore[arg-type]
        days_in_year=days_in_year,  # type: ignore[arg-type]
        days_in_month=days_in_month,  # type: ignore[arg-type]
        frequency=frequency,  # type: ignore[arg-type]
        repay_every=every,
        installments=count,
        disbursement_date=disbursed,
        first_due_date=first,
        rounding=mode,  # type: ignore[arg-type]
    )
    schedule = schedule_generate(terms)
    got = [
        (
            row.number,
            row.period_start,
            row.due_date,
            row.principal_minor,
            row.interest_minor,
            row.balance_minor,
        )
        for row in schedule.installments
    ]
    assert got == expected(
        principal,
        method=method,
        amortization=amortization,
        period=period,
        diy=days_in_year,
        dim=days_in_month,
        frequency=frequency,
        mode=mode,
    )
    assert all(row.total_minor == row.principal_minor + row.interest_minor for row in schedule.installments)
    assert schedule.total_principal_minor == principal
    assert schedule.total_interest_minor == sum(row.interest_minor for row in schedule.installments)
    assert schedule.total_minor == principal + schedule.total_interest_minor


@pytest.mark.parametrize("frequency", list(LOANS))
@pytest.mark.parametrize(("method", "amortization"), METHODS)
@pytest.mark.parametrize("period", ["same_as_repayment", "daily"])
def test_vnd_schedules_are_exact_to_the_dong(
    method: str, amortization: str, period: str, frequency: str
) -> None:
    every, count, disbursed, first = LOANS[frequency]
    principal = 50_000_000  # VND has no minor unit: 50 million dong
    terms = LoanTerms(
        principal_minor=principal,
        currency="VND",
        annual_rate=Decimal("13.75"),
        interest_method=method,  # type: ignore[arg-type]
        amortization=amortization,  # type: ignore[arg-type]
        interest_period=period,  # type: ignore[arg-type]
        days_in_year=365,
        frequency=frequency,  # type: ignore[arg-type]
        repay_every=every,
        installments=count,
        disbursement_date=disbursed,
        first_due_date=first,
        rounding="half_up",
    )
    got = [
        (
            row.number,
            row.period_start,
            row.due_date,
            row.principal_minor,
            row.interest_minor,
            row.balance_minor,
        )
        for row in schedule_generate(terms).installments
    ]
    assert got == expected(
        principal,
        method=method,
        amortization=amortization,
        period=period,
        diy=365,
        dim="actual",
        frequency=frequency,
        mode="half_up",
    )
