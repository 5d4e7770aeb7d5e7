"""Cash custody: who holds a branch's cash, cash handed between holders, and each holder's day close.

Each holder has its own ledger account, so a holder's balance is that account's balance:
- the branch vault holds the branch's cash account itself (1100-<branch code>), where every
  cash posting that names no other holder lands;
- a teller or field officer holds 1100-<branch code>-U<user id>.
A handover posts nothing until its receiver confirms it; then one entry moves the amount from
the giver's account to the receiver's. A day close is history: PostgreSQL refuses to change
or remove it (migration 0001).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core_banking.ledger.models import Account, JournalEntry
from core_banking.organisation.models import Branch


class HolderKind(models.TextChoices):
    VAULT = "vault", _("Vault")
    TELLER = "teller", _("Teller")
    FIELD_OFFICER = "field_officer", _("Field officer")


class CashHolder(models.Model):
    id = models.BigAutoField(primary_key=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="cash_holders")
    kind = models.CharField(_("kind"), max_length=20, choices=HolderKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cash_holdings",
    )
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="cash_holder")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["branch_id", "user_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch"], condition=models.Q(kind="vault"), name="cash_one_vault_per_branch"
            ),
            models.UniqueConstraint(
                fields=["branch", "user"],
                condition=models.Q(user__isnull=False),
                name="cash_one_holder_per_user_and_branch",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="vault", user__isnull=True)
                | (~models.Q(kind="vault") & models.Q(user__isnull=False)),
                name="cash_vault_has_no_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} — {self.display_name}"

    @property
    def display_name(self) -> str:
        """The vault, or the person's name (their user name when they have none)."""
        if self.user is None:
            return str(HolderKind.VAULT.label)
        return str(self.user.get_full_name() or self.user.get_username())


class HandoverStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the receiver")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected by the receiver")
    CANCELLED = "cancelled", _("Cancelled by the sender")


class CashHandover(models.Model):
    """Cash given by one holder to another of the same branch; posted when the receiver confirms."""

    id = models.BigAutoField(primary_key=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="cash_handovers")
    giver = models.ForeignKey(CashHolder, on_delete=models.PROTECT, related_name="handovers_given")
    receiver = models.ForeignKey(CashHolder, on_delete=models.PROTECT, related_name="handovers_received")
    amount_minor = models.BigIntegerField()
    value_date = models.DateField()
    memo = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=HandoverStatus.choices, default=HandoverStatus.PENDING)
    idempotency_key = models.CharField(max_length=100, unique=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cash_handovers_sent"
    )
    sent_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cash_handovers_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="cash_handover"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["status", "branch"],
                condition=models.Q(status="pending"),
                name="cash_handover_pending",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_minor__gt=0), name="cash_handover_positive"),
            models.CheckConstraint(
                condition=~models.Q(giver=models.F("receiver")), name="cash_handover_two_holders"
            ),
            models.CheckConstraint(
                condition=models.Q(status="confirmed", entry__isnull=False)
                | (~models.Q(status="confirmed") & models.Q(entry__isnull=True)),
                name="cash_handover_posted_when_confirmed",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.giver} → {self.receiver} {self.amount_minor} ({self.status})"


class CashDayClose(models.Model):
    """A holder's cash counted by denomination at the end of a business date, against the book."""

    id = models.BigAutoField(primary_key=True)
    holder = models.ForeignKey(CashHolder, on_delete=models.PROTECT, related_name="day_closes")
    business_date = models.DateField()
    counts = models.JSONField(default=dict)  # pieces by denomination key, e.g. {"note-500": 3}
    counted_minor = models.BigIntegerField()
    book_minor = models.BigIntegerField()
    difference_minor = models.BigIntegerField()  # counted − book: negative is a shortage
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="cash_day_close"
    )
    note = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cash_day_closes"
    )
    closed_at = models.DateTimeField()

    class Meta:
        ordering = ["-business_date", "holder_id"]
        constraints = [
            models.UniqueConstraint(fields=["holder", "business_date"], name="cash_one_close_per_holder_day"),
            models.CheckConstraint(
                condition=models.Q(counted_minor__gte=0), name="cash_close_count_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(difference_minor=models.F("counted_minor") - models.F("book_minor")),
                name="cash_close_difference_is_count_minus_book",
            ),
            models.CheckConstraint(
                condition=models.Q(difference_minor=0, entry__isnull=True)
                | (~models.Q(difference_minor=0) & models.Q(entry__isnull=False)),
                name="cash_close_difference_posted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} {self.business_date}: {self.difference_minor:+d}"

    @property
    def shortage_minor(self) -> int:
        return max(-self.difference_minor, 0)

    @property
    def surplus_minor(self) -> int:
        return max(self.difference_minor, 0)
