"""Loan terms: the engine's one input, its validation, and its JSON form.

Amounts are integers in the currency's minor unit (paisa, satang; VND has none, so dong); rates are
annual percentages as ``Decimal``. :class:`LoanTerms` checks itself when it is made, and
:func:`terms_from_json` reads the JSON that the command line and the preview API take, listing
every bad field at once in a :class:`TermsError`.

Messages are fixed English sentences (no values filled in) marked with ``gettext_noop``, so the
layer that shows them can look each one up in the translation catalogue as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from babel.numbers import get_currency_precision, is_currency

InterestMethod = Literal["flat", "declining"]
Amortization = Literal["equal_installments", "equal_principal"]
InterestPeriod = Literal["same_as_repayment", "daily"]
DaysInYear = Literal[360, 364, 365, 366, "actual"]
DaysInMonth = Literal[30, "actual"]
Frequency = Literal["weekly", "fortnightly", "monthly", "once"]
Rounding = Literal["half_even", "half_up", "down", "up"]

INTEREST_METHODS: tuple[str, ...] = ("flat", "declining")
AMORTIZATIONS: tuple[str, ...] = ("equal_installments", "equal_principal")
INTEREST_PERIODS: tuple[str, ...] = ("same_as_repayment", "daily")
DAYS_IN_YEAR: tuple[int | str, ...] = (360, 364, 365, 366, "actual")
DAYS_IN_MONTH: tuple[int | str, ...] = (30, "actual")
FREQUENCIES: tuple[str, ...] = ("weekly", "fortnightly", "monthly", "once")
ROUNDINGS: tuple[str, ...] = ("half_even", "half_up", "down", "up")

# Limits that keep every figure sane (and the exact integer arithmetic small).
MAX_PRINCIPAL_MINOR = 10**15
MAX_INSTALLMENTS = 1000
MAX_REPAY_EVERY = 99
MAX_ANNUAL_RATE = Decimal(1000)
RATE_PLACES = 6  # decimal places an annual rate may have (12.345678 %)
MAX_MINIMUM_DAYS_TO_FIRST_MEETING = 366

WEEKDAY_NAMES: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("monday", "mon"),
            ("tuesday", "tue"),
            ("wednesday", "wed"),
            ("thursday", "thu"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        )
    )
    for name in names
}


def gettext_noop(message: str) -> str:
    """Marks a message for the translation catalogue; the caller translates it when shown."""
    return message


REQUIRED = gettext_noop("This setting is required.")
UNKNOWN = gettext_noop("Unknown setting.")
NOT_OBJECT = gettext_noop("The terms must be a JSON object.")
AMOUNT_FORMAT = gettext_noop('Give the amount as a decimal string in major units, e.g. "1250.75".')
NOT_NUMBER = gettext_noop("Not a number.")
MUST_BE_POSITIVE = gettext_noop("Must be greater than zero.")
TOO_LARGE = gettext_noop("The amount is too large.")
TOO_MANY_DECIMALS = gettext_noop("The amount has more decimal places than the currency allows.")
NOT_CURRENCY = gettext_noop("Not an ISO 4217 currency code.")
RATE_RANGE = gettext_noop("The annual rate must be from 0 to 1000 percent.")
RATE_PLACES_MESSAGE = gettext_noop("The annual rate may have at most six decimal places.")
CHOOSE_INTEREST_METHOD = gettext_noop("Choose flat or declining.")
CHOOSE_AMORTIZATION = gettext_noop("Choose equal_installments or equal_principal.")
CHOOSE_INTEREST_PERIOD = gettext_noop("Choose same_as_repayment or daily.")
CHOOSE_DAYS_IN_YEAR = gettext_noop("Choose 360, 364, 365, 366 or actual.")
CHOOSE_DAYS_IN_MONTH = gettext_noop("Choose 30 or actual.")
CHOOSE_FREQUENCY = gettext_noop("Choose weekly, fortnightly, monthly or once.")
CHOOSE_ROUNDING = gettext_noop("Choose half_even, half_up, down or up.")
WHOLE_NUMBER = gettext_noop("Must be a whole number.")
REPAY_EVERY_RANGE = gettext_noop("Must be from 1 to 99.")
INSTALLMENTS_RANGE = gettext_noop("Must be from 1 to 1000.")
NOT_NEGATIVE = gettext_noop("Must be zero or more.")
DATE_FORMAT = gettext_noop("Give a date as YYYY-MM-DD.")
AFTER_DISBURSEMENT = gettext_noop("Must be after the disbursement date.")
GRACE_BELOW_INSTALLMENTS = gettext_noop("Must be less than the number of instalments.")
FREE_WITHIN_INSTALLMENTS = gettext_noop("Must not exceed the number of instalments.")
LIST_EXPECTED = gettext_noop("Give a list.")
WEEKDAY_FORMAT = gettext_noop("Give a weekday as 0 (Monday) to 6 (Sunday) or its English name.")
ALL_DAYS_OFF = gettext_noop("At least one day of the week must be a working day.")
RATE_CHANGE_FORMAT = gettext_noop('Give each rate change as {"effective_from": date, "annual_rate": rate}.')
RATE_CHANGE_TWICE = gettext_noop("Two rate changes take effect on the same date.")
MEETING_FREQUENCY = gettext_noop("Only weekly and fortnightly loans follow a group meeting day.")
MEETING_ON_OFF_DAY = gettext_noop("The meeting day is a weekly off-day.")
NEEDS_MEETING_DAY = gettext_noop("Only used with a meeting day.")
MINIMUM_DAYS_RANGE = gettext_noop("Must be from 0 to 366.")
NOT_MEETING_DAY = gettext_noop("Must fall on the group's meeting day.")
TOO_SOON_FOR_MEETING = gettext_noop("Must be at least the minimum number of days after disbursement.")
ONCE_ONE_INSTALLMENT = gettext_noop("A one-time loan has exactly one instalment.")
THIRTY_DAY_MONTHS_NEED_FIXED_YEAR = gettext_noop(
    "30-day months need a fixed number of days in the year (360, 364, 365 or 366)."
)


class TermsError(ValueError):
    """Bad terms: ``errors`` maps each bad JSON key to its messages (every bad field at once).

    Keys are the JSON names (``principal``, ``installment_multiple``); an item of a list is named
    with its index (``holidays[2]``, ``rate_changes[0].annual_rate``); ``terms`` is the whole.
    """

    def __init__(self, errors: Mapping[str, Iterable[str]]) -> None:
        self.errors: dict[str, list[str]] = {key: list(messages) for key, messages in errors.items()}
        super().__init__(
            "; ".join(f"{key}: {message}" for key, messages in self.errors.items() for message in messages)
        )


@dataclass(frozen=True, slots=True)
class RateChange:
    """From ``effective_from`` on, the annual rate (percent) is ``annual_rate``."""

    effective_from: dt.date
    annual_rate: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanTerms:
    """Everything the engine needs to compute a schedule; see docs/lending-schedule.md."""

    principal_minor: int
    currency: str
    annual_rate: Decimal
    interest_method: InterestMethod
    frequency: Frequency
    installments: int
    disbursement_date: dt.date
    amortization: Amortization = "equal_installments"
    interest_period: InterestPeriod = "same_as_repayment"
    days_in_year: DaysInYear = "actual"
    days_in_month: DaysInMonth = "actual"
    repay_every: int = 1
    first_due_date: dt.date | None = None
    rounding: Rounding = "half_even"
    installment_multiple_minor: int | None = None
    grace_principal: int = 0
    grace_interest_payment: int = 0
    interest_free_periods: int = 0
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    weekly_off_days: frozenset[int] = field(default_factory=frozenset)
    rate_changes: tuple[RateChange, ...] = ()
    meeting_weekday: int | None = None
    minimum_days_to_first_meeting: int = 0

    def __post_init__(self) -> None:
        # Accept any iterable for the collections; keep them immutable and the rate changes in date order.
        if not isinstance(self.holidays, frozenset):
            object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not isinstance(self.weekly_off_days, frozenset):
            object.__setattr__(self, "weekly_off_days", frozenset(self.weekly_off_days))
        changes = tuple(self.rate_changes)
        if all(isinstance(change, RateChange) and _is_date(change.effective_from) for change in changes):
            changes = tuple(sorted(changes, key=lambda change: change.effective_from))
        object.__setattr__(self, "rate_changes", changes)
        problems = _problems({item.name: getattr(self, item.name) for item in fields(self)})
        if problems:
            raise TermsError(problems)

    @property
    def currency_exponent(self) -> int:
        return currency_exponent(self.currency)


@lru_cache(maxsize=512)
def currency_exponent(currency: str) -> int:
    return int(get_currency_precision(currency))


@lru_cache(maxsize=512)
def _known_currency(code: str) -> bool:
    return bool(is_currency(code))


# --- Checks on parsed values (shared by LoanTerms and terms_from_json) -----------------------------

# Attribute name -> JSON key.
_JSON_NAME = {"principal_minor": "principal", "installment_multiple_minor": "installment_multiple"}

Complain = Callable[[str, str], None]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value: object) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _rate_problems(rate: object) -> list[str]:
    if not isinstance(rate, Decimal) or not rate.is_finite():
        return [NOT_NUMBER]
    if not Decimal(0) <= rate <= MAX_ANNUAL_RATE:
        return [RATE_RANGE]
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_PLACES), rounding=ROUND_DOWN):
        return [RATE_PLACES_MESSAGE]
    return []


def _amount_problems(value: object) -> list[str]:
    if value is None:
        return []
    if not _is_int(value):
        return [WHOLE_NUMBER]
    assert isinstance(value, int)
    if value <= 0:
        return [MUST_BE_POSITIVE]
    return [TOO_LARGE] if value > MAX_PRINCIPAL_MINOR else []


def _choice(allowed: tuple[int | str, ...], message: str) -> Callable[[object], list[str]]:
    return lambda value: [message] if isinstance(value, bool) or value not in allowed else []


def _whole(low: int, high: int | None, message: str) -> Callable[[object], list[str]]:
    def check(value: object) -> list[str]:
        if not _is_int(value):
            return [WHOLE_NUMBER]
        assert isinstance(value, int)
        return [message] if value < low or (high is not None and value > high) else []

    return check


def _currency_problems(value: object) -> list[str]:
    ok = isinstance(value, str) and len(value) == 3 and _known_currency(value)
    return [] if ok else [NOT_CURRENCY]


def _date_problems(value: object) -> list[str]:
    return [] if value is None or _is_date(value) else [DATE_FORMAT]


def _weekday_problems(value: object) -> list[str]:
    return [] if value is None or (_is_int(value) and 0 <= value <= 6) else [WEEKDAY_FORMAT]  # type: ignore[operator]


def _off_days_problems(value: object) -> list[str]:
    if not isinstance(value, frozenset | set | list | tuple):
        return [WEEKDAY_FORMAT]
    for day in value:
        if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
            return [WEEKDAY_FORMAT]
    return [ALL_DAYS_OFF] if len(set(value)) == 7 else []


_FIELD_CHECKS: dict[str, Callable[[object], list[str]]] = {
    "principal_minor": _amount_problems,
    "installment_multiple_minor": _amount_problems,
    "currency": _currency_problems,
    "annual_rate": _rate_problems,
    "interest_method": _choice(INTEREST_METHODS, CHOOSE_INTEREST_METHOD),
    "amortization": _choice(AMORTIZATIONS, CHOOSE_AMORTIZATION),
    "interest_period": _choice(INTEREST_PERIODS, CHOOSE_INTEREST_PERIOD),
    "days_in_year": _choice(DAYS_IN_YEAR, CHOOSE_DAYS_IN_YEAR),
    "days_in_month": _choice(DAYS_IN_MONTH, CHOOSE_DAYS_IN_MONTH),
    "frequency": _choice(FREQUENCIES, CHOOSE_FREQUENCY),
    "rounding": _choice(ROUNDINGS, CHOOSE_ROUNDING),
    "repay_every": _whole(1, MAX_REPAY_EVERY, REPAY_EVERY_RANGE),
    "installments": _whole(1, MAX_INSTALLMENTS, INSTALLMENTS_RANGE),
    "grace_principal": _whole(0, None, NOT_NEGATIVE),
    "grace_interest_payment": _whole(0, None, NOT_NEGATIVE),
    "interest_free_periods": _whole(0, None, NOT_NEGATIVE),
    "minimum_days_to_first_meeting": _whole(0, MAX_MINIMUM_DAYS_TO_FIRST_MEETING, MINIMUM_DAYS_RANGE),
    "disbursement_date": _date_problems,
    "first_due_date": _date_problems,
    "meeting_weekday": _weekday_problems,
    "weekly_off_days": _off_days_problems,
}


def _problems(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every problem with the parsed values; a name missing from ``values`` is not checked."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(_JSON_NAME.get(name, name), []).append(message)

    for name, check in _FIELD_CHECKS.items():
        if name in values:
            for message in check(values[name]):
                add(name, message)
    if "holidays" in values:
        for index, day in enumerate(sorted(values["holidays"], key=str)):
            if not _is_date(day):
                add(f"holidays[{index}]", DATE_FORMAT)
    if "rate_changes" in values:
        _rate_change_problems(values["rate_changes"], add)
    # Rules between fields, checked only where every field involved is itself fine.
    fine = {name: value for name, value in values.items() if _JSON_NAME.get(name, name) not in errors}
    for rule in (_grace_rules, _date_rules, _meeting_rules):
        rule(fine, add)
    return errors


def _rate_change_problems(changes: Iterable[object], add: Complain) -> None:
    seen: set[dt.date] = set()
    for index, change in enumerate(changes):
        if not isinstance(change, RateChange):
            add(f"rate_changes[{index}]", RATE_CHANGE_FORMAT)
            continue
        if not _is_date(change.effective_from):
            add(f"rate_changes[{index}].effective_from", DATE_FORMAT)
        elif change.effective_from in seen:
            add(f"rate_changes[{index}].effective_from", RATE_CHANGE_TWICE)
        else:
            seen.add(change.effective_from)
        for message in _rate_problems(change.annual_rate):
            add(f"rate_changes[{index}].annual_rate", message)


def _grace_rules(fine: Mapping[str, Any], add: Complain) -> None:
    if "installments" not in fine:
        return
    installments = fine["installments"]
    for name in ("grace_principal", "grace_interest_payment"):
        if name in fine and fine[name] >= installments:
            add(name, GRACE_BELOW_INSTALLMENTS)
    if "interest_free_periods" in fine and fine["interest_free_periods"] > installments:
        add("interest_free_periods", FREE_WITHIN_INSTALLMENTS)
    if fine.get("frequency") == "once" and installments != 1:
        add("installments", ONCE_ONE_INSTALLMENT)


def _date_rules(fine: Mapping[str, Any], add: Complain) -> None:
    first, disbursed = fine.get("first_due_date"), fine.get("disbursement_date")
    if first is not None and disbursed is not None and first <= disbursed:
        add("first_due_date", AFTER_DISBURSEMENT)
    if fine.get("days_in_month") == 30 and fine.get("days_in_year") == "actual":
        add("days_in_month", THIRTY_DAY_MONTHS_NEED_FIXED_YEAR)


def _meeting_rules(fine: Mapping[str, Any], add: Complain) -> None:
    meeting = fine.get("meeting_weekday")
    if meeting is None:
        if "meeting_weekday" in fine and fine.get("minimum_days_to_first_meeting"):
            add("minimum_days_to_first_meeting", NEEDS_MEETING_DAY)
        return
    if fine.get("frequency") not in (None, "weekly", "fortnightly"):
        add("meeting_weekday", MEETING_FREQUENCY)
    if meeting in fine.get("weekly_off_days", ()):
        add("meeting_weekday", MEETING_ON_OFF_DAY)
    first, disbursed = fine.get("first_due_date"), fine.get("disbursement_date")
    if first is None or disbursed is None or first <= disbursed:
        return
    if first.weekday() != meeting:
        add("first_due_date", NOT_MEETING_DAY)
    elif (first - disbursed).days < fine.get("minimum_days_to_first_meeting", 0):
        add("first_due_date", TOO_SOON_FOR_MEETING)


# --- JSON --------------------------------------------------------------------------------------------


class _Bad(Exception):
    """One field's complaint while parsing (an empty message: already said elsewhere)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _parse_decimal(value: object, *, amounts: bool) -> Decimal:
    wrong = AMOUNT_FORMAT if amounts else NOT_NUMBER
    if isinstance(value, bool):
        raise _Bad(wrong)
    if isinstance(value, float):
        if amounts:  # a binary float cannot carry most decimal amounts exactly
            raise _Bad(AMOUNT_FORMAT)
        value = repr(value)
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation as error:
            raise _Bad(NOT_NUMBER) from error
    else:
        raise _Bad(wrong)
    if not number.is_finite():
        raise _Bad(NOT_NUMBER)
    return number


