"""The one write path of the office books: vouchers, corrections, day, month and year closings.

Every entry goes through ``core_banking.ledger.services`` (``journal_post`` / ``journal_correct``),
in the same transaction as the accounting record and its audit event. Locks, in this order
everywhere: the branch's day lock (a PostgreSQL advisory lock; shared by postings, exclusive for
a day close), the voucher sequence row, then the ledger's chain head.

Rules:
- a voucher or a correction is refused for a branch and day that is closed (``day_closed``), and
  PostgreSQL refuses any entry dated in a closed period (``period_closed``);
- so is any money movement entered at the branch's counter (the office channel of savings,
  shares, cash and lending): those services call ``counter_day_open_require``
  (``core_banking.accounting.day_rules``); field collections, imports and system postings still
  land on a closed day;
- a month is closed once the year it ends is not an unclosed fiscal year's end; the last month of
  a fiscal year is closed by the year-end closing, which first moves every branch's income and
  expense into retained surplus;
- with ``corrections_need_approval`` a correction posts only once a second person approves it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from control_plane.audit.services import audit_record, diff
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.accounting import day_rules, selectors
from core_banking.accounting.fiscal import FiscalYear, first_year_end_after, is_month_end
from core_banking.accounting.models import (
    VOUCHER_PREFIX,
    AccountingSettings,
    BranchDayClose,
    CorrectionRequest,
    CorrectionStatus,
    PeriodClose,
    Voucher,
    VoucherKind,
    YearEndClosing,
)
from core_banking.ledger.models import Account, AccountKind, JournalEntry, LedgerState
from core_banking.ledger.presets import cash_account_code
from core_banking.ledger.services import LineSpec, journal_correct, journal_post_result
from core_banking.money import from_minor
from core_banking.organisation.models import Branch
from core_banking.staff.roles import Capability
from tenants.db import workspace_currency


@dataclass(frozen=True)
class VoucherLine:
    """One line as typed: an account and one positive side (receipts: credits; payments: debits)."""

    account_code: str
    debit_minor: int = 0
    credit_minor: int = 0


def typed_lines(kind: str, rows: Sequence[dict[str, Any]]) -> list[VoucherLine]:
    """Lines as typed on a form or sent to the API: a receipt's amounts are credits, a payment's
    debits; a journal voucher's debits and credits as given (amounts in minor units)."""
    lines = []
    for row in rows:
        debit, credit = int(row.get("debit") or 0), int(row.get("credit") or 0)
        amount = row.get("amount")
        if amount is not None and kind == VoucherKind.RECEIPT:
            credit = int(amount)
        elif amount is not None and kind == VoucherKind.PAYMENT:
            debit = int(amount)
        lines.append(VoucherLine(str(row.get("account") or ""), debit_minor=debit, credit_minor=credit))
    return lines


@dataclass(frozen=True)
class VoucherResult:
    voucher: Voucher
    replayed: bool  # True when the key had been used before: nothing new was posted


class _Replayed(Exception):
    """Another request committed the same key while this one waited: answer with its voucher."""


def _user(actor: Any | None) -> Any | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _require_key(idempotency_key: str) -> str:
    key = idempotency_key.strip()
    if not key or len(key) > 100:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            _("Every posting needs an idempotency key of 1-100 characters."),
            fields={"idempotency_key": [_("1-100 characters.")]},
        )
    return key


def _require_not_future(day: dt.date, field: str = "value_date") -> None:
    today = selectors.business_date()
    if day > today:
        raise BusinessRuleViolation(
            ErrorCode.ACCOUNTING_DATE_IN_FUTURE,
            _("%(day)s is after the business date %(today)s.")
            % {"day": day.isoformat(), "today": today.isoformat()},
            fields={field: [_("Not after %(today)s.") % {"today": today.isoformat()}]},
        )


# --- Branch days -----------------------------------------------------------------------------------


def _day_lock(branch_id: int, *, exclusive: bool) -> None:
    """Postings of a branch share its day lock; a day close takes it alone, so totals miss nothing."""
    day_rules.day_lock(branch_id, exclusive=exclusive)


