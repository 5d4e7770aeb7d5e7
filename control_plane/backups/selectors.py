"""Reads of backups, restores and drills for the operations console and the commands."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from control_plane.backups.models import ACTIVE_STATUSES, Backup, Restore, RestoreMode, RunStatus
from tenants.models import Cooperative


def backups_for(cooperative: Cooperative) -> QuerySet[Backup]:
    """Every backup of the cooperative, newest first (failed and pruned ones too: the history)."""
    return Backup.objects.filter(cooperative=cooperative).order_by("-created_at", "-id")


def last_backup(cooperative: Cooperative) -> Backup | None:
    """The newest backup that can be restored (succeeded, its files still stored)."""
    return (
        Backup.objects.filter(cooperative=cooperative, status=RunStatus.SUCCEEDED, pruned_at__isnull=True)
        .exclude(storage_key="")
        .order_by("-started_at", "-id")
        .first()
    )


def restores_for(cooperative: Cooperative) -> QuerySet[Restore]:
    """Restores and drills of the cooperative, newest first."""
    return (
        Restore.objects.filter(cooperative=cooperative)
        .select_related("backup", "safety_backup")
        .order_by("-created_at", "-id")
    )


def drills_recent(*, limit: int = 100) -> list[Restore]:
    """The latest restore drills of every cooperative, newest first (failed ones are the alerts)."""
    return list(
        Restore.objects.filter(mode=RestoreMode.DRILL)
        .select_related("cooperative", "backup")
        .order_by("-created_at", "-id")[:limit]
    )


def drills_failing() -> list[Restore]:
    """For each cooperative whose most recent drill failed, that drill: what the console should flag."""
    latest = (
        Restore.objects.filter(mode=RestoreMode.DRILL)
        .order_by("cooperative_id", "-created_at", "-id")
        .distinct("cooperative_id")
        .values_list("id", flat=True)
    )
    return list(
        Restore.objects.filter(id__in=list(latest), status=RunStatus.FAILED)
        .select_related("cooperative", "backup")
        .order_by("-created_at")
    )


def operations_running(cooperative: Cooperative | None = None) -> list[Backup | Restore]:
    """Backups and restores queued or running (with their progress), oldest first."""
    where = Q(status__in=ACTIVE_STATUSES)
    if cooperative is not None:
        where &= Q(cooperative=cooperative)
    backups = list(Backup.objects.filter(where).select_related("cooperative"))
    restores = list(Restore.objects.filter(where).select_related("cooperative", "backup"))
    return sorted([*backups, *restores], key=lambda record: record.created_at)


def retired_schemas(cooperative: Cooperative) -> QuerySet[Restore]:
    """Restores whose previous schema is still kept, waiting for an operator to drop it."""
    return (
        Restore.objects.filter(
            cooperative=cooperative, mode=RestoreMode.RESTORE, retired_dropped_at__isnull=True
        )
        .exclude(retired_schema="")
        .order_by("-swapped_at")
    )
