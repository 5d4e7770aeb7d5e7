"""Backups and restores of cooperative workspaces: the one write path (how it works: docs/backups.md).

What the console and the commands call, all keyword-only:

``backup_start(*, cooperative, actor, kind=ON_DEMAND) -> Backup``
    Record a backup and queue its run on a worker (after the caller's transaction commits).
``restore_start(*, backup, actor, cooperative=None) -> Restore``
    Check that the backup may be restored into its cooperative (``cooperative``, when given, must
    be that one), record the restore and queue it. The run backs up the live schema first (kind
    ``pre_restore``), restores into a fresh schema, verifies it (row counts against the manifest,
    migrations, the ledger's hash chain) and only then swaps it in; the old schema stays, renamed.
``backup_old_schema_drop(*, cooperative, schema_name, actor) -> Restore``
    Drop a schema a restore set aside; only such a schema, and only once.
``backups_prune(*, cooperative=None, policy=None, actor=None, now=None) -> PruneReport``
    Apply the retention policy (``BACKUP_RETENTION``); never removes the newest good backup.
``restore_drill(*, cooperative, actor=None) -> Restore``
    Restore the latest good backup into a scratch schema, verify, drop it; a failure is recorded,
    sent to Sentry and shown in the console.

``backup_create`` / ``restore_create`` record without queueing and ``backup_run`` / ``restore_run``
do the work: the Celery tasks and the management commands use them. A run holds the cooperative's
advisory lock (``postgres.OperationLock``) throughout, so one backup or restore of a cooperative
runs at a time; the services refuse to queue a second while one is queued or running.

Every record lives in the public schema, and every action writes an audit event there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sentry_sdk
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from control_plane.audit.services import SYSTEM_ACTOR, audit_record
from control_plane.backups import postgres, storage
from control_plane.backups.errors import BackupErrorCode, BackupRefused
from control_plane.backups.models import (
    ACTIVE_STATUSES,
    Backup,
    BackupKind,
    Phase,
    Restore,
    RestoreMode,
    RunStatus,
)
from control_plane.backups.retention import Candidate, RetentionPolicy, backups_to_keep
from tenants.models import Cooperative

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, str], None]

# A queued run that no worker picked up within this long is taken as lost (broker flushed, etc.).
QUEUED_STALE_AFTER = dt.timedelta(hours=6)
# The nightly task tries again on the next hour after a failure, this many times a day at most.
SCHEDULED_ATTEMPTS_PER_DAY = 3
# How long the swap waits for the workspace's open transactions before giving up (and keeping the
# old schema live).
SWAP_LOCK_TIMEOUT = "60s"


def _public() -> Any:
    return schema_context(settings.PUBLIC_SCHEMA_NAME)


def _actor_label(actor: Any | None) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return str(actor.get_username())[:200]
    return SYSTEM_ACTOR


def _clip(message: object) -> str:
    return str(message)[:4000]


# --- Progress ------------------------------------------------------------------------------------


class _Progress:
    """Writes a run's percent and phase to its row (committed at once) for the console to poll."""

    def __init__(self, record: Backup | Restore, on_progress: ProgressCallback | None) -> None:
        self.model: type[Model] = type(record)
        self.pk = record.pk
        self.percent = 0
        self.phase = str(Phase.QUEUED)
        self.on_progress = on_progress
        self._written: tuple[int, str] | None = None
        self._written_at = 0.0

    def set(self, percent: float, phase: str | None = None) -> None:
        changed_phase = phase is not None and phase != self.phase
        self.percent = max(self.percent if not changed_phase else 0, min(100, int(percent)))
        if phase is not None:
            self.phase = str(phase)
        self.flush(force=changed_phase)

    def flush(self, *, force: bool = False) -> None:
        state = (self.percent, self.phase)
        now = time.monotonic()
        if state == self._written or (not force and now - self._written_at < 1.0):
            return
        self.model._default_manager.filter(pk=self.pk).update(
            progress_percent=self.percent, phase=self.phase, heartbeat_at=timezone.now()
        )
        self._written, self._written_at = state, now
        if self.on_progress is not None:
            self.on_progress(self.percent, self.phase)


