"""The commit of a checked import and its rollback, against the real database: what lands (members,
accounts, loans with their schedules, opening entries that balance, to the minor unit), what a second
import of the same file does (nothing), what is refused (errors, unaccepted warnings, an unreconciled
trial balance, money changed after import), and the rollback until the cooperative goes live."""

from __future__ import annotations

import datetime as dt
import io
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from openpyxl import load_workbook

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import JournalEntry, JournalLine
from core_banking.ledger.services import ledger_verify
from core_banking.lending.close_of_business import close_of_business_run
from core_banking.lending.models import Loan, LoanInstallment, LoanProduct, LoanTransaction
from core_banking.members.models import Member, Nominee
from core_banking.organisation.models import Branch
from core_banking.savings.interest_posting import (
    savings_deposit_close_early,
    savings_deposit_close_early_preview,
    savings_interest_post,
)
from core_banking.savings.models import (
    InterestPosting,
    InterestPostingKind,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
)
from core_banking.savings.selectors import interest_accrued_minor
from core_banking.savings.services import savings_deposit
from core_banking.shares.models import ShareAccount, ShareTransaction
from imports import commit
from imports.engine.sample import SampleSummary, write_sample
from imports.models import CutOver, DryRunResult, ImportedRecord, ImportJob, JobStatus
from imports.sample_setup import sample_products_ensure
from imports.services import ImportOptions, import_dry_run, import_job_create
from tests.conftest import ALPHA, Workspace
from tests.core_banking.savings.page_helpers import client_for

pytestmark = pytest.mark.django_db

CUT_OVER = dt.date(2025, 12, 31)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def products(in_alpha: Workspace) -> None:
    sample_products_ensure()


def _sample(members: int = 60, **options: Any) -> tuple[bytes, SampleSummary]:
    out = io.BytesIO()
    summary = write_sample(out, members=members, country="BD", **options)
    return out.getvalue(), summary


def _checked(content: bytes, name: str = "legacy.xlsx") -> ImportJob:
    job = import_job_create(
        actor=None,
        files=[SimpleUploadedFile(name, content)],
        options=ImportOptions(cut_over=CUT_OVER),
    )
    return import_dry_run(job_id=job.pk)


def _admin() -> Any:
    return get_user_model().objects.get(username="alpha-admin")


def _imported(job: ImportJob, *, accept_warnings: bool = True) -> ImportJob:
    commit.import_commit_request(actor=_admin(), job_id=job.pk, accept_warnings=accept_warnings)
    return commit.import_commit(job_id=job.pk)


def _balance(code_prefix: str) -> int:
    """Debits minus credits of the accounts whose code starts so, over the whole journal."""
    sums = JournalLine.objects.filter(account__code__startswith=code_prefix).aggregate(
        d=Sum("debit_minor"), c=Sum("credit_minor")
    )
    return int(sums["d"] or 0) - int(sums["c"] or 0)


def _journal_balanced() -> bool:
    sums = JournalLine.objects.aggregate(d=Sum("debit_minor"), c=Sum("credit_minor"))
    return sums["d"] == sums["c"]


