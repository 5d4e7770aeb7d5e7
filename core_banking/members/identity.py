"""National ID numbers and phone numbers, checked per country. Plain Python: no Django.

- Bangladesh: the NID has 10 digits (smart card), 13 digits (older laminated card) or 17 digits
  (the 13 with the birth year in front).
- Vietnam: the citizen identity card (CCCD) has 12 digits; the older identity card (CMND) 9.
- Thailand: 13 digits, the last a check digit: (11 - Σ dᵢ·(13 - i) mod 11) mod 10 over the first 12.
- Anywhere else: 5 to 30 letters and digits.

Digits typed in Bangla or Thai are accepted and kept as Latin digits. Phones are parsed with
the cooperative's country as the default region and kept in E.164.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import phonenumbers

from core_banking.members.normalise import fold_digits

_SEPARATORS = re.compile(r"[\s\-./]+")
_DIGITS = re.compile(r"^[0-9]+$")
_LETTERS_AND_DIGITS = re.compile(r"^[A-Z0-9]{5,30}$")


class IdProblem(enum.StrEnum):
    NOT_DIGITS = "not_digits"
    WRONG_LENGTH = "wrong_length"
    CHECK_DIGIT = "check_digit"
    FORMAT = "format"


@dataclass(frozen=True)
class NationalIdRule:
    """What a country's national ID looks like, for messages and form hints."""

    digits_only: bool
    lengths: tuple[int, ...]
    description: str


NATIONAL_ID_RULES: dict[str, NationalIdRule] = {
    "BD": NationalIdRule(True, (10, 13, 17), "10, 13 or 17 digits"),
    "VN": NationalIdRule(True, (12, 9), "12 digits (CCCD) or 9 digits (old CMND)"),
    "TH": NationalIdRule(True, (13,), "13 digits with a valid check digit"),
}
OTHER_COUNTRIES_DESCRIPTION = "5 to 30 letters and digits"


class NationalIdInvalid(ValueError):
    def __init__(self, problem: IdProblem, expected: str) -> None:
        super().__init__(f"{problem}: expected {expected}")
        self.problem = problem
        self.expected = expected


def thai_check_digit(first_twelve: str) -> int:
    total = sum(int(digit) * (13 - position) for position, digit in enumerate(first_twelve))
    return (11 - total % 11) % 10


def national_id_rule_text(country: str) -> str:
    rule = NATIONAL_ID_RULES.get(country.upper())
    return rule.description if rule else OTHER_COUNTRIES_DESCRIPTION


def national_id_normalise(raw: str, country: str) -> str:
    """The ID as stored: native digits folded, spaces and hyphens dropped, letters upper-cased.

    Raises ``NationalIdInvalid`` when it cannot be this country's ID. An empty input stays empty.
    """
    value = _SEPARATORS.sub("", fold_digits(raw)).upper()
    if not value:
        return ""
    rule = NATIONAL_ID_RULES.get(country.upper())
    if rule is None:
        if not _LETTERS_AND_DIGITS.match(value) or not value.isascii():
            raise NationalIdInvalid(IdProblem.FORMAT, OTHER_COUNTRIES_DESCRIPTION)
        return value
    if not _DIGITS.match(value):
        raise NationalIdInvalid(IdProblem.NOT_DIGITS, rule.description)
    if len(value) not in rule.lengths:
        raise NationalIdInvalid(IdProblem.WRONG_LENGTH, rule.description)
    if country.upper() == "TH" and thai_check_digit(value[:12]) != int(value[12]):
        raise NationalIdInvalid(IdProblem.CHECK_DIGIT, rule.description)
    return value


class PhoneInvalid(ValueError):
    pass


def phone_normalise(raw: str, region: str) -> str:
    """E.164 (+8801711000000) from what was typed, with ``region`` as the default country."""
    value = fold_digits(raw).strip()
    if not value:
        return ""
    default_region = region.upper() if region.upper() in phonenumbers.SUPPORTED_REGIONS else None
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneInvalid(str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise PhoneInvalid("not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_forms(e164: str) -> tuple[str, ...]:
    """The digit strings a person may type for a stored number: international and national form."""
    if not e164:
        return ()
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return (e164.lstrip("+"),)
    national = re.sub(r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    international = e164.lstrip("+")
    return (international, national) if national and national not in international else (international,)


def phone_guess(raw: str, region: str) -> str | None:
    """E.164 when the text could be a phone number, else None (used by search, never raises)."""
    try:
        return phone_normalise(raw, region) or None
    except PhoneInvalid:
        return None
