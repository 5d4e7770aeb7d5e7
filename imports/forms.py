"""The upload form: it parses what was chosen; ``imports.services`` checks the files and the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from imports.models import MappingProfile
from imports.services import ImportOptions


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each is checked by the service (type, size), not here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".xlsx,.csv,.zip"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class DateInput(forms.DateInput):
    input_type = "date"


COUNTRIES = [("BD", _("Bangladesh")), ("VN", _("Vietnam")), ("TH", _("Thailand"))]


class ImportUploadForm(forms.Form):
    spreadsheets = MultipleFileField(
        label=_("Files"),
        help_text=_(
            "A workbook with a sheet per kind of record, or CSV files (.xlsx, .csv; at most 50 MB each); "
            "and members' photos and ID scans in a .zip, each named by member number (M0001.jpg, "
            "M0001-id.jpg, M0001-id-back.jpg)."
        ),
    )
    country = forms.ChoiceField(
        choices=COUNTRIES,
        label=_("Country the records come from"),
        help_text=_("How phone numbers and national IDs are checked."),
    )
    date_order = forms.ChoiceField(
        choices=[("DMY", _("Day, month, year (31/12/2025)")), ("MDY", _("Month, day, year (12/31/2025)"))],
        label=_("Dates are written"),
    )
    decimal_separator = forms.ChoiceField(
        choices=[
            ("", _("Tell from each amount")),
            (".", _("A dot (1,00,000.50)")),
            (",", _("A comma (1.000.000,50)")),
        ],
        required=False,
        label=_("Decimal separator"),
    )
    buddhist_era = forms.BooleanField(
        required=False,
        label=_("Years are Buddhist era (B.E. 2568 = 2025)"),
    )
    bijoy = forms.BooleanField(
        required=False,
        label=_("Convert Bangla names typed in Bijoy (SutonnyMJ) to Unicode"),
    )
    cut_over = forms.DateField(
        widget=DateInput,
        required=False,
        label=_("Cut-over date"),
        help_text=_("The date of the opening balances: nothing in the files may be later."),
    )

    profiles = forms.ModelMultipleChoiceField(
        queryset=MappingProfile.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Saved column mappings"),
        help_text=_("For exports of another system: at most one per kind of record."),
    )

    def clean_profiles(self) -> list[MappingProfile]:
        chosen = list(self.cleaned_data.get("profiles") or [])
        entities = [profile.entity for profile in chosen]
        if len(set(entities)) != len(entities):
            raise forms.ValidationError(_("At most one mapping per kind of record."), code="profiles_twice")
        return chosen

    def options(self, language: str) -> ImportOptions:
        data = self.cleaned_data
        return ImportOptions(
            date_order=data["date_order"],
            decimal_separator=data.get("decimal_separator") or "",
            buddhist_era=bool(data.get("buddhist_era")),
            bijoy=bool(data.get("bijoy")),
            cut_over=data.get("cut_over"),
            country=data["country"],
            language=language,
            profiles={profile.entity: profile.pk for profile in data.get("profiles") or []},
        )
