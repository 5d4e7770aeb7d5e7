"""Forms of the calendar pages: they parse what was typed; the services check the rules."""

from __future__ import annotations

from typing import Any

from babel.dates import get_day_names
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from control_plane.errors import BusinessRuleViolation
from core_banking.organisation.models import Branch
from frontend.formatting import babel_locale


class DateInput(forms.DateInput):
    input_type = "date"


def _branch_field(field: forms.Field, branches: QuerySet[Branch]) -> None:
    choice: Any = field
    choice.queryset = branches


class HolidayForm(forms.Form):
    day = forms.DateField(widget=DateInput, label=_("Date"))
    name = forms.CharField(max_length=120, label=_("Name"))
    branch = forms.ModelChoiceField(
        queryset=Branch.objects.none(), required=False, label=_("Branch"), empty_label=_("Every branch")
    )
    every_year = forms.BooleanField(
        required=False,
        label=_("Every year on this day"),
        help_text=_("For holidays on a fixed date, such as 26 March or 1 May."),
    )

    def __init__(self, *args: Any, branches: QuerySet[Branch], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "holiday_%s")  # the page holds two forms with a branch field
        super().__init__(*args, **kwargs)
        _branch_field(self.fields["branch"], branches)


class WeeklyOffDaysForm(forms.Form):
    branch = forms.ModelChoiceField(
        queryset=Branch.objects.none(),
        required=False,
        label=_("For"),
        empty_label=_("The whole cooperative"),
    )
    weekdays = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Weekly off-days"),
        help_text=_("For a branch, tick none to keep the cooperative's days."),
    )

    def __init__(self, *args: Any, branches: QuerySet[Branch], language: str, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "off_days_%s")
        super().__init__(*args, **kwargs)
        _branch_field(self.fields["branch"], branches)
        names = get_day_names("wide", locale=babel_locale(language))
        weekdays: Any = self.fields["weekdays"]
        weekdays.choices = [(number, str(names[number])) for number in range(7)]


def apply_violation(form: forms.Form, violation: BusinessRuleViolation) -> None:
    """The service's field messages onto the form's fields, or onto the form itself."""
    if not violation.fields:
        form.add_error(None, violation.message)
    for field, messages in violation.fields.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
