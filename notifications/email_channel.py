"""E-mail as a second channel: the same text as the SMS, to members who have an e-mail address.

Every outbox row starts with ``email_status = 'pending'`` (a database default, so rows written in
raw SQL by the posting services get it too). After the relay's run (``notifications.tasks``), a pass
over the workspace's outbox:

1. settles, in one statement, the rows whose member has no address (or no member at all), and the
   rows to an opted-out number: ``none``;
2. claims, with ``SELECT … FOR UPDATE SKIP LOCKED``, rows whose text is ready (the SMS was rendered
   at its first attempt, or the member has no valid number and the text is rendered here), marks
   them ``sending`` with the address, and commits;
3. sends each through Django's mail (``EMAIL_URL``: the console in development, locmem in tests)
   and records ``sent`` with the time, or a failure (below).

Each message is e-mailed at most once. A mail server that *refused* it (it answered with an error
code, or the connection was refused, or the text could not be made: the message was never taken)
is asked again later: the row goes back to ``pending`` with ``email_next_attempt_at`` set
(exponential backoff), and after ``EMAIL_MAX_ATTEMPTS`` attempts it is ``failed``. Anything else
(the connection dropped or timed out mid-conversation, an unexpected error) may have left the
message with the server: ``failed`` at once, never resent. A pass that dies between the claim and
the record leaves the row ``sending`` (shown as such) rather than risk a second copy, since a mail
server cannot be asked afterwards whether it took a message.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from notifications.models import EmailStatus, OutboxMessage
from notifications.relay import workspace_may_send
from tenants.db import current_cooperative

logger = structlog.get_logger(__name__)

EMAIL_BATCH = 100
# Attempts in all (the first and two retries), and the wait before the second: it doubles after.
EMAIL_MAX_ATTEMPTS = 3
EMAIL_RETRY_BASE_SECONDS = 60

_NO_ADDRESS_SQL = """
UPDATE notifications_outboxmessage AS o
SET email_status = 'none'
WHERE o.email_status = 'pending'
  AND (
    o.status = 'opted_out'
    OR o.member_id IS NULL
    OR NOT EXISTS (SELECT 1 FROM members_member m WHERE m.id = o.member_id AND m.email <> '')
  )
"""

_CLAIM_SQL = """
UPDATE notifications_outboxmessage AS o
SET email_status = 'sending', email_to = m.email, email_attempts = o.email_attempts + 1
FROM members_member AS m
WHERE o.id IN (
    SELECT id FROM notifications_outboxmessage
    WHERE email_status = 'pending' AND (body <> '' OR status = 'no_recipient')
      AND (email_next_attempt_at IS NULL OR email_next_attempt_at <= now())
    ORDER BY id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
AND m.id = o.member_id AND m.email <> ''
RETURNING o.id
"""


@dataclass
class EmailReport:
    sent: int = 0
    failed: int = 0
    no_address: int = 0
    retried: int = 0
    skipped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "no_address": self.no_address,
            "retried": self.retried,
        }


class _NotTaken(Exception):
    """The message certainly did not reach the mail server: safe to try again."""


# The server answered with an error code (to the connection, HELO, login, MAIL, RCPT or the end of
# DATA: a refused DATA is a message not taken), or refused the connection outright.
_REFUSALS: tuple[type[BaseException], ...] = (
    smtplib.SMTPResponseException,
    smtplib.SMTPRecipientsRefused,
    ConnectionRefusedError,
)


def email_retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th refused attempt: 1, 2, 4… times the base."""
    return timedelta(seconds=EMAIL_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))


def _subject(language: str) -> str:
    cooperative: Any = current_cooperative()
    name = str(getattr(cooperative, "name", "") or "")
    with translation.override(language or "en"):
        return gettext("Message from %(cooperative)s") % {"cooperative": name} if name else gettext("Message")


def _text_of(row: OutboxMessage) -> str:
    if row.body:
        return row.body
    from notifications.rendering import outbox_message_render

    # No valid phone number: the SMS was never rendered. The text is stored here, once, so the
    # e-mail and the staff pages show the same words.
    rendered = outbox_message_render(row)
    OutboxMessage.objects.filter(pk=row.pk, body="").update(
        body=rendered.body, encoding=rendered.encoding, segments=rendered.segments
    )
    return rendered.body


def outbox_email_run(*, limit: int = EMAIL_BATCH) -> EmailReport:
    """E-mail the current workspace's messages that are ready and have an address (see module doc)."""
    report = EmailReport()
    if not workspace_may_send():
        report.skipped = True
        return report
    with connection.cursor() as cursor:
        cursor.execute(_NO_ADDRESS_SQL)
        report.no_address = cursor.rowcount
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, {"limit": limit})
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return report
        for row in OutboxMessage.objects.filter(pk__in=ids).order_by("id"):
            _email_one(row, report)


def _send(row: OutboxMessage) -> None:
    """Hand the message to the mail server; raises ``_NotTaken`` when it certainly did not take it."""
    try:
        message = EmailMessage(
            subject=_subject(row.language),
            body=_text_of(row),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[row.email_to],
        )
    except Exception as error:  # nothing was sent: the text could not be made
        raise _NotTaken(f"{type(error).__name__}: {error}") from error
    try:
        message.send()
    except _REFUSALS as error:
        raise _NotTaken(f"{type(error).__name__}: {error}") from error


def _email_one(row: OutboxMessage, report: EmailReport) -> None:
    mine = OutboxMessage.objects.filter(pk=row.pk, email_status=EmailStatus.SENDING)
    try:
        _send(row)
    except _NotTaken as refused:
        text = str(refused)[:1000]
        if row.email_attempts < EMAIL_MAX_ATTEMPTS:
            mine.update(
                email_status=EmailStatus.PENDING,
                email_next_attempt_at=timezone.now() + email_retry_delay(row.email_attempts),
                email_error=text,
            )
            report.retried += 1
        else:
            mine.update(email_status=EmailStatus.FAILED, email_error=text)
            report.failed += 1
        logger.warning(
            "outbox_email_refused", message_id=row.pk, attempts=row.email_attempts, error=text[:200]
        )
        return
    except Exception as error:  # the server may have taken it (a dropped connection): never resent
        mine.update(email_status=EmailStatus.FAILED, email_error=f"{type(error).__name__}: {error}"[:1000])
        report.failed += 1
        logger.warning("outbox_email_failed", message_id=row.pk, error=str(error)[:200])
        return
    mine.update(email_status=EmailStatus.SENT, email_sent_at=timezone.now(), email_error="")
    report.sent += 1
