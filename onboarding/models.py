"""Online sign-up: a pending sign-up (no workspace yet) and the one-time log-in into the new workspace.

Public schema. A sign-up holds its subdomain while it waits for payment; paid, it becomes a
workspace (``tenants.services.cooperative_provision``); unpaid, it expires and leaves nothing.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.models import Plan
from tenants.models import Cooperative


class SignUpStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    PAID = "paid", _("Paid; the workspace is being prepared")
    PROVISIONED = "provisioned", _("Workspace ready")
    FAILED = "failed", _("Paid, but the workspace could not be created")
    EXPIRED = "expired", _("Expired without payment")


# States in which a sign-up holds its subdomain.
HOLDING_STATES = (SignUpStatus.PENDING, SignUpStatus.PAID)


class SignUp(models.Model):
    id = models.BigAutoField(primary_key=True)
    # In the URLs the person is sent back to; unguessable.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=SignUpStatus.choices, default=SignUpStatus.PENDING)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="signups")
    # The currency the subscription is billed in (the plan's price in it).
    billing_currency = models.CharField(max_length=3)
    # The cooperative as it will be provisioned; empty currency/language: the country's preset.
    name = models.CharField(max_length=200)
    registration_number = models.CharField(max_length=80, blank=True)
    country = models.CharField(max_length=2)
    currency = models.CharField(max_length=3, blank=True)
    default_language = models.CharField(max_length=5, blank=True)
    slug = models.CharField(max_length=40)
    admin_name = models.CharField(max_length=150)
    admin_email = models.EmailField()
    # Hashed with the project's password hasher the moment it arrives; cleared once used or expired.
    admin_password_hash = models.CharField(max_length=256, blank=True)
    # The language the person signed up in (e-mails, Stripe's page).
    language = models.CharField(max_length=5, default="en")
    stripe_checkout_session_id = models.CharField(max_length=200, unique=True, null=True, blank=True)
    # Stripe's page for the current Checkout session (to go back to it), and how many were opened.
    checkout_url = models.TextField(blank=True)
    checkout_attempts = models.PositiveSmallIntegerField(default=0)
    stripe_customer_id = models.CharField(max_length=120, blank=True)
    stripe_subscription_id = models.CharField(max_length=120, blank=True)
    payment_status = models.CharField(max_length=40, blank=True)
    cooperative = models.OneToOneField(
        Cooperative, on_delete=models.PROTECT, null=True, blank=True, related_name="signup"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    provisioning_started_at = models.DateTimeField(null=True, blank=True)
    provisioned_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two people cannot both be paying for one subdomain.
            models.UniqueConstraint(
                fields=["slug"],
                condition=models.Q(status__in=["pending", "paid"]),
                name="one_open_signup_per_slug",
            )
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=models.Q(status="pending"), name="signup_pending")
        ]

    def __str__(self) -> str:
        return f"{self.slug} ({self.status})"


class HandoffToken(models.Model):
    """A one-time, short-lived log-in for one user of one workspace.

    Only a SHA-256 hash of the token is stored; the token itself lives in the sign-up's browser
    for a moment and is posted once to the workspace's own domain (never in a URL).
    """

    id = models.BigAutoField(primary_key=True)
    token_hash = models.CharField(max_length=64, unique=True)
    signup = models.ForeignKey(SignUp, on_delete=models.CASCADE, related_name="handoff_tokens")
    cooperative = models.ForeignKey(Cooperative, on_delete=models.CASCADE, related_name="handoff_tokens")
    username = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.cooperative_id} {self.username} {self.created_at:%Y-%m-%d %H:%M}"
