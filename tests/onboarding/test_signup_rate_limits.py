"""Sign-ups started and subdomain checks are limited per client address (counted in Redis)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from billing.stripe_fake import FakeStripe
from onboarding.models import SignUp
from tests.onboarding.test_signup import _form

pytestmark = pytest.mark.django_db


def _address() -> str:
    """An address of its own for each test: the counters outlive a test, and a run."""
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2] or 1}"


def _client(address: str, **extra: str) -> Client:
    return Client(HTTP_HOST=django_settings.COOPCORE_DOMAIN_SUFFIX, REMOTE_ADDR=address, **extra)


def test_a_third_sign_up_within_the_hour_from_one_address_is_refused(
    stripe_fake: FakeStripe, settings: Any
) -> None:
    settings.SIGNUP_RATE = "2/h"
    address = _address()
    # Mistakes on the form cost nothing and are not counted.
    mistaken = _client(address).post("/signup/", _form(slug="padma", password_again="different"))
    assert mistaken.status_code == 200
    for slug in ("padma", "meghna"):
        assert _client(address).post("/signup/", _form(slug=slug)).status_code == 302

    refused = _client(address).post("/signup/", _form(slug="jamuna"))

    assert refused.status_code == 429
    assert "Too many sign-ups were started from this address" in refused.content.decode()
    assert not SignUp.objects.filter(slug="jamuna").exists()
    assert len(stripe_fake.sessions) == 2
    # Another address is not affected.
    assert _client(_address()).post("/signup/", _form(slug="jamuna")).status_code == 302


def test_a_forged_forwarded_for_header_does_not_reset_the_count(
    stripe_fake: FakeStripe, settings: Any
) -> None:
    # Without the TLS proxy in front, X-Forwarded-For is the client's own word: not believed.
    settings.SIGNUP_RATE = "1/h"
    address = _address()
    assert _client(address).post("/signup/", _form(slug="padma")).status_code == 302
    forged = _client(address, HTTP_X_FORWARDED_FOR=_address()).post("/signup/", _form(slug="meghna"))
    assert forged.status_code == 429
    assert not SignUp.objects.filter(slug="meghna").exists()


def test_going_back_to_payment_counts_as_a_sign_up_started(stripe_fake: FakeStripe, settings: Any) -> None:
    settings.SIGNUP_RATE = "1/h"
    client = _client(_address())
    assert client.post("/signup/", _form(slug="padma")).status_code == 302
    signup = SignUp.objects.get(slug="padma")
    first_session = signup.stripe_checkout_session_id

    again = client.post(f"/signup/{signup.public_id}/resume/")

    assert again.status_code == 429
    signup.refresh_from_db()
    assert signup.stripe_checkout_session_id == first_session
    assert len(stripe_fake.sessions) == 1


def test_subdomain_checks_are_limited(settings: Any) -> None:
    settings.SIGNUP_SLUG_CHECK_RATE = "3/m"
    client = _client(_address())
    answers = [client.get("/signup/subdomain/?slug=padma").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert _client(_address()).get("/signup/subdomain/?slug=padma").status_code == 200
