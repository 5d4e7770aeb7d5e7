"""Stable codes for the rules backups and restores enforce, raised as ``BusinessRuleViolation``s."""

from __future__ import annotations

import enum
from typing import cast

from control_plane.errors import BusinessRuleViolation, ErrorCode


class BackupErrorCode(enum.StrEnum):
    # Another backup or restore of the same cooperative is queued or running.
    OPERATION_IN_PROGRESS = "backup_operation_in_progress"
    # The backup (record, manifest or dump) belongs to another cooperative, or claims to.
    BACKUP_OF_ANOTHER_COOPERATIVE = "backup_of_another_cooperative"
    # The stored dump's SHA-256 differs from the one recorded when it was taken.
    CHECKSUM_MISMATCH = "backup_checksum_mismatch"
    # The manifest beside the dump is missing, unreadable or not signed by this installation.
    MANIFEST_INVALID = "backup_manifest_invalid"
    # Failed, still running, or removed by retention.
    BACKUP_NOT_RESTORABLE = "backup_not_restorable"
    # The workspace template and closed or unknown workspaces are not backed up.
    WORKSPACE_NOT_BACKED_UP = "workspace_not_backed_up"
    # The schema to drop is not a previous schema of this cooperative that a restore kept.
    SCHEMA_NOT_RETIRED = "schema_not_retired"
    # pg_dump, pg_restore or psql is missing or older than the server.
    POSTGRES_TOOLS_MISSING = "postgres_tools_missing"


class BackupRefused(BusinessRuleViolation):
    """A ``BusinessRuleViolation`` whose code is one of ``BackupErrorCode``; the API reports it alike."""

    def __init__(self, code: BackupErrorCode, message: str) -> None:
        # The codes are strings like ErrorCode's, reported the same way (``str(code)``).
        super().__init__(cast(ErrorCode, code), message)

    @property
    def http_status(self) -> int:
        return _STATUS.get(str(self.code), 400)


_STATUS: dict[str, int] = {
    BackupErrorCode.OPERATION_IN_PROGRESS: 409,
    BackupErrorCode.BACKUP_OF_ANOTHER_COOPERATIVE: 403,
    BackupErrorCode.CHECKSUM_MISMATCH: 409,
    BackupErrorCode.MANIFEST_INVALID: 409,
    BackupErrorCode.BACKUP_NOT_RESTORABLE: 409,
    BackupErrorCode.SCHEMA_NOT_RETIRED: 409,
    BackupErrorCode.POSTGRES_TOOLS_MISSING: 503,
}