def test_commit_brings_everything_in_with_opening_balances_to_the_minor_unit(
    products: None, django_capture_on_commit_callbacks: Any
) -> None:
    data, summary = _sample()
    members_before = Member.objects.count()
    savings_before, loans_before, shares_before = _balance("2100-"), _balance("1300"), _balance("3100")
    job = _checked(data)
    assert job.status == JobStatus.VALIDATED and job.result != DryRunResult.ERRORS, job.failure
    assert not job.has_differences

    with django_capture_on_commit_callbacks(execute=True):
        job = _imported(job)

    assert job.status == JobStatus.COMMITTED, job.commit_failure
    assert job.warnings_accepted_by == _admin() or job.result == DryRunResult.CLEAN
    assert job.commit_counts["members"]["created"] == summary.members
    assert Member.objects.count() == members_before + summary.members
    # Savings: every account with its balance, each control account credited by exactly its products' sum.
    imported_savings = SavingsAccount.objects.filter(
        pk__in=ImportedRecord.objects.filter(job=job, entity="savings_accounts").values("object_id")
    )
    assert imported_savings.count() == summary.savings_accounts
    assert imported_savings.aggregate(total=Sum("balance_minor"))["total"] == summary.savings_total
    assert -(_balance("2100-") - savings_before) == summary.savings_total
    assert -_balance("2200") >= summary.savings_interest_total
    # Every non-zero balance has its opening transaction on the cut-over date, tied to an opening entry.
    openings = SavingsTransaction.objects.filter(account__in=imported_savings, kind="opening")
    assert openings.count() == imported_savings.exclude(balance_minor=0).count()
    assert {t.value_date for t in openings} == {CUT_OVER}
    assert set(openings.values_list("entry_id", flat=True)) <= set(job.opening_entry_ids)
    # Loans: outstanding principal, schedules whose unpaid principal is exactly that, receivable debited.
    loans = Loan.objects.filter(
        pk__in=ImportedRecord.objects.filter(job=job, entity="loans").values("object_id")
    )
    assert loans.count() == summary.loans
    assert (
        loans.aggregate(total=Sum("principal_outstanding_minor"))["total"] == summary.loans_outstanding_total
    )
    assert _balance("1300") - loans_before == summary.loans_outstanding_total
    for loan in loans[:10]:
        rows = LoanInstallment.objects.filter(loan=loan)
        unpaid = sum(row.principal_minor - row.principal_paid_minor for row in rows)
        assert unpaid == loan.principal_outstanding_minor
        assert sum(row.principal_minor for row in rows) == loan.principal_minor
    # Shares.
    assert -(_balance("3100") - shares_before) == summary.shares_total
    assert (
        ShareTransaction.objects.filter(kind="opening").aggregate(t=Sum("amount_minor"))["t"]
        == summary.shares_total
    )
    # The opening entries: on the cut-over date, one per branch, balanced, the chain intact.
    entries = JournalEntry.objects.filter(pk__in=job.opening_entry_ids)
    assert entries.count() == len(job.opening_entry_ids) >= 1
    assert {entry.value_date for entry in entries} == {CUT_OVER}
    assert _journal_balanced()
    assert ledger_verify().first_broken_entry_id is None
    assert CutOver.objects.get().date == CUT_OVER
    # New members continue the branch's numbering after the highest imported one.
    assert AuditEvent.objects.filter(object_id=str(job.pk), action="import.commit").count() == 1
    # Invited staff get a link to choose a password; no password came from the file.
    invited = get_user_model().objects.filter(
        pk__in=ImportedRecord.objects.filter(job=job, entity="staff").values("object_id")
    )
    assert invited.exists()
    assert {message.to[0] for message in mail.outbox} == {user.email for user in invited}
    assert all("/accounts/reset/" in message.body for message in mail.outbox)


def test_the_same_file_again_makes_nothing_new(products: None) -> None:
    data, summary = _sample(members=30)
    first = _imported(_checked(data))
    assert first.status == JobStatus.COMMITTED, first.commit_failure
    members, entries, lines = (
        Member.objects.count(),
        JournalEntry.objects.count(),
        JournalLine.objects.count(),
    )

    again = _checked(data)
    assert again.entity_counts["members"]["matching"] == summary.members
    assert again.entity_counts["members"]["new"] == 0
    again = _imported(again)

    assert again.status == JobStatus.COMMITTED, again.commit_failure
    assert again.commit_counts["members"] == {"created": 0, "updated": 0, "unchanged": summary.members}
    assert again.opening_entry_ids == []
    assert (Member.objects.count(), JournalEntry.objects.count(), JournalLine.objects.count()) == (
        members,
        entries,
        lines,
    )


