"""Backups of cooperative workspaces and the restores (and restore drills) made from them.

Both live in the public schema: a workspace's backups must outlive the workspace's own schema.
Each run writes its progress (``progress_percent`` and ``phase``) as it goes, committed at once,
so the operations console can poll a running backup or restore.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import Cooperative


class BackupKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    ON_DEMAND = "on_demand", _("On demand")
    PRE_RESTORE = "pre_restore", _("Before a restore")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class Phase(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    COUNTING = "counting", _("Counting rows")
    DUMPING = "dumping", _("Dumping the workspace")
    UPLOADING = "uploading", _("Storing the backup")
    DOWNLOADING = "downloading", _("Fetching the backup")
    CHECKING = "checking", _("Checking the backup")
    SAFETY_BACKUP = "safety_backup", _("Backing up the current workspace")
    RESTORING = "restoring", _("Restoring into a new schema")
    MIGRATING = "migrating", _("Applying migrations")
    VERIFYING = "verifying", _("Verifying rows and the ledger")
    SWAPPING = "swapping", _("Switching the workspace over")
    CLEANING = "cleaning", _("Removing the scratch schema")
    DONE = "done", _("Done")


class RestoreMode(models.TextChoices):
    RESTORE = "restore", _("Restore")
    DRILL = "drill", _("Restore drill")


class Backup(models.Model):
    """One dump of one workspace schema, stored under its cooperative's own prefix."""

    id = models.BigAutoField(primary_key=True)
    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.PROTECT, related_name="backups", verbose_name=_("cooperative")
    )
    schema_name = models.CharField(_("schema"), max_length=63)
    kind = models.CharField(_("kind"), max_length=16, choices=BackupKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.CharField(_("requested by"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress_percent = models.PositiveSmallIntegerField(_("progress"), default=0)
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices, default=Phase.QUEUED)
    error = models.TextField(_("error"), blank=True)
    # What was stored, and where.
    storage_key = models.CharField(_("storage key"), max_length=500, blank=True)
    manifest_key = models.CharField(max_length=500, blank=True)
    storage_location = models.CharField(_("storage"), max_length=300, blank=True)
    size_bytes = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    # The schema as it was dumped, read in the dump's own snapshot.
    migration_state = models.JSONField(default=list, blank=True)
    row_counts = models.JSONField(default=dict, blank=True)
    journal_lines = models.BigIntegerField(null=True, blank=True)
    ledger_head = models.CharField(max_length=64, blank=True)
    pruned_at = models.DateTimeField(_("removed by retention at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        indexes = [
            models.Index(fields=["cooperative", "-created_at"], name="backup_cooperative_recent"),
            models.Index(fields=["status"], name="backup_status"),
        ]

    def __str__(self) -> str:
        return f"backup {self.pk} of {self.schema_name} ({self.status})"

    @property
    def is_restorable(self) -> bool:
        return self.status == RunStatus.SUCCEEDED and self.pruned_at is None and bool(self.storage_key)


class Restore(models.Model):
    """A backup restored into a fresh schema: swapped in (``restore``) or only checked (``drill``)."""

    id = models.BigAutoField(primary_key=True)
    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.PROTECT, related_name="restores", verbose_name=_("cooperative")
    )
    # Empty only for a drill that found no backup to restore (itself a failure worth an alert).
    backup = models.ForeignKey(
        Backup, on_delete=models.PROTECT, null=True, blank=True, related_name="restores"
    )
    mode = models.CharField(_("mode"), max_length=16, choices=RestoreMode.choices)
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.CharField(_("requested by"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress_percent = models.PositiveSmallIntegerField(_("progress"), default=0)
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices, default=Phase.QUEUED)
    error = models.TextField(_("error"), blank=True)
    # The fresh schema the backup was restored into (dropped again after a drill).
    target_schema = models.CharField(_("restored into"), max_length=63, blank=True)
    # The cooperative's schema name, which the restored schema takes over at the swap.
    live_schema = models.CharField(max_length=63, blank=True)
    # The schema that was live before the swap, kept until an operator drops it.
    retired_schema = models.CharField(_("previous schema kept as"), max_length=63, blank=True)
    retired_dropped_at = models.DateTimeField(_("previous schema dropped at"), null=True, blank=True)
    retired_dropped_by = models.CharField(max_length=200, blank=True)
    swapped_at = models.DateTimeField(_("switched over at"), null=True, blank=True)
    safety_backup = models.ForeignKey(
        Backup, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checks = models.JSONField(_("checks"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("restore")
        verbose_name_plural = _("restores")
        indexes = [
            models.Index(fields=["cooperative", "-created_at"], name="restore_cooperative_recent"),
            models.Index(fields=["mode", "-created_at"], name="restore_mode_recent"),
            models.Index(fields=["status"], name="restore_status"),
        ]

    def __str__(self) -> str:
        return f"{self.mode} {self.pk} of {self.live_schema or self.cooperative_id} ({self.status})"
