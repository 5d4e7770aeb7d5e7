"""The console's view of a cooperative's data imports: the same report as the workspace's admins
see, the commit and the rollback on the cooperative's behalf (a reason each, the operator's name on
the job and in both audit trails), and nothing of another cooperative's imports."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from control_plane.audit.models import AuditEvent
from core_banking.members.models import Member
from imports.commit import import_commit
from imports.engine.sample import write_sample
from imports.models import ImportJob, JobStatus
from imports.sample_setup import sample_products_ensure
from imports.services import ImportOptions, import_dry_run, import_job_create
from tests.conftest import Workspace
from tests.control_plane.console.conftest import Operator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _checked_job(workspace: Workspace, **sample: int) -> ImportJob:
    out = io.BytesIO()
    write_sample(out, members=20, country="BD", **sample)
    with tenant_context(workspace.cooperative()):
        sample_products_ensure()
        job = import_job_create(
            actor=None,
            files=[SimpleUploadedFile("legacy.xlsx", out.getvalue())],
            options=ImportOptions(cut_over=dt.date(2025, 12, 31)),
        )
        return import_dry_run(job_id=job.pk)


def _events(action: str) -> list[AuditEvent]:
    connection.set_schema_to_public()
    return list(AuditEvent.objects.filter(action=action))


def test_an_operator_reads_the_report_imports_and_rolls_back_with_reasons(
    console: Client, operator: Operator, alpha: Workspace, django_capture_on_commit_callbacks: Any
) -> None:
    from celery.signals import before_task_publish

    job = _checked_job(alpha)
    listing = console.get("/console/tenants/alpha/imports/")
    assert listing.status_code == 200 and f'data-job="{job.pk}"'.encode() in listing.content
    page = console.get(f"/console/tenants/alpha/imports/{job.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="import-reconciliation"' in html and 'data-testid="commit-button"' in html
    assert f"/console/tenants/alpha/imports/{job.pk}/commit/" in html
    report = console.get(f"/console/tenants/alpha/imports/{job.pk}/report.xlsx")
    assert report.status_code == 200 and report["Content-Disposition"].startswith("attachment")

    no_reason = console.post(
        f"/console/tenants/alpha/imports/{job.pk}/commit/", {"import-reason": " ", "accept_warnings": "on"}
    )
    assert no_reason.status_code == 400
    queued: list[dict[str, Any]] = []

    def published(sender: str | None = None, headers: dict[str, Any] | None = None, **_: Any) -> None:
        if sender == "imports.tasks.import_commit":
            queued.append(dict(headers or {}))

    before_task_publish.connect(published, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            done = console.post(
                f"/console/tenants/alpha/imports/{job.pk}/commit/",
                {"import-reason": "OPS-12 migration day", "accept_warnings": "on"},
            )
    finally:
        before_task_publish.disconnect(published)
    assert (done.status_code, done["Location"]) == (302, f"/console/tenants/alpha/imports/{job.pk}/")
    (headers,) = queued  # queued for alpha's workspace, though the console serves the public schema
    assert headers["_schema_name"] == alpha.schema_name
    with tenant_context(alpha.cooperative()):
        queued = ImportJob.objects.get(pk=job.pk)
        assert queued.status == JobStatus.COMMITTING
        if queued.warnings:
            assert queued.warnings_accepted_by_name == f"{operator.username} (operations)"
        assert queued.commit_requested_by is None  # operators are not the workspace's users
        workspace_event = AuditEvent.objects.filter(action="import.commit_requested").latest("id")
        assert workspace_event.changes["operator"] == operator.username
        committed = import_commit(job_id=job.pk)
        assert committed.status == JobStatus.COMMITTED, committed.commit_failure
        assert Member.objects.filter(number__startswith="M").count() == 20
    (event,) = _events("console.import_commit")
    assert event.actor_label == operator.username and event.changes["reason"] == "OPS-12 migration day"

    page = console.get(f"/console/tenants/alpha/imports/{job.pk}/").content.decode()
    assert 'data-testid="commit-totals"' in page and 'data-testid="rollback"' in page
    back = console.post(
        f"/console/tenants/alpha/imports/{job.pk}/rollback/", {"import-reason": "OPS-13 wrong file"}
    )
    assert back.status_code == 302
    with tenant_context(alpha.cooperative()):
        rolled = ImportJob.objects.get(pk=job.pk)
        assert rolled.status == JobStatus.ROLLED_BACK
        assert rolled.rollback_reason == f"OPS-13 wrong file ({operator.username} (operations))"
        assert not Member.objects.filter(number__startswith="M").exists()
    (event,) = _events("console.import_rollback")
    assert event.changes == {"reason": "OPS-13 wrong file", "import": job.pk}


def test_the_console_shows_one_cooperative_s_imports_only(
    console: Client, alpha: Workspace, beta: Workspace
) -> None:
    job = _checked_job(beta)
    assert console.get("/console/tenants/beta/imports/").content.count(b"data-job=") == 1
    alpha_list = console.get("/console/tenants/alpha/imports/")
    assert b"data-job=" not in alpha_list.content
    # The same number under another cooperative is that cooperative's (here: none), never beta's.
    assert console.get(f"/console/tenants/alpha/imports/{job.pk}/").status_code == 404
    assert console.get(f"/console/tenants/alpha/imports/{job.pk}/report.xlsx").status_code == 404
    refused = console.post(f"/console/tenants/alpha/imports/{job.pk}/commit/", {"import-reason": "x"})
    assert refused.status_code == 404
    with tenant_context(beta.cooperative()):
        assert ImportJob.objects.get(pk=job.pk).status == JobStatus.VALIDATED


def test_a_workspace_user_cannot_reach_the_console_s_import_pages(alpha: Workspace) -> None:
    from tests.conftest import workspace_client

    client = workspace_client(alpha, username=alpha.admin)
    assert client.get("/console/tenants/alpha/imports/").status_code == 404


def test_an_operator_uploads_a_cooperative_s_files_with_a_reason(
    console: Client, operator: Operator, alpha: Workspace, django_capture_on_commit_callbacks: Any
) -> None:
    from celery.signals import before_task_publish

    out = io.BytesIO()
    write_sample(out, members=10, country="BD")
    page = console.get("/console/tenants/alpha/imports/new/")
    assert page.status_code == 200 and b'name="spreadsheets"' in page.content
    no_reason = console.post(
        "/console/tenants/alpha/imports/new/",
        {
            "spreadsheets": SimpleUploadedFile("legacy.xlsx", out.getvalue()),
            "country": "BD",
            "date_order": "DMY",
        },
    )
    assert no_reason.status_code == 400
    queued: list[dict[str, Any]] = []

    def published(sender: str | None = None, headers: dict[str, Any] | None = None, **_: Any) -> None:
        if sender == "imports.tasks.import_dry_run":
            queued.append(dict(headers or {}))

    before_task_publish.connect(published, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            done = console.post(
                "/console/tenants/alpha/imports/new/",
                {
                    "spreadsheets": SimpleUploadedFile("legacy.xlsx", out.getvalue()),
                    "country": "BD",
                    "date_order": "DMY",
                    "cut_over": "2025-12-31",
                    "import-reason": "OPS-20 migration of the paper ledgers",
                },
            )
    finally:
        before_task_publish.disconnect(published)
    assert done.status_code == 302
    with tenant_context(alpha.cooperative()):
        job = ImportJob.objects.latest("id")
        assert done["Location"] == f"/console/tenants/alpha/imports/{job.pk}/"
        assert job.status == JobStatus.UPLOADED and job.created_by is None
        assert job.files.get().storage_path.startswith("workspaces/coop_alpha/imports/")
        event = AuditEvent.objects.filter(action="import.uploaded_by_operations").latest("id")
        assert event.changes == {
            "operator": operator.username,
            "reason": "OPS-20 migration of the paper ledgers",
        }
    # The dry run is queued for alpha's workspace (the task carries its schema).
    (headers,) = queued
    assert headers["_schema_name"] == alpha.schema_name and str(job.pk) in headers["argsrepr"]
    (event,) = _events("console.import_upload")
    assert event.changes["import"] == job.pk