def _parse_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise _Bad(WHOLE_NUMBER)


def _parse_choice(allowed: tuple[int | str, ...], message: str) -> Callable[[object], Any]:
    def parse(value: object) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or value not in allowed:
            raise _Bad(message)
        return value

    return parse


def _parse_date(value: object) -> dt.date:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as error:
            raise _Bad(DATE_FORMAT) from error
    raise _Bad(DATE_FORMAT)


def _parse_weekday(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in WEEKDAY_NAMES:
            return WEEKDAY_NAMES[text]
        if text.isdigit() and 0 <= int(text) <= 6:
            return int(text)
    raise _Bad(WEEKDAY_FORMAT)


def _parse_list(value: object) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise _Bad(LIST_EXPECTED)
    return list(value)


def _parse_rate(value: object) -> Decimal:
    rate = _parse_decimal(value, amounts=False)
    for message in _rate_problems(rate):
        raise _Bad(message)
    return rate


def _items(key: str, parse_item: Callable[[object], Any]) -> Callable[[object, Complain], Any]:
    """A list whose items are parsed one by one; a bad item is named with its index."""

    def parse(value: object, complain: Complain) -> Any:
        parsed, bad = [], False
        for index, item in enumerate(_parse_list(value)):
            try:
                parsed.append(parse_item(item))
            except _Bad as problem:
                complain(f"{key}[{index}]", problem.message)
                bad = True
        if bad:
            raise _Bad("")
        return parsed

    return parse


def _parse_rate_changes(value: object, complain: Complain) -> tuple[RateChange, ...]:
    changes, bad = [], False
    for index, item in enumerate(_parse_list(value)):
        prefix = f"rate_changes[{index}]"
        if not isinstance(item, Mapping) or set(item) - {"effective_from", "annual_rate"}:
            complain(prefix, RATE_CHANGE_FORMAT)
            bad = True
            continue
        parts: dict[str, Any] = {}
        for key, parser in (("effective_from", _parse_date), ("annual_rate", _parse_rate)):
            try:
                if item.get(key) is None:
                    raise _Bad(REQUIRED)
                parts[key] = parser(item[key])
            except _Bad as problem:
                complain(f"{prefix}.{key}", problem.message)
                bad = True
        if len(parts) == 2:
            changes.append(RateChange(**parts))
    if bad:
        raise _Bad("")
    return tuple(changes)


_REQUIRED = (
    "principal",
    "currency",
    "annual_rate",
    "interest_method",
    "frequency",
    "installments",
    "disbursement_date",
)

# JSON key -> (attribute, parser). Parsers of lists also take the complaint function.
_SIMPLE: dict[str, tuple[str, Callable[[object], Any]]] = {
    "annual_rate": ("annual_rate", lambda value: _parse_decimal(value, amounts=False)),
    "interest_method": ("interest_method", _parse_choice(INTEREST_METHODS, CHOOSE_INTEREST_METHOD)),
    "amortization": ("amortization", _parse_choice(AMORTIZATIONS, CHOOSE_AMORTIZATION)),
    "interest_period": ("interest_period", _parse_choice(INTEREST_PERIODS, CHOOSE_INTEREST_PERIOD)),
    "days_in_year": ("days_in_year", _parse_choice(DAYS_IN_YEAR, CHOOSE_DAYS_IN_YEAR)),
    "days_in_month": ("days_in_month", _parse_choice(DAYS_IN_MONTH, CHOOSE_DAYS_IN_MONTH)),
    "frequency": ("frequency", _parse_choice(FREQUENCIES, CHOOSE_FREQUENCY)),
    "rounding": ("rounding", _parse_choice(ROUNDINGS, CHOOSE_ROUNDING)),
    "repay_every": ("repay_every", _parse_int),
    "installments": ("installments", _parse_int),
    "grace_principal": ("grace_principal", _parse_int),
    "grace_interest_payment": ("grace_interest_payment", _parse_int),
    "interest_free_periods": ("interest_free_periods", _parse_int),
    "minimum_days_to_first_meeting": ("minimum_days_to_first_meeting", _parse_int),
    "disbursement_date": ("disbursement_date", _parse_date),
    "first_due_date": ("first_due_date", _parse_date),
    "meeting_weekday": ("meeting_weekday", _parse_weekday),
}
_LISTS: dict[str, tuple[str, Callable[[object, Complain], Any]]] = {
    "holidays": (
        "holidays",
        lambda value, complain: frozenset(_items("holidays", _parse_date)(value, complain)),
    ),
    "weekly_off_days": (
        "weekly_off_days",
        lambda value, complain: frozenset(_items("weekly_off_days", _parse_weekday)(value, complain)),
    ),
    "rate_changes": ("rate_changes", _parse_rate_changes),
}
_AMOUNTS = {"principal": "principal_minor", "installment_multiple": "installment_multiple_minor"}
_KEYS = frozenset(_SIMPLE) | frozenset(_LISTS) | frozenset(_AMOUNTS) | {"currency"}


def terms_from_json(data: Mapping[str, Any]) -> LoanTerms:
    """Read terms from their JSON form (see docs/lending-schedule.md); every bad field is reported."""
    if not isinstance(data, Mapping):
        raise TermsError({"terms": [NOT_OBJECT]})
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}

    def complain(key: str, message: str) -> None:
        if message:
            errors.setdefault(key, []).append(message)

    for key in data:
        if key not in _KEYS:
            complain(str(key), UNKNOWN)
    for key in _REQUIRED:
        if data.get(key) is None:
            complain(key, REQUIRED)
    currency = _json_currency(data.get("currency"), complain)
    if currency is not None:
        values["currency"] = currency
    parsers: list[tuple[str, str, Callable[[object, Complain], Any]]] = [
        (key, attribute, lambda value, _complain: _json_minor(value, currency))
        for key, attribute in _AMOUNTS.items()
    ]
    parsers += [(key, attribute, _ignore_complain(parse)) for key, (attribute, parse) in _SIMPLE.items()]
    parsers += [(key, attribute, parse) for key, (attribute, parse) in _LISTS.items()]
    for key, attribute, parse in parsers:
        if data.get(key) is not None:
            try:
                values[attribute] = parse(data[key], complain)
            except _Bad as problem:
                complain(key, problem.message)

    for key, messages in _problems(values).items():
        errors.setdefault(key, messages)
    if errors:
        raise TermsError(errors)
    return LoanTerms(**values)


def _ignore_complain(parse: Callable[[object], Any]) -> Callable[[object, Complain], Any]:
    return lambda value, _complain: parse(value)


def _json_currency(code: object, complain: Complain) -> str | None:
    if code is None:
        return None
    if isinstance(code, str) and len(code.strip()) == 3 and _known_currency(code.strip().upper()):
        return code.strip().upper()
    complain("currency", NOT_CURRENCY)
    return None


def _json_minor(value: object, currency: str | None) -> int:
    number = _parse_decimal(value, amounts=True)
    if number <= 0:
        raise _Bad(MUST_BE_POSITIVE)
    if currency is None:  # the currency is wrong (said already): the amount cannot be judged further
        raise _Bad("")
    scaled = number.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise _Bad(TOO_MANY_DECIMALS)
    if scaled > MAX_PRINCIPAL_MINOR:
        raise _Bad(TOO_LARGE)
    return int(scaled)
