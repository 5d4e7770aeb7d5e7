"""Loan products, their rates, limit rules, sub-types and the approval levels (L1–L4, L6)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction

from control_plane.audit.services import audit_record, diff
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import Account
from core_banking.lending import terms as loan_terms
from core_banking.lending.allocation import check_order
from core_banking.lending.errors import invalid
from core_banking.lending.models import (
    Amortization,
    ApprovalLevel,
    DaysInMonth,
    DaysInYear,
    FeeCollection,
    FeeKind,
    Frequency,
    InterestMethod,
    InterestPeriod,
    LimitBasis,
    LoanLimitRule,
    LoanProduct,
    LoanRate,
    LoanSubType,
    PenaltyKind,
    PrepaymentStrategy,
    ProductType,
    Rounding,
)
from core_banking.members.models import MemberType

RECEIVABLE_PREFIX = "1300"
INTEREST_INCOME_CODE = "4100"
PENALTY_INCOME_CODE = "4200"
FEE_INCOME_CODE = "4300"

# Choice settings and the enum each must come from.
_CHOICES: dict[str, Any] = {
    "product_type": ProductType,
    "interest_method": InterestMethod,
    "amortization": Amortization,
    "interest_period": InterestPeriod,
    "days_in_year": DaysInYear,
    "days_in_month": DaysInMonth,
    "frequency": Frequency,
    "rounding": Rounding,
    "fee_kind": FeeKind,
    "fee_collection": FeeCollection,
    "penalty_kind": PenaltyKind,
    "prepayment_strategy": PrepaymentStrategy,
}
# Whole-number settings: (smallest value, may be empty).
_NUMBERS: dict[str, tuple[int, bool]] = {
    "minimum_amount_minor": (0, False),
    "maximum_amount_minor": (1, True),
    "default_installments": (1, False),
    "maximum_installments": (1, False),
    "maximum_installments_with_deferment": (1, True),
    "repay_every": (1, False),
    "installment_multiple_minor": (1, True),
    "grace_principal": (0, False),
    "grace_interest_payment": (0, False),
    "interest_free_periods": (0, False),
    "minimum_days_to_first_meeting": (0, False),
    "fee_flat_minor": (0, False),
    "penalty_flat_minor": (0, False),
    "penalty_grace_days": (0, False),
    "minimum_guarantors": (0, False),
    "maximum_guarantees_per_person": (1, True),
    "guarantor_minimum_salary_minor": (0, True),
    "guarantor_maximum_liability_minor": (0, True),
}
_PERCENTS = ("fee_percent", "penalty_percent", "share_security_percent", "deposit_security_percent")
_FLAGS = ("is_active", "follows_group_meetings", "requires_collateral", "accrues_interest")
EDITABLE_FIELDS = ("name", "sub_type", "allocation_order", *_CHOICES, *_NUMBERS, *_PERCENTS, *_FLAGS)
# Once loans exist the receivable's meaning is fixed; the kind of product is part of its identity.
_FIXED_ONCE_USED = ("product_type",)


def receivable_code(product_code: str) -> str:
    return f"{RECEIVABLE_PREFIX}-{product_code}"


def _whole(value: Any, smallest: int, may_be_empty: bool) -> bool:
    if value is None:
        return may_be_empty
    return isinstance(value, int) and not isinstance(value, bool) and value >= smallest


def _rule_for(name: str) -> tuple[Callable[[Any], bool], str] | None:
    """How one product setting is checked, and what is said when it fails."""
    if name in _CHOICES:
        allowed = _CHOICES[name].values
        return (lambda v: v in allowed or (name == "fee_kind" and v == "")), f"One of: {', '.join(allowed)}."
    if name in _NUMBERS:
        smallest, may_be_empty = _NUMBERS[name]
        return (lambda v: _whole(v, smallest, may_be_empty)), f"A whole number of at least {smallest}."
    if name in _PERCENTS:
        return (
            lambda v: isinstance(v, Decimal) and v.is_finite() and 0 <= v <= 100
        ), "A percentage from 0 to 100."
    if name in _FLAGS:
        return (lambda v: isinstance(v, bool)), "True or false."
    others: dict[str, tuple[Callable[[Any], bool], str]] = {
        "name": (lambda v: bool(str(v).strip()), "Required."),
        "sub_type": (lambda v: v is None or isinstance(v, LoanSubType), "A sub-type."),
    }
    return others.get(name)


def _problem(name: str, value: Any) -> list[str]:
    """What is wrong with one product setting; empty when nothing is."""
    if name == "allocation_order":
        return check_order(list(value or []))
    rule = _rule_for(name)
    if rule is None:
        return ["Not a product setting."]
    check, message = rule
    return [] if check(value) else [message]


def _problems(values: dict[str, Any]) -> dict[str, list[str]]:
    found = {name: _problem(name, value) for name, value in values.items()}
    return {name: messages for name, messages in found.items() if messages}


def _check_product(product: LoanProduct) -> None:
    """Rules across fields, and that the engine accepts the schedule settings."""
    problems: dict[str, list[str]] = {}
    if product.maximum_installments < product.default_installments:
        problems["maximum_installments"] = ["At least the usual number of instalments."]
    if (
        product.maximum_installments_with_deferment is not None
        and product.maximum_installments_with_deferment < product.maximum_installments
    ):
        problems["maximum_installments_with_deferment"] = ["At least the normal maximum."]
    if (
        product.maximum_amount_minor is not None
        and product.maximum_amount_minor < product.minimum_amount_minor
    ):
        problems["maximum_amount_minor"] = ["At least the smallest loan."]
    if product.sub_type is not None and product.sub_type.product_type != product.product_type:
        problems["sub_type"] = ["The sub-type belongs to another product type."]
    if product.follows_group_meetings and product.frequency not in (Frequency.WEEKLY, Frequency.FORTNIGHTLY):
        problems["follows_group_meetings"] = ["Only weekly or fortnightly loans follow group meetings."]
    if product.fee_kind == FeeKind.PERCENT and not product.fee_percent:
        problems["fee_percent"] = ["A percent fee needs a rate."]
    if product.penalty_kind == PenaltyKind.PERCENT and not product.penalty_percent:
        problems["penalty_percent"] = ["A percent penalty needs a rate."]
    if product.penalty_kind == PenaltyKind.FLAT and not product.penalty_flat_minor:
        problems["penalty_flat_minor"] = ["A flat penalty needs an amount."]
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "The product's settings do not fit together.", fields=problems
        )
    # The engine is the judge of schedule settings: a sample schedule must come out.
    engine_problems = loan_terms.product_sample_problems(product)
    if engine_problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "The schedule settings are not valid.", fields=engine_problems
        )


def _rate_add(product: LoanProduct, effective_from: dt.date, annual_rate: Decimal) -> LoanRate:
    if (
        not isinstance(annual_rate, Decimal)
        or not annual_rate.is_finite()
        or annual_rate < 0
        or annual_rate > 1000
    ):
        raise invalid("annual_rate", "An annual rate in percent, 0 or more.")
    rate, _created = LoanRate.objects.update_or_create(
        product=product, effective_from=effective_from, defaults={"annual_rate": annual_rate}
    )
    return rate


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, LoanSubType):
            out[key] = value.code
        elif isinstance(value, int | str | bool | None | list):
            out[key] = value
        else:
            out[key] = str(value)
    return out


@transaction.atomic
def loan_product_create(
    *,
    actor: Any | None,
    code: str,
    name: str,
    product_type: str,
    annual_rate: Decimal,
    rate_effective_from: dt.date,
    guarantor_member_types: Sequence[MemberType] = (),
    **settings: Any,
) -> LoanProduct:
    """A product with its own receivable control account (1300-<code>) and its first rate."""
    code = code.strip().upper()
    problems = _problems({"name": name, "product_type": product_type, **settings})
    if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 20:
        problems["code"] = ["Letters, digits, - and _; at most 20."]
    elif LoanProduct.objects.filter(code=code).exists():
        problems["code"] = ["Already in use."]
    if problems:
        raise BusinessRuleViolation(ErrorCode.VALIDATION_ERROR, "The product is not valid.", fields=problems)
    receivable, _created = Account.objects.get_or_create(
        code=receivable_code(code), defaults={"name": name.strip(), "kind": "asset"}
    )
    product = LoanProduct(
        code=code,
        name=name.strip(),
        product_type=product_type,
        receivable_account=receivable,
        interest_income_account=Account.objects.get(code=INTEREST_INCOME_CODE),
        fee_income_account=Account.objects.get(code=FEE_INCOME_CODE),
        penalty_income_account=Account.objects.get(code=PENALTY_INCOME_CODE),
        **settings,
    )
    _check_product(product)
    product.save()
    product.guarantor_member_types.set(guarantor_member_types)
    _rate_add(product, rate_effective_from, annual_rate)
    audit_record(
        actor=actor,
        action="lending.product.create",
        target=product,
        changes={
            "code": code,
            "product_type": product_type,
            "annual_rate": str(annual_rate),
            "rate_effective_from": rate_effective_from.isoformat(),
            **_jsonable(settings),
        },
    )
    return product


@transaction.atomic
def loan_product_update(
    *,
    actor: Any | None,
    product_id: int,
    guarantor_member_types: Sequence[MemberType] | None = None,
    **changes: Any,
) -> LoanProduct:
    """Change a product's settings. Loans already disbursed keep the terms they were given."""
    product = LoanProduct.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise BusinessRuleViolation(
            ErrorCode.NOT_FOUND, "No such loan product.", fields={"product": ["Unknown."]}
        )
    problems = _problems(changes)
    if any(name in changes for name in _FIXED_ONCE_USED) and product.loans.exists():
        problems["product_type"] = ["Fixed once loans of this product exist."]
    if problems:
        raise BusinessRuleViolation(ErrorCode.VALIDATION_ERROR, "The change is not valid.", fields=problems)
    before = {name: getattr(product, name) for name in changes}
    for name, value in changes.items():
        setattr(product, name, value.strip() if name == "name" else value)
    _check_product(product)
    product.save()
    if guarantor_member_types is not None:
        product.guarantor_member_types.set(guarantor_member_types)
    audit_record(
        actor=actor,
        action="lending.product.update",
        target=product,
        changes=diff(_jsonable(before), _jsonable(changes)),
    )
    return product