def _edited(data: bytes, sheet: str, row: int, column: str, value: Any) -> bytes:
    book = load_workbook(io.BytesIO(data))
    cells = book[sheet]
    headers = [cell.value for cell in cells[1]]
    cells.cell(row=row, column=headers.index(column) + 1).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_corrected_file_updates_member_data(products: None) -> None:
    data, _summary = _sample(members=30)
    _imported(_checked(data))
    member_no = load_workbook(io.BytesIO(data))["members"].cell(row=2, column=1).value
    renamed = _edited(data, "members", 2, "Full name", "Corrected Name")

    job = _imported(_checked(renamed))

    assert job.status == JobStatus.COMMITTED, job.commit_failure
    assert job.commit_counts["members"]["updated"] == 1
    assert Member.objects.get(number=member_no).full_name == "Corrected Name"
    assert "corrected name" in Member.objects.get(number=member_no).search_text


def _with_balance(data: bytes, row: int, balance_minor: int) -> bytes:
    """The workbook with one savings balance changed, and cash changed with it (still reconciled)."""
    book = load_workbook(io.BytesIO(data))
    accounts = book["savings_accounts"]
    headers = [cell.value for cell in accounts[1]]
    cell = accounts.cell(row=row, column=headers.index("Balance") + 1)
    before = int((Decimal(str(cell.value)) * 100).to_integral_value())
    cell.value = float(Decimal(balance_minor).scaleb(-2))
    difference = balance_minor - before
    trial = book["trial_balance"]
    headers = [c.value for c in trial[1]]
    debit, credit, control = (headers.index(name) for name in ("Debit", "Credit", "Control account of"))
    for line in trial.iter_rows(min_row=2):
        if line[control].value == "savings":
            total = int(Decimal(str(line[credit].value).replace(",", "")) * 100) + difference
            line[credit].value = f"{Decimal(total).scaleb(-2):f}"
        elif line[control].value == "cash":
            total = int(Decimal(str(line[debit].value).replace(",", "")) * 100) + difference
            line[debit].value = f"{Decimal(total).scaleb(-2):f}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_corrected_file_replaces_an_unused_import_and_its_money(products: None) -> None:
    data, summary = _sample(members=30)
    first = _imported(_checked(data))
    number = load_workbook(io.BytesIO(data))["savings_accounts"].cell(row=2, column=1).value
    corrected = _with_balance(data, 2, 12_345_67)

    job = _checked(corrected)
    assert job.result == DryRunResult.WARNINGS, list(job.issues.values_list("code", "message")[:5])
    notice = job.issues.get(code="replaces_import")
    assert f"#{first.pk}" in notice.message
    assert job.settings["replaces"] == first.pk
    assert job.entity_counts["savings_accounts"]["new"] == summary.savings_accounts

    job = _imported(job)

    assert job.status == JobStatus.COMMITTED, job.commit_failure
    first.refresh_from_db()
    assert first.status == JobStatus.ROLLED_BACK and f"#{job.pk}" in first.rollback_reason
    assert SavingsAccount.objects.get(number=number).balance_minor == 12_345_67
    assert SavingsAccount.objects.filter(number=number).count() == 1
    assert -_balance("2100-") == SavingsAccount.objects.aggregate(total=Sum("balance_minor"))["total"]
    assert _journal_balanced() and ledger_verify().first_broken_entry_id is None
    assert CutOver.objects.get().date == CUT_OVER


def test_a_corrected_file_is_refused_once_the_import_is_used(products: None) -> None:
    data, _summary = _sample(members=30)
    first = _imported(_checked(data))
    account = SavingsAccount.objects.get(
        number=load_workbook(io.BytesIO(data))["savings_accounts"].cell(row=3, column=1).value
    )
    savings_deposit(
        actor=None,
        account_id=account.pk,
        amount_minor=50_00,
        value_date=dt.date(2026, 1, 5),
        idempotency_key="used-1",
    )

    refused = _checked(_with_balance(data, 2, 12_345_67))

    assert refused.result == DryRunResult.ERRORS
    differing = refused.issues.filter(code="imported_amounts_differ")
    assert {issue.entity for issue in differing} == {"savings_accounts", "trial_balance"}  # the balance, cash
    assert all(f"#{first.pk}" in issue.message for issue in differing)
    assert "replaces" not in refused.settings


