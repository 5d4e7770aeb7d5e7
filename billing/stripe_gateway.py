"""The one place that talks to Stripe: the official client, answers turned into plain dicts.

``settings.STRIPE_API_BASE``, when set, points the client at localstripe or at the local
Checkout fake (``billing.stripe_fake``) instead of api.stripe.com. Every write carries an
idempotency key, so a retried call (a Celery retry, a double click) is one call at Stripe.
"""

from __future__ import annotations

from typing import Any

import stripe
from django.conf import settings


class PaymentProviderError(Exception):
    """Stripe refused or could not be reached; the message is for logs and operations staff."""


def client() -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_API_KEY,
        base_addresses={"api": base} if base else None,
        max_network_retries=2,
    )


def _plain(obj: Any) -> dict[str, Any]:
    return dict(obj.to_dict(for_json=True)) if hasattr(obj, "to_dict") else dict(obj)


def _call(what: str, function: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return _plain(function(*args, **kwargs))
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"{what}: {exc.user_message or exc}") from exc


def checkout_session_create(params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
    return _call(
        "checkout session create",
        client().v1.checkout.sessions.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def checkout_session_retrieve(session_id: str) -> dict[str, Any]:
    return _call("checkout session retrieve", client().v1.checkout.sessions.retrieve, session_id)


def checkout_session_expire(session_id: str) -> dict[str, Any]:
    return _call("checkout session expire", client().v1.checkout.sessions.expire, session_id)


def customer_create(params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
    return _call(
        "customer create",
        client().v1.customers.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def subscription_retrieve(subscription_id: str) -> dict[str, Any]:
    return _call("subscription retrieve", client().v1.subscriptions.retrieve, subscription_id)


def subscription_update(
    subscription_id: str, params: dict[str, Any], *, idempotency_key: str
) -> dict[str, Any]:
    return _call(
        "subscription update",
        client().v1.subscriptions.update,
        subscription_id,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def invoice_item_create(params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
    return _call(
        "invoice item create",
        client().v1.invoice_items.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def product_create(params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
    return _call(
        "product create",
        client().v1.products.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def recurring_price_exists(price_id: str) -> bool:
    """Whether Stripe knows the monthly price (as a price or as a legacy plan of the same id)."""
    try:
        client().v1.plans.retrieve(price_id)
        return True
    except stripe.InvalidRequestError:
        return False
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"plan retrieve: {exc}") from exc


def recurring_price_create(params: dict[str, Any]) -> dict[str, Any]:
    """A monthly price with our own id. Stripe's Plans API takes a chosen id (its Prices API does not),
    and a plan is a price: Checkout and subscriptions accept its id wherever a price id goes."""
    return _call("plan create", client().v1.plans.create, params=params)


# --- Reading Stripe's objects (shapes differ between API versions and localstripe) -------------


def subscription_period_end(subscription: dict[str, Any]) -> int | None:
    """The end of the current period: on the items in current API versions, on the subscription before."""
    items = (subscription.get("items") or {}).get("data") or []
    ends = [item.get("current_period_end") for item in items if item.get("current_period_end")]
    if ends:
        return int(max(ends))
    end = subscription.get("current_period_end")
    return int(end) if end else None


def subscription_price_ids(subscription: dict[str, Any]) -> list[str]:
    ids = []
    for item in (subscription.get("items") or {}).get("data") or []:
        price = item.get("price") or item.get("plan") or {}
        if isinstance(price, dict) and price.get("id"):
            ids.append(str(price["id"]))
        elif isinstance(price, str):
            ids.append(price)
    return ids


def subscription_first_item_id(subscription: dict[str, Any]) -> str | None:
    items = (subscription.get("items") or {}).get("data") or []
    return str(items[0]["id"]) if items else None


def invoice_subscription_id(invoice: dict[str, Any]) -> str | None:
    """The invoice's subscription: under ``parent`` in current API versions, top-level before."""
    details = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    found = details or invoice.get("subscription")
    if isinstance(found, dict):
        found = found.get("id")
    return str(found) if found else None


def object_id(value: Any) -> str | None:
    """An expandable field: an id, or the object carrying it."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None
