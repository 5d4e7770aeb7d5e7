"""Reads of the imports app: jobs, their issues, what the report page shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext

from imports.commit import commit_progress
from imports.engine.templates import TEMPLATES
from imports.models import CutOver, ImportIssue, ImportJob, MappingProfile
from imports.services import IMPORT_ENTITIES, PHOTOS

ISSUES_SHOWN = 200


def import_jobs() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")


def import_job(job_id: int) -> ImportJob | None:
    return ImportJob.objects.select_related("created_by").prefetch_related("files").filter(pk=job_id).first()


def import_issues_first(job: ImportJob, limit: int = ISSUES_SHOWN) -> list[ImportIssue]:
    return list(ImportIssue.objects.filter(job=job).order_by("position")[:limit])


def entity_title(entity: str) -> str:
    if entity == PHOTOS:
        return gettext("Member photos and ID scans")
    template = TEMPLATES.get(entity)
    return gettext(template.title) if template else entity


def entity_totals(job: ImportJob) -> list[dict[str, Any]]:
    """Per entity in import order: rows read, valid, new, already in the workspace, conflicting."""
    rows = []
    for entity in IMPORT_ENTITIES:
        counts = job.entity_counts.get(entity)
        if counts is None:
            continue
        rows.append({"entity": entity, "title": entity_title(entity), **counts})
    return rows


def mapping_profiles(entity: str | None = None) -> QuerySet[MappingProfile]:
    profiles = MappingProfile.objects.all()
    return profiles.filter(entity=entity) if entity else profiles


def cut_over() -> CutOver | None:
    return CutOver.objects.select_related("live_by").filter(pk=1).first()


def commit_totals(job: ImportJob) -> list[dict[str, Any]]:
    """Per entity in import order, what the commit made: created, updated, already there."""
    rows = []
    for entity in IMPORT_ENTITIES:
        counts = job.commit_counts.get(entity)
        if counts and any(counts.values()):
            rows.append({"entity": entity, "title": entity_title(entity), **counts})
    return rows


def arrears_check(job: ImportJob) -> dict[str, Any] | None:
    """The loans' arrears at the cut-over, the old system's against the schedules' (None: no loan
    was in arrears either way), with the loans that differ and their dates as dates."""
    check = job.arrears_check
    if not check or not (check["loans_old"] or check["loans"] or check["differing"]):
        return None
    examples = [
        {
            **example,
            "old_since": dt.date.fromisoformat(example["old_since"]) if example["old_since"] else None,
            "since": dt.date.fromisoformat(example["since"]) if example["since"] else None,
        }
        for example in check["examples"]
    ]
    return {**check, "examples": examples, "more": check["differing"] - len(examples)}


def job_page(job: ImportJob) -> dict[str, Any]:
    """What a job's page shows, in the workspace and in the operations console alike."""
    return {
        "job": job,
        "totals": entity_totals(job),
        "issues": import_issues_first(job) if job.result else [],
        "issues_shown": ISSUES_SHOWN,
        "issue_count": job.errors + job.warnings,
        "cut_over": cut_over(),
        "commit_totals": commit_totals(job),
        "arrears": arrears_check(job),
        "progress": commit_progress(job.pk) if job.status == "committing" else None,
    }
