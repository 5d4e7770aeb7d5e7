"""Recast: after a prepayment, a new holiday or a new group meeting day."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from core_banking.lending.schedule import LoanTerms, TermsError, schedule_generate, schedule_recast

D = dt.date


def terms(**overrides: object) -> LoanTerms:
    values: dict[str, object] = {
        "principal_minor": 1_000_000,
        "currency": "BDT",
        "annual_rate": Decimal(12),
        "interest_method": "declining",
        "frequency": "monthly",
        "installments": 12,
        "disbursement_date": D(2025, 1, 15),
    }
    values.update(overrides)
    return LoanTerms(**values)  # type: ignore[arg-type]


def cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), ROUND_HALF_EVEN))


def pmt_minor(balance: int, rate: Decimal, periods: int) -> int:
    return cents(Decimal(balance) * rate / (1 - (1 + rate) ** -periods))


def test_prepayment_reducing_the_instalment() -> None:
    loan = terms()
    original = schedule_generate(loan)
    fourth = original.installments[3]
    outstanding = fourth.balance_minor - 200_000  # 2,000 prepaid with the fourth instalment
    recast = schedule_recast(
        loan,
        original,
        keep_through_number=4,
        outstanding_principal_minor=outstanding,
        start_date=fourth.due_date,
    )
    assert recast.installments[:4] == original.installments[:4]
    new = recast.installments[4:]
    assert [row.number for row in new] == list(range(5, 13))
    assert [row.due_date for row in new] == [row.due_date for row in original.installments[4:]]
    payment = pmt_minor(outstanding, Decimal("0.01"), 8)
    assert {row.total_minor for row in new[:-1]} == {payment}
    assert new[0].interest_minor == cents(Decimal(outstanding) / 100)
    assert new[0].period_start == fourth.due_date
    assert sum(row.principal_minor for row in new) == outstanding
    assert recast.total_principal_minor == 1_000_000 - 200_000


def test_prepayment_reducing_the_term_keeps_the_instalment() -> None:
    loan = terms()
    original = schedule_generate(loan)
    fourth = original.installments[3]
    outstanding = fourth.balance_minor - 300_000
    recast = schedule_recast(
        loan,
        original,
        keep_through_number=4,
        outstanding_principal_minor=outstanding,
        start_date=fourth.due_date,
        strategy="reduce_term",
    )
    new = recast.installments[4:]
    level = original.installments[0].total_minor  # 888.49
    assert {row.total_minor for row in new[:-1]} == {level}
    assert new[-1].total_minor <= level
    assert len(new) == 5  # 8 instalments were left; 3,000 prepaid repays about three of them
    # By hand: the balance after each level instalment at 1 % a month.
    balance = outstanding
    for row in new[:-1]:
        interest = cents(Decimal(balance) / 100)
        assert (row.interest_minor, row.principal_minor) == (interest, level - interest)
        balance -= level - interest
    assert new[-1].principal_minor == balance
    assert [row.number for row in new] == [5, 6, 7, 8, 9]


def test_equal_principal_reduce_term_keeps_the_principal_part() -> None:
    loan = terms(amortization="equal_principal")
    original = schedule_generate(loan)
    share = original.installments[0].principal_minor  # 833.33
    outstanding = original.installments[1].balance_minor - 250_000
    recast = schedule_recast(
        loan,
        original,
        keep_through_number=2,
        outstanding_principal_minor=outstanding,
        start_date=original.installments[1].due_date,
        strategy="reduce_term",
    )
    new = recast.installments[2:]
    assert len(new) == -(-outstanding // share)
    assert {row.principal_minor for row in new[:-1]} == {share}
    assert sum(row.principal_minor for row in new) == outstanding


def test_flat_recast_charges_flat_interest_on_the_outstanding_principal() -> None:
    loan = terms(interest_method="flat")
    original = schedule_generate(loan)
    recast = schedule_recast(
        loan,
        original,
        keep_through_number=6,
        outstanding_principal_minor=300_000,
        start_date=original.installments[5].due_date,
    )
    new = recast.installments[6:]
    # 3,000 at 1 % a month for 6 months = 180, 30 a month; principal 500 a month.
    assert [(row.principal_minor, row.interest_minor) for row in new] == [(50_000, 3_000)] * 6


def test_a_prepayment_between_due_dates_starts_interest_on_its_date() -> None:
    loan = terms(interest_period="daily", days_in_year=365)
    original = schedule_generate(loan)
    recast = schedule_recast(
        loan, original, keep_through_number=2, outstanding_principal_minor=500_000, start_date=D(2025, 3, 25)
    )
    third = recast.installments[2]
    assert (third.number, third.period_start, third.due_date) == (3, D(2025, 3, 25), D(2025, 4, 15))
    assert third.interest_minor == cents(Decimal(500_000) * 12 / 100 * 21 / 365)


def test_a_holiday_added_later_moves_the_future_due_dates() -> None:
    loan = terms(interest_period="daily", days_in_year=365)
    original = schedule_generate(loan)
    later = dataclasses.replace(loan, holidays=frozenset({D(2025, 6, 15), D(2025, 9, 15)}))
    kept = original.installments[2]
    recast = schedule_recast(
        later,
        original,
        keep_through_number=3,
        outstanding_principal_minor=kept.balance_minor,
        start_date=kept.due_date,
    )
    dates = [row.due_date for row in recast.installments]
    assert dates[:3] == [row.due_date for row in original.installments[:3]]
    assert dates[4] == D(2025, 6, 16) and dates[7] == D(2025, 9, 16)
    assert dates[5] == D(2025, 7, 15)  # the calendar is not shifted
    assert recast.installments[4].interest_minor > original.installments[4].interest_minor  # one more day
    assert recast.total_principal_minor == 1_000_000
    assert len(recast.installments) == 12


def test_a_later_recast_keeps_the_shorter_term_of_an_earlier_one() -> None:
    loan = terms()
    original = schedule_generate(loan)
    shorter = schedule_recast(
        loan,
        original,
        keep_through_number=2,
        outstanding_principal_minor=400_000,
        start_date=original.installments[1].due_date,
        strategy="reduce_term",
    )
    assert len(shorter.installments) < 12
    later = dataclasses.replace(loan, holidays=frozenset({shorter.installments[3].due_date}))
    moved = schedule_recast(
        later,
        shorter,
        keep_through_number=3,
        outstanding_principal_minor=shorter.installments[2].balance_minor,
        start_date=shorter.installments[2].due_date,
    )
    assert len(moved.installments) == len(shorter.installments)
    assert moved.installments[3].due_date == shorter.installments[3].due_date + dt.timedelta(days=1)


def test_a_new_group_meeting_day_moves_the_future_due_dates() -> None:
    loan = terms(
        frequency="weekly",
        installments=10,
        disbursement_date=D(2025, 3, 3),
        meeting_weekday=2,  # Wednesday
        minimum_days_to_first_meeting=7,
    )
    original = schedule_generate(loan)
    assert original.installments[0].due_date == D(2025, 3, 12)
    kept = original.installments[3]  # Wednesday 2 April
    moved = dataclasses.replace(loan, meeting_weekday=6)  # the group now meets on Sunday
    recast = schedule_recast(
        moved,
        original,
        keep_through_number=4,
        outstanding_principal_minor=kept.balance_minor,
        start_date=kept.due_date,
    )
    new = recast.installments[4:]
    assert [row.due_date for row in new] == [D(2025, 4, 6) + dt.timedelta(weeks=n) for n in range(6)]
    assert [row.number for row in new] == list(range(5, 11))
    assert recast.total_principal_minor == 1_000_000


def test_deferred_interest_not_yet_collected_is_collected_by_the_new_instalments() -> None:
    loan = terms(grace_interest_payment=3)
    original = schedule_generate(loan)
    kept = original.installments[1]
    recast = schedule_recast(
        loan,
        original,
        keep_through_number=2,
        outstanding_principal_minor=kept.balance_minor,
        start_date=kept.due_date,
    )
    deferred = sum(row.earned_interest_minor for row in original.installments[:2])
    fourth = recast.installments[3]
    assert recast.installments[2].interest_minor == 0  # still in the grace
    assert (
        fourth.interest_minor
        == fourth.earned_interest_minor + deferred + recast.installments[2].earned_interest_minor
    )
    assert recast.total_interest_minor == sum(row.earned_interest_minor for row in recast.installments)


def test_paying_off_everything_keeps_only_the_past() -> None:
    loan = terms()
    original = schedule_generate(loan)
    recast = schedule_recast(
        loan, original, keep_through_number=5, outstanding_principal_minor=0, start_date=D(2025, 6, 20)
    )
    assert recast.installments == original.installments[:5]


@pytest.mark.parametrize(
    ("arguments", "errors"),
    [
        (
            {"keep_through_number": 13},
            {"keep_through_number": ["Must be from 0 to the number of instalments in the schedule."]},
        ),
        (
            {"outstanding_principal_minor": -1},
            {"outstanding_principal": ["Must be a whole number of minor units, zero or more."]},
        ),
        ({"strategy": "shorter"}, {"strategy": ["Choose reduce_installment or reduce_term."]}),
        (
            {"start_date": D(2025, 3, 1)},
            {"start_date": ["Must not be before the disbursement date or the last kept due date."]},
        ),
        (
            {"keep_through_number": 12},
            {"keep_through_number": ["No instalment is left to carry the outstanding principal."]},
        ),
    ],
)
def test_bad_recast_arguments(arguments: dict[str, object], errors: dict[str, list[str]]) -> None:
    loan = terms()
    original = schedule_generate(loan)
    values: dict[str, object] = {
        "keep_through_number": 4,
        "outstanding_principal_minor": 500_000,
        "start_date": D(2026, 1, 16),
    }
    values.update(arguments)
    with pytest.raises(TermsError) as error:
        schedule_recast(loan, original, **values)  # type: ignore[arg-type]
    assert error.value.errors == errors
