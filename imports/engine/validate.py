"""Row validation, in-file cross-row checks and reconciliation. Plain Python: no Django.

``EntityValidator`` turns one raw row into a typed record and its issues. ``DryRun`` runs the
validators over whole files, keeps what cross-row checks need (keys seen, per-member nominee
shares, trial balance sums) and the totals reconciliation needs, and never writes anything.
References to other records (a savings account's member, a loan's product) are collected as sets;
``DryRun.check_references`` resolves them against the keys in the files plus whatever the caller
read from the workspace in one query per entity, so no row ever costs a database query.

Messages are English templates passed through ``translate`` (``gettext`` in the Django layer;
identity here) and then filled with their parameters.

Typed values by field type: text/name/code/email/phone/national_id/choice → str; date →
datetime.date; amount → int minor units; decimal → Decimal; integer → int; bool → bool;
code_list → list[str]. A blank optional cell is left out of the record.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from imports.engine.bijoy import bijoy_share, convert_if_bijoy
from imports.engine.i18n import gettext_noop
from imports.engine.reader import HeaderReport, MappingProfile, XlsxWorkbook
from imports.engine.templates import TEMPLATES, EntityTemplate, Field, FieldType
from imports.engine.text import ascii_digits
from imports.engine.values import (
    DateSettings,
    InvalidValue,
    as_text,
    currency_exponent,
    parse_amount,
    parse_bool,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_integer,
    parse_national_id,
    parse_phone,
)

ERROR = "error"
WARNING = "warning"

Translate = Callable[[str], str]


def _identity(message: str) -> str:
    return message


@dataclass(frozen=True)
class Issue:
    severity: str  # "error" | "warning"
    entity: str
    row: int | None  # the spreadsheet row; None for the file as a whole
    column: str | None  # the column's header as in the file, else the field key
    code: str
    message: str


@dataclass(frozen=True)
class Record:
    entity: str
    row: int
    values: dict[str, Any]


@dataclass(frozen=True)
class ImportSettings:
    """How to read a cooperative's files: its country and currency, how its files write dates
    and amounts, which name fields to convert from Bijoy, and the cut-over date."""

    country: str
    currency: str
    dates: DateSettings = field(default_factory=DateSettings)
    decimal_separator: str | None = None
    bijoy_fields: frozenset[str] = frozenset()  # field keys; "*" converts every name field
    cut_over: dt.date | None = None
    translate: Translate = _identity
    language: str = "en"  # which of the template's headers messages name a missing column by

    @property
    def exponent(self) -> int:
        return currency_exponent(self.currency)


_CODE_MAX = 30
_NAME_MAX = 200
_TEXT_MAX = 1000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LIST_SPLIT = re.compile(r"[,;|/\n]+")
_DIGITS_IN_NAME = re.compile(r"\d")
_CACHED_TYPES = frozenset(
    {FieldType.AMOUNT, FieldType.DATE, FieldType.CHOICE, FieldType.DECIMAL, FieldType.INTEGER, FieldType.BOOL}
)
_CACHE_LIMIT = 50_000  # distinct texts kept per column
_MISSING = object()


def _code(raw: object) -> str:
    code = ascii_digits(as_text(raw))
    if len(code) > _CODE_MAX:
        raise InvalidValue("too_long", gettext_noop("At most %(limit)s characters."), limit=_CODE_MAX)
    return code


def _text(raw: object, *, limit: int, bijoy: bool) -> str:
    text = as_text(raw)
    if bijoy:
        text = convert_if_bijoy(text)
    if len(text) > limit:
        raise InvalidValue("too_long", gettext_noop("At most %(limit)s characters."), limit=limit)
    return text


def _email(raw: object) -> str:
    email = as_text(raw)
    if not _EMAIL.match(email):
        raise InvalidValue("email_invalid", gettext_noop("Not an e-mail address."))
    return email.lower()


def _code_list(raw: object, *, choices: Mapping[str, str] | None) -> list[str]:
    parts = [ascii_digits(part.strip()) for part in _LIST_SPLIT.split(as_text(raw)) if part.strip()]
    if choices:
        return list(dict.fromkeys(parse_choice(part, choices) for part in parts))
    return parts


_SIMPLE_PARSERS: dict[FieldType, Callable[[object], Any]] = {
    FieldType.DECIMAL: parse_decimal,
    FieldType.INTEGER: parse_integer,
    FieldType.BOOL: parse_bool,
    FieldType.EMAIL: _email,
}


class RowIssues:
    """The issues of one row, told by field key and filled in with the file's own header."""

    def __init__(self, validator: EntityValidator, row: int) -> None:
        self.validator = validator
        self.row = row
        self.items: list[Issue] = []
        self.has_error = False

    def add(self, severity: str, field_key: str | None, code: str, message: str, **params: Any) -> None:
        self.items.append(self.validator.issue(severity, self.row, field_key, code, message, **params))
        if severity == ERROR:
            self.has_error = True

    def error(self, field_key: str | None, code: str, message: str, **params: Any) -> None:
        self.add(ERROR, field_key, code, message, **params)

    def warning(self, field_key: str | None, code: str, message: str, **params: Any) -> None:
        self.add(WARNING, field_key, code, message, **params)


