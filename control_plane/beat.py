"""Celery beat scheduler: per-workspace periodic tasks go to live cooperatives only."""

from __future__ import annotations

from django.db.models import QuerySet
from tenant_schemas_celery.scheduler import TenantAwarePersistentScheduler

from tenants.models import Cooperative


class WorkspaceScheduler(TenantAwarePersistentScheduler):
    """An entry without ``tenant_schemas`` runs once per live cooperative (never the template)."""

    @classmethod
    def get_queryset(cls) -> QuerySet[Cooperative]:
        return Cooperative.objects.live()
