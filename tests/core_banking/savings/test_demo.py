"""The demo's savings and shares: products, accounts and movements of real sizes, posted once."""

from __future__ import annotations

from django.db.models import Sum
from django_tenants.utils import tenant_context

from core_banking.ledger.services import ledger_verify
from core_banking.members.demo import members_demo_load
from core_banking.members.models import Member
from core_banking.savings.demo import savings_demo_load
from core_banking.savings.models import SavingsAccount, SavingsProduct, SavingsRate, SavingsTransaction
from core_banking.savings.services import product_balances_total
from core_banking.shares.demo import shares_demo_load
from core_banking.shares.models import ShareAccount, ShareSettings, ShareTransaction
from notifications.models import OutboxMessage
from tenants.demo import DEMO_COOPERATIVES, DEMO_EXTENSIONS, _load_organisation_and_staff
from tests.conftest import Workspace


def test_the_demo_loads_savings_and_shares_after_the_members() -> None:
    members = DEMO_EXTENSIONS.index(members_demo_load)
    assert DEMO_EXTENSIONS.index(savings_demo_load) > members
    assert DEMO_EXTENSIONS.index(shares_demo_load) > members


def _counts() -> tuple[int, ...]:
    return (
        SavingsProduct.objects.count(),
        SavingsRate.objects.count(),
        SavingsAccount.objects.count(),
        SavingsTransaction.objects.count(),
        ShareTransaction.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_rupali_savings_and_shares_loaded_twice_are_posted_once(alpha: Workspace) -> None:
    rupali = next(demo for demo in DEMO_COOPERATIVES if demo.spec.slug == "rupali")
    cooperative = alpha.cooperative()
    cooperative.slug = "rupali"  # in memory only: the loaders pick their data set by slug
    with tenant_context(cooperative):
        _load_organisation_and_staff(cooperative, rupali)
        members_demo_load(cooperative, rupali)
        savings_demo_load(cooperative, rupali)
        shares_demo_load(cooperative, rupali)
        first = _counts()
        savings_demo_load(cooperative, rupali)
        shares_demo_load(cooperative, rupali)
        assert _counts() == first

        products = {product.code: product for product in SavingsProduct.objects.all()}
        assert {code: product.kind for code, product in products.items()} == {
            "CMP": "compulsory",
            "VOL": "voluntary",
            "FDR": "fixed",
        }
        assert products["VOL"].rates.count() == 2  # a rate change is scheduled
        assert products["FDR"].term_months == 12
        members = Member.objects.count()
        assert SavingsAccount.objects.filter(product__code="CMP").count() == members == 30
        assert SavingsAccount.objects.filter(product__code="VOL").count() == 15
        assert SavingsAccount.objects.filter(product__code="FDR").count() == 5
        # Every account holds what its movements add up to, and the ledger agrees per product.
        for account in SavingsAccount.objects.annotate(total=Sum("transactions__amount_minor")):
            assert account.balance_minor == (account.total or 0) > 0  # type: ignore[attr-defined]
        for product_id, total in product_balances_total(list(products.values())).items():
            product = next(product for product in products.values() if product.pk == product_id)
            assert product.control_account.code == f"2100-{product.code}"
            assert total > 0
        assert SavingsTransaction.objects.filter(kind="withdrawal").exists()
        amounts = set(
            SavingsTransaction.objects.filter(kind="deposit").values_list("amount_minor", flat=True)
        )
        assert {200_00, 300_00, 500_00} <= amounts  # Tk 200-500 a month of compulsory savings
        # Every member holds shares of Tk 100 within the terms.
        terms = ShareSettings.objects.get()
        assert (terms.nominal_value_minor, terms.minimum_shares, terms.maximum_shares) == (100_00, 5, 1000)
        holdings = list(ShareAccount.objects.values_list("shares", "balance_minor"))
        assert len(holdings) == 30
        assert all(shares >= 5 and balance == shares * 100_00 for shares, balance in holdings)
        assert ledger_verify().first_broken_entry_id is None


def test_binhminh_savings_in_dong(beta: Workspace) -> None:
    binhminh = next(demo for demo in DEMO_COOPERATIVES if demo.spec.slug == "binhminh")
    cooperative = beta.cooperative()
    cooperative.slug = "binhminh"
    with tenant_context(cooperative):
        _load_organisation_and_staff(cooperative, binhminh)
        members_demo_load(cooperative, binhminh)
        savings_demo_load(cooperative, binhminh)
        shares_demo_load(cooperative, binhminh)
        assert SavingsProduct.objects.get(code="VOL").name == "Tiết kiệm tự nguyện"
        fixed = SavingsTransaction.objects.filter(account__product__code="FDR")
        assert set(fixed.values_list("amount_minor", flat=True)) <= {20_000_000, 50_000_000}  # dong
        assert ShareSettings.objects.get().nominal_value_minor == 100_000
        assert ShareAccount.objects.count() == 30
