"""The demo's lending: applications at every step and loans with repayments, loaded once."""

from __future__ import annotations

from django.db.models import Sum
from django_tenants.utils import tenant_context

from core_banking.ledger.models import JournalLine
from core_banking.lending.demo import lending_demo_load
from core_banking.lending.models import Loan, LoanApplication, LoanTransaction
from core_banking.members.demo import members_demo_load
from core_banking.savings.demo import savings_demo_load
from tenants.demo import DEMO_COOPERATIVES, DEMO_EXTENSIONS, _load_organisation_and_staff
from tests.conftest import Workspace


def _counts() -> tuple[int, int, int]:
    return LoanApplication.objects.count(), Loan.objects.count(), LoanTransaction.objects.count()


def test_the_demo_loads_lending_after_members_and_savings() -> None:
    assert DEMO_EXTENSIONS.index(lending_demo_load) > DEMO_EXTENSIONS.index(savings_demo_load)


def test_rupali_lending_loaded_twice_is_made_once(alpha: Workspace) -> None:
    rupali = next(demo for demo in DEMO_COOPERATIVES if demo.spec.slug == "rupali")
    cooperative = alpha.cooperative()
    cooperative.slug = "rupali"  # in memory only: the loaders pick their data set by slug
    with tenant_context(cooperative):
        _load_organisation_and_staff(cooperative, rupali)
        members_demo_load(cooperative, rupali)
        lending_demo_load(cooperative, rupali)
        first = _counts()
        lending_demo_load(cooperative, rupali)
        assert _counts() == first
        statuses = dict(
            LoanApplication.objects.values_list("number", "status").filter(number__startswith="DEMO-")
        )
        assert statuses["DEMO-A-06"] == "approved"
        assert statuses["DEMO-A-07"] == "submitted"  # waits for level 2
        assert statuses["DEMO-A-08"] == "submitted"
        assert statuses["DEMO-A-09"] == "returned"
        assert Loan.objects.count() == 5
        assert LoanTransaction.objects.filter(kind="repayment").count() > 0
        # Every loan's receivable in the ledger is its outstanding principal.
        outstanding = Loan.objects.aggregate(total=Sum("principal_outstanding_minor"))["total"]
        lines = JournalLine.objects.filter(account__code__startswith="1300-").aggregate(
            d=Sum("debit_minor"), c=Sum("credit_minor")
        )
        assert lines["d"] - lines["c"] == outstanding


def test_binhminh_lending_in_dong(beta: Workspace) -> None:
    binhminh = next(demo for demo in DEMO_COOPERATIVES if demo.spec.slug == "binhminh")
    cooperative = beta.cooperative()
    cooperative.slug = "binhminh"
    with tenant_context(cooperative):
        _load_organisation_and_staff(cooperative, binhminh)
        members_demo_load(cooperative, binhminh)
        lending_demo_load(cooperative, binhminh)
        assert Loan.objects.count() == 2
        # Instalments in multiples of 1,000 dong; the last one takes the difference.
        for loan in Loan.objects.all():
            rows = list(loan.installments.order_by("number"))
            assert all((row.principal_minor + row.interest_minor) % 1_000 == 0 for row in rows[:-1])
            assert sum(row.principal_minor for row in rows) == loan.principal_minor