def branch_day_open_require(*, branch: Branch, day: dt.date) -> None:
    """Refuse an office voucher or correction into a branch's closed day (the caller holds the day lock).

    Money movements of the modules (savings, shares, cash, lending) call
    ``counter_day_open_require``, which takes the lock itself and lets field, import and system
    postings through.
    """
    if selectors.day_is_closed(branch_id=branch.pk, day=day):
        raise day_rules.day_closed_error(branch=branch, day=day, counter=False)


@transaction.atomic
def branch_day_close(*, actor: Any | None, branch: Branch, day: dt.date) -> BranchDayClose:
    """Close a branch's day with its totals; closing it again returns the first close.

    From then on the branch's counter takes nothing more for that day (``counter_day_open_require``):
    the exclusive day lock waits for the postings in flight, so the totals include every posting
    that was accepted, and any posting checked afterwards sees the close.
    """
    _require_not_future(day, "day")
    _day_lock(branch.pk, exclusive=True)
    existing = BranchDayClose.objects.filter(branch=branch, day=day).first()
    if existing is not None:
        return existing
    return _record_day_close(actor=actor, branch=branch, day=day)


def _record_day_close(*, actor: Any | None, branch: Branch, day: dt.date) -> BranchDayClose:
    totals = selectors.day_totals(branch=branch, day=day)
    close = BranchDayClose.objects.create(
        branch=branch,
        day=day,
        closed_at=timezone.now(),
        closed_by=_user(actor),
        entry_count=totals.entry_count,
        debit_minor=totals.debit_minor,
        credit_minor=totals.credit_minor,
        cash_balance_minor=totals.cash_balance_minor,
    )
    audit_record(
        actor=actor,
        action="accounting.day_close",
        target=close,
        changes={
            "branch": branch.code,
            "day": day.isoformat(),
            "entries": totals.entry_count,
            "debit_minor": totals.debit_minor,
            "credit_minor": totals.credit_minor,
            "cash_balance_minor": totals.cash_balance_minor,
        },
    )
    return close


# --- Vouchers --------------------------------------------------------------------------------------


def _accounts_by_code(codes: set[str]) -> dict[str, Account]:
    return {account.code: account for account in Account.objects.filter(code__in=codes, is_active=True)}


def _check_account(
    account: Account | None, code: str, branch: Branch, field: str, problems: dict[str, list[str]]
) -> ErrorCode | None:
    if account is None:
        problems[field] = [_("No active account %(code)s.") % {"code": code}]
        return ErrorCode.ACCOUNT_UNKNOWN
    if account.branch_id is not None and account.branch_id != branch.pk:
        problems[field] = [_("Account %(code)s belongs to another branch.") % {"code": code}]
        return ErrorCode.ACCOUNT_OUTSIDE_BRANCH
    return None


def _amount_problem(kind: str, line: VoucherLine) -> str:
    amounts = (line.debit_minor, line.credit_minor)
    one_side = all(isinstance(a, int) and not isinstance(a, bool) for a in amounts) and (
        (line.debit_minor > 0 and line.credit_minor == 0) or (line.credit_minor > 0 and line.debit_minor == 0)
    )
    if not one_side:
        return _("One positive amount, debit or credit.")
    if kind == VoucherKind.RECEIPT and line.debit_minor:
        return _("A receipt's lines are credits.")
    if kind == VoucherKind.PAYMENT and line.credit_minor:
        return _("A payment's lines are debits.")
    return ""


def _line_problems(
    kind: str, branch: Branch, lines: Sequence[VoucherLine], cash_code: str
) -> tuple[dict[str, list[str]], list[ErrorCode]]:
    """Every line's problem (and the cash account's) as field messages, with their error codes."""
    problems: dict[str, list[str]] = {}
    codes: list[ErrorCode] = []
    accounts = _accounts_by_code({line.account_code for line in lines} | ({cash_code} - {""}))
    for number, line in enumerate(lines):
        field = f"lines[{number}]"
        code = _check_account(
            accounts.get(line.account_code), line.account_code, branch, f"{field}.account", problems
        )
        codes.extend([code] if code is not None else [])
        amount_problem = _amount_problem(kind, line)
        if amount_problem:
            problems[f"{field}.amount"] = [amount_problem]
            codes.append(ErrorCode.LINE_AMOUNT_INVALID)
    if cash_code:
        cash = accounts.get(cash_code)
        code = _check_account(cash, cash_code, branch, "cash_account", problems)
        if code is not None:
            codes.append(code)
        elif cash is not None and cash.kind != AccountKind.ASSET:
            problems["cash_account"] = [_("Cash or bank must be an asset account.")]
            codes.append(ErrorCode.VALIDATION_ERROR)
    return problems, codes


