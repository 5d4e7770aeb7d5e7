"""Display helpers of the calendar pages: dates, years and weekdays as the reader's language writes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from babel.dates import get_day_names
from django import template

from frontend.formatting import BUDDHIST_ERA_OFFSET, babel_locale, format_local_date, to_native_digits

register = template.Library()


def _reader(context: Any) -> tuple[str, bool]:
    language = getattr(context.get("request"), "LANGUAGE_CODE", "en")
    cooperative = context.get("cooperative")
    return language, bool(getattr(cooperative, "use_native_digits", False))


@register.simple_tag(takes_context=True)
def local_date(context: Any, value: dt.date | None) -> str:
    """26 মার্চ, 2026 / 26 thg 3, 2026 / 26 มี.ค. 2569, in native digits where the cooperative uses them."""
    if value is None:
        return ""
    language, native = _reader(context)
    return format_local_date(value, language, native_digits=native)


@register.simple_tag(takes_context=True)
def local_year(context: Any, year: int) -> str:
    """A calendar year as the reader counts it: 2026, or 2569 in the Thai (Buddhist) era."""
    language, native = _reader(context)
    shown = str(year + BUDDHIST_ERA_OFFSET if language == "th" else year)
    return to_native_digits(shown, language) if native else shown


@register.simple_tag(takes_context=True)
def weekday_name(context: Any, value: dt.date | int) -> str:
    """The day of the week of a date (or a weekday number, 0 Monday), in the reader's language."""
    language, _native = _reader(context)
    number = value.weekday() if isinstance(value, dt.date) else int(value)
    return str(get_day_names("wide", locale=babel_locale(language))[number])


@register.simple_tag(takes_context=True)
def weekday_names(context: Any, weekdays: Iterable[int]) -> str:
    """Weekday numbers as names in week order: "Friday, Saturday"; empty when there are none."""
    language, _native = _reader(context)
    names = get_day_names("wide", locale=babel_locale(language))
    return ", ".join(str(names[number]) for number in sorted(weekdays))
