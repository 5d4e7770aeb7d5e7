"""Due dates: month ends, leap years, holidays, weekly off-days and group meeting days."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from core_banking.lending.schedule import LoanTerms, TermsError, schedule_generate, terms_from_json

D = dt.date


def terms(**overrides: object) -> LoanTerms:
    values: dict[str, object] = {
        "principal_minor": 1_000_000,
        "currency": "BDT",
        "annual_rate": Decimal(12),
        "interest_method": "declining",
        "frequency": "monthly",
        "installments": 6,
        "disbursement_date": D(2025, 1, 31),
    }
    values.update(overrides)
    return LoanTerms(**values)  # type: ignore[arg-type]


def due_dates(loan: LoanTerms) -> list[dt.date]:
    return [row.due_date for row in schedule_generate(loan).installments]


@pytest.mark.parametrize(
    ("disbursed", "every", "count", "expected"),
    [
        # The 31st: the last day of shorter months, back to the 31st when the month has it.
        (
            D(2025, 1, 31),
            1,
            5,
            [D(2025, 2, 28), D(2025, 3, 31), D(2025, 4, 30), D(2025, 5, 31), D(2025, 6, 30)],
        ),
        # A leap year: 29 February.
        (D(2024, 1, 31), 1, 3, [D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30)]),
        (D(2024, 1, 30), 1, 3, [D(2024, 2, 29), D(2024, 3, 30), D(2024, 4, 30)]),
        (D(2025, 1, 30), 1, 3, [D(2025, 2, 28), D(2025, 3, 30), D(2025, 4, 30)]),
        # Disbursed on 29 February: the 29th where the month has it, 28 February in 2025.
        (
            D(2024, 2, 29),
            1,
            12,
            [D(2024, m, 29) for m in range(3, 13)] + [D(2025, 1, 29), D(2025, 2, 28)],
        ),
        # Every two months from 31 August, across the year end.
        (D(2025, 8, 31), 2, 4, [D(2025, 10, 31), D(2025, 12, 31), D(2026, 2, 28), D(2026, 4, 30)]),
        # Every three months: quarterly.
        (D(2023, 11, 30), 3, 4, [D(2024, 2, 29), D(2024, 5, 30), D(2024, 8, 30), D(2024, 11, 30)]),
    ],
)
def test_monthly_due_dates_follow_the_anchor_day(
    disbursed: dt.date, every: int, count: int, expected: list[dt.date]
) -> None:
    assert due_dates(terms(disbursement_date=disbursed, repay_every=every, installments=count)) == expected


def test_a_first_due_date_on_the_31st_sets_the_anchor() -> None:
    loan = terms(disbursement_date=D(2025, 1, 10), first_due_date=D(2025, 1, 31), installments=4)
    assert due_dates(loan) == [D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31), D(2025, 4, 30)]


def test_weekly_and_fortnightly_every_n() -> None:
    assert due_dates(
        terms(frequency="weekly", repay_every=2, installments=3, disbursement_date=D(2025, 12, 25))
    ) == [
        D(2026, 1, 8),
        D(2026, 1, 22),
        D(2026, 2, 5),
    ]
    assert due_dates(terms(frequency="fortnightly", installments=3, disbursement_date=D(2024, 2, 15))) == [
        D(2024, 2, 29),
        D(2024, 3, 14),
        D(2024, 3, 28),
    ]


def test_a_one_time_loan_falls_due_once() -> None:
    assert due_dates(terms(frequency="once", installments=1, first_due_date=D(2025, 7, 4))) == [D(2025, 7, 4)]
    # Without a date: repay_every months after disbursement (31 January + 3 months: 30 April).
    assert due_dates(terms(frequency="once", installments=1, repay_every=3)) == [D(2025, 4, 30)]


def test_holidays_and_off_days_move_due_dates_and_daily_interest_follows_the_actual_dates() -> None:
    # Due 5 February (a holiday, and the 6th too), Friday and Saturday off: it moves to Sunday 9 February.
    # Due 5 April is a Saturday: Sunday 6 April. The regular calendar is not shifted (5 March stays).
    loan = terms(
        disbursement_date=D(2025, 1, 5),
        installments=3,
        interest_period="daily",
        days_in_year=365,
        holidays=frozenset({D(2025, 2, 5), D(2025, 2, 6)}),
        weekly_off_days=frozenset({4, 5}),
    )
    schedule = schedule_generate(loan)
    assert [row.due_date for row in schedule.installments] == [D(2025, 2, 9), D(2025, 3, 5), D(2025, 4, 6)]
    assert [row.period_start for row in schedule.installments] == [
        D(2025, 1, 5),
        D(2025, 2, 9),
        D(2025, 3, 5),
    ]
    # By hand: 35, 24 and 32 days at 12 % / 365; the level instalment from a 30-day month.
    rate = Decimal(12) / 100 / 365
    base = 1 + rate * 30
    level = (Decimal(10000) * rate * 30 / (1 - base**-3)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    balance, expected = Decimal(10000), []
    for number, days in enumerate((35, 24, 32), start=1):
        interest = (balance * rate * days).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        principal = balance if number == 3 else level - interest
        balance -= principal
        expected.append((int(principal * 100), int(interest * 100)))
    assert [(row.principal_minor, row.interest_minor) for row in schedule.installments] == expected
    assert expected[0][1] == 11_507  # 10,000 x 12 % x 35 / 365 = 115.068...

    # With interest per repayment period the moved dates change nothing: 1 % a month.
    same = schedule_generate(
        terms(
            disbursement_date=D(2025, 1, 5),
            installments=3,
            holidays=frozenset({D(2025, 2, 5)}),
            weekly_off_days=frozenset({4, 5}),
        )
    )
    assert same.installments[0].interest_minor == 10_000


def test_a_long_closure_can_put_two_due_dates_on_one_day() -> None:
    closure = frozenset(D(2025, 3, 28) + dt.timedelta(days=n) for n in range(14))  # 28 March to 10 April
    schedule = schedule_generate(
        terms(
            frequency="weekly",
            installments=4,
            disbursement_date=D(2025, 3, 20),
            interest_period="daily",
            days_in_year=365,
            holidays=closure,
        )
    )
    assert [row.due_date for row in schedule.installments] == [
        D(2025, 3, 27),
        D(2025, 4, 11),
        D(2025, 4, 11),
        D(2025, 4, 17),
    ]
    # The second of the two has no days of its own: no interest.
    assert schedule.installments[2].interest_minor == 0
    assert schedule.total_principal_minor == 1_000_000


@pytest.mark.parametrize(
    ("minimum_days", "expected_first"),
    [
        (15, D(2025, 3, 19)),  # disbursed Monday 3 March: the first Wednesday 15 days or more later
        (0, D(2025, 3, 5)),  # the next Wednesday
        (16, D(2025, 3, 19)),
        (17, D(2025, 3, 26)),
    ],
)
def test_group_meeting_day_calendar(minimum_days: int, expected_first: dt.date) -> None:
    loan = terms(
        frequency="fortnightly",
        installments=3,
        disbursement_date=D(2025, 3, 3),
        meeting_weekday=2,
        minimum_days_to_first_meeting=minimum_days,
    )
    step = dt.timedelta(days=14)
    assert due_dates(loan) == [expected_first, expected_first + step, expected_first + 2 * step]


def test_a_loan_disbursed_on_the_meeting_day_starts_at_the_next_meeting() -> None:
    loan = terms(frequency="weekly", installments=2, disbursement_date=D(2025, 3, 5), meeting_weekday=2)
    assert due_dates(loan) == [D(2025, 3, 12), D(2025, 3, 19)]


def test_a_holiday_on_the_meeting_day_moves_to_the_next_working_day() -> None:
    loan = terms(
        frequency="weekly",
        installments=3,
        disbursement_date=D(2025, 3, 3),
        meeting_weekday=2,
        holidays=frozenset({D(2025, 3, 12)}),
        weekly_off_days=frozenset({4}),
    )
    assert due_dates(loan) == [D(2025, 3, 5), D(2025, 3, 13), D(2025, 3, 19)]


def test_meeting_day_rules_are_checked() -> None:
    base = {
        "principal": "5000",
        "currency": "BDT",
        "annual_rate": "20",
        "interest_method": "flat",
        "frequency": "weekly",
        "installments": 10,
        "disbursement_date": "2025-03-03",
        "meeting_weekday": "wednesday",
        "minimum_days_to_first_meeting": 15,
        "weekly_off_days": ["friday"],
    }
    assert terms_from_json(base).meeting_weekday == 2
    with pytest.raises(TermsError) as error:
        terms_from_json({**base, "first_due_date": "2025-03-20"})  # a Thursday
    assert error.value.errors == {"first_due_date": ["Must fall on the group's meeting day."]}
    with pytest.raises(TermsError) as error:
        terms_from_json({**base, "first_due_date": "2025-03-12"})  # a Wednesday, 9 days on
    assert error.value.errors == {
        "first_due_date": ["Must be at least the minimum number of days after disbursement."]
    }
    with pytest.raises(TermsError) as error:
        terms_from_json({**base, "frequency": "monthly", "meeting_weekday": "friday"})
    assert error.value.errors == {
        "meeting_weekday": [
            "Only weekly and fortnightly loans follow a group meeting day.",
            "The meeting day is a weekly off-day.",
        ]
    }


def test_thirty_day_months_count_the_days_a_holiday_moves() -> None:
    # 30/360 by month: 28 February 2025 is a holiday, the instalment falls on 1 March: 31 days,
    # and the next period (1 March to 31 March) one day fewer: 29 days.
    schedule = schedule_generate(
        terms(
            interest_period="daily",
            days_in_year=360,
            days_in_month=30,
            amortization="equal_principal",
            installments=3,
            holidays=frozenset({D(2025, 2, 28)}),
        )
    )
    rows = schedule.installments
    assert [row.due_date for row in rows] == [D(2025, 3, 1), D(2025, 3, 31), D(2025, 4, 30)]
    # 10,000 x 12 % x 31/360 = 103.33; 6,666.67 x 12 % x 29/360 = 64.44; 3,333.33 x 12 % x 30/360 = 33.33
    assert [row.interest_minor for row in rows] == [10_333, 6_444, 3_333]