class _TableProgress:
    """How far pg_dump or pg_restore is, from the tables it has started, weighted by their rows."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.weights = {table: rows + 50 for table, rows in counts.items()}
        self.total = max(1, sum(self.weights.values()))
        self.done = 0
        self.current: str | None = None

    def on_table(self, table: str) -> None:
        if self.current is not None:
            self.done += self.weights.get(self.current, 50)
        self.current = table

    def fraction(self) -> float:
        return min(1.0, self.done / self.total)


@contextlib.contextmanager
def _work_dir() -> Iterator[Path]:
    base = settings.BACKUP_WORK_DIR or None
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="coopcore-backup-", dir=base) as directory:
        yield Path(directory)


# --- One operation at a time per cooperative -----------------------------------------------------


def _refuse_if_busy(cooperative: Cooperative) -> None:
    """Refuse while a backup or restore of the cooperative is queued or running (caller holds its row).

    A run marked running whose lock nobody holds died with its process; a run queued for longer
    than ``QUEUED_STALE_AFTER`` was lost. Both are closed as failed instead of blocking for ever.
    """
    backups = list(Backup.objects.filter(cooperative=cooperative, status__in=ACTIVE_STATUSES))
    restores = list(Restore.objects.filter(cooperative=cooperative, status__in=ACTIVE_STATUSES))
    if not backups and not restores:
        return
    lock_free = postgres.operation_lock_free(cooperative.pk)
    stale_before = timezone.now() - QUEUED_STALE_AFTER
    busy: list[Backup | Restore] = []
    records: list[Backup | Restore] = [*backups, *restores]
    for record in records:
        died = record.status == RunStatus.RUNNING and lock_free
        lost = record.status == RunStatus.QUEUED and record.created_at < stale_before
        if died or lost:
            reason = "Interrupted: the process running it stopped." if died else "Never started."
            type(record)._default_manager.filter(pk=record.pk, status=record.status).update(
                status=RunStatus.FAILED, error=reason, finished_at=timezone.now()
            )
        else:
            busy.append(record)
    if busy:
        what = busy[0]
        raise BackupRefused(
            BackupErrorCode.OPERATION_IN_PROGRESS,
            f"A {what._meta.verbose_name} of {cooperative.slug} is {what.status}: wait until it ends.",
        )


def _live_workspace(cooperative: Cooperative) -> Cooperative:
    cooperative = Cooperative.objects.select_for_update().get(pk=cooperative.pk)
    if cooperative.is_template:
        raise BackupRefused(
            BackupErrorCode.WORKSPACE_NOT_BACKED_UP, "The workspace template is not a cooperative's data."
        )
    return cooperative


# --- Backups -------------------------------------------------------------------------------------


def backup_create(*, cooperative: Cooperative, actor: Any | None, kind: str = BackupKind.ON_DEMAND) -> Backup:
    """Record a backup of the cooperative's workspace, to be run by ``backup_run``."""
    if kind not in BackupKind.values or kind == BackupKind.PRE_RESTORE:
        raise ValueError(f"a backup is requested as scheduled or on demand, not {kind!r}")
    with _public(), transaction.atomic():
        cooperative = _live_workspace(cooperative)
        if not schema_exists(cooperative.schema_name):
            raise BackupRefused(
                BackupErrorCode.WORKSPACE_NOT_BACKED_UP,
                f"The workspace schema {cooperative.schema_name} does not exist.",
            )
        _refuse_if_busy(cooperative)
        backup = Backup.objects.create(
            cooperative=cooperative,
            schema_name=cooperative.schema_name,
            kind=kind,
            requested_by=_actor_label(actor),
        )
        audit_record(
            actor=actor,
            action="backup.request",
            target=backup,
            changes={"cooperative": cooperative.slug, "schema": backup.schema_name, "kind": kind},
        )
    return backup


def backup_start(*, cooperative: Cooperative, actor: Any | None, kind: str = BackupKind.ON_DEMAND) -> Backup:
    """Record a backup and queue it on a worker once the caller's transaction commits."""
    backup = backup_create(cooperative=cooperative, actor=actor, kind=kind)
    transaction.on_commit(lambda: _queue("control_plane.backups.tasks.backup_run", backup.pk))
    return backup


def _queue(task_name: str, record_id: int) -> None:
    from control_plane.celery import app

    # Queued from the public schema: the task's records live there, whichever workspace asked.
    options = {"queue": settings.BACKUP_QUEUE} if settings.BACKUP_QUEUE else {}
    with _public():
        app.send_task(task_name, args=[record_id], **options)


def backup_run(*, backup_id: int, on_progress: ProgressCallback | None = None) -> Backup:
    """Dump the workspace, store dump and manifest, record the result; then apply retention.

    Idempotent: a backup that is not queued any more (run already, or redelivered) is returned as is.
    Failures are recorded on the backup (status ``failed`` and the error), not raised.
    """
    with _public():
        backup = Backup.objects.select_related("cooperative").get(pk=backup_id)
        if backup.status != RunStatus.QUEUED:
            return backup
        with postgres.OperationLock(backup.cooperative_id) as lock:
            if not lock.acquired:
                _fail(backup, "Another backup or restore of this cooperative is running.")
                return backup
            _backup_execute(backup, on_progress)
        if backup.status == RunStatus.SUCCEEDED:
            try:
                backups_prune(cooperative=backup.cooperative)
            except Exception:  # retention must never turn a good backup into a failed run
                logger.exception("backup_prune_failed", extra={"cooperative": backup.cooperative.slug})
        return backup


def _fail(record: Backup | Restore, message: str) -> None:
    record.status = RunStatus.FAILED
    record.error = _clip(message)
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "error", "finished_at"])


