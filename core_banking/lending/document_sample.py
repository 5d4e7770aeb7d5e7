"""A made-up loan for previewing a document's wording in a workspace that has no loan yet.

Nothing here is saved or read from a member: unsaved model instances (so the default templates read
them as they read real ones) and a schedule from the engine for plain terms. Each function returns
the context ``core_banking.lending.documents`` builds for the same kind from real rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext

from core_banking.lending import page_selectors
from core_banking.lending.models import (
    FeeKind,
    Frequency,
    Guarantor,
    InterestMethod,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanStatus,
    LoanTransaction,
    LoanTransactionKind,
    ProductType,
    RepaymentSource,
)
from core_banking.lending.schedule import schedule_generate, terms_from_json
from core_banking.lending.services import PayoffQuote
from core_banking.members.models import Member
from core_banking.organisation.models import Branch
from core_banking.reporting.outputs import Presentation

RATE = Decimal(12)
INSTALLMENTS = 12


def _principal_minor(presentation: Presentation) -> int:
    # Tk 1,00,000.00 / ฿100,000.00; 100,000,000 ₫ where the currency has no minor unit.
    return 100_000 * 10**presentation.exponent if presentation.exponent else 100_000_000


def _terms(presentation: Presentation, principal_minor: int, on: dt.date) -> dict[str, Any]:
    return {
        "principal": str(presentation.major_units(principal_minor)),
        "currency": presentation.currency,
        "annual_rate": str(RATE),
        "interest_method": InterestMethod.DECLINING.value,
        "amortization": "equal_installments",
        "interest_period": "same_as_repayment",
        "days_in_year": 360,
        "days_in_month": 30,
        "frequency": Frequency.MONTHLY.value,
        "repay_every": 1,
        "installments": INSTALLMENTS,
        "disbursement_date": on.isoformat(),
        "rounding": "half_even",
        "grace_principal": 0,
        "grace_interest_payment": 0,
        "interest_free_periods": 0,
    }


def sample_context(kind: str, presentation: Presentation, today: dt.date) -> dict[str, Any]:
    """The context of a document of ``kind`` for a made-up loan paid out ``today``."""
    principal = _principal_minor(presentation)
    rows = page_selectors.projected_rows(
        schedule_generate(terms_from_json(_terms(presentation, principal, today)))
    )
    totals = page_selectors.schedule_totals(rows)
    branch = Branch.objects.filter(is_head_office=True).first()
    member = Member(full_name=gettext("Sample member"), number="SAMPLE-000001", branch=branch)
    product = LoanProduct(
        code="SAMPLE",
        name=gettext("Sample loan product"),
        product_type=ProductType.ORDINARY,
        default_installments=INSTALLMENTS,
        maximum_installments=INSTALLMENTS,
        interest_method=InterestMethod.DECLINING,
        frequency=Frequency.MONTHLY,
        fee_kind="",
    )
    application = LoanApplication(
        number="SAMPLE-A-000001",
        member=member,
        product=product,
        branch=branch,
        amount_minor=principal,
        installments=INSTALLMENTS,
        annual_rate=RATE,
        applied_on=today,
    )
    loan = Loan(
        number="SAMPLE-L-000001",
        application=application,
        member=member,
        product=product,
        branch=branch,
        principal_minor=principal,
        disbursed_on=today,
        status=LoanStatus.ACTIVE,
    )
    base: dict[str, Any] = {
        "loan": loan,
        "application": application,
        "member": member,
        "product": product,
        "branch": branch,
        "rows": rows,
        "totals": totals,
        "projected": False,
    }
    if kind == "schedule":
        return base
    guarantor = Guarantor(
        application=application,
        member=Member(full_name=gettext("Sample guarantor"), number="SAMPLE-000002", branch=branch),
    )
    contract = {
        **base,
        "first_due": rows[0].due_date,
        "last_due": rows[-1].due_date,
        "installment_minor": rows[0].due_minor,
        "last_installment_minor": rows[-1].due_minor,
        "allocation_order": [str(part) for part in product.allocation_order],
        "fee_flat": product.fee_kind == FeeKind.FLAT,
        "fee_percent": product.fee_kind == FeeKind.PERCENT,
        "penalty_flat": False,
        "penalty_percent": False,
        "guarantors": [guarantor],
        "fee_minor": 0,
    }
    if kind == "contract":
        return contract
    if kind == "guarantee":
        return {**contract, "guarantor": guarantor, "guaranteed_minor": principal}
    if kind == "payoff":
        quote = PayoffQuote(
            loan_number=loan.number,
            on_date=today,
            principal_minor=principal,
            interest_minor=0,
            fee_minor=0,
            penalty_minor=0,
            interest_accrued_minor=0,
            interest_paid_minor=0,
        )
        return {**base, "quote": quote, "on_date": today}
    first = rows[0]
    if kind == "receipt":
        payment = LoanTransaction(
            id=1,
            loan=loan,
            kind=LoanTransactionKind.REPAYMENT,
            value_date=first.due_date,
            amount_minor=first.due_minor,
            principal_minor=first.principal_minor,
            interest_minor=first.interest_minor,
            source=RepaymentSource.CASH,
        )
        return {
            **base,
            "payment": payment,
            "reversed": False,
            "principal_after_minor": principal - first.principal_minor,
        }
    year = today.year
    lines = [page_selectors.InterestLine(loan, first.interest_minor, 0)]
    return {
        "member": member,
        "branch": branch,
        "year": year,
        "lines": lines,
        "interest_minor": first.interest_minor,
        "penalty_minor": 0,
        "period_start": dt.date(year, 1, 1),
        "period_end": dt.date(year, 12, 31),
    }
