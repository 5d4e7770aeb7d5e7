"""Display helpers of the cash pages: money in the reader's language and the cooperative's currency."""

from __future__ import annotations

from typing import Any

from django import template

from frontend.formatting import babel_locale, cooperative_money
from tenants.db import NO_CURRENCY

register = template.Library()


def _reader(context: dict[str, Any]) -> tuple[str, str, bool]:
    request = context.get("request")
    language = getattr(request, "LANGUAGE_CODE", "en")
    cooperative = context.get("cooperative")
    currency = str(getattr(cooperative, "currency", "") or NO_CURRENCY)
    return language, currency, bool(getattr(cooperative, "use_native_digits", False))


@register.simple_tag(takes_context=True)
def money(context: dict[str, Any], minor_units: int | None) -> str:
    """৳1,00,000.00 / 1.500.000 ₫ / ฿20.75, with native digits where the cooperative uses them."""
    if minor_units is None:
        return ""
    language = getattr(context.get("request"), "LANGUAGE_CODE", "en")
    return cooperative_money(minor_units, context.get("cooperative"), language)


@register.simple_tag(takes_context=True)
def money_locale(context: dict[str, Any]) -> str:
    """The BCP 47 locale the page's script formats live totals in (the same digits as ``money``)."""
    language, _currency, native = _reader(context)
    numbering = {"bn": "beng", "th": "thai"}.get(language) if native else None
    return babel_locale(language).replace("_", "-") + f"-u-nu-{numbering or 'latn'}"