def _backup_execute(backup: Backup, on_progress: ProgressCallback | None) -> None:
    """The backup itself; the caller holds the cooperative's lock. Records success or failure."""
    progress = _Progress(backup, on_progress)
    backup.status = RunStatus.RUNNING
    backup.started_at = timezone.now()
    backup.save(update_fields=["status", "started_at"])
    cooperative = backup.cooperative
    schema = backup.schema_name
    key = storage.dump_key(
        cooperative_id=cooperative.pk, schema=schema, backup_id=backup.pk, at=backup.started_at
    )
    manifest_key = storage.manifest_key_for(key)
    try:
        tools = postgres.pg_tools()
        if not schema_exists(schema):
            raise RuntimeError(f"The workspace schema {schema} does not exist.")
        with _work_dir() as work:
            path = work / f"backup-{backup.pk}.dump"
            progress.set(1, Phase.COUNTING)
            with postgres.exported_snapshot() as (snapshot, cursor):
                facts = postgres.schema_facts(cursor, schema)
                tables = _TableProgress(facts.row_counts)
                progress.set(5, Phase.DUMPING)
                size, sha256 = postgres.dump_schema(
                    tools=tools,
                    schema=schema,
                    snapshot=snapshot,
                    path=path,
                    on_table=tables.on_table,
                    tick=lambda: progress.set(5 + 75 * tables.fraction()),
                )
            progress.set(80, Phase.UPLOADING)
            manifest = {
                "backup_id": backup.pk,
                "cooperative_id": cooperative.pk,
                "cooperative_slug": cooperative.slug,
                "schema": schema,
                "kind": backup.kind,
                "taken_at": backup.started_at.isoformat(),
                "dump_key": key,
                "dump_sha256": sha256,
                "dump_size": size,
                "row_counts": facts.row_counts,
                "migrations": facts.migrations,
                "ledger": {"journal_lines": facts.journal_lines, "head": facts.ledger_head},
                "pg_dump_major": tools.major,
            }
            storage.upload(key=key, path=path)
            progress.set(95)
            storage.manifest_write(key=manifest_key, manifest=manifest)
    except Exception as exc:
        logger.exception("backup_failed", extra={"backup": backup.pk, "schema": schema})
        for stored in (key, manifest_key):
            with contextlib.suppress(Exception):
                storage.delete(stored)
        _fail(backup, f"{type(exc).__name__}: {exc}" if not isinstance(exc, BackupRefused) else exc.message)
        audit_record(actor=None, action="backup.fail", target=backup, changes={"error": backup.error[:500]})
        return
    backup.status = RunStatus.SUCCEEDED
    backup.finished_at = timezone.now()
    backup.size_bytes = size
    backup.sha256 = sha256
    backup.storage_key = key
    backup.manifest_key = manifest_key
    backup.storage_location = storage.storage_location()[:300]
    backup.migration_state = facts.migrations
    backup.row_counts = facts.row_counts
    backup.journal_lines = facts.journal_lines
    backup.ledger_head = facts.ledger_head
    backup.progress_percent = 100
    backup.phase = Phase.DONE
    backup.heartbeat_at = backup.finished_at
    backup.save()
    audit_record(
        actor=None,
        action="backup.succeed",
        target=backup,
        changes={"key": key, "size": size, "sha256": sha256, "journal_lines": facts.journal_lines},
    )


# --- Checking a backup before restoring it -------------------------------------------------------


def _refuse_other(message: str) -> BackupRefused:
    return BackupRefused(BackupErrorCode.BACKUP_OF_ANOTHER_COOPERATIVE, message)


def _check_restorable(cooperative: Cooperative, backup: Backup) -> dict[str, Any]:
    """Every check that needs no download; returns the backup's verified manifest.

    The record, its storage keys, the schema it names and the signed manifest beside the dump must
    all say this cooperative: a record forged or edited to point at another cooperative's dump, or
    a dump and manifest copied under this cooperative's prefix, are refused here.
    """
    if backup.cooperative_id != cooperative.pk:
        raise _refuse_other("This backup belongs to another cooperative.")
    if not backup.is_restorable:
        raise BackupRefused(
            BackupErrorCode.BACKUP_NOT_RESTORABLE,
            "Only a finished backup that retention has not removed can be restored.",
        )
    prefix = storage.cooperative_prefix(cooperative.pk)
    keys = (backup.storage_key, backup.manifest_key)
    if not all(key.startswith(prefix) and ".." not in key for key in keys) or backup.manifest_key != (
        storage.manifest_key_for(backup.storage_key)
    ):
        raise _refuse_other("The backup's files are not under this cooperative's own storage prefix.")
    if Cooperative.objects.filter(schema_name=backup.schema_name).exclude(pk=cooperative.pk).exists():
        raise _refuse_other("The backup names another cooperative's schema.")
    manifest = storage.manifest_read(backup.manifest_key)
    if manifest.get("cooperative_id") != cooperative.pk or manifest.get("schema") != backup.schema_name:
        raise _refuse_other("The backup's manifest names another cooperative.")
    if manifest.get("backup_id") != backup.pk or manifest.get("dump_key") != backup.storage_key:
        raise BackupRefused(BackupErrorCode.MANIFEST_INVALID, "The manifest describes another backup.")
    if manifest.get("dump_sha256") != backup.sha256 or manifest.get("dump_size") != backup.size_bytes:
        raise BackupRefused(
            BackupErrorCode.CHECKSUM_MISMATCH, "The manifest's checksum differs from the recorded one."
        )
    return manifest


