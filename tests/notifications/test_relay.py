"""The relay against the local fake Twilio, through the official client: each message sent once.

Rows are committed in a workspace of this package's own; relays run in threads with connections
of their own, as two Celery workers would. Every assertion counts what the fake received.
"""

from __future__ import annotations

import copy
import random
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from notifications.delivery import outbox_message_resend
from notifications.models import DeliveryStatus, MessageKind, OutboxMessage, OutboxStatus, SmsOptOut
from notifications.providers import sms_provider
from notifications.providers.base import OutgoingSms
from notifications.relay import outbox_claim, outbox_relay_run, retry_delay
from notifications.services import outbox_enqueue
from notifications.twilio_fake import FakeTwilio
from tenants.models import Cooperative
from tests.core_banking.threads import in_threads
from tests.notifications.conftest import committed, make_due, messages_create, phone, relay, rows

pytestmark = pytest.mark.django_db


# --- Exactly once ---------------------------------------------------------------------------------


def test_two_relays_at_once_send_each_message_once(workspace: Cooperative, twilio: FakeTwilio) -> None:
    ids = messages_create(workspace, 60)
    twilio.delay_seconds = 0.01  # slow enough that the two relays overlap

    reports = in_threads(2, lambda _n: outbox_relay_run(concurrency=4, batch=6), workspace)

    assert all(not isinstance(report, Exception) for report in reports), reports
    assert sum(report.sent for report in reports) == 60
    assert all(report.sent > 0 for report in reports), "both relays took part"
    creates = twilio.creates()
    assert len(creates) == 60
    assert sorted(c.form["Body"] for c in creates) == sorted(
        f"Deposit {n}: 500.00 BDT received." for n in range(60)
    )
    sent = rows(workspace)
    assert [row.pk for row in sent] == ids
    assert {row.status for row in sent} == {OutboxStatus.SENT}
    assert {row.attempts for row in sent} == {1}
    assert {row.provider_message_id for row in sent} == set(twilio.messages)
    assert {row.delivery_status for row in sent} == {DeliveryStatus.QUEUED}
    assert all(row.claim_token is None and row.claimed_until is None for row in sent)

    again = relay(workspace)
    assert again.sent == 0 and len(twilio.creates()) == 60


def test_a_relay_that_died_after_claiming_is_taken_over_once_the_lease_ends(
    workspace: Cooperative, twilio: FakeTwilio
) -> None:
    messages_create(workspace, 3)
    # The first relay claims three rows and commits; it sends the first one and dies before
    # recording anything.
    jobs = committed(workspace, lambda: outbox_claim(limit=3, lease_seconds=1.0)).jobs
    assert len(jobs) == 3
    reached = sms_provider().send(jobs[0].outgoing)
    assert {row.status for row in rows(workspace)} == {OutboxStatus.SENDING}

    # While the lease runs, another relay leaves the rows alone.
    assert relay(workspace).sent == 0
    assert len(twilio.creates()) == 1

    time.sleep(1.1)
    report = relay(workspace)

    assert (report.sent, report.found_by_lookup) == (3, 1)
    after = rows(workspace)
    assert [row.status for row in after] == [OutboxStatus.SENT] * 3
    assert after[0].provider_message_id == reached.provider_message_id
    assert [row.attempts for row in after] == [2, 2, 2]
    # The first message was found at Twilio, not sent again; the other two were sent once each.
    creates = twilio.creates()
    assert creates[0].form["To"] == phone(0)  # by the relay that died
    assert sorted(c.form["To"] for c in creates[1:]) == [phone(1), phone(2)]
    assert len(twilio.messages) == 3
    assert [request.form for request in twilio.lookups()] == [{}, {}, {}]  # one list per expired row


def test_a_rolled_back_money_movement_leaves_no_message_and_queues_no_relay(
    in_alpha: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from core_banking.members.models import Member
    from tests.core_banking.savings.conftest import make_member

    member: Member = make_member("RB-1")

    class Refused(Exception):
        pass

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Refused), transaction.atomic():
        outbox_enqueue(kind=MessageKind.SAVINGS_DEPOSIT, source_ref="rb-1", member=member, context={})
        assert OutboxMessage.objects.filter(source_ref="rb-1").count() == 1
        raise Refused
    assert OutboxMessage.objects.filter(source_ref="rb-1").count() == 0
    assert callbacks == []

    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        outbox_enqueue(kind=MessageKind.SAVINGS_DEPOSIT, source_ref="rb-2", member=member, context={})
        # A replay of the same transaction queues nothing more.
        outbox_enqueue(kind=MessageKind.SAVINGS_DEPOSIT, source_ref="rb-2", member=member, context={})
    assert OutboxMessage.objects.filter(source_ref="rb-2").count() == 1
    assert len(callbacks) == 2  # two kicks queued after commit; the relay kick itself de-duplicates