class EntityValidator:
    """One entity's rows → records and issues. Per-row rules only; cross-row checks are DryRun's."""

    def __init__(
        self, template: EntityTemplate, settings: ImportSettings, headers: HeaderReport | None = None
    ) -> None:
        self.template = template
        self.settings = settings
        self.translate = settings.translate
        self.exponent = settings.exponent
        self.columns = (
            {column.field: column.header for column in headers.columns if column.field} if headers else {}
        )
        self._choices = {item.key: item.choice_index() for item in template.fields if item.choices}
        self._bijoy = {
            item.key
            for item in template.fields
            if item.type in (FieldType.NAME, FieldType.TEXT)
            and (
                item.key in settings.bijoy_fields
                or ("*" in settings.bijoy_fields and item.type == FieldType.NAME)
            )
        }
        self._rules = _ENTITY_RULES.get(template.key)
        # (key, required, parser, cache): a parser per field chosen once, not per cell. Dates,
        # amounts and choices repeat (a few thousand distinct texts over 100,000 rows), so their
        # results are kept per text; phones and IDs are unique and kept nowhere.
        self._fields: list[tuple[str, bool, Callable[[object], Any], dict[str, Any] | None]] = [
            (item.key, item.required, self._parser(item), {} if item.type in _CACHED_TYPES else None)
            for item in template.fields
        ]

    def column(self, field_key: str | None) -> str | None:
        if field_key is None:
            return None
        return self.columns.get(field_key, field_key)

    def issue(
        self, severity: str, row: int | None, field_key: str | None, code: str, message: str, **params: Any
    ) -> Issue:
        text = self.translate(message)
        if params:
            text = text % params
        return Issue(severity, self.template.key, row, self.column(field_key), code, text)

    # --- Values ----------------------------------------------------------------------------------

    def _parser(self, item: Field) -> Callable[[object], Any]:  # noqa: PLR0911
        settings = self.settings
        kind = item.type
        if kind is FieldType.AMOUNT:
            exponent, separator = self.exponent, settings.decimal_separator
            return lambda raw: parse_amount(raw, exponent, decimal_separator=separator, allow_negative=True)
        if kind is FieldType.DATE:
            return lambda raw: parse_date(raw, settings.dates)
        if kind is FieldType.CODE:
            return _code
        if kind in (FieldType.NAME, FieldType.TEXT):
            limit = _NAME_MAX if kind is FieldType.NAME else _TEXT_MAX
            return partial(_text, limit=limit, bijoy=item.key in self._bijoy)
        if kind is FieldType.CHOICE:
            choices = self._choices[item.key]
            return lambda raw: parse_choice(raw, choices)
        if kind is FieldType.PHONE:
            return lambda raw: parse_phone(raw, settings.country)
        if kind is FieldType.NATIONAL_ID:
            return lambda raw: parse_national_id(raw, settings.country)
        if kind is FieldType.CODE_LIST:
            return partial(_code_list, choices=self._choices.get(item.key))
        return _SIMPLE_PARSERS[kind]

    def validate_row(self, row: int, raw: Mapping[str, object]) -> tuple[Record | None, list[Issue]]:  # noqa: PLR0912
        """The typed record (None when the row has an error) and the row's issues."""
        issues = RowIssues(self, row)
        values: dict[str, Any] = {}
        for key, required, parse, cache in self._fields:
            cell = raw.get(key)
            if cell is None or (cell.__class__ is str and not cell.strip()):
                if required:
                    issues.error(key, "required", gettext_noop("A value is required."))
                continue
            try:
                if cache is None or cell.__class__ is not str:
                    value = parse(cell)
                else:
                    value = cache.get(cell, _MISSING)
                    if value is _MISSING:
                        try:
                            value = parse(cell)
                        except InvalidValue as error:
                            value = error
                        if len(cache) < _CACHE_LIMIT:
                            cache[cell] = value
                    if isinstance(value, InvalidValue):
                        # A fresh exception: re-raising one object would grow its traceback per row.
                        raise InvalidValue(value.code, value.message, **value.params)
            except InvalidValue as error:
                issues.error(key, error.code, error.message, **error.params)
                continue
            if value in ("", []):
                if required:
                    issues.error(key, "required", gettext_noop("A value is required."))
                continue
            values[key] = value
        if self._rules is not None and not issues.has_error:
            self._rules(self, values, issues)
        record = None if issues.has_error else Record(self.template.key, row, values)
        return record, issues.items

    def not_after_cut_over(self, values: Mapping[str, Any], issues: RowIssues, *keys: str) -> None:
        cut_over = self.settings.cut_over
        if cut_over is None:
            return
        for key in keys:
            value = values.get(key)
            if value is not None and value > cut_over:
                issues.error(
                    key,
                    "after_cut_over",
                    gettext_noop("This date is after the cut-over date %(date)s."),
                    date=cut_over,
                )