# --- Restores ------------------------------------------------------------------------------------


def restore_create(
    *,
    backup: Backup,
    actor: Any | None,
    mode: str = RestoreMode.RESTORE,
    cooperative: Cooperative | None = None,
) -> Restore:
    """Record a restore (or drill) of ``backup`` into its own cooperative, to be run by ``restore_run``."""
    if mode not in RestoreMode.values:
        raise ValueError(f"unknown restore mode {mode!r}")
    with _public(), transaction.atomic():
        # The stored record is what is checked, never the caller's copy of it.
        stored = Backup.objects.get(pk=backup.pk)
        target = _live_workspace(cooperative or stored.cooperative)
        _check_restorable(target, stored)
        _refuse_if_busy(target)
        restore = Restore.objects.create(
            cooperative=target,
            backup=stored,
            mode=mode,
            requested_by=_actor_label(actor),
            live_schema=target.schema_name,
        )
        audit_record(
            actor=actor,
            action=f"{mode}.request",
            target=restore,
            changes={"cooperative": target.slug, "backup": stored.pk, "taken_at": str(stored.started_at)},
        )
    return restore


def restore_start(*, backup: Backup, actor: Any | None, cooperative: Cooperative | None = None) -> Restore:
    """Record a restore of ``backup`` into its cooperative and queue it once the caller commits."""
    restore = restore_create(backup=backup, actor=actor, cooperative=cooperative)
    transaction.on_commit(lambda: _queue("control_plane.backups.tasks.restore_run", restore.pk))
    return restore


def restore_run(*, restore_id: int, on_progress: ProgressCallback | None = None) -> Restore:
    """Run a recorded restore or drill. Failures are recorded on the restore (and alerted for drills)."""
    with _public():
        restore = Restore.objects.select_related("cooperative", "backup").get(pk=restore_id)
        if restore.status != RunStatus.QUEUED:
            return restore
        with postgres.OperationLock(restore.cooperative_id) as lock:
            if not lock.acquired:
                _restore_failed(restore, "Another backup or restore of this cooperative is running.")
                return restore
            _restore_execute(restore, on_progress)
        return restore


class VerificationFailed(Exception):
    """The restored schema is not what the backup recorded; ``checks`` says how."""

    def __init__(self, message: str, checks: dict[str, Any]) -> None:
        super().__init__(message)
        self.checks = checks