@transaction.atomic
def loan_rate_schedule(
    *, actor: Any | None, product: LoanProduct, effective_from: dt.date, annual_rate: Decimal
) -> LoanRate:
    """Set the product's rate from a date on; a future date schedules a change (L3)."""
    rate = _rate_add(product, effective_from, annual_rate)
    audit_record(
        actor=actor,
        action="lending.rate.schedule",
        target=product,
        changes={"effective_from": effective_from.isoformat(), "annual_rate": str(annual_rate)},
    )
    return rate


@transaction.atomic
def loan_sub_type_create(*, actor: Any | None, product_type: str, code: str, name: str) -> LoanSubType:
    problems = _problems({"product_type": product_type, "name": name})
    code = code.strip().lower()
    if not code or len(code) > 30:
        problems["code"] = ["Required, at most 30 characters."]
    elif LoanSubType.objects.filter(code=code).exists():
        problems["code"] = ["Already in use."]
    if problems:
        raise BusinessRuleViolation(ErrorCode.VALIDATION_ERROR, "The sub-type is not valid.", fields=problems)
    sub_type = LoanSubType.objects.create(product_type=product_type, code=code, name=name.strip())
    audit_record(
        actor=actor,
        action="lending.subtype.create",
        target=sub_type,
        changes={"code": code, "type": product_type},
    )
    return sub_type


