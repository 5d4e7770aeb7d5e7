"""Writes of the imports app: a job with its files, its dry run, saved mapping profiles.

The dry run reads the stored files with the engine (``imports.engine``), checks references against
the workspace's own keys (one query per kind), reconciles against the opening trial balance and
stores the result. It writes nothing of the cooperative's data. Progress is written every
``PROGRESS_EVERY`` rows in short transactions of its own, so the job's page sees it while the run
goes on; the result (counts, reconciliation, issues, report) lands in one transaction, and a run that
crashes leaves the job ``failed`` with the reason and nothing of its result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import hashlib
import io
import json
import secrets
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import structlog
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import Account
from core_banking.lending.models import Loan, LoanProduct
from core_banking.members.models import Member, MemberGroup, MemberType
from core_banking.members.services import workspace_storage_prefix
from core_banking.organisation.models import Branch
from core_banking.savings.models import SavingsAccount, SavingsProduct
from core_banking.shares.models import SETTINGS_ROW_ID, ShareAccount, ShareSettings
from core_banking.shares.services import share_settings_defaults
from imports.engine import photos, reader
from imports.engine.report import write_issues_xlsx
from imports.engine.templates import LANGUAGES, TEMPLATES
from imports.engine.text import EncodingUnknown, decode_bytes, header_key
from imports.engine.validate import ENTITY_ORDER, ERROR, WARNING, DryRun, ImportSettings, Issue, Record
from imports.engine.values import DateSettings, currency_exponent
from imports.models import (
    DryRunResult,
    FileKind,
    ImportedRecord,
    ImportFile,
    ImportIssue,
    ImportJob,
    JobStatus,
    MappingProfile,
)
from tenants.access import workspace_writable_require
from tenants.db import current_cooperative, on_commit_here, workspace_currency

logger = structlog.get_logger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_FILES = 20
ISSUES_STORED = 10_000  # per job; the report spreadsheet holds every issue
PROGRESS_EVERY = 2_000  # rows between progress writes
STALE_AFTER_SECONDS = 600  # a validating job with no progress for this long lost its worker
DATE_ORDERS = ("DMY", "MDY")
DECIMAL_SEPARATORS = ("", ".", ",")
# What starts an executable, an old Office file or a PDF: never read as CSV.
_BINARY_MAGIC = (b"MZ", b"\x7fELF", b"\xd0\xcf\x11\xe0", b"%PDF", b"PK\x03\x04", b"\xca\xfe\xba\xbe")
_SUFFIX_KIND = {".xlsx": FileKind.XLSX, ".csv": FileKind.CSV, ".zip": FileKind.ZIP}
MAX_ZIP_BYTES = 500 * 1024 * 1024  # a zip of member photos
# Pictures in a zip are a kind of record of their own, after the members they belong to.
PHOTOS = "photos"
IMPORT_ENTITIES = (*ENTITY_ORDER, PHOTOS)

ProgressCallback = Callable[[ImportJob], None]


@dataclasses.dataclass(frozen=True)
class ImportOptions:
    """How the files are read; the country defaults to the workspace's, the currency is always its."""

    date_order: str = "DMY"
    decimal_separator: str = ""  # "" lets each amount tell (one separator and three digits: grouping)
    buddhist_era: bool = False
    bijoy: bool = False  # convert Bangla names typed in Bijoy (SutonnyMJ) to Unicode
    cut_over: dt.date | None = None
    country: str = ""
    language: str = "en"  # of the messages in the report
    profiles: Mapping[str, int] = dataclasses.field(default_factory=dict)  # entity → MappingProfile id


def _invalid(field: str, message: str, code: ErrorCode = ErrorCode.VALIDATION_ERROR) -> BusinessRuleViolation:
    return BusinessRuleViolation(code, message, fields={field: [message]})


def _job_prefix(job: ImportJob) -> str:
    return f"{workspace_storage_prefix()}imports/{job.pk}/"


