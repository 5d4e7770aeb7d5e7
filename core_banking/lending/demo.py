"""The demo's lending: products, an approval ladder, applications at every step and loans with
repayments, made through the services by the demo's own staff (registered in
``tenants.demo.DEMO_EXTENSIONS``).

Idempotent: products are found by code, applications by their demo number, and money movements
carry fixed idempotency keys, so loading again adds nothing. Dates count back from the
cooperative's business date, so the demo always has loans due, paid and overdue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from control_plane.identity.models import User
from core_banking.lending.models import ApplicationStatus, LoanApplication, LoanProduct, LoanStatus
from core_banking.lending.services import (
    approval_levels_set,
    loan_application_decide,
    loan_application_submit,
    loan_disburse,
    loan_product_create,
    loan_repay,
    loan_sub_types_seed,
)
from core_banking.members.models import Member, MemberStatus

if TYPE_CHECKING:
    from tenants.demo import DemoCooperative
    from tenants.models import Cooperative

KEY_PREFIX = "demo-lending"


@dataclass(frozen=True)
class DemoLoan:
    """One demo application: how far it got, and for a loan how many instalments were paid."""

    number: str
    product: str
    amount_minor: int
    installments: int
    stage: str  # submitted, approved_once, returned, approved, disbursed
    days_ago: int = 0  # disbursed this many days before the business date
    paid_installments: int = 0


@dataclass(frozen=True)
class DemoLending:
    ladder: tuple[tuple[int, int], ...]
    products: tuple[dict[str, Any], ...]
    loans: tuple[DemoLoan, ...]
    maker: str
    approvers: tuple[str, ...]
    teller: str


RUPALI = DemoLending(
    ladder=((1, 0), (2, 100_000_00)),
    products=(
        {
            "code": "GEN",
            "name": "সাধারণ ঋণ",
            "product_type": "ordinary",
            "annual_rate": Decimal("12"),
            "default_installments": 12,
            "maximum_installments": 24,
            "interest_method": "declining",
            "frequency": "monthly",
            "minimum_amount_minor": 10_000_00,
            "maximum_amount_minor": 500_000_00,
            "fee_kind": "percent",
            "fee_percent": Decimal("1"),
            "penalty_kind": "flat",
            "penalty_flat_minor": 50_00,
            "penalty_grace_days": 3,
        },
        {
            "code": "SAM",
            "name": "সাপ্তাহিক সমিতি ঋণ",
            "product_type": "ordinary",
            "annual_rate": Decimal("10"),
            "default_installments": 46,
            "maximum_installments": 52,
            "interest_method": "flat",
            "frequency": "weekly",
            "installment_multiple_minor": 1_00,
            "follows_group_meetings": True,
            "minimum_days_to_first_meeting": 15,
        },
        {
            "code": "EMG",
            "name": "জরুরি ঋণ",
            "product_type": "emergency",
            "annual_rate": Decimal("9"),
            "default_installments": 6,
            "maximum_installments": 6,
            "interest_method": "declining",
            "amortization": "equal_principal",
            "frequency": "monthly",
            "maximum_amount_minor": 50_000_00,
        },
    ),
    loans=(
        DemoLoan("DEMO-A-01", "GEN", 150_000_00, 12, "disbursed", days_ago=130, paid_installments=4),
        DemoLoan("DEMO-A-02", "GEN", 60_000_00, 12, "disbursed", days_ago=100, paid_installments=1),
        DemoLoan("DEMO-A-03", "SAM", 30_000_00, 46, "disbursed", days_ago=90, paid_installments=9),
        DemoLoan("DEMO-A-04", "SAM", 25_000_00, 46, "disbursed", days_ago=40, paid_installments=2),
        DemoLoan("DEMO-A-05", "EMG", 20_000_00, 6, "disbursed", days_ago=45, paid_installments=0),
        DemoLoan("DEMO-A-06", "GEN", 80_000_00, 12, "approved"),
        DemoLoan("DEMO-A-07", "GEN", 250_000_00, 24, "approved_once"),
        DemoLoan("DEMO-A-08", "SAM", 20_000_00, 46, "submitted"),
        DemoLoan("DEMO-A-09", "GEN", 40_000_00, 12, "returned"),
    ),
    maker="loanofficer",
    approvers=("approver1", "approver2"),
    teller="accountant",
)

BINHMINH = DemoLending(
    ladder=((1, 0),),
    products=(
        {
            "code": "SXKD",
            "name": "Vay sản xuất kinh doanh",
            "product_type": "ordinary",
            "annual_rate": Decimal("9.6"),
            "default_installments": 12,
            "maximum_installments": 36,
            "interest_method": "declining",
            "frequency": "monthly",
            "rounding": "half_up",
            "installment_multiple_minor": 1_000,
        },
    ),
    loans=(
        DemoLoan("DEMO-A-01", "SXKD", 30_000_000, 12, "disbursed", days_ago=120, paid_installments=3),
        DemoLoan("DEMO-A-02", "SXKD", 15_000_000, 12, "disbursed", days_ago=70, paid_installments=1),
        DemoLoan("DEMO-A-03", "SXKD", 50_000_000, 24, "submitted"),
    ),
    maker="manager",
    approvers=("approver1",),
    teller="accountant",
)


def _products(plan: DemoLending, today: dt.date) -> dict[str, LoanProduct]:
    products = {}
    for spec in plan.products:
        settings = dict(spec)
        code = settings.pop("code")
        existing = LoanProduct.objects.filter(code=code).first()
        products[code] = existing or loan_product_create(
            actor=None,
            code=code,
            name=settings.pop("name"),
            product_type=settings.pop("product_type"),
            annual_rate=settings.pop("annual_rate"),
            rate_effective_from=today - dt.timedelta(days=400),
            **settings,
        )
    return products


def _decide(application: LoanApplication, approvers: list[User], *, levels: int) -> None:
    for approver in approvers[:levels]:
        loan_application_decide(actor=approver, application_id=application.pk, decision="approved")


def lending_demo_load(cooperative: Cooperative, demo: DemoCooperative) -> None:
    """Products, the approval ladder, applications at each step and loans with repayments."""
    plan = {"rupali": RUPALI, "binhminh": BINHMINH}.get(cooperative.slug)
    if plan is None:
        return
    members = list(Member.objects.filter(status=MemberStatus.ACTIVE).order_by("id"))
    if len(members) < len(plan.loans):
        return
    today = cooperative.business_date()
    loan_sub_types_seed()
    from core_banking.lending.models import ApprovalLevel

    if not ApprovalLevel.objects.exists():
        approval_levels_set(actor=None, levels=list(plan.ladder))
    products = _products(plan, today)
    maker = User.objects.get(username=plan.maker)
    approvers = [User.objects.get(username=name) for name in plan.approvers]
    teller = User.objects.get(username=plan.teller)
    for index, item in enumerate(plan.loans):
        if LoanApplication.objects.filter(number=item.number).exists():
            continue
        member = members[index * 3 % len(members)]
        disbursed_on = today - dt.timedelta(days=item.days_ago)
        applied_on = disbursed_on - dt.timedelta(days=7) if item.stage == "disbursed" else today
        application = loan_application_submit(
            actor=maker,
            member_id=member.pk,
            product_id=products[item.product].pk,
            amount_minor=item.amount_minor,
            installments=item.installments,
            applied_on=applied_on,
            number=item.number,
            purpose="Demo",
        ).application
        if item.stage == "returned":
            loan_application_decide(
                actor=approvers[0],
                application_id=application.pk,
                decision="returned",
                reason="Salary slip missing",
            )
            continue
        if item.stage == "approved_once":
            _decide(application, approvers, levels=1)
            continue
        if item.stage == "submitted":
            continue
        _decide(application, approvers, levels=len(application.required_levels))
        application.refresh_from_db()
        if item.stage != "disbursed" or application.status != ApplicationStatus.APPROVED:
            continue
        loan = loan_disburse(
            actor=teller,
            application_id=application.pk,
            disbursed_on=disbursed_on,
            idempotency_key=f"{KEY_PREFIX}:{item.number}:disburse",
        )
        rows = list(loan.installments.order_by("number"))
        for row in rows[: item.paid_installments]:
            if row.due_date > today or loan.status != LoanStatus.ACTIVE:
                break
            loan_repay(
                actor=teller,
                loan_id=loan.pk,
                amount_minor=row.principal_minor + row.interest_minor + row.fee_minor,
                value_date=row.due_date,
                idempotency_key=f"{KEY_PREFIX}:{item.number}:{row.number}",
            )
