"""Plans and their prices, each cooperative's billing account, one-time charges, Stripe events.

All in the public schema (control plane). Money is integer minor units in the price's own
currency; Stripe's amounts are in the same unit for every currency we price in (BDT, THB and
USD have two decimals, VND none).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tenants.models import Cooperative


class Plan(models.Model):
    """What a cooperative subscribes to: a monthly fee, a one-time setup fee, and limits.

    A limit left empty is unlimited. Going over a limit warns; it never stops posting.
    """

    id = models.BigAutoField(primary_key=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    # The plan's name in other languages: {"bn": "...", "vi": "...", "th": "..."}; English is `name`.
    names = models.JSONField(_("names in other languages"), default=dict, blank=True)
    max_members = models.PositiveIntegerField(_("members"), null=True, blank=True)
    max_branches = models.PositiveIntegerField(_("branches"), null=True, blank=True)
    max_staff_users = models.PositiveIntegerField(_("staff users"), null=True, blank=True)
    sms_per_month = models.PositiveIntegerField(_("SMS per month"), null=True, blank=True)
    is_public = models.BooleanField(_("offered on the public site"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str | None = None) -> str:
        language = (language or get_language() or "en").split("-")[0]
        return str(self.names.get(language) or self.name)

    def price_for(self, currency: str) -> PlanPrice | None:
        return self.prices.filter(currency=currency.upper()).first()


class PlanPrice(models.Model):
    """A plan's fees in one currency, and the Stripe price that bills the monthly fee."""

    id = models.BigAutoField(primary_key=True)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(_("currency"), max_length=3)
    monthly_fee_minor = models.BigIntegerField(_("monthly fee"))
    setup_fee_minor = models.BigIntegerField(_("setup fee"))
    # A recurring monthly Stripe price (or legacy plan) id; `manage.py billing_stripe_sync` creates it.
    stripe_price_id = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["plan__sort_order", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "currency"], name="one_plan_price_per_currency"),
            models.CheckConstraint(
                condition=models.Q(monthly_fee_minor__gt=0) & models.Q(setup_fee_minor__gte=0),
                name="plan_price_amounts_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} {self.currency}"


class BillingAccount(models.Model):
    """A cooperative's subscription: its plan, Stripe customer and subscription, and dunning dates."""

    id = models.BigAutoField(primary_key=True)
    cooperative = models.OneToOneField(Cooperative, on_delete=models.PROTECT, related_name="billing_account")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="accounts")
    currency = models.CharField(max_length=3)
    # Where billing e-mail goes (the admin who signed up); empty: the workspace's administrators.
    billing_email = models.EmailField(blank=True)
    stripe_customer_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    # Stripe's own status of the subscription, as last read from Stripe (active, past_due, ...).
    subscription_status = models.CharField(max_length=40, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    # When a past-due cooperative becomes read-only unless it pays.
    grace_deadline = models.DateTimeField(null=True, blank=True)
    past_due_notified_at = models.DateTimeField(null=True, blank=True)
    read_only_notified_at = models.DateTimeField(null=True, blank=True)
    # Suspended because the subscription ended (a payment lifts it), not by operations staff (it does not).
    suspended_by_billing = models.BooleanField(default=False)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.cooperative_id} {self.plan_id} {self.subscription_status}"


class ChargeKind(models.TextChoices):
    CUSTOMISATION = "customisation", _("Customisation")
    DATA_MIGRATION = "data_migration", _("Data migration")
    OTHER = "other", _("Other")


class OneTimeCharge(models.Model):
    """A one-time fee operations staff add to a cooperative's next invoice (a Stripe invoice item)."""

    id = models.BigAutoField(primary_key=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT, related_name="charges")
    kind = models.CharField(max_length=20, choices=ChargeKind.choices, default=ChargeKind.OTHER)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=200)
    stripe_invoice_item_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_minor__gt=0), name="one_time_charge_positive")
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} {self.currency} {self.description}"


class StripeEvent(models.Model):
    """Every webhook event, stored once (its id is unique) and processed once, after its row commits."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.CharField(max_length=120, unique=True)
    type = models.CharField(max_length=120, db_index=True)
    # When Stripe created the event (its own clock), for reading the log in order.
    stripe_created = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # What processing did, for operations staff reading the log ("ignored: no such account", ...).
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["id"], condition=models.Q(processed_at__isnull=True), name="stripe_event_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
