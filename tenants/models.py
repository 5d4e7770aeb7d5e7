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
    # Members not exited, and SMS the gateway accepted since the first of the month on the
    # cooperative's clock, in messages and in segments (the plan's SMS allowance counts segments).
    members = models.PositiveIntegerField(default=0)
    sms_this_month = models.PositiveIntegerField(default=0)
    sms_segments_this_month = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cooperative", "measured_on"], name="one_usage_snapshot_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.cooperative_id} {self.measured_on}"


# --- Fleet migrations (tenants.fleet) ------------------------------------------------------------


class FleetRunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Finished with failures")
    INTERRUPTED = "interrupted", _("Interrupted")


class FleetOutcomeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    APPLIED = "applied", _("Migrated")
    CURRENT = "current", _("Already up to date")
    FAILED = "failed", _("Failed")
    NOT_RUN = "not_run", _("Not attempted")


class FleetMigrationRun(models.Model):
    """One run of the fleet migration: every workspace schema brought to the migrations on disk."""

    id = models.BigAutoField(primary_key=True)
    status = models.CharField(
        _("status"), max_length=16, choices=FleetRunStatus.choices, default=FleetRunStatus.QUEUED
    )
    # No foreign key, as in the audit trail: the record outlives the vendor account that asked for it.
    requested_by_id = models.BigIntegerField(null=True, blank=True)
    requested_by_label = models.CharField(_("requested by"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    workers = models.PositiveSmallIntegerField(_("worker processes"), default=0)
    schemas = models.PositiveIntegerField(_("schemas"), default=0)
    targets = models.PositiveIntegerField(_("schemas to migrate"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    applied = models.PositiveIntegerField(_("migrated"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    skipped = models.PositiveIntegerField(_("up to date"), default=0)
    migrations = models.JSONField(_("migrations"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("fleet migration run")
        verbose_name_plural = _("fleet migration runs")

    def __str__(self) -> str:
        return f"{self.pk} {self.status} {self.done}/{self.targets}"

    @property
    def percent(self) -> int:
        return 100 if not self.targets else min(100, int(100 * self.done / self.targets))

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()


class FleetMigrationOutcome(models.Model):
    """What a fleet run did to one schema that had migrations to apply."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(FleetMigrationRun, on_delete=models.CASCADE, related_name="outcomes")
    schema_name = models.CharField(_("schema"), max_length=63)
    status = models.CharField(
        _("status"), max_length=16, choices=FleetOutcomeStatus.choices, default=FleetOutcomeStatus.PENDING
    )
    migrations = models.PositiveSmallIntegerField(_("migrations applied"), default=0)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["schema_name"]
        constraints = [
            models.UniqueConstraint(fields=["run", "schema_name"], name="one_fleet_outcome_per_schema")
        ]
        indexes = [models.Index(fields=["run", "status"], name="fleet_outcome_run_status")]

    def __str__(self) -> str:
        return f"{self.schema_name} {self.status}"


class SpareWorkspace(models.Model):
    """A schema cloned from the template ahead of time, waiting to become a new cooperative's.

    Cloning walks the system catalogs, which grow with every workspace; renaming a schema does not.
    Provisioning renames a spare into place when one matches the migrations on disk
    (``tenants.spares``); the clone happens off the sign-up's path, in the background.
    """

    id = models.BigAutoField(primary_key=True)
    schema_name = models.CharField(_("schema"), max_length=63, unique=True)
    # The template's migrations when it was cloned (``tenants.spares.migrations_fingerprint``):
    # after a deploy with new migrations the spare is stale, never handed out, and dropped.
    migrations_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.schema_name