def test_errors_unaccepted_warnings_and_unreconciled_totals_are_refused(products: None) -> None:
    with_errors = _checked(_sample(members=40, bad_rows=3)[0])
    with pytest.raises(BusinessRuleViolation) as raised:
        commit.import_commit_request(actor=_admin(), job_id=with_errors.pk, accept_warnings=True)
    assert raised.value.code == ErrorCode.IMPORT_NOT_CLEAN

    data, summary = _sample(members=40)
    book = load_workbook(io.BytesIO(data))
    sheet = book["trial_balance"]
    headers = [cell.value for cell in sheet[1]]
    credit, control = headers.index("Credit"), headers.index("Control account of")
    debit = headers.index("Debit")
    for row in sheet.iter_rows(min_row=2):
        if row[control].value == "shares":
            row[credit].value = f"{Decimal(summary.shares_total + 10_00).scaleb(-2):f}"
        elif row[control].value == "cash":
            cash = int(Decimal(str(row[debit].value).replace(",", "")) * 100)
            row[debit].value = f"{Decimal(cash + 10_00).scaleb(-2):f}"
    out = io.BytesIO()
    book.save(out)
    unreconciled = _checked(out.getvalue())
    assert unreconciled.has_differences
    with pytest.raises(BusinessRuleViolation) as raised:
        commit.import_commit_request(actor=_admin(), job_id=unreconciled.pk, accept_warnings=True)
    assert raised.value.code == ErrorCode.IMPORT_UNRECONCILED
    assert "shares: -1000" in raised.value.message

    clean = _checked(data)
    if clean.result == DryRunResult.WARNINGS:
        with pytest.raises(BusinessRuleViolation) as raised:
            commit.import_commit_request(actor=_admin(), job_id=clean.pk, accept_warnings=False)
        assert raised.value.code == ErrorCode.IMPORT_WARNINGS_NOT_ACCEPTED
    commit.import_commit_request(actor=_admin(), job_id=clean.pk, accept_warnings=True)
    clean.refresh_from_db()
    assert clean.status == JobStatus.COMMITTING
    if clean.result == DryRunResult.WARNINGS:
        assert clean.warnings_accepted_by == _admin() and clean.warnings_accepted_at is not None
    assert Member.objects.filter(number__startswith="M").count() == 0  # nothing until the worker runs


def test_a_failure_half_way_leaves_nothing(products: None) -> None:
    data, _summary = _sample(members=30)
    # Loans are written after members, savings and shares: a product setting the schedule engine
    # does not know makes the first loan fail, after much has been written in the transaction.
    job = _checked(data)
    LoanProduct.objects.filter(code="GEN").update(days_in_month="31")  # not a value the engine knows
    members, entries = Member.objects.count(), JournalEntry.objects.count()

    job = _imported(job)

    assert job.status == JobStatus.VALIDATED
    assert "schedule cannot be made" in job.commit_failure, job.commit_failure
    assert Member.objects.count() == members and JournalEntry.objects.count() == entries
    assert not ImportedRecord.objects.filter(job=job).exists()
    assert not CutOver.objects.exists()
    assert AuditEvent.objects.filter(object_id=str(job.pk), action="import.commit_failed").exists()


