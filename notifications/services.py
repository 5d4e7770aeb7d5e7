"""Writing to the outbox. Callers are money-movement services, inside their own transaction."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from notifications.models import MessageKind, OutboxMessage, OutboxStatus


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
