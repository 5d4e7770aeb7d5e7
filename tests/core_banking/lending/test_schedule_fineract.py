"""Parity with Apache Fineract's cumulative schedule (interest recalculation off).

The expected figures follow Fineract's published algorithm (LoanApplicationTerms and the cumulative
generators): the periodic rate ``annual / 12 / 100`` (months) or ``annual / 52 / 100`` (weeks),
or ``annual / days_in_year / 100 x days`` (daily); ``pmt`` over the instalments that repay
principal, rounded to the currency; each period's interest on the balance rounded with the
currency's mode; principal = instalment - interest, the last clearing the balance; flat interest
``principal x rate x term`` rounded once, then ``total / n`` per instalment. They are worked here
with ``Decimal`` step by step, independently of the engine's integer arithmetic, and a few are
also written out as the figures Fineract shows for these well-known loans.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from core_banking.lending.schedule import LoanTerms, Schedule, schedule_generate

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def pmt(principal: Decimal, rate: Decimal, periods: int) -> Decimal:
    with localcontext() as context:
        context.prec = 40
        return principal * rate / (1 - (1 + rate) ** -periods)


def declining_rows(principal: Decimal, rates: list[Decimal], level: Decimal) -> list[tuple[Decimal, Decimal]]:
    """(principal, interest) per instalment, Fineract's cumulative declining balance."""
    balance, rows = principal, []
    for number, rate in enumerate(rates, start=1):
        interest = money(balance * rate)
        part = balance if number == len(rates) else level - interest
        balance -= part
        rows.append((part, interest))
    return rows


def figures(schedule: Schedule) -> list[tuple[Decimal, Decimal]]:
    return [
        (Decimal(row.principal_minor) / 100, Decimal(row.interest_minor) / 100)
        for row in schedule.installments
    ]


def terms(**overrides: object) -> LoanTerms:
    values: dict[str, object] = {
        "principal_minor": 1_000_000,
        "currency": "BDT",
        "annual_rate": Decimal(12),
        "interest_method": "declining",
        "frequency": "monthly",
        "installments": 12,
        "disbursement_date": dt.date(2025, 1, 15),
    }
    values.update(overrides)
    return LoanTerms(**values)  # type: ignore[arg-type]


def test_monthly_equal_installments_is_fineracts_classic_loan() -> None:
    # 10,000 at 12 % over 12 months: Fineract shows 888.49 a month, 888.47 last, 661.86 interest.
    rate = Decimal(12) / 12 / 100
    level = money(pmt(Decimal(10000), rate, 12))
    assert level == Decimal("888.49")
    expected = declining_rows(Decimal(10000), [rate] * 12, level)
    schedule = schedule_generate(terms())
    assert figures(schedule) == expected
    assert expected[0] == (Decimal("788.49"), Decimal("100.00"))
    assert sum(expected[-1]) == Decimal("888.47")
    assert schedule.total_interest_minor == 66_186


def test_weekly_equal_installments_divide_the_year_into_52_weeks() -> None:
    rate = Decimal(20) / 52 / 100
    level = money(pmt(Decimal(20000), rate, 52))
    schedule = schedule_generate(
        terms(
            principal_minor=2_000_000,
            annual_rate=Decimal(20),
            frequency="weekly",
            installments=52,
            disbursement_date=dt.date(2025, 3, 4),
        )
    )
    assert figures(schedule) == declining_rows(Decimal(20000), [rate] * 52, level)
    assert [row.due_date for row in schedule.installments[:2]] == [dt.date(2025, 3, 11), dt.date(2025, 3, 18)]


def test_fortnightly_is_two_weeks_of_the_52() -> None:
    rate = Decimal(18) * 2 / 52 / 100
    level = money(pmt(Decimal(10000), rate, 26))
    schedule = schedule_generate(terms(annual_rate=Decimal(18), frequency="fortnightly", installments=26))
    assert figures(schedule) == declining_rows(Decimal(10000), [rate] * 26, level)
    assert schedule.installments[0].due_date == dt.date(2025, 1, 29)


def test_flat_interest_is_principal_times_rate_times_term_spread_evenly() -> None:
    # 10,000 at 10 % flat for 7 months: 583.33 interest, 83.33 a month, the last 83.35.
    schedule = schedule_generate(terms(interest_method="flat", annual_rate=Decimal(10), installments=7))
    total = money(Decimal(10000) * Decimal(10) / 12 / 100 * 7)
    per = money(total / 7)
    share = money(Decimal(10000) / 7)
    expected = [(share, per)] * 6 + [(Decimal(10000) - 6 * share, total - 6 * per)]
    assert figures(schedule) == expected
    assert expected[-1] == (Decimal("1428.58"), Decimal("83.35"))


