"""Console test helpers: an operator in the public schema, real TOTP codes, a logged-in console client."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from control_plane.console.models import ConsoleOperator
from control_plane.console.services import console_operator_create
from tests.billing.stripe_support import localstripe, localstripe_url
from tests.conftest import PASSWORD

# localstripe (PyPI, its own process) for the plan and charge actions, as billing's own tests use it.
__all__ = ["localstripe", "localstripe_url"]

CONSOLE_HOST = "localhost"  # the bare domain (COOPCORE_DOMAIN_SUFFIX in tests)


def totp_code(device: TOTPDevice) -> str:
    """The code the operator's app shows now; later than the last one used (codes work once)."""
    device.refresh_from_db()
    now_step = int((time.time() - device.t0) // device.step)
    step = max(now_step, device.last_t + 1)
    generator = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=0)
    generator.time = device.t0 + step * device.step
    return f"{generator.token():0{device.digits}d}"


@dataclass
class Operator:
    profile: ConsoleOperator
    device: TOTPDevice

    @property
    def username(self) -> str:
        return self.profile.user.get_username()


def make_operator(username: str = "ops-ana", *, with_device: bool = True) -> Operator:
    connection.set_schema_to_public()
    profile = console_operator_create(username=username, email=f"{username}@coopcore.test", password=PASSWORD)
    device = (
        TOTPDevice.objects.create(user=profile.user, name="console", confirmed=True)
        if with_device
        else TOTPDevice(user=profile.user)
    )
    return Operator(profile=profile, device=device)


@pytest.fixture
def operator(db: None) -> Operator:
    return make_operator()


def console_client(operator: Operator, **extra: str) -> Client:
    """A browser on the bare domain that has passed both steps of the console log-in."""
    client = Client(HTTP_HOST=CONSOLE_HOST, **extra)
    response = client.post("/console/login/", {"username": operator.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/console/login/verify/", response
    response = client.post("/console/login/verify/", {"token": totp_code(operator.device)})
    assert response.status_code == 302 and response["Location"] == "/console/", response.content[:500]
    return client


@pytest.fixture
def console(operator: Operator) -> Client:
    return console_client(operator)


@contextlib.contextmanager
def logged_in_operator() -> Iterator[tuple[Operator, Client]]:
    """For ``committed`` tests: an operator, logged in and committed like everything there, then removed."""
    operator = make_operator(f"ops-{uuid.uuid4().hex[:8]}")
    try:
        yield operator, console_client(operator)
    finally:
        connection.set_schema_to_public()
        TOTPDevice.objects.filter(user_id=operator.profile.user_id).delete()
        ConsoleOperator.objects.filter(pk=operator.profile.pk).delete()
        with connection.cursor() as cursor:  # not User.delete(): it cascades to workspace-only tables
            cursor.execute("DELETE FROM identity_user WHERE id = %s", [operator.profile.user_id])
