"""Devices of field collectors and the immutable records they upload (issue 7)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FieldDevice(models.Model):
    """A phone registered to one staff user. Only a hash of its token is kept; a manager may revoke it."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="field_devices")
    label = models.CharField(_("label"), max_length=80, blank=True)
    # sha256 of the token, hex: the token itself is shown once, at registration.
    token_hash = models.CharField(max_length=64, unique=True)
    registered_at = models.DateTimeField(auto_now_add=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    # The day of the upload before the current sync session: what the phone records since then
    # should be dated from that day on (``field.services.SYNC_SESSION_GAP`` separates sessions).
    sync_window_from = models.DateField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("field device")
        verbose_name_plural = _("field devices")

    def __str__(self) -> str:
        return f"{self.label or self.pk} ({self.user_id})"


class RecordKind(models.TextChoices):
    INSTALMENT = "instalment", _("Loan instalment")
    SAVINGS_DEPOSIT = "savings_deposit", _("Savings deposit")
    WITHDRAWAL_REQUEST = "withdrawal_request", _("Withdrawal request")
    ATTENDANCE = "attendance", _("Attendance")
    ADMISSION = "admission", _("New member application")


# Kinds that carry money the collector took in or paid out.
MONEY_KINDS = frozenset({RecordKind.INSTALMENT, RecordKind.SAVINGS_DEPOSIT, RecordKind.WITHDRAWAL_REQUEST})


class RecordStatus(models.TextChoices):
    """What became of a stored record. ``duplicate`` and ``conflict`` are answers, never stored."""

    CREATED = "created", _("Posted")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    # Received while the workspace was read-only: kept, posted when it is writable again.
    QUEUED = "queued", _("Queued")


class ReviewOutcome(models.TextChoices):
    """What staff did with a record that needed review (``FieldRecord.review_outcome``)."""

    APPLIED_TO_LOAN = "applied_to_loan", _("Applied as a repayment of a loan")
    DEPOSITED_TO_SAVINGS = "deposited_to_savings", _("Deposited to a savings account")
    REFUNDED = "refunded", _("Paid back in cash")
    WITHDRAWAL_APPROVED = "withdrawal_approved", _("Withdrawal approved and posted")
    ADMISSION_APPROVED = "admission_approved", _("Member admitted")
    NOTED = "noted", _("Reviewed, nothing posted")


class FieldRecord(models.Model):
    """One collection as the device recorded it, keyed by the device's UUID. Its content never changes."""

    id = models.BigAutoField(primary_key=True)
    client_uuid = models.UUIDField(unique=True)
    device = models.ForeignKey(FieldDevice, on_delete=models.PROTECT, related_name="records")
    device_sequence = models.BigIntegerField()
    device_time = models.DateTimeField()
    received_at = models.DateTimeField()
    kind = models.CharField(max_length=24, choices=RecordKind.choices)
    # The kind's fields as the device sent them (docs/field-sync.md); dates as ISO strings.
    payload = models.JSONField()
    content_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=RecordStatus.choices)
    # Why a record needs review or is queued: the service's error code and message.
    reason_code = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    loan_transaction = models.OneToOneField(
        "lending.LoanTransaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="field_record",
    )
    entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    savings_transaction = models.OneToOneField(
        "savings.SavingsTransaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="field_record",
    )
    flags = models.JSONField(default=list)
    posted_at = models.DateTimeField(null=True, blank=True)
    # Copied from the payload and the device when stored, for the staff pages' sums and scoping.
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="field_records"
    )
    value_date = models.DateField(null=True)  # the value date, or the meeting date of an attendance
    amount_minor = models.BigIntegerField(default=0)
    # The branch and group the record concerns (its loan's, account's or group's), when known.
    branch = models.ForeignKey(
        "organisation.Branch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    group = models.ForeignKey(
        "members.MemberGroup", on_delete=models.PROTECT, null=True, blank=True, related_name="field_records"
    )
    # Collected cash the service refused, posted from the collector's cash to suspense (2300).
    suspense_minor = models.BigIntegerField(default=0)
    # Staff's review of a record that needed it; the sync's own answer (status, entry) stays as given.
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_outcome = models.CharField(max_length=24, choices=ReviewOutcome.choices, blank=True)
    review_note = models.CharField(max_length=300, blank=True)
    review_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    admitted_member = models.OneToOneField(
        "members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="field_admission"
    )

    class Meta:
        verbose_name = _("field record")
        verbose_name_plural = _("field records")
        indexes = [
            models.Index(fields=["status", "id"], name="field_record_status"),
            models.Index(fields=["collector", "value_date"], name="field_record_collector_day"),
            models.Index(
                fields=["branch", "id"],
                condition=models.Q(status="needs_review", reviewed_at__isnull=True),
                name="field_record_to_review",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "device_sequence"], name="field_record_device_sequence"
            ),
            models.CheckConstraint(
                condition=models.Q(suspense_minor__gte=0), name="field_suspense_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return str(self.client_uuid)
