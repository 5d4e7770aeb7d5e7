"""Savings products, members' savings accounts, their transactions and liens.

An account's balance is a running total kept by ``core_banking.savings.services`` in the same
transaction as the ledger entry that moves it; each product posts to its own control account in
the general ledger (2100-<product code>), so the sum of a product's balances equals that
account's balance. PostgreSQL refuses a negative balance or a lien above the balance.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core_banking.ledger.models import Account, JournalEntry
from core_banking.members.models import Member
from core_banking.organisation.models import Branch


class SavingsKind(models.TextChoices):
    COMPULSORY = "compulsory", _("Compulsory savings")
    VOLUNTARY = "voluntary", _("Voluntary savings")
    RECURRING = "recurring", _("Recurring deposit (DPS)")
    FIXED = "fixed", _("Fixed deposit (FDR)")


class InterestMethod(models.TextChoices):
    DAILY_BALANCE = "daily_balance", _("Daily balance")
    MONTHLY_MINIMUM_BALANCE = "monthly_minimum_balance", _("Monthly minimum balance")
    MONTH_END_BALANCE = "month_end_balance", _("Month-end balance")


class DayCount(models.TextChoices):
    ACTUAL_365 = "actual_365", _("Actual/365")
    ACTUAL_360 = "actual_360", _("Actual/360")
    ACTUAL_ACTUAL = "actual_actual", _("Actual/actual")


class InterestPeriod(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    HALF_YEARLY = "half_yearly", _("Half-yearly")
    YEARLY = "yearly", _("Yearly")


class RoundingMode(models.TextChoices):
    HALF_EVEN = "half_even", _("Half to even")
    HALF_UP = "half_up", _("Half up")
    DOWN = "down", _("Down")
    UP = "up", _("Up")


class SavingsProduct(models.Model):
    id = models.BigAutoField(primary_key=True)
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=SavingsKind.choices)
    control_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="savings_products")
    interest_expense_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="savings_interest_products"
    )
    minimum_balance_minor = models.BigIntegerField(_("minimum balance"), default=0)
    # Per withdrawal, and number per calendar month; empty means no limit.
    maximum_withdrawal_minor = models.BigIntegerField(_("largest withdrawal"), null=True, blank=True)
    withdrawals_per_month = models.PositiveSmallIntegerField(
        _("withdrawals per month"), null=True, blank=True
    )
    withdrawals_allowed = models.BooleanField(
        _("withdrawals allowed before closure"),
        default=True,
        help_text=_("Compulsory savings and term deposits usually pay out only on exit or maturity."),
    )
    interest_method = models.CharField(
        _("interest method"),
        max_length=24,
        choices=InterestMethod.choices,
        default=InterestMethod.DAILY_BALANCE,
    )
    day_count = models.CharField(
        _("day count"), max_length=16, choices=DayCount.choices, default=DayCount.ACTUAL_365
    )
    accrual_period = models.CharField(
        _("accrual period"), max_length=12, choices=InterestPeriod.choices, default=InterestPeriod.MONTHLY
    )
    posting_period = models.CharField(
        _("posting period"), max_length=12, choices=InterestPeriod.choices, default=InterestPeriod.MONTHLY
    )
    rounding = models.CharField(
        _("rounding"), max_length=10, choices=RoundingMode.choices, default=RoundingMode.HALF_EVEN
    )
    minimum_balance_for_interest_minor = models.BigIntegerField(
        _("minimum balance earning interest"), default=0
    )
    # Recurring and fixed deposits.
    term_months = models.PositiveSmallIntegerField(_("term (months)"), null=True, blank=True)
    installment_minor = models.BigIntegerField(_("monthly instalment"), null=True, blank=True)
    premature_rate_reduction = models.DecimalField(
        _("rate reduction on premature closure (percentage points)"),
        max_digits=7,
        decimal_places=4,
        default=0,
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SavingsRate(models.Model):
    """A product's annual rate from a date on; a future-dated row is a scheduled rate change."""

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey(SavingsProduct, on_delete=models.CASCADE, related_name="rates")
    effective_from = models.DateField(_("effective from"))
    annual_rate = models.DecimalField(_("annual rate (%)"), max_digits=7, decimal_places=4)

    class Meta:
        ordering = ["product_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["product", "effective_from"], name="one_rate_per_product_day"),
            models.CheckConstraint(condition=models.Q(annual_rate__gte=0), name="rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.annual_rate}% from {self.effective_from}"


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MATURED = "matured", _("Matured")
    CLOSED = "closed", _("Closed")


class SavingsAccount(models.Model):
    id = models.BigAutoField(primary_key=True)
    number = models.CharField(_("account number"), max_length=40, unique=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="savings_accounts")
    product = models.ForeignKey(SavingsProduct, on_delete=models.PROTECT, related_name="accounts")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="savings_accounts")
    opened_on = models.DateField(_("opened on"))
    status = models.CharField(_("status"), max_length=10, choices=AccountStatus.choices, default="active")
    balance_minor = models.BigIntegerField(default=0)
    lien_minor = models.BigIntegerField(default=0)  # pledged as loan security: not withdrawable
    maturity_date = models.DateField(_("maturity date"), null=True, blank=True)
    interest_posted_through = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            # No overdraft, whatever a racing request or a bug tries.
            models.CheckConstraint(condition=models.Q(balance_minor__gte=0), name="savings_no_overdraft"),
            models.CheckConstraint(
                condition=models.Q(lien_minor__gte=0, lien_minor__lte=models.F("balance_minor")),
                name="savings_lien_within_balance",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def available_minor(self) -> int:
        return self.balance_minor - self.lien_minor


class TransactionKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    WITHDRAWAL = "withdrawal", _("Withdrawal")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    INTEREST = "interest", _("Interest")
    LOAN_REPAYMENT = "loan_repayment", _("Paid to a loan")
    CORRECTION = "correction", _("Correction")
    OPENING = "opening", _("Opening balance")


class Channel(models.TextChoices):
    OFFICE = "office", _("Office")
    FIELD = "field", _("Field")
    IMPORT = "import", _("Import")
    SYSTEM = "system", _("System")


class SavingsTransaction(models.Model):
    """One movement of one account, with the ledger entry that carries it. Never edited."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(SavingsAccount, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    # Signed: positive adds to the balance, negative takes from it.
    amount_minor = models.BigIntegerField()
    balance_after_minor = models.BigIntegerField()
    value_date = models.DateField()
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="savings_transactions")
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
        indexes = [models.Index(fields=["account", "value_date", "id"], name="savings_txn_by_account_day")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount_minor=0), name="savings_txn_not_zero")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind} {self.amount_minor}"


class Lien(models.Model):
    """Savings pledged as security for a loan: blocks that much of the balance until released."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(SavingsAccount, on_delete=models.PROTECT, related_name="liens")
    amount_minor = models.BigIntegerField()
    reason = models.CharField(max_length=200)
    reference = models.CharField(max_length=80, blank=True, help_text="e.g. the loan number")
    created_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount_minor__gt=0), name="lien_positive")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount_minor} ({self.reason})"


