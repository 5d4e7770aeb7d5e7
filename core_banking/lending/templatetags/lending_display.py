"""Display helpers of the lending pages and documents.

The pages format money and dates for the reader (the savings and members tags); a document is
formatted for its own language, which may differ from the page's: its template passes the
document's ``Presentation`` (``core_banking.reporting.outputs``) to ``doc_money`` and ``doc_date``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from django import template

from frontend.formatting import babel_locale, to_native_digits

register = template.Library()


@register.filter
def doc_money(minor_units: int | None, presentation: Any) -> str:
    """Minor units in the document's language and the cooperative's currency."""
    if minor_units is None:
        return ""
    return str(presentation.money(int(minor_units)))


@register.filter
def doc_date(value: dt.date | None, presentation: Any) -> str:
    if value is None:
        return ""
    return str(presentation.date(value))


@register.filter
def doc_number(value: int | Decimal | None, presentation: Any) -> str:
    """A count or a rate without trailing zeros, in the document's digits: 12, 5.5, ১২."""
    if value is None or value == "":
        return ""
    text = format_decimal(value, format="#,##0.####", locale=babel_locale(presentation.language))
    return to_native_digits(text, presentation.language) if presentation.native_digits else text


@register.simple_tag(takes_context=True)
def number(context: Any, value: int | None) -> str:
    """A count (instalments, days) in the reader's digits where the cooperative uses native ones."""
    if value is None:
        return ""
    language = getattr(context.get("request"), "LANGUAGE_CODE", "en")
    cooperative = context.get("cooperative")
    text = str(value)
    return to_native_digits(text, language) if getattr(cooperative, "use_native_digits", False) else text


@register.filter
def get_item(mapping: dict[Any, Any] | None, key: Any) -> Any:
    """``mapping[key]`` in a template (None when absent)."""
    return (mapping or {}).get(key)


@register.simple_tag
def member_lending(member: Any) -> Any:
    """The member's loans, applications, guarantees and interest years (the member page's section)."""
    from core_banking.lending.page_selectors import member_lending as read

    return read(member)


@register.simple_tag(takes_context=True)
def moment(context: Any, value: dt.datetime | str | None) -> str:
    """A moment on the cooperative's clock, as the reader writes dates (Thai: Buddhist era) and times."""
    if value is None or value == "":
        return ""
    from core_banking.reporting.outputs import Presentation

    cooperative = context.get("cooperative")
    if cooperative is None:
        return str(value)
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    language = getattr(context.get("request"), "LANGUAGE_CODE", "en")
    return str(Presentation.for_cooperative(cooperative, language).moment(when))
