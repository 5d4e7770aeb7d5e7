"""A backup and a restore for real: every row and the ledger's hash chain come back, nothing else changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists, tenant_context

from control_plane.audit.models import AuditEvent
from control_plane.backups import postgres, storage
from control_plane.backups.errors import BackupErrorCode, BackupRefused
from control_plane.backups.models import Backup, BackupKind, Phase, Restore, RunStatus
from control_plane.backups.selectors import backups_for, last_backup, restores_for, retired_schemas
from control_plane.backups.services import (
    backup_create,
    backup_old_schema_drop,
    backup_run,
    restore_create,
    restore_run,
)
from control_plane.identity.models import User
from core_banking.ledger.models import JournalEntry, JournalLine, LedgerState
from core_banking.ledger.services import ledger_verify
from tenants.models import Cooperative
from tests.control_plane.backups.conftest import (
    committed,
    forget,
    post_entries,
    provision,
    schema_oid,
    schemas_like,
    stored_path,
    table_counts,
)

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("backups")]


@pytest.fixture(scope="module")
def workspace(django_db_setup: None, django_db_blocker: Any) -> Iterator[Cooperative]:
    with django_db_blocker.unblock():
        cooperative = provision("trip")
    yield cooperative
    with django_db_blocker.unblock():
        forget(cooperative)


def _entries(cooperative: Cooperative) -> list[tuple[Any, ...]]:
    with tenant_context(cooperative):
        return list(
            JournalEntry.objects.order_by("id").values_list(
                "id", "idempotency_key", "memo", "payload_hash", "previous_hash", "entry_hash"
            )
        )


@committed
def test_a_backup_records_what_it_stored_and_where(workspace: Cooperative) -> None:
    seen: list[tuple[int, str]] = []
    watcher = postgres.open_connection()

    def watch(percent: int, phase: str) -> None:
        # Another session sees each step as it is reported: the console polls these columns.
        row = watcher.execute("SELECT progress_percent, phase FROM backups_backup WHERE id = %s", [backup.pk])
        assert row.fetchone() == (percent, phase)
        seen.append((percent, phase))

    backup = backup_create(cooperative=workspace, actor=None, kind=BackupKind.ON_DEMAND)
    assert (backup.status, backup.phase, backup.progress_percent) == (RunStatus.QUEUED, Phase.QUEUED, 0)
    backup = backup_run(backup_id=backup.pk, on_progress=watch)
    watcher.close()

    assert backup.status == RunStatus.SUCCEEDED, backup.error
    assert (backup.progress_percent, backup.phase) == (100, Phase.DONE)
    phases = [phase for _percent, phase in seen]
    assert phases[0] == Phase.COUNTING and Phase.DUMPING in phases and phases[-1] == Phase.UPLOADING
    assert [percent for percent, _phase in seen] == sorted(percent for percent, _phase in seen)

    # Stored under the cooperative's own prefix, with the checksum of what is stored.
    assert backup.storage_key.startswith(f"backups/{workspace.pk}/{workspace.schema_name}/")
    assert backup.manifest_key == backup.storage_key.removesuffix(".dump") + ".manifest.json"
    size, sha256 = postgres.file_digest(Path(stored_path(backup.storage_key)))
    assert (backup.size_bytes, backup.sha256) == (size, sha256)
    assert backup.schema_name == workspace.schema_name
    assert backup.started_at is not None and backup.finished_at is not None
    assert backup.started_at <= backup.finished_at

    # What the schema held, read in the dump's own snapshot.
    counts = table_counts(workspace.schema_name)
    assert backup.row_counts == counts
    assert backup.journal_lines == counts["ledger_journalline"] >= 24
    with tenant_context(workspace):
        assert backup.ledger_head == LedgerState.objects.get().last_entry_hash
    with connection.cursor() as cursor:
        assert backup.migration_state == postgres.applied_migrations(cursor, workspace.schema_name)

    manifest = json.loads(Path(stored_path(backup.manifest_key)).read_text())
    assert storage.manifest_signature_valid(manifest)
    assert manifest["cooperative_id"] == workspace.pk
    assert manifest["schema"] == workspace.schema_name
    assert manifest["dump_sha256"] == sha256 and manifest["dump_key"] == backup.storage_key
    assert manifest["row_counts"] == counts
    assert manifest["migrations"] == backup.migration_state

    assert last_backup(workspace) == backup
    assert backup in backups_for(workspace)
    actions = set(
        AuditEvent.objects.filter(object_type="backups.backup", object_id=str(backup.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == {"backup.request", "backup.succeed"}


@committed
def test_the_command_backs_up_and_says_where(
    workspace: Cooperative, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("backup_tenant", workspace.slug)
    out = capsys.readouterr().out
    backup = backups_for(workspace).first()
    assert backup is not None and backup.status == RunStatus.SUCCEEDED
    assert backup.storage_key in out and "Dumping the workspace" in out
    with pytest.raises(CommandError, match="No cooperative"):
        call_command("backup_tenant", "no-such-cooperative")


@committed
def test_restore_round_trip_then_posting_then_dropping_the_kept_schema(workspace: Cooperative) -> None:
    """One test, in steps: module fixtures may be set up again between tests under xdist."""
    restore = _restore_brings_back_every_row_and_the_chain_and_keeps_the_old_schema(workspace)
    _the_restored_workspace_keeps_posting_and_its_triggers_keep_refusing(workspace)
    _only_a_kept_schema_can_be_dropped_and_only_once(workspace, restore)


def _restore_brings_back_every_row_and_the_chain_and_keeps_the_old_schema(workspace: Cooperative) -> Restore:
    backup = backup_create(cooperative=workspace, actor=None)
    backup = backup_run(backup_id=backup.pk)
    assert backup.status == RunStatus.SUCCEEDED, backup.error
    counts_at_backup = table_counts(workspace.schema_name)
    entries_at_backup = _entries(workspace)
    live_oid = schema_oid(workspace.schema_name)

    # Work done after the backup: the restore goes back to before it; the old schema still has it.
    post_entries(workspace, 3, prefix="after-backup")
    connection.set_schema_to_public()

    restore = restore_create(backup=backup, actor=None)
    restore = restore_run(restore_id=restore.pk)
    assert restore.status == RunStatus.SUCCEEDED, restore.error
    assert (restore.progress_percent, restore.phase) == (100, Phase.DONE)

    workspace.refresh_from_db()
    assert workspace.schema_name == restore.live_schema
    assert schema_oid(workspace.schema_name) != live_oid
    assert table_counts(workspace.schema_name) == counts_at_backup
    assert _entries(workspace) == entries_at_backup
    with tenant_context(workspace):
        assert ledger_verify().reason == ""
        assert set(User.objects.values_list("username", flat=True)) == {"boss", "teller-trip"}
        assert JournalEntry.objects.filter(memo__contains=f"from {workspace.schema_name}.").count() == len(
            entries_at_backup
        )

    # The schema that was live is kept, with what was written after the backup, until dropped.
    assert restore.retired_schema and schema_oid(restore.retired_schema) == live_oid
    assert table_counts(restore.retired_schema)["ledger_journalentry"] == len(entries_at_backup) + 3
    assert list(retired_schemas(workspace)) == [restore]
    assert not schemas_like(f"restore_{workspace.pk}_%")

    # Before anything was replaced, the live schema was backed up too.
    safety = restore.safety_backup
    assert safety is not None
    assert (safety.kind, safety.status) == (BackupKind.PRE_RESTORE, RunStatus.SUCCEEDED)
    assert safety.row_counts["ledger_journalentry"] == len(entries_at_backup) + 3

    checks = restore.checks
    assert checks["row_count_mismatches"] == {}
    assert checks["migrations"]["missing"] == [] and checks["migrations"]["unknown"] == []
    assert checks["ledger"] == {
        "entries_checked": len(entries_at_backup),
        "first_broken_entry_id": None,
        "reason": "",
    }
    assert restore in restores_for(workspace)
    actions = list(
        AuditEvent.objects.filter(object_type="backups.restore", object_id=str(restore.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["restore.request", "restore.swap", "restore.succeed"]
    return restore


def _the_restored_workspace_keeps_posting_and_its_triggers_keep_refusing(workspace: Cooperative) -> None:
    before = _entries(workspace)
    post_entries(workspace, 2, prefix="after-restore")
    with tenant_context(workspace):
        report = ledger_verify()
        assert report.reason == "" and report.entries_checked == len(before) + 2
        # The chain goes on from the restored head.
        first_new = JournalEntry.objects.order_by("id")[len(before)]
        assert first_new.previous_hash == before[-1][5]
    schema = workspace.schema_name
    # The ledger's triggers are the restored schema's own, and still refuse (here from a session whose
    # current schema is another: the triggers' schema-qualified path).
    with postgres.open_connection() as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(f'UPDATE "{schema}".ledger_journalline SET debit_minor = debit_minor + 1')
        line_id, entry_id = conn.execute(
            f'SELECT id, entry_id FROM "{schema}".ledger_journalline ORDER BY id DESC LIMIT 1'
        ).fetchone()
        # An unbalanced line written straight into the table: the deferred check refuses at commit.
        with pytest.raises(psycopg.errors.CheckViolation, match="does not balance"), conn.transaction():
            account = conn.execute(
                f'SELECT account_id FROM "{schema}".ledger_journalline WHERE id = %s', [line_id]
            )
            conn.execute(
                f'INSERT INTO "{schema}".ledger_journalline '
                "(entry_id, account_id, debit_minor, credit_minor) VALUES (%s, %s, 1, 0)",
                [entry_id, account.fetchone()[0]],
            )
    with tenant_context(workspace):
        assert JournalLine.objects.count() == 2 * (len(before) + 2)


def _only_a_kept_schema_can_be_dropped_and_only_once(workspace: Cooperative, restore: Restore) -> None:
    kept = restore.retired_schema
    for wrong in (workspace.schema_name, "public", "coop_alpha", "workspace_template", kept + "x"):
        with pytest.raises(BackupRefused) as refused:
            backup_old_schema_drop(cooperative=workspace, schema_name=wrong, actor=None)
        assert refused.value.code == BackupErrorCode.SCHEMA_NOT_RETIRED
    assert schema_exists(workspace.schema_name) and schema_exists("coop_alpha")

    dropped = backup_old_schema_drop(cooperative=workspace, schema_name=kept, actor=None)
    assert dropped.pk == restore.pk and dropped.retired_dropped_at is not None
    assert not schema_exists(kept)
    assert not retired_schemas(workspace).exists()
    with pytest.raises(BackupRefused):
        backup_old_schema_drop(cooperative=workspace, schema_name=kept, actor=None)
    assert AuditEvent.objects.filter(action="restore.old_schema_drop", object_id=str(restore.pk)).exists()


@committed
def test_the_restore_command_restores_and_names_the_kept_schema(
    workspace: Cooperative, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = backup_run(backup_id=backup_create(cooperative=workspace, actor=None).pk)
    assert last_backup(workspace) == backup
    call_command("restore_tenant", workspace.slug, str(backup.pk))
    out = capsys.readouterr().out
    restore = restores_for(workspace).first()
    assert restore is not None and restore.status == RunStatus.SUCCEEDED
    assert f"backup_drop_old_schema {workspace.slug} {restore.retired_schema}" in out
    call_command("backup_drop_old_schema", workspace.slug, restore.retired_schema)
    assert not schema_exists(restore.retired_schema)
    with schema_context(workspace.schema_name):
        assert ledger_verify().reason == ""
    with pytest.raises(CommandError, match="No backup"):
        call_command("restore_tenant", workspace.slug, "999999")
    call_command("backup_list", workspace.slug)
    assert str(backup.pk) in capsys.readouterr().out


@committed
def test_a_changed_dump_is_refused_and_nothing_is_touched(workspace: Cooperative) -> None:
    backup = backup_run(backup_id=backup_create(cooperative=workspace, actor=None).pk)
    assert backup.status == RunStatus.SUCCEEDED
    path = Path(stored_path(backup.storage_key))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    live_oid = schema_oid(workspace.schema_name)
    safety_before = Backup.objects.filter(kind=BackupKind.PRE_RESTORE).count()

    restore = restore_run(restore_id=restore_create(backup=backup, actor=None).pk)

    assert restore.status == RunStatus.FAILED
    assert "SHA-256" in restore.error and backup.sha256 in restore.error
    assert restore.swapped_at is None and restore.retired_schema == ""
    assert schema_oid(workspace.schema_name) == live_oid
    assert not schema_exists(restore.target_schema)
    assert Backup.objects.filter(kind=BackupKind.PRE_RESTORE).count() == safety_before
    assert AuditEvent.objects.filter(action="restore.fail", object_id=str(restore.pk)).exists()
