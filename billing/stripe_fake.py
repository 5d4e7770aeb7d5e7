"""A local stand-in for Stripe Checkout at the HTTP edge, for tests and the development demo.

localstripe serves customers, subscriptions and invoices but not Checkout. This small server
answers the Checkout endpoints the product calls, through the official ``stripe`` client
pointed at it with ``STRIPE_API_BASE``:

    POST /v1/checkout/sessions               create (subscription mode), idempotency keys honoured
    GET  /v1/checkout/sessions/{id}          retrieve
    POST /v1/checkout/sessions/{id}/expire   expire an open session
    GET  /v1/subscriptions/{id}              the subscriptions its payments created

and serves the page Stripe would: ``GET /pay/{id}`` shows what is bought, "Pay" completes the
session, sends a ``checkout.session.completed`` webhook signed with the stripe library's own
signature helper, and redirects to the session's success URL; "Decline" leaves it unpaid.

With ``upstream`` (a localstripe URL), a payment creates the customer, the setup fee and the
subscription there too, and every other ``/v1/`` request is passed through to it, so one-time
charges and plan changes work in the demo as well.

Run: ``python -m billing.stripe_fake --port 12111 --webhook-url
http://localhost:8000/billing/stripe/webhook/ --webhook-secret whsec_development``.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import stripe

logger = logging.getLogger(__name__)

SESSION_PATH = re.compile(r"^/v1/checkout/sessions/(?P<id>cs_[A-Za-z0-9_]+)(?P<expire>/expire)?$")
SUBSCRIPTION_PATH = re.compile(r"^/v1/subscriptions/(?P<id>sub_[A-Za-z0-9_]+)$")
PAY_PATH = re.compile(r"^/pay/(?P<id>cs_[A-Za-z0-9_]+)$")
MONTH = 30 * 24 * 3600


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(value: Any) -> Any:
        if isinstance(value, dict):
            converted = {k: listify(v) for k, v in value.items()}
            if converted and all(k.isdigit() for k in converted):
                return [converted[k] for k in sorted(converted, key=int)]
            return converted
        return value

    result: dict[str, Any] = listify(root)
    return result


class FakeStripe:
    """The server and its state (sessions, subscriptions, the webhooks it sent)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str = "",
        webhook_secret: str = "",
        upstream: str = "",
    ) -> None:
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.upstream = upstream.rstrip("/")
        self.sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, dict[str, Any]] = {}
        self.sent_events: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(_Handler):
            server_state = fake

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> FakeStripe:
        self.thread = threading.Thread(target=self.server.serve_forever, name="stripe-fake", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- Checkout sessions -----------------------------------------------------------------------

    def session_create(self, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        with self.lock:
            if idempotency_key and idempotency_key in self.idempotent:
                return self.idempotent[idempotency_key]
            if params.get("mode") != "subscription":
                raise FakeError(400, "This fake serves subscription-mode Checkout only.", "mode")
            items = params.get("line_items") or []
            if not items or not params.get("success_url"):
                raise FakeError(400, "line_items and success_url are required.", "line_items")
            session_id = _new_id("cs")
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": "subscription",
                "status": "open",
                "payment_status": "unpaid",
                "url": f"{self.url}/pay/{session_id}",
                "success_url": params["success_url"],
                "cancel_url": params.get("cancel_url"),
                "client_reference_id": params.get("client_reference_id"),
                "customer_email": params.get("customer_email"),
                "customer": None,
                "subscription": None,
                "metadata": params.get("metadata") or {},
                "expires_at": int(params.get("expires_at") or time.time() + 24 * 3600),
                "created": int(time.time()),
                "livemode": False,
                "locale": params.get("locale"),
                # Not part of Stripe's session object unless expanded; kept for the payment page.
                "_line_items": items,
                "_subscription_data": params.get("subscription_data") or {},
            }
            self.sessions[session_id] = session
            if idempotency_key:
                self.idempotent[idempotency_key] = session
            return session

    def session_get(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise FakeError(404, f"No such checkout.session: '{session_id}'", "id")
        if session["status"] == "open" and session["expires_at"] <= time.time():
            self._expire(session)
        return session

    def session_expire(self, session_id: str) -> dict[str, Any]:
        session = self.session_get(session_id)
        with self.lock:
            if session["status"] != "open":
                raise FakeError(400, "Only Checkout Sessions with a status in [open] can be expired.", None)
            self._expire(session)
        return session

    def _expire(self, session: dict[str, Any]) -> None:
        session["status"] = "expired"
        session["url"] = None
        self.send_webhook("checkout.session.expired", session)

    def pay(self, session_id: str) -> dict[str, Any]:
        """The person paid: a customer and an active subscription, the session complete, a webhook."""
        session = self.session_get(session_id)
        with self.lock:
            if session["status"] != "open":
                raise FakeError(400, "This Checkout Session is no longer open.", None)
            customer_id, subscription = self._subscription_create(session)
            self.subscriptions[subscription["id"]] = subscription
            session.update(
                status="complete",
                payment_status="paid",
                customer=customer_id,
                subscription=subscription["id"],
                url=None,
            )
        self.send_webhook("checkout.session.completed", session)
        return session

    def _subscription_create(self, session: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        items = session["_line_items"]
        recurring = [item for item in items if item.get("price")]
        price_id = str(recurring[0]["price"]) if recurring else "price_unknown"
        metadata = (session["_subscription_data"] or {}).get("metadata") or {}
        if self.upstream:
            try:
                return self._upstream_subscription(session, price_id, metadata)
            except (OSError, urllib.error.HTTPError, KeyError) as exc:
                logger.warning("stripe_fake_upstream_failed", extra={"error": str(exc)})
        now = int(time.time())
        subscription = {
            "id": _new_id("sub"),
            "object": "subscription",
            "status": "active",
            "customer": _new_id("cus"),
            "metadata": metadata,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": _new_id("si"),
                        "object": "subscription_item",
                        "price": {"id": price_id, "object": "price"},
                        "current_period_start": now,
                        "current_period_end": now + MONTH,
                    }
                ],
            },
        }
        return str(subscription["customer"]), subscription

    def _upstream(self, method: str, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        data = urllib.parse.urlencode(params or {}).encode() if method == "POST" else None
        request = urllib.request.Request(  # noqa: S310 - the configured local localstripe
            self.upstream + path, data=data, method=method, headers={"Authorization": "Bearer sk_test_fake"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def _upstream_subscription(
        self, session: dict[str, Any], price_id: str, metadata: dict[str, str]
    ) -> tuple[str, dict[str, Any]]:
        customer = self._upstream("POST", "/v1/customers", {"email": session.get("customer_email") or ""})
        card = self._upstream(
            "POST",
            "/v1/payment_methods",
            {"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12",
             "card[exp_year]": "2040", "card[cvc]": "123"},
        )  # fmt: skip
        self._upstream("POST", f"/v1/payment_methods/{card['id']}/attach", {"customer": customer["id"]})
        self._upstream(
            "POST",
            f"/v1/customers/{customer['id']}",
            {"invoice_settings[default_payment_method]": card["id"]},
        )
        for item in session["_line_items"]:
            data = item.get("price_data")
            if data:
                self._upstream(
                    "POST",
                    "/v1/invoiceitems",
                    {
                        "customer": customer["id"],
                        "amount": str(data["unit_amount"]),
                        "currency": str(data["currency"]),
                        "description": str((data.get("product_data") or {}).get("name") or "One-time"),
                    },
                )
        params = {"customer": customer["id"], "items[0][plan]": price_id}
        params.update({f"metadata[{key}]": str(value) for key, value in metadata.items()})
        subscription = self._upstream("POST", "/v1/subscriptions", params)
        return str(customer["id"]), subscription

    def subscription_get(self, subscription_id: str) -> dict[str, Any]:
        if self.upstream and subscription_id not in self.subscriptions:
            return self._upstream("GET", f"/v1/subscriptions/{subscription_id}")
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            raise FakeError(404, f"No such subscription: '{subscription_id}'", "id")
        return subscription

    # --- Webhooks --------------------------------------------------------------------------------

    def event_for(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _new_id("evt"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "type": kind,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": public(obj)},
        }

    def send_webhook(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = self.event_for(kind, obj)
        self.sent_events.append(event)
        if not (self.webhook_url and self.webhook_secret):
            return event
        payload = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(payload, self.webhook_secret)
        request = urllib.request.Request(  # noqa: S310 - the configured local webhook
            self.webhook_url,
            data=payload.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                logger.info("stripe_fake_webhook", extra={"type": kind, "status": response.status})
        except (OSError, urllib.error.HTTPError) as exc:
            logger.warning("stripe_fake_webhook_failed", extra={"type": kind, "error": str(exc)})
        return event


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as Stripe shows it: without the fake's own bookkeeping."""
    return {key: value for key, value in obj.items() if not key.startswith("_")}


class FakeError(Exception):
    def __init__(self, status: int, message: str, param: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param


class _Handler(BaseHTTPRequestHandler):
    server_state: FakeStripe

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        logger.debug("stripe_fake " + format, *args)

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", "req_" + secrets.token_hex(8))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, exc: FakeError) -> None:
        self._json(
            exc.status,
            {"error": {"type": "invalid_request_error", "message": exc.message, "param": exc.param}},
        )

    def _html(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _form(self) -> list[tuple[str, str]]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        return urllib.parse.parse_qsl(raw, keep_blank_values=True)

    def do_GET(self) -> None:
        state = self.server_state
        path = urllib.parse.urlsplit(self.path).path
        state.requests.append(("GET", path))
        try:
            if match := SESSION_PATH.match(path):
                if match["expire"]:
                    raise FakeError(405, "Use POST.", None)
                self._json(200, public(state.session_get(match["id"])))
            elif match := SUBSCRIPTION_PATH.match(path):
                self._json(200, state.subscription_get(match["id"]))
            elif match := PAY_PATH.match(path):
                self._html(200, _pay_page(state.session_get(match["id"])))
            elif state.upstream and path.startswith("/v1/"):
                self._proxy("GET")
            else:
                raise FakeError(404, f"Unrecognized request URL (GET: {path}).", None)
        except FakeError as exc:
            self._error(exc)

    def do_POST(self) -> None:
        state = self.server_state
        path = urllib.parse.urlsplit(self.path).path
        state.requests.append(("POST", path))
        try:
            if path == "/v1/checkout/sessions":
                session = state.session_create(
                    unflatten(self._form()), self.headers.get("Idempotency-Key", "")
                )
                self._json(200, public(session))
            elif (match := SESSION_PATH.match(path)) and match["expire"]:
                self._json(200, public(state.session_expire(match["id"])))
            elif match := PAY_PATH.match(path):
                action = dict(self._form()).get("action", "pay")
                session = state.session_get(match["id"])
                if action == "decline":
                    self._html(402, _pay_page(session, declined=True))
                    return
                session = state.pay(match["id"])
                target = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])
                self.send_response(303)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif state.upstream and path.startswith("/v1/"):
                self._proxy("POST")
            else:
                raise FakeError(404, f"Unrecognized request URL (POST: {path}).", None)
        except FakeError as exc:
            self._error(exc)

    def do_DELETE(self) -> None:
        if self.server_state.upstream and self.path.startswith("/v1/"):
            self._proxy("DELETE")
        else:
            self._error(FakeError(404, "Unrecognized request URL.", None))

    def _proxy(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
        request = urllib.request.Request(  # noqa: S310 - the configured local localstripe
            self.server_state.upstream + self.path, data=body, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, data = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _pay_page(session: dict[str, Any], *, declined: bool = False) -> str:
    """What Stripe's hosted page would show: the lines, and buttons that pay or decline."""
    rows = []
    for item in session.get("_line_items") or []:
        if item.get("price"):
            rows.append(f"<li>Subscription: {html.escape(str(item['price']))} (monthly)</li>")
        elif item.get("price_data"):
            data = item["price_data"]
            name = html.escape(str((data.get("product_data") or {}).get("name") or "One-time"))
            rows.append(
                f"<li>{name}: {html.escape(str(data['unit_amount']))} "
                f"{html.escape(str(data['currency']).upper())} (minor units)</li>"
            )
    if session["status"] != "open":
        state = f"<p>This session is {html.escape(session['status'])}.</p>"
        buttons = ""
    else:
        state = '<p role="alert">Your card was declined.</p>' if declined else ""
        buttons = (
            '<form method="post"><input type="hidden" name="action" value="pay">'
            '<button type="submit">Pay</button></form>'
            '<form method="post"><input type="hidden" name="action" value="decline">'
            '<button type="submit">Decline</button></form>'
        )
        if session.get("cancel_url"):
            buttons += f'<p><a href="{html.escape(session["cancel_url"])}">Cancel and go back</a></p>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test payment</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>'
        "<h1>Test payment (local Stripe Checkout stand-in)</h1>"
        f"<p>{html.escape(str(session.get('customer_email') or ''))}</p><ul>{''.join(rows)}</ul>"
        f"{state}{buttons}</main></body></html>"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="stripe_fake", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default="http://localhost:8000/billing/stripe/webhook/")
    parser.add_argument("--webhook-secret", default="whsec_development")
    parser.add_argument("--upstream", default="", help="a localstripe URL for everything but Checkout")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    fake = FakeStripe(
        host=args.host,
        port=args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        upstream=args.upstream,
    )
    logger.info("Stripe Checkout fake on %s", fake.url)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.server.server_close()


if __name__ == "__main__":
    main()
