"""Display helpers of the accounting pages: amounts as the reader's language writes them."""

from __future__ import annotations

from typing import Any

from django import template

from frontend.formatting import cooperative_money

register = template.Library()


@register.simple_tag(takes_context=True)
def amount(context: Any, minor_units: int | None, blank_zero: bool = False) -> str:
    """Minor units in the cooperative's currency and the reader's language; "" for none (or zero if asked)."""
    if minor_units is None or (blank_zero and not minor_units):
        return ""
    language = getattr(context.get("request"), "LANGUAGE_CODE", "en")
    return cooperative_money(minor_units, context.get("cooperative"), language)
