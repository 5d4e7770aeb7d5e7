"""A backup of one cooperative is never restored into another's workspace, however it is presented.

Seen from the attacker's side: the other cooperative's backup id given to the command, a record
forged to point at the other's dump, the other's dump and manifest copied under this cooperative's
prefix (as is, or with the manifest edited to claim this cooperative), and the other's dump written
over this cooperative's own.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_exists

from control_plane.backups import storage
from control_plane.backups.errors import BackupErrorCode, BackupRefused
from control_plane.backups.models import Backup, Restore, RunStatus
from control_plane.backups.services import backup_create, backup_run, restore_create, restore_run
from tenants.models import Cooperative
from tests.control_plane.backups.conftest import (
    committed,
    forget,
    provision,
    schema_oid,
    stored_path,
    table_counts,
)

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("backups")]


class Pair(NamedTuple):
    victim: Cooperative
    attacker: Cooperative
    victim_backup: Backup
    attacker_backup: Backup


@pytest.fixture(scope="module")
def pair(django_db_setup: None, django_db_blocker: Any) -> Iterator[Pair]:
    with django_db_blocker.unblock():
        victim = provision("victim", entries=5)
        attacker = provision("attacker", entries=2)
        backups = [
            backup_run(backup_id=backup_create(cooperative=each, actor=None).pk)
            for each in (victim, attacker)
        ]
        assert all(backup.status == RunStatus.SUCCEEDED for backup in backups)
    yield Pair(victim, attacker, *backups)
    with django_db_blocker.unblock():
        forget(victim)
        forget(attacker)


def _refused(code: BackupErrorCode, **kwargs: Any) -> BackupRefused:
    with pytest.raises(BackupRefused) as refused:
        restore_create(actor=None, **kwargs)
    assert refused.value.code == code, refused.value.message
    return refused.value


def _forged_record(owner: Cooperative, source: Backup, **fields: Any) -> Backup:
    values = {
        "cooperative": owner,
        "schema_name": owner.schema_name,
        "kind": source.kind,
        "status": RunStatus.SUCCEEDED,
        "storage_key": source.storage_key,
        "manifest_key": source.manifest_key,
        "size_bytes": source.size_bytes,
        "sha256": source.sha256,
        "row_counts": source.row_counts,
        "started_at": source.started_at,
    }
    values.update(fields)
    return Backup.objects.create(**values)


def test_the_command_refuses_the_other_cooperatives_backup(pair: Pair) -> None:
    with pytest.raises(CommandError, match=str(BackupErrorCode.BACKUP_OF_ANOTHER_COOPERATIVE)):
        call_command("restore_tenant", pair.attacker.slug, str(pair.victim_backup.pk))
    _refused(
        BackupErrorCode.BACKUP_OF_ANOTHER_COOPERATIVE, backup=pair.victim_backup, cooperative=pair.attacker
    )
    assert not Restore.objects.filter(cooperative=pair.attacker).exists()


def test_a_record_forged_to_point_at_the_other_cooperatives_dump_is_refused(pair: Pair) -> None:
    # The attacker's own record, naming the victim's files (and, next, the victim's schema too).
    forged = _forged_record(pair.attacker, pair.victim_backup)
    error = _refused(BackupErrorCode.BACKUP_OF_ANOTHER_COOPERATIVE, backup=forged)
    assert "prefix" in error.message
    forged = _forged_record(pair.attacker, pair.victim_backup, schema_name=pair.victim.schema_name)
    _refused(BackupErrorCode.BACKUP_OF_ANOTHER_COOPERATIVE, backup=forged)
    # A copy of the attacker's in-memory object edited to say "victim" changes nothing: the stored
    # record is what is checked.
    mine = Backup.objects.get(pk=pair.attacker_backup.pk)
    mine.cooperative = pair.victim
    _refused(BackupErrorCode.BACKUP_OF_ANOTHER_COOPERATIVE, backup=mine, cooperative=pair.victim)


def _copy_under(owner: Cooperative, source: Backup, name: str) -> tuple[str, str]:
    """Copy a dump and its manifest in storage to ``owner``'s prefix; (dump key, manifest key)."""
    key = f"{storage.cooperative_prefix(owner.pk)}{owner.schema_name}/{name}.dump"
    manifest_key = storage.manifest_key_for(key)
    Path(stored_path(key)).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(stored_path(source.storage_key), stored_path(key))
    shutil.copyfile(stored_path(source.manifest_key), stored_path(manifest_key))
    return key, manifest_key