def ledger_lines_for(
    *, kind: str, branch: Branch, lines: Sequence[VoucherLine], cash_account: str = ""
) -> list[LineSpec]:
    """The balanced ledger lines of a voucher, or every problem at once as field messages.

    A receipt's lines are credits and its cash (or bank) account takes the total as a debit; a
    payment the other way round; a journal voucher's lines are given in full and must balance.
    """
    if kind not in VoucherKind.values:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, _("Unknown voucher kind."), fields={"kind": [_("Unknown.")]}
        )
    minimum = 2 if kind == VoucherKind.JOURNAL else 1
    if len(lines) < minimum:
        raise BusinessRuleViolation(
            ErrorCode.ENTRY_TOO_FEW_LINES,
            _("A voucher needs at least %(count)s line(s).") % {"count": minimum},
            fields={"lines": [_("At least %(count)s.") % {"count": minimum}]},
        )
    cash_code = "" if kind == VoucherKind.JOURNAL else (cash_account or cash_account_code(branch.code))
    problems, codes = _line_problems(kind, branch, lines, cash_code)
    if problems:
        raise BusinessRuleViolation(codes[0], _("Some lines are not valid."), fields=problems)
    specs = [LineSpec(line.account_code, line.debit_minor, line.credit_minor) for line in lines]
    total_debit = sum(spec.debit_minor for spec in specs)
    total_credit = sum(spec.credit_minor for spec in specs)
    if kind == VoucherKind.RECEIPT:
        return [LineSpec(cash_code, debit_minor=total_credit), *specs]
    if kind == VoucherKind.PAYMENT:
        return [*specs, LineSpec(cash_code, credit_minor=total_debit)]
    if total_debit != total_credit:
        currency = workspace_currency()
        difference = _("Debits %(debit)s ≠ credits %(credit)s.") % {
            "debit": from_minor(total_debit, currency),
            "credit": from_minor(total_credit, currency),
        }
        raise BusinessRuleViolation(
            ErrorCode.ENTRY_UNBALANCED, _("The voucher does not balance."), fields={"lines": [difference]}
        )
    return specs


def _next_number(*, branch: Branch, kind: str, value_date: dt.date) -> tuple[int, int, str]:
    """(fiscal year, sequence, number) of the branch's next voucher of this kind; locks the sequence."""
    year = selectors.fiscal_year_for(value_date)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounting_vouchersequence (branch_id, fiscal_year, kind, last_number) "
            "VALUES (%s, %s, %s, 0) ON CONFLICT (branch_id, fiscal_year, kind) DO NOTHING",
            [branch.pk, year.start_year, kind],
        )
        cursor.execute(
            "UPDATE accounting_vouchersequence SET last_number = last_number + 1 "
            "WHERE branch_id = %s AND fiscal_year = %s AND kind = %s RETURNING last_number",
            [branch.pk, year.start_year, kind],
        )
        row = cursor.fetchone()
        assert row is not None
        sequence = int(row[0])
    number = f"{VOUCHER_PREFIX[VoucherKind(kind)]}-{branch.code}-{year.label}-{sequence:05d}"
    return year.start_year, sequence, number


def _voucher_replay(existing: Voucher, content_hash: str) -> VoucherResult:
    if existing.content_hash != content_hash:
        raise BusinessRuleViolation(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            _("This idempotency key was already used for a different voucher."),
            fields={"idempotency_key": [_("Used by voucher %(number)s.") % {"number": existing.number}]},
        )
    return VoucherResult(voucher=existing, replayed=True)


