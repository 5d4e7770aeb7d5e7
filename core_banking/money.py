"""Money at the edges: decimal strings in major units in, integer minor units inside.

The currency's exponent (VND 0, BDT 2, THB 2, any ISO 4217 currency) decides how many decimals
an amount may have; an amount with more is refused, never rounded silently.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision


class MoneyFormatError(ValueError):
    pass


def to_minor(amount: str | int | Decimal, currency: str) -> int:
    """'1250.75' BDT → 125075; '1500000' VND → 1500000; '1.5' VND is refused."""
    exponent = get_currency_precision(currency)
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation as error:
        raise MoneyFormatError("Not a number.") from error
    if not value.is_finite():
        raise MoneyFormatError("Not a number.")
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise MoneyFormatError(f"{currency} has {exponent} decimal places; this amount has more.")
    return int(scaled)


def from_minor(minor_units: int, currency: str) -> str:
    """125075 BDT → '1250.75'; 1500000 VND → '1500000' (a plain decimal string, no grouping)."""
    exponent = get_currency_precision(currency)
    return f"{Decimal(minor_units).scaleb(-exponent):.{exponent}f}"