def test_equal_principal_with_daily_interest_on_actual_days() -> None:
    schedule = schedule_generate(
        terms(amortization="equal_principal", interest_period="daily", days_in_year=365, installments=6)
    )
    dates = [dt.date(2025, 1, 15)] + [dt.date(2025, month, 15) for month in range(2, 8)]
    balance, expected = Decimal(10000), []
    share = money(Decimal(10000) / 6)
    for number in range(1, 7):
        days = (dates[number] - dates[number - 1]).days
        interest = money(balance * Decimal(12) / 365 / 100 * days)
        part = balance if number == 6 else share
        balance -= part
        expected.append((part, interest))
    assert figures(schedule) == expected
    assert expected[0][1] == Decimal("101.92")  # 31 days of January: 10,000 x 12 % x 31 / 365


def test_daily_level_instalment_uses_a_30_day_month() -> None:
    # Fineract's pmt for daily interest: annual / days in year x 30 days per month.
    schedule = schedule_generate(terms(interest_period="daily", days_in_year=360, installments=6))
    level = money(pmt(Decimal(10000), Decimal(12) / 360 / 100 * 30, 6))
    dates = [dt.date(2025, 1, 15)] + [dt.date(2025, month, 15) for month in range(2, 8)]
    rates = [Decimal(12) / 360 / 100 * (dates[n] - dates[n - 1]).days for n in range(1, 7)]
    assert figures(schedule) == declining_rows(Decimal(10000), rates, level)


def test_grace_on_principal_spreads_principal_over_the_other_instalments() -> None:
    rate = Decimal(12) / 12 / 100
    level = money(pmt(Decimal(10000), rate, 10))
    schedule = schedule_generate(terms(grace_principal=2))
    expected = [(Decimal(0), Decimal("100.00"))] * 2 + declining_rows(Decimal(10000), [rate] * 10, level)
    assert figures(schedule) == expected


def test_grace_on_interest_payment_collects_the_deferred_interest_after_the_grace() -> None:
    rate = Decimal(12) / 12 / 100
    level = money(pmt(Decimal(10000), rate, 12))
    plain = declining_rows(Decimal(10000), [rate] * 12, level)
    schedule = schedule_generate(terms(grace_interest_payment=2))
    deferred = plain[0][1] + plain[1][1]
    expected = [(plain[0][0], Decimal(0)), (plain[1][0], Decimal(0)), (plain[2][0], plain[2][1] + deferred)]
    assert figures(schedule) == expected + plain[3:]
    assert schedule.total_interest_minor == 66_186  # deferred, not forgiven


def test_interest_free_periods_in_a_flat_loan() -> None:
    # Fineract: the total less the free periods' share, averaged over the instalments that pay interest.
    schedule = schedule_generate(
        terms(interest_method="flat", principal_minor=1_200_000, interest_free_periods=2)
    )
    total = money(Decimal(12000) * Decimal(12) / 12 / 100 * 12)
    per = money(total / 12)
    charged = total - 2 * per
    assert [interest for _principal, interest in figures(schedule)] == [Decimal(0)] * 2 + [charged / 10] * 10


def test_grace_on_interest_payment_in_a_flat_loan_with_equal_installments_is_averaged() -> None:
    schedule = schedule_generate(
        terms(interest_method="flat", principal_minor=1_200_000, grace_interest_payment=3)
    )
    total = money(Decimal(12000) * Decimal(12) / 12 / 100 * 12)  # 1440.00
    assert [interest for _principal, interest in figures(schedule)] == [Decimal(0)] * 3 + [total / 9] * 9


def test_installments_in_multiples_round_the_level_instalment() -> None:
    # installmentAmountInMultiplesOf = 1: pmt 888.4879 rounded (half even) to 888; the last absorbs.
    rate = Decimal(12) / 12 / 100
    level = pmt(Decimal(10000), rate, 12).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    assert level == Decimal(888)
    schedule = schedule_generate(terms(installment_multiple_minor=100))
    assert figures(schedule) == declining_rows(Decimal(10000), [rate] * 12, level)
    assert {row.total_minor for row in schedule.installments[:-1]} == {88_800}


def test_flat_multiples_round_principal_and_interest_separately() -> None:
    # Fineract: principal 833.33 -> 833, interest 100.00 -> 100 (multiples of 1): 933 a month.
    schedule = schedule_generate(terms(interest_method="flat", installment_multiple_minor=100))
    assert {row.total_minor for row in schedule.installments[:-1]} == {93_300}
    assert schedule.installments[0].principal_minor == 83_300
    assert schedule.total_principal_minor == 1_000_000
    assert schedule.installments[-1].principal_minor == 1_000_000 - 11 * 83_300


def test_month_end_due_dates_follow_the_seed_day() -> None:
    schedule = schedule_generate(terms(disbursement_date=dt.date(2024, 1, 31), installments=4))
    assert [row.due_date for row in schedule.installments] == [
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 31),
        dt.date(2024, 4, 30),
        dt.date(2024, 5, 31),
    ]
