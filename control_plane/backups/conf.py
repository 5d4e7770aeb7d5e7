"""Backup settings from the environment: where dumps are stored, how many are kept, when they run.

Imported by ``control_plane.settings`` (no Django import here). The variables, all optional:

``COOPCORE_BACKUP_STORAGE``
    ``local`` (default): a folder, ``COOPCORE_BACKUP_DIR`` (default ``.data/backups``);
    ``s3``: any S3-compatible service through django-storages, configured by
    ``COOPCORE_BACKUP_S3_BUCKET`` (required), ``COOPCORE_BACKUP_S3_ENDPOINT_URL`` (empty for AWS),
    ``COOPCORE_BACKUP_S3_REGION``, ``COOPCORE_BACKUP_S3_ACCESS_KEY_ID``,
    ``COOPCORE_BACKUP_S3_SECRET_ACCESS_KEY`` (empty: boto3's own chain: instance role, ``AWS_*``),
    ``COOPCORE_BACKUP_S3_PREFIX`` (a folder inside the bucket), ``COOPCORE_BACKUP_S3_ADDRESSING_STYLE``
    (``path`` for most self-hosted services) and ``COOPCORE_BACKUP_S3_SSE`` (e.g. ``AES256``).
``COOPCORE_BACKUP_KEEP_DAILY`` / ``_WEEKLY`` / ``_MONTHLY``
    Retention: 7, 4 and 12 by default.
``COOPCORE_BACKUP_HOUR`` / ``COOPCORE_BACKUP_DRILL_HOUR``
    The hour of each cooperative's own night after which its nightly backup (default 1) and its
    restore drill (default 4) run.
``COOPCORE_BACKUP_PG_BIN_DIR``
    Where pg_dump, pg_restore and psql are; found by the server's version when empty.
``COOPCORE_BACKUP_WORK_DIR``
    Scratch space for a dump on its way to or from storage (the system's temporary folder by default).
``COOPCORE_BACKUP_QUEUE``
    The Celery queue backups, restores and drills are sent to (default: Celery's default queue), so
    that workers with room for dumps can take them alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STORAGE_ALIAS = "backups"
LOCAL_STORAGE = "django.core.files.storage.FileSystemStorage"
S3_STORAGE = "storages.backends.s3.S3Storage"


class BackupConfigError(ValueError):
    """The backup variables name something that cannot work (an unknown backend, an S3 without bucket)."""


@dataclass(frozen=True)
class BackupConfig:
    storage: dict[str, Any]
    retention: dict[str, int] = field(default_factory=lambda: {"daily": 7, "weekly": 4, "monthly": 12})
    nightly_hour: int = 1
    drill_hour: int = 4
    pg_bin_dir: str = ""
    work_dir: str = ""
    queue: str = ""


def _count(source: Mapping[str, str], name: str, default: int) -> int:
    raw = source.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise BackupConfigError(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


def _hour(source: Mapping[str, str], name: str, default: int) -> int:
    hour = _count(source, name, default)
    if hour > 23:
        raise BackupConfigError(f"{name} is an hour of the day (0-23), not {hour}")
    return hour


def _storage(source: Mapping[str, str], base_dir: Path) -> dict[str, Any]:
    kind = source.get("COOPCORE_BACKUP_STORAGE", "local").strip().lower() or "local"
    if kind == "local":
        location = source.get("COOPCORE_BACKUP_DIR", "").strip() or str(base_dir / ".data" / "backups")
        return {
            "BACKEND": LOCAL_STORAGE,
            # Dumps hold every member's data: readable by the service's own user only.
            "OPTIONS": {
                "location": location,
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        }
    if kind == "s3":
        bucket = source.get("COOPCORE_BACKUP_S3_BUCKET", "").strip()
        if not bucket:
            raise BackupConfigError("COOPCORE_BACKUP_STORAGE=s3 needs COOPCORE_BACKUP_S3_BUCKET")
        options: dict[str, Any] = {
            "bucket_name": bucket,
            "location": source.get("COOPCORE_BACKUP_S3_PREFIX", "").strip().strip("/"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        }
        optional = {
            "endpoint_url": "COOPCORE_BACKUP_S3_ENDPOINT_URL",
            "region_name": "COOPCORE_BACKUP_S3_REGION",
            "access_key": "COOPCORE_BACKUP_S3_ACCESS_KEY_ID",
            "secret_key": "COOPCORE_BACKUP_S3_SECRET_ACCESS_KEY",
            "addressing_style": "COOPCORE_BACKUP_S3_ADDRESSING_STYLE",
        }
        for option, name in optional.items():
            value = source.get(name, "").strip()
            if value:
                options[option] = value
        encryption = source.get("COOPCORE_BACKUP_S3_SSE", "").strip()
        if encryption:
            options["object_parameters"] = {"ServerSideEncryption": encryption}
        return {"BACKEND": S3_STORAGE, "OPTIONS": options}
    raise BackupConfigError(f"COOPCORE_BACKUP_STORAGE is 'local' or 's3', not {kind!r}")


def load(*, base_dir: Path, environment: Mapping[str, str] | None = None) -> BackupConfig:
    source = os.environ if environment is None else environment
    return BackupConfig(
        storage=_storage(source, base_dir),
        retention={
            "daily": _count(source, "COOPCORE_BACKUP_KEEP_DAILY", 7),
            "weekly": _count(source, "COOPCORE_BACKUP_KEEP_WEEKLY", 4),
            "monthly": _count(source, "COOPCORE_BACKUP_KEEP_MONTHLY", 12),
        },
        nightly_hour=_hour(source, "COOPCORE_BACKUP_HOUR", 1),
        drill_hour=_hour(source, "COOPCORE_BACKUP_DRILL_HOUR", 4),
        pg_bin_dir=source.get("COOPCORE_BACKUP_PG_BIN_DIR", "").strip(),
        work_dir=source.get("COOPCORE_BACKUP_WORK_DIR", "").strip(),
        queue=source.get("COOPCORE_BACKUP_QUEUE", "").strip(),
    )
