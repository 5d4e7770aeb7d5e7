"""The commit of a checked import, its rollback, and the day the cooperative goes live.

A commit writes what a clean dry run (or one whose warnings an admin accepted) said it would, in
one transaction: branches, staff (invited, never with a password from the files), groups, members
and nominees, share holdings, savings accounts and loans in progress with their schedules, and the
opening balances. The files are read and checked again first (the workspace may have changed since
the dry run); anything that fails leaves nothing written and the job back at its dry run, with the
reason.

The opening balances post through the ledger service on the cut-over date, one entry per branch:
the trial balance's own rows, except the control accounts of savings, savings interest, loans and
shares, whose amounts come from the records (per product control account, per branch); the dry
run's reconciliation has shown both agree. Where a branch's lines do not balance on their own
(a trial balance kept for the whole cooperative), the difference goes to the inter-branch current
account, which nets to zero across branches.

Every record made is kept in ``ImportedRecord`` under its key in the files: a second import of the
same file makes nothing; a changed member, group, branch or staff row is updated; changed money is
refused (see ``imports.services``). Until the cooperative goes live a whole import can be rolled
back: its opening entries are reversed (the ledger keeps both), and what it made is removed.

Progress is written to the cache (the job's row is inside the commit's transaction until the end).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import structlog
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from psycopg.types.json import Jsonb

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.db import copy_insert, server_cursor
from core_banking.ledger.models import Account, JournalEntry
from core_banking.ledger.presets import cash_account_code
from core_banking.ledger.services import LineSpec, account_create, journal_post
from core_banking.lending import terms as loan_terms
from core_banking.lending.models import (
    ApplicationStatus,
    Guarantor,
    Loan,
    LoanApplication,
    LoanInstallment,
    LoanProduct,
    LoanStatus,
    LoanTransaction,
    LoanTransactionKind,
)
from core_banking.members.models import Member, MemberDocument, MemberGroup, MemberType, Nominee
from core_banking.members.presets import DEFAULT_MEMBER_TYPES
from core_banking.members.services import member_document_upload
from core_banking.money import from_minor
from core_banking.organisation.models import Branch, Region
from core_banking.organisation.services import branch_create
from core_banking.savings.interest_posting import INTEREST_PAYABLE_CODE
from core_banking.savings.models import (
    Channel,
    InterestPosting,
    InterestPostingKind,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
)
from core_banking.savings.models import TransactionKind as SavingsKind
from core_banking.shares.models import ShareAccount, ShareTransaction, ShareTransactionKind
from core_banking.shares.services import SHARE_CAPITAL_CODE
from core_banking.staff.roles import Role
from core_banking.staff.services import staff_user_create
from imports import services
from imports.engine import opening, parallel, photos
from imports.engine.validate import ERROR, Record
from imports.models import CutOver, DryRunResult, ImportedRecord, ImportFile, ImportJob, JobStatus
from tenants.access import workspace_writable_require
from tenants.db import current_cooperative, on_commit_here, workspace_currency, workspace_language

logger = structlog.get_logger(__name__)

INTER_BRANCH_CODE = "1900"  # the inter-branch current account, added to the chart when first needed
INTER_BRANCH_NAMES = {
    "en": "Inter-branch current account",
    "bn": "আন্তঃশাখা চলতি হিসাব",
    "vi": "Tài khoản vãng lai giữa các chi nhánh",
    "th": "บัญชีกระแสรายวันระหว่างสาขา",
}
PROGRESS_SECONDS = 3600
PROGRESS_EVERY = 5_000
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MEMBER_NUMBER = re.compile(r"^(?P<branch>.+)-(?P<number>\d{6})$")


def _refuse(code: ErrorCode, message: str, field: str = "job", **fields: list[str]) -> BusinessRuleViolation:
    return BusinessRuleViolation(code, message, fields=fields or {field: [message]})


def _person(actor: Any | None) -> Any | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _name(actor: Any | None, operator: str) -> str:
    if operator:
        return f"{operator} (operations)"[:160]
    person = _person(actor)
    return person.get_username() if person is not None else ""


# --- Asking for a commit -------------------------------------------------------------------------


def import_commit_request(
    *, actor: Any | None, job_id: int, accept_warnings: bool = False, operator: str = ""
) -> ImportJob:
    """Queue the commit of a checked import. Refused unless the dry run is clean, or its warnings are
    accepted now (recorded with the name of who accepted); never with errors or an unreconciled
    total (``import_unreconciled``, the differences named); never on another cut-over date than an
    earlier import's. ``operator``: the console operator acting for the cooperative (``actor`` is
    then None: operators are not the workspace's users); their name is kept and audited."""
    workspace_writable_require()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            raise _refuse(ErrorCode.NOT_FOUND, _("No such import."))
        if job.status != JobStatus.VALIDATED:
            raise _refuse(
                ErrorCode.IMPORT_NOT_COMMITTABLE,
                _("Only a finished dry run can be imported (this one is: %(status)s).")
                % {"status": job.get_status_display()},
            )
        if job.result == DryRunResult.ERRORS:
            raise _refuse(
                ErrorCode.IMPORT_NOT_CLEAN,
                _("The dry run found %(count)s errors; correct the files and check them again.")
                % {"count": job.errors},
            )
        if job.has_differences:
            differences = [
                f"{line['control']}: {line['difference_minor']}"
                for line in job.reconciliation
                if line["difference_minor"]
            ]
            raise _refuse(
                ErrorCode.IMPORT_UNRECONCILED,
                _("The records do not reconcile with the opening trial balance: %(differences)s")
                % {"differences": ", ".join(differences)},
                reconciliation=differences,
            )
        if job.result == DryRunResult.WARNINGS and not accept_warnings:
            raise _refuse(
                ErrorCode.IMPORT_WARNINGS_NOT_ACCEPTED,
                _("The dry run found %(count)s warnings; read them and accept them to import.")
                % {"count": job.warnings},
                "accept_warnings",
            )
        cut_over = _cut_over_of(job)
        fixed = CutOver.objects.filter(pk=1).first()
        if fixed is not None and fixed.date != cut_over:
            raise _refuse(
                ErrorCode.IMPORT_CUT_OVER_MISMATCH,
                _("Earlier imports opened on %(date)s; every import uses that cut-over date.")
                % {"date": fixed.date.isoformat()},
                "cut_over",
            )
        now = timezone.now()
        job.status = JobStatus.COMMITTING
        job.commit_requested_by = _person(actor)
        job.commit_requested_at = now
        job.commit_failure = ""
        if job.result == DryRunResult.WARNINGS:
            job.warnings_accepted_by = _person(actor)
            job.warnings_accepted_at = now
            job.warnings_accepted_by_name = _name(actor, operator)
        job.save(
            update_fields=[
                "status",
                "commit_requested_by",
                "commit_requested_at",
                "commit_failure",
                "warnings_accepted_by",
                "warnings_accepted_at",
                "warnings_accepted_by_name",
            ]
        )
        audit_record(
            actor=actor,
            action="import.commit_requested",
            target=job,
            changes={
                "warnings_accepted": job.warnings if job.result == DryRunResult.WARNINGS else 0,
                **({"operator": operator} if operator else {}),
            },
        )
        _progress_set(job.pk, stage="queued", done=0, total=0, started=time.time())
        job_pk = job.pk
        on_commit_here(lambda: _queue(job_pk))
    return job


