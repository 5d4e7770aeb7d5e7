"""Is this member eligible for this loan? Every reason it fails, each with its arithmetic (L2, L4, L5).

Read-only: the application service stores the result with the application, and the loan
officer's screen shows it before submitting. A check never stops at the first failure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db.models import Sum
from django.utils.translation import get_language, gettext

from core_banking.lending.models import (
    LimitBasis,
    Loan,
    LoanLimitRule,
    LoanProduct,
    LoanStatus,
    ProductType,
)
from core_banking.members.models import Member, MemberStatus
from core_banking.savings.models import AccountStatus, SavingsAccount
from frontend.formatting import format_money
from tenants.db import workspace_currency


@dataclass(frozen=True)
class Check:
    """One rule: its stable key, whether it passed, a sentence, and the working behind it."""

    key: str
    passed: bool
    message: str
    working: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuarantorCheck:
    member_id: int
    member_number: str
    name: str
    checks: tuple[Check, ...]

    @property
    def eligible(self) -> bool:
        return all(check.passed for check in self.checks)


@dataclass(frozen=True)
class ExistingLoan:
    number: str
    product: str
    principal_minor: int
    outstanding_minor: int
    days_past_due: int
    role: str  # "borrower" or "guarantor"


@dataclass(frozen=True)
class Eligibility:
    checks: tuple[Check, ...]
    guarantors: tuple[GuarantorCheck, ...]
    limit_minor: int | None
    existing_loans: tuple[ExistingLoan, ...] = field(default=())

    @property
    def eligible(self) -> bool:
        return all(check.passed for check in self.checks) and all(g.eligible for g in self.guarantors)

    def failures(self) -> dict[str, list[str]]:
        """The failed checks by key, as the API's field messages."""
        found: dict[str, list[str]] = {}
        for check in self.checks:
            if not check.passed:
                found.setdefault(check.key, []).append(check.message)
        for guarantor in self.guarantors:
            for check in guarantor.checks:
                if not check.passed:
                    found.setdefault("guarantors", []).append(f"{guarantor.member_number}: {check.message}")
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "limit_minor": self.limit_minor,
            "checks": [asdict(check) for check in self.checks],
            "guarantors": [
                {**asdict(guarantor), "eligible": guarantor.eligible} for guarantor in self.guarantors
            ],
            "existing_loans": [asdict(loan) for loan in self.existing_loans],
        }


@dataclass(frozen=True)
class GuarantorOffer:
    member: Member
    monthly_salary_minor: int | None = None
    liability_minor: int | None = None


def _money(amount_minor: int) -> str:
    return format_money(amount_minor, workspace_currency(), get_language() or "en")


