"""Terms JSON: defaults, currencies, every bad field at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from core_banking.lending.schedule import (
    LoanTerms,
    RateChange,
    TermsError,
    schedule_generate,
    schedule_to_json,
    terms_from_json,
)

MINIMAL: dict[str, Any] = {
    "principal": "10000",
    "currency": "BDT",
    "annual_rate": "12",
    "interest_method": "declining",
    "frequency": "monthly",
    "installments": 12,
    "disbursement_date": "2025-01-15",
}


def errors_of(data: Any) -> dict[str, list[str]]:
    with pytest.raises(TermsError) as error:
        terms_from_json(data)
    return error.value.errors


def test_minimal_terms_take_the_documented_defaults() -> None:
    assert terms_from_json(MINIMAL) == LoanTerms(
        principal_minor=1_000_000,
        currency="BDT",
        annual_rate=Decimal(12),
        interest_method="declining",
        amortization="equal_installments",
        interest_period="same_as_repayment",
        days_in_year="actual",
        days_in_month="actual",
        frequency="monthly",
        repay_every=1,
        installments=12,
        disbursement_date=dt.date(2025, 1, 15),
        first_due_date=None,
        rounding="half_even",
        installment_multiple_minor=None,
        grace_principal=0,
        grace_interest_payment=0,
        interest_free_periods=0,
        holidays=frozenset(),
        weekly_off_days=frozenset(),
        rate_changes=(),
        meeting_weekday=None,
        minimum_days_to_first_meeting=0,
    )


def test_every_key_is_read() -> None:
    terms = terms_from_json(
        {
            **MINIMAL,
            "principal": "12500.50",
            "currency": "thb",
            "annual_rate": 9.75,
            "amortization": "equal_principal",
            "interest_period": "daily",
            "days_in_year": "360",
            "days_in_month": 30,
            "frequency": "weekly",
            "repay_every": 2,
            "installments": 26,
            "first_due_date": "2025-01-22",
            "rounding": "up",
            "installment_multiple": "10",
            "grace_principal": 2,
            "grace_interest_payment": 1,
            "interest_free_periods": 1,
            "holidays": ["2025-04-13", "2025-04-14", "2025-04-13"],
            "weekly_off_days": ["Sunday", 5],
            "rate_changes": [{"effective_from": "2025-07-01", "annual_rate": "10.5"}],
            "meeting_weekday": "wed",
            "minimum_days_to_first_meeting": 7,
        }
    )
    assert terms.principal_minor == 1_250_050 and terms.currency == "THB"
    assert terms.annual_rate == Decimal("9.75")
    assert terms.days_in_year == 360 and terms.days_in_month == 30
    assert terms.installment_multiple_minor == 1000
    assert terms.holidays == frozenset({dt.date(2025, 4, 13), dt.date(2025, 4, 14)})
    assert terms.weekly_off_days == frozenset({5, 6})
    assert terms.rate_changes == (RateChange(dt.date(2025, 7, 1), Decimal("10.5")),)
    assert terms.meeting_weekday == 2 and terms.minimum_days_to_first_meeting == 7


@pytest.mark.parametrize(
    ("currency", "amount", "minor"),
    [
        ("VND", "1500000", 1_500_000),
        ("BDT", "1250.75", 125_075),
        ("THB", "0.01", 1),
        ("BHD", "12.345", 12_345),
    ],
)
def test_amounts_follow_the_currency_exponent(currency: str, amount: str, minor: int) -> None:
    assert terms_from_json({**MINIMAL, "currency": currency, "principal": amount}).principal_minor == minor


@pytest.mark.parametrize(("currency", "amount"), [("VND", "1.5"), ("BDT", "10.001"), ("THB", "0.001")])
def test_more_decimals_than_the_currency_allows_are_refused(currency: str, amount: str) -> None:
    assert errors_of({**MINIMAL, "currency": currency, "principal": amount}) == {
        "principal": ["The amount has more decimal places than the currency allows."]
    }


def test_every_bad_field_is_reported_at_once() -> None:
    assert errors_of(
        {
            "principal": 10.5,
            "currency": "XXY",
            "annual_rate": "twelve",
            "interest_method": "compound",
            "amortization": "balloon",
            "interest_period": "hourly",
            "days_in_year": 355,
            "days_in_month": 31,
            "frequency": "daily",
            "repay_every": 0,
            "installments": "many",
            "disbursement_date": "15/01/2025",
            "first_due_date": 20250215,
            "rounding": "nearest",
            "installment_multiple": "-1",
            "grace_principal": -1,
            "grace_interest_payment": 1.5,
            "interest_free_periods": True,
            "holidays": "2025-04-14",
            "weekly_off_days": ["funday", 7],
            "rate_changes": {"effective_from": "2025-07-01"},
            "meeting_weekday": 9,
            "minimum_days_to_first_meeting": 400,
            "penalty": "2%",
        }
    ) == {
        "penalty": ["Unknown setting."],
        "currency": ["Not an ISO 4217 currency code."],
        "principal": ['Give the amount as a decimal string in major units, e.g. "1250.75".'],
        "installment_multiple": ["Must be greater than zero."],
        "annual_rate": ["Not a number."],
        "interest_method": ["Choose flat or declining."],
        "amortization": ["Choose equal_installments or equal_principal."],
        "interest_period": ["Choose same_as_repayment or daily."],
        "days_in_year": ["Choose 360, 364, 365, 366 or actual."],
        "days_in_month": ["Choose 30 or actual."],
        "frequency": ["Choose weekly, fortnightly, monthly or once."],
        "rounding": ["Choose half_even, half_up, down or up."],
        "repay_every": ["Must be from 1 to 99."],
        "installments": ["Must be a whole number."],
        "grace_principal": ["Must be zero or more."],
        "grace_interest_payment": ["Must be a whole number."],
        "interest_free_periods": ["Must be a whole number."],
        "minimum_days_to_first_meeting": ["Must be from 0 to 366."],
        "disbursement_date": ["Give a date as YYYY-MM-DD."],
        "first_due_date": ["Give a date as YYYY-MM-DD."],
        "meeting_weekday": ["Give a weekday as 0 (Monday) to 6 (Sunday) or its English name."],
        "holidays": ["Give a list."],
        "weekly_off_days[0]": ["Give a weekday as 0 (Monday) to 6 (Sunday) or its English name."],
        "weekly_off_days[1]": ["Give a weekday as 0 (Monday) to 6 (Sunday) or its English name."],
        "rate_changes": ["Give a list."],
    }


def test_missing_required_settings() -> None:
    assert errors_of({}) == {
        key: ["This setting is required."]
        for key in (
            "principal",
            "currency",
            "annual_rate",
            "interest_method",
            "frequency",
            "installments",
            "disbursement_date",
        )
    }
    assert errors_of([1, 2]) == {"terms": ["The terms must be a JSON object."]}


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"grace_principal": 12}, {"grace_principal": ["Must be less than the number of instalments."]}),
        (
            {"grace_interest_payment": 13},
            {"grace_interest_payment": ["Must be less than the number of instalments."]},
        ),
        (
            {"interest_free_periods": 13},
            {"interest_free_periods": ["Must not exceed the number of instalments."]},
        ),
        ({"first_due_date": "2025-01-15"}, {"first_due_date": ["Must be after the disbursement date."]}),
        ({"frequency": "once"}, {"installments": ["A one-time loan has exactly one instalment."]}),
        (
            {"days_in_month": 30},
            {
                "days_in_month": [
                    "30-day months need a fixed number of days in the year (360, 364, 365 or 366)."
                ]
            },
        ),
        (
            {"weekly_off_days": list(range(7))},
            {"weekly_off_days": ["At least one day of the week must be a working day."]},
        ),
        (
            {"minimum_days_to_first_meeting": 10},
            {"minimum_days_to_first_meeting": ["Only used with a meeting day."]},
        ),
        ({"annual_rate": "1000.5"}, {"annual_rate": ["The annual rate must be from 0 to 1000 percent."]}),
        ({"annual_rate": "-1"}, {"annual_rate": ["The annual rate must be from 0 to 1000 percent."]}),
        ({"principal": "0"}, {"principal": ["Must be greater than zero."]}),
        ({"principal": "10000000000000.01"}, {"principal": ["The amount is too large."]}),
        ({"installments": 1001}, {"installments": ["Must be from 1 to 1000."]}),
    ],
)
def test_rules_between_fields(overrides: dict[str, Any], errors: dict[str, list[str]]) -> None:
    assert errors_of({**MINIMAL, **overrides}) == errors


def test_loan_terms_check_themselves_and_name_the_json_keys() -> None:
    with pytest.raises(TermsError) as error:
        LoanTerms(
            principal_minor=-5,
            currency="BDT",
            annual_rate=Decimal(12),
            interest_method="flat",
            frequency="monthly",
            installments=12,
            disbursement_date=dt.date(2025, 1, 1),
            installment_multiple_minor=0,
        )
    assert error.value.errors == {
        "principal": ["Must be greater than zero."],
        "installment_multiple": ["Must be greater than zero."],
    }


def test_a_zero_rate_loan_is_principal_only() -> None:
    schedule = schedule_generate(terms_from_json({**MINIMAL, "annual_rate": "0", "installments": 3}))
    assert [row.total_minor for row in schedule.installments] == [333_333, 333_333, 333_334]
    assert schedule.total_interest_minor == 0


def test_schedule_json_has_amounts_in_major_units() -> None:
    schedule = schedule_generate(terms_from_json({**MINIMAL, "installments": 2}))
    data = schedule_to_json(schedule)
    assert data["installments"][0] == {
        "number": 1,
        "due_date": "2025-02-15",
        "principal": "4975.12",
        "interest": "100.00",
        "total": "5075.12",
        "balance": "5024.88",
    }
    assert data["totals"] == {"principal": "10000.00", "interest": "150.25", "total": "10150.25"}
    vnd = schedule_to_json(
        schedule_generate(terms_from_json({**MINIMAL, "currency": "VND", "installments": 2}))
    )
    assert vnd["totals"] == {"principal": "10000", "interest": "150", "total": "10150"}
