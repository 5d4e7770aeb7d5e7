"""Test support for billing: the Checkout fake, localstripe, signed webhook deliveries, eager Celery.

Events are signed with the stripe library's own helper (``WebhookSignature.generate_signature_header``)
and delivered to the real endpoint through Django's test client.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from django.conf import settings
from django.test import Client

from billing.stripe_fake import FakeStripe
from tests.processes import ROOT

WEBHOOK_PATH = "/billing/stripe/webhook/"


def public_client() -> Client:
    return Client(HTTP_HOST=settings.COOPCORE_DOMAIN_SUFFIX)


def event(
    kind: str, obj: dict[str, Any], *, event_id: str | None = None, created: int | None = None
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_test_{secrets.token_hex(10)}",
        "object": "event",
        "api_version": stripe.api_version,
        "created": created or int(time.time()),
        "type": kind,
        "livemode": False,
        "data": {"object": obj},
    }


def deliver(
    client: Client,
    payload: dict[str, Any] | str,
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
) -> Any:
    """POST an event as Stripe does: the raw JSON body and its Stripe-Signature header."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    header = signature or stripe.WebhookSignature.generate_signature_header(
        body, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp
    )
    return client.post(WEBHOOK_PATH, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks queued after commit run at once, in this process (the worker path is tested end to end)."""
    from control_plane.celery import app

    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def stripe_fake(settings: Any) -> Iterator[FakeStripe]:
    """The Checkout fake on a free port, with the official client pointed at it."""
    fake = FakeStripe(port=0).start()
    settings.STRIPE_API_BASE = fake.url
    yield fake
    fake.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe (PyPI) as its own process: Stripe's customers, subscriptions and invoices, locally."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(  # noqa: S310 - local test server
                    url + "/v1/balance", headers={"Authorization": "Bearer sk_test_x"}
                )
                with urllib.request.urlopen(request, timeout=2):  # noqa: S310 - local test server
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"localstripe did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def localstripe(localstripe_url: str, settings: Any) -> str:
    settings.STRIPE_API_BASE = localstripe_url
    return localstripe_url


@pytest.fixture
def admin_user(db: None) -> Any:
    """A vendor operations person (public schema), as the operations console's actor."""
    from control_plane.identity.models import User

    return User.objects.create_user(username="ops-anna", password="long-enough-password-1", is_staff=True)
