"""Cooperatives (tenants) and the domains that route to their workspaces."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Lifecycle(models.TextChoices):
    TRIAL = "trial", _("Trial")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    READ_ONLY = "read_only", _("Read-only")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")
    TEMPLATE = "template", _("Template")


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    BANGLA = "bn", _("Bangla")
    VIETNAMESE = "vi", _("Vietnamese")
    THAI = "th", _("Thai")


class CooperativeQuerySet(models.QuerySet["Cooperative"]):
    def live(self) -> CooperativeQuerySet:
        """Workspaces that exist for a customer: not the template, not closed."""
        return self.filter(is_template=False).exclude(lifecycle=Lifecycle.CLOSED)


class Cooperative(TenantMixin):
    """One customer: its schema holds all of its data and nothing of anybody else's."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("subdomain"), max_length=40, unique=True)
    registration_number = models.CharField(_("registration number"), max_length=80, blank=True)
    country = models.CharField(_("country"), max_length=2, help_text="ISO 3166-1 alpha-2")
    currency = models.CharField(_("currency"), max_length=3, help_text="ISO 4217")
    default_language = models.CharField(_("default language"), max_length=5, choices=Language.choices)
    time_zone = models.CharField(_("time zone"), max_length=64)
    use_native_digits = models.BooleanField(
        _("native digits"), default=False, help_text=_("Show Bangla (or Thai) digits instead of 0-9.")
    )
    lifecycle = models.CharField(
        _("state"), max_length=16, choices=Lifecycle.choices, default=Lifecycle.TRIAL
    )
    is_template = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # Schemas are created only by tenants.services.provisioning, by cloning the template.
    auto_create_schema = False
    auto_drop_schema = False

    objects = CooperativeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_template"], condition=models.Q(is_template=True), name="one_workspace_template"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_now(self, at: dt.datetime | None = None) -> dt.datetime:
        return (at or timezone.now()).astimezone(self.zone)

    def business_date(self, at: dt.datetime | None = None) -> dt.date:
        """Today on the cooperative's own clock: value dates and reports follow it, not the server's."""
        return self.local_now(at).date()


class Domain(DomainMixin):
    id = models.BigAutoField(primary_key=True)


class UsageSnapshot(models.Model):
    """A daily count of what a workspace uses, measured inside it, for plan limits and billing."""

    id = models.BigAutoField(primary_key=True)
    cooperative = models.ForeignKey(Cooperative, on_delete=models.CASCADE, related_name="usage_snapshots")
    measured_on = models.DateField()
    measured_at = models.DateTimeField()
    staff_users = models.PositiveIntegerField()
    branches = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cooperative", "measured_on"], name="one_usage_snapshot_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.cooperative_id} {self.measured_on}"
