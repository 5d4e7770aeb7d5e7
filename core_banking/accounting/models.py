"""The books kept in the office: vouchers, corrections, day, month and year closings.

The journal itself lives in ``core_banking.ledger``; these records say who posted what as which
voucher, why an entry was corrected and who approved it, and which days, months and years are
closed. Amounts are integer minor units of the cooperative's currency.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core_banking.ledger.models import JournalEntry
from core_banking.organisation.models import Branch


class AccountingSettings(models.Model):
    """One row per workspace (id 1): the fiscal year and whether corrections need a checker."""

    id = models.BigAutoField(primary_key=True)
    fiscal_year_start_month = models.PositiveSmallIntegerField(_("fiscal year starts in month"), default=1)
    corrections_need_approval = models.BooleanField(
        _("corrections need a second person's approval"), default=False
    )
    retained_surplus_code = models.CharField(_("retained surplus account"), max_length=20, default="3900")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "accounting settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="fiscal_year_start_is_a_month",
            )
        ]

    def __str__(self) -> str:
        return f"fiscal year from month {self.fiscal_year_start_month}"


class VoucherKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt voucher")
    PAYMENT = "payment", _("Payment voucher")
    JOURNAL = "journal", _("Journal voucher")


VOUCHER_PREFIX = {VoucherKind.RECEIPT: "RV", VoucherKind.PAYMENT: "PV", VoucherKind.JOURNAL: "JV"}


class VoucherSequence(models.Model):
    """The last number given per branch, fiscal year and kind; locked while a voucher is numbered."""

    id = models.BigAutoField(primary_key=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    fiscal_year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=VoucherKind.choices)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["branch", "fiscal_year", "kind"], name="one_sequence_per_book")
        ]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.fiscal_year} {self.kind}: {self.last_number}"


class Voucher(models.Model):
    id = models.BigAutoField(primary_key=True)
    number = models.CharField(_("number"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=VoucherKind.choices)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="vouchers")
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    sequence = models.PositiveIntegerField()
    value_date = models.DateField(_("date"))
    narration = models.CharField(_("narration"), max_length=250)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="voucher")
    # Set on a voucher posted by a correction: the entry it replaces.
    corrects = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="corrected_by_vouchers"
    )
    # The client's key; none on a voucher posted by a correction (the correction request has it).
    idempotency_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    posted_at = models.DateTimeField()

    class Meta:
        ordering = ["-value_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "fiscal_year", "kind", "sequence"], name="one_voucher_per_number"
            )
        ]
        indexes = [models.Index(fields=["branch", "value_date"], name="voucher_by_branch_day")]

    def __str__(self) -> str:
        return self.number


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    POSTED = "posted", _("Posted")
    REJECTED = "rejected", _("Rejected")


class CorrectionRequest(models.Model):
    """A correction of a posted entry: submitted by a maker, posted at once or once a checker approves."""

    id = models.BigAutoField(primary_key=True)
    original = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="correction_requests")
    reason = models.CharField(_("reason"), max_length=250)
    value_date = models.DateField(_("date of the correction"))
    narration = models.CharField(_("narration"), max_length=250, blank=True)
    # The corrected lines as [account code, debit minor, credit minor]; empty cancels the entry.
    corrected_lines = models.JSONField(default=list, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    content_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=CorrectionStatus.choices)
    maker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    made_at = models.DateTimeField()
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=250, blank=True)
    reversal = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    corrected = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["original"],
                condition=models.Q(status__in=["pending", "posted"]),
                name="one_live_correction_per_entry",
            )
        ]

    def __str__(self) -> str:
        return f"correction {self.pk} of entry {self.original_id} ({self.status})"


class BranchDayClose(models.Model):
    """A branch's day closed: no office voucher or correction is posted for that branch and day."""

    id = models.BigAutoField(primary_key=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="day_closes")
    day = models.DateField(_("day"))
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entry_count = models.PositiveIntegerField(default=0)
    debit_minor = models.BigIntegerField(default=0)
    credit_minor = models.BigIntegerField(default=0)
    cash_balance_minor = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "branch_id"]
        constraints = [models.UniqueConstraint(fields=["branch", "day"], name="one_close_per_branch_day")]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.day}"


class PeriodClose(models.Model):
    """The books closed through ``period_end`` (a month end); a year end closes the fiscal year too."""

    id = models.BigAutoField(primary_key=True)
    period_end = models.DateField(_("closed through"), unique=True)
    previous_closed_through = models.DateField(null=True, blank=True)
    is_year_end = models.BooleanField(default=False)
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-period_end"]

    def __str__(self) -> str:
        return f"closed through {self.period_end}"


class YearEndClosing(models.Model):
    """A branch's income and expense of a fiscal year moved into retained surplus by one entry."""

    id = models.BigAutoField(primary_key=True)
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="year_end_closings")
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="year_end_closing"
    )
    income_minor = models.BigIntegerField(default=0)
    expense_minor = models.BigIntegerField(default=0)
    surplus_minor = models.BigIntegerField(default=0)  # negative: a deficit
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-fiscal_year", "branch_id"]
        constraints = [
            models.UniqueConstraint(fields=["fiscal_year", "branch"], name="one_year_end_per_branch")
        ]

    def __str__(self) -> str:
        return f"{self.fiscal_year} {self.branch_id}: {self.surplus_minor}"