@dataclass
class _Plan:
    """The share of the progress bar each phase takes (drills skip the safety backup and the swap)."""

    spans: dict[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def for_mode(cls, mode: str) -> _Plan:
        if mode == RestoreMode.DRILL:
            return cls({"download": (0, 10), "restore": (10, 70), "verify": (70, 97)})
        return cls({"download": (0, 8), "safety": (8, 30), "restore": (30, 75), "verify": (75, 95)})

    def at(self, step: str, fraction: float) -> float:
        start, end = self.spans[step]
        return start + (end - start) * max(0.0, min(1.0, fraction))


def _restore_into_target(
    restore: Restore, backup: Backup, manifest: dict[str, Any], progress: _Progress, plan: _Plan
) -> None:
    """Fetch and check the dump, back up the live schema (restores only), restore into the target."""
    tools = postgres.pg_tools()
    with _work_dir() as work:
        path = work / f"restore-{restore.pk}.dump"
        progress.set(plan.at("download", 0), Phase.DOWNLOADING)
        total = max(1, backup.size_bytes or 1)
        size, sha256 = storage.download(
            key=backup.storage_key,
            path=path,
            on_bytes=lambda done: progress.set(plan.at("download", done / total)),
        )
        progress.set(plan.at("download", 1), Phase.CHECKING)
        if sha256 != backup.sha256 or size != backup.size_bytes:
            raise BackupRefused(
                BackupErrorCode.CHECKSUM_MISMATCH,
                f"The stored dump's SHA-256 is {sha256}, not the {backup.sha256} recorded when it was "
                "taken: it was changed or damaged in storage. Nothing was restored.",
            )
        if postgres.dump_schema_name(tools=tools, path=path) != backup.schema_name:
            raise _refuse_other("The dump holds another schema than its backup names.")
        if restore.mode == RestoreMode.RESTORE and schema_exists(restore.live_schema):
            progress.set(plan.at("safety", 0), Phase.SAFETY_BACKUP)
            _safety_backup(restore, lambda percent: progress.set(plan.at("safety", percent / 100)))
        progress.set(plan.at("restore", 0), Phase.RESTORING)
        tables = _TableProgress(manifest.get("row_counts") or {})
        postgres.restore_schema(
            tools=tools,
            path=path,
            dump_schema=backup.schema_name,
            target=restore.target_schema,
            on_table=tables.on_table,
            tick=lambda: progress.set(plan.at("restore", tables.fraction())),
        )
        if restore.mode == RestoreMode.RESTORE:
            # The restored schema serves the workspace right after the swap: plan with statistics.
            postgres.analyze_schema(restore.target_schema)


def _restore_execute(restore: Restore, on_progress: ProgressCallback | None) -> None:
    progress = _Progress(restore, on_progress)
    plan = _Plan.for_mode(restore.mode)
    cooperative = restore.cooperative
    backup = restore.backup
    assert backup is not None
    prefix = "drill" if restore.mode == RestoreMode.DRILL else "restore"
    restore.target_schema = f"{prefix}_{cooperative.pk}_{restore.pk}"
    restore.status = RunStatus.RUNNING
    restore.started_at = timezone.now()
    restore.save(update_fields=["target_schema", "status", "started_at"])
    target = restore.target_schema
    try:
        manifest = _check_restorable(cooperative, backup)
        _restore_into_target(restore, backup, manifest, progress, plan)
        progress.set(plan.at("verify", 0), Phase.VERIFYING)
        restore.checks = _verify(target, manifest, progress, plan)
        restore.save(update_fields=["checks"])
        if restore.mode == RestoreMode.RESTORE:
            progress.set(96, Phase.SWAPPING)
            _swap(restore)
        else:
            progress.set(97, Phase.CLEANING)
            _drop_schema(target)
    except Exception as exc:
        if isinstance(exc, VerificationFailed):
            restore.checks = exc.checks
            restore.save(update_fields=["checks"])
        if not isinstance(exc, BackupRefused | VerificationFailed):
            logger.exception("restore_failed", extra={"restore": restore.pk, "mode": restore.mode})
        if restore.swapped_at is None:
            with contextlib.suppress(Exception):
                _drop_schema(target)
        message = exc.message if isinstance(exc, BackupRefused) else f"{exc}"
        _restore_failed(restore, message)
        return
    restore.status = RunStatus.SUCCEEDED
    restore.finished_at = timezone.now()
    restore.progress_percent = 100
    restore.phase = Phase.DONE
    restore.heartbeat_at = restore.finished_at
    restore.save()
    audit_record(
        actor=None,
        action=f"{restore.mode}.succeed",
        target=restore,
        changes={"backup": backup.pk, "retired_schema": restore.retired_schema, "checks": restore.checks},
    )


def _restore_failed(restore: Restore, message: str) -> None:
    _fail(restore, message)
    audit_record(
        actor=None, action=f"{restore.mode}.fail", target=restore, changes={"error": restore.error[:500]}
    )
    if restore.mode == RestoreMode.DRILL:
        _drill_alert(restore)


def _drill_alert(restore: Restore) -> None:
    """A failed drill means a backup may not be restorable: tell Sentry (the console lists it too)."""
    cooperative = restore.cooperative
    logger.warning("restore_drill_failed", extra={"cooperative": cooperative.slug, "restore": restore.pk})
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("tenant", cooperative.schema_name)
        scope.set_tag("cooperative", cooperative.slug)
        scope.set_context(
            "restore_drill", {"restore": restore.pk, "backup": restore.backup_id, "error": restore.error}
        )
        sentry_sdk.capture_message(
            f"Restore drill failed for {cooperative.slug}: {restore.error[:300]}", level="error"
        )


def _safety_backup(restore: Restore, on_percent: Callable[[int], None]) -> None:
    """Back up the live schema before it is replaced (the caller holds the cooperative's lock)."""
    cooperative = restore.cooperative
    backup = Backup.objects.create(
        cooperative=cooperative,
        schema_name=restore.live_schema,
        kind=BackupKind.PRE_RESTORE,
        requested_by=restore.requested_by,
    )
    restore.safety_backup = backup
    restore.save(update_fields=["safety_backup"])
    audit_record(actor=None, action="backup.request", target=backup, changes={"restore": restore.pk})
    _backup_execute(backup, lambda percent, phase: on_percent(percent))
    if backup.status != RunStatus.SUCCEEDED:
        raise RuntimeError(
            f"The backup of the current workspace failed, so nothing was restored: {backup.error}"
        )


def _verify(target: str, manifest: dict[str, Any], progress: _Progress, plan: _Plan) -> dict[str, Any]:
    """Row counts as in the manifest, migrations current (applied when missing), the ledger chain intact."""
    from core_banking.ledger.services import ledger_verify
    from tenants.services import expected_tenant_migrations

    problems: list[str] = []
    with postgres.open_connection() as conn, conn.cursor() as cursor:
        facts = postgres.schema_facts(cursor, target)
    expected_counts: dict[str, int] = manifest.get("row_counts") or {}
    mismatched = {
        table: [expected_counts.get(table), facts.row_counts.get(table)]
        for table in sorted(set(expected_counts) | set(facts.row_counts))
        if expected_counts.get(table) != facts.row_counts.get(table)
    }
    if mismatched:
        problems.append(f"row counts differ from the manifest in {len(mismatched)} tables")
    if sorted(manifest.get("migrations") or []) != facts.migrations:
        problems.append("the migration records differ from the manifest")
    on_disk_keys = expected_tenant_migrations()
    labels = {app for app, _name in on_disk_keys}
    on_disk = {f"{app}.{name}" for app, name in on_disk_keys}
    unknown = sorted(m for m in facts.migrations if m.split(".", 1)[0] in labels and m not in on_disk)
    missing = sorted(on_disk - set(facts.migrations))
    if unknown:
        problems.append(f"the backup has migrations this version does not know ({', '.join(unknown[:3])})")
    checks: dict[str, Any] = {
        "row_counts": {"tables": len(facts.row_counts), "rows": sum(facts.row_counts.values())},
        "row_count_mismatches": mismatched,
        "migrations": {"applied": len(facts.migrations), "missing": missing, "unknown": unknown},
    }
    if problems:
        raise VerificationFailed("; ".join(problems), {**checks, "problems": problems})
    progress.set(plan.at("verify", 0.1))
    if missing:
        progress.set(plan.at("verify", 0.1), Phase.MIGRATING)
        _migrate(target, len(missing), lambda done: progress.set(plan.at("verify", 0.1 + 0.3 * done)))
        still = sorted(on_disk - set(_applied(target)))
        checks["migrations"]["applied_now"] = missing
        if still:
            problems.append(f"migrations could not be applied ({', '.join(still[:3])})")
            raise VerificationFailed("; ".join(problems), {**checks, "problems": problems})
        progress.set(plan.at("verify", 0.4), Phase.VERIFYING)
    with schema_context(target):
        report = ledger_verify()
    head = (manifest.get("ledger") or {}).get("head", "")
    checks["ledger"] = {
        "entries_checked": report.entries_checked,
        "first_broken_entry_id": report.first_broken_entry_id,
        "reason": report.reason,
    }
    if report.reason:
        where = f"entry {report.first_broken_entry_id}" if report.first_broken_entry_id else "the chain head"
        problems.append(f"the ledger's hash chain is broken at {where}: {report.reason}")
    elif facts.ledger_head != head:
        problems.append("the ledger's chain head differs from the manifest")
    if problems:
        raise VerificationFailed("; ".join(problems), {**checks, "problems": problems})
    progress.set(plan.at("verify", 1))
    return checks


def _applied(schema: str) -> list[str]:
    with postgres.open_connection() as conn, conn.cursor() as cursor:
        return postgres.applied_migrations(cursor, schema)


def _migrate(schema: str, count: int, on_fraction: Callable[[float], None]) -> None:
    """Bring a restored schema's migrations up to this version (a backup taken before a deploy)."""
    from django_tenants.signals import schema_migrate_message

    applied = 0

    def count_applied(sender: Any, message: str = "", **kwargs: Any) -> None:
        nonlocal applied
        if "Applying " in message:
            applied += 1
            on_fraction(min(1.0, applied / max(1, count)))

    schema_migrate_message.connect(count_applied, weak=False)
    try:
        call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=1)
    finally:
        schema_migrate_message.disconnect(count_applied)


