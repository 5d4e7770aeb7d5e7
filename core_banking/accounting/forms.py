"""Staff page forms of the office books: they parse what was typed; the services check the rules."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from control_plane.errors import BusinessRuleViolation
from core_banking.accounting import selectors
from core_banking.accounting.models import VoucherKind
from core_banking.accounting.services import typed_lines
from core_banking.ledger.models import AccountKind
from core_banking.money import MoneyFormatError, to_minor
from core_banking.organisation.models import Branch
from tenants.db import workspace_currency


class DateInput(forms.DateInput):
    input_type = "date"


class MoneyInput(forms.CharField):
    """An amount typed in major units ("1250.75"), cleaned to minor units of the workspace currency."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "class": "amount"})

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = str(value or "").strip().replace(",", "")
        if not text:
            return None
        try:
            minor = to_minor(text, workspace_currency())
        except MoneyFormatError as error:
            raise forms.ValidationError(str(error)) from error
        if minor <= 0:
            raise forms.ValidationError(_("More than zero."))
        return minor


def _account_choices(branch_id: int | None = None, kinds: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    accounts = selectors.accounts_for_branch(branch_id)
    if kinds:
        accounts = accounts.filter(kind__in=kinds)
    return [("", "—"), *((account.code, f"{account.code} {account.name}") for account in accounts)]


class VoucherForm(forms.Form):
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), label=_("Branch"))
    value_date = forms.DateField(widget=DateInput, label=_("Date"))
    narration = forms.CharField(max_length=250, label=_("Narration"))
    cash_account = forms.ChoiceField(
        required=False,
        label=_("Cash or bank account"),
        help_text=_("Leave empty for the branch's cash in hand."),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, kind: str, visible_branch_ids: list[int] | None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        branch_field: Any = self.fields["branch"]
        branch_field.queryset = selectors.branches_visible(visible_branch_ids)
        if kind == VoucherKind.JOURNAL:
            del self.fields["cash_account"]
        else:
            cash_field: Any = self.fields["cash_account"]
            cash_field.choices = _account_choices(kinds=(AccountKind.ASSET,))


class LineForm(forms.Form):
    account = forms.ChoiceField(label=_("Account"), required=False)
    debit = MoneyInput(required=False, label=_("Debit"))
    credit = MoneyInput(required=False, label=_("Credit"))
    amount = MoneyInput(required=False, label=_("Amount"))

    def __init__(self, *args: Any, kind: str, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account_field: Any = self.fields["account"]
        account_field.choices = choices
        if kind == VoucherKind.JOURNAL:
            del self.fields["amount"]
        else:
            del self.fields["debit"], self.fields["credit"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_amount = any(data.get(name) for name in ("debit", "credit", "amount"))
        if has_amount and not data.get("account"):
            self.add_error("account", _("Choose an account."))
        elif data.get("account") and not has_amount:
            self.add_error(None, _("Give the line an amount."))
        return data

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not data.get("account") and not any(data.get(name) for name in ("debit", "credit", "amount"))


class BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, kind: str, branch_id: int | None = None, **kwargs: Any) -> None:
        self.kind = kind
        self.choices = _account_choices(branch_id)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"kind": self.kind, "choices": self.choices}

    def lines(self) -> list[Any]:
        """The filled-in rows as the service's lines (blank rows are skipped)."""
        rows = []
        for form in self.forms:
            if form.is_blank():
                continue
            data = form.cleaned_data
            rows.append(
                {"account": data["account"], "debit": data.get("debit"), "credit": data.get("credit"),
                 "amount": data.get("amount")}
            )  # fmt: skip
        return typed_lines(self.kind, rows)


def line_formset(
    data: Any = None, *, kind: str, branch_id: int | None = None, initial: list[dict[str, Any]] | None = None
) -> Any:
    """At least three rows on a new form; rows are added in the browser as needed."""
    initial = initial or []
    extra_rows = max(3 - len(initial), 1)
    formset_class: Any = forms.formset_factory(
        LineForm, formset=BaseLineFormSet, extra=extra_rows, max_num=60, validate_max=True
    )
    return formset_class(data, prefix="lines", kind=kind, branch_id=branch_id, initial=initial)


def apply_violation(form: forms.BaseForm, formset: Any, violation: BusinessRuleViolation) -> None:
    """The service's field messages onto the form, its line rows ("lines[2].account"), or the form itself."""
    if not violation.fields:
        form.add_error(None, violation.message)
    filled = [row for row in formset.forms if not row.is_blank()] if formset is not None else []
    for field, messages in violation.fields.items():
        for message in messages:
            if field.startswith("lines[") and "]." in field:
                number, name = field[len("lines[") :].split("].", 1)
                row = filled[int(number)] if int(number) < len(filled) else None
                if row is not None and name in row.fields:
                    row.add_error(name, message)
                    continue
                if row is not None and name == "amount":
                    row.add_error(None, message)
                    continue
            form.add_error(field if field in form.fields else None, message)


class CorrectionForm(forms.Form):
    reason = forms.CharField(max_length=250, label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    value_date = forms.DateField(widget=DateInput, label=_("Date of the correction"))
    narration = forms.CharField(max_length=250, required=False, label=_("Narration of the corrected voucher"))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=250, label=_("Why is it rejected?"))


class DayCloseForm(forms.Form):
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), label=_("Branch"))
    day = forms.DateField(widget=DateInput, label=_("Day"))

    def __init__(self, *args: Any, visible_branch_ids: list[int] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        branch_field: Any = self.fields["branch"]
        branch_field.queryset = selectors.branches_visible(visible_branch_ids)


class PeriodCloseForm(forms.Form):
    period_end = forms.DateField(widget=DateInput, label=_("Close the books through"))


class YearEndForm(forms.Form):
    fiscal_year = forms.TypedChoiceField(coerce=int, label=_("Fiscal year"))

    def __init__(self, *args: Any, years: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        year_field: Any = self.fields["fiscal_year"]
        year_field.choices = years


class SettingsForm(forms.Form):
    fiscal_year_start_month = forms.TypedChoiceField(
        choices=sorted(MONTHS.items()), coerce=int, label=_("The fiscal year starts in")
    )
    corrections_need_approval = forms.BooleanField(
        required=False,
        label=_("Corrections need a second person's approval"),
        help_text=_("The person who asks for a correction cannot approve it; nothing posts until approved."),
    )


class LedgerForm(forms.Form):
    account = forms.ChoiceField(label=_("Account"))
    start = forms.DateField(widget=DateInput, label=pgettext_lazy("period start", "From"))
    end = forms.DateField(widget=DateInput, label=pgettext_lazy("period end", "To"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account_field: Any = self.fields["account"]
        account_field.choices = _account_choices()


class AccountForm(forms.Form):
    """An account of the chart. On an account with postings the code and kind are shown, not edited;
    on a control account only the name is edited."""

    code = forms.CharField(max_length=20, label=_("Code"), help_text=_("For example 5300 or 5300-01."))
    name = forms.CharField(max_length=200, label=_("Name"))
    kind = forms.ChoiceField(choices=AccountKind.choices, label=_("Kind"))
    branch = forms.ModelChoiceField(
        queryset=Branch.objects.none(),
        required=False,
        label=_("Branch"),
        empty_label=_("Every branch (shared)"),
        help_text=_("An account of one branch can be used only by that branch's vouchers."),
    )
    is_active = forms.BooleanField(
        required=False,
        label=_("Active"),
        help_text=_("An inactive account takes no new postings; its history stays."),
    )

    def __init__(
        self, *args: Any, account: Any | None = None, fixed: tuple[str, ...] = (), **kwargs: Any
    ) -> None:
        if account is not None:
            kwargs.setdefault("initial", {}).update(
                code=account.code,
                name=account.name,
                kind=account.kind,
                branch=account.branch_id,
                is_active=account.is_active,
            )
        super().__init__(*args, **kwargs)
        branch_field: Any = self.fields["branch"]
        branch_field.queryset = Branch.objects.order_by("code")
        if account is None:
            del self.fields["is_active"]
        for name in fixed:
            self.fields[name].disabled = True
