"""Writing to the outbox. Callers are money-movement services, inside their own transaction."""

from __future__ import annotations

from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from notifications.models import MessageKind, OutboxMessage, OutboxStatus

logger = structlog.get_logger(__name__)


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
        # Nothing is sent to a member without a valid number; staff see these rows as such.
        status=OutboxStatus.PENDING if phone else OutboxStatus.NO_RECIPIENT,
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
