"""The demo's office vouchers: rent and stationery paid, admission fees received, posted once."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from core_banking.accounting.demo import MONTHS, accounting_demo_load
from core_banking.accounting.models import Voucher
from core_banking.ledger.models import JournalLine
from core_banking.ledger.services import ledger_verify
from tenants.demo import DEMO_COOPERATIVES
from tests.conftest import Workspace


def test_demo_vouchers_are_posted_once_with_real_amounts(alpha: Workspace) -> None:
    rupali = next(demo for demo in DEMO_COOPERATIVES if demo.spec.slug == "rupali")
    cooperative = alpha.cooperative()
    with tenant_context(cooperative):
        accounting_demo_load(cooperative, rupali)
        accounting_demo_load(cooperative, rupali)
        assert Voucher.objects.count() == 3 * MONTHS
        expenses = JournalLine.objects.filter(account__code="5300").values_list("debit_minor", flat=True)
        fees = JournalLine.objects.filter(account__code="4300").values_list("credit_minor", flat=True)
        assert sum(expenses) == MONTHS * (8_000_00 + 1_250_00)
        assert sum(fees) == MONTHS * 2_400_00
        assert ledger_verify().reason == ""