def voucher_post(
    *,
    actor: Any | None,
    branch: Branch,
    kind: str,
    value_date: dt.date,
    narration: str,
    lines: Sequence[VoucherLine],
    idempotency_key: str,
    cash_account: str = "",
) -> VoucherResult:
    """Post a receipt, payment or journal voucher: one balanced entry, numbered per branch and year.

    The same key with the same content returns the first voucher; with other content it is refused.
    """
    key = _require_key(idempotency_key)
    narration = narration.strip()
    if not narration:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            _("A voucher needs a narration."),
            fields={"narration": [_("Required.")]},
        )
    specs = ledger_lines_for(kind=kind, branch=branch, lines=lines, cash_account=cash_account)
    content_hash = _content_hash(
        {
            "kind": kind,
            "branch": branch.code,
            "value_date": value_date.isoformat(),
            "narration": narration,
            "lines": [[spec.account_code, spec.debit_minor, spec.credit_minor] for spec in specs],
        }
    )
    existing = Voucher.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _voucher_replay(existing, content_hash)
    _require_not_future(value_date)
    try:
        with transaction.atomic():
            voucher = _post_voucher(
                actor=actor,
                branch=branch,
                kind=kind,
                value_date=value_date,
                narration=narration,
                specs=specs,
                key=key,
                content_hash=content_hash,
            )
    except (_Replayed, IntegrityError):
        existing = Voucher.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _voucher_replay(existing, content_hash)
    return VoucherResult(voucher=voucher, replayed=False)


def _post_voucher(
    *,
    actor: Any | None,
    branch: Branch,
    kind: str,
    value_date: dt.date,
    narration: str,
    specs: Sequence[LineSpec],
    key: str | None,
    content_hash: str,
    corrects: JournalEntry | None = None,
    entry: JournalEntry | None = None,
) -> Voucher:
    """Number the voucher and post its entry (or take the given one); the caller holds the transaction."""
    _day_lock(branch.pk, exclusive=False)
    if entry is None:
        branch_day_open_require(branch=branch, day=value_date)
    fiscal_year, sequence, number = _next_number(branch=branch, kind=kind, value_date=value_date)
    if key is not None and Voucher.objects.filter(idempotency_key=key).exists():
        raise _Replayed
    if entry is None:
        entry = journal_post_result(
            idempotency_key=f"voucher:{key}",
            value_date=value_date,
            branch=branch,
            lines=specs,
            memo=f"{number} {narration}"[:300],
            actor=actor,
        ).entry
    voucher = Voucher.objects.create(
        number=number,
        kind=kind,
        branch=branch,
        fiscal_year=fiscal_year,
        sequence=sequence,
        value_date=value_date,
        narration=narration,
        entry=entry,
        corrects=corrects,
        idempotency_key=key,
        content_hash=content_hash,
        posted_by=_user(actor),
        posted_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="accounting.voucher_post",
        target=voucher,
        changes={
            "number": number,
            "kind": kind,
            "branch": branch.code,
            "value_date": value_date.isoformat(),
            "entry": entry.pk,
            "corrects": corrects.pk if corrects else None,
            "lines": [[spec.account_code, spec.debit_minor, spec.credit_minor] for spec in specs],
        },
    )
    return voucher


# --- Corrections ---------------------------------------------------------------------------------


def _lines_json(specs: Sequence[LineSpec]) -> list[list[Any]]:
    return [[spec.account_code, spec.debit_minor, spec.credit_minor] for spec in specs]


def _refuse_uncorrectable(original: JournalEntry) -> None:
    if original.reverses_id is not None:
        raise BusinessRuleViolation(
            ErrorCode.ENTRY_IS_A_REVERSAL,
            _("A reversal cannot itself be corrected; correct the entry it reversed."),
            fields={"original": [_("Entry %(entry)s is a reversal.") % {"entry": original.pk}]},
        )
    if original.reversals.exists():
        raise BusinessRuleViolation(
            ErrorCode.ENTRY_ALREADY_CORRECTED,
            _("Entry %(entry)s was already corrected.") % {"entry": original.pk},
            fields={"original": [_("Already corrected.")]},
        )
    owner = selectors.entry_owner(original)
    if owner or YearEndClosing.objects.filter(entry=original).exists():
        raise BusinessRuleViolation(
            ErrorCode.ENTRY_OWNED_BY_MODULE,
            _("Entry %(entry)s belongs to a %(owner)s; correct it there.")
            % {"entry": original.pk, "owner": owner or _("year-end closing")},
            fields={"original": [_("Not an office entry.")]},
        )


