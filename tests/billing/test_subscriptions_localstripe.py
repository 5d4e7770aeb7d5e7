"""Subscription and invoice flows against localstripe (PyPI): what it serves of Stripe's API.

The customer, card, monthly price, subscription and invoices are made in localstripe through the
official client; the events localstripe records are then delivered to our webhook, signed with the
stripe library's helper, and our account follows the subscription localstripe reports.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django_tenants.utils import schema_exists, tenant_context

from billing import stripe_gateway as gateway
from billing.models import BillingAccount, OneTimeCharge, Plan, PlanPrice
from billing.services import billing_account_open, one_time_charge_add, plan_change
from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.organisation.models import Branch
from tenants.models import Cooperative, Lifecycle
from tests.billing.stripe_support import deliver, event, public_client
from tests.conftest import Workspace

pytestmark = pytest.mark.django_db

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"  # attaches, then every charge is declined


def _client() -> Any:
    return gateway.client()


def _card(customer_id: str, number: str) -> None:
    client = _client()
    card = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123"}}
    )
    client.v1.payment_methods.attach(card.id, params={"customer": customer_id})
    client.v1.customers.update(customer_id, params={"invoice_settings": {"default_payment_method": card.id}})


def _prices_at_stripe() -> None:
    """What `manage.py billing_stripe_sync` does: each monthly price under our own id."""
    from django.core.management import call_command

    call_command("billing_stripe_sync", verbosity=0)


def _subscribe(workspace: Workspace, plan_code: str = "standard") -> BillingAccount:
    """As a paid sign-up leaves things: a customer with a card, the setup fee, the subscription."""
    _prices_at_stripe()
    price = PlanPrice.objects.get(plan__code=plan_code, currency="BDT")
    client = _client()
    customer = client.v1.customers.create(params={"email": f"admin@{workspace.host}"})
    _card(customer.id, GOOD_CARD)
    client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "amount": price.setup_fee_minor,
            "currency": "bdt",
            "description": "Setup",
        }
    )
    subscription = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"plan": price.stripe_price_id}]}
    )
    return billing_account_open(
        cooperative=workspace.cooperative(),
        plan=price.plan,
        currency="BDT",
        billing_email=f"admin@{workspace.host}",
        stripe_customer_id=customer.id,
        stripe_subscription_id=subscription.id,
    )


def _deliver_new_events(seen: set[str], django_capture_on_commit_callbacks: Any) -> list[str]:
    """localstripe's events not delivered yet, oldest first, through our webhook."""
    events = _client().v1.events.list(params={"limit": 100})
    fresh = [e.to_dict() for e in reversed(events.data) if e.id not in seen]
    with django_capture_on_commit_callbacks(execute=True):
        for item in fresh:
            seen.add(item["id"])
            response = deliver(public_client(), item)
            assert response.status_code == 200, response.content
    return [item["type"] for item in fresh]


def _state(workspace: Workspace) -> str:
    return Cooperative.objects.get(slug=workspace.slug).lifecycle


@pytest.fixture
def seen(localstripe: str) -> set[str]:
    """Events already in localstripe (earlier tests share it) are not this test's."""
    return {e.id for e in _client().v1.events.list(params={"limit": 100}).data}