def test_a_rolled_back_savings_deposit_leaves_no_message(in_alpha: Any) -> None:
    from decimal import Decimal

    from core_banking.savings.services import savings_account_open, savings_deposit, savings_product_create
    from tests.core_banking.savings.conftest import OPENED, make_member

    product = savings_product_create(
        actor=None, code="RBV", name="Voluntary", kind="voluntary", annual_rate=Decimal("5"),
        rate_effective_from=OPENED,
    )  # fmt: skip
    account = savings_account_open(actor=None, member=make_member("RB-2"), product=product, opened_on=OPENED)
    before = OutboxMessage.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        savings_deposit(
            account_id=account.pk, amount_minor=50_000, value_date=OPENED, idempotency_key="rb-dep"
        )
        assert OutboxMessage.objects.count() == before + 1
        raise RuntimeError("the teller's request failed after the deposit")
    assert OutboxMessage.objects.count() == before

    savings_deposit(account_id=account.pk, amount_minor=50_000, value_date=OPENED, idempotency_key="rb-dep")
    (message,) = OutboxMessage.objects.filter(source_ref="rb-dep")
    assert (message.kind, message.status, message.phone) == ("savings_deposit", "pending", "+8801711000001")


# --- Failures -------------------------------------------------------------------------------------


def test_transient_failures_back_off_then_go_to_the_dead_letters_and_staff_can_resend(
    workspace: Cooperative, twilio: FakeTwilio, settings: Any
) -> None:
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 30
    (message_id,) = messages_create(workspace, 1)
    twilio.plan.extend([503, 429, 503])

    started = timezone.now()
    first = relay(workspace)
    assert (first.sent, first.retried) == (0, 1)
    (row,) = rows(workspace)
    assert (row.status, row.attempts, row.unconfirmed_send) == (OutboxStatus.PENDING, 1, False)
    assert "503" in row.last_error
    assert row.next_attempt_at is not None
    assert started + timedelta(seconds=15) <= row.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    # Not due yet: the next run leaves it.
    assert relay(workspace).retried == 0 and len(twilio.creates()) == 1

    make_due(workspace)
    assert relay(workspace).retried == 1
    (row,) = rows(workspace)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 2)
    assert "429" in row.last_error

    make_due(workspace)
    assert relay(workspace).dead == 1
    (row,) = rows(workspace)
    assert (row.status, row.attempts, row.dead_at is not None) == (OutboxStatus.DEAD, 3, True)
    assert len(twilio.creates()) == 3 and twilio.messages == {}

    # Staff send it again: audited, a fresh round of attempts, and this time it goes.
    def resend() -> OutboxMessage:
        from control_plane.identity.models import User

        return outbox_message_resend(actor=User.objects.get(username="admin"), message_id=message_id)

    resent = committed(workspace, resend)
    assert (resent.status, resent.attempts) == (OutboxStatus.PENDING, 0)
    with tenant_context(workspace):
        event = AuditEvent.objects.get(action="notifications.message_resend", object_id=str(message_id))
        assert event.actor_label == "admin"
        assert event.changes == {"status": ["dead", "pending"], "attempts": [3, 0]}
    assert relay(workspace).sent == 1
    (row,) = rows(workspace)
    assert (row.status, row.attempts, row.provider_message_id in twilio.messages) == (
        OutboxStatus.SENT,
        1,
        True,
    )
    assert len(twilio.creates()) == 4 and len(twilio.messages) == 1

    with pytest.raises(BusinessRuleViolation) as refused:
        committed(workspace, resend)
    assert refused.value.code == ErrorCode.MESSAGE_NOT_DEAD