def correction_submit(
    *,
    actor: Any | None,
    original: JournalEntry,
    reason: str,
    value_date: dt.date,
    corrected_lines: Sequence[VoucherLine],
    idempotency_key: str,
    narration: str = "",
) -> CorrectionRequest:
    """Ask to correct a posted entry: its reversal and, if lines are given, the corrected entry.

    Posted at once unless the workspace's corrections need approval; then it waits for a checker.
    The same key with the same content returns the first request.
    """
    key = _require_key(idempotency_key)
    reason = reason.strip()
    if not reason:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, _("A correction needs a reason."), fields={"reason": [_("Required.")]}
        )
    specs = (
        ledger_lines_for(kind=VoucherKind.JOURNAL, branch=original.branch, lines=corrected_lines)
        if corrected_lines
        else []
    )
    narration = narration.strip()
    content_hash = _content_hash(
        {
            "original": original.pk,
            "reason": reason,
            "value_date": value_date.isoformat(),
            "narration": narration,
            "lines": _lines_json(specs),
        }
    )
    existing = CorrectionRequest.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _correction_replay(existing, content_hash)
    _refuse_uncorrectable(original)
    _require_not_future(value_date)
    branch_day_open_require(branch=original.branch, day=value_date)
    settings = selectors.accounting_settings()
    with transaction.atomic():
        JournalEntry.objects.select_for_update().filter(pk=original.pk).values_list("pk").first()
        live = CorrectionRequest.objects.filter(
            original=original, status__in=[CorrectionStatus.PENDING, CorrectionStatus.POSTED]
        ).first()
        if live is not None:
            if live.idempotency_key == key:
                return _correction_replay(live, content_hash)
            raise BusinessRuleViolation(
                ErrorCode.CORRECTION_PENDING,
                _("Entry %(entry)s already has a correction (%(status)s).")
                % {"entry": original.pk, "status": live.get_status_display()},
                fields={"original": [_("Correction %(id)s.") % {"id": live.pk}]},
            )
        request = CorrectionRequest.objects.create(
            original=original,
            reason=reason,
            value_date=value_date,
            narration=narration,
            corrected_lines=_lines_json(specs),
            idempotency_key=key,
            content_hash=content_hash,
            status=CorrectionStatus.PENDING,
            maker=_user(actor),
            made_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="accounting.correction_submit",
            target=request,
            changes={
                "original": original.pk,
                "reason": reason,
                "value_date": value_date.isoformat(),
                "lines": request.corrected_lines,
                "needs_approval": settings.corrections_need_approval,
            },
        )
        if not settings.corrections_need_approval:
            _correction_post(request=request, actor=actor)
    return request


def _correction_replay(existing: CorrectionRequest, content_hash: str) -> CorrectionRequest:
    if existing.content_hash != content_hash:
        raise BusinessRuleViolation(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            _("This idempotency key was already used for a different correction."),
            fields={"idempotency_key": [_("Used by correction %(id)s.") % {"id": existing.pk}]},
        )
    return existing


def _correction_post(*, request: CorrectionRequest, actor: Any | None) -> None:
    """Post the reversal and the corrected entry (numbered as a voucher) linked to the original."""
    original = request.original
    branch = original.branch
    _day_lock(branch.pk, exclusive=False)
    branch_day_open_require(branch=branch, day=request.value_date)
    specs = [LineSpec(code, debit, credit) for code, debit, credit in request.corrected_lines]
    correction = journal_correct(
        original=original,
        reason=request.reason,
        idempotency_key=f"correction-{request.pk}",
        value_date=request.value_date,
        corrected_lines=specs,
        actor=actor,
    )
    if correction.corrected is not None:
        voucher = Voucher.objects.filter(entry=original).first()
        _post_voucher(
            actor=actor,
            branch=branch,
            kind=voucher.kind if voucher else VoucherKind.JOURNAL,
            value_date=request.value_date,
            narration=(request.narration or (voucher.narration if voucher else "") or request.reason)[:250],
            specs=specs,
            key=None,  # the correction request carries the key
            content_hash=request.content_hash,
            corrects=original,
            entry=correction.corrected,
        )
    request.status = CorrectionStatus.POSTED
    request.reversal = correction.reversal
    request.corrected = correction.corrected
    user = _user(actor)
    if request.maker_id is not None and user is not None and user.pk != request.maker_id:
        request.checker = user
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "reversal", "corrected", "checker", "decided_at"])