@transaction.atomic
def loan_limit_rule_add(
    *,
    actor: Any | None,
    product: LoanProduct,
    basis: str,
    factor: Decimal = Decimal(0),
    amount_minor: int = 0,
    member_type: MemberType | None = None,
    minimum_membership_months: int = 0,
) -> LoanLimitRule:
    """Add one cap on what a member may borrow under ``product`` (see ``LoanLimitRule``)."""
    problems: dict[str, list[str]] = {}
    if basis not in LimitBasis.values:
        problems["basis"] = [f"One of: {', '.join(LimitBasis.values)}."]
    if not isinstance(factor, Decimal) or not factor.is_finite() or factor < 0:
        problems["factor"] = ["A number, 0 or more."]
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor < 0:
        problems["amount_minor"] = ["A whole number, 0 or more."]
    if basis in (LimitBasis.FIXED, LimitBasis.MEMBERSHIP_YEARS) and not amount_minor:
        problems["amount_minor"] = ["This basis needs an amount."]
    if (
        basis in (LimitBasis.SHARE_CAPITAL, LimitBasis.DEPOSITS, LimitBasis.SALARY, LimitBasis.COLLATERAL)
        and not factor
    ):
        problems["factor"] = ["This basis needs a factor."]
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "The limit rule is not valid.", fields=problems
        )
    rule = LoanLimitRule.objects.create(
        product=product,
        basis=basis,
        factor=factor,
        amount_minor=amount_minor,
        member_type=member_type,
        minimum_membership_months=minimum_membership_months,
    )
    audit_record(
        actor=actor,
        action="lending.limit_rule.add",
        target=product,
        changes={
            "basis": basis,
            "factor": str(factor),
            "amount_minor": amount_minor,
            "member_type": member_type.code if member_type else None,
            "minimum_membership_months": minimum_membership_months,
        },
    )
    return rule


