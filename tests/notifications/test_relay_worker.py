"""The relay as it runs for real: Celery tasks in a worker process (prefork, two processes), queued per
workspace, against the local fake Twilio."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context

from control_plane.celery import app as celery_app
from notifications.models import OutboxStatus
from notifications.tasks import KICK_KEY, outbox_relay, outbox_relay_kick
from notifications.twilio_fake import FakeTwilio
from tenants.models import Cooperative
from tests.notifications.conftest import messages_create, rows
from tests.processes import running_process

pytestmark = [pytest.mark.worker, pytest.mark.django_db, pytest.mark.xdist_group("notifications-worker")]


@pytest.fixture
def kicks_to(relay_worker: str, settings: Any) -> str:
    """Kicks made in this process queue their runs on the test worker's queue."""
    settings.NOTIFICATIONS_RELAY_QUEUE = relay_worker
    return relay_worker


@pytest.fixture(scope="module")
def relay_worker(
    django_db_setup: None, fake_twilio: FakeTwilio, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A worker on a queue of its own; the tests send kicked runs there (``NOTIFICATIONS_RELAY_QUEUE``)."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    node = f"{queue}@localhost"
    command = [
        sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-Q", queue,
        "-n", node, "--pool", "prefork", "--concurrency", "2", "-l", "info", "--without-mingle",
        "--without-gossip",
    ]  # fmt: skip
    log_path: Path = tmp_path_factory.mktemp("relay-worker") / "worker.log"
    # The worker's settings read the gateway's address from its environment.
    original = os.environ.get("TWILIO_API_BASE")
    os.environ["TWILIO_API_BASE"] = fake_twilio.url
    try:
        with running_process(
            command,
            name="Celery worker",
            log_path=log_path,
            ready=lambda: bool(celery_app.control.ping(destination=[node], timeout=1)),
        ):
            yield queue
    finally:
        if original is None:
            os.environ.pop("TWILIO_API_BASE", None)
        else:
            os.environ["TWILIO_API_BASE"] = original


def test_two_relay_tasks_at_once_in_the_worker_send_each_message_once(
    relay_worker: str, workspace: Cooperative, twilio: FakeTwilio
) -> None:
    messages_create(workspace, 80)
    twilio.delay_seconds = 0.02
    with tenant_context(workspace):
        results = [outbox_relay.apply_async(queue=relay_worker) for _ in range(2)]
    reports: list[dict[str, Any]] = [result.get(timeout=60) for result in results]

    assert sum(report["sent"] for report in reports) == 80
    assert {report["schema"] for report in reports} == {workspace.schema_name}
    assert len(twilio.creates()) == 80
    assert len({c.form["Body"] for c in twilio.creates()}) == 80
    assert {row.status for row in rows(workspace)} == {OutboxStatus.SENT}
    assert {row.provider_message_id for row in rows(workspace)} == set(twilio.messages)


def test_a_kick_queues_one_run_which_sends_after_commit(
    kicks_to: str, workspace: Cooperative, twilio: FakeTwilio
) -> None:
    messages_create(workspace, 5)
    with tenant_context(workspace):
        cache.delete(KICK_KEY)
        kicks = [outbox_relay_kick() for _ in range(3)]
    assert kicks == [True, False, False]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(twilio.creates()) < 5:
        time.sleep(0.1)
    time.sleep(0.3)
    assert len(twilio.creates()) == 5
    assert [row.status for row in rows(workspace)] == [OutboxStatus.SENT] * 5
    with tenant_context(workspace):
        assert cache.get(KICK_KEY) is None  # the run cleared it: the next commit kicks again


def test_the_task_refuses_to_run_outside_a_workspace(relay_worker: str) -> None:
    result = outbox_relay.apply_async(queue=relay_worker)
    with pytest.raises(RuntimeError, match="inside a cooperative's workspace"):
        result.get(timeout=30)


def test_a_worker_killed_mid_send_leaves_nothing_sent_twice(
    workspace: Cooperative, twilio: FakeTwilio, tmp_path: Path
) -> None:
    """SIGKILL while sends are in flight: the gateway still creates those messages after the worker is
    gone. Once the leases have run out, the next relay finds them at the gateway and sends the rest."""
    import signal

    from notifications.relay import outbox_relay_run
    from tests.core_banking.threads import in_threads
    from tests.notifications.conftest import committed

    messages_create(workspace, 30)
    twilio.delay_seconds = 1.5  # every request is held, then processed even if the caller has gone
    queue = f"test-{uuid.uuid4().hex[:12]}"
    node = f"{queue}@localhost"
    command = [
        sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-Q", queue, "-n", node,
        "--pool", "solo", "-l", "info", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    original = os.environ.get("TWILIO_API_BASE")
    os.environ["TWILIO_API_BASE"] = twilio.url
    try:
        with running_process(
            command,
            name="Celery worker",
            log_path=tmp_path / "worker.log",
            ready=lambda: bool(celery_app.control.ping(destination=[node], timeout=1)),
        ) as worker:
            with tenant_context(workspace):
                outbox_relay.apply_async(queue=queue)
            deadline = time.monotonic() + 30
            while len(twilio.creates()) < 16 and time.monotonic() < deadline:
                time.sleep(0.05)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
    finally:
        if original is None:
            os.environ.pop("TWILIO_API_BASE", None)
        else:
            os.environ["TWILIO_API_BASE"] = original

    in_flight = len(twilio.creates())
    assert 16 <= in_flight < 30
    before = rows(workspace)
    assert sum(row.status == OutboxStatus.SENDING for row in before) >= in_flight
    assert all(row.provider_message_id is None for row in before)
    time.sleep(2.0)  # the held requests are processed: Twilio holds those messages
    assert len(twilio.messages) == in_flight

    # The leases run out (time passes; here it is moved on), and a relay takes over.
    def expire() -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE notifications_outboxmessage SET claimed_until = now() - interval '1 second' "
                "WHERE status = 'sending'"
            )

    committed(workspace, expire)
    twilio.delay_seconds = 0.0
    (report,) = in_threads(1, lambda _n: outbox_relay_run(), workspace)

    after = rows(workspace)
    assert {row.status for row in after} == {OutboxStatus.SENT}
    assert report.found_by_lookup == in_flight
    assert len(twilio.messages) == 30, "each message exactly once at the gateway"
    assert {row.provider_message_id for row in after} == set(twilio.messages)
    assert sorted(m["body"] for m in twilio.messages.values()) == sorted(row.body for row in after)


def test_a_committed_enqueue_kicks_the_worker_which_sends_the_rendered_text(
    kicks_to: str, workspace: Cooperative, twilio: FakeTwilio
) -> None:
    from django.db import transaction

    from notifications.models import MessageKind
    from notifications.services import outbox_enqueue
    from tests.core_banking.savings.conftest import make_member
    from tests.notifications.conftest import committed

    def deposit_committed() -> None:
        cache.delete(KICK_KEY)
        member = make_member(f"K-{uuid.uuid4().hex[:6]}", phone="+8801711000077")
        with transaction.atomic():
            outbox_enqueue(
                kind=MessageKind.SAVINGS_DEPOSIT,
                source_ref=f"kick-{uuid.uuid4().hex}",
                member=member,
                context={"amount_minor": 500_00, "balance_minor": 12_500_00, "currency": "BDT",
                         "account": "SAV-77", "value_date": "2026-11-24"},
            )  # fmt: skip

    committed(workspace, deposit_committed)  # no relay is started by the test: the commit kicks it

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not twilio.creates():
        time.sleep(0.1)
    time.sleep(0.5)
    (request,) = twilio.creates()
    (row,) = rows(workspace)
    assert row.status == OutboxStatus.SENT and row.provider_message_id in twilio.messages
    assert request.form["To"] == "+8801711000077" and request.form["Body"] == row.body
    assert row.encoding == "UCS-2" and row.segments >= 1  # the member reads Bangla
