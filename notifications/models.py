"""The notification outbox: one row per message a money movement owes a member.

The row is written in the same transaction as the movement (so a rolled-back movement leaves no
message and a committed one never loses its message); a relay sends it afterwards.
"""

from __future__ import annotations

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


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    NO_RECIPIENT = "no_recipient", _("Not sent: no valid phone number")
    DEAD = "dead", _("Failed after retries")


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

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["source_ref", "kind"], name="one_message_per_transaction_kind")
        ]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(status="pending"), name="outbox_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source_ref} ({self.status})"