def _drop_schema(schema: str) -> None:
    postgres.checked_schema_name(schema)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {postgres.quoted(schema)} CASCADE")


def _retired_name(live: str, restore: Restore) -> str:
    stamp = timezone.now().strftime("%Y%m%d%H%M")
    name = f"{live[: 63 - 5 - len(stamp)]}_old_{stamp}"
    if schema_exists(name):
        suffix = f"_{restore.pk}"
        name = name[: 63 - len(suffix)] + suffix
    return name


def _swap(restore: Restore) -> None:
    """The restored schema takes the cooperative's schema name; the old one is kept under another.

    One transaction: it waits (up to ``SWAP_LOCK_TIMEOUT``) for the workspace's open transactions by
    locking every table of the live schema, then renames both schemas. Sessions that queue behind
    the lock resolve the name again when they get it, and see the restored tables.
    """
    with transaction.atomic():
        cooperative = Cooperative.objects.select_for_update().get(pk=restore.cooperative_id)
        live = cooperative.schema_name
        target = restore.target_schema
        retired = ""
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
            if schema_exists(live):
                retired = _retired_name(live, restore)
                tables = postgres.schema_tables(cursor, live)
                if tables:
                    names = ", ".join(
                        f"{postgres.quoted(live)}.{connection.ops.quote_name(t)}" for t in tables
                    )
                    cursor.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
                cursor.execute(f"ALTER SCHEMA {postgres.quoted(live)} RENAME TO {postgres.quoted(retired)}")
            cursor.execute(f"ALTER SCHEMA {postgres.quoted(target)} RENAME TO {postgres.quoted(live)}")
        restore.live_schema = live
        restore.retired_schema = retired
        restore.swapped_at = timezone.now()
        restore.save(update_fields=["live_schema", "retired_schema", "swapped_at"])
        audit_record(
            actor=None,
            action="restore.swap",
            target=restore,
            changes={"schema": live, "previous_schema_kept_as": retired, "backup": restore.backup_id},
        )


