"""Money at the API's edge: exact conversion per currency exponent, never silent rounding."""

from __future__ import annotations

import pytest

from core_banking.money import MoneyFormatError, from_minor, to_minor


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1250.75", "BDT", 125_075),
        ("1250.7", "BDT", 125_070),
        ("0.01", "THB", 1),
        ("1500000", "VND", 1_500_000),
        ("1500000.00", "VND", 1_500_000),
        ("12.345", "BHD", 12_345),  # three decimals in Bahraini dinar
        ("99999999999.99", "BDT", 9_999_999_999_999),
    ],
)
def test_amounts_convert_exactly(text: str, currency: str, minor: int) -> None:
    assert to_minor(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"), [("1.5", "VND"), ("10.001", "BDT"), ("abc", "BDT"), ("NaN", "BDT"), ("", "THB")]
)
def test_amounts_with_more_decimals_than_the_currency_are_refused(text: str, currency: str) -> None:
    with pytest.raises(MoneyFormatError):
        to_minor(text, currency)


def test_minor_units_print_back_as_plain_decimal_strings() -> None:
    assert from_minor(125_075, "BDT") == "1250.75"
    assert from_minor(-5, "THB") == "-0.05"
    assert from_minor(1_500_000, "VND") == "1500000"