def test_rollback_reverses_the_openings_and_removes_what_was_made(products: None) -> None:
    data, summary = _sample(members=30)
    members, accounts = Member.objects.count(), SavingsAccount.objects.count()
    job = _imported(_checked(data))
    entries = list(job.opening_entry_ids)

    job = commit.import_rollback(actor=_admin(), job_id=job.pk, reason="wrong cut-over date")

    assert job.status == JobStatus.ROLLED_BACK and job.rollback_reason == "wrong cut-over date"
    assert Member.objects.count() == members and SavingsAccount.objects.count() == accounts
    assert not ShareAccount.objects.filter(transactions__channel="import").exists()
    assert not InterestPosting.objects.filter(kind=InterestPostingKind.OPENING).exists()
    assert not ImportedRecord.objects.filter(job=job).exists()
    assert not CutOver.objects.exists()
    # The ledger keeps the openings and their reversals: every control account is back to where it was.
    reversals = JournalEntry.objects.filter(reverses_id__in=entries)
    assert reversals.count() == len(entries)
    assert _balance("2100-") == 0 and _balance("3100") == 0 and _balance("2200") == 0
    assert _journal_balanced() and ledger_verify().first_broken_entry_id is None

    # The corrected file can now be imported afresh.
    again = _imported(_checked(data))
    assert again.status == JobStatus.COMMITTED, again.commit_failure
    assert again.commit_counts["members"]["created"] == summary.members


def test_rollback_is_refused_once_records_are_used_or_the_cooperative_is_live(products: None) -> None:
    job = _imported(_checked(_sample(members=30)[0]))
    account = SavingsAccount.objects.filter(
        pk__in=ImportedRecord.objects.filter(job=job, entity="savings_accounts").values("object_id")
    ).first()
    assert account is not None
    savings_deposit(
        actor=None,
        account_id=account.pk,
        amount_minor=100_00,
        value_date=dt.date(2026, 1, 5),
        idempotency_key="after-import-1",
    )
    with pytest.raises(BusinessRuleViolation) as raised:
        commit.import_rollback(actor=_admin(), job_id=job.pk, reason="changed our mind")
    assert raised.value.code == ErrorCode.IMPORT_NOT_REVERSIBLE
    assert account.number in raised.value.message

    commit.workspace_go_live(actor=_admin())
    assert CutOver.objects.get().live_by == _admin()
    with pytest.raises(BusinessRuleViolation) as raised:
        commit.import_rollback(actor=_admin(), job_id=job.pk, reason="changed our mind")
    assert raised.value.code == ErrorCode.IMPORT_NOT_REVERSIBLE and "live" in raised.value.message
    with pytest.raises(BusinessRuleViolation) as raised:
        commit.workspace_go_live(actor=_admin())
    assert raised.value.code == ErrorCode.WORKSPACE_ALREADY_LIVE


def test_share_rows_of_an_import_stay_append_only_outside_a_rollback(products: None) -> None:
    _imported(_checked(_sample(members=10)[0]))
    row = ShareTransaction.objects.filter(channel="import").first()
    assert row is not None
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM shares_sharetransaction WHERE id = %s", [row.pk])
    assert LoanTransaction.objects.filter(kind="opening").exists()


def test_another_cut_over_date_is_refused_while_an_import_stands(products: None) -> None:
    data, _summary = _sample(members=10)
    _imported(_checked(data))
    job = import_job_create(
        actor=None,
        files=[SimpleUploadedFile("later.xlsx", data)],
        options=ImportOptions(cut_over=dt.date(2026, 1, 31)),
    )
    job = import_dry_run(job_id=job.pk)
    with pytest.raises(BusinessRuleViolation) as raised:
        commit.import_commit_request(actor=_admin(), job_id=job.pk, accept_warnings=True)
    assert raised.value.code == ErrorCode.IMPORT_CUT_OVER_MISMATCH
    assert Branch.objects.exists() and Nominee.objects.exists()


def _picture(fmt: str = "JPEG", colour: str = "teal") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, fmt)
    return out.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def _checked_files(*files: tuple[str, bytes]) -> ImportJob:
    job = import_job_create(
        actor=None,
        files=[SimpleUploadedFile(name, content) for name, content in files],
        options=ImportOptions(cut_over=CUT_OVER),
    )
    return import_dry_run(job_id=job.pk)