def _read_upload(upload: File) -> tuple[str, FileKind, bytes]:
    """The name, kind and content of one upload, or a refusal naming the file."""
    name = PurePath(str(upload.name or "")).name
    kind = _SUFFIX_KIND.get(PurePath(name).suffix.lower())
    if kind is None:
        raise _invalid(
            "files",
            _("%(name)s: only .xlsx and .csv files (and a .zip of photos) can be imported.") % {"name": name},
            ErrorCode.IMPORT_FILE_TYPE,
        )
    limit = MAX_ZIP_BYTES if kind == FileKind.ZIP else MAX_FILE_BYTES
    too_large = _invalid(
        "files",
        _("%(name)s is larger than %(limit)s MB.") % {"name": name, "limit": limit // 2**20},
        ErrorCode.IMPORT_FILE_TOO_LARGE,
    )
    if upload.size is not None and upload.size > limit:
        raise too_large
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise too_large
    if not content:
        raise _invalid("files", _("%(name)s is empty.") % {"name": name})
    if kind == FileKind.XLSX and not reader.is_xlsx(content):
        raise _invalid(
            "files",
            _("%(name)s is not an Excel workbook (.xlsx).") % {"name": name},
            ErrorCode.IMPORT_FILE_TYPE,
        )
    if kind == FileKind.ZIP and not zipfile.is_zipfile(io.BytesIO(content)):
        raise _invalid("files", _("%(name)s is not a zip file.") % {"name": name}, ErrorCode.IMPORT_FILE_TYPE)
    if kind == FileKind.CSV and content.startswith(_BINARY_MAGIC):
        raise _invalid(
            "files", _("%(name)s is not a CSV text file.") % {"name": name}, ErrorCode.IMPORT_FILE_TYPE
        )
    return name, kind, content


def _settings_of(options: ImportOptions) -> dict[str, Any]:
    cooperative = current_cooperative()
    country = (options.country or getattr(cooperative, "country", "") or "").upper()
    if options.date_order not in DATE_ORDERS:
        raise _invalid("date_order", _("Day-month-year or month-day-year."))
    if options.decimal_separator not in DECIMAL_SEPARATORS:
        raise _invalid("decimal_separator", _("A dot or a comma."))
    profiles = {}
    for entity, profile_id in options.profiles.items():
        profile = MappingProfile.objects.filter(pk=profile_id, entity=entity).first()
        if profile is None:
            raise _invalid("profiles", _("No such mapping profile for %(entity)s.") % {"entity": entity})
        # A copy: a profile edited later does not change what this import was read with.
        profiles[entity] = {
            "name": profile.name,
            "columns": profile.columns,
            "encoding": profile.encoding,
            "delimiter": profile.delimiter,
            "date_order": profile.date_order,
            "sheet": profile.sheet,
        }
    return {
        "profiles": profiles,
        "country": country,
        "currency": workspace_currency(),
        "language": options.language if options.language in LANGUAGES else "en",
        "date_order": options.date_order,
        "decimal_separator": options.decimal_separator,
        "buddhist_era": options.buddhist_era,
        "bijoy_fields": ["*"] if options.bijoy else [],
        "cut_over": options.cut_over.isoformat() if options.cut_over else None,
    }


def import_job_create(*, actor: Any, files: Sequence[File], options: ImportOptions) -> ImportJob:
    """Store the uploaded files under the workspace's own prefix and record the job (status uploaded).

    Refused: no file, more than ``MAX_FILES``, a file that is not .xlsx/.csv (by name and by content,
    ``import_file_type``), one larger than ``MAX_FILE_BYTES`` (``import_file_too_large``), or a
    read-only workspace. The caller queues the dry run once this commits (``import_dry_run_queue``).
    """
    workspace_writable_require()
    if not files:
        raise _invalid("files", _("Choose at least one file."))
    if len(files) > MAX_FILES:
        raise _invalid("files", _("At most %(count)s files in one import.") % {"count": MAX_FILES})
    settings = _settings_of(options)
    uploads = [_read_upload(upload) for upload in files]
    stored: list[str] = []
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                created_by_id=actor.pk if actor is not None and actor.is_authenticated else None,
                settings=settings,
            )
            rows = []
            for name, kind, content in uploads:
                path = default_storage.save(
                    f"{_job_prefix(job)}{secrets.token_hex(16)}.{kind}", ContentFile(content)
                )
                stored.append(path)
                rows.append(
                    ImportFile(
                        job=job,
                        original_name=name[:255],
                        kind=kind,
                        size_bytes=len(content),
                        sha256=hashlib.sha256(content).hexdigest(),
                        storage_path=path,
                    )
                )
            ImportFile.objects.bulk_create(rows)
            audit_record(
                actor=actor,
                action="import.create",
                target=job,
                changes={
                    "files": [
                        {"name": row.original_name, "size": row.size_bytes, "sha256": row.sha256}
                        for row in rows
                    ],
                    "settings": settings,
                },
            )
    except Exception:
        for path in stored:
            default_storage.delete(path)
        raise
    return job


def import_dry_run_queue(job: ImportJob) -> None:
    """Queue the dry run once the caller's transaction commits; it runs in this workspace only."""
    from imports.tasks import import_dry_run_task

    job_id = job.pk
    on_commit_here(lambda: import_dry_run_task.delay(job_id))


# --- The dry run ---------------------------------------------------------------------------------


def _existing_keys() -> tuple[dict[str, set[str]], dict[str, dict[str, str]]]:
    """The workspace's own keys, one query per kind: the sets references resolve against, and the
    pairs that tell a matching record from a conflicting one."""
    user_model = get_user_model()
    members = dict(Member.objects.values_list("number", "national_id"))
    users = dict(user_model.objects.values_list("username", "email"))
    existing = {
        "branch": set(Branch.objects.values_list("code", flat=True)),
        "group": set(MemberGroup.objects.values_list("code", flat=True)),
        "member": set(members),
        "member_type": set(MemberType.objects.values_list("code", flat=True)),
        "staff": set(users),
        "savings_product": set(SavingsProduct.objects.values_list("code", flat=True)),
        "loan_product": set(LoanProduct.objects.values_list("code", flat=True)),
        "savings_account": set(SavingsAccount.objects.values_list("number", flat=True)),
        "loan": set(Loan.objects.values_list("number", flat=True)),
        "shareholder": set(
            ShareAccount.objects.filter(shares__gt=0).values_list("member__number", flat=True)
        ),
        "account": set(Account.objects.values_list("code", flat=True)),
    }
    pairs = {
        "member_national_id": {number: national_id for number, national_id in members.items() if national_id},
        "national_id_member": {national_id: number for number, national_id in members.items() if national_id},
        "staff_email": {username: email.lower() for username, email in users.items() if email},
        "email_staff": {email.lower(): username for username, email in users.items() if email},
    }
    return existing, pairs


def imported_records() -> dict[tuple[str, str], tuple[str, int]]:
    """What earlier imports made and still hold: (entity, key) → (content hash, job id)."""
    return {
        (entity, key): (content_hash, job_id)
        for entity, key, content_hash, job_id in ImportedRecord.objects.values_list(
            "entity", "key", "content_hash", "job_id"
        ).iterator(chunk_size=20_000)
    }


def share_nominal_value_minor() -> int:
    """The value of one share, as set, or as a first share purchase would set it."""
    row = ShareSettings.objects.filter(pk=SETTINGS_ROW_ID).first()
    return (row or share_settings_defaults(workspace_currency())).nominal_value_minor