# --- Per-entity rules ----------------------------------------------------------------------------


def _non_negative(values: Mapping[str, Any], issues: RowIssues, *keys: str) -> None:
    for key in keys:
        if values.get(key, 0) < 0:
            issues.error(key, "amount_negative", gettext_noop("The amount cannot be negative."))


def _branch_rules(validator: EntityValidator, values: dict[str, Any], issues: RowIssues) -> None:
    validator.not_after_cut_over(values, issues, "opened_on")


def _staff_rules(validator: EntityValidator, values: dict[str, Any], issues: RowIssues) -> None:
    if not re.fullmatch(r"[\w.@+-]+", values["username"]):
        issues.error("username", "username_invalid", gettext_noop("Letters, digits and . @ + - _ only."))


def _member_rules(validator: EntityValidator, values: dict[str, Any], issues: RowIssues) -> None:
    validator.not_after_cut_over(values, issues, "join_date", "exit_date")
    born, joined = values.get("date_of_birth"), values["join_date"]
    if born is not None:
        if born >= joined:
            issues.error(
                "date_of_birth",
                "born_after_joining",
                gettext_noop("The date of birth is not before the join date."),
            )
        elif (joined - born).days < 365 * 18:
            issues.warning(
                "date_of_birth", "member_minor", gettext_noop("The member was under 18 when they joined.")
            )
    status, exit_date = values.get("status", "active"), values.get("exit_date")
    if status == "exited" and exit_date is None:
        issues.error("exit_date", "exit_date_required", gettext_noop("An exited member needs an exit date."))
    if exit_date is not None:
        if status != "exited":
            issues.error(
                "status",
                "exit_date_not_exited",
                gettext_noop("A member with an exit date must have the status exited."),
            )
        elif exit_date < joined:
            issues.error(
                "exit_date", "exit_before_join", gettext_noop("The exit date is before the join date.")
            )
    if _DIGITS_IN_NAME.search(values["full_name"]):
        issues.warning("full_name", "name_has_digits", gettext_noop("The name contains digits."))
    if "phone" not in values:
        issues.warning("phone", "phone_missing", gettext_noop("No phone number: the member will get no SMS."))


def _nominee_rules(validator: EntityValidator, values: dict[str, Any], issues: RowIssues) -> None:
    share = values.get("share_percent")
    if share is not None and not Decimal(0) < share <= Decimal(100):
        issues.error(
            "share_percent",
            "share_percent_range",
            gettext_noop("The share must be more than 0 and at most 100."),
        )


def _share_rules(validator: EntityValidator, values: dict[str, Any], issues: RowIssues) -> None:
    _non_negative(values, issues, "share_balance")
    if values.get("share_count", 0) < 0:
        issues.error("share_count", "count_negative", gettext_noop("The number cannot be negative."))


def _savings_rules(validator: EntityValidator, values: dict[str, Any], issues: RowIssues) -> None:
    validator.not_after_cut_over(values, issues, "opened_on")
    if values["balance"] < 0:
        issues.error(
            "balance", "savings_balance_negative", gettext_noop("A savings balance cannot be negative.")
        )
    _non_negative(values, issues, "accrued_interest", "instalment_amount")
    rate = values.get("interest_rate")
    if rate is not None and not Decimal(0) <= rate <= Decimal(100):
        issues.error(
            "interest_rate", "rate_range", gettext_noop("The rate must be between 0 and 100 percent.")
        )
    kind, maturity = values.get("kind"), values.get("maturity_date")
    if maturity is not None and maturity <= values["opened_on"]:
        issues.error(
            "maturity_date",
            "maturity_before_opening",
            gettext_noop("The maturity date is not after the opening date."),
        )
    cut_over = validator.settings.cut_over
    if (
        maturity is not None
        and cut_over is not None
        and values["opened_on"] < maturity <= cut_over
        and values.get("status") != "closed"
    ):
        # Renewed or paid out in the old books, or forgotten there: the first maturity run here would
        # credit its interest dated in the past.
        issues.warning(
            "maturity_date",
            "matured_before_cut_over",
            gettext_noop(
                "This deposit matured on or before the cut-over date %(date)s but is still open: "
                "its maturity interest is credited at the first maturity run after the import."
            ),
            date=cut_over,
        )
    if kind in ("recurring", "fixed") and maturity is None:
        issues.warning(
            "maturity_date",
            "maturity_missing",
            gettext_noop("A recurring or fixed deposit usually has a maturity date."),
        )
    if kind == "recurring" and "instalment_amount" not in values:
        issues.warning(
            "instalment_amount",
            "instalment_missing",
            gettext_noop("A recurring deposit usually has an instalment amount."),
        )
    if values.get("status") == "closed" and (values["balance"] or values.get("accrued_interest")):
        issues.error("status", "closed_with_balance", gettext_noop("A closed account cannot have a balance."))


