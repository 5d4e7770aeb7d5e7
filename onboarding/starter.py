"""Starter products for a cooperative that signs up online, per country, named in its language.

Provisioning seeds the chart of accounts, member types and the head office; a new cooperative
also finds a compulsory and a voluntary savings product and an ordinary loan product ready,
with the rates such cooperatives commonly start from. They are ordinary products: the
cooperative edits them, or adds its own, before its first member joins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from tenants.models import Cooperative


@dataclass(frozen=True)
class StarterRates:
    compulsory: Decimal
    voluntary: Decimal
    loan: Decimal
    loan_settings: dict[str, Any] = field(default_factory=dict)


STARTER_RATES: dict[str, StarterRates] = {
    "BD": StarterRates(Decimal("5.0"), Decimal("4.0"), Decimal("12.0")),
    "VN": StarterRates(Decimal("1.0"), Decimal("3.0"), Decimal("9.6"), {"rounding": "half_up"}),
    "TH": StarterRates(Decimal("3.0"), Decimal("2.5"), Decimal("6.0")),
}
DEFAULT_RATES = StarterRates(Decimal("3.0"), Decimal("2.0"), Decimal("10.0"))


def starter_products_seed(*, cooperative: Cooperative) -> None:
    """Inside the cooperative's workspace: its starter savings and loan products (idempotent)."""
    from core_banking.lending.models import LoanProduct
    from core_banking.lending.services import loan_product_create
    from core_banking.savings.models import InterestMethod, InterestPeriod, SavingsKind, SavingsProduct
    from core_banking.savings.services import savings_product_create

    rates = STARTER_RATES.get(cooperative.country, DEFAULT_RATES)
    start = cooperative.business_date().replace(day=1) - dt.timedelta(days=1)
    with translation.override(cooperative.default_language):
        if not SavingsProduct.objects.filter(code="CMP").exists():
            savings_product_create(
                actor=None,
                code="CMP",
                name=_("Compulsory savings"),
                kind=SavingsKind.COMPULSORY,
                annual_rate=rates.compulsory,
                rate_effective_from=start,
                withdrawals_allowed=False,
                interest_method=InterestMethod.MONTHLY_MINIMUM_BALANCE,
                posting_period=InterestPeriod.YEARLY,
            )
        if not SavingsProduct.objects.filter(code="VOL").exists():
            savings_product_create(
                actor=None,
                code="VOL",
                name=_("Voluntary savings"),
                kind=SavingsKind.VOLUNTARY,
                annual_rate=rates.voluntary,
                rate_effective_from=start,
                interest_method=InterestMethod.DAILY_BALANCE,
                posting_period=InterestPeriod.QUARTERLY,
            )
        if not LoanProduct.objects.filter(code="GEN").exists():
            loan_product_create(
                actor=None,
                code="GEN",
                name=_("Ordinary loan"),
                product_type="ordinary",
                annual_rate=rates.loan,
                rate_effective_from=start,
                default_installments=12,
                maximum_installments=24,
                interest_method="declining",
                frequency="monthly",
                **rates.loan_settings,
            )