def _queue(job_id: int) -> None:
    from imports.tasks import import_commit_task

    import_commit_task.delay(job_id)


def _cut_over_of(job: ImportJob) -> dt.date:
    raw = job.settings.get("cut_over")
    if not raw:
        raise _refuse(
            ErrorCode.IMPORT_NOT_COMMITTABLE,
            _("Give the cut-over date (the day the opening balances are at) and check the files again."),
            "cut_over",
        )
    return dt.date.fromisoformat(raw)


# --- Progress ------------------------------------------------------------------------------------


def _progress_key(job_id: int) -> str:
    return f"imports:commit:{job_id}"  # the cache's key function adds the workspace's schema


def _progress_set(job_id: int, **values: Any) -> None:
    cache.set(_progress_key(job_id), values, PROGRESS_SECONDS)


def commit_progress(job_id: int) -> dict[str, Any] | None:
    """{stage, done, total, seconds_left} of a commit under way, as its worker last wrote it."""
    values: dict[str, Any] | None = cache.get(_progress_key(job_id))
    if not values:
        return None
    done, total, started = values.get("done", 0), values.get("total", 0), values.get("started")
    seconds_left = None
    if started and done and total > done:
        seconds_left = max(1, round((time.time() - started) / done * (total - done)))
    return {**values, "seconds_left": seconds_left}


# --- The commit itself ---------------------------------------------------------------------------


def import_commit(*, job_id: int) -> ImportJob:
    """Write the job's records (the worker's part). Idempotent: only a job asked to commit runs;
    a failure is recorded on the job (back to its dry run, with the reason), not raised."""
    job = ImportJob.objects.select_related("commit_requested_by").filter(pk=job_id).first()
    if job is None or job.status != JobStatus.COMMITTING:
        return job  # type: ignore[return-value]
    actor = job.commit_requested_by
    started = time.time()
    try:
        with translation.override(job.settings.get("language", "en")):
            _progress_set(job_id, stage="reading", done=0, total=job.rows_total, started=started)
            replaces = job.settings.get("replaces")
            kept = services.saved_records(job)
            if kept is not None:  # the dry run's own records: only the workspace's side checked again
                outcome = services.run_from_records(job, kept, replaces=replaces)
            else:
                outcome = services._run(
                    job, progress_every=10**9, on_progress=None, keep_records=True, replaces=replaces
                )
            read_s = round(time.time() - started, 2)
            errors = [issue for issue in outcome.issues if issue.severity == ERROR]
            if errors:
                first = errors[0]
                raise _refuse(
                    ErrorCode.IMPORT_NOT_CLEAN,
                    _(
                        "The files no longer pass the checks (%(count)s errors, the first: %(entity)s "
                        "row %(row)s, %(message)s); run a new dry run."
                    )
                    % {
                        "count": len(errors),
                        "entity": first.entity,
                        "row": first.row,
                        "message": first.message,
                    },
                )
            if any(line["difference_minor"] for line in outcome.reconciliation):
                raise _refuse(
                    ErrorCode.IMPORT_UNRECONCILED, _("The records no longer reconcile; run a new dry run.")
                )
            with transaction.atomic():
                if replaces is not None:
                    _roll_back(
                        replaces,
                        actor=actor,
                        reason=_("Replaced by import #%(job)s (a corrected file)") % {"job": job.pk},
                        keep_cut_over=True,
                    )
                writer = _Writer(job, actor=actor, cut_over=_cut_over_of(job), started=started)
                writer.pictures = outcome.pictures
                try:
                    writer.write(outcome.records)
                except Exception:
                    writer.discard_stored_files()  # the rows naming them roll back with the rest
                    raise
                ImportJob.objects.filter(pk=job_id).update(
                    status=JobStatus.COMMITTED,
                    committed_at=timezone.now(),
                    commit_counts=writer.counts,
                    opening_entry_ids=writer.entry_ids,
                    arrears_check=writer.arrears.as_dict(),
                )
                audit_record(
                    actor=actor,
                    action="import.commit",
                    target=job,
                    changes={
                        "counts": writer.counts,
                        "opening_entries": writer.entry_ids,
                        "arrears": {k: v for k, v in writer.arrears.as_dict().items() if k != "examples"},
                        "seconds": {"read_and_check": read_s, **writer.seconds},
                    },
                )
                invited = list(writer.invited)
                on_commit_here(lambda: _invite(invited))
    except Exception as error:
        logger.exception("import_commit_failed", job_id=job_id)
        message = (
            error.message if isinstance(error, BusinessRuleViolation) else f"{type(error).__name__}: {error}"
        )
        with transaction.atomic():
            ImportJob.objects.filter(pk=job_id, status=JobStatus.COMMITTING).update(
                status=JobStatus.VALIDATED, commit_failure=message[:2000]
            )
            audit_record(
                actor=actor, action="import.commit_failed", target=job, changes={"failure": message[:500]}
            )
    finally:
        cache.delete(_progress_key(job_id))
    job.refresh_from_db()
    return job


@dataclasses.dataclass
class _MemberRef:
    id: int
    branch_id: int
    join_date: dt.date