def test_photos_from_a_zip_are_checked_then_stored_as_the_members_documents(products: None) -> None:
    from core_banking.members.models import MemberDocument

    data, _summary = _sample(members=10)
    sheet = load_workbook(io.BytesIO(data))["members"]
    first, second = (sheet.cell(row=row, column=1).value for row in (2, 3))

    bad = _checked_files(
        ("legacy.xlsx", data),
        ("photos.zip", _zip({f"{first}.jpg": _picture(), "M9999999.jpg": _picture(), "notes.txt": b"hello"})),
    )
    assert bad.entity_counts["photos"]["rows"] == 3 and bad.entity_counts["photos"]["valid"] == 1
    codes = dict(bad.issues.filter(entity="photos").values_list("column", "code"))
    assert codes == {"M9999999.jpg": "reference_unknown", "notes.txt": "picture_type"}

    pictures = {
        f"{first}.jpg": _picture(),
        f"{first}-id.png": _picture("PNG", "navy"),
        f"id_back/{second}.jpg": _picture(colour="olive"),
    }
    job = _imported(_checked_files(("legacy.xlsx", data), ("photos.zip", _zip(pictures))))
    assert job.status == JobStatus.COMMITTED, job.commit_failure
    assert job.commit_counts["photos"]["created"] == 3
    documents = MemberDocument.objects.filter(member__number__in=[first, second], is_current=True)
    assert sorted(documents.values_list("member__number", "kind")) == sorted(
        [(first, "photo"), (first, "id_front"), (second, "id_back")]
    )
    from django.core.files.storage import default_storage

    for document in documents:
        assert document.storage_path.startswith("workspaces/coop_alpha/members/")
        assert default_storage.exists(document.storage_path) and default_storage.exists(
            document.thumbnail_path
        )

    # The same zip again: nothing new. A changed picture becomes the member's current photo.
    again = _imported(_checked_files(("legacy.xlsx", data), ("photos.zip", _zip(pictures))))
    assert again.commit_counts["photos"] == {"created": 0, "updated": 0, "unchanged": 3}
    pictures[f"{first}.jpg"] = _picture(colour="maroon")
    changed = _imported(_checked_files(("legacy.xlsx", data), ("photos.zip", _zip(pictures))))
    assert changed.commit_counts["photos"]["updated"] == 1
    assert MemberDocument.objects.filter(member__number=first, kind="photo").count() == 2
    assert MemberDocument.objects.filter(member__number=first, kind="photo", is_current=True).count() == 1

    stored = list(documents.values_list("storage_path", flat=True))
    commit.import_rollback(actor=_admin(), job_id=job.pk, reason="photos of the wrong samity")
    assert not MemberDocument.objects.filter(member__number__in=[first, second]).exists()
    assert not Member.objects.filter(number=first).exists()
    assert stored  # the files go once the rollback commits (the test's transaction never does)


def test_the_commit_takes_the_dry_run_s_records_or_reads_the_files_again(products: None) -> None:
    from django.core.files.storage import default_storage

    from imports import services

    data, summary = _sample(members=20)
    kept = _checked(data)
    assert kept.records_path.startswith("workspaces/coop_alpha/imports/")
    records = services.saved_records(kept)
    assert records is not None and len(records["members"]) == summary.members
    member = records["members"][0].values
    assert isinstance(member["join_date"], dt.date)  # typed again, as the engine made them

    first = _imported(kept)
    assert first.commit_counts["members"]["created"] == summary.members
    commit.import_rollback(actor=_admin(), job_id=first.pk, reason="try again without the kept records")

    again = _checked(data)
    default_storage.delete(again.records_path)  # lost: the files are read and checked again
    assert services.saved_records(again) is None
    again = _imported(again)
    assert again.status == JobStatus.COMMITTED, again.commit_failure
    assert again.commit_counts == first.commit_counts


def _imported_accounts(job: ImportJob, product_code: str) -> Any:
    return SavingsAccount.objects.filter(
        pk__in=ImportedRecord.objects.filter(job=job, entity="savings_accounts").values("object_id"),
        product__code=product_code,
        status="active",
    ).order_by("pk")


