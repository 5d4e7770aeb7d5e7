"""E-mail as a second channel: the SMS text, once, to members who have an address; recorded on the
outbox row. Django's locmem mail backend stands in for the mail server (a real SMTP connection is
refused for the failure case)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tenants.utils import tenant_context

from core_banking.members.models import Member, MemberType
from core_banking.organisation.models import Branch
from notifications.email_channel import outbox_email_run
from notifications.models import EmailStatus, MessageKind, OutboxMessage, OutboxStatus, SmsOptOut
from notifications.services import outbox_enqueue
from tests.conftest import ALPHA, Workspace
from tests.core_banking.savings.conftest import OPENED, make_member
from tests.core_banking.threads import in_threads
from tests.notifications.conftest import committed

pytestmark = pytest.mark.django_db

SMS_TEXT = "সঞ্চয় জমা ৫,০০০.০০৳, হিসাব GS-1, ৫/১২/২৬। স্থিতি ১,২৫,০০০.০০৳"


def _member(number: str, *, email: str, phone: str = "+8801711000501") -> Member:
    member = make_member(number, phone=phone)
    member.email = email
    member.save(update_fields=["email"])
    return member


def _message(member: Member, ref: str, **fields: Any) -> OutboxMessage:
    outbox_enqueue(
        kind=MessageKind.BALANCE_REPLY,
        source_ref=ref,
        member=member,
        context={"balance_minor": 125_000_00, "currency": "BDT"},
    )
    OutboxMessage.objects.filter(source_ref=ref).update(**fields)
    return OutboxMessage.objects.get(source_ref=ref)


def test_a_sent_sms_is_emailed_once_to_a_member_with_an_address(in_alpha: Workspace) -> None:
    member = _member("HO-000501", email="rahima@example.org")
    row = _message(
        member, "e-1", status=OutboxStatus.SENT, body=SMS_TEXT, provider_message_id="SM" + "5" * 32
    )
    assert row.email_status == EmailStatus.PENDING

    report = outbox_email_run()
    assert report.as_dict() == {"sent": 1, "failed": 0, "no_address": 0, "retried": 0}
    [sent] = mail.outbox
    assert (sent.to, sent.body) == (["rahima@example.org"], SMS_TEXT)
    with translation.override("bn"):  # the member's language
        assert sent.subject == gettext("Message from %(cooperative)s") % {
            "cooperative": ALPHA.cooperative().name
        }
    row.refresh_from_db()
    assert (row.email_status, row.email_to, row.email_error) == (EmailStatus.SENT, "rahima@example.org", "")
    assert row.email_sent_at is not None

    assert outbox_email_run().as_dict() == {"sent": 0, "failed": 0, "no_address": 0, "retried": 0}
    assert len(mail.outbox) == 1


def test_no_address_no_member_or_an_opted_out_number_is_settled_without_mail(in_alpha: Workspace) -> None:
    without = _member("HO-000502", email="", phone="+8801711000502")
    opted = _member("HO-000503", email="opted@example.org", phone="+8801711000503")
    SmsOptOut.objects.create(phone=opted.phone, created_at=timezone.now())
    a = _message(without, "e-2", status=OutboxStatus.SENT, body=SMS_TEXT)
    b = _message(opted, "e-3", status=OutboxStatus.OPTED_OUT)
    c = OutboxMessage.objects.create(
        kind=MessageKind.ONE_TIME_CODE, source_ref="e-4", phone="+8801711000504", language="en",
        created_at=timezone.now(), status=OutboxStatus.SENT, body="Your code is 1.",
    )  # fmt: skip
    assert outbox_email_run().as_dict() == {"sent": 0, "failed": 0, "no_address": 3, "retried": 0}
    assert mail.outbox == []
    for row in (a, b, c):
        row.refresh_from_db()
        assert row.email_status == EmailStatus.NO_ADDRESS


def test_a_member_without_a_valid_phone_gets_the_text_by_email(in_alpha: Workspace) -> None:
    member = _member("HO-000505", email="no-phone@example.org", phone="")
    row = _message(member, "e-5")
    assert (row.status, row.body) == (OutboxStatus.NO_RECIPIENT, "")
    outbox_email_run()
    [sent] = mail.outbox
    # Alpha writes Bangla digits; the member reads Bangla.
    assert (sent.to, sent.body) == (["no-phone@example.org"], "সঞ্চয় স্থিতি ১,২৫,০০০.০০৳।")
    row.refresh_from_db()
    assert (row.email_status, row.body, row.encoding, row.segments) == (
        EmailStatus.SENT,
        "সঞ্চয় স্থিতি ১,২৫,০০০.০০৳।",
        "UCS-2",
        1,
    )


def test_a_message_waits_until_its_text_is_written(in_alpha: Workspace) -> None:
    member = _member("HO-000506", email="waiting@example.org", phone="+8801711000506")
    row = _message(member, "e-6")
    assert (row.status, row.body) == (OutboxStatus.PENDING, "")
    outbox_email_run()
    assert mail.outbox == []
    row.refresh_from_db()
    assert row.email_status == EmailStatus.PENDING


def test_a_refused_connection_is_tried_again_later(in_alpha: Workspace, settings: Any) -> None:
    """A real SMTP connection to a closed port: refused, so the message was not taken."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    member = _member("HO-000507", email="refused@example.org", phone="+8801711000507")
    row = _message(member, "e-7", status=OutboxStatus.SENT, body=SMS_TEXT)
    assert outbox_email_run().as_dict() == {"sent": 0, "failed": 0, "no_address": 0, "retried": 1}
    row.refresh_from_db()
    assert (row.email_status, row.email_attempts) == (EmailStatus.PENDING, 1)
    assert "ConnectionRefusedError" in row.email_error
    # Not due yet: the next pass leaves it alone.
    assert outbox_email_run().as_dict() == {"sent": 0, "failed": 0, "no_address": 0, "retried": 0}


def test_two_passes_at_once_email_each_message_once(workspace: Any) -> None:
    tag = uuid.uuid4().hex[:8]

    def create() -> list[int]:
        member_type, _created = MemberType.objects.get_or_create(code="ORD", defaults={"name": "Ordinary"})
        ids = []
        for number in range(20):
            member = Member.objects.create(
                number=f"EM-{tag}-{number}", branch=Branch.objects.get(is_head_office=True),
                member_type=member_type, full_name=f"Member {number}", phone="",
                email=f"m{number}-{tag}@example.org", message_language="en", join_date=OPENED,
            )  # fmt: skip
            row = OutboxMessage.objects.create(
                kind=MessageKind.ONE_TIME_CODE, source_ref=f"em-{tag}-{number}", member_id=member.pk,
                phone="", language="en", context={"code": str(number)}, created_at=timezone.now(),
                status=OutboxStatus.SENT, body=f"Your code is {number}.",
            )  # fmt: skip
            ids.append(row.pk)
        return ids

    ids = committed(workspace, create)
    reports = in_threads(2, lambda _number: outbox_email_run(limit=3), workspace)
    assert sum(report.sent for report in reports) == 20
    mine = [m for m in mail.outbox if m.to[0].endswith(f"-{tag}@example.org")]
    assert sorted(m.body for m in mine) == sorted(f"Your code is {n}." for n in range(20))
    with tenant_context(workspace):
        assert set(OutboxMessage.objects.filter(pk__in=ids).values_list("email_status", flat=True)) == {
            "sent"
        }
