"""The console's forms: they parse and check input; services do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from billing.models import ChargeKind, Plan
from tenants.models import Lifecycle


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        min_length=6,
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self) -> str:
        token = "".join(str(self.cleaned_data["token"]).split())
        if not token.isdigit():
            raise forms.ValidationError(_("The code is made of digits only."))
        return token


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, subdomain or registration number")}
        ),
    )
    lifecycle = forms.ChoiceField(label=_("State"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lifecycle = self.fields["lifecycle"]
        assert isinstance(lifecycle, forms.ChoiceField)
        lifecycle.choices = [
            ("", _("All states")),
            *[(value, label) for value, label in Lifecycle.choices if value != Lifecycle.TEMPLATE],
        ]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Kept in the audit trail with your name, e.g. a ticket number and a few words."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SuspendForm(ReasonForm):
    confirm_slug = forms.CharField(
        label=_("Type the subdomain to confirm"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )

    def __init__(self, *args: Any, slug: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slug = slug
        self.fields["confirm_slug"].help_text = _("Type %(slug)s to confirm.") % {"slug": slug}

    def clean_confirm_slug(self) -> str:
        typed = str(self.cleaned_data["confirm_slug"]).strip().lower()
        if typed != self.slug:
            raise forms.ValidationError(_("This is not the cooperative's subdomain."))
        return typed


class ProvisionForm(forms.Form):
    name = forms.CharField(label=_("Cooperative name"), max_length=200)
    slug = forms.CharField(
        label=_("Subdomain"),
        max_length=40,
        help_text=_("3-40 lowercase letters, digits and hyphens; the workspace's address."),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "autocomplete": "off"}),
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        help_text=_("Two-letter code: BD, VN, TH. Currency, language and time zone follow from it."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 2}),
    )
    registration_number = forms.CharField(label=_("Registration number"), max_length=80, required=False)
    currency = forms.CharField(label=_("Currency (optional)"), max_length=3, required=False)
    default_language = forms.ChoiceField(label=_("Default language (optional)"), required=False)
    time_zone = forms.CharField(label=_("Time zone (optional)"), max_length=64, required=False)
    lifecycle = forms.ChoiceField(
        label=_("Starts as"),
        choices=[
            (Lifecycle.TRIAL.value, Lifecycle.TRIAL.label),
            (Lifecycle.ACTIVE.value, Lifecycle.ACTIVE.label),
        ],
        initial=Lifecycle.TRIAL.value,
    )
    admin_username = forms.CharField(
        label=_("Administrator's user name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocapitalize": "none", "autocomplete": "off"}),
    )
    admin_email = forms.EmailField(
        label=_("Administrator's e-mail"),
        help_text=_("The administrator sets a password through 'Forgotten your password?' on the workspace."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Kept in the audit trail with your name, e.g. a ticket number and a few words."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = self.fields["default_language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [("", _("From the country")), *settings.LANGUAGES]


class ConfirmForm(ReasonForm):
    """A reason, and a word the operator types to confirm (a subdomain, a schema name)."""

    confirm = forms.CharField(
        label=_("Type it to confirm"),
        max_length=63,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )

    def __init__(self, *args: Any, expected: str, label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.fields["confirm"].label = label
        self.fields["confirm"].help_text = _("Type %(word)s to confirm.") % {"word": expected}

    def clean_confirm(self) -> str:
        typed = str(self.cleaned_data["confirm"]).strip()
        if typed != self.expected:
            raise forms.ValidationError(_("This is not what was asked for."))
        return typed


class PlanChoiceField(forms.ModelChoiceField):
    current: Plan | None = None

    def label_from_instance(self, obj: Plan) -> str:
        label = f"{obj.display_name()} ({obj.code})"
        if self.current is not None and obj.pk == self.current.pk:
            label += " · " + str(_("current plan"))
        return label


class PlanChangeForm(ReasonForm):
    plan = PlanChoiceField(label=_("New plan"), queryset=Plan.objects.none(), empty_label=None)

    field_order = ["plan", "reason"]

    def __init__(self, *args: Any, plans: list[Plan], current: Plan | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plan = self.fields["plan"]
        assert isinstance(plan, PlanChoiceField)
        plan.queryset = Plan.objects.filter(pk__in=[choice.pk for choice in plans]).order_by(
            "sort_order", "id"
        )
        plan.current = current
        if current is not None:
            self.initial.setdefault("plan", current.pk)


class ChargeForm(ReasonForm):
    amount = forms.CharField(
        label=_("Amount"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ChargeKind.choices)
    description = forms.CharField(
        label=_("Description on the invoice"),
        max_length=200,
        help_text=_("The cooperative reads this on its next invoice."),
    )

    field_order = ["amount", "kind", "description", "reason"]

    def __init__(self, *args: Any, currency: str, decimals: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].label = _("Amount in %(currency)s") % {"currency": currency}
        self.fields["amount"].help_text = (
            _("Whole %(currency)s only: it has no decimal places.") % {"currency": currency}
            if decimals == 0
            else _("At most %(decimals)s decimal places, e.g. 2500.50.") % {"decimals": decimals}
        )