def test_the_backoff_doubles_with_jitter_up_to_the_cap(settings: Any) -> None:
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 30
    settings.NOTIFICATIONS_RETRY_CAP_SECONDS = 3600
    rng = random.Random(7)
    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (4, 240), (7, 1920), (8, 3600), (20, 3600)]:
        delays = [retry_delay(attempts, rng=rng).total_seconds() for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert len(set(delays)) == 200  # jittered: no two alike
        assert max(delays) - min(delays) > ceiling / 4


def test_an_unanswered_send_is_looked_up_before_any_resend(
    workspace: Cooperative, twilio: FakeTwilio, settings: Any
) -> None:
    settings.TWILIO_TIMEOUT_SECONDS = 0.3
    twilio.slow_seconds = 1.0
    messages_create(workspace, 1)
    twilio.plan.append("timeout")  # Twilio creates the message; its answer comes too late

    first = relay(workspace)
    assert (first.sent, first.retried) == (0, 1)
    (row,) = rows(workspace)
    assert (row.status, row.unconfirmed_send, row.provider_message_id) == (OutboxStatus.PENDING, True, None)
    assert "ReadTimeout" in row.last_error
    assert len(twilio.messages) == 1

    make_due(workspace)
    second = relay(workspace)
    assert (second.sent, second.found_by_lookup) == (1, 1)
    (row,) = rows(workspace)
    (twilio_sid,) = twilio.messages
    assert (row.status, row.provider_message_id, row.unconfirmed_send) == (
        OutboxStatus.SENT,
        twilio_sid,
        False,
    )
    assert len(twilio.creates()) == 1 and len(twilio.lookups()) == 1
    assert twilio.bodies_to(phone(0)) == ["Deposit 0: 500.00 BDT received."]


def test_an_unanswered_send_that_never_arrived_is_sent_after_the_lookup(
    workspace: Cooperative, twilio: FakeTwilio, settings: Any
) -> None:
    settings.TWILIO_TIMEOUT_SECONDS = 0.3
    twilio.slow_seconds = 1.0
    messages_create(workspace, 1)
    # An identical text to the same number, already recorded for another row, is not taken for ours.
    other = sms_provider().send(OutgoingSms(to=phone(0), body="Deposit 0: 500.00 BDT received."))
    committed(
        workspace,
        lambda: OutboxMessage.objects.create(
            kind=MessageKind.SAVINGS_DEPOSIT, source_ref="earlier", phone=phone(0), language="en",
            created_at=timezone.now(), status=OutboxStatus.SENT,
            provider_message_id=other.provider_message_id,
        ),
    )  # fmt: skip
    twilio.plan.append("timeout-before")  # nothing created, the answer comes too late

    relay(workspace)
    make_due(workspace)
    report = relay(workspace)

    assert (report.sent, report.found_by_lookup) == (1, 0)
    mine = next(row for row in rows(workspace) if row.source_ref != "earlier")
    assert mine.status == OutboxStatus.SENT and mine.provider_message_id != other.provider_message_id
    assert len(twilio.lookups()) == 1 and len(twilio.creates()) == 3  # other, the lost one, the resend
    assert len(twilio.bodies_to(phone(0))) == 2


def test_a_refused_number_is_dead_at_once_and_an_unsubscribed_one_opted_out(
    workspace: Cooperative, twilio: FakeTwilio
) -> None:
    messages_create(workspace, 3)
    twilio.refuse[phone(0)] = 21211  # not a valid number for Twilio
    twilio.refuse[phone(1)] = 21610  # the member texted STOP

    report = relay(workspace)

    assert (report.sent, report.dead, report.not_sendable, report.retried) == (1, 1, 1, 0)
    statuses = [(row.phone, row.status, row.attempts) for row in rows(workspace)]
    assert statuses == [
        (phone(0), OutboxStatus.DEAD, 1),
        (phone(1), OutboxStatus.OPTED_OUT, 1),
        (phone(2), OutboxStatus.SENT, 1),
    ]
    with tenant_context(workspace):
        assert list(SmsOptOut.objects.values_list("phone", flat=True)) == [phone(1)]

    # The next message to the unsubscribed number is not even tried.
    messages_create(workspace, 1, first=1)
    assert relay(workspace).not_sendable == 1
    assert len(twilio.creates()) == 3


def test_messages_without_a_valid_number_are_not_sent_and_stay_visible(
    workspace: Cooperative, twilio: FakeTwilio
) -> None:
    def create() -> None:
        for number, value in enumerate(["+880171", "01711000001", "+1500555"]):
            OutboxMessage.objects.create(
                kind=MessageKind.SAVINGS_DEPOSIT, source_ref=f"bad-{number}", phone=value, language="en",
                body="x", created_at=timezone.now(),
            )  # fmt: skip

    committed(workspace, create)
    report = relay(workspace)
    assert report.not_sendable == 3 and report.sent == 0
    assert [row.status for row in rows(workspace)] == [OutboxStatus.NO_RECIPIENT] * 3
    assert twilio.requests == []

    def attention() -> list[str]:
        from notifications.selectors import messages_needing_attention

        return sorted(m.source_ref for m in messages_needing_attention(status="no_recipient"))

    assert committed(workspace, attention) == ["bad-0", "bad-1", "bad-2"]


def test_a_suspended_workspace_sends_nothing_and_its_messages_wait(
    workspace: Cooperative, twilio: FakeTwilio
) -> None:
    messages_create(workspace, 2)
    suspended = copy.copy(workspace)
    suspended.lifecycle = "suspended"

    report = relay(suspended)

    assert report.skipped == "suspended" and report.sent == 0
    assert [row.status for row in rows(workspace)] == [OutboxStatus.PENDING] * 2
    assert twilio.requests == []

    read_only = copy.copy(workspace)
    read_only.lifecycle = "read_only"
    assert relay(read_only).sent == 2  # owed before the workspace became read-only


def test_the_rendered_text_is_stored_at_the_first_attempt(workspace: Cooperative, twilio: FakeTwilio) -> None:
    def create() -> int:
        return OutboxMessage.objects.create(
            kind=MessageKind.SAVINGS_DEPOSIT, source_ref="render-1", phone=phone(5), language="en",
            context={"amount_minor": 500_000, "balance_minor": 12_500_000, "currency": "BDT",
                     "account": "SAV-1", "value_date": "2026-11-24"},
            created_at=timezone.now(),
        ).pk  # fmt: skip

    committed(workspace, create)
    assert relay(workspace).sent == 1
    (row,) = rows(workspace)
    (request,) = twilio.creates()
    assert row.body and request.form["Body"] == row.body
    assert row.encoding == "GSM-7" and row.segments == 1
    assert request.form["StatusCallback"].endswith("/hooks/twilio/status/")
    assert request.form["StatusCallback"].startswith(f"http://{workspace.slug}.")


# --- The official client at the fake --------------------------------------------------------------


def test_the_official_twilio_client_talks_to_the_local_fake(twilio: FakeTwilio, settings: Any) -> None:
    provider = sms_provider()
    sent = provider.send(OutgoingSms(to=phone(9), body="Hello", status_callback="https://a.example/cb?x=1"))

    (request,) = twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Messages.json"
    assert request.form == {
        "To": phone(9), "From": settings.TWILIO_FROM_NUMBER, "Body": "Hello",
        "StatusCallback": "https://a.example/cb?x=1",
    }  # fmt: skip
    assert sent.provider_message_id in twilio.messages and sent.status == "queued"
    found = provider.find_sent(OutgoingSms(to=phone(9), body="Hello"), exclude=frozenset())
    assert found is not None and found.provider_message_id == sent.provider_message_id
    assert (
        provider.find_sent(
            OutgoingSms(to=phone(9), body="Hello"), exclude=frozenset({sent.provider_message_id})
        )
        is None
    )

    settings.TWILIO_AUTH_TOKEN = "wrong-token"
    from notifications.providers.base import TransientSendError

    with pytest.raises(TransientSendError, match="401"):
        sms_provider().send(OutgoingSms(to=phone(9), body="Hello"))
    assert len(twilio.messages) == 1


def test_a_number_staff_opted_out_gets_nothing_until_the_opt_out_is_lifted(
    workspace: Cooperative, twilio: FakeTwilio
) -> None:
    from notifications.delivery import sms_opt_out_record, sms_opt_out_remove

    committed(workspace, lambda: sms_opt_out_record(actor=None, phone=phone(0), reason="STOP at the branch"))
    messages_create(workspace, 2)
    report = relay(workspace)
    assert (report.sent, report.not_sendable) == (1, 1)
    assert [row.status for row in rows(workspace)] == [OutboxStatus.OPTED_OUT, OutboxStatus.SENT]
    assert [c.form["To"] for c in twilio.creates()] == [phone(1)]

    assert committed(workspace, lambda: sms_opt_out_remove(actor=None, phone=phone(0))) is True
    messages_create(workspace, 1)
    assert relay(workspace).sent == 1
    assert [c.form["To"] for c in twilio.creates()] == [phone(1), phone(0)]