# How a record names itself across imports (the key of ``ImportedRecord``), by entity.
RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "branches": ("branch_code",),
    "staff": ("username",),
    "groups": ("group_code",),
    "members": ("member_no",),
    "nominees": ("member_no", "name", "relationship"),
    "shares": ("member_no",),
    "savings_accounts": ("account_no",),
    "loans": ("loan_no",),
    "trial_balance": ("account_code", "branch_code"),
    "photos": ("member_no", "kind"),
}
# Records that carry money: once imported, a changed one is not updated in place (the opening
# entries are posted; the import is rolled back and made again, or the correction forms used).
MONEY_ENTITIES = frozenset({"shares", "savings_accounts", "loans", "trial_balance"})
# Trial balance rows whose amount is posted from the records they control, not from the row.
RECORD_CONTROLS = frozenset({"savings", "savings_interest", "loans", "shares"})
# Which workspace keys a record of the entity may already exist under.
_WORKSPACE_KEYS = {
    "branches": ("branch_code", "branch"),
    "groups": ("group_code", "group"),
    "staff": ("username", "staff"),
    "members": ("member_no", "member"),
    "shares": ("member_no", "shareholder"),
    "savings_accounts": ("account_no", "savings_account"),
    "loans": ("loan_no", "loan"),
}
# Made by hand in the workspace (its head office, its staff): an import uses them as they are.
SHARED_ENTITIES = frozenset({"branches", "groups", "staff"})
# References the engine checks against the workspace (the kinds ``DryRun.check_references`` knows).
_REFERENCE_KINDS = ("branch", "group", "member", "member_type", "staff", "savings_product", "loan_product")
# The kind of an account the trial balance brings that the chart does not have, by its first digit.
ACCOUNT_KIND_BY_DIGIT = {"1": "asset", "2": "liability", "3": "equity", "4": "income", "5": "expense"}


def record_key(entity: str, values: Mapping[str, Any]) -> str | None:
    fields = RECORD_KEYS.get(entity)
    if fields is None:
        return None
    key = "|".join(str(values.get(field) or "") for field in fields)
    return key.upper() if entity == "groups" else key


def record_hash(values: Mapping[str, Any]) -> str:
    """A record's content, for telling an unchanged record from a changed one in a later import."""
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


Clash = tuple[str | None, str, str, dict[str, Any]]  # field, code, message, parameters


class _Classifier:
    """New, matching (already there, as it is), changed (to be updated) or conflicting, per record."""

    def __init__(
        self,
        existing: Mapping[str, set[str]],
        pairs: Mapping[str, Mapping[str, str]],
        imported: Mapping[tuple[str, str], tuple[str, int]],
        nominal_value_minor: int,
    ) -> None:
        self.existing = existing
        self.pairs = pairs
        self.imported = imported  # (entity, key) → (content hash, job id)
        self.nominal_value_minor = nominal_value_minor
        self.differing_jobs: set[int] = set()  # earlier imports whose money this file changes

    def _identity_clash(self, entity: str, values: Mapping[str, Any]) -> Clash | None:
        if entity == "members":
            number, national_id = values["member_no"], values.get("national_id")
            if national_id:
                held_by = self.pairs["national_id_member"].get(national_id)
                if held_by is not None and held_by != number:
                    return (
                        "national_id",
                        "conflicts_with_workspace",
                        gettext_noop("National ID %(value)s belongs to member %(other)s in this workspace."),
                        {"value": national_id, "other": held_by},
                    )
                known = self.pairs["member_national_id"].get(number)
                if known is not None and known != national_id:
                    return (
                        "national_id",
                        "conflicts_with_workspace",
                        gettext_noop("Member %(value)s is in this workspace with another national ID."),
                        {"value": number},
                    )
        elif entity == "staff":
            username, email = values["username"], (values.get("email") or "").lower()
            if email:
                held_by = self.pairs["email_staff"].get(email)
                if held_by is not None and held_by != username:
                    return (
                        "email",
                        "conflicts_with_workspace",
                        gettext_noop("E-mail %(value)s belongs to user %(other)s in this workspace."),
                        {"value": email, "other": held_by},
                    )
        elif entity == "shares" and "share_count" not in values:
            nominal = self.nominal_value_minor
            if nominal and values["share_balance"] % nominal:
                return (
                    "share_count",
                    "share_count_needed",
                    gettext_noop(
                        "The balance is not a whole number of shares at this workspace's share value; "
                        "give the number of shares."
                    ),
                    {},
                )
        elif entity == "trial_balance" and values.get("control_of") in (None, ""):
            code = values["account_code"]
            if code not in self.existing["account"] and code[:1] not in ACCOUNT_KIND_BY_DIGIT:
                return (
                    "account_code",
                    "account_kind_unknown",
                    gettext_noop(
                        "Account %(value)s is not in the chart of accounts and its code does not say "
                        "its kind; add it to the chart first."
                    ),
                    {"value": code},
                )
        return None

    def classify(self, entity: str, values: Mapping[str, Any]) -> tuple[str, Clash | None]:
        clash = self._identity_clash(entity, values)
        if clash is not None:
            return "conflicting", clash
        key = record_key(entity, values)
        if key is None:
            return "new", None
        imported = self.imported.get((entity, key))
        if imported is not None:
            return self._against_import(entity, key, values, *imported)
        return self._against_workspace(entity, values)

    def _against_workspace(self, entity: str, values: Mapping[str, Any]) -> tuple[str, Clash | None]:
        """A record no import made: new, or one the workspace has (used as it is, or a clash)."""
        workspace = _WORKSPACE_KEYS.get(entity)
        if workspace is None:
            return "new", None
        field, kind = workspace
        value = values.get(field)
        value = value.upper() if entity == "groups" and isinstance(value, str) else value
        if value not in self.existing[kind]:
            return "new", None
        if entity in SHARED_ENTITIES:
            return "matching", None
        return "conflicting", (
            field,
            "exists_not_imported",
            gettext_noop("%(value)s is already in this workspace (not from an import)."),
            {"value": value},
        )

    def _against_import(
        self, entity: str, key: str, values: Mapping[str, Any], content_hash: str, job_id: int
    ) -> tuple[str, Clash | None]:
        """A record an earlier import made: the same, changed (updated), or changed money (refused)."""
        if content_hash == record_hash(values):
            return "matching", None
        if entity == "trial_balance" and values.get("control_of") in RECORD_CONTROLS:
            return "matching", None  # posted from the records it controls, not from the row
        if entity not in MONEY_ENTITIES:
            return "changed", None
        self.differing_jobs.add(job_id)
        return "conflicting", (
            None,
            "imported_amounts_differ",
            gettext_noop(
                "%(value)s was imported by import #%(job)s with other values; roll that import "
                "back to bring in the corrected file, or use the correction forms."
            ),
            {"value": key.replace("|", " "), "job": job_id},
        )


