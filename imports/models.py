"""Imports of a cooperative's old records (issue 8): the files uploaded, the dry run's progress and
its result, and saved ways to read another system's exports.

A job is written by ``imports.services`` only. The dry run writes nothing of the cooperative's own
data; the fields kept here (legacy keys in the files, settings, per-entity counts) are what a
later commit needs to post the same records and recognise them again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Validating")
    VALIDATED = "validated", _("Validated")
    FAILED = "failed", _("Failed")


class DryRunResult(models.TextChoices):
    CLEAN = "clean", _("Clean")
    WARNINGS = "warnings", _("With warnings")
    ERRORS = "errors", _("With errors")


class FileKind(models.TextChoices):
    XLSX = "xlsx", "XLSX"
    CSV = "csv", "CSV"


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

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"import {self.pk} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in (JobStatus.UPLOADED, JobStatus.VALIDATING)

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
