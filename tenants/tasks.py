"""Background work per workspace. Each task runs in the schema it was queued from."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from tenants.db import current_cooperative, current_schema
from tenants.models import Cooperative, UsageSnapshot


def _current_cooperative() -> Cooperative:
    cooperative = current_cooperative()
    if cooperative is None:
        raise RuntimeError(f"This task runs inside a cooperative's workspace, not in {current_schema()!r}")
    return cooperative


@shared_task(name="tenants.tasks.usage_snapshot")
def usage_snapshot() -> dict[str, Any]:
    """Count what the workspace uses today (idempotent: one row per cooperative per day, updated)."""
    from core_banking.organisation.models import Branch
    from core_banking.staff.models import StaffProfile

    cooperative = _current_cooperative()
    staff_users = StaffProfile.objects.filter(user__is_active=True).count()
    branches = Branch.objects.count()
    UsageSnapshot.objects.update_or_create(
        cooperative=cooperative,
        measured_on=cooperative.business_date(),
        defaults={"measured_at": timezone.now(), "staff_users": staff_users, "branches": branches},
    )
    return {"schema": current_schema(), "staff_users": staff_users, "branches": branches}


@shared_task(name="tenants.tasks.workspace_probe")
def workspace_probe(usernames: list[str]) -> dict[str, Any]:
    """Report which schema the task ran in and which of the given staff user names exist there.

    Used by the operations console's health check of a workspace, and by the isolation tests:
    a task queued from one workspace sees that workspace's people only.
    """
    from control_plane.identity.models import User

    cooperative = _current_cooperative()
    found = sorted(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    return {"schema": current_schema(), "cooperative": cooperative.slug, "found": found}
