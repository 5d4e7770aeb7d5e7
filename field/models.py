"""Devices of field collectors and the immutable records they upload (issue 7, first slice)."""

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


class RecordStatus(models.TextChoices):
    """What became of a stored record. ``duplicate`` and ``conflict`` are answers, never stored."""

    CREATED = "created", _("Posted")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    # Received while the workspace was read-only: kept, posted when it is writable again.
    QUEUED = "queued", _("Queued")


class FieldRecord(models.Model):
    """One collection as the device recorded it, keyed by the device's UUID. Its content never changes."""

    id = models.BigAutoField(primary_key=True)
    client_uuid = models.UUIDField(unique=True)
    device = models.ForeignKey(FieldDevice, on_delete=models.PROTECT, related_name="records")
    device_sequence = models.BigIntegerField()
    device_time = models.DateTimeField()
    received_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=RecordKind.choices)
    # Instalment: loan, amount_minor, value_date, paid_by_member (when another member brought it).
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
    flags = models.JSONField(default=list)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("field record")
        verbose_name_plural = _("field records")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "device_sequence"], name="field_record_device_sequence"
            ),
        ]
        indexes = [models.Index(fields=["status", "id"], name="field_record_status")]

    def __str__(self) -> str:
        return str(self.client_uuid)