@dataclasses.dataclass
class _Progress:
    job_id: int
    total: int
    every: int
    on_progress: ProgressCallback | None
    done: int = 0
    errors: int = 0
    _counted: int = 0

    def count_errors(self, issues: list[Issue]) -> None:
        for issue in issues[self._counted :]:
            self.errors += issue.severity == ERROR
        self._counted = len(issues)

    def write(self, issues: list[Issue]) -> None:
        self.count_errors(issues)
        with transaction.atomic():
            ImportJob.objects.filter(pk=self.job_id).update(
                rows_done=self.done,
                rows_total=max(self.total, self.done),
                errors_so_far=self.errors,
                progress_at=timezone.now(),
            )
        if self.on_progress is not None:
            self.on_progress(ImportJob.objects.get(pk=self.job_id))

    def counted(self, rows: Iterable[tuple[int, Any]], issues: list[Issue]) -> Iterator[tuple[int, Any]]:
        for item in rows:
            yield item
            self.done += 1
            if self.done % self.every == 0:
                self.write(issues)


@dataclasses.dataclass
class _Source:
    file: ImportFile
    entity: str
    open: Callable[[], reader.TableReader]
    rows_estimate: int


def _stored_bytes(file: ImportFile) -> bytes:
    if not file.storage_path.startswith(workspace_storage_prefix()):
        raise RuntimeError(f"file {file.pk} is stored outside this workspace")  # never read another's
    with default_storage.open(file.storage_path, "rb") as handle:
        data: bytes = handle.read()
    return data


def _engine_settings(settings: Mapping[str, Any]) -> ImportSettings:
    cut_over = settings.get("cut_over")
    return ImportSettings(
        country=settings["country"],
        currency=settings["currency"],
        dates=DateSettings(order=settings["date_order"], buddhist_era=bool(settings.get("buddhist_era"))),
        decimal_separator=settings.get("decimal_separator") or None,
        bijoy_fields=frozenset(settings.get("bijoy_fields") or ()),
        cut_over=dt.date.fromisoformat(cut_over) if cut_over else None,
        translate=gettext,
        language=settings.get("language", "en"),
    )


def _engine_profile(saved: Mapping[str, Any] | None) -> reader.MappingProfile | None:
    if not saved:
        return None
    return reader.MappingProfile(
        columns=saved["columns"],
        encoding=saved.get("encoding") or None,
        delimiter=saved.get("delimiter") or None,
        sheet=saved.get("sheet") or None,
    )


