"""Billing's write paths: Checkout, the webhook event log, subscription sync, dunning, charges, plans.

How a webhook is handled:

1. the view verifies the signature on the raw body (``stripe.Webhook.construct_event``);
2. ``stripe_event_record`` stores the event once (its Stripe id is unique) and, only after that
   row commits, queues ``billing.tasks.stripe_event_process``;
3. ``stripe_event_process`` takes the event's row lock, skips it if it was processed already, and
   applies it; the event is marked processed in the same transaction as its effects.

Events about a subscription or its invoices are never applied from their payload: the account's
lock is taken and the subscription is read again from Stripe, so whatever order events arrive in,
the account ends in the state Stripe is in now.

Lock order, everywhere: billing account, then cooperative (``tenants.lifecycle``).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from billing import stripe_gateway as gateway
from billing.models import BillingAccount, ChargeKind, OneTimeCharge, Plan, PlanPrice, StripeEvent
from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from tenants.lifecycle import cooperative_lifecycle_change
from tenants.models import Cooperative, Lifecycle

logger = logging.getLogger(__name__)


def _from_timestamp(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC) if value else None


# --- Plans and prices ----------------------------------------------------------------------------


def plan_price_for(*, plan: Plan, currency: str) -> PlanPrice:
    """The plan's price in ``currency``, else in the fallback currency; refused when it has neither."""
    price = plan.price_for(currency) or plan.price_for(settings.BILLING_FALLBACK_CURRENCY)
    if price is None:
        raise BusinessRuleViolation(
            ErrorCode.PLAN_PRICE_MISSING,
            f"The plan {plan.code} has no price in {currency} or {settings.BILLING_FALLBACK_CURRENCY}.",
            fields={"plan": ["This plan cannot be bought in this currency."]},
        )
    return price


# --- Checkout ------------------------------------------------------------------------------------

# Stripe Checkout's own languages among ours; Bangla is not one of them (Stripe then picks).
CHECKOUT_LOCALES = {"en": "en", "vi": "vi", "th": "th"}


@dataclass(frozen=True)
class CheckoutRequest:
    price: PlanPrice
    customer_email: str
    reference: str  # our id for what is being bought (the sign-up's public id)
    metadata: dict[str, str]
    success_url: str
    cancel_url: str
    expires_at: dt.datetime
    language: str
    idempotency_key: str
    setup_fee_label: str


def checkout_session_params(request: CheckoutRequest) -> dict[str, Any]:
    """A subscription-mode Checkout: the monthly price, and the setup fee on the first invoice.

    A one-time line in a subscription-mode Checkout is added to the subscription's first invoice.
    """
    price = request.price
    line_items: list[dict[str, Any]] = [{"price": price.stripe_price_id, "quantity": 1}]
    if price.setup_fee_minor > 0:
        line_items.append(
            {
                "price_data": {
                    "currency": price.currency.lower(),
                    "unit_amount": price.setup_fee_minor,
                    "product_data": {"name": request.setup_fee_label},
                },
                "quantity": 1,
            }
        )
    return {
        "mode": "subscription",
        "line_items": line_items,
        "customer_email": request.customer_email,
        "client_reference_id": request.reference,
        "metadata": request.metadata,
        "subscription_data": {"metadata": request.metadata},
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "expires_at": int(request.expires_at.timestamp()),
        "locale": CHECKOUT_LOCALES.get(request.language, "auto"),
    }


def checkout_session_create(request: CheckoutRequest) -> dict[str, Any]:
    """Create the Checkout session at Stripe; returns Stripe's session (``id`` and ``url``)."""
    return gateway.checkout_session_create(
        checkout_session_params(request), idempotency_key=request.idempotency_key
    )


# --- The webhook event log -----------------------------------------------------------------------


def stripe_event_record(*, event: dict[str, Any]) -> tuple[StripeEvent, bool]:
    """Store a verified event once; queue its processing after the row commits. (event, newly stored)."""
    from billing.tasks import stripe_event_process as process_task

    event_id = str(event.get("id") or "")
    if not event_id:
        raise BusinessRuleViolation(ErrorCode.MALFORMED_REQUEST, "The event has no id.")
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                event_id=event_id,
                type=str(event.get("type") or ""),
                stripe_created=_from_timestamp(event.get("created")),
                payload=event,
            )
    except IntegrityError:
        return StripeEvent.objects.get(event_id=event_id), False
    transaction.on_commit(lambda: process_task.delay(event_id))
    return stored, True