def backup_old_schema_drop(*, cooperative: Cooperative, schema_name: str, actor: Any | None) -> Restore:
    """Drop the schema a restore of this cooperative set aside. Anything else is refused."""
    with _public(), transaction.atomic():
        cooperative = Cooperative.objects.select_for_update().get(pk=cooperative.pk)
        restore = (
            Restore.objects.select_for_update()
            .filter(
                cooperative=cooperative,
                mode=RestoreMode.RESTORE,
                retired_schema=schema_name,
                retired_dropped_at__isnull=True,
            )
            .exclude(retired_schema="")
            .first()
        )
        taken = Cooperative.objects.filter(schema_name=schema_name).exists()
        if restore is None or taken or schema_name in {cooperative.schema_name, settings.PUBLIC_SCHEMA_NAME}:
            raise BackupRefused(
                BackupErrorCode.SCHEMA_NOT_RETIRED,
                f"{schema_name} is not a previous schema of {cooperative.slug} kept by a restore.",
            )
        _drop_schema(schema_name)
        restore.retired_dropped_at = timezone.now()
        restore.retired_dropped_by = _actor_label(actor)
        restore.save(update_fields=["retired_dropped_at", "retired_dropped_by"])
        audit_record(
            actor=actor,
            action="restore.old_schema_drop",
            target=restore,
            changes={"cooperative": cooperative.slug, "schema": schema_name},
        )
    return restore


# --- Drills --------------------------------------------------------------------------------------


def _failed_drill(cooperative: Cooperative, backup: Backup | None, message: str) -> Restore:
    restore = Restore.objects.create(
        cooperative=cooperative,
        backup=backup,
        mode=RestoreMode.DRILL,
        requested_by=SYSTEM_ACTOR,
        live_schema=cooperative.schema_name,
    )
    _restore_failed(restore, message)
    return restore


def _drill_create(cooperative: Cooperative, actor: Any | None) -> Restore:
    """A queued drill of the latest good backup, or a failed one (alerted) when none can be restored."""
    from control_plane.backups.selectors import last_backup

    backup = last_backup(cooperative)
    if backup is None:
        with transaction.atomic():
            _refuse_if_busy(_live_workspace(cooperative))  # its first backup may be running
            return _failed_drill(cooperative, None, "No good backup to restore.")
    try:
        return restore_create(backup=backup, actor=actor, mode=RestoreMode.DRILL)
    except BackupRefused as exc:
        if exc.code == BackupErrorCode.OPERATION_IN_PROGRESS:
            raise
        return _failed_drill(cooperative, backup, exc.message)


def restore_drill_start(*, cooperative: Cooperative, actor: Any | None = None) -> Restore:
    """Record a drill of the cooperative's latest good backup and queue it on a worker.

    A cooperative with no restorable backup gets a failed drill at once (alerted). Raises
    ``BackupRefused(OPERATION_IN_PROGRESS)`` while a backup or restore of it is queued or running.
    """
    with _public():
        restore = _drill_create(cooperative, actor)
    if restore.status == RunStatus.QUEUED:
        transaction.on_commit(lambda: _queue("control_plane.backups.tasks.restore_run", restore.pk))
    return restore


def restore_drill(
    *, cooperative: Cooperative, actor: Any | None = None, on_progress: ProgressCallback | None = None
) -> Restore:
    """Restore the latest good backup into a scratch schema, verify it and drop it, in this process.

    The same drill as ``restore_drill_start`` queues; for the ``backup_drill`` command.
    """
    with _public():
        restore = _drill_create(cooperative, actor)
        if restore.status != RunStatus.QUEUED:
            return restore
        return restore_run(restore_id=restore.pk, on_progress=on_progress)


# --- Schedules -----------------------------------------------------------------------------------