def _lines_of(entry_id: int | None) -> dict[str, int]:
    """An entry's signed amounts (debit minus credit) per account code."""
    lines: dict[str, int] = {}
    for line in JournalLine.objects.filter(entry_id=entry_id).select_related("account"):
        lines[line.account.code] = lines.get(line.account.code, 0) + line.debit_minor - line.credit_minor
    return lines


def _daily_interest(balance_minor: int, days: int) -> int:
    """6.5 % a year, actual/365, rounded half-even to the minor unit: the sample products' terms."""
    exact = Decimal(balance_minor) * Decimal("0.065") * days / 365
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def test_interest_the_old_books_accrued_is_each_account_s_and_credited_at_the_first_posting(
    products: None,
) -> None:
    data, summary = _sample(members=60)
    job = _imported(_checked(data))
    openings = InterestPosting.objects.filter(
        kind=InterestPostingKind.OPENING,
        account__in=SavingsAccount.objects.filter(
            pk__in=ImportedRecord.objects.filter(job=job, entity="savings_accounts").values("object_id")
        ),
    )
    # Each account's accrued interest is its own row, on the cut-over date, tied to its branch's
    # opening entry; together they are exactly the interest payable the opening entries credit.
    assert openings.aggregate(t=Sum("payable_change_minor"))["t"] == summary.savings_interest_total > 0
    assert {row.period_end for row in openings} == {CUT_OVER}
    assert {row.entry_id for row in openings} <= set(job.opening_entry_ids)
    for row in openings.select_related("account", "entry")[:20]:
        assert row.entry.branch_id == row.account.branch_id
    payable = JournalLine.objects.filter(entry_id__in=job.opening_entry_ids, account__code="2200")
    assert payable.aggregate(c=Sum("credit_minor"))["c"] == summary.savings_interest_total

    # A voluntary account (monthly posting): January's interest plus what was carried in.
    account = next(a for a in _imported_accounts(job, "VOL") if interest_accrued_minor(a.pk) > 0)
    carried, balance = interest_accrued_minor(account.pk), account.balance_minor
    page = client_for(ALPHA.admin)
    assert "Interest accrued, not yet credited" in page.get(f"/savings/{account.pk}/").content.decode()
    january = _daily_interest(balance, 31)
    savings_interest_post(period_end=dt.date(2026, 1, 31))
    posting = InterestPosting.objects.get(account=account, period_end=dt.date(2026, 1, 31))
    assert (posting.interest_minor, posting.credited_minor) == (january, january + carried)
    assert posting.payable_change_minor == -carried
    assert _lines_of(posting.entry_id) == {"5100": january, "2200": carried, "2100-VOL": -(january + carried)}
    account.refresh_from_db()
    assert account.balance_minor == balance + january + carried
    assert interest_accrued_minor(account.pk) == 0
    assert "Interest accrued, not yet credited" not in page.get(f"/savings/{account.pk}/").content.decode()
    assert _journal_balanced()


def test_carried_in_interest_goes_through_accruals_to_a_quarterly_posting(products: None) -> None:
    job = _imported(_checked(_sample(members=60)[0]))
    SavingsProduct.objects.filter(code="CMP").update(posting_period="quarterly")
    account = next(a for a in _imported_accounts(job, "CMP") if interest_accrued_minor(a.pk) > 0)
    carried, balance = interest_accrued_minor(account.pk), account.balance_minor

    savings_interest_post(period_end=dt.date(2026, 1, 31))
    savings_interest_post(period_end=dt.date(2026, 2, 28))
    january, to_february = _daily_interest(balance, 31), _daily_interest(balance, 59)
    accruals = InterestPosting.objects.filter(account=account, kind="accrual").order_by("period_end")
    # Each accrual books only this workspace's interest; what was carried in stays as it was.
    assert [row.payable_change_minor for row in accruals] == [january, to_february - january]
    assert interest_accrued_minor(account.pk) == carried + to_february

    savings_interest_post(period_end=dt.date(2026, 3, 31))
    quarter = _daily_interest(balance, 90)
    posting = InterestPosting.objects.get(account=account, period_end=dt.date(2026, 3, 31))
    assert posting.credited_minor == quarter + carried
    assert _lines_of(posting.entry_id) == {
        "5100": quarter - to_february,
        "2200": carried + to_february,
        "2100-CMP": -(quarter + carried),
    }
    assert interest_accrued_minor(account.pk) == 0


