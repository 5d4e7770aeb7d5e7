"""Cells as cooperatives type them: dates in three calendars' writing, amounts in three groupings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from imports.engine.values import (
    DateSettings,
    InvalidValue,
    as_text,
    currency_exponent,
    parse_amount,
    parse_bool,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_integer,
    parse_national_id,
    parse_phone,
)

DMY = DateSettings()
MDY = DateSettings(order="MDY")
THAI = DateSettings(buddhist_era=True)
JAN_5 = dt.date(2024, 1, 5)


@pytest.mark.parametrize(
    ("raw", "settings"),
    [
        ("2024-01-05", DMY),
        ("2024/1/5", DMY),
        ("2024-01-05 00:00:00", DMY),
        ("2024-01-05T08:30", DMY),
        ("05/01/2024", DMY),
        ("5-1-2024", DMY),
        ("05.01.2024", DMY),
        ("01/05/2024", MDY),
        ("5 Jan 2024", DMY),
        ("5 January 2024", DMY),
        ("05-Jan-2024", DMY),
        ("Jan 5, 2024", DMY),
        ("January 5th, 2024", DMY),
        ("5th jan. 2024", DMY),
        ("০৫/০১/২০২৪", DMY),
        ("৫ জানুয়ারি ২০২৪", DMY),
        ("ngày 5 tháng 1 năm 2024", DMY),
        ("5 tháng 1, 2024", DMY),
        ("5 ม.ค. 2567", THAI),
        ("๕ มกราคม ๒๕๖๗", THAI),
        ("05/01/2567", THAI),
        ("2567-01-05", THAI),
        ("5 มกราคม พ.ศ. 2567", DMY),  # "พ.ศ." says B.E. even where the file's default is C.E.
        ("5 มกราคม 2024", THAI),  # a C.E. year in a Thai file stays C.E.
        ("5 ม.ค. ค.ศ. 2024", THAI),
    ],
)
def test_dates(raw, settings):  # type: ignore[no-untyped-def]
    assert parse_date(raw, settings) == JAN_5


def test_spreadsheet_date_cells_and_serial_numbers():
    assert parse_date(dt.datetime(2024, 1, 5, 0, 0), THAI) == JAN_5  # a date cell is never shifted
    assert parse_date(dt.date(2024, 1, 5), DMY) == JAN_5
    assert parse_date(45296, DMY) == JAN_5
    assert parse_date(45296.0, DMY) == JAN_5


def test_buddhist_era_boundary():
    assert parse_date("01/01/2400", THAI) == dt.date(1857, 1, 1)
    assert parse_date("31/12/2399", THAI) == dt.date(2399, 12, 31)


@pytest.mark.parametrize(
    ("raw", "settings", "code"),
    [
        ("05/01/2024", DateSettings(refuse_ambiguous=True), "date_ambiguous"),
        ("2567-01-05", DMY, "date_buddhist_era"),
        ("31/02/2024", DMY, "date_invalid"),
        ("05/01/24", DMY, "date_two_digit_year"),
        ("5 Foo 2024", DMY, "date_month_unknown"),
        ("sometime in 2019", DMY, "date_format"),
        ("", DMY, "required"),
        (-3, DMY, "date_invalid"),
    ],
)
def test_bad_dates(raw, settings, code):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValue) as caught:
        parse_date(raw, settings)
    assert caught.value.code == code


def test_unambiguous_dates_pass_when_ambiguity_is_refused():
    strict = DateSettings(refuse_ambiguous=True)
    assert parse_date("25/01/2024", strict) == dt.date(2024, 1, 25)
    assert parse_date("05/05/2024", strict) == dt.date(2024, 5, 5)
    assert parse_date("2024-01-05", strict) == JAN_5


@pytest.mark.parametrize(
    ("raw", "currency", "minor"),
    [
        ("1,00,000.50", "BDT", 10_000_050),
        ("12,34,567", "BDT", 123_456_700),
        ("1,00,00,000", "BDT", 1_000_000_000),
        ("Tk 5,000/-", "BDT", 500_000),
        ("৳ ১,২৫০.৭৫", "BDT", 125_075),
        ("Tk. 1,250.5", "BDT", 125_050),
        ("১০০০ টাকা", "BDT", 100_000),
        ("1.000.000", "VND", 1_000_000),
        ("1.000.000 ₫", "VND", 1_000_000),
        ("1.000.000đ", "VND", 1_000_000),
        ("2.500.000 VNĐ", "VND", 2_500_000),
        ("1 000 000", "VND", 1_000_000),
        ("1,000", "VND", 1_000),
        ("1000000.00", "VND", 1_000_000),
        ("฿1,250.75", "THB", 125_075),
        ("1,250.75 บาท", "THB", 125_075),
        ("1 250,75", "THB", 125_075),
        ("1.234,56", "THB", 123_456),
        ("1,234,567.8", "THB", 123_456_780),
        ("0", "THB", 0),
        (".5", "THB", 50),
        (1500000, "VND", 1_500_000),
        (1234.5, "BDT", 123_450),
        (1234.5000000000002, "BDT", 123_450),
        (Decimal("99.99"), "BDT", 9_999),
    ],
)
def test_amounts(raw, currency, minor):  # type: ignore[no-untyped-def]
    assert parse_amount(raw, currency_exponent(currency)) == minor


@pytest.mark.parametrize("raw", ["(500)", "-500", "500-", "Tk -500", "(Tk 500)"])
def test_negative_amounts(raw):  # type: ignore[no-untyped-def]
    assert parse_amount(raw, 2, allow_negative=True) == -50_000
    with pytest.raises(InvalidValue) as caught:
        parse_amount(raw, 2)
    assert caught.value.code == "amount_negative"


@pytest.mark.parametrize(
    ("raw", "exponent", "code"),
    [
        ("1.5", 0, "amount_decimals"),
        ("100.1234", 2, "amount_decimals"),
        (10.125, 2, "amount_decimals"),
        ("1,0,000", 2, "amount_grouping"),
        ("10,50", 0, "amount_decimals"),
        ("1,00,0000", 2, "amount_grouping"),
        ("abc", 2, "amount_format"),
        ("1.2.3,4,5", 2, "amount_format"),
        ("", 2, "required"),
        (True, 2, "amount_format"),
        ("12a", 2, "amount_format"),
    ],
)
def test_bad_amounts(raw, exponent, code):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValue) as caught:
        parse_amount(raw, exponent)
    assert caught.value.code == code


def test_decimal_separator_from_a_profile_decides():
    assert parse_amount("1.234", 2, decimal_separator=",") == 123_400
    assert parse_amount("1,5", 2, decimal_separator=",") == 150
    assert parse_amount("1.234", 3, decimal_separator=".") == 1_234


def test_numbers_and_integers():
    assert parse_decimal("12.5%") == Decimal("12.5")
    assert parse_decimal("7,92") == Decimal("7.92")
    assert parse_decimal("৬") == Decimal(6)
    assert parse_decimal(6.5) == Decimal("6.5")
    assert parse_integer("৪৬") == 46
    assert parse_integer(46.0) == 46
    assert parse_integer("1,200") == 1200
    with pytest.raises(InvalidValue):
        parse_integer("4.5")
    with pytest.raises(InvalidValue):
        parse_decimal("12.1234567")


def test_phones_use_the_members_app_rules():
    assert parse_phone("০১৭১১-০০০০০১", "BD") == "+8801711000001"
    assert parse_phone("0912 345 678", "VN") == "+84912345678"
    assert parse_phone("๐๘๑๒๓๔๕๖๗๘", "TH") == "+66812345678"
    assert parse_phone("+66812345678", "BD") == "+66812345678"
    assert parse_phone(1711000001, "BD") == "+8801711000001"  # a number cell lost its leading 0
    with pytest.raises(InvalidValue) as caught:
        parse_phone("12345", "BD")
    assert caught.value.code == "phone_invalid"


def test_national_ids_per_country():
    assert parse_national_id("১২৩৪ ৫৬৭ ৮৯০", "BD") == "1234567890"
    assert parse_national_id("1-1017-00203-45-0", "TH") == "1101700203450"
    with pytest.raises(InvalidValue) as caught:
        parse_national_id("1101700203451", "TH")
    assert caught.value.code == "national_id_invalid"
    assert caught.value.params == {"expected": "13 digits with a valid check digit"}


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("yes", True),
        ("Y", True),
        ("TRUE", True),
        (1, True),
        ("হ্যাঁ", True),
        ("Có", True),
        ("co", True),
        ("ใช่", True),
        ("no", False),
        ("না", False),
        ("Không", False),
        ("khong", False),
        ("ไม่ใช่", False),
        ("0", False),
        (False, False),
        ("০", False),
    ],
)
def test_yes_no_in_four_languages(raw, value):  # type: ignore[no-untyped-def]
    assert parse_bool(raw) is value


def test_choices_and_bad_booleans():
    with pytest.raises(InvalidValue) as caught:
        parse_bool("maybe")
    assert caught.value.code == "bool_format"
    choices = {"weekly": "weekly", "সাপ্তাহিক": "weekly", "hang tuan": "weekly"}
    assert parse_choice("  Weekly ", choices) == "weekly"
    assert parse_choice("সাপ্তাহিক", choices) == "weekly"
    with pytest.raises(InvalidValue) as caught:
        parse_choice("daily", choices)
    assert caught.value.code == "choice_invalid"


def test_cells_as_text():
    assert as_text(None) == ""
    assert as_text(46.0) == "46"
    assert as_text(dt.datetime(2024, 1, 5)) == "2024-01-05"
    assert as_text("  a  b ") == "a b"
