"""Staff page forms of share capital: they parse what was typed; the services check the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core_banking.savings.forms import AmountField, IdempotentForm, MoneyForm

# A member holds far fewer; anything near BIGINT is a typing mistake.
LARGEST_SHARE_COUNT = 10**12


class PurchaseForm(IdempotentForm):
    shares = forms.IntegerField(min_value=1, max_value=LARGEST_SHARE_COUNT, label=_("Number of shares"))
    memo = forms.CharField(max_length=200, required=False, label=_("Note"))


class ShareSettingsForm(MoneyForm):
    nominal_value = AmountField(label=_("Value of one share"))
    minimum_shares = forms.IntegerField(
        min_value=0,
        max_value=LARGEST_SHARE_COUNT,
        label=_("Minimum shares per member"),
        help_text=_("A member's holding must reach at least this many shares."),
    )
    maximum_shares = forms.IntegerField(
        min_value=1,
        max_value=LARGEST_SHARE_COUNT,
        required=False,
        label=_("Maximum shares per member"),
        help_text=_("Empty means no limit."),
    )