def _profile_entity(cells: Iterable[object], profiles: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The entity whose saved profile names most of this header row's columns (at least half of them)."""
    headers = {header_key(str(cell)) for cell in cells if cell not in (None, "")}
    best, best_score = None, 0
    for entity, saved in profiles.items():
        known = {header_key(header) for header in saved["columns"]}
        score = len(headers & known)
        if score > best_score and score * 2 >= len(known):
            best, best_score = entity, score
    return best


def _file_issue(sheet: str, code: str, message: str, **params: Any) -> Issue:
    text = gettext(message)
    return Issue(ERROR, sheet, None, None, code, text % params if params else text)


def _sources(
    files: list[ImportFile],
    language: str,
    issues: list[Issue],
    opened: list[reader.XlsxWorkbook],
    profiles: Mapping[str, Mapping[str, Any]],
) -> dict[str, _Source]:
    """Which file supplies each entity: a workbook's sheets named after entities, a CSV by its header."""
    from python_calamine import CalamineWorkbook

    sources: dict[str, _Source] = {}

    def add(source: _Source) -> None:
        if source.entity in sources:
            issues.append(
                _file_issue(
                    source.entity,
                    "entity_twice",
                    gettext_noop("%(name)s and %(other)s both hold %(records)s; import one of them."),
                    name=source.file.original_name,
                    other=sources[source.entity].file.original_name,
                    records=gettext(TEMPLATES[source.entity].title),
                )
            )
            return
        sources[source.entity] = source

    for file in files:
        if file.kind == FileKind.ZIP:
            continue  # pictures: read after every sheet (``_pictures``)
        data = _stored_bytes(file)
        if file.kind == FileKind.XLSX:
            workbook = reader.XlsxWorkbook(data)
            opened.append(workbook)
            # A second, light read for the progress bar's total: calamine sizes a sheet quickly.
            sizes = CalamineWorkbook.from_filelike(io.BytesIO(data))
            found = []
            for entity in ENTITY_ORDER:
                sheet = _profile_sheet(workbook, profiles.get(entity)) or workbook.sheet_for(
                    TEMPLATES[entity]
                )
                if sheet is None:
                    continue
                found.append(entity)
                estimate = max(0, sizes.get_sheet_by_name(sheet).height - 1)
                add(_Source(file, entity, _opener(workbook, entity, profiles.get(entity)), estimate))
            sizes.close()
            if not found:
                issues.append(
                    _file_issue(
                        "",
                        "sheets_unknown",
                        gettext_noop(
                            "%(name)s has no sheet named after what can be imported (members, loans ...)."
                        ),
                        name=file.original_name,
                    )
                )
            file.entities = found
        else:
            try:
                decoded = decode_bytes(data, locale=language, encoding=_csv_encoding(profiles))
            except EncodingUnknown as error:
                issues.append(
                    _file_issue(
                        "",
                        "encoding_unknown",
                        gettext_noop("The file's text encoding is not known: %(detail)s"),
                        detail=f"{file.original_name}: {error}",
                    )
                )
                continue
            file.encoding = decoded.encoding
            detected = _csv_entity(decoded, profiles)
            if detected is None:
                issues.append(
                    _file_issue(
                        "",
                        "entity_unknown",
                        gettext_noop("%(name)s: its header row names no template's columns."),
                        name=file.original_name,
                    )
                )
                continue
            file.entities = [detected]
            opener = _csv_opener(data, detected, language, profiles.get(detected))
            add(_Source(file, detected, opener, decoded.text.count("\n")))
    return sources


def _profile_sheet(workbook: reader.XlsxWorkbook, saved: Mapping[str, Any] | None) -> str | None:
    """The workbook's sheet a mapping profile names (spelled as the workbook spells it), if it has one."""
    wanted = header_key((saved or {}).get("sheet") or "")
    return next((name for name in workbook.sheet_names if wanted and header_key(name) == wanted), None)


def _opener(
    workbook: reader.XlsxWorkbook, entity: str, saved: Mapping[str, Any] | None
) -> Callable[[], reader.TableReader]:
    profile = _engine_profile(saved)
    if profile is not None and profile.sheet:
        # The workbook's own spelling of the sheet: the profile's may differ in case or spacing.
        profile = dataclasses.replace(profile, sheet=_profile_sheet(workbook, saved))
    return lambda: workbook.table(entity, profile=profile)


def _csv_opener(
    data: bytes, entity: str, language: str, saved: Mapping[str, Any] | None
) -> Callable[[], reader.TableReader]:
    return lambda: reader.open_table(data, entity, locale=language, profile=_engine_profile(saved))


def _csv_encoding(profiles: Mapping[str, Mapping[str, Any]]) -> str | None:
    """A CSV is decoded before its entity is known: only when every profile names one encoding is it used."""
    encodings = {saved.get("encoding") or "" for saved in profiles.values()}
    return encodings.pop() or None if len(encodings) == 1 else None


def _csv_entity(decoded: Any, profiles: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The entity a CSV holds: a saved profile's columns first, else the templates' headers."""
    rows, _delimiter = reader.csv_rows(decoded)
    for number, cells in enumerate(rows):
        if number >= reader.HEADER_SEARCH_ROWS:
            break
        entity = _profile_entity(cells, profiles) or reader.detect_template(cells)
        if entity is not None:
            return entity
    return None


def _sorted_issues(issues: Iterable[Issue]) -> list[Issue]:
    order = {entity: index for index, entity in enumerate(ENTITY_ORDER)}
    return sorted(issues, key=lambda issue: (order.get(issue.entity, -1), issue.row or 0))


def import_dry_run(
    *, job_id: int, progress_every: int = PROGRESS_EVERY, on_progress: ProgressCallback | None = None
) -> ImportJob:
    """Validate the job's files; store counts, reconciliation, issues and the report. Writes nothing else.

    Idempotent: only an uploaded job is run (a redelivered task finds it validating or done and
    returns it as it is), or one left validating by a worker that died (no progress for
    ``STALE_AFTER_SECONDS``; the dead run had written nothing of its result). Any failure is
    recorded on the job (``failed`` and the reason), not raised.
    """
    now = timezone.now()
    runnable = Q(status=JobStatus.UPLOADED) | Q(
        status=JobStatus.VALIDATING, progress_at__lt=now - dt.timedelta(seconds=STALE_AFTER_SECONDS)
    )
    claimed = ImportJob.objects.filter(runnable, pk=job_id).update(
        status=JobStatus.VALIDATING, started_at=now, progress_at=now, rows_done=0, errors_so_far=0
    )
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    report_path = records_path = ""
    try:
        with translation.override(job.settings.get("language", "en")):
            outcome = _run(job, progress_every=progress_every, on_progress=on_progress, keep_records=True)
            replaced = _replaceable(job, outcome)
            if replaced is not None:
                outcome = _run(
                    job,
                    progress_every=progress_every,
                    on_progress=on_progress,
                    keep_records=True,
                    replaces=replaced.pk,
                )
                outcome.issues.insert(0, _replacement_notice(replaced))
                ImportJob.objects.filter(pk=job.pk).update(settings={**job.settings, "replaces": replaced.pk})
                job.settings["replaces"] = replaced.pk
            report_path = _save_report(job, outcome)
            if not any(issue.severity == ERROR for issue in outcome.issues):
                records_path = _save_records(job, outcome.records)
            _store_result(job, outcome, report_path, records_path)
    except Exception as error:
        logger.exception("import_dry_run_failed", job_id=job_id)
        for path in (report_path, records_path):
            if path:
                default_storage.delete(path)
        with transaction.atomic():
            ImportJob.objects.filter(pk=job_id).update(
                status=JobStatus.FAILED,
                failure=f"{type(error).__name__}: {error}"[:2000],
                finished_at=timezone.now(),
            )
            audit_record(
                actor=job.created_by,
                action="import.dry_run_failed",
                target=job,
                changes={"failure": f"{type(error).__name__}: {error}"[:500]},
            )
    job.refresh_from_db()
    return job


@dataclasses.dataclass
class _Outcome:
    classifier: _Classifier
    run: DryRun
    issues: list[Issue]
    counts: dict[str, dict[str, int]]
    reconciliation: list[dict[str, Any]]
    files: list[ImportFile]
    rows: int
    records: dict[str, list[Record]]  # kept only when asked (the commit reads them)
    pictures: dict[str, tuple[ImportFile, photos.Picture]]  # by key (member|kind), when kept


def _run(
    job: ImportJob,
    *,
    progress_every: int,
    on_progress: ProgressCallback | None,
    keep_records: bool = False,
    replaces: int | None = None,
) -> _Outcome:
    """Read and check the job's files. ``replaces``: an earlier import this one corrects, read as if
    it had never been made (the commit rolls it back first, in the same transaction)."""
    settings = _engine_settings(job.settings)
    existing, pairs = _existing_keys()
    imported = imported_records()
    if replaces is not None:
        _without_job(replaces, existing, pairs, imported)
    classifier = _Classifier(existing, pairs, imported, share_nominal_value_minor())
    run = DryRun(settings, keep_records=True)
    opened: list[reader.XlsxWorkbook] = []
    files = list(job.files.all())
    try:
        profiles = job.settings.get("profiles") or {}
        sources = _sources(files, job.settings.get("language", "en"), run.issues, opened, profiles)
        progress = _Progress(
            job_id=job.pk,
            total=sum(source.rows_estimate for source in sources.values()),
            every=max(1, progress_every),
            on_progress=on_progress,
        )
        progress.write(run.issues)
        counts: dict[str, dict[str, int]] = {}
        records: dict[str, list[Record]] = {}
        for entity in ENTITY_ORDER:
            source = sources.get(entity)
            if source is None:
                continue
            try:
                table = source.open()
            except reader.ReadError as error:
                message = gettext(error.message)
                run.issues.append(
                    Issue(
                        ERROR,
                        entity,
                        None,
                        None,
                        error.code,
                        message % error.params if error.params else message,
                    )
                )
                continue
            result = run.add_file(
                entity,
                progress.counted(table.rows(), run.issues),
                table.headers,
                settings=_file_settings(settings, profiles.get(entity)),
            )
            counts[entity] = _classify(entity, result.records, classifier, run)
            counts[entity].update(rows=result.rows, valid=result.valid)
            if keep_records:
                records[entity] = list(result.records)
            result.records.clear()
        run.check_references({kind: existing[kind] for kind in _REFERENCE_KINDS})
        pictures = _pictures(files, run, classifier, counts, records if keep_records else None)
        progress.write(run.issues)
    finally:
        for workbook in opened:
            workbook.close()
    rows = progress.done + counts.get(PHOTOS, {}).get("rows", 0)
    return _outcome(classifier, run, counts, files, rows=rows, records=records, pictures=pictures)


def _outcome(
    classifier: _Classifier,
    run: DryRun,
    counts: dict[str, dict[str, int]],
    files: list[ImportFile],
    *,
    rows: int,
    records: dict[str, list[Record]],
    pictures: dict[str, tuple[ImportFile, photos.Picture]],
) -> _Outcome:
    """What a run found, with the reconciliation in the form the job stores."""
    reconciliation = [
        {
            "control": line.control,
            "accounts": list(line.accounts),
            "records_minor": line.records_total,
            "ledger_minor": line.ledger_total,
            "difference_minor": line.difference,
        }
        for line in run.reconcile()
    ]
    return _Outcome(
        classifier=classifier,
        run=run,
        issues=_sorted_issues(run.issues),
        counts=counts,
        reconciliation=reconciliation,
        files=files,
        rows=rows,
        records=records,
        pictures=pictures,
    )


def _pictures(
    files: list[ImportFile],
    run: DryRun,
    classifier: _Classifier,
    counts: dict[str, dict[str, int]],
    records: dict[str, list[Record]] | None,
) -> dict[str, tuple[ImportFile, photos.Picture]]:
    """Check the zips of member photos: names, sizes, that each names a member of the files or the
    workspace; counted and classified like any record (its key: member and kind)."""
    zips = [file for file in files if file.kind == FileKind.ZIP]
    if not zips:
        return {}
    members = set(classifier.existing["member"]) | run.keys_seen("members", "member_no")
    tally = {"rows": 0, "valid": 0, "new": 0, "matching": 0, "changed": 0, "conflicting": 0}
    kept: dict[str, tuple[ImportFile, photos.Picture]] = {}
    found: list[Record] = []

    def issue(index: int | None, column: str, code: str, message: str, **params: Any) -> None:
        text = gettext(message)
        run.issues.append(Issue(ERROR, PHOTOS, index, column, code, text % params if params else text))

    for file in zips:
        file.entities = [PHOTOS]
        try:
            pictures, problems = photos.pictures(_stored_bytes(file))
        except photos.ZipUnreadable as error:
            message = gettext_noop("%(name)s cannot be read: %(detail)s")
            issue(
                None,
                file.original_name,
                "zip_unreadable",
                message,
                name=file.original_name,
                detail=str(error),
            )
            continue
        tally["rows"] += len(pictures) + len(problems)
        for problem in problems:
            issue(problem.index, problem.name, problem.code, problem.message, name=problem.name)
        for picture in pictures:
            if picture.member_no not in members:
                message = gettext_noop("%(value)s is not known (%(kind)s).")
                issue(
                    picture.index,
                    picture.name,
                    "reference_unknown",
                    message,
                    value=picture.member_no,
                    kind="member",
                )
                continue
            if picture.key in kept:
                issue(picture.index, picture.name, "picture_twice",
                      gettext_noop("%(name)s: that member's picture of this kind is in the zip twice."),
                      name=picture.name)  # fmt: skip
                continue
            tally["valid"] += 1
            values = {"member_no": picture.member_no, "kind": picture.kind, "content": picture.content_hash}
            status, _clash = classifier.classify(PHOTOS, values)
            tally[status] += 1
            kept[picture.key] = (file, picture)
            found.append(Record(PHOTOS, picture.index, values))
    counts[PHOTOS] = tally
    if records is not None:
        records[PHOTOS] = found
    return kept if records is not None else {}


# --- A corrected file: replacing an earlier import that has not been used ------------------------

# Whose keys an earlier import made, by the workspace key set they are checked in.
_MADE_KINDS = {
    "members": "member",
    "savings_accounts": "savings_account",
    "loans": "loan",
    "shares": "shareholder",
}


def _without_job(
    job_id: int,
    existing: dict[str, set[str]],
    pairs: dict[str, dict[str, str]],
    imported: dict[tuple[str, str], tuple[str, int]],
) -> None:
    """The workspace as it would be without what import ``job_id`` made (it is to be replaced)."""
    for (entity, key), (_hash, made_by) in list(imported.items()):
        if made_by != job_id:
            continue
        del imported[(entity, key)]
        kind = _MADE_KINDS.get(entity)
        if kind is not None:
            existing[kind].discard(key)
        if entity == "members":
            national_id = pairs["member_national_id"].pop(key, None)
            if national_id is not None:
                pairs["national_id_member"].pop(national_id, None)


def _replaceable(job: ImportJob, outcome: _Outcome) -> ImportJob | None:
    """The earlier import this file corrects, when it may be replaced: the file changes money of one
    import only, that import is committed, not used since and the cooperative not live, and the file
    holds every member, account, loan and share holding it made (so replacing loses nothing)."""
    from imports.commit import live_since, used_since

    if len(outcome.classifier.differing_jobs) != 1 or live_since() is not None:
        return None
    (earlier_id,) = outcome.classifier.differing_jobs
    earlier = ImportJob.objects.filter(pk=earlier_id, status=JobStatus.COMMITTED).first()
    if earlier is None or earlier.pk == job.pk or used_since(earlier):
        return None
    fields = {
        "members": "member_no",
        "savings_accounts": "account_no",
        "loans": "loan_no",
        "shares": "member_no",
    }
    for entity, field in fields.items():
        made = set(earlier.records.filter(entity=entity).values_list("key", flat=True))
        if made - outcome.run.keys_seen(entity, field):
            return None
    return earlier


def _replacement_notice(replaced: ImportJob) -> Issue:
    message = gettext(
        "These files correct import #%(job)s, which has not been used: importing them rolls it back "
        "and imports these instead, in one step."
    ) % {"job": replaced.pk}
    return Issue(WARNING, "", None, None, "replaces_import", message)


def _file_settings(settings: ImportSettings, saved: Mapping[str, Any] | None) -> ImportSettings | None:
    """A profile's date order for its file; the run's own settings otherwise."""
    if not saved or saved.get("date_order") in (None, settings.dates.order):
        return None
    dates = dataclasses.replace(settings.dates, order=saved["date_order"])
    return dataclasses.replace(settings, dates=dates)


def _classify(entity: str, records: list[Record], classifier: _Classifier, run: DryRun) -> dict[str, int]:
    counts = {"new": 0, "matching": 0, "changed": 0, "conflicting": 0}
    validator = run.validator(entity)
    for record in records:
        status, clash = classifier.classify(entity, record.values)
        counts[status] += 1
        if clash is not None:
            field, code, message, params = clash
            run.issues.append(validator.issue(ERROR, record.row, field, code, message, **params))
    return counts


# --- The validated records, kept for the commit --------------------------------------------------

_RECORDS_FORMAT = 1


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"{type(value).__name__} in a record")


def _typed_value(item: dict[str, Any]) -> Any:
    if len(item) == 1:
        if "$date" in item:
            return dt.date.fromisoformat(item["$date"])
        if "$decimal" in item:
            return Decimal(item["$decimal"])
    return item


def _save_records(job: ImportJob, records: Mapping[str, list[Record]]) -> str:
    """Every validated record as a gzip JSON line [entity, row, values] (dates and decimals tagged)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=1) as out:
        out.write(json.dumps({"format": _RECORDS_FORMAT}).encode() + b"\n")
        for entity, rows in records.items():
            for record in rows:
                line = json.dumps(
                    [entity, record.row, record.values], default=_json_value, ensure_ascii=False
                )
                out.write(line.encode() + b"\n")
    return default_storage.save(
        f"{_job_prefix(job)}records-{secrets.token_hex(16)}.jsonl.gz", ContentFile(buffer.getvalue())
    )


def saved_records(job: ImportJob) -> dict[str, list[Record]] | None:
    """The records the job's dry run kept, or None (none kept, or not of this format)."""
    if not job.records_path or not job.records_path.startswith(workspace_storage_prefix()):
        return None
    try:
        with default_storage.open(job.records_path, "rb") as handle, gzip.GzipFile(fileobj=handle) as lines:
            header = json.loads(lines.readline())
            if header.get("format") != _RECORDS_FORMAT:
                return None
            records: dict[str, list[Record]] = {}
            for line in lines:
                entity, row, values = json.loads(line, object_hook=_typed_value)
                records.setdefault(entity, []).append(Record(entity, row, values))
    except (FileNotFoundError, OSError, ValueError):
        return None
    return records


def run_from_records(
    job: ImportJob, records: Mapping[str, list[Record]], *, replaces: int | None = None
) -> _Outcome:
    """What ``_run`` finds, from records a dry run validated: the checks that depend on the workspace
    (references, what is new, changed or conflicting, photos) and the reconciliation, done again;
    the rows themselves not read again."""
    settings = _engine_settings(job.settings)
    existing, pairs = _existing_keys()
    imported = imported_records()
    if replaces is not None:
        _without_job(replaces, existing, pairs, imported)
    classifier = _Classifier(existing, pairs, imported, share_nominal_value_minor())
    run = DryRun(settings, keep_records=True)
    profiles = job.settings.get("profiles") or {}
    counts: dict[str, dict[str, int]] = {}
    kept: dict[str, list[Record]] = {}
    for entity in ENTITY_ORDER:
        if entity not in records:
            continue
        result = run.add_records(
            entity, records[entity], settings=_file_settings(settings, profiles.get(entity))
        )
        counts[entity] = _classify(entity, result.records, classifier, run)
        counts[entity].update(rows=result.rows, valid=result.valid)
        kept[entity] = list(result.records)
    run.check_references({kind: existing[kind] for kind in _REFERENCE_KINDS})
    files = list(job.files.all())
    pictures = _pictures(files, run, classifier, counts, kept)
    rows = sum(len(rows) for rows in kept.values())
    return _outcome(classifier, run, counts, files, rows=rows, records=kept, pictures=pictures)


def _save_report(job: ImportJob, outcome: _Outcome) -> str:
    buffer = io.BytesIO()
    write_issues_xlsx(
        outcome.issues,
        buffer,
        reconciliation=outcome.run.reconcile(),
        totals=outcome.run.totals,
        exponent=currency_exponent(job.settings["currency"]),
        translate=gettext,
    )
    return default_storage.save(
        f"{_job_prefix(job)}report-{secrets.token_hex(16)}.xlsx", ContentFile(buffer.getvalue())
    )


def _store_result(job: ImportJob, outcome: _Outcome, report_path: str, records_path: str = "") -> None:
    errors = sum(1 for issue in outcome.issues if issue.severity == ERROR)
    warnings = sum(1 for issue in outcome.issues if issue.severity == WARNING)
    result = DryRunResult.ERRORS if errors else DryRunResult.WARNINGS if warnings else DryRunResult.CLEAN
    kept = outcome.issues[:ISSUES_STORED]
    with transaction.atomic():
        ImportIssue.objects.bulk_create(
            (
                ImportIssue(
                    job_id=job.pk,
                    position=position,
                    entity=issue.entity[:30],
                    row=issue.row,
                    column=(issue.column or "")[:200],
                    severity=issue.severity,
                    code=issue.code[:60],
                    message=issue.message,
                )
                for position, issue in enumerate(kept)
            ),
            batch_size=2_000,
        )
        for file in outcome.files:
            ImportFile.objects.filter(pk=file.pk).update(entities=file.entities, encoding=file.encoding)
        ImportJob.objects.filter(pk=job.pk).update(
            status=JobStatus.VALIDATED,
            result=result,
            rows_done=outcome.rows,
            rows_total=outcome.rows,
            errors_so_far=errors,
            errors=errors,
            warnings=warnings,
            issues_not_stored=len(outcome.issues) - len(kept),
            entity_counts=outcome.counts,
            reconciliation=outcome.reconciliation,
            members_per_branch=dict(sorted(outcome.run.totals.members_per_branch.items())),
            report_path=report_path,
            records_path=records_path,
            progress_at=timezone.now(),
            finished_at=timezone.now(),
        )
        audit_record(
            actor=job.created_by,
            action="import.dry_run",
            target=job,
            changes={
                "result": str(result),
                "rows": outcome.rows,
                "errors": errors,
                "warnings": warnings,
                "differences": {line["control"]: line["difference_minor"] for line in outcome.reconciliation},
            },
        )


# --- Mapping profiles ----------------------------------------------------------------------------


def mapping_profile_save(
    *,
    actor: Any,
    name: str,
    entity: str,
    columns: Mapping[str, str],
    encoding: str = "",
    delimiter: str = "",
    date_order: str = "DMY",
    sheet: str = "",
) -> MappingProfile:
    """Create or replace the profile of that name for the entity: {file header → field key, "" to skip};
    ``sheet`` names the sheet of a workbook to read."""
    workspace_writable_require()
    name = name.strip()
    if not name:
        raise _invalid("name", _("Give the profile a name."))
    template = TEMPLATES.get(entity)
    if template is None:
        raise _invalid("entity", _("Not something that can be imported."))
    known = {item.key for item in template.fields}
    unknown = sorted({key for key in columns.values() if key and key not in known})
    if unknown:
        raise _invalid(
            "columns", _("Not fields of this template: %(fields)s") % {"fields": ", ".join(unknown)}
        )
    if date_order not in DATE_ORDERS:
        raise _invalid("date_order", _("Day-month-year or month-day-year."))
    if len(delimiter) > 1:
        raise _invalid("delimiter", _("One character."))
    with transaction.atomic():
        profile, created = MappingProfile.objects.update_or_create(
            entity=entity,
            name=name[:100],
            defaults={
                "columns": dict(columns),
                "encoding": encoding,
                "delimiter": delimiter,
                "date_order": date_order,
                "sheet": sheet.strip()[:100],
                "created_by_id": actor.pk if actor is not None and actor.is_authenticated else None,
            },
        )
        audit_record(
            actor=actor,
            action="import.profile_create" if created else "import.profile_update",
            target=profile,
            changes={
                "columns": dict(columns),
                "encoding": encoding,
                "delimiter": delimiter,
                "date_order": date_order,
            },
        )
    return profile
