"""The notification outbox: one row per message a money movement owes a member.

The row is written in the same transaction as the movement (so a rolled-back movement leaves no
message and a committed one never loses its message); a relay sends it afterwards.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    SAVINGS_DEPOSIT = "savings_deposit", _("Savings deposit")
    SAVINGS_WITHDRAWAL = "savings_withdrawal", _("Savings withdrawal")
    SAVINGS_TRANSFER = "savings_transfer", _("Savings transfer")
    SAVINGS_INTEREST = "savings_interest", _("Savings interest")
    INSTALMENT_RECEIVED = "instalment_received", _("Instalment received")
    LOAN_DISBURSED = "loan_disbursed", _("Loan disbursed")
    SHARE_PURCHASE = "share_purchase", _("Share purchase")
    SHARE_WITHDRAWAL = "share_withdrawal", _("Share withdrawal")
    CORRECTION = "correction", _("Correction of an earlier transaction")
    UPCOMING_REMINDER = "upcoming_reminder", _("Upcoming instalment reminder")
    OVERDUE_REMINDER = "overdue_reminder", _("Overdue reminder")
    ONE_TIME_CODE = "one_time_code", _("One-time code")
    BALANCE_REPLY = "balance_reply", _("Balance on request (reply to an SMS)")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    # Claimed by a relay until ``claimed_until``; a relay that died leaves the lease to expire, and
    # the next relay asks the provider whether the message went out before sending it again.
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    NO_RECIPIENT = "no_recipient", _("Not sent: no valid phone number")
    OPTED_OUT = "opted_out", _("Not sent: the member opted out of messages")
    DEAD = "dead", _("Failed after retries")


class DeliveryStatus(models.TextChoices):
    """What the provider reports after accepting a message; it only ever moves forward."""

    NONE = "", _("Not reported")
    QUEUED = "queued", _("Queued at the provider")
    SENT = "sent", _("Sent to the network")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    UNDELIVERED = "undelivered", _("Undelivered")


class EmailStatus(models.TextChoices):
    """The e-mail copy of a message (the second channel), independent of the SMS."""

    PENDING = "pending", _("To be considered")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent by e-mail")
    NO_ADDRESS = "none", _("No e-mail address")
    FAILED = "failed", _("E-mail failed")


class OutboxMessage(models.Model):
    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    # The business transaction the message is about (its ledger idempotency key): one message per
    # transaction and kind, however often the transaction is replayed.
    source_ref = models.CharField(max_length=160)
    member_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    phone = models.CharField(max_length=16, blank=True)
    language = models.CharField(max_length=5)
    context = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    # Delivery. Every column has a database default: the money-movement services insert rows in raw
    # SQL (and COPY) naming only the columns above.
    # Null means due now; after a transient failure, when the next attempt may start (backoff).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The lease of the relay that claimed the row (status "sending").
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    # An earlier attempt may have reached the provider without our learning its answer (a timeout,
    # a relay that died mid-send): the provider is asked before the message is sent again.
    unconfirmed_send = models.BooleanField(default=False, db_default=False)
    last_error = models.TextField(blank=True, default="", db_default="")
    provider = models.CharField(max_length=32, blank=True, default="", db_default="")
    provider_message_id = models.CharField(max_length=64, null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery_status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, blank=True, default="", db_default=""
    )
    delivery_error_code = models.CharField(max_length=16, blank=True, default="", db_default="")
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    # The text as sent (rendered once, at the first attempt, so a resend sends the same words).
    body = models.TextField(blank=True, default="", db_default="")
    encoding = models.CharField(max_length=8, blank=True, default="", db_default="")
    segments = models.PositiveSmallIntegerField(default=0, db_default=0)
    dead_at = models.DateTimeField(null=True, blank=True)
    # The same text by e-mail where the member has an address (``notifications.email_channel``).
    # New rows start pending (a database default: rows written in raw SQL get it too).
    email_status = models.CharField(
        max_length=8, choices=EmailStatus.choices, default=EmailStatus.PENDING, db_default="pending"
    )
    email_to = models.CharField(max_length=254, blank=True, default="", db_default="")
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True, default="", db_default="")
    # A mail server that refused the message (it never took it) is asked again, with backoff, up to
    # ``email_channel.EMAIL_MAX_ATTEMPTS`` times; null means due now.
    email_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["source_ref", "kind"], name="one_message_per_transaction_kind"),
            models.UniqueConstraint(
                fields=["provider_message_id"],
                condition=models.Q(provider_message_id__isnull=False),
                name="one_message_per_provider_id",
            ),
        ]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(status="pending"), name="outbox_pending"),
            models.Index(
                fields=["claimed_until"], condition=models.Q(status="sending"), name="outbox_sending"
            ),
            models.Index(
                fields=["-created_at"],
                condition=models.Q(status__in=["dead", "no_recipient", "opted_out"]),
                name="outbox_needs_attention",
            ),
            models.Index(
                fields=["id"],
                condition=models.Q(email_status__in=["pending", "sending"]),
                name="outbox_email_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source_ref} ({self.status})"


class SmsOptOut(models.Model):
    """A phone number that asked not to receive messages (STOP, a staff entry, or the provider's refusal)."""

    id = models.BigAutoField(primary_key=True)
    phone = models.CharField(max_length=16, unique=True)
    reason = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.phone


class InboundOutcome(models.TextChoices):
    REPLIED = "replied", _("Balance sent by SMS")
    UNKNOWN_NUMBER = "unknown_number", _("Not answered: number not on file")
    NOT_KEYWORD = "not_keyword", _("Not answered: not a balance request")
    RATE_LIMITED = "rate_limited", _("Not answered: too many requests")


class InboundMessage(models.Model):
    """An SMS a member (or anyone) sent to the cooperative's number, and what was done with it.

    One row per gateway message id: a webhook the gateway delivers twice finds its row and does
    nothing more.
    """

    id = models.BigAutoField(primary_key=True)
    provider_message_id = models.CharField(max_length=64, unique=True)
    from_phone = models.CharField(max_length=32)
    to_phone = models.CharField(max_length=32, blank=True, default="")
    body = models.TextField(blank=True, default="")
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=InboundOutcome.choices)
    # The members whose number it came from, and their branches (for branch-bound staff).
    member_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    branch_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["from_phone", "received_at"], name="inbound_by_phone"),
            models.Index(fields=["-received_at"], name="inbound_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.from_phone} {self.outcome}"


class StaffAlertKind(models.TextChoices):
    DEAD_LETTERS = "dead_letters", _("Messages that could not be sent")


class StaffAlert(models.Model):
    """An e-mail sent to a staff user about something that needs them; at most one of a kind a day."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=StaffAlertKind.choices)
    # The workspace's local date the alert was for.
    day = models.DateField()
    # How many messages it named.
    count = models.PositiveIntegerField()
    email = models.EmailField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "day"], name="notifications_staff_alert_once_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} → {self.user_id}"
