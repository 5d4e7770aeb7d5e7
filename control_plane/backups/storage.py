"""Where dumps live: the ``BACKUP_STORAGE`` alias of Django's STORAGES (a folder, or S3 via django-storages).

Every object of a cooperative is under its own prefix, ``backups/<cooperative id>/<schema>/``: the
dump (``…/<UTC time>-<backup id>.dump``) and its manifest beside it (``….manifest.json``). The
manifest names the cooperative and schema and the dump's SHA-256, and is signed with an HMAC of the
installation's secret key, so a manifest edited or copied in storage to claim another cooperative
is refused on restore.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils.crypto import constant_time_compare, salted_hmac

from control_plane.backups.errors import BackupErrorCode, BackupRefused

MANIFEST_FORMAT = "coopcore-backup/1"
_SIGNING_SALT = "control_plane.backups.manifest"
CHUNK = 1 << 20


def backup_storage() -> Storage:
    return storages[settings.BACKUP_STORAGE]


def storage_location() -> str:
    """Where the backups go, for the console: a folder or s3://bucket/prefix (never a credential)."""
    storage: Any = backup_storage()
    bucket = getattr(storage, "bucket_name", None)
    if bucket:
        prefix = str(getattr(storage, "location", "") or "")
        endpoint = str(getattr(storage, "endpoint_url", "") or "")
        return f"s3://{bucket}/{prefix}".rstrip("/") + (f" ({endpoint})" if endpoint else "")
    return str(getattr(storage, "location", "") or type(storage).__name__)


def cooperative_prefix(cooperative_id: int) -> str:
    return f"backups/{cooperative_id}/"


def dump_key(*, cooperative_id: int, schema: str, backup_id: int, at: dt.datetime) -> str:
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{cooperative_prefix(cooperative_id)}{schema}/{stamp}-{backup_id}.dump"


def manifest_key_for(key: str) -> str:
    return key.removesuffix(".dump") + ".manifest.json"


def upload(*, key: str, path: Path) -> None:
    storage = backup_storage()
    with path.open("rb") as handle:
        saved = storage.save(key, File(handle, name=key))
    if saved != key:
        # An object already had that name; never leave a dump under a name nobody recorded.
        storage.delete(saved)
        raise FileExistsError(f"storage already holds {key}")


def download(*, key: str, path: Path, on_bytes: Any = None) -> tuple[int, str]:
    """Copy a stored object to a local file; (size, SHA-256 hex) of what was read."""
    digest = hashlib.sha256()
    size = 0
    with backup_storage().open(key, "rb") as source, path.open("wb") as target:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            target.write(chunk)
            size += len(chunk)
            if on_bytes is not None:
                on_bytes(size)
    return size, digest.hexdigest()


def delete(key: str) -> None:
    if key:
        storage = backup_storage()
        if storage.exists(key):
            storage.delete(key)


# --- Manifests -----------------------------------------------------------------------------------


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {key: value for key, value in manifest.items() if key != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _signature(manifest: dict[str, Any], secret: str) -> str:
    return salted_hmac(_SIGNING_SALT, _canonical(manifest), secret=secret, algorithm="sha256").hexdigest()


def manifest_sign(manifest: dict[str, Any]) -> dict[str, Any]:
    body = {**manifest, "format": MANIFEST_FORMAT}
    return {**body, "signature": _signature(body, settings.SECRET_KEY)}


def manifest_signature_valid(manifest: dict[str, Any]) -> bool:
    given = str(manifest.get("signature", ""))
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(constant_time_compare(given, _signature(manifest, secret)) for secret in secrets)


def manifest_write(*, key: str, manifest: dict[str, Any]) -> None:
    content = json.dumps(manifest_sign(manifest), indent=2, sort_keys=True).encode()
    storage = backup_storage()
    saved = storage.save(key, ContentFile(content, name=key))
    if saved != key:
        storage.delete(saved)
        raise FileExistsError(f"storage already holds {key}")


def manifest_read(key: str) -> dict[str, Any]:
    """The signed manifest at ``key``; refused when missing, unreadable or not signed here."""
    try:
        with backup_storage().open(key, "rb") as handle:
            manifest = json.loads(handle.read(1 << 22))
    except Exception as exc:  # a missing object is an OSError locally, a ClientError on S3
        raise BackupRefused(
            BackupErrorCode.MANIFEST_INVALID, f"The backup's manifest cannot be read: {exc}"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BackupRefused(BackupErrorCode.MANIFEST_INVALID, "The backup's manifest is not one of ours.")
    if not manifest_signature_valid(manifest):
        raise BackupRefused(
            BackupErrorCode.MANIFEST_INVALID,
            "The backup's manifest is not signed by this installation (edited or copied from elsewhere).",
        )
    return manifest