def _lock_pending(request_id: int) -> CorrectionRequest:
    request = (
        CorrectionRequest.objects.select_for_update()
        .select_related("original__branch")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such correction."))
    return request


def _require_checker(request: CorrectionRequest, actor: Any | None) -> None:
    user = _user(actor)
    if user is None or user.pk == request.maker_id:
        raise BusinessRuleViolation(
            ErrorCode.MAKER_CANNOT_CHECK,
            _("A correction is approved or rejected by someone other than the person who made it."),
            fields={"checker": [_("Not the maker.")]},
        )
    profile = getattr(user, "staff_profile", None)
    visible = profile.visible_branch_ids() if profile is not None else []
    allowed = profile is not None and profile.can(Capability.POST_JOURNAL) and not profile.read_only
    if not allowed or (visible is not None and request.original.branch_id not in visible):
        raise BusinessRuleViolation(
            ErrorCode.PERMISSION_DENIED,
            _("Your roles do not allow this (%(capability)s).") % {"capability": Capability.POST_JOURNAL},
        )


@transaction.atomic
def correction_approve(*, actor: Any | None, request_id: int) -> CorrectionRequest:
    """A second person approves a pending correction: it posts now. Approving again changes nothing."""
    request = _lock_pending(request_id)
    _require_checker(request, actor)
    if request.status == CorrectionStatus.POSTED and request.checker_id == actor.pk:  # type: ignore[union-attr]
        return request
    if request.status != CorrectionStatus.PENDING:
        raise BusinessRuleViolation(
            ErrorCode.CORRECTION_NOT_PENDING,
            _("Correction %(id)s is %(status)s.")
            % {"id": request.pk, "status": request.get_status_display()},
        )
    _correction_post(request=request, actor=actor)
    audit_record(
        actor=actor,
        action="accounting.correction_approve",
        target=request,
        changes={
            "original": request.original_id,
            "maker": request.maker_id,
            "reversal": request.reversal_id,
            "corrected": request.corrected_id,
        },
    )
    return request


@transaction.atomic
def correction_reject(*, actor: Any | None, request_id: int, reason: str) -> CorrectionRequest:
    request = _lock_pending(request_id)
    _require_checker(request, actor)
    if request.status != CorrectionStatus.PENDING:
        raise BusinessRuleViolation(
            ErrorCode.CORRECTION_NOT_PENDING,
            _("Correction %(id)s is %(status)s.")
            % {"id": request.pk, "status": request.get_status_display()},
        )
    if not reason.strip():
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, _("Say why it is rejected."), fields={"reason": [_("Required.")]}
        )
    request.status = CorrectionStatus.REJECTED
    request.checker = actor
    request.decided_at = timezone.now()
    request.rejection_reason = reason.strip()[:250]
    request.save(update_fields=["status", "checker", "decided_at", "rejection_reason"])
    audit_record(
        actor=actor,
        action="accounting.correction_reject",
        target=request,
        changes={"original": request.original_id, "maker": request.maker_id, "reason": reason.strip()},
    )
    return request


# --- Months and years ----------------------------------------------------------------------------


def _lock_books() -> LedgerState:
    """Every branch's day lock (in id order), then the ledger's state row: the order postings use."""
    for branch_id in Branch.objects.order_by("pk").values_list("pk", flat=True):
        _day_lock(branch_id, exclusive=True)
    return LedgerState.objects.select_for_update().get()


def _close_open_days(*, actor: Any | None, after: dt.date | None, through: dt.date) -> None:
    branches = {branch.pk: branch for branch in Branch.objects.all()}
    for branch_id, day in selectors.open_days_with_postings(after=after, through=through):
        _record_day_close(actor=actor, branch=branches[branch_id], day=day)


def _close_through(
    *, actor: Any | None, state: LedgerState, period_end: dt.date, is_year_end: bool
) -> PeriodClose:
    previous = state.closed_through
    _close_open_days(actor=actor, after=previous, through=period_end)
    LedgerState.objects.filter(pk=state.pk).update(closed_through=period_end)
    close = PeriodClose.objects.create(
        period_end=period_end,
        previous_closed_through=previous,
        is_year_end=is_year_end,
        closed_at=timezone.now(),
        closed_by=_user(actor),
    )
    audit_record(
        actor=actor,
        action="accounting.year_close" if is_year_end else "accounting.period_close",
        target=close,
        changes={
            "closed_through": period_end.isoformat(),
            "previous": previous.isoformat() if previous else None,
        },
    )
    return close


