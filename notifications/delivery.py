"""What happens to a message after the relay: delivery reports from the gateway, and staff resends."""

from __future__ import annotations

from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from notifications.models import DeliveryStatus, OutboxMessage, OutboxStatus, SmsOptOut

logger = structlog.get_logger(__name__)

# Twilio's message statuses (https://www.twilio.com/docs/messaging/api/message-resource) onto ours.
PROVIDER_STATUSES: dict[str, DeliveryStatus] = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.SENT,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
# Callbacks arrive in any order; a status replaces only one of a lower rank. The three final
# ones share a rank: the first final word stands.
RANK: dict[str, int] = {
    DeliveryStatus.NONE: 0,
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.FAILED: 3,
    DeliveryStatus.UNDELIVERED: 3,
}


def delivery_status_for(provider_status: str) -> DeliveryStatus | None:
    return PROVIDER_STATUSES.get(provider_status.strip().lower())


def delivery_status_record(
    *, provider_message_id: str, provider_status: str, error_code: str = ""
) -> OutboxMessage | None:
    """Record what the gateway reports about one of the workspace's messages.

    None when the id is not one of this workspace's messages (or the status is not one we know).
    A report that would move the status backwards (``sent`` after ``delivered``) changes nothing.
    """
    status = delivery_status_for(provider_status)
    if status is None or not provider_message_id:
        return None
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update().filter(provider_message_id=provider_message_id).first()
        )
        if message is None:
            return None
        if RANK[status] > RANK[DeliveryStatus(message.delivery_status)]:
            message.delivery_status = status
            message.delivery_error_code = error_code[:16]
            message.delivery_updated_at = timezone.now()
            message.save(update_fields=["delivery_status", "delivery_error_code", "delivery_updated_at"])
    return message


def outbox_message_resend(*, actor: Any, message_id: int) -> OutboxMessage:
    """Give a dead message another full round of attempts (audited).

    The stored text is sent again as it was. If its last attempt went unanswered the relay asks the
    gateway first, so a message that did arrive after all is recorded, not sent twice.
    """
    from notifications.services import outbox_relay_kick_on_commit

    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such message."))
        if message.status != OutboxStatus.DEAD:
            raise BusinessRuleViolation(
                ErrorCode.MESSAGE_NOT_DEAD,
                _("Only a message that failed after its retries can be sent again."),
            )
        before = {"status": message.status, "attempts": message.attempts, "last_error": message.last_error}
        message.status = OutboxStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = None
        message.dead_at = None
        message.save(update_fields=["status", "attempts", "next_attempt_at", "dead_at"])
        audit_record(
            actor=actor,
            action="notifications.message_resend",
            target=message,
            changes={"status": [before["status"], message.status], "attempts": [before["attempts"], 0]},
        )
        outbox_relay_kick_on_commit()
    return message


def _e164(phone: str) -> str:
    import phonenumbers

    try:
        number = phonenumbers.parse(phone.strip(), None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise BusinessRuleViolation(
            ErrorCode.PHONE_INVALID,
            _("Enter the number in international form, e.g. +8801711000000."),
            fields={"phone": [_("Not a valid phone number.")]},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def sms_opt_out_record(*, actor: Any, phone: str, reason: str = "") -> SmsOptOut:
    """The member at ``phone`` asked for no more messages (audited); nothing more is sent there."""
    number = _e164(phone)
    with transaction.atomic():
        opt_out, created = SmsOptOut.objects.get_or_create(
            phone=number, defaults={"reason": reason.strip()[:64] or "staff", "created_at": timezone.now()}
        )
        if created:
            audit_record(
                actor=actor,
                action="notifications.opt_out_record",
                target=opt_out,
                changes={"phone": [None, number]},
            )
    return opt_out


def sms_opt_out_remove(*, actor: Any, phone: str) -> bool:
    """Messages may go to ``phone`` again (audited); False if it had not opted out."""
    number = _e164(phone)
    with transaction.atomic():
        opt_out = SmsOptOut.objects.select_for_update().filter(phone=number).first()
        if opt_out is None:
            return False
        audit_record(
            actor=actor,
            action="notifications.opt_out_remove",
            target=opt_out,
            changes={"phone": [number, None]},
        )
        opt_out.delete()
    return True
