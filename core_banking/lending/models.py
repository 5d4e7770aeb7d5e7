"""Lending: products and their rules, applications and decisions, loans, instalments, movements.

Every rule a cooperative may set differently is a product setting here, not code. The schedule
itself is computed by the pure engine (``core_banking.lending.schedule``) from the terms a loan
keeps in ``terms_json``; ``LoanInstallment`` rows are that schedule plus what has been paid of
each part. Writes go through ``core_banking.lending.services``; each money movement posts its
ledger entry and writes the member's SMS in the same transaction. PostgreSQL refuses paid
amounts above what is due and negative amounts (CHECK constraints below).
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from core_banking.ledger.models import Account, JournalEntry
from core_banking.members.models import Member, MemberType
from core_banking.organisation.models import Branch
from core_banking.savings.models import Channel, RoundingMode, SavingsAccount, SavingsTransaction


class ProductType(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary loan")
    SPECIAL = "special", _("Special loan")
    EMERGENCY = "emergency", _("Emergency loan")


class InterestMethod(models.TextChoices):
    FLAT = "flat", _("Flat")
    DECLINING = "declining", _("Declining balance")


class Amortization(models.TextChoices):
    EQUAL_INSTALLMENTS = "equal_installments", _("Equal instalments")
    EQUAL_PRINCIPAL = "equal_principal", _("Equal principal")


class InterestPeriod(models.TextChoices):
    SAME_AS_REPAYMENT = "same_as_repayment", _("Same as the repayment period")
    DAILY = "daily", _("Daily")


class DaysInYear(models.TextChoices):
    D360 = "360", "360"
    D364 = "364", "364"
    D365 = "365", "365"
    D366 = "366", "366"
    ACTUAL = "actual", _("Actual")


class DaysInMonth(models.TextChoices):
    D30 = "30", "30"
    ACTUAL = "actual", _("Actual")


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    FORTNIGHTLY = "fortnightly", _("Fortnightly")
    MONTHLY = "monthly", _("Monthly")
    ONCE = "once", _("Once (bullet)")


# The rounding modes are the ones savings offers (the same words on every product form).
Rounding = RoundingMode


class FeeKind(models.TextChoices):
    FLAT = "flat", _("Flat amount")
    PERCENT = "percent", _("Percent of the loan")


class FeeCollection(models.TextChoices):
    DEDUCTED = "deducted", _("Deducted from the amount paid out")
    ADDED = "added", _("Added to the first instalment")


class PenaltyKind(models.TextChoices):
    NONE = "none", _("No penalty")
    FLAT = "flat", _("Flat amount per overdue instalment")
    PERCENT = "percent", _("Percent of the overdue amount")


class PrepaymentStrategy(models.TextChoices):
    ADVANCE = "advance", _("Pay the next instalments in advance")
    REDUCE_INSTALLMENT = "reduce_installment", _("Reduce the instalment amount")
    REDUCE_TERM = "reduce_term", _("Reduce the number of instalments")


class Component(models.TextChoices):
    PENALTY = "penalty", _("Penalty")
    FEE = "fee", _("Fee")
    INTEREST = "interest", _("Interest")
    PRINCIPAL = "principal", _("Principal")


DEFAULT_ALLOCATION_ORDER = [
    Component.PENALTY.value,
    Component.FEE.value,
    Component.INTEREST.value,
    Component.PRINCIPAL.value,
]


def default_allocation_order() -> list[str]:
    return list(DEFAULT_ALLOCATION_ORDER)


class LoanSubType(models.Model):
    """A purpose within a product type (house/land, vehicle, payroll...); cooperatives add their own."""

    id = models.BigAutoField(primary_key=True)
    product_type = models.CharField(_("product type"), max_length=12, choices=ProductType.choices)
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["product_type", "code"]

    def __str__(self) -> str:
        return self.name


class LoanProduct(models.Model):
    id = models.BigAutoField(primary_key=True)
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    product_type = models.CharField(_("product type"), max_length=12, choices=ProductType.choices)
    sub_type = models.ForeignKey(
        LoanSubType, on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    is_active = models.BooleanField(_("open for new applications"), default=True)
    # Ledger: principal goes to this product's receivable control account (1300-<code>).
    receivable_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="loan_products")
    interest_income_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="loan_interest_products"
    )
    fee_income_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="loan_fee_products"
    )
    penalty_income_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="loan_penalty_products"
    )
    # Amounts and terms.
    minimum_amount_minor = models.BigIntegerField(_("smallest loan"), default=0)
    maximum_amount_minor = models.BigIntegerField(_("largest loan"), null=True, blank=True)
    default_installments = models.PositiveSmallIntegerField(_("usual number of instalments"))
    maximum_installments = models.PositiveSmallIntegerField(_("most instalments"))
    maximum_installments_with_deferment = models.PositiveSmallIntegerField(
        _("most instalments with deferment"), null=True, blank=True
    )
    # The schedule engine's settings (core_banking.lending.schedule; see docs/lending-schedule.md).
    interest_method = models.CharField(_("interest method"), max_length=10, choices=InterestMethod.choices)
    amortization = models.CharField(
        _("amortisation"),
        max_length=20,
        choices=Amortization.choices,
        default=Amortization.EQUAL_INSTALLMENTS,
    )
    interest_period = models.CharField(
        _("interest period"),
        max_length=20,
        choices=InterestPeriod.choices,
        default=InterestPeriod.SAME_AS_REPAYMENT,
    )
    days_in_year = models.CharField(
        _("days in year"), max_length=6, choices=DaysInYear.choices, default=DaysInYear.ACTUAL
    )
    days_in_month = models.CharField(
        _("days in month"), max_length=6, choices=DaysInMonth.choices, default=DaysInMonth.ACTUAL
    )
    frequency = models.CharField(_("repayment frequency"), max_length=12, choices=Frequency.choices)
    repay_every = models.PositiveSmallIntegerField(_("repay every"), default=1)
    rounding = models.CharField(
        _("rounding"), max_length=10, choices=Rounding.choices, default=Rounding.HALF_EVEN
    )
    installment_multiple_minor = models.BigIntegerField(
        _("instalments in multiples of"), null=True, blank=True
    )
    grace_principal = models.PositiveSmallIntegerField(_("grace on principal (instalments)"), default=0)
    grace_interest_payment = models.PositiveSmallIntegerField(
        _("grace on interest payment (instalments)"), default=0
    )
    interest_free_periods = models.PositiveSmallIntegerField(_("interest-free periods"), default=0)
    follows_group_meetings = models.BooleanField(
        _("due on the group's meeting day"),
        default=False,
        help_text=_("Weekly samity loans: instalments fall due on the borrower's group meeting day."),
    )
    minimum_days_to_first_meeting = models.PositiveSmallIntegerField(
        _("days before the first meeting instalment"), default=0
    )
    # Fees at disbursement.
    fee_kind = models.CharField(_("disbursement fee"), max_length=8, choices=FeeKind.choices, blank=True)
    fee_flat_minor = models.BigIntegerField(_("fee amount"), default=0)
    fee_percent = models.DecimalField(_("fee (%)"), max_digits=7, decimal_places=4, default=0)
    fee_collection = models.CharField(
        _("fee collection"), max_length=10, choices=FeeCollection.choices, default=FeeCollection.DEDUCTED
    )
    # Penalty on overdue instalments.
    penalty_kind = models.CharField(
        _("penalty"), max_length=8, choices=PenaltyKind.choices, default=PenaltyKind.NONE
    )
    penalty_flat_minor = models.BigIntegerField(_("penalty amount"), default=0)
    penalty_percent = models.DecimalField(_("penalty (%)"), max_digits=7, decimal_places=4, default=0)
    penalty_grace_days = models.PositiveSmallIntegerField(_("penalty grace days"), default=0)
    allocation_order = ArrayField(
        models.CharField(max_length=10, choices=Component.choices),
        size=4,
        default=default_allocation_order,
        verbose_name=_("repayment allocation order"),
    )
    prepayment_strategy = models.CharField(
        _("money paid beyond what is due"),
        max_length=20,
        choices=PrepaymentStrategy.choices,
        default=PrepaymentStrategy.ADVANCE,
    )
    # Guarantees (L4). Emergency loans usually need none.
    minimum_guarantors = models.PositiveSmallIntegerField(_("guarantors required"), default=0)
    guarantor_member_types = models.ManyToManyField(
        MemberType,
        blank=True,
        related_name="guarantor_for_products",
        verbose_name=_("guarantor member types"),
    )
    maximum_guarantees_per_person = models.PositiveSmallIntegerField(
        _("most live loans one person may guarantee"), null=True, blank=True
    )
    guarantor_minimum_salary_minor = models.BigIntegerField(
        _("guarantor's smallest monthly salary"), null=True, blank=True
    )
    guarantor_maximum_liability_minor = models.BigIntegerField(
        _("guarantor's largest own outstanding debt"), null=True, blank=True
    )
    share_security_percent = models.DecimalField(
        _("share capital required (percent of the loan)"), max_digits=7, decimal_places=4, default=0
    )
    deposit_security_percent = models.DecimalField(
        _("savings pledged (percent of the loan)"), max_digits=7, decimal_places=4, default=0
    )
    requires_collateral = models.BooleanField(_("other collateral required"), default=False)
    accrues_interest = models.BooleanField(
        _("accrue interest daily"),
        default=False,
        help_text=_("Book interest as earned each day (accrual accounting) rather than when paid."),
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(maximum_installments__gte=models.F("default_installments")),
                name="loan_product_installments_within_maximum",
            ),
            models.CheckConstraint(
                condition=models.Q(repay_every__gte=1), name="loan_product_repay_every_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class LoanRate(models.Model):
    """A product's annual rate from a date on; several may be scheduled ahead."""

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey(LoanProduct, on_delete=models.CASCADE, related_name="rates")
    effective_from = models.DateField(_("effective from"))
    annual_rate = models.DecimalField(_("annual rate (%)"), max_digits=7, decimal_places=4)

    class Meta:
        ordering = ["product_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "effective_from"], name="one_loan_rate_per_product_day"
            ),
            models.CheckConstraint(condition=models.Q(annual_rate__gte=0), name="loan_rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.annual_rate}% from {self.effective_from}"


class LimitBasis(models.TextChoices):
    FIXED = "fixed", _("A fixed amount")
    SHARE_CAPITAL = "share_capital", _("Times the member's share capital")
    DEPOSITS = "deposits", _("Times the member's savings")
    SALARY = "salary", _("Times the monthly salary")
    COLLATERAL = "collateral", _("Percent of the collateral's value")
    MEMBERSHIP_YEARS = "membership_years", _("Per full year of membership")


class LoanLimitRule(models.Model):
    """One cap on the amount a member may borrow; the member's limit is the smallest cap that applies.

    ``factor`` is a multiple (share capital, savings, salary), a percent (collateral) or, for
    membership years and fixed caps, unused beside ``amount_minor`` (per year / the cap).
    A rule limited to a member type applies only to members of that type.
    """

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey(LoanProduct, on_delete=models.CASCADE, related_name="limit_rules")
    basis = models.CharField(_("basis"), max_length=20, choices=LimitBasis.choices)
    factor = models.DecimalField(_("factor"), max_digits=9, decimal_places=4, default=0)
    amount_minor = models.BigIntegerField(_("amount"), default=0)
    member_type = models.ForeignKey(
        MemberType, on_delete=models.PROTECT, null=True, blank=True, related_name="loan_limit_rules"
    )
    minimum_membership_months = models.PositiveSmallIntegerField(
        _("membership of at least (months)"), default=0
    )

    class Meta:
        ordering = ["product_id", "id"]

    def __str__(self) -> str:
        return f"{self.product_id} {self.basis} {self.factor} {self.amount_minor}"


class ApprovalLevel(models.Model):
    """Who must approve: every application needs the levels whose threshold its amount exceeds.

    Level 1 with threshold 0 means every loan needs a level-1 approver; level 2 above 100,000 means
    larger loans need a level-2 approver after that. An approver of a higher level may decide at a
    lower level, never on their own application.
    """

    id = models.BigAutoField(primary_key=True)
    level = models.PositiveSmallIntegerField(_("authority level"), unique=True)
    required_above_minor = models.BigIntegerField(_("required for loans above"), default=0)

    class Meta:
        ordering = ["level"]

    def __str__(self) -> str:
        return f"L{self.level} > {self.required_above_minor}"


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for approval")
    RETURNED = "returned", _("Returned as incomplete")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    DISBURSED = "disbursed", _("Disbursed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class NumberCounter(models.Model):
    """Last automatic number per kind and branch (applications, loans); incremented in one statement."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=12)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "branch"], name="one_lending_counter")]

    def __str__(self) -> str:
        return f"{self.kind} {self.branch_id}: {self.last_number}"


class LoanApplication(models.Model):
    id = models.BigAutoField(primary_key=True)
    number = models.CharField(_("application number"), max_length=40, unique=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="loan_applications")
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="applications")
    sub_type = models.ForeignKey(
        LoanSubType, on_delete=models.PROTECT, null=True, blank=True, related_name="applications"
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="loan_applications")
    amount_minor = models.BigIntegerField(_("amount applied for"))
    installments = models.PositiveSmallIntegerField(_("instalments"))
    with_deferment = models.BooleanField(_("with deferment"), default=False)
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    monthly_salary_minor = models.BigIntegerField(_("monthly salary"), null=True, blank=True)
    collateral_value_minor = models.BigIntegerField(_("collateral value"), default=0)
    collateral_description = models.CharField(_("collateral"), max_length=300, blank=True)
    pledged_savings = models.ForeignKey(
        SavingsAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pledged_for_applications",
    )
    refinances = models.ForeignKey(
        "Loan", on_delete=models.PROTECT, null=True, blank=True, related_name="refinanced_by"
    )
    applied_on = models.DateField(_("applied on"))
    status = models.CharField(
        _("status"), max_length=12, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    # The annual rate and schedule terms as of the application, and the levels it needs.
    annual_rate = models.DecimalField(_("annual rate (%)"), max_digits=7, decimal_places=4)
    required_levels = ArrayField(models.PositiveSmallIntegerField(), default=list)
    eligibility_json = models.JSONField(default=dict)
    return_reasons = models.TextField(_("reasons returned"), blank=True)
    created_at = models.DateTimeField()
    created_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-applied_on", "-id"]
        indexes = [models.Index(fields=["status", "branch"], name="loan_application_queue")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="loan_application_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(installments__gte=1), name="loan_application_installments"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Guarantor(models.Model):
    id = models.BigAutoField(primary_key=True)
    application = models.ForeignKey(LoanApplication, on_delete=models.CASCADE, related_name="guarantors")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="guarantees")
    monthly_salary_minor = models.BigIntegerField(_("monthly salary"), null=True, blank=True)
    # The part of the loan this person answers for; the whole loan when empty.
    liability_minor = models.BigIntegerField(_("guaranteed amount"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "member"], name="one_guarantee_per_person_per_loan"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.member_id}"


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned")


class ApprovalDecision(models.Model):
    """Who decided what at which level, when and why. Never edited."""

    id = models.BigAutoField(primary_key=True)
    application = models.ForeignKey(LoanApplication, on_delete=models.PROTECT, related_name="decisions")
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.TextField(blank=True)
    decided_by_id = models.BigIntegerField()
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.application_id} L{self.level} {self.decision}"


class LoanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")
    WRITTEN_OFF = "written_off", _("Written off")


class Loan(models.Model):
    """A disbursed loan: its terms as the engine reads them, and running totals kept by the services."""

    id = models.BigAutoField(primary_key=True)
    number = models.CharField(_("loan number"), max_length=40, unique=True)
    application = models.OneToOneField(LoanApplication, on_delete=models.PROTECT, related_name="loan")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="loans")
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="loans")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="loans")
    principal_minor = models.BigIntegerField(_("principal"))
    disbursed_on = models.DateField(_("disbursed on"))
    terms_json = models.JSONField()  # the engine's terms (core_banking.lending.schedule.terms_from_json)
    status = models.CharField(
        _("status"), max_length=12, choices=LoanStatus.choices, default=LoanStatus.ACTIVE
    )
    principal_outstanding_minor = models.BigIntegerField(default=0)
    # Days past due and overdue amount as of ``arrears_as_of``, kept by the close of business.
    days_past_due = models.PositiveIntegerField(default=0)
    overdue_minor = models.BigIntegerField(default=0)
    arrears_as_of = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    # Products that accrue interest (``accrues_interest``): interest the close of business booked
    # as earned (Dr 1400 / Cr interest income), and the part of it not received yet.
    interest_accrued_minor = models.BigIntegerField(default=0, db_default=0)
    interest_receivable_minor = models.BigIntegerField(default=0, db_default=0)
    pledged_lien = models.ForeignKey(
        "savings.Lien", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["number"]
        indexes = [
            models.Index(fields=["member", "status"], name="loan_by_member"),
            models.Index(fields=["status", "branch"], name="loan_by_status_branch"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(principal_minor__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(
                condition=models.Q(
                    principal_outstanding_minor__gte=0,
                    principal_outstanding_minor__lte=models.F("principal_minor"),
                ),
                name="loan_outstanding_within_principal",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class LoanInstallment(models.Model):
    """One instalment as scheduled (principal, interest, fee, penalty) and what has been paid of each."""

    id = models.BigAutoField(primary_key=True)
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="installments")
    number = models.PositiveSmallIntegerField()
    period_start = models.DateField()
    due_date = models.DateField()
    principal_minor = models.BigIntegerField()
    interest_minor = models.BigIntegerField()
    # Interest earned over the period; differs from ``interest_minor`` only where a grace on
    # interest payment defers collection to later instalments (accrual follows what was earned).
    earned_interest_minor = models.BigIntegerField(default=0)
    fee_minor = models.BigIntegerField(default=0)
    penalty_minor = models.BigIntegerField(default=0)
    principal_paid_minor = models.BigIntegerField(default=0)
    interest_paid_minor = models.BigIntegerField(default=0)
    fee_paid_minor = models.BigIntegerField(default=0)
    penalty_paid_minor = models.BigIntegerField(default=0)
    # Interest given up by a settlement before the due date (not owed, never income).
    interest_waived_minor = models.BigIntegerField(default=0)
    paid_on = models.DateField(null=True, blank=True)  # the day it was fully paid

    class Meta:
        ordering = ["loan_id", "number"]
        indexes = [models.Index(fields=["due_date"], name="installment_by_due_date")]
        constraints = [
            models.UniqueConstraint(fields=["loan", "number"], name="one_installment_number_per_loan"),
            models.CheckConstraint(
                condition=models.Q(
                    principal_minor__gte=0, interest_minor__gte=0, fee_minor__gte=0, penalty_minor__gte=0
                ),
                name="installment_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    principal_paid_minor__gte=0,
                    principal_paid_minor__lte=models.F("principal_minor"),
                    interest_paid_minor__gte=0,
                    fee_paid_minor__gte=0,
                    fee_paid_minor__lte=models.F("fee_minor"),
                    penalty_paid_minor__gte=0,
                    penalty_paid_minor__lte=models.F("penalty_minor"),
                    interest_waived_minor__gte=0,
                ),
                name="installment_paid_within_due",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    interest_paid_minor__lte=models.F("interest_minor") - models.F("interest_waived_minor")
                ),
                name="installment_interest_paid_within_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} #{self.number} {self.due_date}"

    @property
    def due_minor(self) -> int:
        return (
            self.principal_minor
            + self.interest_minor
            - self.interest_waived_minor
            + self.fee_minor
            + self.penalty_minor
        )

    @property
    def paid_minor(self) -> int:
        return (
            self.principal_paid_minor
            + self.interest_paid_minor
            + self.fee_paid_minor
            + self.penalty_paid_minor
        )

    @property
    def outstanding_minor(self) -> int:
        return self.due_minor - self.paid_minor


class LoanTransactionKind(models.TextChoices):
    DISBURSEMENT = "disbursement", _("Disbursement")
    REPAYMENT = "repayment", _("Repayment")
    PENALTY = "penalty", _("Penalty charged")
    WRITE_OFF = "write_off", _("Written off")
    RECOVERY = "recovery", _("Recovery after write-off")
    REVERSAL = "reversal", _("Reversal")
    OPENING = "opening", _("Opening balance (imported)")


class RepaymentSource(models.TextChoices):
    CASH = "cash", _("Cash")
    SAVINGS = "savings", _("From savings")
    REFINANCE = "refinance", _("Paid off by a new loan")


class LoanTransaction(models.Model):
    """One money movement of one loan with its ledger entry and how it split. Never edited.

    A reversal is a new row (kind ``reversal``) pointing at the one it undoes; the instalments are
    re-applied from the remaining repayments.
    """

    id = models.BigAutoField(primary_key=True)
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=14, choices=LoanTransactionKind.choices)
    value_date = models.DateField()
    amount_minor = models.BigIntegerField()
    principal_minor = models.BigIntegerField(default=0)
    interest_minor = models.BigIntegerField(default=0)
    fee_minor = models.BigIntegerField(default=0)
    penalty_minor = models.BigIntegerField(default=0)
    # Of the interest paid, what cleared interest receivable (1400) rather than going to income:
    # non-zero only for products that accrue; at closing it also releases any accrual left over.
    interest_from_receivable_minor = models.BigIntegerField(default=0, db_default=0)
    source = models.CharField(max_length=10, choices=RepaymentSource.choices, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.OFFICE)
    savings_transaction = models.ForeignKey(
        SavingsTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="loan_transactions"
    )
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="loan_transactions"
    )
    idempotency_key = models.CharField(max_length=120, unique=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["loan", "value_date", "id"], name="loan_txn_by_loan_day")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_minor__gt=0), name="loan_txn_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.kind} {self.amount_minor}"


# --- Overdue, provisions and the close of business ---------------------------------------------


class ProvisionRate(models.Model):
    """One ageing bucket of the loan-loss provision: loans this many days past due or more, and its rate.

    A loan falls in the bucket with the greatest ``min_days_past_due`` not above its days past due;
    a bucket starting at 0 (loans not late) is always there. The close of business holds, per
    branch, the sum over its active loans of principal outstanding × the bucket's rate. Set through
    ``core_banking.lending.services.provision_rates_set``; seeded with defaults on first use.
    """

    id = models.BigAutoField(primary_key=True)
    min_days_past_due = models.PositiveIntegerField(_("from days past due"), unique=True)
    label = models.CharField(_("label"), max_length=60)
    rate_percent = models.DecimalField(_("provision (%)"), max_digits=7, decimal_places=4)

    class Meta:
        ordering = ["min_days_past_due"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate_percent__gte=0, rate_percent__lte=100),
                name="provision_rate_within_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.min_days_past_due}+ {self.rate_percent}%"


class CloseOfBusinessRun(models.Model):
    """One close of business of the loan book: made once per business date, never run again for it."""

    id = models.BigAutoField(primary_key=True)
    business_date = models.DateField(_("business date"), unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the run did: loans aged, in arrears, penalties charged, provision posted per branch...
    counts = models.JSONField(default=dict)
    run_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-business_date"]

    def __str__(self) -> str:
        return f"COB {self.business_date}"


class LoanMonthEndSnapshot(models.Model):
    """A loan debtor as it stood at a month end's close of business. Written once, never changed.

    PostgreSQL refuses updates and deletes of these rows (migration 0003), so the month-end loan
    reports read the same figures however the loans move afterwards.
    """

    id = models.BigAutoField(primary_key=True)
    month_end = models.DateField(_("month end"))
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="month_end_snapshots")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    principal_outstanding_minor = models.BigIntegerField()
    overdue_minor = models.BigIntegerField()
    days_past_due = models.PositiveIntegerField()
    bucket_days = models.PositiveIntegerField()  # the provision bucket's lower bound
    provision_rate = models.DecimalField(max_digits=7, decimal_places=4)
    provision_required_minor = models.BigIntegerField()
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["month_end", "loan_id"]
        indexes = [models.Index(fields=["month_end", "branch"], name="month_end_snapshot_by_branch")]
        constraints = [
            models.UniqueConstraint(fields=["month_end", "loan"], name="one_snapshot_per_loan_month_end"),
        ]

    def __str__(self) -> str:
        return f"{self.month_end} {self.loan_id}"


# --- Documents ---------------------------------------------------------------------------------------


class DocumentTemplate(models.Model):
    """One version of a workspace's own wording of one loan document kind in one language. Never edited.

    Each save is a new row with the next ``version`` of its (kind, language); the newest is what
    documents use. Empty fields take the default wording; a version whose fields are all empty (a
    "restore default") is the default again. What may be written, and how it is rendered safely, is
    ``core_banking.lending.wording``; written only by ``services.document_template_save``. PostgreSQL
    refuses UPDATE, DELETE and TRUNCATE of the table (migration 0006).
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("document"), max_length=24)
    language = models.CharField(_("language"), max_length=8)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    opening = models.TextField(_("opening paragraph"), blank=True)
    clauses = ArrayField(models.TextField(), default=list, blank=True)
    closing = models.TextField(_("closing paragraph"), blank=True)
    saved_at = models.DateTimeField()
    saved_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "language", "version"], name="one_document_template_version"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="document_template_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.language} v{self.version}"

    @property
    def is_default(self) -> bool:
        return not (self.title or self.opening or self.clauses or self.closing)