def _loan_rules(validator: EntityValidator, values: dict[str, Any], issues: RowIssues) -> None:  # noqa: PLR0912
    validator.not_after_cut_over(values, issues, "disbursed_on")
    _non_negative(
        values,
        issues,
        "disbursed_amount",
        "principal_paid",
        "interest_paid",
        "principal_outstanding",
        "interest_outstanding",
        "arrears",
        "collateral_value",
    )
    if issues.has_error:
        return
    disbursed = values["disbursed_amount"]
    if disbursed == 0:
        issues.error(
            "disbursed_amount", "disbursed_zero", gettext_noop("The disbursed amount must be more than zero.")
        )
    paid, outstanding = values.get("principal_paid"), values.get("principal_outstanding")
    if paid is None and outstanding is None:
        issues.error(
            "principal_outstanding",
            "principal_missing",
            gettext_noop("Give the principal paid or the principal outstanding (or both)."),
        )
        return
    if paid is not None and outstanding is not None:
        if outstanding != disbursed - paid:
            exponent = validator.exponent
            issues.error(
                "principal_outstanding",
                "loan_outstanding_mismatch",
                gettext_noop(
                    "Outstanding %(outstanding)s is not disbursed %(disbursed)s less paid %(paid)s"
                    " (= %(expected)s)."
                ),
                outstanding=_major(outstanding, exponent),
                disbursed=_major(disbursed, exponent),
                paid=_major(paid, exponent),
                expected=_major(disbursed - paid, exponent),
            )
            return  # the figures disagree: what follows would only repeat it
    elif paid is not None:
        values["principal_outstanding"] = disbursed - paid
    else:
        values["principal_paid"] = disbursed - outstanding
    if values["principal_paid"] > disbursed:
        issues.error(
            "principal_paid",
            "paid_more_than_disbursed",
            gettext_noop("More principal paid than was disbursed."),
        )
    elif values["principal_outstanding"] > disbursed:
        issues.error(
            "principal_outstanding",
            "outstanding_more_than_disbursed",
            gettext_noop("More outstanding than was disbursed."),
        )
    if values["instalments"] < 1:
        issues.error("instalments", "instalments_range", gettext_noop("At least one instalment."))
    elif values["frequency"] == "once" and values["instalments"] != 1:
        issues.warning(
            "instalments", "once_many_instalments", gettext_noop("A loan repaid once has one instalment.")
        )
    rate = values["interest_rate"]
    if not Decimal(0) <= rate <= Decimal(100):
        issues.error(
            "interest_rate", "rate_range", gettext_noop("The rate must be between 0 and 100 percent.")
        )
    first_due = values.get("first_due_on")
    if first_due is not None and first_due <= values["disbursed_on"]:
        issues.error(
            "first_due_on",
            "first_due_before_disbursal",
            gettext_noop("The first due date is not after disbursal."),
        )
    arrears = values.get("arrears", 0)
    if arrears > values["principal_outstanding"] + values.get("interest_outstanding", 0):
        issues.error(
            "arrears",
            "arrears_more_than_outstanding",
            gettext_noop("The arrears are more than what is outstanding."),
        )
    if arrears and "overdue_since" not in values:
        issues.warning(
            "overdue_since",
            "overdue_since_missing",
            gettext_noop("Loans in arrears need the date they fell overdue for ageing."),
        )
    guarantors = values.get("guarantors", [])
    if values["member_no"] in guarantors:
        issues.error(
            "guarantors",
            "guarantor_is_borrower",
            gettext_noop("The borrower cannot guarantee their own loan."),
        )
    if "collateral_value" in values and "collateral" not in values:
        issues.warning(
            "collateral", "collateral_undescribed", gettext_noop("A collateral value without a description.")
        )
    if values["principal_outstanding"] == 0 and not values.get("interest_outstanding"):
        issues.warning(
            "principal_outstanding",
            "loan_repaid",
            gettext_noop("Nothing is outstanding: the loan is imported as repaid."),
        )


