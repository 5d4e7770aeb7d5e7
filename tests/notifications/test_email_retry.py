"""E-mail retries: a mail server that refused a message (never took it) is asked again, with
exponential backoff, up to three attempts; one whose answer was lost is never asked again."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from notifications.email_channel import EMAIL_MAX_ATTEMPTS, EMAIL_RETRY_BASE_SECONDS, outbox_email_run
from notifications.models import EmailStatus, MessageKind, OutboxMessage, OutboxStatus
from notifications.services import outbox_enqueue
from tests.conftest import Workspace
from tests.core_banking.savings.conftest import make_member
from tests.notifications.mail_backends import ScriptedBackend

pytestmark = pytest.mark.django_db

TEXT = "Savings balance: BDT 125,000.00."


def _refused() -> BaseException:
    return smtplib.SMTPDataError(451, b"4.3.0 Try again later")


@pytest.fixture
def scripted(settings: Any) -> type[ScriptedBackend]:
    settings.EMAIL_BACKEND = "tests.notifications.mail_backends.ScriptedBackend"
    ScriptedBackend.reset([])
    return ScriptedBackend


def _row(number: str) -> OutboxMessage:
    member = make_member(number, phone="+8801711000601")
    member.email = f"{number.lower()}@example.org"
    member.save(update_fields=["email"])
    outbox_enqueue(kind=MessageKind.BALANCE_REPLY, source_ref=f"r-{number}", member=member, context={})
    OutboxMessage.objects.filter(source_ref=f"r-{number}").update(status=OutboxStatus.SENT, body=TEXT)
    return OutboxMessage.objects.get(source_ref=f"r-{number}")


def _make_due(row: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=row.pk).update(
        email_next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def _run_and_check_wait(row: OutboxMessage, expected_wait: int) -> None:
    before = timezone.now()
    assert outbox_email_run().as_dict() == {"sent": 0, "failed": 0, "no_address": 0, "retried": 1}
    after = timezone.now()
    row.refresh_from_db()
    assert row.email_status == EmailStatus.PENDING
    assert row.email_next_attempt_at is not None
    assert before + timedelta(seconds=expected_wait) <= row.email_next_attempt_at
    assert row.email_next_attempt_at <= after + timedelta(seconds=expected_wait)


def test_a_refused_mail_is_retried_with_backoff_and_sent_at_the_third_attempt(
    in_alpha: Workspace, scripted: type[ScriptedBackend]
) -> None:
    assert (EMAIL_MAX_ATTEMPTS, EMAIL_RETRY_BASE_SECONDS) == (3, 60)
    scripted.reset([_refused(), smtplib.SMTPRecipientsRefused({"x@example.org": (450, b"busy")}), None])
    row = _row("HO-000601")

    _run_and_check_wait(row, 60)
    assert (row.email_attempts, scripted.calls) == (1, 1)
    assert row.email_error.startswith("SMTPDataError: (451")
    # Not due yet: nothing is sent.
    assert outbox_email_run().as_dict() == {"sent": 0, "failed": 0, "no_address": 0, "retried": 0}
    assert scripted.calls == 1

    _make_due(row)
    _run_and_check_wait(row, 120)  # the wait doubles
    assert (row.email_attempts, scripted.calls) == (2, 2)

    _make_due(row)
    assert outbox_email_run().as_dict() == {"sent": 1, "failed": 0, "no_address": 0, "retried": 0}
    row.refresh_from_db()
    assert (row.email_status, row.email_attempts, row.email_error, scripted.calls) == (
        EmailStatus.SENT,
        3,
        "",
        3,
    )
    assert [(m.to, m.body) for m in mail.outbox] == [(["ho-000601@example.org"], TEXT)]


def test_after_three_refusals_the_mail_is_failed_and_left_alone(
    in_alpha: Workspace, scripted: type[ScriptedBackend]
) -> None:
    scripted.reset([_refused(), _refused(), _refused(), None])
    row = _row("HO-000602")
    for attempt in (1, 2):
        assert outbox_email_run().retried == 1
        row.refresh_from_db()
        assert (row.email_status, row.email_attempts) == (EmailStatus.PENDING, attempt)
        _make_due(row)
    assert outbox_email_run().as_dict() == {"sent": 0, "failed": 1, "no_address": 0, "retried": 0}
    row.refresh_from_db()
    assert (row.email_status, row.email_attempts, scripted.calls) == (EmailStatus.FAILED, 3, 3)
    _make_due(row)
    assert outbox_email_run().as_dict() == {"sent": 0, "failed": 0, "no_address": 0, "retried": 0}
    assert scripted.calls == 3 and mail.outbox == []


def test_a_connection_lost_mid_conversation_is_failed_at_once_and_never_resent(
    in_alpha: Workspace, scripted: type[ScriptedBackend]
) -> None:
    # The server may have taken the message before the connection dropped: at most once.
    scripted.reset([smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), None])
    row = _row("HO-000603")
    assert outbox_email_run().as_dict() == {"sent": 0, "failed": 1, "no_address": 0, "retried": 0}
    row.refresh_from_db()
    assert (row.email_status, row.email_attempts) == (EmailStatus.FAILED, 1)
    assert row.email_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    _make_due(row)
    assert outbox_email_run().sent == 0
    assert scripted.calls == 1 and mail.outbox == []


def test_a_pass_that_died_mid_send_leaves_the_row_sending_and_it_is_not_sent_again(
    in_alpha: Workspace, scripted: type[ScriptedBackend]
) -> None:
    row = _row("HO-000604")
    OutboxMessage.objects.filter(pk=row.pk).update(
        email_status=EmailStatus.SENDING, email_to="ho-000604@example.org", email_attempts=1
    )
    assert outbox_email_run().as_dict() == {"sent": 0, "failed": 0, "no_address": 0, "retried": 0}
    row.refresh_from_db()
    assert (row.email_status, row.email_attempts, scripted.calls) == (EmailStatus.SENDING, 1, 0)