class InterestPostingKind(models.TextChoices):
    ACCRUAL = "accrual", _("Interest accrued")
    POSTING = "posting", _("Interest posted")
    MATURITY = "maturity", _("Interest at maturity")
    EARLY_CLOSURE = "early_closure", _("Interest on premature closure")
    # Interest a migrated account had accrued in the cooperative's old books on the cut-over date.
    OPENING = "opening", _("Interest accrued before the cut-over")


class InterestPosting(models.Model):
    """What the interest job computed for one account and one date, and what it booked.

    One row per account and ``period_end`` (a posting period's last day, an accrual date, a maturity
    date or a premature closure date): the unique constraint is what makes the job run once.
    ``breakdown_json`` keeps the engine's working (segments or crediting blocks) for staff and audit.
    ``credited_minor`` went into the member's balance; ``payable_change_minor`` moved the account's
    share of interest payable (2200): positive for an accrual, minus the released accruals on
    posting, so an account's rows sum to what it still has accrued.
    """

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(SavingsAccount, on_delete=models.PROTECT, related_name="interest_postings")
    kind = models.CharField(_("kind"), max_length=16, choices=InterestPostingKind.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    interest_minor = models.BigIntegerField(_("interest"))
    credited_minor = models.BigIntegerField(_("credited to the account"), default=0)
    payable_change_minor = models.BigIntegerField(_("change in interest payable"), default=0)
    calculation = models.CharField(_("calculation"), max_length=40)
    breakdown_json = models.JSONField(_("breakdown"), default=dict)
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="interest_postings"
    )
    savings_transaction = models.ForeignKey(
        SavingsTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="interest_postings"
    )
    created_at = models.DateTimeField()
    created_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["account_id", "period_end"]
        constraints = [
            models.UniqueConstraint(fields=["account", "period_end"], name="one_interest_posting_per_day"),
            models.CheckConstraint(
                condition=models.Q(credited_minor__gte=0), name="interest_credit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind} {self.period_end} {self.interest_minor}"