def stripe_event_process(*, event_id: str) -> str:
    """Apply one stored event, once. Returns what was done (also kept on the event as its outcome)."""
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().filter(event_id=event_id).first()
        if event is None:
            return "unknown event"
        if event.processed_at is not None:
            return "already processed"
        outcome = _dispatch(event)
        event.processed_at = timezone.now()
        event.attempts += 1
        event.error = ""
        event.outcome = outcome[:200]
        event.save(update_fields=["processed_at", "attempts", "error", "outcome"])
    return outcome


def stripe_event_failure_record(*, event_id: str, error: str) -> None:
    """Keep why processing failed (the task retries); the event stays unprocessed."""
    event = StripeEvent.objects.filter(event_id=event_id, processed_at__isnull=True).first()
    if event is not None:
        event.attempts += 1
        event.error = error[:4000]
        event.save(update_fields=["attempts", "error"])


def stripe_events_unprocessed(*, older_than: dt.timedelta) -> list[str]:
    """Events whose processing never ran or failed (a worker down, Stripe unreachable): to queue again."""
    cutoff = timezone.now() - older_than
    return list(
        StripeEvent.objects.filter(processed_at__isnull=True, received_at__lte=cutoff)
        .order_by("id")
        .values_list("event_id", flat=True)[:500]
    )


CHECKOUT_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
}
INVOICE_EVENTS = {"invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"}


def _dispatch(event: StripeEvent) -> str:
    obj: dict[str, Any] = (event.payload.get("data") or {}).get("object") or {}
    kind = event.type
    if kind in CHECKOUT_EVENTS or kind == "checkout.session.expired":
        from onboarding.services import signup_checkout_confirm, signup_checkout_expired

        session_id = str(obj.get("id") or "")
        if not (obj.get("metadata") or {}).get("signup"):
            return "ignored: not a sign-up's checkout"
        if kind == "checkout.session.expired":
            return signup_checkout_expired(session_id=session_id)
        return signup_checkout_confirm(session_id=session_id)
    if kind in SUBSCRIPTION_EVENTS:
        subscription_id = gateway.object_id(obj.get("id"))
        customer_id = gateway.object_id(obj.get("customer"))
    elif kind in INVOICE_EVENTS:
        subscription_id = gateway.invoice_subscription_id(obj)
        customer_id = gateway.object_id(obj.get("customer"))
    else:
        return f"ignored: {kind} is not handled"
    account = _account_for(subscription_id=subscription_id, customer_id=customer_id)
    if account is None:
        # A sign-up still being provisioned syncs its account from Stripe when it is ready.
        return "ignored: no billing account for this subscription (yet)"
    return billing_account_sync(account=account, reason=f"{kind} ({event.event_id})")


def _account_for(*, subscription_id: str | None, customer_id: str | None) -> BillingAccount | None:
    if subscription_id:
        account = BillingAccount.objects.filter(stripe_subscription_id=subscription_id).first()
        if account is not None:
            return account
    if customer_id:
        return BillingAccount.objects.filter(stripe_customer_id=customer_id).first()
    return None


# --- Accounts and subscription sync --------------------------------------------------------------


def billing_account_open(
    *,
    cooperative: Cooperative,
    plan: Plan,
    currency: str,
    billing_email: str = "",
    stripe_customer_id: str | None = None,
    stripe_subscription_id: str | None = None,
    actor: Any | None = None,
) -> BillingAccount:
    """The cooperative's billing account (one per cooperative; opening it again returns it unchanged)."""
    with transaction.atomic():
        account, created = BillingAccount.objects.get_or_create(
            cooperative=cooperative,
            defaults={
                "plan": plan,
                "currency": currency.upper(),
                "billing_email": billing_email,
                "stripe_customer_id": stripe_customer_id or None,
                "stripe_subscription_id": stripe_subscription_id or None,
            },
        )
        if created:
            audit_record(
                actor=actor,
                action="billing.account_open",
                target=cooperative,
                changes={
                    "plan": plan.code,
                    "currency": account.currency,
                    "stripe_customer": stripe_customer_id or "",
                    "stripe_subscription": stripe_subscription_id or "",
                },
            )
    return account


