"""Beat: control-plane entries are sent once, in the public schema; workspace entries per workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from control_plane.beat import CONTROL_PLANE_SCHEDULE, WorkspaceScheduler
from control_plane.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_control_plane_entries_are_sent_once_in_the_public_schema(tmp_path: Path, monkeypatch: Any) -> None:
    scheduler = WorkspaceScheduler(app=celery_app, lazy=True, schedule_filename=str(tmp_path / "beat"))
    schedule = scheduler._tenant_aware_beat_schedule_to_dict(
        {name: {**entry, "tenant_schemas": ["public"]} for name, entry in CONTROL_PLANE_SCHEDULE.items()}
    )
    sent: list[tuple[str, str]] = []

    def apply_async(entry: Any, producer: Any = None, advance: bool = True, **kwargs: Any) -> None:
        from tenants.db import current_schema

        sent.append((entry.task, current_schema()))

    monkeypatch.setattr(scheduler, "apply_async", apply_async)
    for name, fields in schedule.items():
        scheduler.apply_entry(scheduler.Entry(name=name, app=celery_app, **fields), producer=None)
    assert sorted(sent) == sorted((entry["task"], "public") for entry in CONTROL_PLANE_SCHEDULE.values())


def test_the_scheduler_merges_the_control_plane_entries(tmp_path: Path) -> None:
    scheduler = WorkspaceScheduler(app=celery_app, lazy=True, schedule_filename=str(tmp_path / "beat"))
    scheduler.setup_schedule()
    names = set(scheduler.schedule)
    assert {f"{name}@public" for name in CONTROL_PLANE_SCHEDULE} <= names
    assert "workspace-usage-snapshot@__all_tenants_only__" in names
    scheduler.close()
