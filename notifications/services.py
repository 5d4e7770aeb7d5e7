"""Writing to the outbox. Callers are money-movement services, inside their own transaction."""

from __future__ import annotations

from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from notifications.models import MessageKind, OutboxMessage, OutboxStatus

logger = structlog.get_logger(__name__)


def outbox_initial_status(*, phone: str, sms_opt_out: bool) -> OutboxStatus:
    """The status a new row starts in: a member who opted out, or has no number, is not sent to.

    Staff see both kinds of row as not sendable. The money-movement statements that insert rows in
    their own SQL compute the same thing with a CASE over the member's columns.
    """
    if sms_opt_out:
        return OutboxStatus.OPTED_OUT
    return OutboxStatus.PENDING if phone else OutboxStatus.NO_RECIPIENT


def outbox_rows(*, kind: MessageKind, source_ref: str, member: Any, context: dict[str, Any]) -> OutboxMessage:
    """An unsaved outbox row for ``member`` (bulk paths insert many at once)."""
    phone = getattr(member, "phone", "") or ""
    return OutboxMessage(
        kind=kind,
        source_ref=source_ref,
        member_id=member.pk,
        phone=phone,
        language=member.message_language,
        context=context,
        status=outbox_initial_status(phone=phone, sms_opt_out=bool(getattr(member, "sms_opt_out", False))),
        created_at=timezone.now(),
    )


def outbox_enqueue(*, kind: MessageKind, source_ref: str, member: Any, context: dict[str, Any]) -> None:
    """Queue one message; a replay of the same transaction queues nothing more."""
    OutboxMessage.objects.bulk_create(
        [outbox_rows(kind=kind, source_ref=source_ref, member=member, context=context)],
        ignore_conflicts=True,
    )
    outbox_relay_kick_on_commit()


def outbox_relay_kick_on_commit() -> None:
    """Have the relay run once the caller's transaction commits (nothing if it rolls back).

    Paths that write outbox rows in their own SQL call this too; the periodic sweep catches any
    that do not.
    """
    from notifications.tasks import outbox_relay_kick

    transaction.on_commit(_kick_quietly(outbox_relay_kick))


def _kick_quietly(kick: Any) -> Any:
    def run() -> None:
        # The money has moved and committed; a broker that is down must not turn that into an
        # error for the teller. The sweep sends the message a minute later.
        try:
            kick()
        except Exception:
            logger.warning("outbox_relay_kick_failed", exc_info=True)

    return run
