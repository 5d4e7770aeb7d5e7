"""Dates and money as each language's readers expect them, exact to the minor unit."""

from __future__ import annotations

import datetime as dt

import pytest

from frontend.formatting import format_local_date, format_money, to_native_digits


def test_thai_dates_use_the_buddhist_era() -> None:
    text = format_local_date(dt.date(2026, 11, 23), "th")
    assert "2569" in text and "2026" not in text


def test_thai_buddhist_era_also_in_long_form_and_near_new_year() -> None:
    assert "2570" in format_local_date(dt.date(2027, 1, 1), "th", style="long")


def test_bangla_dates_may_use_bangla_digits() -> None:
    assert format_local_date(dt.date(2026, 11, 23), "bn", native_digits=True) == "২৩ নভে, ২০২৬"
    assert "2026" in format_local_date(dt.date(2026, 11, 23), "bn", native_digits=False)


@pytest.mark.parametrize(
    ("minor_units", "currency", "language", "expected"),
    [
        (10_000_000, "BDT", "bn", "1,00,000.00৳"),
        (12_345_678_901, "BDT", "en", "BDT123,456,789.01"),
        (1_000_000, "VND", "vi", "1.000.000\xa0₫"),
        (1, "VND", "vi", "1\xa0₫"),
        (123_456, "THB", "th", "฿1,234.56"),
        (-5, "BDT", "en", "-BDT0.05"),
    ],
)
def test_money_is_formatted_from_minor_units(
    minor_units: int, currency: str, language: str, expected: str
) -> None:
    assert format_money(minor_units, currency, language) == expected


def test_money_with_bangla_digits() -> None:
    assert format_money(10_000_000, "BDT", "bn", native_digits=True) == "১,০০,০০০.০০৳"


def test_native_digits_leave_other_languages_alone() -> None:
    assert to_native_digits("2026", "vi") == "2026"
    assert to_native_digits("2026", "th") == "๒๐๒๖"