def _unclosed_year_end(*, closed_through: dt.date | None, before: dt.date) -> dt.date | None:
    """A fiscal-year end in (closed_through, before) that has not been closed, if postings reach it."""
    after = closed_through
    if after is None:
        first = selectors.first_posting_date()
        if first is None:
            return None
        after = first - dt.timedelta(days=1)
    start_month = selectors.accounting_settings().fiscal_year_start_month
    return first_year_end_after(after, before - dt.timedelta(days=1), start_month)


def _refuse_unclosed_year(closed_through: dt.date | None, before: dt.date) -> None:
    year_end = _unclosed_year_end(closed_through=closed_through, before=before)
    if year_end is not None:
        year = selectors.fiscal_year_for(year_end)
        raise BusinessRuleViolation(
            ErrorCode.FISCAL_YEAR_NOT_CLOSED,
            _("Close the fiscal year %(year)s (ending %(end)s) first.")
            % {"year": year.label, "end": year_end.isoformat()},
            fields={"fiscal_year": [_("Year %(year)s is not closed.") % {"year": year.label}]},
        )


@transaction.atomic
def period_close(*, actor: Any | None, period_end: dt.date) -> PeriodClose:
    """Close the books through a month's last day: no entry may be dated on or before it any more.

    Branch days of the period that had postings and were not closed are closed with their totals.
    The last month of a fiscal year is closed by ``fiscal_year_close``.
    """
    if not is_month_end(period_end):
        raise BusinessRuleViolation(
            ErrorCode.PERIOD_CLOSE_INVALID,
            _("A period closes on the last day of a month."),
            fields={"period_end": [_("Not a month's last day.")]},
        )
    if period_end >= selectors.business_date():
        raise BusinessRuleViolation(
            ErrorCode.PERIOD_CLOSE_INVALID,
            _("The month is not over yet."),
            fields={"period_end": [_("The month is not over yet.")]},
        )
    state = _lock_books()
    existing = PeriodClose.objects.filter(period_end=period_end).first()
    if existing is not None:
        return existing
    if state.closed_through is not None and period_end <= state.closed_through:
        raise BusinessRuleViolation(
            ErrorCode.PERIOD_CLOSED,
            _("The books are already closed through %(day)s.") % {"day": state.closed_through.isoformat()},
            fields={"period_end": [_("Already closed.")]},
        )
    if selectors.fiscal_year_for(period_end).end == period_end:
        raise BusinessRuleViolation(
            ErrorCode.PERIOD_CLOSE_INVALID,
            _("%(day)s ends a fiscal year: close it with the year-end closing.")
            % {"day": period_end.isoformat()},
            fields={"period_end": [_("Use the year-end closing.")]},
        )
    _refuse_unclosed_year(state.closed_through, period_end)
    return _close_through(actor=actor, state=state, period_end=period_end, is_year_end=False)


@dataclass(frozen=True)
class YearEndResult:
    fiscal_year: FiscalYear
    period: PeriodClose
    closings: list[YearEndClosing]


def _year_end_result(year: FiscalYear, period: PeriodClose) -> YearEndResult:
    closings = list(
        YearEndClosing.objects.filter(fiscal_year=year.start_year)
        .select_related("branch", "entry")
        .order_by("branch__code")
    )
    return YearEndResult(fiscal_year=year, period=period, closings=closings)


def _retained_surplus(settings: AccountingSettings) -> Account:
    account = Account.objects.filter(
        code=settings.retained_surplus_code, is_active=True, kind=AccountKind.EQUITY
    ).first()
    if account is None:
        raise BusinessRuleViolation(
            ErrorCode.ACCOUNT_UNKNOWN,
            _("No active equity account %(code)s for the retained surplus.")
            % {"code": settings.retained_surplus_code},
            fields={"retained_surplus_code": [_("Unknown.")]},
        )
    return account


