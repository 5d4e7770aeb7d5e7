"""Reads for the staff pages and the API: the messages that need someone's attention."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from notifications.models import DeliveryStatus, OutboxMessage, OutboxStatus

ATTENTION_STATUSES = (OutboxStatus.DEAD, OutboxStatus.NO_RECIPIENT, OutboxStatus.OPTED_OUT)


def messages_needing_attention(*, status: str = "") -> QuerySet[OutboxMessage]:
    """Dead, undeliverable and unsendable messages, newest first (``status`` narrows to one kind).

    ``status`` is an outbox status, or ``undelivered`` for messages the gateway took but could not
    deliver.
    """
    undelivered = Q(
        status=OutboxStatus.SENT, delivery_status__in=[DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED]
    )
    if status == "undelivered":
        condition = undelivered
    elif status in ATTENTION_STATUSES:
        condition = Q(status=status)
    else:
        condition = Q(status__in=ATTENTION_STATUSES) | undelivered
    return OutboxMessage.objects.filter(condition).order_by("-created_at", "-id")
