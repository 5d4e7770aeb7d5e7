"""Celery beat scheduler: per-workspace periodic tasks go to live cooperatives only.

Entries in ``settings.CELERY_BEAT_SCHEDULE`` without ``tenant_schemas`` run once per live
cooperative. Control-plane entries (``CONTROL_PLANE_SCHEDULE`` below) run once, in the public
schema: billing and sign-up work is about cooperatives, not inside any one of them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django_tenants.utils import schema_context
from tenant_schemas_celery.scheduler import TenantAwarePersistentScheduler

from tenants.models import Cooperative

CONTROL_PLANE_SCHEDULE: dict[str, dict[str, Any]] = {
    # Billing: past due -> read-only once the grace period has ended (idempotent).
    "billing-grace-periods": {"task": "billing.tasks.billing_grace_periods_expire", "schedule": 15 * 60},
    # Billing: Stripe events whose processing never ran or failed, queued again.
    "billing-stripe-events-retry": {"task": "billing.tasks.stripe_events_retry", "schedule": 10 * 60},
    # Sign-up: unpaid sign-ups expire (their Checkout is closed first); no workspace is left behind.
    "onboarding-signups-expire": {"task": "onboarding.tasks.signups_expire", "schedule": 10 * 60},
    # Provisioning: spare template clones kept ready, so a sign-up renames one instead of cloning.
    "tenants-spare-workspaces": {"task": "tenants.tasks.spare_workspaces_refill", "schedule": 60},
    # Backups: each live cooperative's nightly backup, once past BACKUP_NIGHTLY_HOUR on its own clock.
    "backups-nightly": {"task": "control_plane.backups.tasks.backups_nightly", "schedule": 15 * 60},
    # Backups: each cooperative's restore drill of its latest backup, once a day after BACKUP_DRILL_HOUR.
    "backups-restore-drills": {
        "task": "control_plane.backups.tasks.restore_drills_nightly",
        "schedule": 15 * 60,
    },
}


class WorkspaceScheduler(TenantAwarePersistentScheduler):
    """An entry without ``tenant_schemas`` runs once per live cooperative (never the template)."""

    @classmethod
    def get_queryset(cls) -> QuerySet[Cooperative]:
        return Cooperative.objects.live()

    def merge_inplace(self, b: dict[str, Any]) -> None:
        public = {
            name: {**entry, "tenant_schemas": [settings.PUBLIC_SCHEMA_NAME]}
            for name, entry in CONTROL_PLANE_SCHEDULE.items()
        }
        super().merge_inplace({**b, **public})

    def apply_entry(self, entry: Any, producer: Any = None) -> None:
        headers = entry.options.setdefault("headers", {})
        if headers.get("_schema_name") == settings.PUBLIC_SCHEMA_NAME:
            # The public schema is no cooperative's: the tenant queryset would never find it.
            with schema_context(settings.PUBLIC_SCHEMA_NAME):
                self.apply_async(entry, producer=producer, advance=False)
            return
        super().apply_entry(entry, producer=producer)
