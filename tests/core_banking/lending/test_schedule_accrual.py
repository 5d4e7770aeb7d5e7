"""accrued_interest: interest earned from disbursement through any date (payoff quotes, daily accrual)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest

from core_banking.lending.schedule import LoanTerms, RateChange, accrued_interest, schedule_generate

D = dt.date


def terms(**overrides: object) -> LoanTerms:
    values: dict[str, object] = {
        "principal_minor": 1_000_000,
        "currency": "BDT",
        "annual_rate": Decimal(12),
        "interest_method": "declining",
        "interest_period": "daily",
        "days_in_year": 365,
        "frequency": "monthly",
        "installments": 6,
        "disbursement_date": D(2025, 1, 15),
    }
    values.update(overrides)
    return LoanTerms(**values)  # type: ignore[arg-type]


def rounded(value: Decimal, mode: str = ROUND_HALF_EVEN) -> int:
    return int(value.quantize(Decimal(1), mode))


def test_declining_daily_interest_accrues_exactly_day_by_day() -> None:
    loan = terms()
    schedule = schedule_generate(loan)
    first, second = schedule.installments[:2]
    assert accrued_interest(loan, schedule, D(2025, 1, 10)) == 0
    assert accrued_interest(loan, schedule, D(2025, 1, 15)) == 0
    # 10 days on 10,000 at 12 % / 365: 32.876... -> 32.88
    assert accrued_interest(loan, schedule, D(2025, 1, 25)) == rounded(
        Decimal(1_000_000) * 12 / 100 * 10 / 365
    )
    assert accrued_interest(loan, schedule, first.due_date) == first.interest_minor
    # Into the second period: the first in full, then 5 days on the scheduled balance.
    five_days = rounded(Decimal(first.balance_minor) * 12 / 100 * 5 / 365)
    assert accrued_interest(loan, schedule, D(2025, 2, 20)) == first.interest_minor + five_days
    assert accrued_interest(loan, schedule, second.due_date) == first.interest_minor + second.interest_minor
    assert accrued_interest(loan, schedule, D(2030, 1, 1)) == schedule.total_interest_minor


def test_interest_per_period_accrues_pro_rata_by_days() -> None:
    loan = terms(interest_period="same_as_repayment", rounding="half_up")
    schedule = schedule_generate(loan)
    first = schedule.installments[0]
    # 100.00 for 15 January - 15 February (31 days): 10 days -> 32.258... -> 32.26
    assert accrued_interest(loan, schedule, D(2025, 1, 25)) == rounded(
        Decimal(10_000 * 10) / 31, ROUND_HALF_UP
    )
    assert first.interest_minor == 10_000


def test_flat_interest_accrues_evenly_within_each_period() -> None:
    loan = terms(interest_method="flat", interest_period="same_as_repayment")
    schedule = schedule_generate(loan)
    # 100.00 a month; 14 of February's 28 days.
    assert accrued_interest(loan, schedule, D(2025, 3, 1)) == 10_000 + 5_000


def test_deferred_interest_accrues_as_it_is_earned() -> None:
    loan = terms(grace_interest_payment=2, interest_period="same_as_repayment")
    schedule = schedule_generate(loan)
    first = schedule.installments[0]
    assert first.interest_minor == 0 and first.earned_interest_minor == 10_000
    assert accrued_interest(loan, schedule, first.due_date) == 10_000


def test_interest_free_periods_accrue_nothing() -> None:
    loan = terms(interest_free_periods=2)
    schedule = schedule_generate(loan)
    assert accrued_interest(loan, schedule, schedule.installments[1].due_date) == 0
    assert accrued_interest(loan, schedule, schedule.installments[1].due_date + dt.timedelta(days=1)) > 0


def test_accrual_across_a_year_end_and_a_rate_change_is_exact() -> None:
    loan = terms(
        disbursement_date=D(2023, 12, 20),
        days_in_year="actual",
        installments=3,
        rate_changes=(RateChange(D(2024, 1, 10), Decimal(18)),),
    )
    schedule = schedule_generate(loan)
    # 12 days of 2023 at 12 % / 365, then 9 days of 2024 at 12 % / 366 and 5 at 18 % / 366.
    exact = (
        Decimal(1_000_000) * (Decimal(12) * 12 / 365 + Decimal(12) * 9 / 366 + Decimal(18) * 5 / 366) / 100
    )
    assert accrued_interest(loan, schedule, D(2024, 1, 15)) == rounded(exact)


@pytest.mark.parametrize("method", ["flat", "declining"])
@pytest.mark.parametrize("period", ["same_as_repayment", "daily"])
def test_accrual_never_falls_and_ends_at_the_total(method: str, period: str) -> None:
    loan = terms(
        interest_method=method,
        interest_period=period,
        frequency="weekly",
        installments=8,
        holidays=frozenset({D(2025, 1, 29)}),
        grace_interest_payment=2,
    )
    schedule = schedule_generate(loan)
    previous = 0
    day = loan.disbursement_date
    while day <= schedule.installments[-1].due_date + dt.timedelta(days=3):
        accrued = accrued_interest(loan, schedule, day)
        assert previous <= accrued <= schedule.total_interest_minor
        previous = accrued
        day += dt.timedelta(days=1)
    assert previous == schedule.total_interest_minor
