"""Display helpers of the savings and shares pages: money as the reader's language writes it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from django import template

from core_banking.staff.roles import Capability
from frontend.formatting import (
    babel_locale,
    cooperative_money,
    format_local_date,
    to_native_digits,
)
from tenants.db import NO_CURRENCY

register = template.Library()


def _currency(context: Any) -> str:
    cooperative = context.get("cooperative")
    return str(getattr(cooperative, "currency", "") or NO_CURRENCY)


@register.simple_tag(takes_context=True)
def money(context: Any, minor_units: int | None) -> str:
    """Integer minor units in the cooperative's currency: ৳১,০০,০০০.০০ / 1.500.000 ₫ / ฿1,250.75."""
    if minor_units is None:
        return ""
    language = getattr(context.get("request"), "LANGUAGE_CODE", "en")
    return cooperative_money(minor_units, context.get("cooperative"), language)


@register.simple_tag(takes_context=True)
def staff_can(context: Any, capability: str) -> bool:
    """Whether the signed-in staff user may: ``{% staff_can "post_transactions" as can_post %}``."""
    profile = context.get("staff_profile")
    return bool(profile is not None and profile.can(Capability(capability)))


@register.simple_tag(takes_context=True)
def short_date(context: Any, value: dt.date | None) -> str:
    """A date in a table column on a phone: 24/11/26 in the reader's language and digits."""
    if value is None:
        return ""
    request = context.get("request")
    cooperative = context.get("cooperative")
    return format_local_date(
        value,
        getattr(request, "LANGUAGE_CODE", "en"),
        native_digits=bool(getattr(cooperative, "use_native_digits", False)),
        style="short",
    )


@register.simple_tag(takes_context=True)
def rate(context: Any, value: Decimal | None) -> str:
    """An interest rate without trailing zeros, as the reader writes decimals: 5.5 / 5,5 / ৫.৫."""
    if value is None:
        return ""
    request = context.get("request")
    language = getattr(request, "LANGUAGE_CODE", "en")
    text = format_decimal(value, format="#,##0.####", locale=babel_locale(language))
    cooperative = context.get("cooperative")
    return to_native_digits(text, language) if getattr(cooperative, "use_native_digits", False) else text
