"""Display helpers of the members pages: dates as the reader's language writes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from frontend.formatting import format_local_date

register = template.Library()


@register.simple_tag(takes_context=True)
def local_date(context: dict[str, Any], value: dt.date | None) -> str:
    """23 নভে, 2026 / 23 thg 11, 2026 / 23 พ.ย. 2569, with native digits where the cooperative uses them."""
    if value is None:
        return ""
    request = context.get("request")
    language = getattr(request, "LANGUAGE_CODE", "en")
    cooperative = context.get("cooperative")
    return format_local_date(
        value, language, native_digits=bool(getattr(cooperative, "use_native_digits", False))
    )