def test_first_invoice_carries_the_setup_fee_and_pays_the_subscription(
    localstripe: str,
    alpha: Workspace,
    seen: set[str],
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    Cooperative.objects.filter(slug=alpha.slug).update(lifecycle=Lifecycle.TRIAL)
    account = _subscribe(alpha)
    invoice = _client().v1.invoices.list(params={"customer": account.stripe_customer_id}).data[0]
    price = PlanPrice.objects.get(plan__code="standard", currency="BDT")
    assert invoice.status == "paid"
    assert invoice.amount_paid == price.monthly_fee_minor + price.setup_fee_minor == 4_000_00 + 15_000_00

    kinds = _deliver_new_events(seen, django_capture_on_commit_callbacks)
    assert "invoice.payment_succeeded" in kinds
    account.refresh_from_db()
    assert account.subscription_status == "active" and account.current_period_end is not None
    assert _state(alpha) == Lifecycle.ACTIVE


def test_a_declined_renewal_makes_it_past_due_and_paying_restores_it(
    localstripe: str,
    alpha: Workspace,
    seen: set[str],
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = _subscribe(alpha)
    _deliver_new_events(seen, django_capture_on_commit_callbacks)
    assert _state(alpha) == Lifecycle.ACTIVE

    # The card on file is declined. (localstripe charges at once when the billing interval changes,
    # and reports no invoice.payment_failed event: the event is made from its own open invoice.)
    client = _client()
    _card(account.stripe_customer_id, DECLINED_CARD)
    product = client.v1.products.create(params={"name": "Yearly (test)"})
    client.v1.plans.create(
        params={"id": f"yearly_{product.id}", "amount": 40_000_00, "currency": "bdt", "interval": "year",
                "product": product.id}
    )  # fmt: skip
    subscription = gateway.subscription_retrieve(account.stripe_subscription_id)
    client.v1.subscriptions.update(
        account.stripe_subscription_id,
        params={
            "items": [
                {"id": gateway.subscription_first_item_id(subscription), "plan": f"yearly_{product.id}"}
            ]
        },
    )
    assert client.v1.subscriptions.retrieve(account.stripe_subscription_id).status == "past_due"
    unpaid = next(
        i
        for i in client.v1.invoices.list(params={"customer": account.stripe_customer_id}).data
        if i.status == "open"
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(public_client(), event("invoice.payment_failed", unpaid.to_dict()))
    assert _state(alpha) == Lifecycle.PAST_DUE
    account.refresh_from_db()
    assert account.grace_deadline is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [f"admin@{alpha.host}"]

    # A new card, the open invoice paid: access is back at once.
    _card(account.stripe_customer_id, GOOD_CARD)
    client.v1.invoices.pay(unpaid.id)
    kinds = _deliver_new_events(seen, django_capture_on_commit_callbacks)
    assert "invoice.payment_succeeded" in kinds
    assert _state(alpha) == Lifecycle.ACTIVE
    account.refresh_from_db()
    assert account.grace_deadline is None and account.subscription_status == "active"


def test_a_cancelled_subscription_suspends_and_deletes_nothing(
    localstripe: str,
    alpha: Workspace,
    seen: set[str],
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = _subscribe(alpha)
    with tenant_context(alpha.cooperative()):
        branches = Branch.objects.count()
    _client().v1.subscriptions.cancel(account.stripe_subscription_id)
    kinds = _deliver_new_events(seen, django_capture_on_commit_callbacks)
    assert "customer.subscription.deleted" in kinds
    assert _state(alpha) == Lifecycle.SUSPENDED
    assert schema_exists(alpha.schema_name)
    with tenant_context(alpha.cooperative()):
        assert Branch.objects.count() == branches


def test_a_one_time_charge_is_an_invoice_item_for_the_next_invoice(
    localstripe: str, alpha: Workspace, admin_user: Any
) -> None:
    account = _subscribe(alpha)
    charge = one_time_charge_add(
        cooperative=alpha.cooperative(),
        amount_minor=25_000_00,
        description="Data migration from the old ledger",
        actor=admin_user,
        kind="data_migration",
    )
    assert (
        charge.stripe_invoice_item_id
        and charge.currency == "BDT"
        and charge.created_by == admin_user.username
    )
    items = _client().v1.invoice_items.list(params={"customer": account.stripe_customer_id}).data
    item = next(i for i in items if i.id == charge.stripe_invoice_item_id)
    assert (item.amount, item.currency, item.description) == (
        25_000_00,
        "bdt",
        "Data migration from the old ledger",
    )
    assert item.invoice is None  # pending: it goes on the next invoice
    audit = AuditEvent.objects.get(action="billing.one_time_charge", object_id=str(alpha.cooperative().pk))
    assert audit.changes["amount_minor"] == 25_000_00 and audit.actor_label == admin_user.username


def test_a_one_time_charge_needs_a_positive_amount_and_a_description(
    localstripe: str, alpha: Workspace
) -> None:
    _subscribe(alpha)
    for amount, description in ((0, "x"), (-5, "x"), (100, "  ")):
        with pytest.raises(BusinessRuleViolation):
            one_time_charge_add(
                cooperative=alpha.cooperative(), amount_minor=amount, description=description, actor=None
            )
    assert not OneTimeCharge.objects.exists()


def test_a_charge_for_a_cooperative_without_a_customer_creates_one(localstripe: str, beta: Workspace) -> None:
    billing_account_open(
        cooperative=beta.cooperative(), plan=Plan.objects.get(code="starter"), currency="VND",
        billing_email="admin@beta.example",
    )  # fmt: skip
    charge = one_time_charge_add(
        cooperative=beta.cooperative(), amount_minor=2_000_000, description="Setup help", actor=None
    )
    account = BillingAccount.objects.get(cooperative__slug="beta")
    assert account.stripe_customer_id and charge.currency == "VND"
    item = _client().v1.invoice_items.retrieve(charge.stripe_invoice_item_id)
    assert (item.amount, item.currency, item.customer) == (2_000_000, "vnd", account.stripe_customer_id)


def test_a_plan_change_moves_the_subscription_to_the_new_price(
    localstripe: str, alpha: Workspace, admin_user: Any
) -> None:
    account = _subscribe(alpha, "starter")
    plan_change(cooperative=alpha.cooperative(), plan=Plan.objects.get(code="network"), actor=admin_user)
    account.refresh_from_db()
    assert account.plan.code == "network"
    subscription = gateway.subscription_retrieve(account.stripe_subscription_id)
    assert gateway.subscription_price_ids(subscription) == ["coopcore_network_bdt_monthly"]
    audit = AuditEvent.objects.get(action="billing.plan_change")
    assert audit.changes["plan"] == ["starter", "network"]


def test_a_plan_change_without_an_account_opens_one(db: None, beta: Workspace) -> None:
    account = plan_change(cooperative=beta.cooperative(), plan=Plan.objects.get(code="standard"), actor=None)
    assert (account.plan.code, account.currency, account.stripe_subscription_id) == ("standard", "VND", None)


def test_billing_refusals_carry_their_own_codes(alpha: Workspace) -> None:
    """No Stripe call is made for either: both are refused before."""
    with pytest.raises(BusinessRuleViolation) as no_account:
        one_time_charge_add(cooperative=alpha.cooperative(), amount_minor=100, description="x", actor=None)
    assert (no_account.value.code, no_account.value.http_status) == (ErrorCode.BILLING_ACCOUNT_MISSING, 409)
    assert no_account.value.fields == {"cooperative": ["No billing account."]}

    unpriced = Plan.objects.create(code="local-only", name="Local only")
    with pytest.raises(BusinessRuleViolation) as no_price:
        plan_change(cooperative=alpha.cooperative(), plan=unpriced, actor=None)
    assert (no_price.value.code, no_price.value.http_status) == (ErrorCode.PLAN_PRICE_MISSING, 409)
    assert not BillingAccount.objects.filter(cooperative=alpha.cooperative()).exists()