def test_a_deposit_closed_early_releases_what_the_old_books_accrued(products: None) -> None:
    job = _imported(_checked(_sample(members=60)[0]))
    account = next(a for a in _imported_accounts(job, "FDR") if interest_accrued_minor(a.pk) > 0)
    carried = interest_accrued_minor(account.pk)
    on = dt.date(2026, 2, 15)
    preview = savings_deposit_close_early_preview(account_id=account.pk, on=on)

    closure = savings_deposit_close_early(account_id=account.pk, on=on, idempotency_key="fdr-early-1")

    # The term's interest (counted from the opening day) includes the old books' share: 2200 gives
    # all of it back and interest expense takes the difference, whichever way it falls.
    assert closure.interest_minor == preview.interest_minor
    assert closure.posting.payable_change_minor == -carried
    lines = _lines_of(closure.posting.entry_id)
    assert lines["2200"] == carried
    assert lines.get("5100", 0) == preview.interest_minor - carried
    assert interest_accrued_minor(account.pk) == 0
    assert _journal_balanced()


def test_interest_booked_on_an_imported_account_keeps_the_import_from_rolling_back(products: None) -> None:
    job = _imported(_checked(_sample(members=30)[0]))
    assert InterestPosting.objects.filter(kind=InterestPostingKind.OPENING).exists()
    savings_interest_post(period_end=dt.date(2026, 1, 31))

    with pytest.raises(BusinessRuleViolation) as raised:
        commit.import_rollback(actor=_admin(), job_id=job.pk, reason="too late")
    assert raised.value.code == ErrorCode.IMPORT_NOT_REVERSIBLE
    assert "interest" in raised.value.message


def test_loans_are_aged_at_the_cut_over_from_their_schedules_against_the_old_system_s_arrears(
    products: None,
) -> None:
    job = _imported(_checked(_sample(members=90)[0]))
    loans = Loan.objects.filter(
        pk__in=ImportedRecord.objects.filter(job=job, entity="loans").values("object_id"), status="active"
    )
    # Each loan's figures are its schedule's, counted independently here: what is unpaid on the
    # instalments due before the cut-over, and the days since the oldest of them.
    in_arrears, total = 0, 0
    for loan in loans:
        assert loan.arrears_as_of == CUT_OVER
        overdue, oldest = 0, None
        for row in LoanInstallment.objects.filter(loan=loan, due_date__lt=CUT_OVER).order_by("number"):
            principal = row.principal_minor - row.principal_paid_minor
            owed = principal + row.interest_minor - row.interest_paid_minor
            if owed > 0:
                overdue += owed
                oldest = oldest or row.due_date
        assert loan.overdue_minor == overdue, loan.number
        assert loan.days_past_due == ((CUT_OVER - oldest).days if oldest else 0), loan.number
        in_arrears += overdue > 0
        total += overdue
    assert in_arrears > 0
    check = job.arrears_check
    assert (check["loans"], check["total"]) == (in_arrears, total)
    # The sample's old system counts arrears its own way: the loans that differ are listed.
    assert check["loans_old"] > 0 and check["total_old"] > 0
    assert 0 < check["differing"] == len(check["examples"])
    example = check["examples"][0]
    loan = loans.get(number=example["loan"]) if example["recomputed"] else None
    assert loan is None or loan.overdue_minor == example["recomputed"]

    # The close of business of the cut-over date ages the loans as the import did.
    before = sorted(loans.values_list("pk", "overdue_minor", "days_past_due"))
    close_of_business_run(business_date=CUT_OVER)
    assert sorted(loans.values_list("pk", "overdue_minor", "days_past_due")) == before

    page = client_for(ALPHA.admin).get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="import-arrears"' in page and example["loan"] in page