@transaction.atomic
def loan_limit_rule_remove(*, actor: Any | None, rule_id: int) -> None:
    rule = LoanLimitRule.objects.filter(pk=rule_id).select_related("product").first()
    if rule is None:
        raise BusinessRuleViolation(ErrorCode.NOT_FOUND, "No such limit rule.", fields={"rule": ["Unknown."]})
    audit_record(
        actor=actor,
        action="lending.limit_rule.remove",
        target=rule.product,
        changes={"rule": rule_id, "basis": rule.basis},
    )
    rule.delete()


@transaction.atomic
def approval_levels_set(*, actor: Any | None, levels: Sequence[tuple[int, int]]) -> list[ApprovalLevel]:
    """Replace the approval ladder: (level, required for loans above this amount) pairs.

    Applications already submitted keep the levels they were given.
    """
    problems: dict[str, list[str]] = {}
    seen: set[int] = set()
    for level, above in levels:
        if isinstance(level, bool) or not isinstance(level, int) or level < 1 or level in seen:
            problems["levels"] = ["Levels are distinct whole numbers from 1."]
        if isinstance(above, bool) or not isinstance(above, int) or above < 0:
            problems["levels"] = ["Thresholds are whole amounts, 0 or more."]
        seen.add(level)
    ordered = sorted(levels)
    if any(ordered[i][1] > ordered[i + 1][1] for i in range(len(ordered) - 1)):
        problems["levels"] = ["A higher level cannot start at a smaller amount than a lower one."]
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "The approval levels are not valid.", fields=problems
        )
    before = list(ApprovalLevel.objects.values_list("level", "required_above_minor"))
    ApprovalLevel.objects.all().delete()
    created = ApprovalLevel.objects.bulk_create(
        [ApprovalLevel(level=level, required_above_minor=above) for level, above in ordered]
    )
    audit_record(
        actor=actor,
        action="lending.approval_levels.set",
        target=None,
        changes={"before": [list(pair) for pair in before], "after": [list(pair) for pair in ordered]},
    )
    return created


DEFAULT_SUB_TYPES: tuple[tuple[str, str, str], ...] = (
    (ProductType.SPECIAL, "house_land", "House / land"),
    (ProductType.SPECIAL, "vehicle", "Vehicle"),
    (ProductType.SPECIAL, "education", "Children's education"),
    (ProductType.SPECIAL, "other", "Other purposes"),
    (ProductType.EMERGENCY, "cash", "Cash"),
    (ProductType.EMERGENCY, "payroll_monthly", "Payroll deduction, monthly"),
    (ProductType.EMERGENCY, "payroll_yearly", "Payroll deduction, yearly"),
    (ProductType.EMERGENCY, "self_repaid", "Self-repaid"),
)


def loan_sub_types_seed() -> None:
    """The usual sub-types (PRODUCT.md L1); cooperatives rename them and add their own."""
    for product_type, code, name in DEFAULT_SUB_TYPES:
        LoanSubType.objects.get_or_create(code=code, defaults={"product_type": product_type, "name": name})
