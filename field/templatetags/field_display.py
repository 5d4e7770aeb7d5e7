"""How the staff pages name a field record's flags (the codes stay in the API and the database)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from field.services import FieldFlag

register = template.Library()

FLAG_LABELS = {
    FieldFlag.DEVICE_CLOCK_SKEW: _("The phone's clock was off"),
    FieldFlag.VALUE_DATE_IN_FUTURE: _("Dated in the future"),
    FieldFlag.VALUE_DATE_FAR_PAST: _("Dated long ago"),
    FieldFlag.VALUE_DATE_BEFORE_LAST_SYNC: _("Dated before the phone's previous upload"),
    FieldFlag.HELD_IN_SUSPENSE: _("Held in suspense"),
    FieldFlag.ATTENDANCE_NOT_IN_GROUP: _("Names someone outside the group"),
}


@register.filter
def flag_label(code: str) -> str:
    """The reader's words for a flag; an unknown code as it is."""
    return str(FLAG_LABELS.get(code, code))