def _trial_balance_rules(validator: EntityValidator, values: dict[str, Any], issues: RowIssues) -> None:
    debit, credit = values.get("debit", 0), values.get("credit", 0)
    if debit < 0 or credit < 0:
        issues.error(
            "debit" if debit < 0 else "credit",
            "amount_negative",
            gettext_noop("The amount cannot be negative."),
        )
    elif debit and credit:
        issues.error(
            "credit", "debit_and_credit", gettext_noop("A balance is either a debit or a credit, not both.")
        )
    elif not debit and not credit:
        issues.warning("debit", "zero_balance", gettext_noop("The account has no balance."))


def _major(minor: int, exponent: int) -> str:
    return f"{Decimal(minor).scaleb(-exponent):,.{exponent}f}"


_ENTITY_RULES: dict[str, Callable[[EntityValidator, dict[str, Any], RowIssues], None]] = {
    "branches": _branch_rules,
    "staff": _staff_rules,
    "members": _member_rules,
    "nominees": _nominee_rules,
    "shares": _share_rules,
    "savings_accounts": _savings_rules,
    "loans": _loan_rules,
    "trial_balance": _trial_balance_rules,
}


# --- Cross-row checks, totals, reconciliation ----------------------------------------------------

# Keys that must be unique within a file: (entity, field, what the message calls it).
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "branches": ("branch_code",),
    "groups": ("group_code",),
    "staff": ("username", "email"),
    "members": ("member_no", "legacy_id", "national_id"),
    "shares": ("member_no",),
    "savings_accounts": ("account_no",),
    "loans": ("loan_no",),
}

# References from one entity's field to another's key: resolved by DryRun.check_references.
REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    # entity: ((field, referenced key kind), ...)
    "groups": (
        ("branch_code", "branch"),
        ("leader_member_no", "member"),
        ("field_officer_username", "staff"),
    ),
    "staff": (("branch_code", "branch"),),
    "members": (("branch_code", "branch"), ("group_code", "group"), ("member_type", "member_type")),
    "nominees": (("member_no", "member"),),
    "shares": (("member_no", "member"),),
    "savings_accounts": (("member_no", "member"), ("product_code", "savings_product")),
    "loans": (("member_no", "member"), ("product_code", "loan_product"), ("guarantors", "member")),
    "trial_balance": (("account_code", "account"), ("branch_code", "branch")),
}
# Which entity's file supplies which kind of key.
KEY_SOURCES: dict[str, tuple[str, str]] = {
    "branch": ("branches", "branch_code"),
    "group": ("groups", "group_code"),
    "member": ("members", "member_no"),
    "staff": ("staff", "username"),
}


@dataclass(frozen=True)
class ReconciliationLine:
    control: str  # savings | savings_interest | loans | shares
    records_total: int  # minor units, from the records imported
    ledger_total: int  # minor units, the control accounts' balance in the opening trial balance
    accounts: tuple[str, ...]

    @property
    def difference(self) -> int:
        return self.records_total - self.ledger_total


@dataclass
class Totals:
    """What reconciliation compares, summed over valid records only."""

    savings: int = 0
    savings_interest: int = 0
    loans: int = 0
    loan_interest_outstanding: int = 0
    shares: int = 0
    members_per_branch: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)
    valid_rows: Counter[str] = field(default_factory=Counter)

    def as_controls(self) -> dict[str, int]:
        return {
            "savings": self.savings,
            "savings_interest": self.savings_interest,
            "loans": self.loans,
            "shares": self.shares,
        }


# The side of the ledger each control account normally sits on: +1 debit (assets), -1 credit.
CONTROL_SIDES = {"savings": -1, "savings_interest": -1, "loans": 1, "shares": -1}


def reconcile(
    totals: Mapping[str, int],
    opening_balances: Mapping[str, int],
    controls: Mapping[str, Iterable[str]],
) -> list[ReconciliationLine]:
    """Record totals against the opening trial balance, per control account kind.

    ``totals``: {control kind → total of the records, minor units}. ``opening_balances``:
    {account code → balance, minor units, debit positive and credit negative}. ``controls``:
    {control kind → the account codes that control it}. A savings total of 75,000 and a savings
    control account with a credit balance of 75,000 reconcile (difference 0).
    """
    lines = []
    for control, records_total in totals.items():
        accounts = tuple(sorted(controls.get(control, ())))
        side = CONTROL_SIDES.get(control, 1)
        ledger_total = side * sum(opening_balances.get(code, 0) for code in accounts)
        lines.append(ReconciliationLine(control, records_total, ledger_total, accounts))
    return lines