def billing_account_sync(*, account: BillingAccount, reason: str) -> str:
    """Read the subscription again from Stripe and bring the account and the lifecycle in line with it.

    The account's row lock is held while Stripe is read, so of two syncs at once the later one
    reads later and is applied last.
    """
    with transaction.atomic():
        locked = BillingAccount.objects.select_for_update().select_related("cooperative").get(pk=account.pk)
        if not locked.stripe_subscription_id:
            return "ignored: the account has no subscription"
        subscription = gateway.subscription_retrieve(locked.stripe_subscription_id)
        status = str(subscription.get("status") or "")
        locked.subscription_status = status
        locked.current_period_end = _from_timestamp(gateway.subscription_period_end(subscription))
        locked.synced_at = timezone.now()
        if not locked.stripe_customer_id:
            locked.stripe_customer_id = gateway.object_id(subscription.get("customer"))
        changes = [f"subscription {status}"]
        plan_price = PlanPrice.objects.filter(
            stripe_price_id__in=gateway.subscription_price_ids(subscription)
        ).first()
        if plan_price is not None and plan_price.plan_id != locked.plan_id:
            locked.plan_id = plan_price.plan_id
            changes.append(f"plan {plan_price.plan.code}")
        locked.save()
        outcome = _lifecycle_follow(locked, status, reason)
        if outcome:
            changes.append(outcome)
    return "; ".join(changes)


def lifecycle_for_subscription(*, state: str, status: str, suspended_by_billing: bool) -> str | None:
    """The state a cooperative in ``state`` should move to when Stripe says ``status`` (None: stay).

    - active: back to active at once from trial, past due, read-only, or a suspension billing made;
    - past_due / unpaid: past due, from trial or active only (the grace period runs from there);
    - canceled / incomplete_expired: suspended (never closed, never deleted).
    Anything else (trialing, incomplete, paused) changes nothing.
    """
    if status == "active":
        restorable = state in {Lifecycle.TRIAL, Lifecycle.PAST_DUE, Lifecycle.READ_ONLY} or (
            state == Lifecycle.SUSPENDED and suspended_by_billing
        )
        return Lifecycle.ACTIVE if restorable else None
    if status in {"past_due", "unpaid"}:
        return Lifecycle.PAST_DUE if state in {Lifecycle.TRIAL, Lifecycle.ACTIVE} else None
    if status in {"canceled", "incomplete_expired"}:
        return None if state in {Lifecycle.SUSPENDED, Lifecycle.CLOSED} else Lifecycle.SUSPENDED
    return None


def _lifecycle_follow(account: BillingAccount, status: str, reason: str) -> str:
    """Move the cooperative where Stripe's subscription status calls for (the caller holds the lock)."""
    cooperative = account.cooperative
    state = cooperative.lifecycle
    target = lifecycle_for_subscription(
        state=state, status=status, suspended_by_billing=account.suspended_by_billing
    )
    if target is None:
        return ""
    why = {
        Lifecycle.ACTIVE: "paid",
        Lifecycle.PAST_DUE: "payment failed",
        Lifecycle.SUSPENDED: "subscription ended",
    }[Lifecycle(target)]
    cooperative_lifecycle_change(cooperative=cooperative, to=target, reason=f"{why}: {reason}", actor=None)
    now = timezone.now()
    if target == Lifecycle.ACTIVE:
        account.past_due_since = None
        account.grace_deadline = None
        account.suspended_by_billing = False
    elif target == Lifecycle.PAST_DUE:
        account.past_due_since = now
        account.grace_deadline = now + dt.timedelta(days=settings.BILLING_GRACE_PERIOD_DAYS)
        _notice_after_commit(account, "past_due")
    else:
        account.suspended_by_billing = True
    account.save(update_fields=["past_due_since", "grace_deadline", "suspended_by_billing"])
    return f"{state} -> {target}"


# --- Dunning -------------------------------------------------------------------------------------


