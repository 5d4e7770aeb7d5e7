"""Dates, numbers and money as each language's readers expect them (Babel underneath).

- Thai dates carry the Buddhist-era year (C.E. + 543): 23 พ.ย. 2569, never 2026.
- Bangla (and Thai, where the cooperative chooses it) may use native digits.
- Money is held in integer minor units; it is formatted with the currency's own exponent
  (VND has none), and the locale's grouping (1,00,000.00 in Bangla).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_currency_precision

BUDDHIST_ERA_OFFSET = 543
BABEL_LOCALES = {"en": "en", "bn": "bn_BD", "vi": "vi_VN", "th": "th_TH"}
NATIVE_DIGITS = {"bn": "০১২৩৪৫৬৭৮৯", "th": "๐๑๒๓๔๕๖๗๘๙"}


def babel_locale(language: str) -> str:
    return BABEL_LOCALES.get(language, "en")


def to_native_digits(text: str, language: str) -> str:
    digits = NATIVE_DIGITS.get(language)
    if not digits:
        return text
    return text.translate(str.maketrans("0123456789", digits))


def format_local_date(
    value: dt.date, language: str, *, native_digits: bool = False, style: str = "medium"
) -> str:
    if language == "th":
        # Babel formats the Gregorian calendar only; Thai readers expect the Buddhist era.
        shifted_year = value.year + BUDDHIST_ERA_OFFSET
        text = format_date(value, format=style, locale=babel_locale(language))
        text = text.replace(str(value.year), str(shifted_year))
    else:
        text = format_date(value, format=style, locale=babel_locale(language))
    return to_native_digits(text, language) if native_digits else text


def format_count(value: int, language: str, *, native_digits: bool = False) -> str:
    """A whole number with the language's grouping (1,00,000 in Bangla, 100.000 in Vietnamese)."""
    text = format_decimal(int(value), locale=babel_locale(language))
    return to_native_digits(text, language) if native_digits else text


def format_money(minor_units: int, currency: str, language: str, *, native_digits: bool = False) -> str:
    exponent = get_currency_precision(currency)
    amount = Decimal(minor_units).scaleb(-exponent)
    text = format_currency(
        amount, currency, locale=babel_locale(language), currency_digits=True, decimal_quantization=True
    )
    return to_native_digits(text, language) if native_digits else text


def cooperative_money(minor_units: int, cooperative: Any, language: str) -> str:
    """An amount of ``cooperative``'s money as ``language`` writes it, in its digits where it chose them.

    What the money tags of the staff pages show; ``cooperative`` is the page's (None outside one).
    """
    from tenants.db import NO_CURRENCY

    return format_money(
        int(minor_units),
        str(getattr(cooperative, "currency", "") or NO_CURRENCY),
        language,
        native_digits=bool(getattr(cooperative, "use_native_digits", False)),
    )