def _local_midnight(cooperative: Cooperative, now: dt.datetime) -> dt.datetime:
    local = cooperative.local_now(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def backup_due(cooperative: Cooperative, *, now: dt.datetime | None = None) -> bool:
    """Whether the nightly backup should run now: past ``BACKUP_NIGHTLY_HOUR`` on the cooperative's
    clock, none succeeded or running yet today, fewer than three failed attempts today."""
    now = now or timezone.now()
    if cooperative.local_now(now).hour < settings.BACKUP_NIGHTLY_HOUR:
        return False
    today = Backup.objects.filter(
        cooperative=cooperative,
        kind=BackupKind.SCHEDULED,
        created_at__gte=_local_midnight(cooperative, now),
    )
    if today.exclude(status=RunStatus.FAILED).exists():
        return False
    return today.filter(status=RunStatus.FAILED).count() < SCHEDULED_ATTEMPTS_PER_DAY


def drill_due(cooperative: Cooperative, *, now: dt.datetime | None = None) -> bool:
    """Whether today's restore drill should run now: past ``BACKUP_DRILL_HOUR`` on the cooperative's
    clock and none yet today. A workspace younger than a day without a backup is left alone."""
    now = now or timezone.now()
    if cooperative.local_now(now).hour < settings.BACKUP_DRILL_HOUR:
        return False
    if Restore.objects.filter(
        cooperative=cooperative, mode=RestoreMode.DRILL, created_at__gte=_local_midnight(cooperative, now)
    ).exists():
        return False
    young = cooperative.created_at > now - dt.timedelta(days=1)
    return not (
        young and not Backup.objects.filter(cooperative=cooperative, status=RunStatus.SUCCEEDED).exists()
    )


def backups_nightly_start(*, now: dt.datetime | None = None) -> list[Backup]:
    """Start the scheduled backup of every live cooperative that is due (beat, every quarter hour)."""
    started = []
    with _public():
        for cooperative in Cooperative.objects.live().order_by("pk"):
            if not backup_due(cooperative, now=now):
                continue
            try:
                started.append(backup_start(cooperative=cooperative, actor=None, kind=BackupKind.SCHEDULED))
            except BackupRefused as exc:  # busy, or its schema is missing: the next round tries again
                logger.warning(
                    "backup_not_started", extra={"cooperative": cooperative.slug, "code": exc.code}
                )
    return started


def restore_drills_nightly_start(*, now: dt.datetime | None = None) -> list[Restore]:
    """Queue the day's restore drill of every live cooperative that is due (beat, every quarter hour)."""
    drills = []
    with _public():
        for cooperative in Cooperative.objects.live().order_by("pk"):
            if not drill_due(cooperative, now=now):
                continue
            try:
                drills.append(restore_drill_start(cooperative=cooperative))
            except BackupRefused:  # a backup or restore is running: the next round tries again
                continue
    return drills


# --- Retention -----------------------------------------------------------------------------------


@dataclass
class PruneReport:
    pruned: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)


def retention_policy() -> RetentionPolicy:
    return RetentionPolicy(**settings.BACKUP_RETENTION)


def backups_prune(
    *,
    cooperative: Cooperative | None = None,
    policy: RetentionPolicy | None = None,
    actor: Any | None = None,
    now: dt.datetime | None = None,
) -> PruneReport:
    """Remove the stored files of the good backups the policy does not keep (all cooperatives when none).

    The records stay, marked ``pruned_at``, for the history. Backups that a queued or running restore
    uses are kept whatever the policy says; failed backups have no files to remove.
    """
    policy = policy or retention_policy()
    report = PruneReport()
    with _public():
        cooperatives = (
            [cooperative]
            if cooperative is not None
            else list(Cooperative.objects.filter(backups__status=RunStatus.SUCCEEDED).distinct())
        )
        for each in cooperatives:
            _prune_one(each, policy, actor, now or timezone.now(), report)
    return report


def _prune_one(
    cooperative: Cooperative,
    policy: RetentionPolicy,
    actor: Any | None,
    now: dt.datetime,
    report: PruneReport,
) -> None:
    good = list(
        Backup.objects.filter(cooperative=cooperative, status=RunStatus.SUCCEEDED, pruned_at__isnull=True)
    )
    candidates = []
    for backup in good:
        taken = backup.started_at or backup.created_at
        candidates.append(Candidate(backup.pk, taken, cooperative.local_now(taken).date()))
    keep = backups_to_keep(candidates, policy, now=now)
    keep |= set(
        Restore.objects.filter(cooperative=cooperative, status__in=ACTIVE_STATUSES).values_list(
            "backup_id", flat=True
        )
    )
    pruned = []
    for backup in good:
        if backup.pk in keep:
            continue
        try:
            storage.delete(backup.manifest_key)
            storage.delete(backup.storage_key)
        except Exception:
            logger.exception("backup_file_delete_failed", extra={"backup": backup.pk})
            continue
        backup.pruned_at = now
        backup.save(update_fields=["pruned_at"])
        pruned.append(backup.pk)
    report.kept += sorted(keep & {backup.pk for backup in good})
    report.pruned += pruned
    if pruned:
        audit_record(
            actor=actor,
            action="backup.prune",
            target=cooperative,
            changes={
                "pruned": pruned,
                "policy": {"daily": policy.daily, "weekly": policy.weekly, "monthly": policy.monthly},
            },
        )
