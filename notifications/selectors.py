"""Reads for the staff pages and the API: the messages that need someone's attention."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from core_banking.members.models import Member
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability
from notifications.models import DeliveryStatus, OutboxMessage, OutboxStatus

ATTENTION_STATUSES = (OutboxStatus.DEAD, OutboxStatus.NO_RECIPIENT, OutboxStatus.OPTED_OUT)
# Who sees the messages that need attention, and who may send a dead one again.
VIEW_CAPABILITIES = (Capability.MANAGE_MEMBERS, Capability.POST_TRANSACTIONS)
RESEND_CAPABILITY = Capability.MANAGE_MEMBERS


def visible_messages(profile: StaffProfile, queryset: QuerySet[OutboxMessage]) -> QuerySet[OutboxMessage]:
    """A branch-bound user sees the messages of their branches' members only."""
    branch_ids = profile.visible_branch_ids()
    if branch_ids is None:
        return queryset
    return queryset.filter(member_id__in=Member.objects.filter(branch_id__in=branch_ids).values("id"))


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
