"""The imports app's dry run over stored files: exact reconciliation, issues with row, column and
code, progress, the report, references checked against the workspace's own keys."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.members.models import Member
from imports import services
from imports.engine.sample import SampleSummary, write_sample
from imports.engine.templates import TEMPLATES
from imports.models import DryRunResult, ImportIssue, ImportJob, JobStatus
from imports.services import ImportOptions, import_dry_run, import_job_create
from imports.tasks import import_dry_run_task
from tests.conftest import Workspace

pytestmark = pytest.mark.django_db

CUT_OVER = dt.date(2025, 12, 31)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Uploaded files and reports of these tests go to a folder of their own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _sample(members: int = 120, **options: Any) -> tuple[bytes, SampleSummary]:
    out = io.BytesIO()
    summary = write_sample(out, members=members, country="BD", **options)
    return out.getvalue(), summary


def _job(content: bytes, name: str = "legacy.xlsx", **options: Any) -> ImportJob:
    options.setdefault("cut_over", CUT_OVER)
    return import_job_create(
        actor=None, files=[SimpleUploadedFile(name, content)], options=ImportOptions(**options)
    )


def _lines(job: ImportJob) -> dict[str, dict[str, Any]]:
    return {line["control"]: line for line in job.reconciliation}


def test_sample_workbook_reconciles_to_the_minor_unit(in_alpha: Workspace) -> None:
    data, summary = _sample()
    existing_members = Member.objects.count()
    job = _job(data)
    assert job.status == JobStatus.UPLOADED
    assert job.settings["currency"] == "BDT" and job.settings["country"] == "BD"
    stored = job.files.get()
    assert stored.storage_path.startswith("workspaces/coop_alpha/imports/")
    assert stored.size_bytes == len(data) and len(stored.sha256) == 64

    seen: list[tuple[str, int, int, int]] = []
    job = import_dry_run(
        job_id=job.pk,
        progress_every=50,
        on_progress=lambda now: seen.append((now.status, now.rows_done, now.rows_total, now.errors_so_far)),
    )

    assert job.status == JobStatus.VALIDATED, job.failure
    lines = _lines(job)
    assert {control: line["difference_minor"] for control, line in lines.items()} == {
        "savings": 0,
        "savings_interest": 0,
        "loans": 0,
        "shares": 0,
    }
    assert lines["savings"]["records_minor"] == summary.savings_total
    assert lines["savings"]["ledger_minor"] == summary.savings_total
    assert lines["savings_interest"]["records_minor"] == summary.savings_interest_total
    assert lines["loans"]["records_minor"] == summary.loans_outstanding_total
    assert lines["shares"]["records_minor"] == summary.shares_total
    assert lines["savings"]["accounts"] == ["2100"]
    assert job.members_per_branch == summary.members_per_branch
    members = job.entity_counts["members"]
    assert members["rows"] == members["valid"] == 120
    assert members["new"] + members["matching"] == 120 and members["conflicting"] == 0
    # Nothing of the cooperative's own records was written.
    assert Member.objects.count() == existing_members

    # Progress moved while the run went on: every 50 rows, rising, within the estimated total.
    statuses = {status for status, *_rest in seen}
    assert statuses == {JobStatus.VALIDATING}
    done = [rows for _status, rows, _total, _errors in seen]
    assert len(done) > 5 and done == sorted(done) and done[0] == 0 and done[-1] == job.rows_done
    assert all(rows <= total for _status, rows, total, _errors in seen)
    assert job.rows_done == sum(counts["rows"] for counts in job.entity_counts.values())
    assert job.started_at is not None and job.finished_at is not None

    # The sample's products are not in this workspace: each savings account and loan says so.
    unknown = ImportIssue.objects.filter(job=job, code="reference_unknown")
    assert {issue.entity for issue in unknown} == {"savings_accounts", "loans"}
    assert job.result == DryRunResult.ERRORS
    assert job.errors == ImportIssue.objects.filter(job=job, severity="error").count()
    assert AuditEvent.objects.filter(object_id=str(job.pk), action="import.create").count() == 1
    assert AuditEvent.objects.filter(object_id=str(job.pk), action="import.dry_run").count() == 1


def test_unreconciled_trial_balance_shows_the_difference(in_alpha: Workspace) -> None:
    data, summary = _sample(members=60)
    book = load_workbook(io.BytesIO(data))
    sheet = book["trial_balance"]
    headers = [cell.value for cell in sheet[1]]
    debit, credit, control = (headers.index(name) for name in ("Debit", "Credit", "Control account of"))
    extra = 1_234_56  # Tk 1,234.56 more savings in the ledger than in the records
    for row in sheet.iter_rows(min_row=2):
        if row[control].value == "savings":
            row[credit].value = f"{Decimal(summary.savings_total + extra).scaleb(-2):f}"
        elif row[0].value == "1010":  # cash, so that debits still equal credits
            cash = int(Decimal(str(row[debit].value).replace(",", "")) * 100)
            row[debit].value = f"{Decimal(cash + extra).scaleb(-2):f}"
    out = io.BytesIO()
    book.save(out)

    job = import_dry_run(job_id=_job(out.getvalue()).pk)

    lines = _lines(job)
    assert lines["savings"]["records_minor"] == summary.savings_total
    assert lines["savings"]["ledger_minor"] == summary.savings_total + extra
    assert lines["savings"]["difference_minor"] == -extra
    assert [lines[c]["difference_minor"] for c in ("savings_interest", "loans", "shares")] == [0, 0, 0]
    assert not ImportIssue.objects.filter(job=job, code="trial_balance_unbalanced").exists()


def test_bad_rows_are_reported_with_row_column_and_code(in_alpha: Workspace) -> None:
    data, summary = _sample(members=60, bad_rows=11)
    job = import_dry_run(job_id=_job(data).pk)
    found = set(ImportIssue.objects.filter(job=job, severity="error").values_list("entity", "row", "code"))
    for sheet, row, code in summary.bad_rows:
        assert (sheet, row, code) in found
    issue = ImportIssue.objects.filter(job=job, code="phone_invalid").first()
    assert issue is not None and issue.column and issue.row


def _thai_members_csv(*rows: tuple[str, ...]) -> bytes:
    fields = ("member_no", "branch_code", "full_name", "national_id", "join_date")
    template = TEMPLATES["members"]
    lines = [",".join(template.field(key).header("th") for key in fields)]
    lines += [",".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-16")  # with its BOM, as Excel writes "Unicode text"


def test_utf16_csv_with_buddhist_era_dates(in_alpha: Workspace) -> None:
    content = _thai_members_csv(
        ("T-0001", "BR1", "สมศรี ใจดี", "1101700203450", "15/01/2568"),
        ("T-0002", "BR1", "สมชาย ใจดี", "", "1 ก.พ. 2567"),
        ("T-0003", "BR1", "มาลี ศรีสุข", "", "31/02/2568"),  # no 31 February
        ("T-0004", "NOPE", "บุญมี มีสุข", "", "02/01/2568"),
    )
    job = _job(content, name="สมาชิก.csv", country="TH", buddhist_era=True)
    job = import_dry_run(job_id=job.pk)

    file = job.files.get()
    assert file.kind == "csv" and file.entities == ["members"] and file.encoding.startswith("utf-16")
    assert job.entity_counts["members"]["rows"] == 4
    assert job.entity_counts["members"]["valid"] == 3  # the bad date; the unknown branch is found later
    issues = list(ImportIssue.objects.filter(job=job, severity="error").values_list("row", "column", "code"))
    join_header = TEMPLATES["members"].field("join_date").header("th")
    assert (4, join_header, "date_invalid") in issues
    branch_header = TEMPLATES["members"].field("branch_code").header("th")
    assert (5, branch_header, "reference_unknown") in issues
    assert len(issues) == 2
    assert job.members_per_branch == {"BR1": 2, "NOPE": 1}


def test_member_conflicting_with_the_workspace(in_alpha: Workspace) -> None:
    from tests.core_banking.savings.conftest import make_member

    held = make_member("IMP-HELD")
    Member.objects.filter(pk=held.pk).update(national_id="1101700203450")
    content = _thai_members_csv(
        ("IMP-NEW", "BR1", "สมศรี ใจดี", "1101700203450", "15/01/2568"),  # another member's ID
        ("IMP-HELD", "BR1", "สมชาย ใจดี", "", "15/01/2568"),  # a member made by hand, not imported
    )
    job = import_dry_run(job_id=_job(content, name="m.csv", country="TH", buddhist_era=True).pk)
    assert job.entity_counts["members"] == {
        "new": 0,
        "matching": 0,
        "changed": 0,
        "conflicting": 2,
        "rows": 2,
        "valid": 2,
    }
    conflict = ImportIssue.objects.get(job=job, code="conflicts_with_workspace")
    assert conflict.row == 2 and "IMP-HELD" in conflict.message
    by_hand = ImportIssue.objects.get(job=job, code="exists_not_imported")
    assert by_hand.row == 3 and "IMP-HELD" in by_hand.message


def test_report_spreadsheet_holds_every_issue(in_alpha: Workspace) -> None:
    data, _summary = _sample(members=60, bad_rows=6)
    job = import_dry_run(job_id=_job(data).pk)
    from django.core.files.storage import default_storage

    assert job.report_path.startswith("workspaces/coop_alpha/imports/")
    with default_storage.open(job.report_path, "rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()), read_only=True)
    assert book.sheetnames == ["Issues", "Reconciliation", "Members per branch"]
    assert len(list(book["Issues"].iter_rows(min_row=2))) == job.errors + job.warnings


def test_issues_beyond_the_cap_are_counted_not_stored(in_alpha: Workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "ISSUES_STORED", 5)
    data, _summary = _sample(members=60, bad_rows=11)
    job = import_dry_run(job_id=_job(data).pk)
    total = job.errors + job.warnings
    assert total > 5
    assert ImportIssue.objects.filter(job=job).count() == 5
    assert job.issues_not_stored == total - 5


def test_a_crash_leaves_the_job_failed_with_nothing_half_written(in_alpha: Workspace) -> None:
    from django.core.files.storage import default_storage

    job = _job(b"member_no,branch_code\r\nM1,BR1\r\n", name="members.csv")
    default_storage.delete(job.files.get().storage_path)  # the stored file is gone
    job = import_dry_run(job_id=job.pk)
    assert job.status == JobStatus.FAILED
    assert "FileNotFoundError" in job.failure
    assert not ImportIssue.objects.filter(job=job).exists()
    assert job.entity_counts == {} and job.report_path == ""
    # Run once only: a redelivered task finds the job done.
    assert import_dry_run(job_id=job.pk).status == JobStatus.FAILED


def test_the_task_runs_the_dry_run_in_the_workspace(in_alpha: Workspace) -> None:
    data, _summary = _sample(members=30)
    job = _job(data)
    assert import_dry_run_task(job.pk) == JobStatus.VALIDATED
    assert import_dry_run_task(job.pk) == JobStatus.VALIDATED  # again: nothing more happens
    assert AuditEvent.objects.filter(object_id=str(job.pk), action="import.dry_run").count() == 1


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 64, ErrorCode.IMPORT_FILE_TYPE),
        ("members.csv", b"MZ\x90\x00" + b"\x00" * 64, ErrorCode.IMPORT_FILE_TYPE),
        ("members.xlsx", b"not a workbook", ErrorCode.IMPORT_FILE_TYPE),
        ("members.csv", b"x" * 2048, ErrorCode.IMPORT_FILE_TOO_LARGE),
    ],
)
def test_files_refused(in_alpha: Workspace, monkeypatch, name: str, content: bytes, code: ErrorCode) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "MAX_FILE_BYTES", 1024)
    before = ImportJob.objects.count()
    with pytest.raises(BusinessRuleViolation) as refused:
        import_job_create(actor=None, files=[SimpleUploadedFile(name, content)], options=ImportOptions())
    assert refused.value.code == code
    assert refused.value.fields["files"]
    assert ImportJob.objects.count() == before


def test_mapping_profile_save(in_alpha: Workspace) -> None:
    profile = services.mapping_profile_save(
        actor=None, name="Old system", entity="members", columns={"MemNo": "member_no", "Notes": ""}
    )
    again = services.mapping_profile_save(
        actor=None, name="Old system", entity="members", columns={"MemberNo": "member_no"}, date_order="MDY"
    )
    assert again.pk == profile.pk and again.columns == {"MemberNo": "member_no"} and again.date_order == "MDY"
    with pytest.raises(BusinessRuleViolation) as refused:
        services.mapping_profile_save(actor=None, name="x", entity="members", columns={"A": "password"})
    assert "columns" in refused.value.fields


def test_files_that_name_no_entity_or_the_same_one_twice(in_alpha: Workspace) -> None:
    members = _thai_members_csv(("T-0001", "BR1", "สมศรี ใจดี", "", "15/01/2568"))
    job = import_job_create(
        actor=None,
        files=[
            SimpleUploadedFile("a.csv", members),
            SimpleUploadedFile("b.csv", members),
            SimpleUploadedFile("notes.csv", b"colour,flavour\r\nred,sweet\r\n"),
        ],
        options=ImportOptions(country="TH", buddhist_era=True),
    )
    job = import_dry_run(job_id=job.pk)
    assert job.status == JobStatus.VALIDATED
    file_issues = {(issue.code, issue.message) for issue in ImportIssue.objects.filter(job=job, row=None)}
    assert ("entity_twice", "b.csv and a.csv both hold Members; import one of them.") in file_issues
    assert ("entity_unknown", "notes.csv: its header row names no template's columns.") in file_issues
    assert job.entity_counts["members"]["rows"] == 1  # the first file only
    assert [file.entities for file in job.files.all()] == [["members"], ["members"], []]


def test_a_saved_profile_reads_another_systems_export(in_alpha: Workspace) -> None:
    profile = services.mapping_profile_save(
        actor=None,
        name="Old desktop system",
        entity="members",
        columns={
            "MemNo": "member_no",
            "Br": "branch_code",
            "Name": "full_name",
            "Joined": "join_date",
            "Remarks": "",
        },
        delimiter=";",
        date_order="MDY",
    )
    export = (
        "MemNo;Br;Name;Joined;Remarks\r\n"
        "P-1;BR1;Rahima Begum;12/31/2024;ok\r\n"
        "P-2;BR1;Karim Ali;01/13/2025;\r\n"
    )
    job = _job(export.encode(), name="export.csv", profiles={"members": profile.pk})
    assert job.settings["profiles"]["members"]["columns"]["MemNo"] == "member_no"
    job = import_dry_run(job_id=job.pk)
    assert job.files.get().entities == ["members"]
    assert job.entity_counts["members"]["valid"] == 2, list(ImportIssue.objects.filter(job=job).values())
    # Dates read month first; "Remarks" is skipped on purpose (no unknown-column warning).
    assert set(ImportIssue.objects.filter(job=job).values_list("code", flat=True)) == {"phone_missing"}
    assert job.errors == 0
    # The same file without the profile: its columns are not the template's, and days come first.
    again = import_dry_run(job_id=_job(export.encode(), name="export.csv").pk)
    assert again.errors > 0
    assert again.entity_counts.get("members", {}).get("valid", 0) < 2


def test_a_profile_names_the_sheet_of_a_workbook_its_records_are_read_from(in_alpha: Workspace) -> None:
    from openpyxl import Workbook

    profile = services.mapping_profile_save(
        actor=None,
        name="Desktop ledger",
        entity="members",
        columns={"MemNo": "member_no", "Br": "branch_code", "Name": "full_name", "Joined": "join_date"},
        sheet="Customer list",
    )
    book = Workbook()
    cover = book.active
    cover.title = "Cover"
    cover.append(["Printed by the old program", "2025-12-31"])
    customers = book.create_sheet("CUSTOMER  LIST")  # the workbook's own spelling
    customers.append(["MemNo", "Br", "Name", "Joined"])
    customers.append(["Q-1", "BR1", "Rahima Begum", "31/12/2024"])
    customers.append(["Q-2", "BR1", "Karim Ali", "13/01/2025"])
    out = io.BytesIO()
    book.save(out)

    job = import_dry_run(job_id=_job(out.getvalue(), profiles={"members": profile.pk}).pk)

    assert job.settings["profiles"]["members"]["sheet"] == "Customer list"
    assert job.files.get().entities == ["members"]
    assert job.entity_counts["members"]["valid"] == 2, list(ImportIssue.objects.filter(job=job).values())
    # Without the profile no sheet is named after anything that can be imported.
    again = import_dry_run(job_id=_job(out.getvalue()).pk)
    assert "sheets_unknown" in set(ImportIssue.objects.filter(job=again).values_list("code", flat=True))


def test_a_profile_of_another_entity_is_refused(in_alpha: Workspace) -> None:
    profile = services.mapping_profile_save(
        actor=None, name="Loans", entity="loans", columns={"No": "loan_no"}
    )
    with pytest.raises(BusinessRuleViolation) as refused:
        _job(b"a,b\r\n", name="x.csv", profiles={"members": profile.pk})
    assert "profiles" in refused.value.fields


def test_a_job_left_validating_by_a_dead_worker_is_taken_up_again(in_alpha: Workspace) -> None:
    from django.utils import timezone

    data, _summary = _sample(members=20)
    fresh, stale = _job(data), _job(data)
    now = timezone.now()
    ImportJob.objects.filter(pk=fresh.pk).update(status=JobStatus.VALIDATING, progress_at=now)
    ImportJob.objects.filter(pk=stale.pk).update(
        status=JobStatus.VALIDATING, progress_at=now - dt.timedelta(seconds=services.STALE_AFTER_SECONDS + 1)
    )
    assert import_dry_run(job_id=fresh.pk).status == JobStatus.VALIDATING  # another worker has it
    assert import_dry_run(job_id=stale.pk).status == JobStatus.VALIDATED