def billing_grace_periods_expire(*, now: dt.datetime | None = None) -> list[str]:
    """Past-due cooperatives whose grace period has ended become read-only (and their admin is told).

    A past-due cooperative without a deadline (moved there by hand) gets one now: its clock starts.
    Returns the slugs made read-only.
    """
    now = now or timezone.now()
    undated = BillingAccount.objects.filter(
        cooperative__lifecycle=Lifecycle.PAST_DUE, grace_deadline__isnull=True
    )
    for account in undated:
        with transaction.atomic():
            locked = BillingAccount.objects.select_for_update().get(pk=account.pk)
            if locked.grace_deadline is None:
                locked.past_due_since = locked.past_due_since or now
                locked.grace_deadline = now + dt.timedelta(days=settings.BILLING_GRACE_PERIOD_DAYS)
                locked.save(update_fields=["past_due_since", "grace_deadline"])
    made_read_only = []
    due = BillingAccount.objects.filter(cooperative__lifecycle=Lifecycle.PAST_DUE, grace_deadline__lte=now)
    for account in due.order_by("pk"):
        with transaction.atomic():
            locked = (
                BillingAccount.objects.select_for_update().select_related("cooperative").get(pk=account.pk)
            )
            if locked.cooperative.lifecycle != Lifecycle.PAST_DUE or not locked.grace_deadline:
                continue
            if locked.grace_deadline > now:
                continue
            cooperative_lifecycle_change(
                cooperative=locked.cooperative,
                to=Lifecycle.READ_ONLY,
                reason=f"grace period ended {locked.grace_deadline:%Y-%m-%d %H:%M} UTC",
                actor=None,
            )
            _notice_after_commit(locked, "read_only")
            made_read_only.append(locked.cooperative.slug)
    return made_read_only


NOTICE_KINDS = ("past_due", "read_only")


def _notice_after_commit(account: BillingAccount, kind: str) -> None:
    from billing.tasks import billing_notice_send

    account_id = account.pk
    transaction.on_commit(lambda: billing_notice_send.delay(account_id, kind))


def billing_notice_recipients(account: BillingAccount) -> list[str]:
    """The billing e-mail given at sign-up, else the workspace's administrators with an e-mail address."""
    if account.billing_email:
        return [account.billing_email]
    from core_banking.staff.roles import Role

    with tenant_context(account.cooperative):
        return sorted(
            get_user_model()
            .objects.filter(
                is_active=True, staff_profile__roles__contains=[Role.COOPERATIVE_ADMIN.value], email__gt=""
            )
            .values_list("email", flat=True)
        )


