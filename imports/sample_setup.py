"""The sample legacy workbook's products in the current workspace: what the tests, the benchmark and
anyone trying the sample in a fresh workspace need before its dry run passes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core_banking.lending.models import LoanProduct
from core_banking.lending.services import loan_product_create
from core_banking.savings.models import SavingsProduct
from core_banking.savings.services import savings_product_create


def sample_products_ensure() -> None:
    """The sample's products, as the demo has them: compulsory (CMP), voluntary (VOL) and fixed (FDR)
    savings, and a loan (GEN)."""
    opened = dt.date(2010, 1, 1)
    for code, kind, extra in (
        ("CMP", "compulsory", {}),
        ("VOL", "voluntary", {}),
        ("FDR", "fixed", {"term_months": 60, "withdrawals_allowed": False}),
    ):
        if SavingsProduct.objects.filter(code=code).exists():
            continue
        savings_product_create(
            actor=None,
            code=code,
            name=code,
            kind=kind,
            annual_rate=Decimal("6.5"),
            rate_effective_from=opened,
            **extra,
        )
    if LoanProduct.objects.filter(code="GEN").exists():
        return
    loan_product_create(
        actor=None,
        code="GEN",
        name="General loan",
        product_type="ordinary",
        annual_rate=Decimal("12"),
        rate_effective_from=opened,
        default_installments=12,
        maximum_installments=104,
        interest_method="flat",
        amortization="equal_installments",
        interest_period="same_as_repayment",
        days_in_year="365",
        days_in_month="actual",
        frequency="monthly",
        minimum_amount_minor=1_00,
        maximum_amount_minor=10_000_000_00,
    )