class _Writer:
    """Writes one import's records in dependency order, inside the caller's transaction."""

    def __init__(self, job: ImportJob, *, actor: Any | None, cut_over: dt.date, started: float) -> None:
        self.job = job
        self.actor = actor
        self.actor_id = actor.pk if actor is not None else None
        self.cut_over = cut_over
        self.started = started
        self.now = timezone.now()
        self.language = workspace_language()
        self.currency = workspace_currency()
        self.counts: dict[str, dict[str, int]] = {}
        self.seconds: dict[str, float] = {}  # per stage, for the audit record and the benchmark
        self.entry_ids: list[int] = []
        self.invited: list[int] = []
        self.imported = {
            (row.entity, row.key): row
            for row in ImportedRecord.objects.only(
                "id", "entity", "key", "content_hash", "object_id", "job_id"
            )
        }
        self.new_records: list[ImportedRecord] = []
        self.pictures: Mapping[str, tuple[ImportFile, photos.Picture]] = {}
        self.stored_files: list[str] = []
        self.done = 0
        self.total = 0
        # Opening lines: branch id → account code → (debit, credit).
        self.lines: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        # Subledger rows that need their branch's opening entry id (written once entries exist).
        self.pending_savings: list[tuple[int, int, int, str]] = []  # account id, branch, amount, key
        self.pending_accruals: list[tuple[int, int, int]] = []  # account id, branch, accrued interest
        self.pending_shares: list[tuple[int, int, int, int, str]] = []  # account, branch, shares, amount, key
        self.pending_loans: list[tuple[int, int, int, str]] = []  # loan id, branch, amount, key
        self.arrears = _ArrearsCheck(cut_over)

    # -- helpers --

    def _tick(self, stage: str, count: int = 1) -> None:
        before = self.done
        self.done += count
        if self.done // PROGRESS_EVERY != before // PROGRESS_EVERY or count > 1:
            _progress_set(self.job.pk, stage=stage, done=self.done, total=self.total, started=self.started)

    def _split(
        self, entity: str, records: Iterable[Record]
    ) -> tuple[list[Record], list[tuple[Record, ImportedRecord]]]:
        """New records, and changed ones with their earlier import's row; unchanged ones are counted."""
        new, changed = [], []
        counts = self.counts.setdefault(entity, {"created": 0, "updated": 0, "unchanged": 0})
        for record in records:
            key = services.record_key(entity, record.values)
            earlier = self.imported.get((entity, key or ""))
            if earlier is None:
                new.append(record)
            elif earlier.content_hash == services.record_hash(record.values):
                counts["unchanged"] += 1
            else:
                changed.append((record, earlier))
        return new, changed

    def _remember(self, entity: str, record: Record, object_id: int | None) -> None:
        key = services.record_key(entity, record.values) or ""
        self.counts[entity]["created"] += 1
        if (entity, key) in self.imported:
            return  # the same key twice in one file (two nominees of one name): the first one stands
        row = ImportedRecord(
            entity=entity,
            key=key[:200],
            legacy_id=str(record.values.get("legacy_id") or "")[:100],
            job_id=self.job.pk,
            object_id=object_id,
            content_hash=services.record_hash(record.values),
        )
        self.new_records.append(row)
        self.imported[(entity, key)] = row

    def _updated(self, entity: str, earlier: ImportedRecord, record: Record) -> None:
        earlier.content_hash = services.record_hash(record.values)
        ImportedRecord.objects.filter(pk=earlier.pk).update(content_hash=earlier.content_hash)
        self.counts[entity]["updated"] += 1

    def _line(self, branch_id: int, code: str, amount: int) -> None:
        """Debit a positive amount, credit a negative one."""
        if amount:
            side = self.lines[branch_id][code]
            side[0 if amount > 0 else 1] += abs(amount)

    # -- the whole --

    def write(self, records: Mapping[str, list[Record]]) -> None:
        self.total = sum(len(rows) for rows in records.values())
        self.branches = {branch.code: branch for branch in Branch.objects.all()}
        self._timed("branches", self._branches, records.get("branches", []))
        self.head_office = next((b for b in self.branches.values() if b.is_head_office), None) or min(
            self.branches.values(), key=lambda b: b.pk
        )
        self.users = dict(get_user_model().objects.values_list("username", "id"))
        self._timed("staff", self._staff, records.get("staff", []))
        self.groups = dict(MemberGroup.objects.values_list("code", "id"))
        self._timed("groups", self._groups, records.get("groups", []))
        self.members = {
            number: _MemberRef(pk, branch_id, join_date)
            for number, pk, branch_id, join_date in Member.objects.values_list(
                "number", "id", "branch_id", "join_date"
            ).iterator(chunk_size=20_000)
        }
        self._timed("members", self._members, records.get("members", []))
        self._group_leaders(records.get("groups", []))
        self._timed("nominees", self._nominees, records.get("nominees", []))
        self._timed("photos", self._photos, records.get(services.PHOTOS, []))
        self._timed("shares", self._shares, records.get("shares", []))
        self._timed("savings_accounts", self._savings, records.get("savings_accounts", []))
        self._timed("loans", self._loans, records.get("loans", []))
        self._timed("trial_balance", self._trial_balance, records.get("trial_balance", []))
        self._timed("opening_entries", lambda _records: self._post_opening(), [])
        self._timed("opening_transactions", lambda _records: self._write_subledger_openings(), [])
        self._timed(
            "imported_records",
            lambda _records: _copy_tuples(
                ImportedRecord._meta.db_table,
                "entity, key, legacy_id, job_id, object_id, content_hash",
                (
                    (row.entity, row.key, row.legacy_id, row.job_id, row.object_id, row.content_hash)
                    for row in self.new_records
                ),
            ),
            [],
        )
        CutOver.objects.get_or_create(pk=1, defaults={"date": self.cut_over})
        for entity in services.IMPORT_ENTITIES:
            self.counts.setdefault(entity, {"created": 0, "updated": 0, "unchanged": 0})

    def _timed(self, stage: str, step: Any, records: list[Record]) -> None:
        started = time.perf_counter()
        step(records)
        self.seconds[stage] = round(time.perf_counter() - started, 2)

    # -- branches, staff, groups --

    def _branches(self, records: list[Record]) -> None:
        new, changed = self._split("branches", records)
        regions = dict(Region.objects.values_list("name", "id"))
        has_head_office = any(branch.is_head_office for branch in self.branches.values())

        def region_of(values: Mapping[str, Any]) -> Region | None:
            name = values.get("region")
            if not name:
                return None
            if name not in regions:
                regions[name] = Region.objects.create(name=name[:120]).pk
            return Region(pk=regions[name], name=name)

        for record in new:
            values = record.values
            branch = self.branches.get(values["branch_code"])
            if branch is None:
                # The workspace keeps its own head office; an imported one joins as a branch.
                head_office = bool(values.get("is_head_office")) and not has_head_office
                branch = branch_create(
                    actor=self.actor,
                    code=values["branch_code"],
                    name=values["name"],
                    is_head_office=head_office,
                    region=region_of(values),
                )
                has_head_office = has_head_office or head_office
                self.branches[branch.code] = branch
            self._remember("branches", record, branch.pk)
            self._tick("branches")
        for record, earlier in changed:
            branch = self.branches[record.values["branch_code"]]
            branch.name = record.values["name"][:200]
            branch.region = region_of(record.values)
            branch.save(update_fields=["name", "region"])
            self._updated("branches", earlier, record)
            self._tick("branches")

    def _staff(self, records: list[Record]) -> None:
        new, changed = self._split("staff", records)
        # One hash of a random password nobody knows, shared by this import's invitees (each chooses
        # their own through the link): a real hash, so "forgotten your password" works for them too,
        # at the cost of one key stretch per import instead of one per person.
        throwaway = make_password(secrets.token_urlsafe(32)) if new else ""
        for record in new:
            values = record.values
            user_id = self.users.get(values["username"])
            if user_id is None:
                roles = [role for role in values["roles"] if role in Role.__members__.values()]
                user = staff_user_create(
                    actor=self.actor,
                    username=values["username"],
                    password=None,  # invited: they choose their own by e-mail
                    password_hash=throwaway,
                    roles=roles,
                    approver_level=1 if Role.APPROVER.value in roles else None,
                    home_branch=self.branches[values["branch_code"]],
                    first_name=values["full_name"][:150],
                    email=values["email"],
                    language=self.language,
                    all_branches=bool(values.get("all_branches")),
                )
                user_id = user.pk
                self.users[user.username] = user_id
                self.invited.append(user_id)
            self._remember("staff", record, user_id)
            self._tick("staff")
        for record, earlier in changed:
            values = record.values
            get_user_model().objects.filter(pk=_made_id(earlier)).update(
                first_name=values["full_name"][:150], email=values["email"]
            )
            self._updated("staff", earlier, record)
            self._tick("staff")

    def _groups(self, records: list[Record]) -> None:
        new, changed = self._split("groups", records)
        rows = []
        for record in new:
            values = record.values
            code = values["group_code"].upper()
            if code in self.groups:  # made by hand: used as it is
                self._remember("groups", record, self.groups[code])
                continue
            rows.append((record, self._group_of(values, MemberGroup(code=code[:20]))))
        MemberGroup.objects.bulk_create([group for _record, group in rows])
        for record, group in rows:
            self.groups[group.code] = group.pk
            self._remember("groups", record, group.pk)
        self._tick("groups", len(new))
        for record, earlier in changed:
            group = MemberGroup.objects.get(pk=_made_id(earlier))
            self._group_of(record.values, group).save()
            self._updated("groups", earlier, record)
            self._tick("groups")

    def _group_of(self, values: Mapping[str, Any], group: MemberGroup) -> MemberGroup:
        group.branch_id = self.branches[values["branch_code"]].pk
        group.name = values["name"][:120]
        group.meeting_weekday = WEEKDAYS.index(values["meeting_day"])
        group.meeting_place = (values.get("meeting_place") or "")[:200]
        group.field_officer_id = self.users.get(values.get("field_officer_username") or "")
        return group

    def _group_leaders(self, records: list[Record]) -> None:
        """Leaders are members: set once the members exist."""
        for record in records:
            leader = record.values.get("leader_member_no")
            if leader and leader in self.members:
                MemberGroup.objects.filter(code=record.values["group_code"].upper()).update(
                    leader_id=self.members[leader].id
                )

    # -- members and nominees --

    def _members(self, records: list[Record]) -> None:
        new, changed = self._split("members", records)
        member_types = dict(MemberType.objects.values_list("code", "id"))
        default_type = member_types.get(DEFAULT_MEMBER_TYPES[0].code) or next(iter(member_types.values()))
        rows = []
        for record in new:
            member = self._member_of(record.values, Member(), member_types, default_type, search=False)
            member.created_at = self.now
            rows.append(member)
        texts = parallel.map_in_processes(
            opening.member_search_text,
            [(member.full_name, member.number, member.national_id, member.phone) for member in rows],
        )
        for member, text in zip(rows, texts.results(), strict=True):
            member.search_text = text
        ids = copy_insert(Member, rows, exclude=())
        for record, member, pk in zip(new, rows, ids, strict=True):
            self.members[member.number] = _MemberRef(pk, member.branch_id, member.join_date)
            self._remember("members", record, pk)
        self._tick("members", len(new))
        for record, earlier in changed:
            member = Member.objects.get(pk=_made_id(earlier))
            self._member_of(record.values, member, member_types, default_type).save()
            self.members[member.number] = _MemberRef(member.pk, member.branch_id, member.join_date)
            self._updated("members", earlier, record)
            self._tick("members")
        self._member_counters()

    def _member_of(
        self,
        values: Mapping[str, Any],
        member: Member,
        member_types: Mapping[str, int],
        default_type: int,
        *,
        search: bool = True,
    ) -> Member:
        member.number = values["member_no"][:30]
        member.branch_id = self.branches[values["branch_code"]].pk
        group = values.get("group_code")
        member.group_id = self.groups.get(group.upper()) if group else None
        member.member_type_id = member_types.get((values.get("member_type") or "").upper(), default_type)
        member.full_name = values["full_name"][:200]
        member.guardian_name = (values.get("guardian_name") or "")[:200]
        member.gender = values.get("gender") or ""
        member.date_of_birth = values.get("date_of_birth")
        member.national_id = values.get("national_id") or ""
        member.phone = values.get("phone") or ""
        member.message_language = member.message_language or self.language
        member.address = values.get("address") or ""
        member.join_date = values["join_date"]
        member.status = values.get("status") or "active"
        member.exit_date = values.get("exit_date")
        if search:
            member.search_text = opening.member_search_text(
                (member.full_name, member.number, member.national_id, member.phone)
            )
        return member

    def _member_counters(self) -> None:
        """New members' numbers continue after the highest imported one of the branch's own format."""
        highest: dict[int, int] = {}
        codes = {branch.pk: branch.code for branch in self.branches.values()}
        for number, ref in self.members.items():
            match = _MEMBER_NUMBER.match(number)
            if match and match["branch"] == codes.get(ref.branch_id):
                highest[ref.branch_id] = max(highest.get(ref.branch_id, 0), int(match["number"]))
        with connection.cursor() as cursor:
            for branch_id, last in highest.items():
                cursor.execute(
                    "INSERT INTO members_membernumbercounter (branch_id, last_number) VALUES (%s, %s) "
                    "ON CONFLICT (branch_id) DO UPDATE SET last_number = "
                    "GREATEST(members_membernumbercounter.last_number, EXCLUDED.last_number)",
                    [branch_id, last],
                )

    def _nominees(self, records: list[Record]) -> None:
        new, changed = self._split("nominees", records)
        rows = [self._nominee_of(record.values, Nominee()) for record in new]
        ids = copy_insert(Nominee, rows)
        for record, pk in zip(new, ids, strict=True):
            self._remember("nominees", record, pk)
        for record, earlier in changed:
            nominee = Nominee.objects.get(pk=_made_id(earlier))
            self._nominee_of(record.values, nominee).save()
            self._updated("nominees", earlier, record)
        self._tick("nominees", len(records))

    def _nominee_of(self, values: Mapping[str, Any], nominee: Nominee) -> Nominee:
        nominee.member_id = self.members[values["member_no"]].id
        nominee.name = values["name"][:200]
        nominee.relationship = values["relationship"][:60]
        # Shares are whole per cent here; an old system's 33.33 % is kept as 33 %.
        nominee.share_percent = int(Decimal(values.get("share_percent") or 100).to_integral_value())
        nominee.phone = values.get("phone") or ""
        nominee.national_id = values.get("national_id") or ""
        return nominee

    # -- photos and ID scans --

    def _photos(self, records: list[Record]) -> None:
        """Each picture through the members' own document service (checked, re-encoded, thumbnailed,
        stored under the workspace's prefix); a changed picture becomes the current one."""
        new, changed = self._split(services.PHOTOS, records)
        zips: dict[int, bytes] = {}
        for record, earlier in [(record, None) for record in new] + list(changed):
            values = record.values
            file, picture = self.pictures[f"{values['member_no']}|{values['kind']}"]
            if file.pk not in zips:
                zips[file.pk] = services._stored_bytes(file)
            content = photos.picture_bytes(zips[file.pk], picture)
            try:
                document = member_document_upload(
                    actor=self.actor,
                    member=Member(pk=self.members[values["member_no"]].id),
                    kind=values["kind"],
                    content=content,
                )
            except BusinessRuleViolation as refusal:
                raise _refuse(
                    refusal.code,
                    _("%(name)s: %(reason)s") % {"name": picture.name, "reason": refusal.message},
                ) from refusal
            self.stored_files += [document.storage_path, document.thumbnail_path]
            if earlier is None:
                self._remember(services.PHOTOS, record, document.pk)
            else:
                ImportedRecord.objects.filter(pk=earlier.pk).update(object_id=document.pk)
                self._updated(services.PHOTOS, earlier, record)
            self._tick("photos")

    def discard_stored_files(self) -> None:
        _delete_files(self.stored_files)

    # -- money: shares, savings, loans --

    def _shares(self, records: list[Record]) -> None:
        new, _changed = self._split("shares", records)  # changed money is refused by the dry run
        nominal = services.share_nominal_value_minor()
        existing = dict(ShareAccount.objects.values_list("member_id", "id"))
        made: list[tuple[Record, ShareAccount]] = []
        for record in new:
            values = record.values
            member = self.members[values["member_no"]]
            balance = values["share_balance"]
            shares = values.get("share_count", balance // nominal if nominal else 0)
            if member.id in existing:  # an empty account (no purchase yet): it takes the holding
                account = ShareAccount(pk=existing[member.id], shares=shares, balance_minor=balance)
                ShareAccount.objects.filter(pk=account.pk).update(shares=shares, balance_minor=balance)
                self._share_opening(record, account, member)
                continue
            made.append(
                (
                    record,
                    ShareAccount(
                        member_id=member.id, shares=shares, balance_minor=balance, opened_on=member.join_date
                    ),
                )
            )
        copy_insert(ShareAccount, [account for _record, account in made])
        for record, account in made:
            self._share_opening(record, account, self.members[record.values["member_no"]])
        self._tick("shares", len(records))

    def _share_opening(self, record: Record, account: ShareAccount, member: _MemberRef) -> None:
        self._remember("shares", record, account.pk)
        if account.balance_minor and account.shares:
            key = record.values["member_no"]
            self.pending_shares.append(
                (account.pk, member.branch_id, account.shares, account.balance_minor, key)
            )
            self._line(member.branch_id, SHARE_CAPITAL_CODE, -account.balance_minor)

    def _savings(self, records: list[Record]) -> None:
        new, _changed = self._split("savings_accounts", records)
        products = {
            product.code: product for product in SavingsProduct.objects.select_related("control_account")
        }
        rows = []
        for record in new:
            values = record.values
            member = self.members[values["member_no"]]
            product = products[values["product_code"]]
            rows.append(
                SavingsAccount(
                    number=values["account_no"][:40],
                    member_id=member.id,
                    product_id=product.pk,
                    branch_id=member.branch_id,
                    opened_on=values["opened_on"],
                    status=values.get("status") or "active",
                    balance_minor=values["balance"],
                    lien_minor=0,
                    maturity_date=values.get("maturity_date"),
                    interest_posted_through=self.cut_over,
                    closed_on=self.cut_over if values.get("status") == "closed" else None,
                )
            )
            self._line(member.branch_id, product.control_account.code, -values["balance"])
            self._line(member.branch_id, INTEREST_PAYABLE_CODE, -values.get("accrued_interest", 0))
        ids = copy_insert(SavingsAccount, rows)
        for record, account, pk in zip(new, rows, ids, strict=True):
            self._remember("savings_accounts", record, pk)
            if account.balance_minor:
                self.pending_savings.append((pk, account.branch_id, account.balance_minor, account.number))
            if record.values.get("accrued_interest"):
                self.pending_accruals.append((pk, account.branch_id, record.values["accrued_interest"]))
        self._tick("savings", len(records))

    def _loans(self, records: list[Record]) -> None:
        new, _changed = self._split("loans", records)
        products = {
            product.code: product
            for product in LoanProduct.objects.select_related("receivable_account").prefetch_related("rates")
        }
        calendars: dict[int, dict[str, Any]] = {}
        earliest = min((record.values["disbursed_on"] for record in new), default=self.cut_over)
        meeting_days = dict(MemberGroup.objects.values_list("id", "meeting_weekday"))
        member_groups = (
            dict(
                Member.objects.filter(
                    pk__in=[self.members[r.values["member_no"]].id for r in new]
                ).values_list("id", "group_id")
            )
            if new
            else {}
        )
        terms_of = []
        for record in new:
            values = record.values
            member = self.members[values["member_no"]]
            if member.branch_id not in calendars:
                branch = next(b for b in self.branches.values() if b.pk == member.branch_id)
                calendars[member.branch_id] = loan_terms.calendar_json(branch, earliest)
            group_weekday = meeting_days.get(member_groups.get(member.id) or 0)
            terms_of.append(
                self._terms(
                    values, products[values["product_code"]], calendars[member.branch_id], group_weekday
                )
            )
        # Schedules on the other cores while the applications and loans are written here.
        schedules = parallel.map_in_processes(
            opening.instalment_rows,
            [
                (terms, r.values["disbursed_amount"] - r.values["principal_outstanding"],
                 r.values.get("interest_paid", 0), self.cut_over)
                for r, terms in zip(new, terms_of, strict=True)
            ],
        )  # fmt: skip
        applications, loans = [], []
        for record, terms in zip(new, terms_of, strict=True):
            values = record.values
            member = self.members[values["member_no"]]
            product = products[values["product_code"]]
            outstanding = values["principal_outstanding"]
            number = values["loan_no"][:40]
            applications.append(
                LoanApplication(
                    number=f"IMP-{number}"[:40],
                    member_id=member.id,
                    product_id=product.pk,
                    branch_id=member.branch_id,
                    amount_minor=values["disbursed_amount"],
                    installments=values["instalments"],
                    with_deferment=False,
                    purpose="",
                    collateral_value_minor=values.get("collateral_value", 0),
                    collateral_description=(values.get("collateral") or "")[:300],
                    applied_on=values["disbursed_on"],
                    status=ApplicationStatus.DISBURSED,
                    annual_rate=values["interest_rate"],
                    required_levels=[],
                    eligibility_json={"imported": True},
                    return_reasons="",
                    created_at=self.now,
                    created_by_id=self.actor_id,
                )
            )
            loans.append(
                Loan(
                    number=number,
                    member_id=member.id,
                    product_id=product.pk,
                    branch_id=member.branch_id,
                    principal_minor=values["disbursed_amount"],
                    disbursed_on=values["disbursed_on"],
                    terms_json=terms,
                    status=LoanStatus.ACTIVE if outstanding else LoanStatus.CLOSED,
                    principal_outstanding_minor=outstanding,
                    days_past_due=0,  # set from the schedule below, as the close of business would
                    overdue_minor=0,
                    arrears_as_of=self.cut_over,
                    closed_on=None if outstanding else self.cut_over,
                    interest_accrued_minor=0,
                    interest_receivable_minor=0,
                )
            )
            self._line(member.branch_id, product.receivable_account.code, outstanding)
        application_ids = copy_insert(LoanApplication, applications)
        for loan, application_id in zip(loans, application_ids, strict=True):
            loan.application_id = application_id
        loan_ids = copy_insert(Loan, loans)
        rows_of = schedules.results()
        guarantors = []
        for record, loan, loan_id, application_id, rows in zip(
            new, loans, loan_ids, application_ids, rows_of, strict=True
        ):
            values = record.values
            if isinstance(rows, dict):
                raise _refuse(
                    ErrorCode.SCHEDULE_TERMS_INVALID,
                    _("Loan %(loan)s: its schedule cannot be made (%(detail)s).")
                    % {
                        "loan": values["loan_no"],
                        "detail": "; ".join(f"{k}: {', '.join(v)}" for k, v in rows.items()),
                    },
                )
            for guarantor in values.get("guarantors") or ():
                if guarantor in self.members:
                    guarantors.append(
                        Guarantor(application_id=application_id, member_id=self.members[guarantor].id)
                    )
            self._remember("loans", record, loan_id)
            if loan.principal_outstanding_minor:
                self.pending_loans.append(
                    (loan_id, loan.branch_id, loan.principal_outstanding_minor, loan.number)
                )
                self.arrears.add(loan_id, values, *opening.arrears_at(rows, self.cut_over))
        _copy_tuples(
            LoanInstallment._meta.db_table,
            f"loan_id, {opening.INSTALMENT_COLUMNS}",
            (
                (loan_id, *row)
                for loan_id, rows in zip(loan_ids, rows_of, strict=True)
                for row in rows  # a dict (no schedule) refused the commit above
            ),
        )
        Guarantor.objects.bulk_create(guarantors, batch_size=5_000)
        self.arrears.write()
        self._tick("loans", len(records))

    def _terms(
        self,
        values: Mapping[str, Any],
        product: LoanProduct,
        calendar: Mapping[str, Any],
        meeting_weekday: int | None,
    ) -> dict[str, Any]:
        """The engine's terms from the product, with the loan's own rate, method, frequency and dates."""
        frequency = values["frequency"]
        repay_every = product.repay_every if frequency == product.frequency else 1
        terms: dict[str, Any] = {
            "principal": from_minor(values["disbursed_amount"], self.currency),
            "currency": self.currency,
            "annual_rate": str(values["interest_rate"]),
            "interest_method": values.get("interest_method") or product.interest_method,
            "amortization": product.amortization,
            "interest_period": product.interest_period,
            "days_in_year": int(product.days_in_year)
            if product.days_in_year.isdigit()
            else product.days_in_year,
            "days_in_month": int(product.days_in_month)
            if product.days_in_month.isdigit()
            else product.days_in_month,
            "frequency": frequency,
            "repay_every": repay_every,
            "installments": values["instalments"],
            "disbursement_date": values["disbursed_on"].isoformat(),
            "rounding": product.rounding,
            "grace_principal": 0,
            "grace_interest_payment": 0,
            "interest_free_periods": 0,
            "weekly_off_days": calendar.get("weekly_off_days", []),
            "holidays": _holidays_within(calendar.get("holidays", []), values, frequency, repay_every),
        }
        if values.get("first_due_on"):
            terms["first_due_date"] = values["first_due_on"].isoformat()
        elif product.follows_group_meetings and meeting_weekday is not None and frequency == "weekly":
            terms["meeting_weekday"] = meeting_weekday
            terms["minimum_days_to_first_meeting"] = product.minimum_days_to_first_meeting
        return terms

    # -- the trial balance and the opening entries --

    def _trial_balance(self, records: list[Record]) -> None:
        new, _changed = self._split("trial_balance", records)
        accounts = set(Account.objects.values_list("code", flat=True))
        for record in new:
            values = record.values
            self._remember("trial_balance", record, None)
            control = values.get("control_of") or ""
            if control in services.RECORD_CONTROLS:
                continue  # posted from the records it controls
            branch = self.branches.get(values.get("branch_code") or "") or self.head_office
            amount = values.get("debit", 0) - values.get("credit", 0)
            if control == "cash":
                code = cash_account_code(branch.code)
            else:
                code = values["account_code"]
                if code not in accounts:
                    account_create(
                        actor=self.actor,
                        code=code,
                        name=(values.get("account_name") or code)[:120],
                        kind=services.ACCOUNT_KIND_BY_DIGIT[code[0]],
                    )
                    accounts.add(code)
            self._line(branch.pk, code, amount)
        self._tick("trial_balance", len(records))

    def _post_opening(self) -> None:
        by_branch = {branch.pk: branch for branch in self.branches.values()}
        totals = {
            branch_id: sum(debit - credit for debit, credit in lines.values())
            for branch_id, lines in self.lines.items()
        }
        if sum(totals.values()):
            raise _refuse(
                ErrorCode.IMPORT_UNRECONCILED,
                _(
                    "The opening balances of this import do not balance: debits exceed credits "
                    "by %(amount)s (minor units)."
                )
                % {"amount": sum(totals.values())},
            )
        if any(totals.values()):
            self._inter_branch_account()
        self.entries: dict[int, JournalEntry] = {}
        for branch_id, lines in sorted(self.lines.items()):
            specs = [
                LineSpec(code, debit_minor=debit, credit_minor=credit)
                for code, (debit, credit) in sorted(lines.items())
                for debit, credit in [_net(debit, credit)]
                if debit or credit
            ]
            if totals[branch_id]:
                specs.append(_balancing(INTER_BRANCH_CODE, -totals[branch_id]))
            if not specs:
                continue
            entry = journal_post(
                idempotency_key=f"import:{self.job.pk}:opening:{by_branch[branch_id].code}",
                value_date=self.cut_over,
                branch=by_branch[branch_id],
                lines=specs,
                memo=_("Opening balances (import #%(job)s)") % {"job": self.job.pk},
                actor=self.actor,
            )
            self.entries[branch_id] = entry
            self.entry_ids.append(entry.pk)

    def _inter_branch_account(self) -> None:
        if not Account.objects.filter(code=INTER_BRANCH_CODE).exists():
            account_create(
                actor=self.actor,
                code=INTER_BRANCH_CODE,
                name=INTER_BRANCH_NAMES.get(self.language, INTER_BRANCH_NAMES["en"]),
                kind="asset",
            )

    def _write_subledger_openings(self) -> None:
        """Each balance's ``opening`` transaction, tied to its branch's opening entry (plain rows:
        hundreds of thousands of them)."""
        entry_of = {branch_id: entry.pk for branch_id, entry in self.entries.items()}
        job, now, by, day = self.job.pk, self.now, self.actor_id, self.cut_over
        _copy_tuples(
            SavingsTransaction._meta.db_table,
            "account_id, kind, amount_minor, balance_after_minor, value_date, entry_id, idempotency_key, "
            "channel, memo, created_at, created_by_id",
            (
                (account_id, SavingsKind.OPENING.value, amount, amount, day, entry_of[branch_id],
                 f"import:{job}:savings:{key}"[:120], Channel.IMPORT.value, "", now, by)
                for account_id, branch_id, amount, key in self.pending_savings
            ),
        )  # fmt: skip
        # Interest the old books had accrued: the account's share of 2200, released by its first
        # posting (see core_banking.savings.interest_posting, "Interest carried in").
        breakdown = Jsonb({"source": "import", "job": job})
        _copy_tuples(
            InterestPosting._meta.db_table,
            "account_id, kind, period_start, period_end, interest_minor, credited_minor, "
            "payable_change_minor, calculation, breakdown_json, entry_id, created_at, created_by_id",
            (
                (account_id, InterestPostingKind.OPENING.value, day, day, amount, 0, amount, "imported",
                 breakdown, entry_of[branch_id], now, by)
                for account_id, branch_id, amount in self.pending_accruals
            ),
        )  # fmt: skip
        _copy_tuples(
            ShareTransaction._meta.db_table,
            "account_id, kind, shares, amount_minor, shares_after, balance_after_minor, value_date, "
            "entry_id, idempotency_key, channel, memo, created_at, created_by_id",
            (
                (account_id, ShareTransactionKind.OPENING.value, shares, amount, shares, amount, day,
                 entry_of[branch_id], f"import:{job}:shares:{key}"[:120], Channel.IMPORT.value, "", now, by)
                for account_id, branch_id, shares, amount, key in self.pending_shares
            ),
        )  # fmt: skip
        _copy_tuples(
            LoanTransaction._meta.db_table,
            "loan_id, kind, value_date, amount_minor, principal_minor, interest_minor, fee_minor, "
            "penalty_minor, interest_from_receivable_minor, source, channel, entry_id, idempotency_key, "
            "memo, created_at, created_by_id",
            (
                (loan_id, LoanTransactionKind.OPENING.value, day, amount, amount, 0, 0, 0, 0, "",
                 Channel.IMPORT.value, entry_of[branch_id], f"import:{job}:loan:{key}"[:120], "", now, by)
                for loan_id, branch_id, amount, key in self.pending_loans
            ),
        )  # fmt: skip


class _ArrearsCheck:
    """The imported loans' arrears at the cut-over: what their schedules say (written to the loans,
    as the close of business of that day would), against what the old system said (kept on the job;
    the loans whose figures differ are listed for the admin to review, or roll back and correct)."""

    EXAMPLES = 200

    def __init__(self, cut_over: dt.date) -> None:
        self.cut_over = cut_over
        self.aged: list[tuple[int, int, int]] = []  # loan id, overdue, days past due
        self.loans_old = self.total_old = self.loans = self.total = self.differing = 0
        self.examples: list[dict[str, Any]] = []

    def add(self, loan_id: int, values: Mapping[str, Any], overdue: int, oldest: dt.date | None) -> None:
        old, old_since = values.get("arrears", 0), values.get("overdue_since")
        self.loans_old += old > 0
        self.total_old += old
        if overdue:
            assert oldest is not None
            self.aged.append((loan_id, overdue, (self.cut_over - oldest).days))
            self.loans += 1
            self.total += overdue
        if old != overdue:
            self.differing += 1
            if len(self.examples) < self.EXAMPLES:
                self.examples.append(
                    {
                        "loan": values["loan_no"],
                        "old": old,
                        "old_since": old_since.isoformat() if old_since else None,
                        "recomputed": overdue,
                        "since": oldest.isoformat() if oldest else None,
                    }
                )

    def write(self) -> None:
        if not self.aged:
            return
        ids, overdue, days = zip(*self.aged, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE lending_loan l SET overdue_minor = a.overdue, days_past_due = a.days "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::int[]) AS a(id, overdue, days) "
                "WHERE l.id = a.id",
                [list(ids), list(overdue), list(days)],
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "loans_old": self.loans_old,
            "total_old": self.total_old,
            "loans": self.loans,
            "total": self.total,
            "differing": self.differing,
            "examples": self.examples,
        }


# Days one instalment period can span, by frequency: the loan's calendar need not reach further.
_PERIOD_DAYS = {"weekly": 7, "fortnightly": 14, "monthly": 31, "once": 366}


def _holidays_within(
    holidays: Sequence[str], values: Mapping[str, Any], frequency: str, repay_every: int
) -> list[str]:
    """The branch's holidays (ISO dates, sorted) from the disbursement to well past the loan's last
    due date: what its schedule can fall on. A whole calendar of decades costs the engine more than
    the schedule itself, on every one of tens of thousands of loans."""
    start = values["disbursed_on"]
    first = values.get("first_due_on") or start
    span = _PERIOD_DAYS.get(frequency, 31) * repay_every * (values["instalments"] + 1) + 366
    end = (max(start, first) + dt.timedelta(days=span)).isoformat()
    return list(
        holidays[bisect.bisect_left(holidays, start.isoformat()) : bisect.bisect_right(holidays, end)]
    )


def _made_id(earlier: ImportedRecord) -> int:
    if earlier.object_id is None:
        raise RuntimeError(f"imported {earlier.entity} {earlier.key} names no record")
    return earlier.object_id


def _net(debit: int, credit: int) -> tuple[int, int]:
    """One side per account and branch: a debit and a credit on the same account net out."""
    return (debit - credit, 0) if debit >= credit else (0, credit - debit)


def _balancing(code: str, amount: int) -> LineSpec:
    return LineSpec(code, debit_minor=amount) if amount > 0 else LineSpec(code, credit_minor=-amount)


def _copy_tuples(table: str, columns: str, rows: Iterable[Sequence[Any]]) -> None:
    """COPY plain rows into ``table``; its id column takes the sequence's next values."""
    with server_cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# --- After the commit: invitations ---------------------------------------------------------------


def _invite(user_ids: Sequence[int]) -> None:
    """E-mail each invited staff user a link to choose their password (the link of a password reset)."""
    cooperative = current_cooperative()
    if cooperative is None or not user_ids:
        return
    from tenants.services import workspace_url

    base = workspace_url(cooperative).rstrip("/")
    for user in get_user_model().objects.filter(pk__in=user_ids).exclude(email=""):
        with translation.override(getattr(user, "language", "") or workspace_language()):
            link = base + reverse(
                "password_reset_confirm",
                kwargs={
                    "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                    "token": default_token_generator.make_token(user),
                },
            )
            context = {"user": user, "cooperative": cooperative.name, "link": link}
            subject = render_to_string("imports/email/invitation_subject.txt", context).strip()
            body = render_to_string("imports/email/invitation.txt", context)
        try:
            send_mail(subject, body, None, [user.email])
        except Exception:  # an unsent invitation is sent again from the staff page; the import stands
            logger.exception("import_invitation_failed", user_id=user.pk)


# --- Rollback ------------------------------------------------------------------------------------


def import_rollback(*, actor: Any | None, job_id: int, reason: str, operator: str = "") -> ImportJob:
    """Undo a committed import before the cooperative goes live: reverse its opening entries and
    remove what it made. Refused after going live, when something it made has been used since
    (a deposit, a repayment, a later import's records), or without a reason."""
    workspace_writable_require()
    reason = " ".join(reason.split())
    if not reason:
        raise _refuse(ErrorCode.VALIDATION_ERROR, _("Say why the import is rolled back."), "reason")
    with transaction.atomic():
        shown = f"{reason} ({_name(actor, operator)})" if operator else reason
        job = _roll_back(job_id, actor=actor, reason=shown, operator=operator)
    return job


def live_since() -> dt.datetime | None:
    cut_over = CutOver.objects.filter(pk=1).first()
    return cut_over.live_since if cut_over is not None else None


def used_since(job: ImportJob) -> bool:
    return bool(_used_since(job))


def _roll_back(
    job_id: int, *, actor: Any | None, reason: str, operator: str = "", keep_cut_over: bool = False
) -> ImportJob:
    """Inside the caller's transaction: the checks, the reversals, the removal, the audit record."""
    job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise _refuse(ErrorCode.NOT_FOUND, _("No such import."))
    if job.status != JobStatus.COMMITTED:
        raise _refuse(ErrorCode.IMPORT_NOT_REVERSIBLE, _("Only an imported job can be rolled back."))
    cut_over = CutOver.objects.select_for_update().filter(pk=1).first()
    if cut_over is not None and cut_over.live_since is not None:
        raise _refuse(
            ErrorCode.IMPORT_NOT_REVERSIBLE,
            _("The cooperative went live on %(date)s; correct records with the correction forms.")
            % {"date": timezone.localdate(cut_over.live_since).isoformat()},
        )
    used = _used_since(job)
    if used:
        raise _refuse(
            ErrorCode.IMPORT_NOT_REVERSIBLE,
            _("Records of this import have been used since: %(what)s.") % {"what": "; ".join(used)},
        )
    reversals = _reverse_openings(job, actor=actor, reason=reason)
    try:
        with transaction.atomic():
            _remove_made(job)
    except (ProtectedError, IntegrityError) as error:
        logger.info("import_rollback_refused", job_id=job_id, error=str(error))
        raise _refuse(
            ErrorCode.IMPORT_NOT_REVERSIBLE,
            _(
                "Records of this import are used by later records (a later import, or work since); "
                "roll those back first."
            ),
        ) from error
    job.status = JobStatus.ROLLED_BACK
    job.rolled_back_by = _person(actor)
    job.rolled_back_at = timezone.now()
    job.rollback_reason = reason[:300]
    job.save(update_fields=["status", "rolled_back_by", "rolled_back_at", "rollback_reason"])
    if (
        cut_over is not None
        and not keep_cut_over
        and not ImportJob.objects.filter(status=JobStatus.COMMITTED).exists()
    ):
        cut_over.delete()  # no import stands: a new one may choose another cut-over date
    audit_record(
        actor=actor,
        action="import.rollback",
        target=job,
        changes={"reason": reason, "reversals": reversals, **({"operator": operator} if operator else {})},
    )
    return job


def _made(job: ImportJob, entity: str) -> list[int]:
    ids = ImportedRecord.objects.filter(job=job, entity=entity, object_id__isnull=False).values_list(
        "object_id", flat=True
    )
    return [pk for pk in ids if pk is not None]


def _used_since(job: ImportJob) -> list[str]:
    """What has happened to this import's records since it landed, in words (empty: nothing)."""
    accounts = _made(job, "savings_accounts")
    checks = [
        (
            SavingsTransaction.objects.filter(account_id__in=accounts).exclude(channel=Channel.IMPORT),
            "account__number",
            _("savings account %(number)s has transactions"),
        ),
        (
            InterestPosting.objects.filter(account_id__in=accounts).exclude(kind=InterestPostingKind.OPENING),
            "account__number",
            _("savings account %(number)s has interest booked"),
        ),
        (
            LoanTransaction.objects.filter(loan_id__in=_made(job, "loans")).exclude(
                kind=LoanTransactionKind.OPENING
            ),
            "loan__number",
            _("loan %(number)s has transactions"),
        ),
        (
            ShareTransaction.objects.filter(account__member_id__in=_made(job, "members")).exclude(
                channel=Channel.IMPORT
            ),
            "account__member__number",
            _("member %(number)s bought shares"),
        ),
    ]
    found = []
    for rows, number_field, words in checks:
        number = rows.values_list(number_field, flat=True).first()
        if number is not None:
            found.append(words % {"number": number})
    return found


def _reverse_openings(job: ImportJob, *, actor: Any | None, reason: str) -> list[int]:
    reversals = []
    for entry in (
        JournalEntry.objects.filter(pk__in=job.opening_entry_ids).select_related("branch").order_by("id")
    ):
        lines = [
            LineSpec(line.account.code, debit_minor=line.credit_minor, credit_minor=line.debit_minor)
            for line in entry.lines.select_related("account").order_by("id")
        ]
        reversal = journal_post(
            idempotency_key=f"import:{job.pk}:rollback:{entry.pk}",
            value_date=entry.value_date,
            branch=entry.branch,
            lines=lines,
            memo=(_("Rollback of import #%(job)s: %(reason)s") % {"job": job.pk, "reason": reason})[:300],
            actor=actor,
            reverses=entry,
        )
        reversals.append(reversal.pk)
    return reversals


def _remove_made(job: ImportJob) -> None:
    """Delete what the import made, dependants first. Branches, staff users and chart accounts stay
    (the ledger's entries name them; staff are deactivated)."""
    loans = _made(job, "loans")
    accounts = _made(job, "savings_accounts")
    members = _made(job, "members")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL coopcore.import_rollback = 'on'")  # lets the import's share rows go
    LoanInstallment.objects.filter(loan_id__in=loans).delete()
    LoanTransaction.objects.filter(loan_id__in=loans, kind=LoanTransactionKind.OPENING).delete()
    applications = list(Loan.objects.filter(pk__in=loans).values_list("application_id", flat=True))
    Loan.objects.filter(pk__in=loans).delete()
    Guarantor.objects.filter(application_id__in=applications).delete()
    LoanApplication.objects.filter(pk__in=applications).delete()
    SavingsTransaction.objects.filter(account_id__in=accounts, channel=Channel.IMPORT).delete()
    InterestPosting.objects.filter(account_id__in=accounts, kind=InterestPostingKind.OPENING).delete()
    SavingsAccount.objects.filter(pk__in=accounts).delete()
    share_accounts = ShareAccount.objects.filter(Q(member_id__in=members) | Q(pk__in=_made(job, "shares")))
    ShareTransaction.objects.filter(account__in=share_accounts, channel=Channel.IMPORT).delete()
    share_accounts.delete()
    Nominee.objects.filter(Q(pk__in=_made(job, "nominees")) | Q(member_id__in=members)).delete()
    documents = MemberDocument.objects.filter(
        Q(pk__in=_made(job, services.PHOTOS)) | Q(member_id__in=members)
    )
    files = [path for pair in documents.values_list("storage_path", "thumbnail_path") for path in pair]
    documents.delete()
    transaction.on_commit(lambda: _delete_files(files))
    MemberGroup.objects.filter(leader_id__in=members).update(leader=None)
    Member.objects.filter(pk__in=members).delete()
    MemberGroup.objects.filter(pk__in=_made(job, "groups"), members__isnull=True).delete()
    staff = _made(job, "staff")
    get_user_model().objects.filter(pk__in=staff, last_login__isnull=True).update(is_active=False)
    ImportedRecord.objects.filter(job=job).delete()


def _delete_files(paths: Iterable[str]) -> None:
    for path in paths:
        default_storage.delete(path)


# --- Going live ----------------------------------------------------------------------------------


def workspace_go_live(*, actor: Any | None) -> CutOver:
    """The cooperative works in the product from now on: imports can no longer be rolled back."""
    workspace_writable_require()
    with transaction.atomic():
        cut_over = CutOver.objects.select_for_update().filter(pk=1).first()
        if cut_over is None:
            raise _refuse(ErrorCode.IMPORT_NOT_COMMITTABLE, _("Nothing has been imported yet."))
        if cut_over.live_since is not None:
            raise _refuse(ErrorCode.WORKSPACE_ALREADY_LIVE, _("The cooperative is already live."))
        if ImportJob.objects.filter(status=JobStatus.COMMITTING).exists():
            raise _refuse(
                ErrorCode.IMPORT_NOT_COMMITTABLE, _("Wait until the import under way has finished.")
            )
        cut_over.live_since = timezone.now()
        cut_over.live_by = _person(actor)
        cut_over.save(update_fields=["live_since", "live_by"])
        audit_record(
            actor=actor,
            action="import.go_live",
            target=cut_over,
            changes={"cut_over": cut_over.date.isoformat()},
        )
    return cut_over