def billing_notice_send(*, account_id: int, kind: str) -> str:
    """E-mail the cooperative's admin that it is past due (or now read-only); once per episode."""
    if kind not in NOTICE_KINDS:
        raise ValueError(kind)
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().select_related("cooperative").get(pk=account_id)
        cooperative = account.cooperative
        if kind == "past_due":
            episode, notified = account.past_due_since, account.past_due_notified_at
            current = cooperative.lifecycle == Lifecycle.PAST_DUE
        else:
            episode, notified = account.grace_deadline, account.read_only_notified_at
            current = cooperative.lifecycle == Lifecycle.READ_ONLY
        if not current:
            return "skipped: no longer in that state"
        if notified is not None and (episode is None or notified >= episode):
            return "skipped: already sent"
        recipients = billing_notice_recipients(account)
        if not recipients:
            logger.warning("billing_notice_no_recipient", extra={"cooperative": cooperative.slug})
            return "skipped: no recipient"
        from tenants.services import workspace_url

        context = {
            "cooperative": cooperative,
            "grace_deadline": account.grace_deadline,
            "workspace_url": workspace_url(cooperative),
        }
        with translation.override(cooperative.default_language):
            subject = render_to_string(f"billing/email/{kind}_subject.txt", context).strip()
            body = render_to_string(f"billing/email/{kind}.txt", context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        now = timezone.now()
        if kind == "past_due":
            account.past_due_notified_at = now
            account.save(update_fields=["past_due_notified_at"])
        else:
            account.read_only_notified_at = now
            account.save(update_fields=["read_only_notified_at"])
    return f"sent to {len(recipients)}"


# --- Operations: one-time charges and plan changes -----------------------------------------------


def _account_of(cooperative: Cooperative) -> BillingAccount:
    account = BillingAccount.objects.select_for_update().filter(cooperative=cooperative).first()
    if account is None:
        raise BusinessRuleViolation(
            ErrorCode.BILLING_ACCOUNT_MISSING,
            "This cooperative has no billing account: give it a plan first.",
            fields={"cooperative": ["No billing account."]},
        )
    return account


def _customer_ensure(account: BillingAccount) -> str:
    if account.stripe_customer_id:
        return account.stripe_customer_id
    cooperative = account.cooperative
    customer = gateway.customer_create(
        {
            "name": cooperative.name,
            "email": account.billing_email or None,
            "metadata": {"cooperative": cooperative.slug},
        },
        idempotency_key=f"coopcore-customer-{account.pk}",
    )
    account.stripe_customer_id = str(customer["id"])
    account.save(update_fields=["stripe_customer_id"])
    return account.stripe_customer_id


def one_time_charge_add(
    *,
    cooperative: Cooperative,
    amount_minor: int,
    description: str,
    actor: Any | None,
    kind: str = ChargeKind.OTHER,
) -> OneTimeCharge:
    """Add a one-time fee (customisation, data migration) to the cooperative's next Stripe invoice.

    ``amount_minor`` is in the account's billing currency. The Stripe invoice item carries an
    idempotency key made from the charge's own id, so a retry never bills twice.
    """
    description = description.strip()
    problems: dict[str, list[str]] = {}
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        problems["amount_minor"] = ["A positive whole amount in the currency's smallest unit."]
    if not description:
        problems["description"] = ["Required."]
    if kind not in ChargeKind.values:
        problems["kind"] = ["Unknown kind."]
    if problems:
        code = ErrorCode.AMOUNT_INVALID if "amount_minor" in problems else ErrorCode.VALIDATION_ERROR
        raise BusinessRuleViolation(code, "The charge cannot be added as given.", fields=problems)
    with transaction.atomic():
        account = _account_of(cooperative)
        charge = OneTimeCharge.objects.create(
            account=account,
            kind=kind,
            amount_minor=amount_minor,
            currency=account.currency,
            description=description[:200],
            created_by=getattr(actor, "username", "") or "system",
        )
        customer_id = _customer_ensure(account)
        item = gateway.invoice_item_create(
            {
                "customer": customer_id,
                "amount": amount_minor,
                "currency": account.currency.lower(),
                "description": charge.description,
                "metadata": {"charge": str(charge.public_id), "cooperative": cooperative.slug},
            },
            idempotency_key=f"coopcore-charge-{charge.public_id}",
        )
        charge.stripe_invoice_item_id = str(item["id"])
        charge.save(update_fields=["stripe_invoice_item_id"])
        audit_record(
            actor=actor,
            action="billing.one_time_charge",
            target=cooperative,
            changes={
                "amount_minor": amount_minor,
                "currency": account.currency,
                "kind": kind,
                "description": charge.description,
                "stripe_invoice_item": charge.stripe_invoice_item_id,
            },
        )
    return charge


def plan_change(*, cooperative: Cooperative, plan: Plan, actor: Any | None) -> BillingAccount:
    """Move the cooperative to another plan; its Stripe subscription bills the new monthly price
    from now on (prorated by Stripe). A cooperative without an account gets one on this plan."""
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().filter(cooperative=cooperative).first()
        if account is None:
            billed_in = plan_price_for(plan=plan, currency=cooperative.currency).currency
            return billing_account_open(cooperative=cooperative, plan=plan, currency=billed_in, actor=actor)
        before = account.plan
        if before.pk == plan.pk:
            return account
        price = plan.price_for(account.currency)
        if price is None:
            raise BusinessRuleViolation(
                ErrorCode.PLAN_PRICE_MISSING,
                f"The plan {plan.code} has no price in {account.currency}.",
                fields={"plan": [f"No price in {account.currency}."]},
            )
        if account.stripe_subscription_id:
            subscription = gateway.subscription_retrieve(account.stripe_subscription_id)
            item_id = gateway.subscription_first_item_id(subscription)
            # `plan` rather than `price`: Stripe takes a price's id there, and so does localstripe.
            item: dict[str, Any] = {"plan": price.stripe_price_id}
            if item_id:
                item["id"] = item_id
            # Stripe prorates by default: the rest of this period at the new price on the next invoice.
            gateway.subscription_update(
                account.stripe_subscription_id,
                {"items": [item]},
                idempotency_key=f"coopcore-plan-{account.pk}-{plan.code}-{timezone.now():%Y%m%d%H%M}",
            )
        account.plan = plan
        account.save(update_fields=["plan"])
        audit_record(
            actor=actor,
            action="billing.plan_change",
            target=cooperative,
            changes={"plan": [before.code, plan.code]},
        )
    return account
