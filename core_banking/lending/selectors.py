"""Reads of lending that are more than a lookup: what staff may see, and the pieces of a loan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from core_banking.lending.eligibility import Eligibility, GuarantorOffer, eligibility_check
from core_banking.lending.models import (
    ApprovalDecision,
    Loan,
    LoanApplication,
    LoanInstallment,
    LoanProduct,
    LoanSubType,
)
from core_banking.members.models import Member
from core_banking.savings.models import SavingsAccount


def products() -> QuerySet[LoanProduct]:
    return LoanProduct.objects.select_related("receivable_account", "sub_type").prefetch_related(
        "rates", "limit_rules", "guarantor_member_types"
    )


def member_visible(*, member_id: int, visible_branch_ids: list[int] | None) -> Member:
    """The member, if the user may see their branch; otherwise exactly as if they did not exist."""
    members = Member.objects.select_related("member_type", "group", "branch")
    if visible_branch_ids is not None:
        members = members.filter(branch_id__in=visible_branch_ids)
    member = members.filter(pk=member_id).first()
    if member is None:
        raise Http404
    return member


def applications_visible(*, visible_branch_ids: list[int] | None) -> QuerySet[LoanApplication]:
    found = LoanApplication.objects.select_related("member", "product", "branch", "sub_type")
    if visible_branch_ids is not None:
        found = found.filter(branch_id__in=visible_branch_ids)
    return found


def loans_visible(*, visible_branch_ids: list[int] | None) -> QuerySet[Loan]:
    found = Loan.objects.select_related("member", "product", "branch", "application")
    if visible_branch_ids is not None:
        found = found.filter(branch_id__in=visible_branch_ids)
    return found


def loan_detail(loan_id: int) -> Loan:
    return (
        Loan.objects.select_related("member", "product", "branch", "application")
        .prefetch_related(Prefetch("installments", queryset=LoanInstallment.objects.order_by("number")))
        .get(pk=loan_id)
    )


@dataclass(frozen=True)
class DecisionView:
    level: int | None
    decision: str
    reason: str
    decided_by_name: str
    decided_at: Any


def decisions(application: LoanApplication) -> list[DecisionView]:
    rows = list(ApprovalDecision.objects.filter(application_id=application.pk).order_by("id"))
    users = get_user_model().objects.in_bulk({row.decided_by_id for row in rows})
    return [
        DecisionView(
            row.level,
            row.decision,
            row.reason,
            users[row.decided_by_id].get_username() if row.decided_by_id in users else "—",
            row.decided_at,
        )
        for row in rows
    ]


def eligibility_preview(
    *,
    member: Member,
    product_id: int,
    amount_minor: int,
    installments: int,
    applied_on: Any,
    with_deferment: bool = False,
    monthly_salary_minor: int | None = None,
    collateral_value_minor: int = 0,
    collateral_description: str = "",
    pledged_savings_id: int | None = None,
    refinances_id: int | None = None,
    guarantors: Any = (),
    **_ignored: Any,
) -> Eligibility:
    """The eligibility check a submission would run, without filing anything."""
    product = LoanProduct.objects.filter(pk=product_id).first()
    if product is None:
        raise Http404
    offers = []
    for guarantor in guarantors:
        person = Member.objects.select_related("member_type").filter(pk=guarantor.member_id).first()
        if person is None:
            raise Http404
        offers.append(GuarantorOffer(person, guarantor.monthly_salary_minor, guarantor.liability_minor))
    return eligibility_check(
        member=member,
        product=product,
        amount_minor=amount_minor,
        installments=installments,
        applied_on=applied_on,
        with_deferment=with_deferment,
        monthly_salary_minor=monthly_salary_minor,
        collateral_value_minor=collateral_value_minor,
        collateral_description=collateral_description,
        pledged_savings=SavingsAccount.objects.filter(pk=pledged_savings_id).first()
        if pledged_savings_id
        else None,
        guarantors=tuple(offers),
        refinances=Loan.objects.filter(pk=refinances_id).first() if refinances_id else None,
    )


def sub_types() -> QuerySet[LoanSubType]:
    return LoanSubType.objects.filter(is_active=True)
