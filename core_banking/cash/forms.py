"""Staff page forms of cash custody: they parse what was typed; the services check the rules."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core_banking.cash.denominations import MAX_PIECES, Denomination
from core_banking.members.normalise import fold_digits
from core_banking.money import MoneyFormatError, to_minor

VAULT = "vault"


class AmountField(forms.CharField):
    """An amount typed in major units ("1,250.75", also in Bangla or Thai digits), cleaned to minor units."""

    def __init__(self, *, currency: str, **kwargs: Any) -> None:
        self.currency = currency
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int:
        text = fold_digits(str(super().clean(value))).replace(",", "").replace(" ", "")
        try:
            minor = to_minor(text, self.currency)
        except MoneyFormatError as error:
            raise ValidationError(_("Give the amount as a number, e.g. 1250.75.")) from error
        if minor <= 0:
            raise ValidationError(_("The amount must be more than zero."))
        return minor


def new_key() -> str:
    return uuid.uuid4().hex


class HandoverForm(forms.Form):
    """Hand cash over; ``giver`` and ``receiver`` are "vault" or a user id."""

    memo = forms.CharField(label=_("Note"), max_length=200, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(
        self,
        *args: Any,
        currency: str,
        givers: Sequence[tuple[str, str]],
        receivers: Sequence[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["giver"] = forms.ChoiceField(
            label=pgettext_lazy("cash handover", "From"), choices=list(givers)
        )
        self.fields["receiver"] = forms.ChoiceField(
            label=pgettext_lazy("cash handover", "To"), choices=list(receivers)
        )
        self.fields["amount"] = AmountField(currency=currency, label=_("Amount"))
        self.order_fields(["giver", "receiver", "amount", "memo"])


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


def count_field_name(denomination: Denomination) -> str:
    """The form field of a denomination is named as the service names it in its errors."""
    return f"counts.{denomination.key}"


class DayCloseForm(forms.Form):
    """Pieces counted per note and coin of the currency (blank is none), and a note."""

    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, denominations: Sequence[Denomination], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.denominations = list(denominations)
        for denomination in self.denominations:
            self.fields[count_field_name(denomination)] = forms.IntegerField(
                label=denomination.label,
                min_value=0,
                max_value=MAX_PIECES,
                required=False,
                widget=forms.NumberInput(
                    attrs={
                        "min": 0,
                        "step": 1,
                        "inputmode": "numeric",
                        "data-value-minor": denomination.value_minor,
                    }
                ),
            )

    def rows(self) -> list[tuple[Denomination, forms.BoundField]]:
        return [(denomination, self[count_field_name(denomination)]) for denomination in self.denominations]

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for denomination in self.denominations:
            pieces = self.cleaned_data.get(count_field_name(denomination))
            if pieces:
                counted[denomination.key] = int(pieces)
        return counted
