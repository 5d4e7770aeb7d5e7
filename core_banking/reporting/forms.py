"""The report page's form: the report's dates (or account) and the branch set."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core_banking.ledger.models import Account
from core_banking.reporting.access import branches_choosable
from core_banking.reporting.registry import PARAMETER_LABELS, Parameter, ReportSpec
from core_banking.staff.models import StaffProfile

ALL_BRANCHES = "all"


class BranchChoiceField(forms.MultipleChoiceField):
    """The offered branches are the person's own; any id is accepted here so that a branch outside
    them is refused by ``branch_set_resolve`` with its own message, not as a malformed choice."""

    def valid_value(self, value: Any) -> bool:
        return str(value) == ALL_BRANCHES or str(value).isdigit()


class ReportForm(forms.Form):
    def __init__(self, *args: Any, spec: ReportSpec[Any], profile: StaffProfile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for parameter in spec.parameters:
            label = PARAMETER_LABELS[parameter]
            required = spec.required(parameter)
            if parameter == Parameter.ACCOUNT:
                accounts = Account.objects.order_by("code").values_list("code", "name")
                self.fields[parameter.value] = forms.ChoiceField(
                    label=label,
                    required=required,
                    choices=[("", "—"), *((code, f"{code} {name}") for code, name in accounts)],
                )
            elif parameter in (Parameter.MEMBER, Parameter.GROUP):
                self.fields[parameter.value] = forms.CharField(label=label, required=required, max_length=40)
            else:
                self.fields[parameter.value] = forms.DateField(
                    label=label,
                    required=required,
                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                )
        choices = [(str(branch.pk), f"{branch.code} {branch.name}") for branch in branches_choosable(profile)]
        if profile.visible_branch_ids() is None:
            choices.insert(0, (ALL_BRANCHES, str(_("All branches (consolidated)"))))
        self.fields["branch"] = BranchChoiceField(
            label=_("Branches"), choices=choices, widget=forms.CheckboxSelectMultiple
        )

    def branch_ids(self) -> list[int] | None:
        """The chosen branch ids; None for all branches, consolidated."""
        chosen = self.cleaned_data["branch"]
        if ALL_BRANCHES in chosen:
            return None
        return sorted({int(value) for value in chosen})


def initial_values(spec: ReportSpec[Any], profile: StaffProfile, today: dt.date) -> dict[str, Any]:
    """What the form starts with: today, this month, and every branch the person sees."""
    month_start = today.replace(day=1)
    values: dict[str, Any] = {
        Parameter.AS_OF.value: today,
        Parameter.END.value: today,
        Parameter.DAY.value: today,
        Parameter.START.value: month_start,
    }
    initial = {key: value for key, value in values.items() if Parameter(key) in spec.parameters}
    visible = profile.visible_branch_ids()
    initial["branch"] = [ALL_BRANCHES] if visible is None else [str(branch_id) for branch_id in visible]
    return initial
