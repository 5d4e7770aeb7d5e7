"""The import pages: upload, progress while the dry run goes on, the report and its download;
admins only, one workspace's jobs invisible from another, nothing new in a read-only workspace."""

from __future__ import annotations

import io
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from frontend.formatting import cooperative_money, format_money
from imports import services
from imports.engine.sample import write_sample
from imports.models import ImportJob, JobStatus
from imports.services import import_dry_run
from tenants.models import Cooperative, Lifecycle
from tests.conftest import ALPHA, Workspace, workspace_client

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Uploaded files and reports of these tests go to a folder of their own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _sample(members: int = 60) -> bytes:
    out = io.BytesIO()
    write_sample(out, members=members, country="BD", bad_rows=3)
    return out.getvalue()


def _upload(client: Client, name: str, content: bytes, **fields: str) -> object:
    data = {"country": "BD", "date_order": "DMY", "decimal_separator": "", "cut_over": "2025-12-31", **fields}
    return client.post("/imports/new/", {**data, "spreadsheets": SimpleUploadedFile(name, content)})


def _job_count(workspace: Workspace) -> int:
    with tenant_context(workspace.cooperative()):
        return ImportJob.objects.count()


@pytest.fixture
def admin(alpha: Workspace) -> Client:
    return workspace_client(alpha, username=alpha.admin)


def test_upload_progress_report_and_download(admin: Client, alpha: Workspace) -> None:
    page = admin.get("/imports/new/")
    assert page.status_code == 200
    assert b'href="/imports/templates/members.xlsx"' in page.content
    assert b'href="/imports/sample.xlsx"' in page.content

    response = _upload(admin, "legacy.xlsx", _sample())
    assert response.status_code == 302
    job_url = response["Location"]
    job_id = int(job_url.rstrip("/").split("/")[-1])

    # Queued, not run yet: the page polls the progress block.
    page = admin.get(job_url)
    assert page.status_code == 200
    assert b'hx-get="/imports/%d/progress/"' % job_id in page.content
    assert b'data-status="uploaded"' in page.content

    with tenant_context(alpha.cooperative()):
        job = import_dry_run(job_id=job_id)
        assert job.status == JobStatus.VALIDATED
        savings = next(line for line in job.reconciliation if line["control"] == "savings")

    # The poll sees the end and has the page reload; the page now shows the report.
    poll = admin.get(f"/imports/{job_id}/progress/", HTTP_HX_REQUEST="true")
    assert poll.status_code == 200 and poll["HX-Refresh"] == "true"
    assert b"hx-get" not in poll.content
    page = admin.get(job_url)
    content = page.content.decode()
    assert 'data-testid="import-reconciliation"' in content
    language = page.wsgi_request.LANGUAGE_CODE
    assert language == "bn"  # alpha's own language
    assert cooperative_money(savings["ledger_minor"], alpha.cooperative(), language) in content
    assert 'data-control="savings" data-difference="0"' in content
    assert 'data-code="phone_invalid"' in content
    assert 'data-entity="members"' in content

    report = admin.get(f"/imports/{job_id}/report.xlsx")
    assert report.status_code == 200 and report["Content-Type"] == XLSX
    book = load_workbook(io.BytesIO(b"".join(report.streaming_content)), read_only=True)
    assert len(list(book["Issues"].iter_rows(min_row=2))) == job.errors + job.warnings

    listing = admin.get("/imports/")
    assert f'data-job="{job_id}"' in listing.content.decode()


def test_english_page_shows_money_in_english(admin: Client, alpha: Workspace) -> None:
    response = _upload(admin, "legacy.xlsx", _sample(members=30))
    job_id = int(response["Location"].rstrip("/").split("/")[-1])
    with tenant_context(alpha.cooperative()):
        job = import_dry_run(job_id=job_id)
        shares = next(line for line in job.reconciliation if line["control"] == "shares")
    admin.post("/language/", {"language": "en", "next": "/"})
    page = admin.get(f"/imports/{job_id}/")
    assert page.wsgi_request.LANGUAGE_CODE == "en"
    assert format_money(shares["ledger_minor"], "BDT", "en") in page.content.decode()


