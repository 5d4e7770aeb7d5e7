"""The general ledger: accounts, journal entries and their lines, daily balances.

PostgreSQL enforces double entry (migration 0002): an entry's lines must balance when its
transaction commits, amounts are positive, posted rows cannot be updated or deleted, and a
closed period takes no postings. Amounts are integer minor units of the cooperative's currency.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core_banking.organisation.models import Branch


class AccountKind(models.TextChoices):
    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    EQUITY = "equity", _("Equity")
    INCOME = "income", _("Income")
    EXPENSE = "expense", _("Expense")


# Kinds whose balance is naturally a debit balance; the others carry credit balances.
DEBIT_NORMAL_KINDS = frozenset({AccountKind.ASSET, AccountKind.EXPENSE})


class Account(models.Model):
    id = models.BigAutoField(primary_key=True)
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=AccountKind.choices)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class LedgerState(models.Model):
    """One row per workspace: the head of the hash chain and the last closed day.

    Posting locks this row, so entries are chained one after another in commit order.
    """

    id = models.BigAutoField(primary_key=True)
    last_entry_hash = models.CharField(max_length=64, default="0" * 64)
    closed_through = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ledger head {self.last_entry_hash[:12]}, closed through {self.closed_through}"


class JournalEntry(models.Model):
    id = models.BigAutoField(primary_key=True)
    value_date = models.DateField(db_index=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="journal_entries")
    memo = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    payload_hash = models.CharField(max_length=64)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    posted_at = models.DateTimeField()
    posted_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"#{self.pk} {self.value_date} {self.memo}"


class JournalLine(models.Model):
    id = models.BigAutoField(primary_key=True)
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    debit_minor = models.BigIntegerField(default=0)
    credit_minor = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(debit_minor__gt=0, credit_minor=0) | models.Q(debit_minor=0, credit_minor__gt=0)
                ),
                name="line_is_one_positive_side",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} Dr {self.debit_minor} Cr {self.credit_minor}"


class AccountDayBalance(models.Model):
    """Debits and credits per account, branch and value date, kept as postings land.

    Reports sum these rows (one per account, branch and day with postings), never the journal:
    a trial balance for any set of branches costs the same whatever the journal's size.
    """

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="day_balances")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="day_balances")
    day = models.DateField()
    debit_minor = models.BigIntegerField(default=0)
    credit_minor = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "branch", "day"], name="one_balance_per_account_branch_day"
            )
        ]
        indexes = [models.Index(fields=["day", "branch", "account"], name="day_balance_by_day")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}"
