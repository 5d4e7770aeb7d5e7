"""Staff page forms of savings: they parse what was typed; the services check the rules.

Amounts are typed in major units as the reader's language writes them (1,250.75; ১,২৫০.৭৫;
1.500.000 in Vietnamese) and parsed exactly to integer minor units with ``core_banking.money``:
an amount with more decimals than the currency has is refused, never rounded. Every form that
moves money carries a hidden idempotency key made when the form is shown, so a form sent twice
(a double tap, a reload) posts once.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

from babel.numbers import NumberFormatError, format_decimal, get_currency_precision, parse_decimal
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.members.normalise import fold_digits
from core_banking.money import MoneyFormatError, to_minor
from core_banking.savings.models import (
    DayCount,
    InterestMethod,
    InterestPeriod,
    RoundingMode,
    SavingsAccount,
    SavingsKind,
    SavingsProduct,
)
from frontend.formatting import babel_locale
from tenants.db import NO_CURRENCY

# Amounts are BIGINT in PostgreSQL; anything near that is a typing mistake.
LARGEST_AMOUNT_MINOR = 2**62
_AMOUNT_CHARACTERS = re.compile(r"^[0-9.,'\u066b\u066c]+$")  # digits (folded to 0-9) and separators
_PLAIN_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
KEY_PATTERN = r"^[A-Za-z0-9:_-]{8,100}$"


class DateInput(forms.DateInput):
    """The browser's date picker: it reads and writes ISO dates whatever the page's language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def new_form_key() -> str:
    """A fresh idempotency key for one rendering of a money form."""
    return f"web-{uuid.uuid4().hex}"


def amount_example(currency: str, language: str) -> str:
    """A sample amount written the reader's way: 1,250.75 (en and bn), 1.500.000 (vi, in dong)."""
    exponent = get_currency_precision(currency)
    value = Decimal(1_500_000) if exponent == 0 else Decimal("1250.75")
    return format_decimal(
        value, format="#,##0" + ("." + "0" * exponent if exponent else ""), locale=babel_locale(language)
    )


def parse_amount(text: str, *, currency: str, language: str) -> int:
    """Typed major units to exact minor units, or ``ValidationError`` with a message for the reader."""
    cleaned = fold_digits(text).replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not cleaned or not _AMOUNT_CHARACTERS.match(cleaned):
        raise ValidationError(
            _("Type an amount in figures, e.g. %(example)s."),
            code="invalid",
            params={"example": amount_example(currency, language)},
        )
    try:
        value = parse_decimal(cleaned, locale=babel_locale(language), strict=True)
    except NumberFormatError:
        if not _PLAIN_DECIMAL.match(cleaned):  # 1250.75 is understood in every language
            raise ValidationError(
                _("Type an amount in figures, e.g. %(example)s."),
                code="invalid",
                params={"example": amount_example(currency, language)},
            ) from None
        value = Decimal(cleaned)
    try:
        minor = to_minor(value, currency)
    except MoneyFormatError:
        if get_currency_precision(currency) == 0:
            raise ValidationError(
                _("%(currency)s amounts are whole numbers."), code="precision", params={"currency": currency}
            ) from None
        raise ValidationError(
            _("%(currency)s amounts have at most %(places)s decimal places."),
            code="precision",
            params={"currency": currency, "places": get_currency_precision(currency)},
        ) from None
    if minor > LARGEST_AMOUNT_MINOR:
        raise ValidationError(_("This amount is far too large."), code="too_large")
    return minor


class AmountField(forms.CharField):
    """An amount in major units, cleaned to integer minor units of the form's currency."""

    def __init__(self, *, positive: bool = True, **kwargs: Any) -> None:
        self.positive = positive
        self.currency = NO_CURRENCY  # until the form says which (``form_money``)
        self.language = "en"
        # No max_length: its validator would run on the cleaned integer; the widget limits typing.
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "maxlength": 40})
        )
        super().__init__(**kwargs)

    def set_currency(self, currency: str, language: str) -> None:
        self.currency, self.language = currency, language
        example = amount_example(currency, language)
        self.widget.attrs["placeholder"] = example
        if not self.help_text:
            self.help_text = _("In %(currency)s, e.g. %(example)s") % {
                "currency": currency,
                "example": example,
            }

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        minor = parse_amount(str(text), currency=self.currency, language=self.language)
        if self.positive and minor <= 0:
            raise ValidationError(_("The amount must be more than zero."), code="positive")
        return minor

    def prepare_value(self, value: Any) -> Any:
        # Initial values are minor units; what was typed (a string) is shown back as typed.
        if isinstance(value, int) and not isinstance(value, bool):
            exponent = get_currency_precision(self.currency)
            return format(Decimal(value).scaleb(-exponent), f".{exponent}f")
        return value


class MoneyForm(forms.Form):
    """A form with amounts: tell it the cooperative's currency and the reader's language."""

    def __init__(self, *args: Any, currency: str, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, AmountField):
                field.set_currency(currency, language)


