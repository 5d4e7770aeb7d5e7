"""Share capital: the cooperative's share terms, each member's share account, its movements, exits.

A share account's balance is ``shares × nominal value``, kept by ``core_banking.shares.services``
in the same transaction as the ledger entry that moves share capital (account 3100). The nominal
value cannot change while any shares are held, so the product stays exact. PostgreSQL refuses a
negative holding, and share transactions and exit records are append-only (migration 0001).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core_banking.ledger.models import JournalEntry
from core_banking.members.models import Member
from core_banking.savings.models import Channel

SETTINGS_ROW_ID = 1


class ShareSettings(models.Model):
    """The cooperative's share terms: exactly one row per workspace (id 1), created on first use."""

    id = models.BigIntegerField(primary_key=True, default=SETTINGS_ROW_ID, editable=False)
    nominal_value_minor = models.BigIntegerField(_("value of one share"))
    minimum_shares = models.BigIntegerField(
        _("minimum shares per member"),
        default=1,
        help_text=_("A member's holding must reach at least this many shares."),
    )
    maximum_shares = models.BigIntegerField(
        _("maximum shares per member"),
        null=True,
        blank=True,
        help_text=_("Empty means no limit."),
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "share settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=SETTINGS_ROW_ID), name="share_settings_one_row"),
            models.CheckConstraint(
                condition=models.Q(nominal_value_minor__gt=0), name="share_value_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(minimum_shares__gte=0), name="share_minimum_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(maximum_shares__isnull=True)
                | models.Q(maximum_shares__gt=0, maximum_shares__gte=models.F("minimum_shares")),
                name="share_maximum_above_minimum",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nominal_value_minor} per share, {self.minimum_shares}-{self.maximum_shares or '∞'}"


class ShareAccount(models.Model):
    """One member's holding; created by the member's first purchase."""

    id = models.BigAutoField(primary_key=True)
    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="share_account")
    shares = models.BigIntegerField(_("shares held"), default=0)
    balance_minor = models.BigIntegerField(_("share balance"), default=0)
    opened_on = models.DateField(_("opened on"))

    class Meta:
        ordering = ["member_id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(shares__gte=0), name="shares_not_negative"),
            models.CheckConstraint(
                condition=models.Q(balance_minor__gte=0), name="share_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.shares} shares"


class ShareTransactionKind(models.TextChoices):
    PURCHASE = "purchase", _("Share purchase")
    WITHDRAWAL = "withdrawal", _("Share withdrawal on exit")
    CORRECTION = "correction", _("Correction")
    OPENING = "opening", _("Opening balance")


class ShareTransaction(models.Model):
    """One movement of one share account, with the ledger entry that carries it. Never edited."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(ShareAccount, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=12, choices=ShareTransactionKind.choices)
    # Signed: positive adds to the holding, negative takes from it; amount = shares × nominal value.
    shares = models.BigIntegerField()
    amount_minor = models.BigIntegerField()
    shares_after = models.BigIntegerField()
    balance_after_minor = models.BigIntegerField()
    value_date = models.DateField()
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="share_transactions")
    idempotency_key = models.CharField(max_length=120, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.OFFICE)
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by_id = models.BigIntegerField(null=True, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "value_date", "id"], name="share_txn_by_account_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shares__gt=0, amount_minor__gt=0)
                | models.Q(shares__lt=0, amount_minor__lt=0),
                name="share_txn_signs_agree",
            ),
            models.CheckConstraint(
                condition=models.Q(shares_after__gte=0, balance_after_minor__gte=0),
                name="share_txn_after_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind} {self.shares}"


class MemberExit(models.Model):
    """A member's exit settlement: what was paid out, when, why and by whom. Never edited."""

    id = models.BigAutoField(primary_key=True)
    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="exit_record")
    exit_date = models.DateField(_("exit date"))
    reason = models.CharField(_("reason"), max_length=300)
    idempotency_key = models.CharField(max_length=80, unique=True)
    shares_paid_out = models.BigIntegerField(default=0)
    share_amount_minor = models.BigIntegerField(default=0)
    savings_paid_out_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()
    created_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    shares_paid_out__gte=0, share_amount_minor__gte=0, savings_paid_out_minor__gte=0
                ),
                name="member_exit_amounts_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} exited {self.exit_date}"
