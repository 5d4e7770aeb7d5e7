"""The Stripe webhook: signature on the raw body, each event stored once and processed once, after
its row commits; subscription events applied by reading the subscription again, in any order.

Events are signed with the stripe library's own signature helper. The subscription Stripe is
asked about lives in the local Stripe fake at the HTTP edge (the official client talks to it).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core import mail

from billing.models import BillingAccount, Plan, StripeEvent
from billing.services import billing_account_open, lifecycle_for_subscription, stripe_event_process
from billing.stripe_fake import FakeStripe
from control_plane.audit.models import AuditEvent
from tenants.models import Cooperative, Lifecycle
from tests.billing.stripe_support import deliver, event, public_client
from tests.conftest import Workspace

pytestmark = pytest.mark.django_db

SUBSCRIPTION = "sub_test_alpha"
CUSTOMER = "cus_test_alpha"


def _subscription(
    status: str, *, period_end: int | None = None, price: str = "coopcore_standard_bdt_monthly"
) -> dict[str, Any]:
    return {
        "id": SUBSCRIPTION,
        "object": "subscription",
        "status": status,
        "customer": CUSTOMER,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_test_alpha",
                    "price": {"id": price},
                    "current_period_end": period_end or int(time.time()) + 30 * 86400,
                }
            ],
        },
    }


def _invoice(kind: str) -> dict[str, Any]:
    return {
        "id": f"in_test_{kind}",
        "object": "invoice",
        "customer": CUSTOMER,
        "status": "paid" if kind == "paid" else "open",
        "parent": {"type": "subscription_details", "subscription_details": {"subscription": SUBSCRIPTION}},
    }


@pytest.fixture
def account(alpha: Workspace) -> BillingAccount:
    return billing_account_open(
        cooperative=alpha.cooperative(),
        plan=Plan.objects.get(code="standard"),
        currency="BDT",
        billing_email="treasurer@alpha.example",
        stripe_customer_id=CUSTOMER,
        stripe_subscription_id=SUBSCRIPTION,
    )


def _state(workspace: Workspace) -> str:
    return Cooperative.objects.get(slug=workspace.slug).lifecycle


def test_a_valid_event_is_stored_once_and_processed_after_commit(
    stripe_fake: FakeStripe,
    account: BillingAccount,
    alpha: Workspace,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    stripe_fake.subscriptions[SUBSCRIPTION] = _subscription("past_due")
    payload = event("invoice.payment_failed", _invoice("failed"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = deliver(public_client(), payload)
    assert response.status_code == 200 and response.content == b"stored"
    stored = StripeEvent.objects.get(event_id=payload["id"])
    assert stored.type == "invoice.payment_failed" and stored.payload == payload
    # Nothing is applied before the event's row commits.
    assert stored.processed_at is None and _state(alpha) == Lifecycle.ACTIVE
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    stored.refresh_from_db()
    assert stored.processed_at is not None and stored.outcome.endswith("active -> past_due")
    assert _state(alpha) == Lifecycle.PAST_DUE
    account.refresh_from_db()
    assert account.subscription_status == "past_due" and account.grace_deadline is not None
    # The admin is told, in the cooperative's language.
    assert [message.to for message in mail.outbox] == [["treasurer@alpha.example"]]


def test_a_tampered_body_is_refused_and_nothing_is_stored(
    stripe_fake: FakeStripe, account: BillingAccount
) -> None:
    payload = event("invoice.paid", _invoice("paid"))
    body = json.dumps(payload)
    import stripe
    from django.conf import settings

    header = stripe.WebhookSignature.generate_signature_header(body, settings.STRIPE_WEBHOOK_SECRET)
    tampered = body.replace('"invoice.paid"', '"invoice.payment_failed"')
    response = deliver(public_client(), tampered, signature=header)
    assert response.status_code == 400
    assert not StripeEvent.objects.filter(event_id=payload["id"]).exists()


def test_a_wrong_secret_or_no_signature_is_refused(stripe_fake: FakeStripe, account: BillingAccount) -> None:
    payload = event("invoice.paid", _invoice("paid"))
    assert deliver(public_client(), payload, secret="whsec_someone_else").status_code == 400
    response = public_client().post(
        "/billing/stripe/webhook/", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.filter(event_id=payload["id"]).exists()


def test_a_stale_signature_is_refused(stripe_fake: FakeStripe, account: BillingAccount) -> None:
    payload = event("invoice.paid", _invoice("paid"))
    # Stripe's tolerance is five minutes: a delivery signed ten minutes ago is a replay.
    response = deliver(public_client(), payload, timestamp=int(time.time()) - 600)
    assert response.status_code == 400
    assert not StripeEvent.objects.filter(event_id=payload["id"]).exists()


def test_only_post_is_served(account: BillingAccount) -> None:
    assert public_client().get("/billing/stripe/webhook/").status_code == 405


def test_a_repeated_event_is_stored_once_and_applied_once(
    stripe_fake: FakeStripe,
    account: BillingAccount,
    alpha: Workspace,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    stripe_fake.subscriptions[SUBSCRIPTION] = _subscription("past_due")
    payload = event("invoice.payment_failed", _invoice("failed"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = deliver(public_client(), payload)
        second = deliver(public_client(), payload)
    assert (first.content, second.content) == (b"stored", b"duplicate")
    assert len(callbacks) == 2  # processing, and the e-mail it queued; the repeat queued nothing
    assert StripeEvent.objects.filter(event_id=payload["id"]).count() == 1
    # Processing it again by hand (a retried task) does nothing either.
    assert stripe_event_process(event_id=payload["id"]) == "already processed"
    transitions = AuditEvent.objects.filter(
        action="cooperative.lifecycle", object_id=str(account.cooperative_id)
    )
    assert transitions.count() == 1
    assert len(mail.outbox) == 1


def test_out_of_order_a_late_failure_does_not_undo_a_payment(
    stripe_fake: FakeStripe,
    account: BillingAccount,
    alpha: Workspace,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Stripe sends invoice.payment_failed, then the retry succeeds (invoice.paid); we receive them
    the other way round. Each is applied by reading the subscription, which is active: the
    cooperative stays active and nobody is told it is past due."""
    failed = event("invoice.payment_failed", _invoice("failed"), created=int(time.time()) - 60)
    paid = event("invoice.paid", _invoice("paid"))
    stripe_fake.subscriptions[SUBSCRIPTION] = _subscription("active")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(public_client(), paid)
        deliver(public_client(), failed)
    assert _state(alpha) == Lifecycle.ACTIVE
    assert mail.outbox == []
    assert (
        StripeEvent.objects.filter(
            event_id__in=[paid["id"], failed["id"]], processed_at__isnull=False
        ).count()
        == 2
    )


