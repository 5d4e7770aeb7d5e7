"""Display helpers of the import pages: counts in the reader's language and digits, control labels."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from frontend.formatting import format_count
from imports import selectors

register = template.Library()

CONTROL_LABELS = {
    "savings": _("Members' savings"),
    "savings_interest": _("Interest payable on savings"),
    "loans": _("Loans outstanding"),
    "shares": _("Share capital"),
}


@register.simple_tag(takes_context=True)
def count(context: dict[str, Any], value: int | None) -> str:
    """1,00,000 / 100.000, in native digits where the cooperative uses them."""
    if value is None:
        return ""
    language = getattr(context.get("request"), "LANGUAGE_CODE", "en")
    cooperative = context.get("cooperative")
    return format_count(value, language, native_digits=bool(getattr(cooperative, "use_native_digits", False)))


@register.filter
def entity_title(entity: str) -> str:
    """The template's title of an entity ("savings_accounts" → "Savings accounts"), translated."""
    return selectors.entity_title(entity) if entity else ""


@register.filter
def control_label(control: str) -> str:
    return str(CONTROL_LABELS.get(control, control))
