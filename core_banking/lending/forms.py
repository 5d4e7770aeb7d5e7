"""Staff page forms of lending: they parse what was typed; the services check the rules.

Amounts are typed in major units as the reader writes them and parsed exactly to minor units
(``core_banking.savings.forms.AmountField``); money movements carry a hidden idempotency key made
when the form is shown, so a form sent twice posts once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.lending.models import (
    Amortization,
    Component,
    DaysInMonth,
    DaysInYear,
    Decision,
    FeeCollection,
    FeeKind,
    Frequency,
    InterestMethod,
    InterestPeriod,
    LimitBasis,
    LoanProduct,
    LoanSubType,
    PenaltyKind,
    PrepaymentStrategy,
    ProductType,
    RepaymentSource,
    Rounding,
    default_allocation_order,
)
from core_banking.lending.wording import FIELDS as WORDING_FIELDS
from core_banking.lending.wording import Wording
from core_banking.members.models import MemberType
from core_banking.members.normalise import fold_digits
from core_banking.savings.forms import AmountField, DateInput, IdempotentForm, MoneyForm
from core_banking.savings.forms import apply_violation as savings_apply_violation


def _percent(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=7,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=Decimal(100),
        **kwargs,
    )


def _count(label: Any, *, smallest: int = 0, required: bool = True, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=smallest, max_value=1000, required=required, **kwargs)


# --- Products ----------------------------------------------------------------------------------------

# The product form's sections, in the order a cooperative reads its loan policy.
PRODUCT_SECTIONS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (_("Product"), ("code", "name", "product_type", "sub_type", "is_active")),
    (_("Rate"), ("annual_rate", "rate_effective_from")),
    (
        _("Amounts and instalments"),
        (
            "minimum_amount",
            "maximum_amount",
            "default_installments",
            "maximum_installments",
            "maximum_installments_with_deferment",
        ),
    ),
    (
        _("Schedule"),
        (
            "frequency",
            "repay_every",
            "interest_method",
            "amortization",
            "interest_period",
            "days_in_year",
            "days_in_month",
            "rounding",
            "installment_multiple",
            "grace_principal",
            "grace_interest_payment",
            "interest_free_periods",
            "follows_group_meetings",
            "minimum_days_to_first_meeting",
            "accrues_interest",
        ),
    ),
    (_("Fee at disbursement"), ("fee_kind", "fee_flat", "fee_percent", "fee_collection")),
    (
        _("Penalty on overdue instalments"),
        ("penalty_kind", "penalty_flat", "penalty_percent", "penalty_grace_days"),
    ),
    (_("Repayment allocation order"), ("allocation_1", "allocation_2", "allocation_3", "allocation_4")),
    (_("Prepayment"), ("prepayment_strategy",)),
    (
        _("Guarantees and security"),
        (
            "minimum_guarantors",
            "guarantor_member_types",
            "maximum_guarantees_per_person",
            "guarantor_minimum_salary",
            "guarantor_maximum_liability",
            "share_security_percent",
            "deposit_security_percent",
            "requires_collateral",
        ),
    ),
)

_AMOUNTS = {
    "minimum_amount": "minimum_amount_minor",
    "maximum_amount": "maximum_amount_minor",
    "installment_multiple": "installment_multiple_minor",
    "fee_flat": "fee_flat_minor",
    "penalty_flat": "penalty_flat_minor",
    "guarantor_minimum_salary": "guarantor_minimum_salary_minor",
    "guarantor_maximum_liability": "guarantor_maximum_liability_minor",
}
_AMOUNT_DEFAULTS = {"minimum_amount_minor": 0, "fee_flat_minor": 0, "penalty_flat_minor": 0}
_PERCENTS = ("fee_percent", "penalty_percent", "share_security_percent", "deposit_security_percent")
_COUNTS = (
    "default_installments",
    "maximum_installments",
    "maximum_installments_with_deferment",
    "repay_every",
    "grace_principal",
    "grace_interest_payment",
    "interest_free_periods",
    "minimum_days_to_first_meeting",
    "penalty_grace_days",
    "minimum_guarantors",
    "maximum_guarantees_per_person",
)
_OPTIONAL_COUNTS = ("maximum_installments_with_deferment", "maximum_guarantees_per_person")
_CHOICES = (
    "interest_method",
    "amortization",
    "interest_period",
    "days_in_year",
    "days_in_month",
    "frequency",
    "rounding",
    "fee_kind",
    "fee_collection",
    "penalty_kind",
    "prepayment_strategy",
)
_FLAGS = ("follows_group_meetings", "requires_collateral", "accrues_interest")


class ProductForm(MoneyForm):
    """Every setting of a loan product, grouped as ``PRODUCT_SECTIONS`` lists them."""

    code = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]{1,20}$",
        max_length=20,
        label=_("Code"),
        help_text=_("Up to 20 letters, digits, - or _; names the product's receivable account."),
    )
    name = forms.CharField(max_length=120, label=_("Name"))
    product_type = forms.ChoiceField(choices=ProductType.choices, label=_("Product type"))
    sub_type = forms.ModelChoiceField(
        queryset=LoanSubType.objects.none(), required=False, label=_("Sub-type"), empty_label="—"
    )
    is_active = forms.BooleanField(required=False, initial=True, label=_("Open for new applications"))
    annual_rate = forms.DecimalField(
        max_digits=7, decimal_places=4, min_value=Decimal(0), label=_("Annual rate (%)")
    )
    rate_effective_from = forms.DateField(widget=DateInput, label=_("Rate effective from"))
    minimum_amount = AmountField(positive=False, required=False, label=_("Smallest loan"))
    maximum_amount = AmountField(
        required=False, label=_("Largest loan"), help_text=_("Empty means no limit.")
    )
    default_installments = _count(_("Usual number of instalments"), smallest=1)
    maximum_installments = _count(_("Most instalments"), smallest=1)
    maximum_installments_with_deferment = _count(
        _("Most instalments with deferment"), smallest=1, required=False, help_text=_("Empty: no deferment.")
    )
    frequency = forms.ChoiceField(choices=Frequency.choices, label=_("Repayment frequency"))
    repay_every = _count(
        _("Repay every"), smallest=1, initial=1, help_text=_("E.g. 3 with monthly: quarterly.")
    )
    interest_method = forms.ChoiceField(choices=InterestMethod.choices, label=_("Interest method"))
    amortization = forms.ChoiceField(choices=Amortization.choices, label=_("Amortisation"))
    interest_period = forms.ChoiceField(choices=InterestPeriod.choices, label=_("Interest period"))
    days_in_year = forms.ChoiceField(choices=DaysInYear.choices, label=_("Days in year"))
    days_in_month = forms.ChoiceField(choices=DaysInMonth.choices, label=_("Days in month"))
    rounding = forms.ChoiceField(choices=Rounding.choices, label=_("Rounding"))
    installment_multiple = AmountField(
        required=False,
        label=_("Instalments in multiples of"),
        help_text=_("E.g. 1 for whole taka; empty: none."),
    )
    grace_principal = _count(_("Grace on principal (instalments)"), initial=0)
    grace_interest_payment = _count(_("Grace on interest payment (instalments)"), initial=0)
    interest_free_periods = _count(_("Interest-free periods"), initial=0)
    follows_group_meetings = forms.BooleanField(
        required=False, label=_("Due on the group's meeting day"), help_text=_("Weekly samity loans.")
    )
    minimum_days_to_first_meeting = _count(_("Days before the first meeting instalment"), initial=0)
    accrues_interest = forms.BooleanField(required=False, label=_("Accrue interest daily"))
    fee_kind = forms.ChoiceField(
        choices=[("", _("No fee")), *FeeKind.choices], required=False, label=_("Disbursement fee")
    )
    fee_flat = AmountField(positive=False, required=False, label=_("Fee amount"))
    fee_percent = _percent(_("Fee (%)"))
    fee_collection = forms.ChoiceField(choices=FeeCollection.choices, label=_("Fee collection"))
    penalty_kind = forms.ChoiceField(choices=PenaltyKind.choices, label=_("Penalty"))
    penalty_flat = AmountField(positive=False, required=False, label=_("Penalty amount"))
    penalty_percent = _percent(_("Penalty (%)"))
    penalty_grace_days = _count(_("Penalty grace days"), initial=0)
    allocation_1 = forms.ChoiceField(choices=Component.choices, label=_("First"))
    allocation_2 = forms.ChoiceField(choices=Component.choices, label=_("Second"))
    allocation_3 = forms.ChoiceField(choices=Component.choices, label=_("Third"))
    allocation_4 = forms.ChoiceField(choices=Component.choices, label=_("Fourth"))
    prepayment_strategy = forms.ChoiceField(
        choices=PrepaymentStrategy.choices, label=_("Money paid beyond what is due")
    )
    minimum_guarantors = _count(_("Guarantors required"), initial=0)
    guarantor_member_types = forms.ModelMultipleChoiceField(
        queryset=MemberType.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Guarantor member types"),
        help_text=_("None ticked: any member type."),
    )
    maximum_guarantees_per_person = _count(
        _("Most live loans one person may guarantee"), smallest=1, required=False
    )
    guarantor_minimum_salary = AmountField(
        positive=False, required=False, label=_("Guarantor's smallest monthly salary")
    )
    guarantor_maximum_liability = AmountField(
        positive=False, required=False, label=_("Guarantor's largest own outstanding debt")
    )
    share_security_percent = _percent(_("Share capital required (percent of the loan)"))
    deposit_security_percent = _percent(_("Savings pledged (percent of the loan)"))
    requires_collateral = forms.BooleanField(required=False, label=_("Other collateral required"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        initial = dict(kwargs.pop("initial", None) or {})
        for number, component in enumerate(default_allocation_order(), start=1):
            initial.setdefault(f"allocation_{number}", component)
        super().__init__(*args, initial=initial, **kwargs)
        sub_type: Any = self.fields["sub_type"]
        sub_type.queryset = LoanSubType.objects.filter(is_active=True).order_by("product_type", "code")
        sub_type.label_from_instance = lambda item: f"{item.get_product_type_display()} · {item.name}"
        types: Any = self.fields["guarantor_member_types"]
        types.queryset = MemberType.objects.order_by("code")

    def sections(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [
            (title, [self[name] for name in names if name in self.fields])
            for title, names in PRODUCT_SECTIONS
            if any(name in self.fields for name in names)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        order = [cleaned.get(f"allocation_{n}") for n in range(1, 5)]
        if all(order) and len(set(order)) != 4:
            self.add_error("allocation_1", _("Each part once: penalty, fee, interest and principal."))
        return cleaned

    def service_settings(self) -> dict[str, Any]:
        """The settings as the product services take them (minor units, defaults for empty fields)."""
        data = self.cleaned_data
        settings: dict[str, Any] = {}
        for name, service_name in _AMOUNTS.items():
            if name in self.fields:
                value = data.get(name)
                settings[service_name] = _AMOUNT_DEFAULTS.get(service_name) if value is None else value
        for name in _COUNTS:
            if name in self.fields:
                value = data.get(name)
                settings[name] = value if value is not None or name in _OPTIONAL_COUNTS else 0
        for name in _PERCENTS:
            if name in self.fields:
                settings[name] = data.get(name) or Decimal(0)
        for name in _CHOICES:
            if name in self.fields:
                settings[name] = data.get(name) or ""
        for name in _FLAGS:
            if name in self.fields:
                settings[name] = bool(data.get(name))
        settings["allocation_order"] = [data[f"allocation_{n}"] for n in range(1, 5)]
        if "sub_type" in self.fields:
            settings["sub_type"] = data.get("sub_type")
        if "is_active" in self.fields:
            settings["is_active"] = bool(data.get("is_active"))
        return settings

    def member_types(self) -> list[MemberType]:
        return list(self.cleaned_data.get("guarantor_member_types") or [])


class ProductEditForm(ProductForm):
    """A product's changeable settings: not its code or type; rates go through the rate schedule."""

    def __init__(self, *args: Any, product: LoanProduct, **kwargs: Any) -> None:
        kwargs.setdefault("initial", product_form_initial(product))
        super().__init__(*args, **kwargs)
        for name in ("code", "product_type", "annual_rate", "rate_effective_from"):
            del self.fields[name]
        sub_type: Any = self.fields["sub_type"]
        sub_type.queryset = sub_type.queryset.filter(product_type=product.product_type)

    def service_settings(self) -> dict[str, Any]:
        return {"name": self.cleaned_data["name"], **super().service_settings()}


