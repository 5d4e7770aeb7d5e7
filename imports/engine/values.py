"""Cell values as the cooperative typed them → typed values. Plain Python: no Django.

Every parser takes the raw cell (a string from CSV, or what openpyxl gives for XLSX: str, int,
float, datetime) and returns the typed value or raises ``InvalidValue`` with a stable code and an
English message template; the caller translates the template and fills in its parameters, so the
same failure reads in the importer's language.

Money never passes through float arithmetic: text is parsed straight into ``Decimal``; a number cell
of a spreadsheet (a binary float in the file) is read through its shortest decimal form, the
digits Excel shows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel.numbers import get_currency_precision

from core_banking.members.identity import (
    NationalIdInvalid,
    PhoneInvalid,
    national_id_normalise,
    national_id_rule_text,
    phone_normalise,
)
from imports.engine.i18n import gettext_noop
from imports.engine.text import ascii_digits, clean_cell, header_key


class InvalidValue(ValueError):
    """A cell that cannot be read as its field's type. ``message`` is an English template."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.code = code
        self.message = message
        self.params = params


def as_text(raw: object) -> str:  # noqa: PLR0911
    """The cell as clean text ("" for an empty cell); whole-number floats without ".0"."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return clean_cell(raw)
    if isinstance(raw, bool):
        return "1" if raw else "0"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime) and raw.time() == dt.time(0, 0):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return clean_cell(str(raw))


# --- Dates ---------------------------------------------------------------------------------------

BUDDHIST_ERA_OFFSET = 543
FIRST_BUDDHIST_ERA_YEAR = 2400  # C.E. 1857: no cooperative record is older, no C.E. year is larger
EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass(frozen=True)
class DateSettings:
    """How a file writes dates: set per mapping profile.

    ``order`` decides "03/04/2024" (DMY: 3 April; MDY: 4 March). With ``refuse_ambiguous`` such a
    date, where both readings are valid, is refused instead. ``buddhist_era`` (Thai files) reads a
    year of 2400 or later as B.E., so 2567 is 2024; an explicit "พ.ศ." always means B.E.
    """

    order: str = "DMY"  # "DMY" or "MDY"; year-first dates are always Y-M-D
    refuse_ambiguous: bool = False
    buddhist_era: bool = False

    def __post_init__(self) -> None:
        if self.order not in ("DMY", "MDY"):
            raise ValueError(f"date order must be DMY or MDY, not {self.order!r}")


_MONTHS: dict[str, int] = {}


def _add_months(names: str) -> None:
    for number, group in enumerate(names.split("|"), start=1):
        for name in group.split():
            _MONTHS[header_key(name).replace(" ", "")] = number


# English
_add_months(
    "january jan|february feb|march mar|april apr|may|june jun|july jul|august aug|"
    "september sep sept|october oct|november nov|december dec"
)
# Thai (full names and the dotted abbreviations: ม.ค. folds to มค)
_add_months(
    "มกราคม ม.ค.|กุมภาพันธ์ ก.พ.|มีนาคม มี.ค.|เมษายน เม.ย.|พฤษภาคม พ.ค.|มิถุนายน มิ.ย.|"
    "กรกฎาคม ก.ค.|สิงหาคม ส.ค.|กันยายน ก.ย.|ตุลาคม ต.ค.|พฤศจิกายน พ.ย.|ธันวาคม ธ.ค."
)
# Bangla names of the Gregorian months (with the common spellings)
_add_months("জানুয়ারি জানুয়ারী|ফেব্রুয়ারি ফেব্রুয়ারী|মার্চ|এপ্রিল|মে|জুন|জুলাই|আগস্ট আগষ্ট|সেপ্টেম্বর|অক্টোবর|নভেম্বর|ডিসেম্বর")

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[ \-/.]*([^\d\s,/\-]+)[ \-/.,]*(\d{4})$")
_MONTH_DAY_YEAR = re.compile(r"^([^\d\s,/\-]+)[ .]*(\d{1,2})(?:st|nd|rd|th)?,? *(\d{4})$")
_VIETNAMESE = re.compile(r"^(?:ngày *)?(\d{1,2}) *tháng *(\d{1,2}),? *(?:năm *)?(\d{4})$")
_ERA_BUDDHIST = re.compile(r"(พ\.? ?ศ\.?|b\.? ?e\.?)(?=\s*\d{4}$)")
_ERA_COMMON = re.compile(r"(ค\.? ?ศ\.?|c\.? ?e\.?|a\.? ?d\.?)(?=\s*\d{4}$)")


def _make_date(year: int, month: int, day: int, settings: DateSettings, *, buddhist: bool) -> dt.date:
    if buddhist or (settings.buddhist_era and year >= FIRST_BUDDHIST_ERA_YEAR):
        year -= BUDDHIST_ERA_OFFSET
    elif year >= FIRST_BUDDHIST_ERA_YEAR:
        raise InvalidValue(
            "date_buddhist_era",
            gettext_noop(
                "Year %(year)s looks like a Buddhist-era year; set the file's calendar to Buddhist era."
            ),
            year=year,
        )
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise InvalidValue("date_invalid", gettext_noop("There is no such date.")) from error


def _month_number(word: str) -> int:
    number = _MONTHS.get(header_key(word).replace(" ", ""))
    if number is None:
        raise InvalidValue("date_month_unknown", gettext_noop("Unknown month name %(month)s."), month=word)
    return number


def parse_date(raw: object, settings: DateSettings = DateSettings()) -> dt.date:  # noqa: PLR0911
    """A date from ISO, d/m/y (or m/d/y), d.m.y, d-m-y, "5 Jan 2024", "5 ม.ค. 2567", Bangla digits.

    A spreadsheet date cell arrives as a datetime and is taken as it is (no era shift: the file's
    own calendar produced it); a number cell is an Excel serial day.
    """
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if 1 <= raw < 2958466:
            return EXCEL_EPOCH + dt.timedelta(days=int(raw))
        raise InvalidValue("date_invalid", gettext_noop("There is no such date."))
    text = ascii_digits(as_text(raw)).casefold()
    if not text:
        raise InvalidValue("required", gettext_noop("A value is required."))
    buddhist = bool(_ERA_BUDDHIST.search(text))
    text = _ERA_COMMON.sub("", _ERA_BUDDHIST.sub("", text)).strip()
    if match := _ISO.match(text):
        return _make_date(int(match[1]), int(match[2]), int(match[3]), settings, buddhist=buddhist)
    if match := _NUMERIC.match(text):
        first, second, year_text = int(match[1]), int(match[2]), match[3]
        if len(year_text) == 2:
            raise InvalidValue("date_two_digit_year", gettext_noop("Write the year with four digits."))
        day, month = (first, second) if settings.order == "DMY" else (second, first)
        if first != second and first <= 12 and second <= 12 and settings.refuse_ambiguous:
            raise InvalidValue(
                "date_ambiguous",
                gettext_noop("%(value)s could be day-month or month-day; write it as YYYY-MM-DD."),
                value=match[0],
            )
        return _make_date(int(year_text), month, day, settings, buddhist=buddhist)
    if match := _VIETNAMESE.match(text):
        return _make_date(int(match[3]), int(match[2]), int(match[1]), settings, buddhist=buddhist)
    if match := _DAY_MONTH_YEAR.match(text):
        month = _month_number(match[2])
        return _make_date(int(match[3]), month, int(match[1]), settings, buddhist=buddhist)
    if match := _MONTH_DAY_YEAR.match(text):
        month = _month_number(match[1])
        return _make_date(int(match[3]), month, int(match[2]), settings, buddhist=buddhist)
    raise InvalidValue("date_format", gettext_noop("Not a date; write it as YYYY-MM-DD or DD/MM/YYYY."))


# --- Money ---------------------------------------------------------------------------------------

# Symbols, codes and words around an amount; "/-" closes an amount on a Bangladeshi voucher.
_CURRENCY_MARKS = re.compile(r"(?i)(?:tk\.?|taka|bdt|টাকা|৳|vnd|vnđ|₫|đồng|dong|đ|thb|บาท|฿|usd|us\$|\$|/-)")
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f']")  # 1 000 000, 1'000'000
_PLAIN_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_FLOAT_NOISE = Decimal("0.000001")


@lru_cache(maxsize=64)
def currency_exponent(currency: str) -> int:
    """Decimal places of an ISO 4217 currency: VND 0, BDT 2, THB 2."""
    return int(get_currency_precision(currency.upper()))


def _grouping_is_valid(integer_part: str, separator: str) -> bool:
    """1,000,000 (thousands), 1,00,000 (lakh: twos above the last three), 1.000.000, 1 000 000."""
    groups = integer_part.split(separator)
    if not groups[0] or len(groups[0]) > 3 or any(not group for group in groups):
        return False
    if len(groups[-1]) != 3:
        return False
    middle = groups[1:-1]
    if all(len(group) == 3 for group in middle):
        return True
    return separator == "," and len(groups[0]) <= 2 and all(len(group) == 2 for group in middle)


def _decimal_from_text(text: str, exponent: int, decimal_separator: str | None) -> Decimal:
    text = _SPACES.sub("", _CURRENCY_MARKS.sub("", text))
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith(("-", "−")):
        negative, text = not negative, text[1:]
    elif text.endswith("-"):
        negative, text = not negative, text[:-1]
    elif text.startswith("+"):
        text = text[1:]
    if not text or not all(char.isdigit() or char in ".," for char in text):
        raise InvalidValue("amount_format", gettext_noop("Not an amount."))
    integer_part, fraction = _split_decimal(text, exponent, decimal_separator)
    number = Decimal(f"{integer_part or '0'}.{fraction or '0'}")
    return -number if negative else number


def _split_decimal(text: str, exponent: int, decimal_separator: str | None) -> tuple[str, str]:
    """(integer digits, fraction digits) of "1,00,000.50", "1.000.000", "1.234,5" and the like."""
    has_dot, has_comma = "." in text, "," in text
    if decimal_separator is None:
        if has_dot and has_comma:
            decimal_separator = "." if text.rindex(".") > text.rindex(",") else ","
        elif has_dot or has_comma:
            mark = "." if has_dot else ","
            digits_after = len(text) - text.rindex(mark) - 1
            # One mark with exactly three digits after it is grouping ("1.000" dong, "1,000"
            # taka): as a decimal point it would be more decimals than any of our currencies have.
            if text.count(mark) > 1 or (digits_after == 3 and exponent < 3):
                decimal_separator = "," if mark == "." else "."
            else:
                decimal_separator = mark
        else:
            return text, ""
    group_separator = "," if decimal_separator == "." else "."
    if text.count(decimal_separator) > 1:
        raise InvalidValue("amount_format", gettext_noop("Not an amount."))
    integer_part, _, fraction = text.partition(decimal_separator)
    if group_separator in integer_part:
        if not _grouping_is_valid(integer_part, group_separator):
            raise InvalidValue(
                "amount_grouping", gettext_noop("The digit grouping of %(value)s is not valid."), value=text
            )
        integer_part = integer_part.replace(group_separator, "")
    if group_separator in fraction:
        raise InvalidValue("amount_format", gettext_noop("Not an amount."))
    return integer_part, fraction


def parse_amount(
    raw: object,
    exponent: int,
    *,
    decimal_separator: str | None = None,
    allow_negative: bool = False,
) -> int:
    """Integer minor units from "1,00,000.50" (BDT → 10000050), "1.000.000 ₫" (VND → 1000000),
    "฿ 1 250.75", "(500)" or "-500" (negative, when allowed). More decimals than the currency has
    are refused, never rounded ("1,000.50" dong is refused; "1000000.00" dong, exact, is read as
    1000000). One mark followed by exactly three digits is grouping ("1.000" dong, "1,000"
    taka), never a decimal point. ``decimal_separator`` ("." or ",") comes from a mapping profile
    when the file's convention is known; otherwise it is inferred per cell.
    """
    if isinstance(raw, bool):
        raise InvalidValue("amount_format", gettext_noop("Not an amount."))
    if isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, float):
        # A number cell: its shortest decimal form is what the spreadsheet shows. A formula's
        # binary noise (1234.5000000000002) is not a decimal the cooperative wrote: drop it.
        value = Decimal(repr(raw))
        rounded = value.quantize(Decimal(1).scaleb(-exponent))
        if rounded != value and abs(rounded - value) < _FLOAT_NOISE:
            value = rounded
    else:
        text = ascii_digits(as_text(raw))
        if not text:
            raise InvalidValue("required", gettext_noop("A value is required."))
        try:
            value = _decimal_from_text(text, exponent, decimal_separator)
        except InvalidOperation as error:
            raise InvalidValue("amount_format", gettext_noop("Not an amount.")) from error
    if not value.is_finite():
        raise InvalidValue("amount_format", gettext_noop("Not an amount."))
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise InvalidValue(
            "amount_decimals",
            gettext_noop("This currency has %(places)s decimal places; %(value)s has more."),
            places=exponent,
            value=as_text(raw),
        )
    minor = int(scaled)
    if minor < 0 and not allow_negative:
        raise InvalidValue("amount_negative", gettext_noop("The amount cannot be negative."))
    return minor


def parse_decimal(raw: object, *, max_places: int = 6) -> Decimal:
    """A plain decimal (interest rate, share count): "12.5", "12,5", "12.5%"."""
    if isinstance(raw, bool):
        raise InvalidValue("number_format", gettext_noop("Not a number."))
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    text = ascii_digits(as_text(raw)).replace("%", "").replace(" ", "")
    if not text:
        raise InvalidValue("required", gettext_noop("A value is required."))
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    if not _PLAIN_NUMBER.match(text.lstrip("-")):
        raise InvalidValue("number_format", gettext_noop("Not a number."))
    value = Decimal(text)
    if -value.as_tuple().exponent > max_places:  # type: ignore[operator]
        raise InvalidValue(
            "number_decimals", gettext_noop("At most %(places)s decimal places."), places=max_places
        )
    return value


def parse_integer(raw: object) -> int:
    if isinstance(raw, bool):
        raise InvalidValue("integer_format", gettext_noop("Not a whole number."))
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = ascii_digits(as_text(raw)).replace(",", "").replace(" ", "")
    if not text:
        raise InvalidValue("required", gettext_noop("A value is required."))
    if not re.fullmatch(r"-?\d+", text):
        raise InvalidValue("integer_format", gettext_noop("Not a whole number."))
    return int(text)


# --- Phones, national IDs ------------------------------------------------------------------------


def parse_phone(raw: object, region: str) -> str:
    """E.164, with the cooperative's country as the default region (the members app's own rule)."""
    try:
        return phone_normalise(as_text(raw), region)
    except PhoneInvalid as error:
        raise InvalidValue(
            "phone_invalid", gettext_noop("Not a valid phone number for %(region)s."), region=region
        ) from error


def parse_national_id(raw: object, country: str) -> str:
    try:
        return national_id_normalise(as_text(raw), country)
    except NationalIdInvalid as error:
        raise InvalidValue(
            "national_id_invalid",
            gettext_noop("Not a valid national ID: expected %(expected)s."),
            expected=national_id_rule_text(country),
        ) from error


# --- Yes/no and choices --------------------------------------------------------------------------

_YES = "yes y true t 1 x ✓ হ্যাঁ হাঁ হ্যা হা সত্য có co c đúng dung ใช่ มี จริง ถูก"
_NO = "no n false f 0 না নাই মিথ্যা không khong k sai ไม่ ไม่ใช่ ไม่มี เท็จ ผิด"
_BOOLEANS: dict[str, bool] = {header_key(word): True for word in _YES.split()} | {
    header_key(word): False for word in _NO.split()
}


def parse_bool(raw: object) -> bool:
    """Yes/no in English, Bangla, Vietnamese (with or without marks) and Thai; 1/0; TRUE/FALSE."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    key = header_key(ascii_digits(as_text(raw)))
    if not key:
        raise InvalidValue("required", gettext_noop("A value is required."))
    value = _BOOLEANS.get(key)
    if value is None:
        raise InvalidValue("bool_format", gettext_noop("Write yes or no."))
    return value


def parse_choice(raw: object, choices: Mapping[str, str]) -> str:
    """The canonical value for a cell among ``choices`` ({alias key → value}, keys by header_key)."""
    key = header_key(as_text(raw))
    if not key:
        raise InvalidValue("required", gettext_noop("A value is required."))
    value = choices.get(key)
    if value is None:
        allowed = ", ".join(sorted(set(choices.values())))
        raise InvalidValue("choice_invalid", gettext_noop("Not one of: %(allowed)s."), allowed=allowed)
    return value