def test_upload_with_a_saved_profile(admin: Client, alpha: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        profile = services.mapping_profile_save(
            actor=None, name="Desktop", entity="members", columns={"MemNo": "member_no"}, date_order="MDY"
        )
    assert b"Desktop" in admin.get("/imports/new/").content
    response = _upload(admin, "export.csv", b"MemNo\r\nP-1\r\n", profiles=str(profile.pk))
    assert response.status_code == 302
    job_id = int(response["Location"].rstrip("/").split("/")[-1])
    with tenant_context(alpha.cooperative()):
        assert ImportJob.objects.get(pk=job_id).settings["profiles"]["members"]["date_order"] == "MDY"


def test_templates_and_sample_download(admin: Client) -> None:
    for path, kind in (
        ("/imports/templates/members.xlsx", XLSX),
        ("/imports/templates/loans.csv", "text/csv"),
        ("/imports/sample.xlsx", XLSX),
    ):
        response = admin.get(path)
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith(kind)
    assert admin.get("/imports/templates/passwords.csv").status_code == 404


def test_refused_files_answer_with_their_code(admin: Client, alpha: Workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    before = _job_count(alpha)
    response = _upload(admin, "setup.exe", b"MZ\x90\x00" + b"\x00" * 200)
    assert response.status_code == 415
    assert b'data-error-code="import_file_type"' in response.content
    monkeypatch.setattr(services, "MAX_FILE_BYTES", 1024)
    response = _upload(admin, "members.csv", b"member_no\r\n" + b"M1\r\n" * 600)
    assert response.status_code == 413
    assert b'data-error-code="import_file_too_large"' in response.content
    assert _job_count(alpha) == before


def test_queued_on_commit_into_this_workspace(
    admin: Client, alpha: Workspace, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # What is published, seen as Celery publishes it (workers of other tests running at the same
    # time may take the message off the queue before this test could read it there).
    published: list[dict[str, Any]] = []

    def seen(sender: str | None = None, headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
        if sender == "imports.tasks.import_dry_run":
            published.append(dict(headers or {}))

    before_task_publish.connect(seen, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = _upload(admin, "legacy.xlsx", _sample(members=20))
    finally:
        before_task_publish.disconnect(seen)
    assert response.status_code == 302
    job_id = int(response["Location"].rstrip("/").split("/")[-1])
    assert len(callbacks) == 1
    (headers,) = published
    assert headers["task"] == "imports.tasks.import_dry_run"
    assert headers["_schema_name"] == ALPHA.schema_name
    assert str(job_id) in headers["argsrepr"]


def _alpha_job(alpha: Workspace) -> int:
    with tenant_context(alpha.cooperative()):
        job = services.import_job_create(
            actor=None,
            files=[SimpleUploadedFile("legacy.xlsx", _sample(members=20))],
            options=services.ImportOptions(),
        )
        import_dry_run(job_id=job.pk)
        return job.pk


def test_another_workspace_sees_nothing(alpha: Workspace, beta: Workspace) -> None:
    job_id = _alpha_job(alpha)
    with tenant_context(beta.cooperative()):
        assert not ImportJob.objects.filter(pk=job_id).exists()
    beta_admin = workspace_client(beta, username=beta.admin)
    for path in (f"/imports/{job_id}/", f"/imports/{job_id}/report.xlsx", f"/imports/{job_id}/progress/"):
        assert beta_admin.get(path).status_code == 404, path
    # Beta's session on alpha's host is nobody there: sent to log in.
    carried = Client(HTTP_HOST=alpha.host)
    carried.cookies = beta_admin.cookies
    for path in (f"/imports/{job_id}/", f"/imports/{job_id}/report.xlsx"):
        response = carried.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], path
    # Logged out: sent to log in too.
    response = Client(HTTP_HOST=alpha.host).get(f"/imports/{job_id}/report.xlsx")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_only_admins(alpha: Workspace) -> None:
    job_id = _alpha_job(alpha)
    for username in (alpha.only_here, "auditor", "clerk0"):
        client = workspace_client(alpha, username=username)
        for path in ("/imports/", "/imports/new/", f"/imports/{job_id}/", f"/imports/{job_id}/report.xlsx"):
            assert client.get(path).status_code == 403, (username, path)
    admin = workspace_client(alpha, username=alpha.admin)
    assert b'href="/imports/"' in admin.get("/").content  # the menu entry
    clerk = workspace_client(alpha, username="clerk0")
    assert b'href="/imports/"' not in clerk.get("/").content


def test_read_only_workspace_refuses_a_new_job(admin: Client, alpha: Workspace) -> None:
    before = _job_count(alpha)
    Cooperative.objects.filter(slug=alpha.slug).update(lifecycle=Lifecycle.READ_ONLY)
    response = _upload(admin, "legacy.xlsx", _sample(members=20))
    assert response.status_code == 403
    assert _job_count(alpha) == before
    assert admin.get("/imports/").status_code == 200  # still readable
    with tenant_context(Cooperative.objects.get(slug=alpha.slug)):
        from control_plane.errors import BusinessRuleViolation, ErrorCode

        with pytest.raises(BusinessRuleViolation) as refused:
            services.import_job_create(
                actor=None,
                files=[SimpleUploadedFile("legacy.xlsx", _sample(members=20))],
                options=services.ImportOptions(),
            )
        assert refused.value.code == ErrorCode.WORKSPACE_READ_ONLY


def test_an_admin_maps_another_system_s_columns_once_on_a_page(alpha: Workspace) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django_tenants.utils import tenant_context

    from imports.models import MappingProfile

    client = workspace_client(alpha, username=alpha.admin)
    export = "MemNo;Name of member;Br;Joined;Cell\r\nX-1;Rahima Khatun;BR1;03/01/2024;01711000001\r\n"
    step_one = client.post(
        "/imports/profiles/new/",
        {"entity": "members", "sample": SimpleUploadedFile("export.csv", export.encode("utf-8"))},
    )
    assert step_one.status_code == 200
    page = step_one.content.decode()
    for header in ("MemNo", "Name of member", "Br", "Joined", "Cell"):
        assert f'data-header="{header}"' in page
    # Required fields left unmapped are refused, naming them.
    incomplete = client.post(
        "/imports/profiles/new/",
        {
            "entity": "members",
            "header": ["MemNo", "Name of member"],
            "field_0": "member_no",
            "field_1": "full_name",
            "name": "Old program",
        },
    )
    refused = incomplete.content.decode()
    assert incomplete.status_code == 400 and 'data-testid="profile-error"' in refused
    from imports.engine.templates import TEMPLATES

    for missing in ("branch_code", "join_date"):  # named as the page's language heads them
        assert TEMPLATES["members"].field(missing).header("bn") in refused
    saved = client.post(
        "/imports/profiles/new/",
        {
            "entity": "members",
            "header": ["MemNo", "Name of member", "Br", "Joined", "Cell"],
            "field_0": "member_no",
            "field_1": "full_name",
            "field_2": "branch_code",
            "field_3": "join_date",
            "field_4": "phone",
            "encoding": "utf-8",
            "delimiter": ";",
            "date_order": "MDY",
            "name": "Old program",
        },
    )
    assert (saved.status_code, saved["Location"]) == (302, "/imports/profiles/")
    with tenant_context(alpha.cooperative()):
        profile = MappingProfile.objects.get(name="Old program")
    assert profile.columns == {
        "MemNo": "member_no",
        "Name of member": "full_name",
        "Br": "branch_code",
        "Joined": "join_date",
        "Cell": "phone",
    }
    assert (profile.delimiter, profile.date_order) == (";", "MDY")
    listing = client.get("/imports/profiles/").content.decode()
    assert "Old program" in listing and f'data-profile="{profile.pk}"' in listing


def test_a_saved_mapping_opens_with_its_columns_and_saving_it_again_changes_it(alpha: Workspace) -> None:
    from imports.models import MappingProfile

    with tenant_context(alpha.cooperative()):
        profile = services.mapping_profile_save(
            actor=None,
            name="Old program",
            entity="shares",
            columns={"MemNo": "member_no", "Amount": "share_balance", "Note": ""},
            date_order="MDY",
        )
    client = workspace_client(alpha, username=alpha.admin)
    page = client.get(f"/imports/profiles/{profile.pk}/").content.decode()
    assert 'value="Old program"' in page and '<option value="MDY" selected>' in page
    assert '<option value="share_balance" selected>' in page and 'data-header="Note"' in page
    changed = client.post(
        "/imports/profiles/new/",
        {
            "entity": "shares",
            "header": ["MemNo", "Amount", "Note"],
            "field_0": "member_no",
            "field_1": "share_balance",
            "field_2": "share_count",
            "date_order": "DMY",
            "name": "Old program",
        },
    )
    assert changed.status_code == 302
    with tenant_context(alpha.cooperative()):
        again = MappingProfile.objects.get(pk=profile.pk)
    assert again.columns["Note"] == "share_count" and again.date_order == "DMY"
    assert client.get("/imports/profiles/999999/").status_code == 404


def test_a_mapping_reads_the_sheet_it_is_told_of_a_workbook_and_keeps_its_name(alpha: Workspace) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    from imports.models import MappingProfile

    book = Workbook()
    book.active.title = "Cover"
    book.active.append(["Printed by the old program"])
    book.create_sheet("Shares").append(["MemNo", "Amount"])
    book.create_sheet("Loans").append(["LoanNo", "Borrower"])
    out = io.BytesIO()
    book.save(out)

    def sample(**fields: str) -> object:
        upload = SimpleUploadedFile("export.xlsx", out.getvalue())
        return client.post("/imports/profiles/new/", {"entity": "shares", "sample": upload, **fields})

    client = workspace_client(alpha, username=alpha.admin)
    # No sheet named: the one named after what it holds.
    named = sample().content.decode()
    assert 'data-header="MemNo"' in named and 'name="sheet" value="Shares"' in named
    # A sheet named by the admin, in any case.
    told = sample(sheet="loans")
    assert 'data-header="LoanNo"' in told.content.decode()
    assert 'name="sheet" value="Loans"' in told.content.decode()
    missing = sample(sheet="Members 2019")
    assert missing.status_code == 400 and "Cover, Shares, Loans" in missing.content.decode()

    saved = client.post(
        "/imports/profiles/new/",
        {
            "entity": "shares",
            "header": ["MemNo", "Amount"],
            "field_0": "member_no",
            "field_1": "share_balance",
            "sheet": "Shares",
            "date_order": "DMY",
            "name": "Share register",
        },
    )
    assert saved.status_code == 302
    with tenant_context(alpha.cooperative()):
        profile = MappingProfile.objects.get(name="Share register")
    assert profile.sheet == "Shares"
    assert 'name="sheet" value="Shares"' in client.get(f"/imports/profiles/{profile.pk}/").content.decode()
