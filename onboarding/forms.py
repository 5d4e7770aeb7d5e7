"""The sign-up form: field checks with messages in the reader's language; the service checks again."""

from __future__ import annotations

from typing import Any

from babel import Locale
from babel.numbers import get_currency_name
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    get_default_password_validators,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from control_plane.errors import ErrorCode
from frontend.formatting import babel_locale
from onboarding.selectors import slug_problem
from onboarding.services import SignUpRequest, admin_username

# The countries we serve first; every other country follows in the reader's alphabet.
FIRST_COUNTRIES = ("BD", "VN", "TH")
NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO"})
CURRENCIES = (
    "BDT",
    "VND",
    "THB",
    "USD",
    "INR",
    "NPR",
    "LKR",
    "MMK",
    "KHR",
    "LAK",
    "PHP",
    "IDR",
    "MYR",
    "EUR",
)

SLUG_MESSAGES = {
    ErrorCode.SLUG_INVALID: _(
        "Use 3 to 40 characters: lowercase letters, digits and hyphens, starting with a letter."
    ),
    ErrorCode.SLUG_RESERVED: _("This subdomain is reserved. Please choose another."),
    ErrorCode.SLUG_TAKEN: _("This subdomain is already taken. Please choose another."),
}
FIELD_MESSAGES = {
    ErrorCode.COUNTRY_UNKNOWN: ("country", _("Choose a country from the list.")),
    ErrorCode.CURRENCY_UNKNOWN: ("currency", _("Choose a currency from the list.")),
    ErrorCode.LANGUAGE_UNSUPPORTED: ("default_language", _("Choose a language from the list.")),
    ErrorCode.PLAN_PRICE_MISSING: ("plan", _("This plan cannot be bought in this currency.")),
}


def _language() -> str:
    return (get_language() or "en").split("-")[0]


def country_choices() -> list[tuple[str, str]]:
    names = {
        str(code): str(name) for code, name in Locale.parse(babel_locale(_language())).territories.items()
    }
    codes = [code for code in names if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES]
    first = [(code, names[code]) for code in FIRST_COUNTRIES]
    rest = sorted(((code, names[code]) for code in codes if code not in FIRST_COUNTRIES), key=lambda c: c[1])
    return [*first, *rest]


def currency_choices() -> list[tuple[str, str]]:
    locale = babel_locale(_language())
    return [("", str(_("The country's own currency")))] + [
        (code, f"{get_currency_name(code, locale=locale)} ({code})") for code in CURRENCIES
    ]


def language_choices() -> list[tuple[str, str]]:
    return [("", str(_("The country's language")))] + [(code, str(name)) for code, name in settings.LANGUAGES]


def _minimum_password_length() -> int:
    for validator in get_default_password_validators():
        if isinstance(validator, MinimumLengthValidator):
            return int(validator.min_length)
    return 0


def _password_help() -> str:
    return gettext(
        "At least %(min_length)s characters; not only digits, not a common password, "
        "and not like your name or e-mail address."
    ) % {"min_length": _minimum_password_length()}


# Django's own wording of these is not translated into every language we serve: ours is.
PASSWORD_MESSAGES = {
    "password_too_short": lambda: (
        gettext("This password is too short: use at least %(min_length)s characters.")
        % {"min_length": _minimum_password_length()}
    ),
    "password_too_similar": lambda: gettext("This password is too like your name or e-mail address."),
    "password_too_common": lambda: gettext(
        "This password is too common: choose one that is harder to guess."
    ),
    "password_entirely_numeric": lambda: gettext("This password is only digits: add letters."),
}


def password_errors(exc: ValidationError) -> list[str]:
    messages = []
    for error in exc.error_list:
        ours = PASSWORD_MESSAGES.get(str(error.code or ""))
        messages.append(ours() if ours else " ".join(error.messages))
    return messages


class SignUpForm(forms.Form):
    plan = forms.ChoiceField(label=_("Plan"), widget=forms.RadioSelect)
    name = forms.CharField(label=_("Cooperative's name"), max_length=200)
    registration_number = forms.CharField(label=_("Registration number"), max_length=80, required=False)
    country = forms.ChoiceField(label=_("Country"))
    currency = forms.ChoiceField(label=_("Currency of the books"), required=False)
    default_language = forms.ChoiceField(label=_("Default language"), required=False)
    slug = forms.CharField(
        label=_("Subdomain"),
        max_length=40,
        help_text=_("Your workspace's address. Lowercase letters, digits and hyphens."),
    )
    admin_name = forms.CharField(label=_("Your name"), max_length=150)
    admin_email = forms.EmailField(
        label=_("E-mail address"), help_text=_("You sign in to your workspace with this address.")
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=lazy(_password_help, str)(),
    )
    password_again = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(render_value=False)
    )

    def __init__(self, *args: Any, plans: list[tuple[str, str]], **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = plans  # type: ignore[attr-defined]
        self.fields["country"].choices = country_choices()  # type: ignore[attr-defined]
        self.fields["currency"].choices = currency_choices()  # type: ignore[attr-defined]
        self.fields["default_language"].choices = language_choices()  # type: ignore[attr-defined]
        self.fields["slug"].widget.attrs.update(
            {
                "autocapitalize": "none",
                "autocomplete": "off",
                "spellcheck": "false",
                # Checked as it is typed: reserved names and subdomains already taken.
                "hx-get": reverse("signup_slug_check", urlconf=settings.PUBLIC_SCHEMA_URLCONF),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#slug-status",
            }
        )
        self.fields["admin_email"].widget.attrs["autocomplete"] = "email"
        self.fields["password"].widget.attrs["autocomplete"] = "new-password"
        self.fields["password_again"].widget.attrs["autocomplete"] = "new-password"

    def clean_slug(self) -> str:
        slug = str(self.cleaned_data["slug"]).strip().lower()
        problem = slug_problem(slug)
        if problem is not None:
            raise ValidationError(SLUG_MESSAGES[problem], code=str(problem))
        return slug

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password and cleaned.get("password_again") != password:
            self.add_error("password_again", _("The two passwords differ."))
        elif password:
            email = str(cleaned.get("admin_email") or "")
            candidate = get_user_model()(
                username=admin_username(email), email=email, first_name=cleaned.get("admin_name", "")
            )
            try:
                validate_password(password, candidate)
            except ValidationError as exc:
                for message in password_errors(exc):
                    self.add_error("password", message)
        return cleaned

    def to_request(self, *, language: str) -> SignUpRequest:
        data = self.cleaned_data
        return SignUpRequest(
            plan_code=data["plan"],
            name=data["name"],
            registration_number=data.get("registration_number", ""),
            country=data["country"],
            currency=data.get("currency", ""),
            default_language=data.get("default_language", ""),
            slug=data["slug"],
            admin_name=data["admin_name"],
            admin_email=data["admin_email"],
            password=data["password"],
            language=language,
        )

    def add_service_errors(self, fields: dict[str, list[str]], code: ErrorCode) -> None:
        """The service's refusal (a race the form could not see) on the fields it names, translated."""
        if code in SLUG_MESSAGES:
            self.add_error("slug", SLUG_MESSAGES[code])
            return
        if code in FIELD_MESSAGES:
            field, message = FIELD_MESSAGES[code]
            self.add_error(field, message)
            return
        for field in fields:
            if field in self.fields and field not in self.errors:
                self.add_error(field, _("Please check this field."))
        if not self.errors:
            self.add_error(None, _("The sign-up could not be accepted. Please check the form."))
