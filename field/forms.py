"""Forms of the field collection staff pages: they parse what was typed; the services check the rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core_banking.cash.forms import AmountField
from core_banking.members.models import MemberGroup, MemberType
from field.models import ReviewOutcome

SUSPENSE_OUTCOMES = (
    ReviewOutcome.APPLIED_TO_LOAN,
    ReviewOutcome.DEPOSITED_TO_SAVINGS,
    ReviewOutcome.REFUNDED,
)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class MarkReviewedForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"), max_length=300, help_text=_("Required: it goes into the audit trail.")
    )


class ResolveSuspenseForm(forms.Form):
    """Where money held in suspense goes: a loan or savings account of the member, or back in cash."""

    outcome = forms.ChoiceField(
        label=_("Move the money"),
        choices=[(outcome.value, outcome.label) for outcome in SUSPENSE_OUTCOMES],
        widget=forms.RadioSelect,
    )
    loan = forms.TypedChoiceField(label=_("Loan"), coerce=int, required=False, empty_value=None)
    savings_account = forms.TypedChoiceField(
        label=_("Savings account"), coerce=int, required=False, empty_value=None
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(
        self,
        *args: Any,
        loans: Sequence[tuple[int, str]],
        accounts: Sequence[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, choices in (("loan", loans), ("savings_account", accounts)):
            choice_field = self.fields[name]
            assert isinstance(choice_field, forms.ChoiceField)
            choice_field.choices = [("", "—"), *choices]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        outcome = data.get("outcome")
        if outcome == ReviewOutcome.APPLIED_TO_LOAN and not data.get("loan"):
            self.add_error("loan", _("Choose the loan."))
        if outcome == ReviewOutcome.DEPOSITED_TO_SAVINGS and not data.get("savings_account"):
            self.add_error("savings_account", _("Choose the savings account."))
        return data


class AdmissionApproveForm(forms.Form):
    member_type = forms.ModelChoiceField(queryset=MemberType.objects.all(), label=_("Member type"))
    group = forms.ModelChoiceField(queryset=MemberGroup.objects.none(), label=_("Group"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, groups: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group_field = self.fields["group"]
        assert isinstance(group_field, forms.ModelChoiceField)
        group_field.queryset = groups


class HandoverForm(forms.Form):
    """The collector hands the counted cash of a day to the branch's vault."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, currency: str, branches: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"] = forms.TypedChoiceField(label=_("Branch"), coerce=int, choices=list(branches))
        self.fields["amount"] = AmountField(currency=currency, label=_("Cash counted"))
        self.order_fields(["branch", "amount"])