class IdempotentForm(MoneyForm):
    """A money movement: the hidden key is made when the form is shown and sent back with it."""

    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, max_length=100, validators=[RegexValidator(KEY_PATTERN)]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        initial = dict(kwargs.pop("initial", None) or {})
        initial.setdefault("idempotency_key", new_form_key())
        super().__init__(*args, initial=initial, **kwargs)

    def renew_key(self) -> None:
        """Show the form again with a new key (the one sent belongs to another posting)."""
        if self.is_bound:
            data = dict(self.data.items())
            data["idempotency_key"] = new_form_key()
            self.data = data


class MovementForm(IdempotentForm):
    amount = AmountField(label=_("Amount"))
    memo = forms.CharField(max_length=200, required=False, label=_("Note"))


class CloseEarlyForm(IdempotentForm):
    reason = forms.CharField(
        max_length=200, label=_("Reason"), help_text=_("Why the member closes the deposit before maturity.")
    )


class TransferForm(IdempotentForm):
    to_account = forms.ModelChoiceField(
        queryset=SavingsAccount.objects.none(), label=_("To account"), empty_label=None
    )
    amount = AmountField(label=_("Amount"))
    memo = forms.CharField(max_length=200, required=False, label=_("Note"))

    def __init__(self, *args: Any, targets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["to_account"]
        field.queryset = targets
        field.label_from_instance = lambda account: f"{account.number} · {account.product.name}"


class AccountOpenForm(forms.Form):
    member_number = forms.CharField(
        max_length=30, label=_("Member number"), help_text=_("For example MIR-000012.")
    )
    product = forms.ModelChoiceField(queryset=SavingsProduct.objects.none(), label=_("Product"))
    opened_on = forms.DateField(widget=DateInput, label=_("Opened on"))

    def __init__(self, *args: Any, member_known: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if member_known:
            del self.fields["member_number"]
        product_field: Any = self.fields["product"]
        product_field.queryset = SavingsProduct.objects.filter(is_active=True).order_by("code")
        product_field.label_from_instance = lambda product: (
            f"{product.code} · {product.name} ({product.get_kind_display()})"
        )


class ProductForm(MoneyForm):
    code = forms.RegexField(
        regex=r"^[A-Za-z0-9-]{1,12}$",
        max_length=12,
        label=_("Code"),
        help_text=_("Up to 12 letters, digits or dashes; part of each account number."),
    )
    name = forms.CharField(max_length=120, label=_("Name"))
    kind = forms.ChoiceField(choices=SavingsKind.choices, label=_("Kind"))
    annual_rate = forms.DecimalField(
        max_digits=7, decimal_places=4, min_value=Decimal(0), label=_("Annual rate (%)")
    )
    rate_effective_from = forms.DateField(widget=DateInput, label=_("Rate effective from"))
    minimum_balance = AmountField(positive=False, required=False, label=_("Minimum balance"))
    withdrawals_allowed = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Withdrawals allowed before closure"),
        help_text=_("Compulsory savings and term deposits usually pay out only on exit or maturity."),
    )
    maximum_withdrawal = AmountField(
        required=False, label=_("Largest withdrawal"), help_text=_("Empty means no limit.")
    )
    withdrawals_per_month = forms.IntegerField(
        min_value=1,
        max_value=100,
        required=False,
        label=_("Withdrawals per month"),
        help_text=_("Empty means no limit."),
    )
    interest_method = forms.ChoiceField(choices=InterestMethod.choices, label=_("Interest method"))
    day_count = forms.ChoiceField(choices=DayCount.choices, label=_("Day count"))
    accrual_period = forms.ChoiceField(choices=InterestPeriod.choices, label=_("Accrual period"))
    posting_period = forms.ChoiceField(choices=InterestPeriod.choices, label=_("Posting period"))
    rounding = forms.ChoiceField(choices=RoundingMode.choices, label=_("Rounding"))
    minimum_balance_for_interest = AmountField(
        positive=False, required=False, label=_("Minimum balance earning interest")
    )
    term_months = forms.IntegerField(
        min_value=1,
        max_value=600,
        required=False,
        label=_("Term (months)"),
        help_text=_("Recurring and fixed deposits."),
    )
    installment = AmountField(
        required=False, label=_("Monthly instalment"), help_text=_("Recurring deposits.")
    )
    premature_rate_reduction = forms.DecimalField(
        max_digits=7,
        decimal_places=4,
        min_value=Decimal(0),
        required=False,
        label=_("Rate reduction on premature closure (percentage points)"),
    )

    def service_settings(self) -> dict[str, Any]:
        """The product settings as the service takes them (minor units, defaults for empty fields)."""
        data = self.cleaned_data
        return {
            "minimum_balance_minor": data.get("minimum_balance") or 0,
            "withdrawals_allowed": bool(data.get("withdrawals_allowed")),
            "maximum_withdrawal_minor": data.get("maximum_withdrawal"),
            "withdrawals_per_month": data.get("withdrawals_per_month"),
            "interest_method": data["interest_method"],
            "day_count": data["day_count"],
            "accrual_period": data["accrual_period"],
            "posting_period": data["posting_period"],
            "rounding": data["rounding"],
            "minimum_balance_for_interest_minor": data.get("minimum_balance_for_interest") or 0,
            "term_months": data.get("term_months"),
            "installment_minor": data.get("installment"),
            "premature_rate_reduction": data.get("premature_rate_reduction") or Decimal(0),
        }


class ProductEditForm(ProductForm):
    """A product's changeable settings: not its code or kind, and rates go through the rate schedule."""

    is_active = forms.BooleanField(
        required=False,
        label=_("Open to new accounts"),
        help_text=_("Accounts already open go on either way."),
    )
    _TERM_FIELDS = ("term_months", "installment", "premature_rate_reduction")

    def __init__(self, *args: Any, product: SavingsProduct, **kwargs: Any) -> None:
        kwargs.setdefault("initial", product_form_initial(product))
        super().__init__(*args, **kwargs)
        for name in ("code", "kind", "annual_rate", "rate_effective_from"):
            del self.fields[name]
        if product.kind not in (SavingsKind.RECURRING, SavingsKind.FIXED):
            for name in self._TERM_FIELDS:
                del self.fields[name]

    def service_settings(self) -> dict[str, Any]:
        settings = super().service_settings()
        kept = {
            name: value
            for name, value in settings.items()
            if name not in ("term_months", "installment_minor", "premature_rate_reduction")
            or "term_months" in self.fields
        }
        return {"name": self.cleaned_data["name"], **kept, "is_active": bool(self.cleaned_data["is_active"])}


def product_form_initial(product: SavingsProduct) -> dict[str, Any]:
    """A product's settings as the product form shows them (amounts in minor units)."""
    return {
        "name": product.name,
        "minimum_balance": product.minimum_balance_minor,
        "withdrawals_allowed": product.withdrawals_allowed,
        "maximum_withdrawal": product.maximum_withdrawal_minor,
        "withdrawals_per_month": product.withdrawals_per_month,
        "interest_method": product.interest_method,
        "day_count": product.day_count,
        "accrual_period": product.accrual_period,
        "posting_period": product.posting_period,
        "rounding": product.rounding,
        "minimum_balance_for_interest": product.minimum_balance_for_interest_minor,
        "term_months": product.term_months,
        "installment": product.installment_minor,
        "premature_rate_reduction": product.premature_rate_reduction,
        "is_active": product.is_active,
    }


class RateForm(forms.Form):
    effective_from = forms.DateField(widget=DateInput, label=_("Effective from"))
    annual_rate = forms.DecimalField(
        max_digits=7, decimal_places=4, min_value=Decimal(0), label=_("Annual rate (%)")
    )


class StatementPeriodForm(forms.Form):
    start = forms.DateField(widget=DateInput, required=False, label=pgettext_lazy("period start", "From"))
    end = forms.DateField(widget=DateInput, required=False, label=pgettext_lazy("period end", "To"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            raise ValidationError(_("The start is after the end."))
        return cleaned


# --- Refusals of the services, as the reader's messages on the form --------------------------------

# The services name their fields after the model (amount_minor); the forms after what is typed.
_FIELD_NAMES = {
    "amount_minor": "amount",
    "nominal_value_minor": "nominal_value",
    "minimum_balance_minor": "minimum_balance",
}

_MESSAGES: dict[ErrorCode, Any] = {
    ErrorCode.SAVINGS_ACCOUNT_NOT_ACTIVE: _("This account is not active: it takes no more movements."),
    ErrorCode.WITHDRAWAL_NOT_ALLOWED: _("This product pays out only at closure or maturity."),
    ErrorCode.TRANSFER_BETWEEN_MEMBERS: _("Transfers are between one member's own accounts."),
    ErrorCode.MEMBER_EXITED: _("This member has exited."),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: _(
        "This form was already sent with other content. Check the account, then send it again."
    ),
}


def apply_violation(
    form: forms.BaseForm, violation: BusinessRuleViolation, *, messages: dict[str, str] | None = None
) -> None:
    """The service's refusal onto the form: a field's message where the form has that field.

    ``messages`` gives the reader's wording for a field (e.g. the withdrawable amount, formatted);
    known error codes get a translated message; anything else shows the service's own words.
    """
    messages = messages or {}
    known = _MESSAGES.get(violation.code)
    if not violation.fields:
        form.add_error(None, str(known) if known is not None else violation.message)
        return
    for raw_field, raw_messages in violation.fields.items():
        field = _FIELD_NAMES.get(raw_field, raw_field)
        shown = field in form.fields and not form.fields[field].widget.is_hidden
        target = field if shown else None
        if field in messages:
            form.add_error(target, messages[field])
        elif known is not None:
            form.add_error(target, str(known))
        elif target is None:
            form.add_error(None, violation.message)
        else:
            for message in raw_messages:
                form.add_error(target, message)
    if isinstance(form, IdempotentForm) and violation.code == ErrorCode.IDEMPOTENCY_KEY_REUSED:
        form.renew_key()
