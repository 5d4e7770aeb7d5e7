"""Sending fixtures: a workspace of this package's own whose rows really commit, and the local fake Twilio.

The relay claims rows in transactions of its own and runs them from threads with their own
connections (and, in the worker tests, from a Celery worker process), so the rows it works on
must be committed: they live in a workspace provisioned for these tests, emptied before each test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from notifications.models import MessageKind, OutboxMessage, OutboxStatus, SmsOptOut
from notifications.twilio_fake import FakeTwilio
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.core_banking.threads import in_threads

T = TypeVar("T")


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio(auth_token=settings.TWILIO_AUTH_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def twilio(fake_twilio: FakeTwilio, settings: Any) -> FakeTwilio:
    """The fake, reset, with the official client pointed at it."""
    with fake_twilio.lock:
        fake_twilio.requests.clear()
        fake_twilio.messages.clear()
        fake_twilio.plan.clear()
        fake_twilio.refuse.clear()
    fake_twilio.delay_seconds = 0.0
    fake_twilio.slow_seconds = 1.0
    settings.TWILIO_API_BASE = fake_twilio.url
    settings.TWILIO_TIMEOUT_SECONDS = 5.0
    return fake_twilio


@pytest.fixture(scope="session")
def sending_workspace(django_db_setup: None, django_db_blocker: Any) -> Cooperative:
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Sending", slug=f"send-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@sending.example"),
        )
        connection.close()
    return cooperative


def committed(cooperative: Cooperative, work: Callable[[], T]) -> T:
    """Run ``work`` in the workspace on a connection of its own, outside the test's transaction."""
    (result,) = in_threads(1, lambda _number: work(), cooperative)
    if isinstance(result, BaseException):
        raise result
    return result


@pytest.fixture
def workspace(sending_workspace: Cooperative, db: None) -> Iterator[Cooperative]:
    """The sending workspace, live and with an empty outbox."""

    def empty() -> None:
        OutboxMessage.objects.all().delete()
        SmsOptOut.objects.all().delete()

    committed(sending_workspace, empty)
    yield sending_workspace
    committed(sending_workspace, empty)


def phone(number: int) -> str:
    return f"+88017110{number:05d}"


def messages_create(cooperative: Cooperative, count: int, *, first: int = 0, **fields: Any) -> list[int]:
    """``count`` committed pending rows, each to its own number with its own text."""

    def create() -> list[int]:
        rows = [
            OutboxMessage(
                kind=MessageKind.SAVINGS_DEPOSIT,
                source_ref=f"test-{uuid.uuid4().hex}",
                phone=phone(first + number),
                language="en",
                context={},
                body=f"Deposit {first + number}: 500.00 BDT received.",
                encoding="GSM-7",
                segments=1,
                created_at=timezone.now(),
                status=OutboxStatus.PENDING,
                **fields,
            )
            for number in range(count)
        ]
        return [row.pk for row in OutboxMessage.objects.bulk_create(rows)]

    return committed(cooperative, create)


def rows(cooperative: Cooperative) -> list[OutboxMessage]:
    with tenant_context(cooperative):
        return list(OutboxMessage.objects.order_by("id"))


def relay(cooperative: Cooperative, **options: Any) -> Any:
    from notifications.relay import outbox_relay_run

    def run() -> Any:
        return outbox_relay_run(**options)

    return committed(cooperative, run)


def make_due(cooperative: Cooperative) -> None:
    """Let the retry time of every waiting row pass (the backoff itself is checked on its own)."""

    def due() -> None:
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(next_attempt_at=None)

    committed(cooperative, due)