def _months_between(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (1 if end.day < start.day else 0)


def member_share_capital_minor(member: Member) -> int:
    from core_banking.shares.models import ShareAccount

    account = ShareAccount.objects.filter(member_id=member.pk).first()
    return account.balance_minor if account is not None else 0


def member_savings_minor(member: Member) -> int:
    total = (
        SavingsAccount.objects.filter(member_id=member.pk)
        .exclude(status=AccountStatus.CLOSED)
        .aggregate(total=Sum("balance_minor"))["total"]
    )
    return int(total or 0)


def member_outstanding_minor(member: Member) -> int:
    total = Loan.objects.filter(member_id=member.pk, status=LoanStatus.ACTIVE).aggregate(
        total=Sum("principal_outstanding_minor")
    )["total"]
    return int(total or 0)


def live_guarantees_count(member: Member) -> int:
    return Loan.objects.filter(application__guarantors__member_id=member.pk, status=LoanStatus.ACTIVE).count()


def existing_loans(member: Member) -> tuple[ExistingLoan, ...]:
    borrowed = Loan.objects.filter(member_id=member.pk, status=LoanStatus.ACTIVE).select_related("product")
    guaranteed = Loan.objects.filter(
        application__guarantors__member_id=member.pk, status=LoanStatus.ACTIVE
    ).select_related("product")
    return tuple(
        ExistingLoan(
            number=loan.number,
            product=loan.product.name,
            principal_minor=loan.principal_minor,
            outstanding_minor=loan.principal_outstanding_minor,
            days_past_due=loan.days_past_due,
            role=role,
        )
        for role, loans in (("borrower", borrowed), ("guarantor", guaranteed))
        for loan in loans.order_by("number")
    )


def _cap(
    rule: LoanLimitRule,
    *,
    member: Member,
    monthly_salary_minor: int | None,
    collateral_value_minor: int,
    membership_months: int,
) -> tuple[int, str]:
    """One rule's cap and the line of arithmetic behind it."""
    factor = rule.factor.normalize()
    if rule.basis == LimitBasis.FIXED:
        return rule.amount_minor, gettext("Fixed limit: %(amount)s") % {"amount": _money(rule.amount_minor)}
    if rule.basis == LimitBasis.MEMBERSHIP_YEARS:
        years = membership_months // 12
        cap = years * rule.amount_minor
        return cap, gettext("%(years)s full years of membership × %(per_year)s = %(cap)s") % {
            "years": years,
            "per_year": _money(rule.amount_minor),
            "cap": _money(cap),
        }
    bases = {
        LimitBasis.SHARE_CAPITAL: (member_share_capital_minor(member), gettext("Share capital")),
        LimitBasis.DEPOSITS: (member_savings_minor(member), gettext("Savings")),
        LimitBasis.SALARY: (monthly_salary_minor or 0, gettext("Monthly salary")),
        LimitBasis.COLLATERAL: (collateral_value_minor, gettext("Collateral value")),
    }
    base, label = bases[LimitBasis(rule.basis)]
    multiplier = rule.factor / 100 if rule.basis == LimitBasis.COLLATERAL else rule.factor
    cap = int((Decimal(base) * multiplier).to_integral_value(rounding=ROUND_DOWN))
    shown = f"{factor}%" if rule.basis == LimitBasis.COLLATERAL else f"{factor}"
    return cap, f"{label} {_money(base)} × {shown} = {_money(cap)}"


def _limit(
    product: LoanProduct,
    *,
    member: Member,
    monthly_salary_minor: int | None,
    collateral_value_minor: int,
    membership_months: int,
) -> tuple[int | None, list[str], list[Check]]:
    caps: list[int] = []
    working: list[str] = []
    checks: list[Check] = []
    if product.maximum_amount_minor is not None:
        caps.append(product.maximum_amount_minor)
        working.append(
            gettext("Product maximum: %(amount)s") % {"amount": _money(product.maximum_amount_minor)}
        )
    for rule in product.limit_rules.select_related("member_type").order_by("id"):
        if rule.member_type_id is not None and rule.member_type_id != member.member_type_id:
            continue
        if membership_months < rule.minimum_membership_months:
            checks.append(
                Check(
                    "membership_duration",
                    False,
                    gettext("Member for %(months)s months; this loan needs %(needed)s.")
                    % {"months": membership_months, "needed": rule.minimum_membership_months},
                )
            )
            continue
        if rule.basis == LimitBasis.SALARY and monthly_salary_minor is None:
            checks.append(
                Check("monthly_salary_minor", False, gettext("The monthly salary is needed for the limit."))
            )
            continue
        cap, line = _cap(
            rule,
            member=member,
            monthly_salary_minor=monthly_salary_minor,
            collateral_value_minor=collateral_value_minor,
            membership_months=membership_months,
        )
        caps.append(cap)
        working.append(line)
    limit = min(caps) if caps else None
    if limit is not None and len(caps) > 1:
        working.append(gettext("Limit: the smallest of these, %(limit)s") % {"limit": _money(limit)})
    return limit, working, checks


def _guarantor_checks(
    product: LoanProduct, offer: GuarantorOffer, *, borrower: Member, allowed_type_ids: set[int]
) -> GuarantorCheck:
    person = offer.member
    checks = []
    if person.pk == borrower.pk:
        checks.append(Check("guarantor_self", False, gettext("A borrower cannot guarantee their own loan.")))
    if person.status != MemberStatus.ACTIVE:
        checks.append(
            Check(
                "guarantor_status",
                False,
                gettext("Not an active member (%(status)s).") % {"status": person.get_status_display()},
            )
        )
    if allowed_type_ids and person.member_type_id not in allowed_type_ids:
        checks.append(
            Check(
                "guarantor_member_type",
                False,
                gettext("Member type %(type)s may not guarantee this product.")
                % {"type": person.member_type.name},
            )
        )
    if product.maximum_guarantees_per_person is not None:
        count = live_guarantees_count(person)
        checks.append(
            Check(
                "guarantor_contracts",
                count < product.maximum_guarantees_per_person,
                gettext("Guarantees %(count)s live loans; at most %(most)s allowed.")
                % {"count": count, "most": product.maximum_guarantees_per_person},
            )
        )
    if product.guarantor_minimum_salary_minor is not None:
        salary = offer.monthly_salary_minor
        checks.append(
            Check(
                "guarantor_salary",
                salary is not None and salary >= product.guarantor_minimum_salary_minor,
                gettext("Monthly salary %(salary)s; at least %(least)s needed.")
                % {
                    "salary": _money(salary) if salary is not None else "—",
                    "least": _money(product.guarantor_minimum_salary_minor),
                },
            )
        )
    if product.guarantor_maximum_liability_minor is not None:
        owed = member_outstanding_minor(person)
        checks.append(
            Check(
                "guarantor_liability",
                owed <= product.guarantor_maximum_liability_minor,
                gettext("Owes %(owed)s on own loans; at most %(most)s allowed.")
                % {"owed": _money(owed), "most": _money(product.guarantor_maximum_liability_minor)},
            )
        )
    return GuarantorCheck(person.pk, person.number, person.full_name, tuple(checks))


def eligibility_check(
    *,
    member: Member,
    product: LoanProduct,
    amount_minor: int,
    installments: int,
    applied_on: dt.date,
    with_deferment: bool = False,
    monthly_salary_minor: int | None = None,
    collateral_value_minor: int = 0,
    collateral_description: str = "",
    pledged_savings: SavingsAccount | None = None,
    guarantors: tuple[GuarantorOffer, ...] = (),
    refinances: Loan | None = None,
) -> Eligibility:
    checks: list[Check] = []
    status_ok = member.status == MemberStatus.ACTIVE
    checks.append(
        Check(
            "member_status",
            status_ok,
            gettext("Member status: %(status)s.") % {"status": member.get_status_display()},
        )
    )
    checks.append(
        Check(
            "product",
            product.is_active,
            gettext("%(product)s is open for applications.") % {"product": product.name}
            if product.is_active
            else gettext("%(product)s is closed to new applications.") % {"product": product.name},
        )
    )
    if amount_minor < product.minimum_amount_minor:
        checks.append(
            Check(
                "amount_minor",
                False,
                gettext("%(amount)s is below the smallest loan, %(least)s.")
                % {"amount": _money(amount_minor), "least": _money(product.minimum_amount_minor)},
            )
        )
    most = product.maximum_installments
    if with_deferment and product.maximum_installments_with_deferment:
        most = product.maximum_installments_with_deferment
    checks.append(
        Check(
            "installments",
            1 <= installments <= most,
            gettext("%(count)s instalments; at most %(most)s.") % {"count": installments, "most": most},
        )
    )
    membership_months = _months_between(member.join_date, applied_on)
    limit, working, limit_checks = _limit(
        product,
        member=member,
        monthly_salary_minor=monthly_salary_minor,
        collateral_value_minor=collateral_value_minor,
        membership_months=membership_months,
    )
    checks.extend(limit_checks)
    if limit is not None:
        checks.append(
            Check(
                "limit",
                amount_minor <= limit,
                gettext("Applied for %(amount)s; limit %(limit)s.")
                % {"amount": _money(amount_minor), "limit": _money(limit)},
                tuple(working),
            )
        )
    if product.share_security_percent:
        needed = int(
            (Decimal(amount_minor) * product.share_security_percent / 100).to_integral_value(
                rounding="ROUND_UP"
            )
        )
        held = member_share_capital_minor(member)
        checks.append(
            Check(
                "share_security",
                held >= needed,
                gettext("Share capital %(held)s; %(percent)s%% of the loan, %(needed)s, is needed.")
                % {
                    "held": _money(held),
                    "percent": product.share_security_percent.normalize(),
                    "needed": _money(needed),
                },
            )
        )
    if product.deposit_security_percent:
        needed = int(
            (Decimal(amount_minor) * product.deposit_security_percent / 100).to_integral_value(
                rounding="ROUND_UP"
            )
        )
        if pledged_savings is None or pledged_savings.member_id != member.pk:
            checks.append(
                Check("pledged_savings", False, gettext("A savings account of the member must be pledged."))
            )
        else:
            available = pledged_savings.balance_minor - pledged_savings.lien_minor
            checks.append(
                Check(
                    "pledged_savings",
                    available >= needed,
                    gettext("Savings %(account)s has %(available)s free; %(needed)s is pledged.")
                    % {
                        "account": pledged_savings.number,
                        "available": _money(available),
                        "needed": _money(needed),
                    },
                )
            )
    if product.requires_collateral:
        checks.append(
            Check(
                "collateral",
                collateral_value_minor > 0 and bool(collateral_description.strip()),
                gettext("Collateral and its value are required."),
            )
        )
    if refinances is not None:
        checks.append(
            Check(
                "refinances",
                refinances.member_id == member.pk and refinances.status == LoanStatus.ACTIVE,
                gettext("Loan %(number)s is refinanced.") % {"number": refinances.number}
                if refinances.member_id == member.pk and refinances.status == LoanStatus.ACTIVE
                else gettext("Only an active loan of the same member can be refinanced."),
            )
        )
    guarantor_checks: list[GuarantorCheck] = []
    if product.product_type != ProductType.EMERGENCY or product.minimum_guarantors:
        allowed = set(product.guarantor_member_types.values_list("id", flat=True))
        distinct = {offer.member.pk for offer in guarantors}
        if product.minimum_guarantors:
            checks.append(
                Check(
                    "guarantors",
                    len(distinct) >= product.minimum_guarantors,
                    gettext("%(count)s guarantors; %(needed)s required.")
                    % {"count": len(distinct), "needed": product.minimum_guarantors},
                )
            )
        guarantor_checks = [
            _guarantor_checks(product, offer, borrower=member, allowed_type_ids=allowed)
            for offer in guarantors
        ]
    return Eligibility(
        checks=tuple(checks),
        guarantors=tuple(guarantor_checks),
        limit_minor=limit,
        existing_loans=existing_loans(member),
    )
