"""Loan applications and the approval ladder (L5, L6).

An application is refused at once only for what cannot be fixed by anyone (unknown member,
bad amounts); everything a committee judges is an eligibility check stored with it. Approval
goes level by level; nobody decides on an application they made, and one person decides at
one level only. Every decision is kept with who, when and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.lending.eligibility import Eligibility, GuarantorOffer, eligibility_check
from core_banking.lending.errors import invalid, not_found, require_positive_amount
from core_banking.lending.models import (
    ApplicationStatus,
    ApprovalDecision,
    ApprovalLevel,
    Decision,
    Guarantor,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanSubType,
)
from core_banking.lending.terms import rate_on
from core_banking.members.models import Member
from core_banking.savings.models import SavingsAccount
from core_banking.staff.roles import Capability


@dataclass(frozen=True)
class GuarantorInput:
    member_id: int
    monthly_salary_minor: int | None = None
    liability_minor: int | None = None


def next_number(kind: str, branch_id: int, prefix: str) -> str:
    """The next automatic number of ``kind`` at a branch, e.g. ``BR1-A-000042``; never given twice."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO lending_numbercounter (kind, branch_id, last_number) VALUES (%s, %s, 1)
            ON CONFLICT (kind, branch_id) DO UPDATE SET last_number = lending_numbercounter.last_number + 1
            RETURNING last_number, (SELECT code FROM organisation_branch WHERE id = %s)
            """,
            [kind, branch_id, branch_id],
        )
        number, branch_code = cursor.fetchone()
    return f"{branch_code}-{prefix}-{number:06d}"


def required_levels(amount_minor: int) -> list[int]:
    """The levels an application of this amount needs; one approval at level 1 when none are set."""
    levels = [
        level.level
        for level in ApprovalLevel.objects.order_by("level")
        if amount_minor > level.required_above_minor
    ]
    if not levels:
        lowest = ApprovalLevel.objects.order_by("level").first()
        levels = [lowest.level if lowest else 1]
    return levels


def _offers(guarantors: Sequence[GuarantorInput]) -> tuple[GuarantorOffer, ...]:
    ids = [g.member_id for g in guarantors]
    if len(set(ids)) != len(ids):
        raise invalid("guarantors", "The same person is named twice.")
    members = Member.objects.select_related("member_type").in_bulk(ids)
    missing = [str(i) for i in ids if i not in members]
    if missing:
        raise invalid("guarantors", f"Unknown members: {', '.join(missing)}.")
    return tuple(
        GuarantorOffer(members[g.member_id], g.monthly_salary_minor, g.liability_minor) for g in guarantors
    )


def _check_amounts(
    amount_minor: int, installments: int, monthly_salary_minor: int | None, collateral: int
) -> None:
    require_positive_amount(amount_minor)
    if isinstance(installments, bool) or not isinstance(installments, int) or installments < 1:
        raise invalid("installments", "A whole number of instalments, at least 1.")
    if monthly_salary_minor is not None and (
        not isinstance(monthly_salary_minor, int) or monthly_salary_minor < 0
    ):
        raise invalid("monthly_salary_minor", "A whole amount, 0 or more.")
    if not isinstance(collateral, int) or collateral < 0:
        raise invalid("collateral_value_minor", "A whole amount, 0 or more.")


@dataclass(frozen=True)
class Applied:
    application: LoanApplication
    eligibility: Eligibility


def _evaluate(application: LoanApplication, offers: tuple[GuarantorOffer, ...]) -> Eligibility:
    return eligibility_check(
        member=application.member,
        product=application.product,
        amount_minor=application.amount_minor,
        installments=application.installments,
        applied_on=application.applied_on,
        with_deferment=application.with_deferment,
        monthly_salary_minor=application.monthly_salary_minor,
        collateral_value_minor=application.collateral_value_minor,
        collateral_description=application.collateral_description,
        pledged_savings=application.pledged_savings,
        guarantors=offers,
        refinances=application.refinances,
    )


@transaction.atomic
def loan_application_submit(
    *,
    actor: Any | None,
    member_id: int,
    product_id: int,
    amount_minor: int,
    installments: int,
    applied_on: dt.date,
    number: str = "",
    sub_type_id: int | None = None,
    purpose: str = "",
    with_deferment: bool = False,
    monthly_salary_minor: int | None = None,
    collateral_value_minor: int = 0,
    collateral_description: str = "",
    pledged_savings_id: int | None = None,
    refinances_id: int | None = None,
    guarantors: Sequence[GuarantorInput] = (),
) -> Applied:
    """File an application (automatic number unless one is given) with its eligibility and levels.

    An ineligible application is refused with every reason (``LOAN_NOT_ELIGIBLE``); nothing is stored.
    """
    _check_amounts(amount_minor, installments, monthly_salary_minor, collateral_value_minor)
    member = Member.objects.select_related("member_type", "branch", "group").filter(pk=member_id).first()
    if member is None:
        raise not_found("member", "member", member_id)
    product = LoanProduct.objects.filter(pk=product_id).first()
    if product is None:
        raise not_found("loan product", "product", product_id)
    sub_type = None
    if sub_type_id is not None:
        sub_type = LoanSubType.objects.filter(pk=sub_type_id, product_type=product.product_type).first()
        if sub_type is None:
            raise invalid("sub_type", "Not a sub-type of this product's type.")
    pledged = None
    if pledged_savings_id is not None:
        pledged = SavingsAccount.objects.filter(pk=pledged_savings_id).first()
        if pledged is None:
            raise not_found("savings account", "pledged_savings", pledged_savings_id)
    refinances = None
    if refinances_id is not None:
        refinances = Loan.objects.filter(pk=refinances_id).first()
        if refinances is None:
            raise not_found("loan", "refinances", refinances_id)
    number = number.strip()
    if number and LoanApplication.objects.filter(number=number).exists():
        raise BusinessRuleViolation(
            ErrorCode.APPLICATION_NUMBER_TAKEN,
            "That application number is taken.",
            fields={"number": ["In use."]},
        )
    rate = rate_on(product, applied_on)
    if rate is None:
        raise invalid("product", "The product has no rate on the application date.")
    offers = _offers(guarantors)
    application = LoanApplication(
        number=number or "pending",
        member=member,
        product=product,
        sub_type=sub_type or product.sub_type,
        branch_id=member.branch_id,
        amount_minor=amount_minor,
        installments=installments,
        with_deferment=with_deferment,
        purpose=purpose.strip()[:300],
        monthly_salary_minor=monthly_salary_minor,
        collateral_value_minor=collateral_value_minor,
        collateral_description=collateral_description.strip()[:300],
        pledged_savings=pledged,
        refinances=refinances,
        applied_on=applied_on,
        annual_rate=rate,
        required_levels=required_levels(amount_minor),
        created_at=timezone.now(),
        created_by_id=getattr(actor, "pk", None),
    )
    eligibility = _evaluate(application, offers)
    if not eligibility.eligible:
        raise BusinessRuleViolation(
            ErrorCode.LOAN_NOT_ELIGIBLE,
            "The member is not eligible for this loan.",
            fields=eligibility.failures(),
            extra={"eligibility": eligibility.as_json()},
        )
    if not number:
        application.number = next_number("application", member.branch_id, "A")
    application.eligibility_json = eligibility.as_json()
    application.save()
    Guarantor.objects.bulk_create(
        [
            Guarantor(
                application=application,
                member=offer.member,
                monthly_salary_minor=offer.monthly_salary_minor,
                liability_minor=offer.liability_minor,
            )
            for offer in offers
        ]
    )
    audit_record(
        actor=actor,
        action="lending.application.submit",
        target=application,
        changes={
            "number": application.number,
            "member": member.number,
            "product": product.code,
            "amount_minor": amount_minor,
            "installments": installments,
            "levels": application.required_levels,
        },
    )
    return Applied(application, eligibility)


def _lock_application(application_id: int) -> LoanApplication:
    application = (
        LoanApplication.objects.select_for_update(of=("self",))
        .select_related("member__member_type", "product", "pledged_savings", "refinances")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise not_found("application", "application", application_id)
    return application


def _not_waiting(application: LoanApplication) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.APPLICATION_NOT_PENDING,
        f"Application {application.number} is {application.get_status_display()}.",
        fields={"status": [application.status]},
    )


def decisions_at_levels(application: LoanApplication) -> dict[int, ApprovalDecision]:
    """Approvals given since the application was last (re)submitted, by level."""
    last_return = (
        application.decisions.filter(decision=Decision.RETURNED)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    approvals = application.decisions.filter(decision=Decision.APPROVED)
    if last_return is not None:
        approvals = approvals.filter(id__gt=last_return)
    return {decision.level: decision for decision in approvals.order_by("id") if decision.level is not None}


def next_level(application: LoanApplication) -> int | None:
    done = decisions_at_levels(application)
    for level in application.required_levels:
        if level not in done:
            return level
    return None


@transaction.atomic
def loan_application_decide(
    *, actor: Any, application_id: int, decision: str, reason: str = ""
) -> LoanApplication:
    """An approver approves at the next level, rejects, or returns the application as incomplete."""
    if decision not in Decision.values:
        raise invalid("decision", f"One of: {', '.join(Decision.values)}.")
    profile = getattr(actor, "staff_profile", None)
    if profile is None or not profile.can(Capability.APPROVE_LOANS):
        raise BusinessRuleViolation(
            ErrorCode.PERMISSION_DENIED,
            "Only an approver decides on loans.",
            fields={"actor": ["Not an approver."]},
        )
    application = _lock_application(application_id)
    if application.status != ApplicationStatus.SUBMITTED:
        raise _not_waiting(application)
    if application.created_by_id == actor.pk:
        raise BusinessRuleViolation(
            ErrorCode.OWN_APPLICATION,
            "Nobody decides on an application they made.",
            fields={"actor": ["Made this application."]},
        )
    if decision != Decision.APPROVED and not reason.strip():
        raise invalid("reason", "Say why.")
    level = next_level(application)
    authority = profile.approver_level or 0
    if level is not None and authority < level:
        raise BusinessRuleViolation(
            ErrorCode.APPROVER_LEVEL_TOO_LOW,
            f"This application needs a level-{level} approver; you are level {authority}.",
            fields={"level": [f"Needs {level}."]},
        )
    if decision == Decision.APPROVED and any(
        earlier.decided_by_id == actor.pk for earlier in decisions_at_levels(application).values()
    ):
        raise BusinessRuleViolation(
            ErrorCode.ALREADY_DECIDED,
            "You approved an earlier level; another approver decides this one.",
            fields={"actor": ["Approved an earlier level."]},
        )
    ApprovalDecision.objects.create(
        application=application,
        level=level,
        decision=decision,
        reason=reason.strip(),
        decided_by_id=actor.pk,
        decided_at=timezone.now(),
    )
    if decision == Decision.REJECTED:
        application.status = ApplicationStatus.REJECTED
    elif decision == Decision.RETURNED:
        application.status = ApplicationStatus.RETURNED
        application.return_reasons = reason.strip()
    elif next_level(application) is None:
        application.status = ApplicationStatus.APPROVED
    application.save(update_fields=["status", "return_reasons"])
    audit_record(
        actor=actor,
        action=f"lending.application.{decision}",
        target=application,
        changes={"level": level, "reason": reason.strip(), "status": application.status},
    )
    return application


@transaction.atomic
def loan_application_resubmit(
    *,
    actor: Any | None,
    application_id: int,
    amount_minor: int | None = None,
    installments: int | None = None,
    purpose: str | None = None,
    monthly_salary_minor: int | None = None,
    collateral_value_minor: int | None = None,
    collateral_description: str | None = None,
    guarantors: Sequence[GuarantorInput] | None = None,
) -> Applied:
    """Send a returned application back for approval after fixing what was asked; approval restarts."""
    application = _lock_application(application_id)
    if application.status != ApplicationStatus.RETURNED:
        raise _not_waiting(application)
    for name, value in (
        ("amount_minor", amount_minor),
        ("installments", installments),
        ("purpose", purpose),
        ("monthly_salary_minor", monthly_salary_minor),
        ("collateral_value_minor", collateral_value_minor),
        ("collateral_description", collateral_description),
    ):
        if value is not None:
            setattr(application, name, value)
    _check_amounts(
        application.amount_minor,
        application.installments,
        application.monthly_salary_minor,
        application.collateral_value_minor,
    )
    if guarantors is not None:
        offers = _offers(guarantors)
    else:
        offers = tuple(
            GuarantorOffer(g.member, g.monthly_salary_minor, g.liability_minor)
            for g in application.guarantors.select_related("member__member_type")
        )
    eligibility = _evaluate(application, offers)
    if not eligibility.eligible:
        raise BusinessRuleViolation(
            ErrorCode.LOAN_NOT_ELIGIBLE,
            "The member is not eligible for this loan.",
            fields=eligibility.failures(),
            extra={"eligibility": eligibility.as_json()},
        )
    if guarantors is not None:
        application.guarantors.all().delete()
        Guarantor.objects.bulk_create(
            [
                Guarantor(
                    application=application,
                    member=offer.member,
                    monthly_salary_minor=offer.monthly_salary_minor,
                    liability_minor=offer.liability_minor,
                )
                for offer in offers
            ]
        )
    application.status = ApplicationStatus.SUBMITTED
    application.required_levels = required_levels(application.amount_minor)
    application.eligibility_json = eligibility.as_json()
    application.save()
    audit_record(
        actor=actor,
        action="lending.application.resubmit",
        target=application,
        changes={"amount_minor": application.amount_minor, "installments": application.installments},
    )
    return Applied(application, eligibility)


@transaction.atomic
def loan_application_withdraw(*, actor: Any | None, application_id: int, reason: str) -> LoanApplication:
    application = _lock_application(application_id)
    if application.status not in (
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.RETURNED,
        ApplicationStatus.APPROVED,
    ):
        raise _not_waiting(application)
    if not reason.strip():
        raise invalid("reason", "Say why.")
    application.status = ApplicationStatus.WITHDRAWN
    application.return_reasons = reason.strip()
    application.save(update_fields=["status", "return_reasons"])
    audit_record(
        actor=actor, action="lending.application.withdraw", target=application, changes={"reason": reason}
    )
    return application