def test_the_other_cooperatives_files_copied_under_this_prefix_are_refused(pair: Pair) -> None:
    key, manifest_key = _copy_under(pair.attacker, pair.victim_backup, "copied")
    forged = _forged_record(pair.attacker, pair.victim_backup, storage_key=key, manifest_key=manifest_key)
    error = _refused(BackupErrorCode.BACKUP_OF_ANOTHER_COOPERATIVE, backup=forged)
    assert "manifest names another cooperative" in error.message


def test_a_manifest_edited_to_claim_this_cooperative_is_refused(pair: Pair) -> None:
    key, manifest_key = _copy_under(pair.attacker, pair.victim_backup, "edited")
    forged = _forged_record(pair.attacker, pair.victim_backup, storage_key=key, manifest_key=manifest_key)
    path = Path(stored_path(manifest_key))
    manifest = json.loads(path.read_text())
    manifest.update(
        cooperative_id=pair.attacker.pk,
        cooperative_slug=pair.attacker.slug,
        schema=pair.attacker.schema_name,
        backup_id=forged.pk,
        dump_key=key,
    )
    path.write_text(json.dumps(manifest))
    error = _refused(BackupErrorCode.MANIFEST_INVALID, backup=forged)
    assert "not signed by this installation" in error.message


@committed
def test_the_other_cooperatives_dump_written_over_this_ones_is_refused_at_restore(pair: Pair) -> None:
    """The record and manifest are the attacker's own and genuine; only the dump's bytes are the victim's."""
    victim_oid, attacker_oid = schema_oid(pair.victim.schema_name), schema_oid(pair.attacker.schema_name)
    victim_rows, attacker_rows = (
        table_counts(pair.victim.schema_name),
        table_counts(pair.attacker.schema_name),
    )
    own = backup_run(backup_id=backup_create(cooperative=pair.attacker, actor=None).pk)
    assert own.status == RunStatus.SUCCEEDED
    shutil.copyfile(stored_path(pair.victim_backup.storage_key), stored_path(own.storage_key))

    restore = restore_run(restore_id=restore_create(backup=own, actor=None).pk)

    assert restore.status == RunStatus.FAILED
    assert "SHA-256" in restore.error
    assert not schema_exists(restore.target_schema)
    assert (schema_oid(pair.victim.schema_name), schema_oid(pair.attacker.schema_name)) == (
        victim_oid,
        attacker_oid,
    )
    assert table_counts(pair.victim.schema_name) == victim_rows
    assert table_counts(pair.attacker.schema_name) == attacker_rows


@committed
def test_the_dumps_own_schema_must_be_the_one_its_record_names(pair: Pair) -> None:
    """Even with a record whose checksum matches the victim's dump, the dump's contents say whose it is."""
    key, manifest_key = _copy_under(pair.attacker, pair.victim_backup, "resigned")
    forged = _forged_record(pair.attacker, pair.victim_backup, storage_key=key, manifest_key=manifest_key)
    # An insider with the signing key re-signs the manifest for the attacker: the dump still names
    # the victim's schema, and the restore refuses before anything is created.
    manifest = json.loads(Path(stored_path(manifest_key)).read_text())
    manifest.update(
        cooperative_id=pair.attacker.pk, schema=pair.attacker.schema_name, backup_id=forged.pk, dump_key=key
    )
    Path(stored_path(manifest_key)).write_text(json.dumps(storage.manifest_sign(manifest)))
    victim_oid = schema_oid(pair.victim.schema_name)

    restore = restore_run(restore_id=restore_create(backup=forged, actor=None).pk)

    assert restore.status == RunStatus.FAILED
    assert "another schema" in restore.error
    assert restore.safety_backup is None and not schema_exists(restore.target_schema)
    assert schema_oid(pair.victim.schema_name) == victim_oid