def test_out_of_order_an_old_update_does_not_revive_a_deleted_subscription(
    stripe_fake: FakeStripe,
    account: BillingAccount,
    alpha: Workspace,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    deleted = _subscription("canceled")
    stale_update = _subscription("active")
    stripe_fake.subscriptions[SUBSCRIPTION] = deleted
    with django_capture_on_commit_callbacks(execute=True):
        deliver(public_client(), event("customer.subscription.deleted", deleted))
        deliver(
            public_client(),
            event("customer.subscription.updated", stale_update, created=int(time.time()) - 120),
        )
    assert _state(alpha) == Lifecycle.SUSPENDED
    account.refresh_from_db()
    assert account.subscription_status == "canceled" and account.suspended_by_billing


def test_paying_restores_access_at_once_even_from_suspended(
    stripe_fake: FakeStripe,
    account: BillingAccount,
    alpha: Workspace,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    stripe_fake.subscriptions[SUBSCRIPTION] = _subscription("canceled")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(public_client(), event("customer.subscription.deleted", _subscription("canceled")))
    assert _state(alpha) == Lifecycle.SUSPENDED
    stripe_fake.subscriptions[SUBSCRIPTION] = _subscription("active")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(public_client(), event("invoice.paid", _invoice("paid")))
    assert _state(alpha) == Lifecycle.ACTIVE
    account.refresh_from_db()
    assert account.grace_deadline is None and not account.suspended_by_billing


def test_a_suspension_by_operations_is_not_lifted_by_a_payment(
    stripe_fake: FakeStripe,
    account: BillingAccount,
    alpha: Workspace,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tenants.lifecycle import cooperative_lifecycle_change

    cooperative_lifecycle_change(
        cooperative=alpha.cooperative(), to=Lifecycle.SUSPENDED, reason="abuse", actor=None
    )
    stripe_fake.subscriptions[SUBSCRIPTION] = _subscription("active")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(public_client(), event("invoice.paid", _invoice("paid")))
    assert _state(alpha) == Lifecycle.SUSPENDED


def test_the_plan_follows_the_subscription_price(
    stripe_fake: FakeStripe,
    account: BillingAccount,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    stripe_fake.subscriptions[SUBSCRIPTION] = _subscription("active", price="coopcore_network_bdt_monthly")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(public_client(), event("customer.subscription.updated", _subscription("active")))
    account.refresh_from_db()
    assert account.plan.code == "network"


def test_an_event_for_no_known_account_is_kept_and_marked(
    stripe_fake: FakeStripe, eager_celery: None, django_capture_on_commit_callbacks: Any, db: None
) -> None:
    payload = event("invoice.paid", {**_invoice("paid"), "customer": "cus_nobody", "parent": None})
    with django_capture_on_commit_callbacks(execute=True):
        deliver(public_client(), payload)
    stored = StripeEvent.objects.get(event_id=payload["id"])
    assert stored.processed_at is not None and stored.outcome.startswith("ignored")


def test_a_failure_is_kept_on_the_event_and_the_event_stays_unprocessed(
    settings: Any, account: BillingAccount, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    from billing.services import stripe_events_unprocessed

    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there: Stripe unreachable
    payload = event("invoice.paid", _invoice("paid"))
    with pytest.raises(Exception), django_capture_on_commit_callbacks(execute=True):  # noqa: B017
        deliver(public_client(), payload)
    stored = StripeEvent.objects.get(event_id=payload["id"])
    assert stored.processed_at is None and stored.attempts >= 1 and "subscription retrieve" in stored.error
    import datetime as dt

    assert payload["id"] in stripe_events_unprocessed(older_than=dt.timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("state", "status", "suspended_by_billing", "expected"),
    [
        ("trial", "active", False, "active"),
        ("past_due", "active", False, "active"),
        ("read_only", "active", False, "active"),
        ("suspended", "active", True, "active"),
        ("suspended", "active", False, None),
        ("closed", "active", False, None),
        ("active", "past_due", False, "past_due"),
        ("active", "unpaid", False, "past_due"),
        ("read_only", "past_due", False, None),
        ("active", "canceled", False, "suspended"),
        ("read_only", "incomplete_expired", False, "suspended"),
        ("closed", "canceled", False, None),
        ("active", "trialing", False, None),
        ("active", "incomplete", False, None),
    ],
)
def test_lifecycle_for_subscription(
    state: str, status: str, suspended_by_billing: bool, expected: str | None
) -> None:
    assert (
        lifecycle_for_subscription(state=state, status=status, suspended_by_billing=suspended_by_billing)
        == expected
    )
