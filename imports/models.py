"""Imports of a cooperative's old records (issue 8): the files uploaded, the dry run's progress and
its result, and saved ways to read another system's exports.

A job is written by ``imports.services`` only. The dry run writes nothing of the cooperative's own
data; the fields kept here (legacy keys in the files, settings, per-entity counts) are what a
later commit needs to post the same records and recognise them again.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.conf import settings as django_settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Validating")
    VALIDATED = "validated", _("Validated")
    FAILED = "failed", _("Failed")
    COMMITTING = "committing", _("Importing")
    COMMITTED = "committed", _("Imported")
    ROLLED_BACK = "rolled_back", _("Rolled back")


class DryRunResult(models.TextChoices):
    CLEAN = "clean", _("Clean")
    WARNINGS = "warnings", _("With warnings")
    ERRORS = "errors", _("With errors")


class FileKind(models.TextChoices):
    XLSX = "xlsx", "XLSX"
    CSV = "csv", "CSV"
    ZIP = "zip", "ZIP"  # member photos and ID scans


class ImportJob(models.Model):
    """One import: its files, the settings they are read with, the dry run's progress and result."""

    id = models.BigAutoField(primary_key=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # {country, currency, language, date_order, decimal_separator, buddhist_era, bijoy_fields, cut_over}
    settings = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.UPLOADED)
    result = models.CharField(max_length=10, choices=DryRunResult.choices, blank=True)
    failure = models.TextField(blank=True)  # why a dry run failed, for the page and the console

    # Progress, written every few thousand rows in short transactions of their own.
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)  # an estimate until the run ends
    errors_so_far = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # The result, written in one transaction with the issues.
    errors = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    issues_not_stored = models.PositiveIntegerField(default=0)  # beyond the cap; all are in the report
    # {entity: {rows, valid, new, matching, conflicting}}
    entity_counts = models.JSONField(default=dict)
    # [{control, accounts, records_minor, ledger_minor, difference_minor}]
    reconciliation = models.JSONField(default=list)
    members_per_branch = models.JSONField(default=dict)
    # The full report (every issue and the reconciliation), under the workspace's storage prefix.
    report_path = models.CharField(max_length=300, blank=True)
    # The records a dry run without errors validated (gzip JSON lines, under the same prefix): the
    # commit takes them instead of reading and checking every row again.
    records_path = models.CharField(max_length=300, blank=True)

    # The commit: who asked, who accepted the warnings, what it made, and a rollback if any.
    warnings_accepted_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    warnings_accepted_at = models.DateTimeField(null=True, blank=True)
    # Who accepted them by name: a staff user of the workspace, or an operator of the console.
    warnings_accepted_by_name = models.CharField(max_length=160, blank=True)
    commit_requested_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    commit_requested_at = models.DateTimeField(null=True, blank=True)
    commit_failure = models.TextField(blank=True)  # why the last commit wrote nothing
    committed_at = models.DateTimeField(null=True, blank=True)
    # {entity: {created, updated, unchanged}}
    commit_counts = models.JSONField(default=dict)
    opening_entry_ids = models.JSONField(default=list)
    # The loans' arrears at the cut-over, recomputed from their schedules, against the old system's:
    # {loans_old, total_old, loans, total, differing, examples: [{loan, old, recomputed, ...}]}.
    arrears_check = models.JSONField(default=dict)
    rolled_back_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rolled_back_at = models.DateTimeField(null=True, blank=True)
    rollback_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"import {self.pk} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in (JobStatus.UPLOADED, JobStatus.VALIDATING, JobStatus.COMMITTING)

    @property
    def cut_over_date(self) -> dt.date | None:
        raw = self.settings.get("cut_over")
        return dt.date.fromisoformat(raw) if raw else None

    @property
    def has_differences(self) -> bool:
        return any(line.get("difference_minor") for line in self.reconciliation)

    @property
    def committable(self) -> bool:
        """A dry run that may be imported: no errors, reconciled (warnings need accepting)."""
        return (
            self.status == JobStatus.VALIDATED
            and self.result in (DryRunResult.CLEAN, DryRunResult.WARNINGS)
            and not self.has_differences
        )

    @property
    def progress_percent(self) -> int:
        if self.status == JobStatus.VALIDATED:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)

    @property
    def seconds_left(self) -> int | None:
        """Rows still to read at the pace so far; None before the first progress write."""
        if self.status != JobStatus.VALIDATING or not self.started_at or not self.progress_at:
            return None
        if not self.rows_done or self.rows_total <= self.rows_done:
            return None
        elapsed = (self.progress_at - self.started_at).total_seconds()
        return max(1, round(elapsed / self.rows_done * (self.rows_total - self.rows_done)))


class ImportFile(models.Model):
    """An uploaded file, stored under the workspace's own prefix as it came."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="files")
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=4, choices=FileKind.choices)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_path = models.CharField(max_length=300)
    # The entities read from it (sheets of a workbook, or the one a CSV's header names), set by the dry run.
    entities = models.JSONField(default=list)
    encoding = models.CharField(max_length=40, blank=True)  # as detected, for CSV

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class ImportIssue(models.Model):
    """One issue of a dry run, as the engine reported it. At most ``ISSUES_STORED`` per job are kept
    (the page shows the first ones); the report spreadsheet holds them all."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    position = models.PositiveIntegerField()  # order on the page: entity order, then row
    entity = models.CharField(max_length=30)
    row = models.PositiveIntegerField(null=True, blank=True)
    column = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=7)
    code = models.CharField(max_length=60)
    message = models.TextField()

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="imports_issue_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.row} {self.code}"


class MappingProfile(models.Model):
    """A saved way to read another system's export of one entity, reused across imports."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    entity = models.CharField(_("entity"), max_length=30)
    columns = models.JSONField(_("columns"), default=dict)  # {file header → field key, or "" to ignore}
    encoding = models.CharField(_("encoding"), max_length=40, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    date_order = models.CharField(_("date order"), max_length=3, default="DMY")
    # A workbook's sheet to read ("": the sheet named after the entity, else none is found by name).
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entity", "name"]
        verbose_name = _("mapping profile")
        verbose_name_plural = _("mapping profiles")
        constraints = [
            models.UniqueConstraint(fields=["entity", "name"], name="imports_profile_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.entity}: {self.name}"


class ImportedRecord(models.Model):
    """What an import made, by the legacy key it came with (a member number, an account number ...).

    Importing the same file again finds every record here with the same content and makes nothing;
    a changed record is updated where it has not been used; a rollback removes what its job made.
    """

    id = models.BigAutoField(primary_key=True)
    entity = models.CharField(max_length=30)
    key = models.CharField(max_length=200)  # the record's key in the files (trial balance: code|branch)
    legacy_id = models.CharField(max_length=100, blank=True)  # the old system's own id, where given
    job = models.ForeignKey(ImportJob, on_delete=models.PROTECT, related_name="records")
    object_id = models.BigIntegerField(null=True, blank=True)  # the row made (None: a ledger line)
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="imports_record_key_unique"),
        ]
        indexes = [models.Index(fields=["job", "entity"], name="imports_record_by_job")]

    def __str__(self) -> str:
        return f"{self.entity} {self.key}"


class CutOver(models.Model):
    """One row per workspace (id 1): the cut-over date every import's opening balances share, and
    when the cooperative went live (after which imports can no longer be rolled back)."""

    id = models.BigIntegerField(primary_key=True, default=1, editable=False)
    date = models.DateField(_("cut-over date"))
    live_since = models.DateTimeField(_("live since"), null=True, blank=True)
    live_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"cut-over {self.date}"