def product_form_initial(product: LoanProduct) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "name": product.name,
        "sub_type": product.sub_type_id,
        "is_active": product.is_active,
        "guarantor_member_types": list(product.guarantor_member_types.values_list("pk", flat=True)),
    }
    for name, field in _AMOUNTS.items():
        initial[name] = getattr(product, field)
    for name in (*_COUNTS, *_PERCENTS, *_CHOICES, *_FLAGS):
        initial[name] = getattr(product, name)
    for number, component in enumerate(product.allocation_order, start=1):
        initial[f"allocation_{number}"] = component
    return initial


class RateForm(forms.Form):
    effective_from = forms.DateField(widget=DateInput, label=_("Effective from"))
    annual_rate = forms.DecimalField(
        max_digits=7, decimal_places=4, min_value=Decimal(0), label=_("Annual rate (%)")
    )


class LimitRuleForm(MoneyForm):
    basis = forms.ChoiceField(choices=LimitBasis.choices, label=_("Basis"))
    factor = forms.DecimalField(
        max_digits=9,
        decimal_places=4,
        min_value=Decimal(0),
        required=False,
        label=_("Factor"),
        help_text=_("Times share capital, savings or salary; percent of the collateral."),
    )
    amount = AmountField(
        positive=False,
        required=False,
        label=_("Amount"),
        help_text=_("The fixed limit, or the amount per full year of membership."),
    )
    member_type = forms.ModelChoiceField(
        queryset=MemberType.objects.none(),
        required=False,
        label=_("Only for member type"),
        empty_label=_("All"),
    )
    minimum_membership_months = forms.IntegerField(
        min_value=0, max_value=1200, required=False, initial=0, label=_("Membership of at least (months)")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        member_type: Any = self.fields["member_type"]
        member_type.queryset = MemberType.objects.order_by("code")


class ApprovalLevelForm(MoneyForm):
    level = forms.IntegerField(min_value=1, max_value=20, required=False, label=_("Authority level"))
    required_above = AmountField(positive=False, required=False, label=_("Required for loans above"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("level") is not None and cleaned.get("required_above") is None:
            self.add_error("required_above", _("Give the amount above which this level decides."))
        return cleaned


ApprovalLevelFormSet = formset_factory(ApprovalLevelForm, extra=2, max_num=20)


class SubTypeForm(forms.Form):
    """A cooperative's own purpose within a product type (e.g. solar home, boat)."""

    product_type = forms.ChoiceField(label=_("Product type"), choices=ProductType.choices)
    code = forms.RegexField(
        regex=r"^[a-z0-9_]{1,30}$",
        label=_("Code"),
        help_text=_("Lower-case letters, digits and _."),
        error_messages={"invalid": _("Lower-case letters, digits and _ only.")},
    )
    name = forms.CharField(label=_("Name"), max_length=120)


# --- Applications ------------------------------------------------------------------------------------


class ApplicationForm(MoneyForm):
    """What a loan officer types for an application; the member is chosen before."""

    product = forms.ModelChoiceField(queryset=LoanProduct.objects.none(), label=_("Loan product"))
    sub_type = forms.ModelChoiceField(
        queryset=LoanSubType.objects.none(), required=False, label=_("Purpose type"), empty_label="—"
    )
    amount = AmountField(label=_("Amount applied for"))
    installments = forms.IntegerField(min_value=1, max_value=1000, label=_("Instalments"))
    with_deferment = forms.BooleanField(required=False, label=_("With deferment"))
    purpose = forms.CharField(max_length=300, required=False, label=_("Purpose"))
    monthly_salary = AmountField(positive=False, required=False, label=_("Monthly salary"))
    collateral_value = AmountField(positive=False, required=False, label=_("Collateral value"))
    collateral_description = forms.CharField(max_length=300, required=False, label=_("Collateral"))
    pledged_savings = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label=_("Savings pledged as security")
    )
    refinances = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label=_("Refinance (pay off) loan"),
        help_text=_("The new loan settles this one; the member receives the rest."),
    )
    number = forms.CharField(
        max_length=40,
        required=False,
        label=_("Application number"),
        help_text=_("Empty: numbered automatically."),
    )

    def __init__(self, *args: Any, savings: Any = (), loans: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product: Any = self.fields["product"]
        product.queryset = LoanProduct.objects.filter(is_active=True).order_by("code")
        product.label_from_instance = lambda item: f"{item.code} · {item.name}"
        sub_type: Any = self.fields["sub_type"]
        sub_type.queryset = LoanSubType.objects.filter(is_active=True).order_by("product_type", "code")
        sub_type.label_from_instance = lambda item: f"{item.get_product_type_display()} · {item.name}"
        pledged: Any = self.fields["pledged_savings"]
        pledged.choices = [("", "—")] + [(a.pk, f"{a.number} · {a.product.name}") for a in savings]
        refinances: Any = self.fields["refinances"]
        refinances.choices = [("", "—")] + [
            (loan.pk, f"{loan.number} · {loan.product.name}") for loan in loans
        ]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "product_id": data["product"].pk,
            "amount_minor": data["amount"],
            "installments": data["installments"],
            "number": data.get("number") or "",
            "sub_type_id": data["sub_type"].pk if data.get("sub_type") else None,
            "purpose": data.get("purpose") or "",
            "with_deferment": bool(data.get("with_deferment")),
            "monthly_salary_minor": data.get("monthly_salary"),
            "collateral_value_minor": data.get("collateral_value") or 0,
            "collateral_description": data.get("collateral_description") or "",
            "pledged_savings_id": data.get("pledged_savings"),
            "refinances_id": data.get("refinances"),
        }


class GuarantorForm(MoneyForm):
    member_number = forms.CharField(max_length=30, required=False, label=_("Guarantor's member number"))
    monthly_salary = AmountField(positive=False, required=False, label=_("Guarantor's monthly salary"))
    liability = AmountField(
        required=False, label=_("Amount guaranteed"), help_text=_("Empty: the whole loan.")
    )

    def clean_member_number(self) -> str:
        return fold_digits(self.cleaned_data.get("member_number") or "").strip().upper()


GuarantorFormSet = formset_factory(GuarantorForm, extra=3, max_num=10)


class ResubmitForm(MoneyForm):
    amount = AmountField(label=_("Amount applied for"))
    installments = forms.IntegerField(min_value=1, max_value=1000, label=_("Instalments"))
    purpose = forms.CharField(max_length=300, required=False, label=_("Purpose"))
    monthly_salary = AmountField(positive=False, required=False, label=_("Monthly salary"))
    collateral_value = AmountField(positive=False, required=False, label=_("Collateral value"))
    collateral_description = forms.CharField(max_length=300, required=False, label=_("Collateral"))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Reasons"),
        help_text=_("Required to reject or return; the officer sees them."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("decision") in (Decision.REJECTED, Decision.RETURNED)
            and not (cleaned.get("reason") or "").strip()
        ):
            self.add_error("reason", _("Say why."))
        return cleaned


class WithdrawForm(forms.Form):
    reason = forms.CharField(max_length=500, label=_("Reason"))


class DisburseForm(IdempotentForm):
    to = forms.ChoiceField(label=_("Pay out"), widget=forms.RadioSelect)
    first_due_date = forms.DateField(
        widget=DateInput,
        required=False,
        label=_("First due date"),
        help_text=_("Empty: as the product says."),
    )

    def __init__(self, *args: Any, savings: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        to: Any = self.fields["to"]
        to.choices = [("cash", _("In cash"))] + [
            (str(a.pk), _("Into savings account %(number)s") % {"number": a.number}) for a in savings
        ]
        to.initial = "cash"

    def to_savings_account_id(self) -> int | None:
        chosen = self.cleaned_data["to"]
        return None if chosen == "cash" else int(chosen)


# --- Loans ---------------------------------------------------------------------------------------------


class RepaymentForm(IdempotentForm):
    value_date = forms.DateField(widget=DateInput, label=_("Date paid"))
    source = forms.ChoiceField(
        choices=[(RepaymentSource.CASH, _("Cash")), (RepaymentSource.SAVINGS, _("From savings"))],
        widget=forms.RadioSelect,
        initial=RepaymentSource.CASH,
        label=_("Paid"),
    )
    savings_account = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label=_("Savings account")
    )
    amount = AmountField(label=_("Amount"))
    memo = forms.CharField(max_length=200, required=False, label=_("Note"))

    def __init__(self, *args: Any, savings: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["savings_account"]
        field.choices = [("", "—")] + [(a.pk, f"{a.number} · {a.product.name}") for a in savings]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("source") == RepaymentSource.SAVINGS and not cleaned.get("savings_account"):
            self.add_error("savings_account", _("Choose the savings account to pay from."))
        return cleaned


class ReverseForm(IdempotentForm):
    reason = forms.CharField(
        max_length=300, label=_("Reason"), help_text=_("E.g. the wrong loan, a cheque that bounced.")
    )


class PayoffDateForm(forms.Form):
    on = forms.DateField(widget=DateInput, required=False, label=_("On"))


class YearForm(forms.Form):
    year = forms.IntegerField(min_value=1900, max_value=2200, label=_("Year"))


# --- Refusals of the services, as the reader's messages on the form --------------------------------

_FIELD_NAMES = {
    "amount_minor": "amount",
    "monthly_salary_minor": "monthly_salary",
    "collateral_value_minor": "collateral_value",
    "pledged_savings_id": "pledged_savings",
    "refinances_id": "refinances",
    "sub_type_id": "sub_type",
    "savings_account_id": "savings_account",
    "to_savings_account_id": "to",
    "required_above_minor": "required_above",
}

_MESSAGES: dict[ErrorCode, Any] = {
    ErrorCode.APPLICATION_NOT_PENDING: _("This application is no longer waiting for that step."),
    ErrorCode.OWN_APPLICATION: _("Nobody decides on an application they made."),
    ErrorCode.APPROVER_LEVEL_TOO_LOW: _("This application needs an approver of a higher level."),
    ErrorCode.ALREADY_DECIDED: _("You approved an earlier level; another approver decides this one."),
    ErrorCode.LOAN_NOT_ACTIVE: _("This loan is not active: it takes no more payments."),
    ErrorCode.LOAN_TRANSACTION_NOT_REVERSIBLE: _(
        "Only a cash repayment that stands can be reversed here; a payment from savings is corrected "
        "on the savings account."
    ),
    ErrorCode.DISBURSEMENT_ACCOUNT_INVALID: _("Pay out only into the borrower's own savings account."),
    ErrorCode.APPLICATION_NUMBER_TAKEN: _("That application number is taken."),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: _(
        "This form was already sent with other content. Check the loan, then send it again."
    ),
}


def _field_for(form: forms.BaseForm, raw: str) -> str:
    name = _FIELD_NAMES.get(raw, raw)
    if name not in form.fields and name.endswith("_minor"):
        name = name.removesuffix("_minor")
    return name


def apply_violation(
    form: forms.BaseForm, violation: BusinessRuleViolation, *, messages: dict[str, str] | None = None
) -> None:
    """The service's refusal onto the form: field messages where the form has the field."""
    known = _MESSAGES.get(violation.code)
    fields = {_field_for(form, raw): texts for raw, texts in violation.fields.items()}
    if known is not None:
        messages = {**{name: str(known) for name in fields}, **(messages or {})}
        if not fields:
            form.add_error(None, str(known))
            return
    renamed = BusinessRuleViolation(violation.code, violation.message, fields=fields, extra=violation.extra)
    savings_apply_violation(form, renamed, messages=messages)


def parse_member_number(value: str) -> str:
    text = fold_digits(value or "").strip().upper()
    if not text:
        raise ValidationError(_("Type a member number."))
    return text


# --- Document wording ------------------------------------------------------------------------------


class DocumentTemplateForm(forms.Form):
    """A document's wording in one language; an empty field keeps the default (``lending.wording``).

    Only the parts the kind has are shown; the clauses are typed one per line. The service checks
    the text (placeholders, length) and names each field it refuses.
    """

    title = forms.CharField(label=_("Title"), required=False)
    opening = forms.CharField(
        label=_("Opening paragraph"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    clauses = forms.CharField(
        label=_("Clauses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One clause per line, in order."),
    )
    closing = forms.CharField(
        label=_("Closing paragraph"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed above the signatures."),
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        for name in list(self.fields):
            if name not in WORDING_FIELDS[kind]:
                del self.fields[name]
        if "closing" in self.fields and kind == "payoff":
            self.fields["closing"].help_text = _("Printed below the figures.")

    @staticmethod
    def initial_for(wording: Wording) -> dict[str, str]:
        return {
            "title": wording.title,
            "opening": wording.opening,
            "clauses": "\n".join(" ".join(clause.split("\n")) for clause in wording.clauses),
            "closing": wording.closing,
        }

    def wording(self) -> Wording:
        data = self.cleaned_data
        return Wording(
            title=data.get("title") or "",
            opening=data.get("opening") or "",
            clauses=tuple((data.get("clauses") or "").splitlines()),
            closing=data.get("closing") or "",
        ).cleaned()
