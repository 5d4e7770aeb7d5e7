"""Savings interest engine (pure, no database): hand-worked figures and properties.

Every expected amount below is worked out by hand in the comments, in minor units: paisa for BDT
(exponent 2; 100 000.00 taka = 10 000 000 paisa) and dong for VND (exponent 0). "x / 365 = q r"
means the quotient and remainder, which decide the rounding.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core_banking.savings.interest import (
    DayCount,
    DepositPeriod,
    InterestInputError,
    InterestMethod,
    Movement,
    Period,
    PeriodFrequency,
    PrematurePenalty,
    RateChange,
    Rounding,
    SavingsInterestTerms,
    add_months,
    fixed_deposit_maturity,
    fixed_deposit_premature_closure,
    months_completed,
    period_containing,
    recurring_deposit_maturity,
    recurring_deposit_premature_closure,
    savings_interest,
)

DAILY = InterestMethod.DAILY_BALANCE
MINIMUM = InterestMethod.MONTHLY_MINIMUM_BALANCE
MONTH_END = InterestMethod.MONTH_END_BALANCE
SIX_PERCENT = (RateChange(date(2027, 7, 1), Decimal("6")),)
JANUARY_2028 = Period(date(2028, 1, 1), date(2028, 1, 31))
FEBRUARY_2028 = Period(date(2028, 2, 1), date(2028, 2, 29))
Q1_2028 = Period(date(2028, 1, 1), date(2028, 3, 31))


def terms(
    method: InterestMethod,
    *,
    day_count: DayCount = DayCount.ACTUAL_365,
    rates: tuple[RateChange, ...] = SIX_PERCENT,
    exponent: int = 2,
    rounding: Rounding = Rounding.HALF_EVEN,
    minimum_balance: int | None = None,
) -> SavingsInterestTerms:
    return SavingsInterestTerms(
        method=method,
        day_count=day_count,
        rates=rates,
        currency_exponent=exponent,
        rounding=rounding,
        minimum_balance=minimum_balance,
    )


# --------------------------------------------------------------------------------------------------
# (a) January 2028, a month with a 31st, BDT at 6 %
#   opening 100 000.00 taka = 10 000 000 paisa
#   11 Jan deposit  +50 000.00 = +5 000 000  -> 15 000 000
#   21 Jan withdraw -20 000.00 = -2 000 000  -> 13 000 000
# --------------------------------------------------------------------------------------------------
JANUARY_MOVEMENTS = [Movement(date(2028, 1, 21), -2_000_000), Movement(date(2028, 1, 11), 5_000_000)]


def test_daily_balance_january_2028_bdt() -> None:
    # Balance-days: 1-10 Jan 10 x 10 000 000 = 100 000 000
    #              11-20 Jan 10 x 15 000 000 = 150 000 000
    #              21-31 Jan 11 x 13 000 000 = 143 000 000   (31 days, the 31st included)
    #              total                       393 000 000
    # x 6 / 100 = 23 580 000; / 365 = 64 602 r 270 -> 64 602.7397... -> 64 603 paisa (646.03 taka)
    result = savings_interest(
        opening_balance=10_000_000, movements=JANUARY_MOVEMENTS, period=JANUARY_2028, terms=terms(DAILY)
    )
    assert result.interest == 64_603
    assert result.interest_major == Decimal("646.03")
    assert result.exact == Fraction(23_580_000, 365)
    assert result.unrounded == Decimal("64602.7397260274")
    assert [(s.first_day.day, s.last_day.day, s.days, s.balance) for s in result.segments] == [
        (1, 10, 10, 10_000_000),
        (11, 20, 10, 15_000_000),
        (21, 31, 11, 13_000_000),
    ]
    # First segment: 10 000 000 x 6 % x 10 / 365 = 6 000 000 / 365 = 16 438.3561643836 (10 places)
    first = result.segments[0]
    assert (first.annual_rate_percent, first.denominator, first.earns) == (Decimal("6"), 365, True)
    assert first.interest == Decimal("16438.3561643836")
    assert result.breakdown_json()[0] == {
        "first_day": "2028-01-01",
        "last_day": "2028-01-10",
        "days": 10,
        "balance": 10_000_000,
        "annual_rate_percent": "6",
        "denominator": 365,
        "interest": "16438.3561643836",
        "earns": True,
    }


def test_monthly_minimum_balance_january_2028_bdt() -> None:
    # Lowest of: carried in 10 000 000, closings 15 000 000 and 13 000 000 -> 10 000 000
    # 10 000 000 x 6 / 100 x 31 = 18 600 000; / 365 = 50 958 r 330 -> .904 -> 50 959
    result = savings_interest(
        opening_balance=10_000_000, movements=JANUARY_MOVEMENTS, period=JANUARY_2028, terms=terms(MINIMUM)
    )
    assert result.interest == 50_959
    assert [(s.days, s.balance) for s in result.segments] == [(31, 10_000_000)]


def test_month_end_balance_january_2028_bdt() -> None:
    # Balance on 31 Jan: 13 000 000 x 6 / 100 x 31 = 24 180 000; / 365 = 66 246 r 210 -> .575 -> 66 247
    result = savings_interest(
        opening_balance=10_000_000, movements=JANUARY_MOVEMENTS, period=JANUARY_2028, terms=terms(MONTH_END)
    )
    assert result.interest == 66_247
    assert [(s.days, s.balance) for s in result.segments] == [(31, 13_000_000)]


@pytest.mark.parametrize(
    ("day_count", "denominator", "expected"),
    [
        # 23 580 000 (balance-days x 6 %, above) / 365 = 64 602 r 270 -> 64 603
        (DayCount.ACTUAL_365, 365, 64_603),
        # 23 580 000 / 360 = 65 500 exactly
        (DayCount.ACTUAL_360, 360, 65_500),
        # 2028 is a leap year: 23 580 000 / 366 = 64 426 r 84 -> .2295 -> 64 426
        (DayCount.ACTUAL_ACTUAL, 366, 64_426),
    ],
)
def test_day_counts_on_january_2028(day_count: DayCount, denominator: int, expected: int) -> None:
    result = savings_interest(
        opening_balance=10_000_000,
        movements=JANUARY_MOVEMENTS,
        period=JANUARY_2028,
        terms=terms(DAILY, day_count=day_count),
    )
    assert result.interest == expected
    assert {segment.denominator for segment in result.segments} == {denominator}


# --------------------------------------------------------------------------------------------------
# (b) February 2028 (29 days, leap year), VND (exponent 0) at 5 %
#   opening 20 000 000 dong; 15 Feb +10 000 000 -> 30 000 000; 29 Feb -6 000 000 -> 24 000 000
# --------------------------------------------------------------------------------------------------
FIVE_PERCENT = (RateChange(date(2028, 1, 1), Decimal("5")),)
FEBRUARY_MOVEMENTS = [Movement(date(2028, 2, 15), 10_000_000), Movement(date(2028, 2, 29), -6_000_000)]


@pytest.mark.parametrize(
    ("method", "day_count", "expected"),
    [
        # Balance-days: 1-14 Feb 14 x 20 000 000 = 280 000 000; 15-28 Feb 14 x 30 000 000 = 420 000 000;
        # 29 Feb 1 x 24 000 000 = 24 000 000; total 724 000 000 x 5 / 100 = 36 200 000
        # / 365 = 99 178 r 30 -> .082 -> 99 178
        (DAILY, DayCount.ACTUAL_365, 99_178),
        # / 366 = 98 907 r 38 -> .104 -> 98 907
        (DAILY, DayCount.ACTUAL_ACTUAL, 98_907),
        # / 360 = 100 555 r 200 -> .556 -> 100 556
        (DAILY, DayCount.ACTUAL_360, 100_556),
        # Minimum 20 000 000 x 5 / 100 x 29 = 29 000 000; / 365 = 79 452 r 20 -> .055 -> 79 452
        (MINIMUM, DayCount.ACTUAL_365, 79_452),
        # Month end 24 000 000 x 5 / 100 x 29 = 34 800 000; / 365 = 95 342 r 170 -> .466 -> 95 342
        (MONTH_END, DayCount.ACTUAL_365, 95_342),
        # / 360 = 96 666 r 240 -> .667 -> 96 667
        (MONTH_END, DayCount.ACTUAL_360, 96_667),
        # / 366 = 95 081 r 354 -> .967 -> 95 082
        (MONTH_END, DayCount.ACTUAL_ACTUAL, 95_082),
    ],
)
def test_february_2028_vnd(method: InterestMethod, day_count: DayCount, expected: int) -> None:
    result = savings_interest(
        opening_balance=20_000_000,
        movements=FEBRUARY_MOVEMENTS,
        period=FEBRUARY_2028,
        terms=terms(method, day_count=day_count, rates=FIVE_PERCENT, exponent=0),
    )
    assert result.interest == expected
    assert result.interest_major == Decimal(expected)  # VND has no minor unit
    assert sum(segment.days for segment in result.segments) == 29


# --------------------------------------------------------------------------------------------------
# (c) A rate change inside the period: Q1 2028, BDT, 6 % until 4.5 % takes effect on 15 Feb
#   opening 10 000 000; 20 Feb -4 000 000 -> 6 000 000; 10 Mar +2 000 000 -> 8 000 000
# --------------------------------------------------------------------------------------------------
RATE_CUT = (RateChange(date(2028, 2, 15), Decimal("4.5")), RateChange(date(2027, 7, 1), Decimal("6")))
QUARTER_MOVEMENTS = [Movement(date(2028, 2, 20), -4_000_000), Movement(date(2028, 3, 10), 2_000_000)]


def test_daily_balance_with_rate_change() -> None:
    # 1-31 Jan   10 000 000 x 31 days x 6 %   = 18 600 000
    # 1-14 Feb   10 000 000 x 14 days x 6 %   =  8 400 000
    # 15-19 Feb  10 000 000 x  5 days x 4.5 % =  2 250 000
    # 20-29 Feb   6 000 000 x 10 days x 4.5 % =  2 700 000
    # 1-9 Mar     6 000 000 x  9 days x 4.5 % =  2 430 000
    # 10-31 Mar   8 000 000 x 22 days x 4.5 % =  7 920 000
    # total 42 300 000 / 365 = 115 890 r 150 -> .411 -> 115 890
    # (January and February-to-the-14th are one segment: same balance, rate and denominator.)
    result = savings_interest(
        opening_balance=10_000_000,
        movements=QUARTER_MOVEMENTS,
        period=Q1_2028,
        terms=terms(DAILY, rates=RATE_CUT),
    )
    assert result.interest == 115_890
    assert result.exact == Fraction(42_300_000, 365)
    assert [(s.first_day, s.days, s.balance, s.annual_rate_percent) for s in result.segments] == [
        (date(2028, 1, 1), 45, 10_000_000, Decimal("6")),
        (date(2028, 2, 15), 5, 10_000_000, Decimal("4.5")),
        (date(2028, 2, 20), 19, 6_000_000, Decimal("4.5")),
        (date(2028, 3, 10), 22, 8_000_000, Decimal("4.5")),
    ]


def test_monthly_minimum_balance_with_rate_change() -> None:
    # Jan: minimum 10 000 000 x 31 x 6 %                              = 18 600 000
    # Feb: minimum  6 000 000 (from 20 Feb), split by rate:
    #      14 days (1-14) x 6 % + 15 days (15-29) x 4.5 % = 0.84 + 0.675 -> 6 000 000 x 1.515 =  9 090 000
    # Mar: carried in 6 000 000 is the minimum, 31 x 4.5 % = 1.395 -> 6 000 000 x 1.395      =  8 370 000
    # total 36 060 000 / 365 = 98 794 r 190 -> .521 -> 98 795
    result = savings_interest(
        opening_balance=10_000_000,
        movements=QUARTER_MOVEMENTS,
        period=Q1_2028,
        terms=terms(MINIMUM, rates=RATE_CUT),
    )
    assert result.interest == 98_795
    assert [(s.first_day, s.last_day, s.balance, s.annual_rate_percent) for s in result.segments] == [
        (date(2028, 1, 1), date(2028, 1, 31), 10_000_000, Decimal("6")),
        (date(2028, 2, 1), date(2028, 2, 14), 6_000_000, Decimal("6")),
        (date(2028, 2, 15), date(2028, 2, 29), 6_000_000, Decimal("4.5")),
        (date(2028, 3, 1), date(2028, 3, 31), 6_000_000, Decimal("4.5")),
    ]


def test_month_end_balance_with_rate_change() -> None:
    # Jan end 10 000 000 x 31 x 6 %                  = 18 600 000
    # Feb end  6 000 000 x (14 x 6 % + 15 x 4.5 %)   =  9 090 000
    # Mar end  8 000 000 x 31 x 4.5 % = 8 000 000 x 1.395 = 11 160 000
    # total 38 850 000 / 365 = 106 438 r 130 -> .356 -> 106 438
    result = savings_interest(
        opening_balance=10_000_000,
        movements=QUARTER_MOVEMENTS,
        period=Q1_2028,
        terms=terms(MONTH_END, rates=RATE_CUT),
    )
    assert result.interest == 106_438
    assert [s.balance for s in result.segments] == [10_000_000, 6_000_000, 6_000_000, 8_000_000]


def test_rate_changes_after_the_period_are_ignored_and_the_latest_earlier_one_applies() -> None:
    rates = (
        RateChange(date(2020, 1, 1), Decimal("9")),
        RateChange(date(2027, 12, 1), Decimal("6")),
        RateChange(date(2028, 2, 1), Decimal("1")),
    )
    # 10 000 000 x 31 x 6 % / 365 = 18 600 000 / 365 = 50 958 r 330 -> 50 959
    result = savings_interest(
        opening_balance=10_000_000, movements=[], period=JANUARY_2028, terms=terms(DAILY, rates=rates)
    )
    assert result.interest == 50_959


# --------------------------------------------------------------------------------------------------
# A period crossing the year end: actual/actual splits it by the days of each year
#   16-31 Dec 2027 (16 days, 2027 has 365) and 1-15 Jan 2028 (15 days, 2028 has 366)
#   36 500 000 paisa at 10 %: 36 500 000 x 10 / 100 = 3 650 000 a "year-day"
# --------------------------------------------------------------------------------------------------
YEAR_END = Period(date(2027, 12, 16), date(2028, 1, 15))
TEN_PERCENT = (RateChange(date(2027, 1, 1), Decimal("10")),)


@pytest.mark.parametrize(
    ("day_count", "expected", "denominators"),
    [
        # 3 650 000 x 16 / 365 = 160 000; 3 650 000 x 15 / 366 = 54 750 000 / 366 = 149 590 r 60
        # total 309 590.16 -> 309 590
        (DayCount.ACTUAL_ACTUAL, 309_590, [365, 366]),
        # 3 650 000 x 31 / 365 = 310 000 exactly
        (DayCount.ACTUAL_365, 310_000, [365]),
        # 3 650 000 x 31 / 360 = 113 150 000 / 360 = 314 305 r 200 -> .556 -> 314 306
        (DayCount.ACTUAL_360, 314_306, [360]),
    ],
)
def test_period_across_the_year_end(day_count: DayCount, expected: int, denominators: list[int]) -> None:
    for method in (DAILY, MINIMUM, MONTH_END):  # the balance never changes, so all three agree
        result = savings_interest(
            opening_balance=36_500_000,
            movements=[],
            period=YEAR_END,
            terms=terms(method, day_count=day_count, rates=TEN_PERCENT),
        )
        assert result.interest == expected, method
        assert sorted({s.denominator for s in result.segments}) == denominators


# --------------------------------------------------------------------------------------------------
# Rounding: one day at 10 %, actual/365 -> balance x 10 / 100 / 365 = balance / 3 650
#   9 125 / 3 650 = 2.5 (tie, even below)   12 775 / 3 650 = 3.5 (tie, odd below)
#   9 855 / 3 650 = 2.7                        8 030 / 3 650 = 2.2
# Together the four values tell every mode apart: half_even and half_up differ on 2.5,
# down and half_even on 2.7, up and half_up on 2.2.
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("exponent", [0, 2])
@pytest.mark.parametrize(
    ("rounding", "expected"),
    [
        (Rounding.HALF_EVEN, {9_125: 2, 12_775: 4, 9_855: 3, 8_030: 2}),
        (Rounding.HALF_UP, {9_125: 3, 12_775: 4, 9_855: 3, 8_030: 2}),
        (Rounding.DOWN, {9_125: 2, 12_775: 3, 9_855: 2, 8_030: 2}),
        (Rounding.UP, {9_125: 3, 12_775: 4, 9_855: 3, 8_030: 3}),
    ],
)
def test_rounding_modes(rounding: Rounding, expected: dict[int, int], exponent: int) -> None:
    one_day = Period(date(2028, 1, 31), date(2028, 1, 31))
    for balance, interest in expected.items():
        result = savings_interest(
            opening_balance=balance,
            movements=[],
            period=one_day,
            terms=terms(DAILY, rates=TEN_PERCENT, rounding=rounding, exponent=exponent),
        )
        assert result.interest == interest, (balance, rounding)
    tie = savings_interest(
        opening_balance=9_125, movements=[], period=one_day, terms=terms(DAILY, rates=TEN_PERCENT)
    )
    assert tie.unrounded == Decimal("2.5")


# --------------------------------------------------------------------------------------------------
# Minimum balance and negative balances
# --------------------------------------------------------------------------------------------------
def test_daily_balance_days_below_the_minimum_earn_nothing() -> None:
    # Opening 4 000 000; 11 Jan +2 000 000 -> 6 000 000; 21 Jan -1 500 000 -> 4 500 000. Minimum 5 000 000.
    # Only 11-20 Jan earns: 6 000 000 x 10 x 6 % = 3 600 000 / 365 = 9 863 r 5 -> 9 863
    movements = [Movement(date(2028, 1, 11), 2_000_000), Movement(date(2028, 1, 21), -1_500_000)]
    result = savings_interest(
        opening_balance=4_000_000,
        movements=movements,
        period=JANUARY_2028,
        terms=terms(DAILY, minimum_balance=5_000_000),
    )
    assert result.interest == 9_863
    assert [(s.days, s.earns, s.exact) for s in result.segments] == [
        (10, False, 0),
        (10, True, Fraction(3_600_000, 365)),
        (11, False, 0),
    ]
    # A balance equal to the minimum earns. Minimum 4 000 000:
    # 4 000 000 x 10 x 6 % = 2 400 000; + 3 600 000; 4 500 000 x 11 x 6 % = 2 970 000
    # total 8 970 000 / 365 = 24 575 r 125 -> .342 -> 24 575
    at_minimum = savings_interest(
        opening_balance=4_000_000,
        movements=movements,
        period=JANUARY_2028,
        terms=terms(DAILY, minimum_balance=4_000_000),
    )
    assert at_minimum.interest == 24_575


def test_monthly_minimum_below_the_minimum_balance_earns_nothing_for_the_month() -> None:
    # Opening 6 000 000; 20 Jan -1 500 000 -> 4 500 000; 31 Jan +3 000 000 -> 7 500 000. Minimum 5 000 000.
    # Jan: lowest 4 500 000 < 5 000 000 -> 0.
    # Feb: carried in 7 500 000 (the deposit of 31 Jan counts from February) -> 7 500 000 x 29 x 6 %
    #      = 13 050 000 / 365 = 35 753 r 155 -> .425 -> 35 753
    result = savings_interest(
        opening_balance=6_000_000,
        movements=[Movement(date(2028, 1, 20), -1_500_000), Movement(date(2028, 1, 31), 3_000_000)],
        period=Period(date(2028, 1, 1), date(2028, 2, 29)),
        terms=terms(MINIMUM, minimum_balance=5_000_000),
    )
    assert result.interest == 35_753
    assert [(s.balance, s.earns) for s in result.segments] == [(4_500_000, False), (7_500_000, True)]


def test_a_deposit_on_the_first_does_not_lift_that_months_minimum() -> None:
    # Carried in 1 000 000, +9 000 000 on 1 Jan: the month's minimum is still 1 000 000.
    # 1 000 000 x 31 x 6 % = 1 860 000 / 365 = 5 095 r 325 -> .890 -> 5 096
    result = savings_interest(
        opening_balance=1_000_000,
        movements=[Movement(date(2028, 1, 1), 9_000_000)],
        period=JANUARY_2028,
        terms=terms(MINIMUM),
    )
    assert result.interest == 5_096


def test_part_months_use_their_own_days() -> None:
    # Period 20 Jan - 10 Feb 2028, 10 000 000 at 6 %, month-end method:
    # Jan part 12 days (20-31), Feb part 10 days (1-10, ends with the period): 22 days in all
    # 10 000 000 x 22 x 6 % = 13 200 000 / 365 = 36 164 r 140 -> .384 -> 36 164
    result = savings_interest(
        opening_balance=10_000_000,
        movements=[],
        period=Period(date(2028, 1, 20), date(2028, 2, 10)),
        terms=terms(MONTH_END),
    )
    assert result.interest == 36_164
    assert [s.days for s in result.segments] == [12, 10]


def test_negative_balance_earns_zero_not_negative_interest() -> None:
    # Overdrawn -100 000 for 1-15 Jan (earns 0), then +3 750 000 on 16 Jan -> 3 650 000 for 16 days:
    # 3 650 000 x 16 x 6 % = 3 504 000 / 365 = 9 600 exactly
    movements = [Movement(date(2028, 1, 16), 3_750_000)]
    result = savings_interest(
        opening_balance=-100_000, movements=movements, period=JANUARY_2028, terms=terms(DAILY)
    )
    assert result.interest == 9_600
    assert result.segments[0].earns is False
    for method in (MINIMUM, MONTH_END):
        other = savings_interest(
            opening_balance=-100_000, movements=movements, period=JANUARY_2028, terms=terms(method)
        )
        # minimum is -100 000 -> 0; month end 3 650 000 x 31 x 6 % / 365 = 18 600
        assert other.interest == (0 if method is MINIMUM else 18_600)


def test_enum_values_as_stored_strings_are_accepted() -> None:
    stored = SavingsInterestTerms(
        method="daily_balance",  # type: ignore[arg-type]
        day_count="actual_365",  # type: ignore[arg-type]
        rates=SIX_PERCENT,
        currency_exponent=2,
        rounding="half_even",  # type: ignore[arg-type]
    )
    result = savings_interest(
        opening_balance=10_000_000, movements=JANUARY_MOVEMENTS, period=JANUARY_2028, terms=stored
    )
    assert (result.interest, result.method) == (64_603, InterestMethod.DAILY_BALANCE)


# --------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------
def _call(**overrides: object) -> None:
    arguments: dict[str, object] = {
        "opening_balance": 10_000_000,
        "movements": JANUARY_MOVEMENTS,
        "period": JANUARY_2028,
        "terms": terms(DAILY),
    }
    arguments.update(overrides)
    savings_interest(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"period": Period(date(2028, 1, 31), date(2028, 1, 1))}, "period.last_day", "before"),
        (
            {"terms": terms(DAILY, rates=(RateChange(date(2027, 1, 1), Decimal("-1")),))},
            "rates[0].annual_rate_percent",
            "negative",
        ),
        (
            {"terms": terms(DAILY, rates=(RateChange(date(2027, 1, 1), 6.5),))},  # type: ignore[arg-type]
            "rates[0].annual_rate_percent",
            "float",
        ),
        ({"terms": terms(DAILY, rates=())}, "rates", "no rate"),
        (
            {"terms": terms(DAILY, rates=(RateChange(date(2028, 1, 2), Decimal("6")),))},
            "rates",
            "2028-01-01",
        ),
        (
            {"terms": terms(DAILY, rates=(*SIX_PERCENT, RateChange(date(2027, 7, 1), Decimal("5"))))},
            "rates",
            "two rates",
        ),
        ({"movements": [Movement(date(2028, 2, 1), 5)]}, "movements[0].value_date", "outside"),
        (
            {"movements": [*JANUARY_MOVEMENTS, Movement(date(2027, 12, 31), 5)]},
            "movements[2].value_date",
            "outside",
        ),
        ({"movements": [Movement(date(2028, 1, 5), Decimal("5"))]}, "movements[0].amount", "int"),  # type: ignore[arg-type]
        ({"terms": terms("compound_daily")}, "method", "daily_balance"),  # type: ignore[arg-type]
        ({"terms": terms(DAILY, day_count="30_360")}, "day_count", "actual_365"),  # type: ignore[arg-type]
        ({"terms": terms(DAILY, rounding="ceiling")}, "rounding", "half_even"),  # type: ignore[arg-type]
        ({"terms": terms(DAILY, exponent=5)}, "currency_exponent", "ISO 4217"),
        ({"terms": terms(DAILY, exponent=-1)}, "currency_exponent", "ISO 4217"),
        ({"terms": terms(DAILY, minimum_balance=-1)}, "minimum_balance", "negative"),
        ({"opening_balance": 10.5}, "opening_balance", "int"),
        ({"period": Period(date(2028, 1, 1), "2028-01-31")}, "period.last_day", "datetime.date"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_names_the_field(overrides: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(InterestInputError) as raised:
        _call(**overrides)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")
    assert words in str(raised.value)
    assert isinstance(raised.value, ValueError)


# --------------------------------------------------------------------------------------------------
# Period and month helpers
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frequency", "first_day", "last_day"),
    [
        (PeriodFrequency.MONTHLY, date(2028, 2, 1), date(2028, 2, 29)),
        (PeriodFrequency.QUARTERLY, date(2028, 1, 1), date(2028, 3, 31)),
        (PeriodFrequency.HALF_YEARLY, date(2028, 1, 1), date(2028, 6, 30)),
        (PeriodFrequency.YEARLY, date(2028, 1, 1), date(2028, 12, 31)),
    ],
)
def test_period_containing(frequency: PeriodFrequency, first_day: date, last_day: date) -> None:
    assert period_containing(date(2028, 2, 17), frequency) == Period(first_day, last_day)
    assert period_containing(date(2028, 11, 30), PeriodFrequency.HALF_YEARLY) == Period(
        date(2028, 7, 1), date(2028, 12, 31)
    )


def test_add_months_and_months_completed() -> None:
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2028, 3, 15), 12) == date(2029, 3, 15)
    assert months_completed(opened_on=date(2028, 1, 31), closed_on=date(2028, 2, 29)) == 1
    assert months_completed(opened_on=date(2028, 3, 15), closed_on=date(2028, 5, 14)) == 1
    assert months_completed(opened_on=date(2028, 3, 15), closed_on=date(2028, 5, 15)) == 2
    assert months_completed(opened_on=date(2028, 3, 15), closed_on=date(2028, 3, 15)) == 0
    with pytest.raises(InterestInputError, match="closed_on"):
        months_completed(opened_on=date(2028, 3, 15), closed_on=date(2028, 3, 14))


# --------------------------------------------------------------------------------------------------
# Fixed deposits (FDR): principal 100 000.00 taka = 10 000 000 paisa unless said otherwise
# --------------------------------------------------------------------------------------------------
def test_fixed_deposit_simple_interest() -> None:
    # 10 000 000 x 9 % x 12 / 12 = 900 000 -> maturity 10 900 000
    result = fixed_deposit_maturity(
        principal=10_000_000,
        annual_rate_percent=Decimal("9"),
        term_months=12,
        compound_every_months=None,
        rounding=Rounding.HALF_EVEN,
    )
    assert (result.interest, result.maturity_amount, result.deposited) == (900_000, 10_900_000, 10_000_000)
    # VND 50 000 000 at 6.7 % for 5 months: 50 000 000 x 0.067 x 5 / 12 = 16 750 000 / 12 = 1 395 833 r 4
    vnd = fixed_deposit_maturity(
        principal=50_000_000,
        annual_rate_percent=Decimal("6.7"),
        term_months=5,
        compound_every_months=None,
        rounding=Rounding.HALF_UP,
    )
    assert (vnd.interest, vnd.maturity_amount) == (1_395_833, 51_395_833)


def test_fixed_deposit_compounded_quarterly() -> None:
    # 8 % a year = 2 % a quarter:
    # Q1 10 000 000    x 2 % = 200 000     -> 10 200 000
    # Q2 10 200 000    x 2 % = 204 000     -> 10 404 000
    # Q3 10 404 000    x 2 % = 208 080     -> 10 612 080
    # Q4 10 612 080    x 2 % = 212 241.6   -> 10 824 321.6
    # interest 824 321.6 -> 824 322 (half even), 824 321 (down)
    kwargs = {"principal": 10_000_000, "annual_rate_percent": Decimal("8"), "term_months": 12}
    result = fixed_deposit_maturity(**kwargs, compound_every_months=3, rounding=Rounding.HALF_EVEN)  # type: ignore[arg-type]
    assert (result.interest, result.maturity_amount) == (824_322, 10_824_322)
    assert result.unrounded == Decimal("824321.6")
    assert result.periods == (
        # the principal is the first block's opening balance; "deposited" counts instalments only
        DepositPeriod(1, 3, Decimal(10_000_000), 0, Decimal(200_000)),
        DepositPeriod(4, 6, Decimal(10_200_000), 0, Decimal(204_000)),
        DepositPeriod(7, 9, Decimal(10_404_000), 0, Decimal(208_080)),
        DepositPeriod(10, 12, Decimal(10_612_080), 0, Decimal("212241.6")),
    )
    down = fixed_deposit_maturity(**kwargs, compound_every_months=3, rounding=Rounding.DOWN)  # type: ignore[arg-type]
    assert down.interest == 824_321


def test_fixed_deposit_term_not_a_multiple_of_the_compounding_interval() -> None:
    # 7 months, quarterly at 8 %: two quarters -> 10 404 000 (above); the 7th month earns simple interest
    # on it: 10 404 000 x 8 % / 12 = 69 360 -> maturity 10 473 360, interest 473 360
    result = fixed_deposit_maturity(
        principal=10_000_000,
        annual_rate_percent=Decimal("8"),
        term_months=7,
        compound_every_months=3,
        rounding=Rounding.HALF_EVEN,
    )
    assert (result.interest, result.maturity_amount) == (473_360, 10_473_360)
    assert [(p.first_month, p.last_month) for p in result.periods] == [(1, 3), (4, 6), (7, 7)]


@pytest.mark.parametrize(
    ("penalty", "rate", "expected"),
    [
        # 12-month FDR at 9 % closed after 7 months, rate cut by 2 points -> 7 %:
        # 10 000 000 x 7 % x 7 / 12 = 4 900 000 / 12 = 408 333 r 4 -> 408 333
        (PrematurePenalty.reduced_by(Decimal("2")), Decimal("7"), 408_333),
        # fixed 4 %: 10 000 000 x 4 % x 7 / 12 = 2 800 000 / 12 = 233 333 r 4 -> 233 333
        (PrematurePenalty.fixed_rate(Decimal("4")), Decimal("4"), 233_333),
        # a cut larger than the rate pays nothing (never a negative rate)
        (PrematurePenalty.reduced_by(Decimal("10")), Decimal("0"), 0),
        # a "penalty" rate above the contract is capped at the contract 9 %:
        # 10 000 000 x 9 % x 7 / 12 = 525 000
        (PrematurePenalty.fixed_rate(Decimal("12")), Decimal("9"), 525_000),
    ],
)
def test_fixed_deposit_premature_closure(penalty: PrematurePenalty, rate: Decimal, expected: int) -> None:
    result = fixed_deposit_premature_closure(
        principal=10_000_000,
        annual_rate_percent=Decimal("9"),
        term_months=12,
        months_completed=7,
        penalty=penalty,
        compound_every_months=None,
        rounding=Rounding.HALF_EVEN,
    )
    assert (result.interest, result.annual_rate_percent, result.months) == (expected, rate, 7)
    assert result.maturity_amount == 10_000_000 + expected


def test_fixed_deposit_premature_closure_compounded() -> None:
    # 12-month FDR at 8 % quarterly, closed after 7 months, rate cut by 2 -> 6 % = 1.5 % a quarter:
    # Q1 10 000 000 x 1.5 % = 150 000 -> 10 150 000; Q2 x 1.5 % = 152 250 -> 10 302 250
    # month 7: 10 302 250 x 6 % / 12 = 51 511.25 -> 10 353 761.25; interest 353 761.25 -> 353 761
    result = fixed_deposit_premature_closure(
        principal=10_000_000,
        annual_rate_percent=Decimal("8"),
        term_months=12,
        months_completed=7,
        penalty=PrematurePenalty.reduced_by(Decimal("2")),
        compound_every_months=3,
        rounding=Rounding.HALF_EVEN,
    )
    assert (result.interest, result.unrounded) == (353_761, Decimal("353761.25"))


def test_fixed_deposit_bad_input() -> None:
    base = {
        "principal": 10_000_000,
        "annual_rate_percent": Decimal("9"),
        "term_months": 12,
        "compound_every_months": None,
        "rounding": Rounding.HALF_EVEN,
    }
    for field, value in [
        ("principal", 0),
        ("annual_rate_percent", Decimal("-0.5")),
        ("term_months", 0),
        ("compound_every_months", 0),
    ]:
        with pytest.raises(InterestInputError) as raised:
            fixed_deposit_maturity(**{**base, field: value})  # type: ignore[arg-type]
        assert raised.value.field == field
    for completed in (12, -1):
        with pytest.raises(InterestInputError) as raised:
            fixed_deposit_premature_closure(
                **base,  # type: ignore[arg-type]
                months_completed=completed,
                penalty=PrematurePenalty.reduced_by(Decimal("1")),
            )
        assert raised.value.field == "months_completed"
    with pytest.raises(InterestInputError) as raised:
        fixed_deposit_premature_closure(
            **base,  # type: ignore[arg-type]
            months_completed=3,
            penalty=PrematurePenalty.reduced_by(Decimal("-1")),
        )
    assert raised.value.field == "penalty.percent"


# --------------------------------------------------------------------------------------------------
# Recurring deposits (DPS): instalment paid at the start of each month
# --------------------------------------------------------------------------------------------------
def test_recurring_deposit_quarterly_compounding_bdt() -> None:
    # 1 000.00 taka = 100 000 paisa a month for 12 months at 6 % -> 0.5 % a month on the running balance
    # m1 100 000 -> 500; m2 200 000 -> 1 000; m3 300 000 -> 1 500; Q1 credits 3 000 -> 303 000
    # m4 403 000 -> 2 015; m5 503 000 -> 2 515; m6 603 000 -> 3 015; Q2 credits 7 545 -> 610 545
    # m7 710 545 -> 3 552.725; m8 810 545 -> 4 052.725; m9 910 545 -> 4 552.725
    #    Q3 credits 12 158.175 -> 922 703.175
    # m10 1 022 703.175 -> 5 113.515875; m11 1 122 703.175 -> 5 613.515875; m12 1 222 703.175 -> 6 113.515875
    #    Q4 credits 16 840.547625 -> 1 239 543.722625
    # interest 3 000 + 7 545 + 12 158.175 + 16 840.547625 = 39 543.722625 -> 39 544 (395.44 taka)
    result = recurring_deposit_maturity(
        instalment=100_000, annual_rate_percent=Decimal("6"), months=12, rounding=Rounding.HALF_EVEN
    )
    assert (result.deposited, result.interest, result.maturity_amount) == (1_200_000, 39_544, 1_239_544)
    assert result.unrounded == Decimal("39543.722625")
    assert [(p.first_month, p.last_month, p.deposited, p.interest) for p in result.periods] == [
        (1, 3, 300_000, Decimal(3_000)),
        (4, 6, 300_000, Decimal(7_545)),
        (7, 9, 300_000, Decimal("12158.175")),
        (10, 12, 300_000, Decimal("16840.547625")),
    ]
    assert result.periods[2].opening_balance == Decimal(610_545)


def test_recurring_deposit_simple_interest() -> None:
    # Product method: instalment k earns for 13 - k months, 12 + 11 + ... + 1 = 78 instalment-months
    # 100 000 x 0.5 % x 78 = 39 000
    result = recurring_deposit_maturity(
        instalment=100_000,
        annual_rate_percent=Decimal("6"),
        months=12,
        compound_every_months=None,
        rounding=Rounding.HALF_EVEN,
    )
    assert (result.interest, result.maturity_amount) == (39_000, 1_239_000)


def test_recurring_deposit_vnd() -> None:
    # 500 000 dong a month for 6 months at 7.2 % -> 0.6 % a month
    # m1 500 000 -> 3 000; m2 1 000 000 -> 6 000; m3 1 500 000 -> 9 000; Q1 18 000 -> 1 518 000
    # m4 2 018 000 -> 12 108; m5 2 518 000 -> 15 108; m6 3 018 000 -> 18 108; Q2 45 324
    # interest 63 324, maturity 3 063 324. Simple: 500 000 x 0.6 % x (6 x 7 / 2 = 21) = 63 000
    quarterly = recurring_deposit_maturity(
        instalment=500_000, annual_rate_percent=Decimal("7.2"), months=6, rounding=Rounding.HALF_EVEN
    )
    assert (quarterly.interest, quarterly.maturity_amount) == (63_324, 3_063_324)
    simple = recurring_deposit_maturity(
        instalment=500_000,
        annual_rate_percent=Decimal("7.2"),
        months=6,
        compound_every_months=None,
        rounding=Rounding.HALF_EVEN,
    )
    assert simple.interest == 63_000


@pytest.mark.parametrize(("rounding", "expected"), [(Rounding.HALF_EVEN, 3_758), (Rounding.DOWN, 3_757)])
def test_recurring_deposit_premature_closure(rounding: Rounding, expected: int) -> None:
    # 12-month DPS at 6 % closed after 5 months, fixed penalty rate 3 % -> 0.25 % a month
    # m1 100 000 -> 250; m2 200 000 -> 500; m3 300 000 -> 750; Q1 credits 1 500 -> 301 500
    # m4 401 500 -> 1 003.75; m5 501 500 -> 1 253.75; closing credits 2 257.5
    # interest 3 757.5: half even -> 3 758 (8 is even), down -> 3 757
    result = recurring_deposit_premature_closure(
        instalment=100_000,
        annual_rate_percent=Decimal("6"),
        months=12,
        months_completed=5,
        penalty=PrematurePenalty.fixed_rate(Decimal("3")),
        rounding=rounding,
    )
    assert (result.deposited, result.interest, result.unrounded) == (500_000, expected, Decimal("3757.5"))
    assert result.maturity_amount == 500_000 + expected


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------
@st.composite
def accounts(draw: st.DrawFn) -> tuple[int, list[Movement], Period, SavingsInterestTerms]:
    first_day = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31)))
    length = draw(st.integers(min_value=1, max_value=400))
    last_day = first_day + timedelta(days=length - 1)
    offsets = st.integers(min_value=0, max_value=length - 1)
    movements = [
        Movement(first_day + timedelta(days=offset), amount)
        for offset, amount in draw(
            st.lists(st.tuples(offsets, st.integers(min_value=-(10**9), max_value=10**9)), max_size=8)
        )
    ]
    rate_values = st.decimals(min_value=0, max_value=25, places=2)
    rates = [RateChange(first_day - timedelta(days=draw(st.integers(0, 500))), draw(rate_values))]
    for offset in draw(st.sets(st.integers(min_value=1, max_value=length + 30), max_size=3)):
        rates.append(RateChange(first_day + timedelta(days=offset), draw(rate_values)))
    account_terms = SavingsInterestTerms(
        method=DAILY,
        day_count=draw(st.sampled_from(DayCount)),
        rates=rates,
        currency_exponent=draw(st.sampled_from([0, 2, 3])),
        rounding=draw(st.sampled_from(Rounding)),
        minimum_balance=draw(st.none() | st.integers(min_value=0, max_value=10**9)),
    )
    opening = draw(st.integers(min_value=-(10**9), max_value=10**12))
    return opening, movements, Period(first_day, last_day), account_terms


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@PROPERTY_SETTINGS
@given(accounts(), st.integers(min_value=0, max_value=10**10))
def test_daily_balance_is_monotonic_in_the_balance(
    account: tuple[int, list[Movement], Period, SavingsInterestTerms], extra: int
) -> None:
    opening, movements, period, account_terms = account
    lower = savings_interest(opening_balance=opening, movements=movements, period=period, terms=account_terms)
    higher = savings_interest(
        opening_balance=opening + extra, movements=movements, period=period, terms=account_terms
    )
    assert lower.exact <= higher.exact
    assert lower.interest <= higher.interest


@PROPERTY_SETTINGS
@given(accounts(), st.data())
def test_splitting_a_period_never_changes_the_unrounded_total(
    account: tuple[int, list[Movement], Period, SavingsInterestTerms], data: st.DataObject
) -> None:
    opening, movements, period, account_terms = account
    if period.days < 2:
        return
    split = period.first_day + timedelta(days=data.draw(st.integers(min_value=1, max_value=period.days - 1)))
    before = [movement for movement in movements if movement.value_date < split]
    after = [movement for movement in movements if movement.value_date >= split]
    whole = savings_interest(opening_balance=opening, movements=movements, period=period, terms=account_terms)
    first = savings_interest(
        opening_balance=opening,
        movements=before,
        period=Period(period.first_day, split - timedelta(days=1)),
        terms=account_terms,
    )
    second = savings_interest(
        opening_balance=opening + sum(movement.amount for movement in before),
        movements=after,
        period=Period(split, period.last_day),
        terms=account_terms,
    )
    assert first.exact + second.exact == whole.exact
    assert sum(segment.days for segment in whole.segments) == period.days
    assert sum((segment.exact for segment in whole.segments), Fraction(0)) == whole.exact


@PROPERTY_SETTINGS
@given(accounts(), st.sampled_from(InterestMethod))
def test_zero_rate_gives_zero(
    account: tuple[int, list[Movement], Period, SavingsInterestTerms], method: InterestMethod
) -> None:
    opening, movements, period, account_terms = account
    zero_terms = SavingsInterestTerms(
        method=method,
        day_count=account_terms.day_count,
        rates=[RateChange(period.first_day, Decimal("0.00"))],
        currency_exponent=account_terms.currency_exponent,
        rounding=Rounding.UP,
    )
    result = savings_interest(opening_balance=opening, movements=movements, period=period, terms=zero_terms)
    assert (result.interest, result.exact) == (0, 0)


@PROPERTY_SETTINGS
@given(accounts())
def test_monthly_minimum_never_exceeds_daily_balance_and_rounding_brackets_the_exact_value(
    account: tuple[int, list[Movement], Period, SavingsInterestTerms],
) -> None:
    opening, movements, period, account_terms = account
    results = {}
    for rounding in Rounding:
        results[rounding] = savings_interest(
            opening_balance=opening,
            movements=movements,
            period=period,
            terms=SavingsInterestTerms(
                method=DAILY,
                day_count=account_terms.day_count,
                rates=account_terms.rates,
                currency_exponent=account_terms.currency_exponent,
                rounding=rounding,
                minimum_balance=account_terms.minimum_balance,
            ),
        )
    exact = results[Rounding.DOWN].exact
    assert results[Rounding.DOWN].interest <= exact <= results[Rounding.UP].interest
    assert results[Rounding.UP].interest - results[Rounding.DOWN].interest <= 1
    for rounding in (Rounding.HALF_EVEN, Rounding.HALF_UP):
        assert abs(results[rounding].interest - exact) <= Fraction(1, 2)
    monthly_minimum = savings_interest(
        opening_balance=opening,
        movements=movements,
        period=period,
        terms=SavingsInterestTerms(
            method=MINIMUM,
            day_count=account_terms.day_count,
            rates=account_terms.rates,
            currency_exponent=account_terms.currency_exponent,
            rounding=Rounding.DOWN,
            minimum_balance=account_terms.minimum_balance,
        ),
    )
    assert monthly_minimum.exact <= exact


@PROPERTY_SETTINGS
@given(
    st.integers(min_value=1, max_value=10**9),
    st.decimals(min_value=0, max_value=20, places=2),
    st.integers(min_value=1, max_value=120),
    st.integers(min_value=1, max_value=12),
)
def test_compounding_never_pays_less_than_simple_interest(
    amount: int, rate: Decimal, months: int, every: int
) -> None:
    for helper, kwargs in (
        (fixed_deposit_maturity, {"principal": amount, "term_months": months}),
        (recurring_deposit_maturity, {"instalment": amount, "months": months}),
    ):
        simple = helper(
            **kwargs, annual_rate_percent=rate, compound_every_months=None, rounding=Rounding.DOWN
        )
        compound = helper(
            **kwargs, annual_rate_percent=rate, compound_every_months=every, rounding=Rounding.DOWN
        )
        assert simple.exact <= compound.exact
        assert compound.maturity_amount == compound.deposited + compound.interest