@transaction.atomic
def fiscal_year_close(*, actor: Any | None, fiscal_year: int) -> YearEndResult:
    """Close a fiscal year: per branch, one balanced entry on its last day moves every income and
    expense balance into retained surplus; then the books are closed through that day.

    Idempotent: closing a closed year again returns what was done.
    """
    settings = selectors.accounting_settings()
    year = FiscalYear(fiscal_year, settings.fiscal_year_start_month)
    if year.end >= selectors.business_date():
        raise BusinessRuleViolation(
            ErrorCode.FISCAL_YEAR_CLOSE_INVALID,
            _("The fiscal year %(year)s is not over yet.") % {"year": year.label},
            fields={"fiscal_year": [_("Not over yet.")]},
        )
    state = _lock_books()
    existing = PeriodClose.objects.filter(period_end=year.end, is_year_end=True).first()
    if existing is not None:
        return _year_end_result(year, existing)
    if state.closed_through is not None and state.closed_through >= year.end:
        raise BusinessRuleViolation(
            ErrorCode.FISCAL_YEAR_CLOSE_INVALID,
            _("The books are closed through %(day)s, past the end of %(year)s.")
            % {"day": state.closed_through.isoformat(), "year": year.label},
            fields={"fiscal_year": [_("Already in a closed period.")]},
        )
    _refuse_unclosed_year(state.closed_through, year.end)
    surplus_account = _retained_surplus(settings)
    branches = {branch.pk: branch for branch in Branch.objects.all()}
    closings = []
    for result in selectors.income_and_expense_through(year.end):
        branch = branches[result.branch_id]
        lines = [
            LineSpec(code, debit_minor=-net, credit_minor=0) if net < 0 else LineSpec(code, credit_minor=net)
            for code, net in sorted(result.balances.items())
        ]
        if result.surplus_minor > 0:
            lines.append(LineSpec(surplus_account.code, credit_minor=result.surplus_minor))
        elif result.surplus_minor < 0:
            lines.append(LineSpec(surplus_account.code, debit_minor=-result.surplus_minor))
        entry = journal_post_result(
            idempotency_key=f"year-end:{year.start_year}:{branch.code}",
            value_date=year.end,
            branch=branch,
            lines=lines,
            memo=_("Year-end closing %(year)s") % {"year": year.label},
            actor=actor,
        ).entry
        closings.append(
            YearEndClosing.objects.create(
                fiscal_year=year.start_year,
                branch=branch,
                entry=entry,
                income_minor=result.income_minor,
                expense_minor=result.expense_minor,
                surplus_minor=result.surplus_minor,
                closed_at=timezone.now(),
                closed_by=_user(actor),
            )
        )
    period = _close_through(actor=actor, state=state, period_end=year.end, is_year_end=True)
    audit_record(
        actor=actor,
        action="accounting.year_end_closing",
        target=period,
        changes={
            "fiscal_year": year.label,
            "branches": {
                closing.branch.code: {
                    "entry": closing.entry_id,
                    "income_minor": closing.income_minor,
                    "expense_minor": closing.expense_minor,
                    "surplus_minor": closing.surplus_minor,
                }
                for closing in closings
            },
        },
    )
    return _year_end_result(year, period)


# --- Settings --------------------------------------------------------------------------------------


@transaction.atomic
def accounting_settings_update(
    *, actor: Any | None, fiscal_year_start_month: int, corrections_need_approval: bool
) -> AccountingSettings:
    """Change the fiscal year's first month (only before any voucher or closing) and maker-checker."""
    current = selectors.accounting_settings()
    if not 1 <= fiscal_year_start_month <= 12:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            _("A month is 1-12."),
            fields={"fiscal_year_start_month": [_("1-12.")]},
        )
    changed_start = fiscal_year_start_month != current.fiscal_year_start_month
    if changed_start and (
        Voucher.objects.exists() or PeriodClose.objects.exists() or YearEndClosing.objects.exists()
    ):
        raise BusinessRuleViolation(
            ErrorCode.FISCAL_YEAR_START_LOCKED,
            _("The fiscal year's start cannot change once vouchers are numbered or periods closed."),
            fields={"fiscal_year_start_month": [_("Locked.")]},
        )
    before = {
        "fiscal_year_start_month": current.fiscal_year_start_month,
        "corrections_need_approval": current.corrections_need_approval,
    }
    saved, _created = AccountingSettings.objects.update_or_create(
        pk=selectors.SETTINGS_ID,
        defaults={
            "fiscal_year_start_month": fiscal_year_start_month,
            "corrections_need_approval": corrections_need_approval,
            "retained_surplus_code": current.retained_surplus_code,
        },
    )
    after = {
        "fiscal_year_start_month": fiscal_year_start_month,
        "corrections_need_approval": corrections_need_approval,
    }
    audit_record(actor=actor, action="accounting.settings", target=saved, changes=diff(before, after))
    return saved