@dataclass
class EntityResult:
    entity: str
    headers: HeaderReport | None
    records: list[Record] = field(default_factory=list)
    rows: int = 0
    valid: int = 0


class DryRun:
    """Validates the files of one import, in dependency order or any order; writes nothing.

    ``keep_records=False`` keeps only issues and totals (for a dry run over a very large file).
    """

    def __init__(self, settings: ImportSettings, *, keep_records: bool = True) -> None:
        self.settings = settings
        self.keep_records = keep_records
        self.issues: list[Issue] = []
        self.totals = Totals()
        self.results: dict[str, EntityResult] = {}
        self._seen: dict[tuple[str, str], dict[str, int]] = {}
        # (kind, entity, field) → referenced key → the rows that refer to it.
        self._references: dict[tuple[str, str, str], dict[str, list[int]]] = {}
        self._nominee_shares: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
        self._opening: dict[str, int] = defaultdict(int)
        self._controls: dict[str, set[str]] = defaultdict(set)
        self._tb_debits = 0
        self._tb_credits = 0
        self._head_offices = 0
        self._validators: dict[str, EntityValidator] = {}
        self._bijoy_samples: dict[tuple[str, str], list[str]] = defaultdict(list)

    def validator(self, entity: str) -> EntityValidator:
        return self._validators[entity]

    def _file_issue(
        self,
        validator: EntityValidator,
        severity: str,
        field_key: str | None,
        code: str,
        message: str,
        **params: Any,
    ) -> None:
        self.issues.append(validator.issue(severity, None, field_key, code, message, **params))

    def add_file(
        self,
        entity: str,
        rows: Iterable[tuple[int, Mapping[str, object]]],
        headers: HeaderReport | None = None,
        *,
        settings: ImportSettings | None = None,
    ) -> EntityResult:
        """Validate one file's rows (from ``reader.TableReader.rows()``) for ``entity``.

        ``settings`` overrides the run's for this file only: files exported by different systems
        may write dates or amounts differently (the currency and country stay the run's own).
        """
        template = TEMPLATES[entity]
        validator = EntityValidator(template, settings or self.settings, headers)
        self._validators[entity] = validator
        result = EntityResult(entity, headers)
        self.results[entity] = result
        if headers is not None:
            self._header_issues(validator, headers)
            if not headers.ok:
                return result
        unique = UNIQUE_KEYS.get(entity, ())
        seen = {key: self._seen.setdefault((entity, key), {}) for key in unique}
        references = [
            (key, self._references.setdefault((kind, entity, key), {}))
            for key, kind in REFERENCES.get(entity, ())
        ]
        # Hundreds of thousands of small objects stay alive until the run ends (keys seen, rows
        # referring to them): with the cyclic collector on, each of its passes walks them all and
        # the run slows as it grows. Nothing here makes reference cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._validate_rows(rows, validator, result, seen=seen, references=references)
        finally:
            if collecting:
                gc.enable()
        self.totals.rows[entity] += result.rows
        self.totals.valid_rows[entity] += result.valid
        self._after_file(entity, validator)
        return result

    def add_records(
        self, entity: str, records: Iterable[Record], *, settings: ImportSettings | None = None
    ) -> EntityResult:
        """Take records a run of this same file already validated (kept from a dry run that found no
        error) as if their rows were read again: keys, references and totals, without parsing or
        checking a single value a second time. Rows that had errors are not among them."""
        validator = EntityValidator(TEMPLATES[entity], settings or self.settings, None)
        self._validators[entity] = validator
        result = EntityResult(entity, None)
        self.results[entity] = result
        seen = {key: self._seen.setdefault((entity, key), {}) for key in UNIQUE_KEYS.get(entity, ())}
        references = [
            (key, self._references.setdefault((kind, entity, key), {}))
            for key, kind in REFERENCES.get(entity, ())
        ]
        for record in records:
            values = record.values
            for key, keys_seen in seen.items():
                value = values.get(key)
                if value is not None:
                    keys_seen.setdefault(value, record.row)
            for key, rows_by_value in references:
                value = values.get(key)
                if value is None:
                    continue
                for item in value if isinstance(value, list) else (value,):
                    rows_by_value.setdefault(item, []).append(record.row)
            result.rows += 1
            result.valid += 1
            self._accumulate(entity, record.row, values)
            if self.keep_records:
                result.records.append(record)
        self.totals.rows[entity] += result.rows
        self.totals.valid_rows[entity] += result.valid
        self._after_file(entity, validator)
        return result

    def _validate_rows(  # noqa: PLR0912 -- one pass over the rows, every check inline for speed
        self,
        rows: Iterable[tuple[int, Mapping[str, object]]],
        validator: EntityValidator,
        result: EntityResult,
        *,
        seen: dict[str, dict[str, int]],
        references: list[tuple[str, dict[str, list[int]]]],
    ) -> None:
        entity = result.entity
        unique = tuple(seen)
        name_fields = [item.key for item in validator.template.fields if item.type is FieldType.NAME]
        sample_bijoy = name_fields and not self.settings.bijoy_fields
        issues = self.issues
        for row, raw in rows:
            result.rows += 1
            if sample_bijoy and result.rows <= 200:
                for key in name_fields:
                    value = raw.get(key)
                    if isinstance(value, str) and value:
                        self._bijoy_samples[(entity, key)].append(value)
            record, row_issues = validator.validate_row(row, raw)
            issues.extend(row_issues)
            if record is None:
                continue
            values = record.values
            duplicate = False
            for key in unique:
                value = values.get(key)
                if value is None:
                    continue
                first = seen[key].get(value)
                if first is not None:
                    issues.append(
                        validator.issue(
                            ERROR,
                            row,
                            key,
                            "duplicate",
                            gettext_noop("%(value)s is also on row %(first)s."),
                            value=value,
                            first=first,
                        )
                    )
                    duplicate = True
                else:
                    seen[key][value] = row
            if duplicate:
                continue
            for key, rows_by_value in references:
                value = values.get(key)
                if value is None:
                    continue
                for item in value if isinstance(value, list) else (value,):
                    referring = rows_by_value.get(item)
                    if referring is None:
                        rows_by_value[item] = [row]
                    else:
                        referring.append(row)
            result.valid += 1
            self._accumulate(entity, row, values)
            if self.keep_records:
                result.records.append(record)

    def _header_issues(self, validator: EntityValidator, headers: HeaderReport) -> None:
        for key in headers.missing_required:
            self._file_issue(
                validator,
                ERROR,
                key,
                "column_missing",
                gettext_noop("The file has no column for %(field)s."),
                field=validator.template.field(key).header(self.settings.language),
            )
        for key in headers.duplicated:
            self._file_issue(
                validator,
                ERROR,
                key,
                "column_duplicated",
                gettext_noop("Two columns are read as %(field)s."),
                field=validator.template.field(key).header(self.settings.language),
            )
        for header in headers.unknown:
            self.issues.append(
                Issue(
                    WARNING,
                    validator.template.key,
                    None,
                    header,
                    "column_unknown",
                    validator.translate(gettext_noop("This column is not read.")),
                )
            )
        for header in headers.forbidden:
            self.issues.append(
                Issue(
                    WARNING,
                    validator.template.key,
                    None,
                    header,
                    "column_forbidden",
                    validator.translate(
                        gettext_noop("Passwords are never imported; staff are invited to set their own.")
                    ),
                )
            )

    def _accumulate(self, entity: str, row: int, values: Mapping[str, Any]) -> None:
        totals = self.totals
        if entity == "branches":
            self._head_offices += bool(values.get("is_head_office"))
        elif entity == "members":
            totals.members_per_branch[values["branch_code"]] += 1
        elif entity == "savings_accounts":
            totals.savings += values["balance"]
            totals.savings_interest += values.get("accrued_interest", 0)
        elif entity == "loans":
            totals.loans += values["principal_outstanding"]
            totals.loan_interest_outstanding += values.get("interest_outstanding", 0)
        elif entity == "shares":
            totals.shares += values["share_balance"]
        elif entity == "nominees" and "share_percent" in values:
            self._nominee_shares[values["member_no"]].append((row, values["share_percent"]))
        elif entity == "trial_balance":
            debit, credit = values.get("debit", 0), values.get("credit", 0)
            self._tb_debits += debit
            self._tb_credits += credit
            self._opening[values["account_code"]] += debit - credit
            if "control_of" in values:
                self._controls[values["control_of"]].add(values["account_code"])

    def _after_file(self, entity: str, validator: EntityValidator) -> None:
        if entity == "nominees":
            for member_no, shares in self._nominee_shares.items():
                total = sum((share for _row, share in shares), Decimal(0))
                if total != 100:
                    self.issues.append(
                        validator.issue(
                            WARNING,
                            shares[0][0],
                            "share_percent",
                            "nominee_shares_total",
                            gettext_noop(
                                "The nominees of member %(member)s share %(total)s%% in all, not 100%%."
                            ),
                            member=member_no,
                            total=total,
                        )
                    )
            self._nominee_shares.clear()
        elif entity == "trial_balance" and self._tb_debits != self._tb_credits:
            exponent = validator.exponent
            self._file_issue(
                validator,
                ERROR,
                "debit",
                "trial_balance_unbalanced",
                gettext_noop("Debits %(debits)s and credits %(credits)s differ by %(difference)s."),
                debits=_major(self._tb_debits, exponent),
                credits=_major(self._tb_credits, exponent),
                difference=_major(self._tb_debits - self._tb_credits, exponent),
            )
        elif entity == "branches" and self._head_offices > 1:
            self._file_issue(
                validator, ERROR, "is_head_office", "head_office_many", gettext_noop("Only one head office.")
            )
        for (sampled_entity, key), samples in list(self._bijoy_samples.items()):
            if sampled_entity == entity and bijoy_share(samples) >= 0.3:
                self._file_issue(
                    validator,
                    WARNING,
                    key,
                    "bijoy_suspected",
                    gettext_noop(
                        "This column looks typed in Bijoy (SutonnyMJ); convert it to Unicode Bangla."
                    ),
                )

    # --- After all files -------------------------------------------------------------------------

    def check_references(self, existing: Mapping[str, Iterable[str]] | None = None) -> list[Issue]:
        """Issues for references that resolve neither in this import's files nor in ``existing``.

        ``existing`` maps a key kind (branch, group, member, staff, member_type, savings_product,
        loan_product, account) to the keys the workspace already has, read by the caller in one
        query per kind. Kinds with no file and no ``existing`` entry are not checked.
        """
        existing = existing or {}
        found: list[Issue] = []
        known_by_kind: dict[str, set[str] | None] = {}
        for (kind, entity, key), rows_by_value in self._references.items():
            if kind not in known_by_kind:
                source = KEY_SOURCES.get(kind)
                in_file = source is not None and source[0] in self.results
                if not in_file and kind not in existing:
                    known_by_kind[kind] = None
                else:
                    known = set(existing.get(kind, ()))
                    if source is not None and in_file:
                        known |= set(self._seen.get(source, {}))
                    known_by_kind[kind] = known
            known_keys = known_by_kind[kind]
            if known_keys is None:
                continue
            validator = self._validators[entity]
            for value, rows in rows_by_value.items():
                if value in known_keys:
                    continue
                for row in rows:
                    found.append(
                        validator.issue(
                            ERROR,
                            row,
                            key,
                            "reference_unknown",
                            gettext_noop("%(value)s is not known (%(kind)s)."),
                            value=value,
                            kind=kind.replace("_", " "),
                        )
                    )
        found.sort(key=lambda issue: (issue.entity, issue.row or 0))
        self.issues.extend(found)
        return found

    def keys_seen(self, entity: str, field_key: str) -> set[str]:
        """The keys of valid and invalid rows alike that a file of ``entity`` brought under ``field_key``."""
        return set(self._seen.get((entity, field_key), {}))

    def opening_balances(self) -> dict[str, int]:
        return dict(self._opening)

    def control_accounts(self) -> dict[str, set[str]]:
        return {kind: set(codes) for kind, codes in self._controls.items()}

    def reconcile(
        self,
        opening_balances: Mapping[str, int] | None = None,
        controls: Mapping[str, Iterable[str]] | None = None,
    ) -> list[ReconciliationLine]:
        """Records against the opening trial balance (the file's, unless given)."""
        return reconcile(
            self.totals.as_controls(),
            self._opening if opening_balances is None else opening_balances,
            self._controls if controls is None else controls,
        )

    @property
    def errors(self) -> int:
        return sum(1 for issue in self.issues if issue.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for issue in self.issues if issue.severity == WARNING)

    def issues_by_row(self) -> Iterator[Issue]:
        yield from sorted(self.issues, key=lambda issue: (issue.entity, issue.row or 0))


# Dependency order: a file's references are to entities read before it.
ENTITY_ORDER = (
    "branches",
    "staff",
    "groups",
    "members",
    "nominees",
    "shares",
    "savings_accounts",
    "loans",
    "trial_balance",
)


def dry_run_workbook(
    data: bytes,
    settings: ImportSettings,
    *,
    profiles: Mapping[str, MappingProfile] | None = None,
    keep_records: bool = False,
    xlsx_engine: str = "calamine",
) -> DryRun:
    """Validate every sheet of a workbook named after an entity (or given a profile naming its sheet)."""
    profiles = profiles or {}
    workbook = XlsxWorkbook(data, engine=xlsx_engine)
    run = DryRun(settings, keep_records=keep_records)
    try:
        for entity in ENTITY_ORDER:
            profile = profiles.get(entity)
            template = TEMPLATES[entity]
            if (profile is None or profile.sheet is None) and workbook.sheet_for(template) is None:
                continue
            table = workbook.table(template, profile=profile)
            run.add_file(entity, table.rows(), table.headers)
    finally:
        workbook.close()
    return run
