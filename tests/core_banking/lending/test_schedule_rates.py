"""Several rates per loan: a rate change effective from a date, mid-term."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from core_banking.lending.schedule import (
    LoanTerms,
    RateChange,
    TermsError,
    schedule_generate,
    terms_from_json,
)

D = dt.date


def cents(value: Decimal) -> int:
    return int((value * 100).quantize(Decimal(1), ROUND_HALF_EVEN))


def terms(**overrides: object) -> LoanTerms:
    values: dict[str, object] = {
        "principal_minor": 1_000_000,
        "currency": "BDT",
        "annual_rate": Decimal(12),
        "interest_method": "declining",
        "frequency": "monthly",
        "installments": 3,
        "disbursement_date": D(2025, 1, 1),
        "rate_changes": (RateChange(D(2025, 2, 15), Decimal(18)),),
    }
    values.update(overrides)
    return LoanTerms(**values)  # type: ignore[arg-type]


def pmt(balance: Decimal, rate: Decimal, periods: int) -> Decimal:
    return balance * rate / (1 - (1 + rate) ** -periods)


def test_daily_interest_splits_the_period_at_the_change() -> None:
    schedule = schedule_generate(terms(interest_period="daily", days_in_year=365))
    got = [(row.principal_minor, row.interest_minor) for row in schedule.installments]
    # Level instalment at 12 % (30-day month): the first period is all at 12 % (1 Jan - 1 Feb, 31 days).
    payment = cents(pmt(Decimal(10000), Decimal(12) / 100 / 365 * 30, 3))
    first_interest = cents(Decimal(10000) * Decimal(12) / 100 * 31 / 365)
    balance = 1_000_000 - (payment - first_interest)
    assert got[0] == (payment - first_interest, first_interest)
    # 1 Feb - 1 Mar: 14 days at 12 % and 14 days at 18 %.
    second_interest = cents(Decimal(balance) / 100 * (Decimal(12) * 14 + Decimal(18) * 14) / 100 / 365)
    assert got[1] == (payment - second_interest, second_interest)
    balance -= payment - second_interest
    # From 1 March the rate in force is 18 %: the level instalment is recomputed; this is the last one anyway.
    third_interest = cents(Decimal(balance) / 100 * Decimal(18) / 100 * 31 / 365)
    assert got[2] == (balance, third_interest)


def test_interest_per_period_takes_the_rate_from_the_next_period() -> None:
    rows = schedule_generate(terms(installments=4)).installments
    # 12 % for January and February (the change on 15 February is mid-period), 18 % from 1 March.
    first = cents(pmt(Decimal(10000), Decimal("0.01"), 4))
    balance = Decimal(1_000_000 - (first - 10_000)) / 100
    assert [row.interest_minor for row in rows[:2]] == [10_000, cents(balance / 100)]
    assert rows[0].total_minor == rows[1].total_minor == first
    # From 1 March: 1.5 % a month, and the level instalment recomputed over the two instalments left.
    balance = Decimal(rows[1].balance_minor) / 100
    assert rows[2].interest_minor == cents(balance * Decimal("0.015"))
    assert rows[2].total_minor == cents(pmt(balance, Decimal("0.015"), 2))
    assert sum(row.principal_minor for row in rows) == 1_000_000


def test_flat_interest_follows_each_rate_for_its_periods() -> None:
    loan = terms(
        interest_method="flat",
        installments=6,
        principal_minor=1_200_000,
        rate_changes=(RateChange(D(2025, 4, 1), Decimal(18)),),
    )
    # Three months at 1 % (120 each) and three at 1.5 % (180 each) on the original 12,000.
    assert [row.interest_minor for row in schedule_generate(loan).installments] == [12_000] * 3 + [18_000] * 3


def test_a_change_on_or_before_disbursement_is_the_rate_from_the_start() -> None:
    loan = terms(rate_changes=(RateChange(D(2024, 12, 1), Decimal(24)),))
    assert schedule_generate(loan).installments[0].interest_minor == 20_000  # 2 % of 10,000


def test_several_changes_are_read_in_date_order_from_json() -> None:
    loan = terms_from_json(
        {
            "principal": "10000",
            "currency": "BDT",
            "annual_rate": 12,
            "interest_method": "flat",
            "frequency": "monthly",
            "installments": 4,
            "disbursement_date": "2025-01-01",
            "rate_changes": [
                {"effective_from": "2025-04-01", "annual_rate": "6"},
                {"effective_from": "2025-02-01", "annual_rate": 24.5},
            ],
        }
    )
    assert loan.rate_changes == (
        RateChange(D(2025, 2, 1), Decimal("24.5")),
        RateChange(D(2025, 4, 1), Decimal(6)),
    )
    interest = [row.interest_minor for row in schedule_generate(loan).installments]
    # 1 % of 10,000; 24.5 % for two months = 408.33, 204.165 each (half even: 204.16); 0.5 %:
    # 50.00, but the last absorbs the rounding of the whole (558.33 - 100 - 2 x 204.16).
    assert interest == [10_000, 20_416, 20_416, 5_001]


def test_bad_rate_changes_are_named_by_index() -> None:
    with pytest.raises(TermsError) as error:
        terms_from_json(
            {
                "principal": "10000",
                "currency": "BDT",
                "annual_rate": "12",
                "interest_method": "flat",
                "frequency": "monthly",
                "installments": 4,
                "disbursement_date": "2025-01-01",
                "rate_changes": [
                    {"effective_from": "2025-04-01", "annual_rate": "6.1234567"},
                    {"effective_from": "April", "annual_rate": "6"},
                    {"annual_rate": "6", "note": "x"},
                    {"annual_rate": "6"},
                ],
            }
        )
    assert error.value.errors == {
        "rate_changes[0].annual_rate": ["The annual rate may have at most six decimal places."],
        "rate_changes[1].effective_from": ["Give a date as YYYY-MM-DD."],
        "rate_changes[2]": ['Give each rate change as {"effective_from": date, "annual_rate": rate}.'],
        "rate_changes[3].effective_from": ["This setting is required."],
    }
    with pytest.raises(TermsError) as error:
        terms(rate_changes=(RateChange(D(2025, 4, 1), Decimal(6)), RateChange(D(2025, 4, 1), Decimal(7))))
    assert error.value.errors == {
        "rate_changes[1].effective_from": ["Two rate changes take effect on the same date."]
    }
