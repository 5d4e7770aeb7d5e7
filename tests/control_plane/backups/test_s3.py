"""Backups on S3-compatible storage (django-storages), against moto's S3 server on a local port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.conf import settings
from django.test import override_settings
from moto.server import ThreadedMotoServer

from control_plane.backups import conf, storage
from control_plane.backups.models import RunStatus
from control_plane.backups.services import backup_create, backup_run, restore_drill
from tenants.models import Cooperative
from tests.control_plane.backups.conftest import committed, forget, provision

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("backups")]

BUCKET = "coopcore-backups-test"
PREFIX = "eu-1"


@pytest.fixture(scope="module")
def s3_environment() -> Iterator[dict[str, str]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    environment = {
        "COOPCORE_BACKUP_STORAGE": "s3",
        "COOPCORE_BACKUP_S3_BUCKET": BUCKET,
        "COOPCORE_BACKUP_S3_ENDPOINT_URL": f"http://{host}:{port}",
        "COOPCORE_BACKUP_S3_REGION": "us-east-1",
        "COOPCORE_BACKUP_S3_ACCESS_KEY_ID": "testing",
        "COOPCORE_BACKUP_S3_SECRET_ACCESS_KEY": "testing",
        "COOPCORE_BACKUP_S3_PREFIX": PREFIX,
        "COOPCORE_BACKUP_S3_ADDRESSING_STYLE": "path",
        "COOPCORE_BACKUP_S3_SSE": "AES256",
    }
    client(environment).create_bucket(Bucket=BUCKET)
    yield environment
    server.stop()


def client(environment: dict[str, str]) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=environment["COOPCORE_BACKUP_S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def on_s3(s3_environment: dict[str, str]) -> Iterator[dict[str, str]]:
    configured = conf.load(base_dir=Path(settings.BASE_DIR), environment=s3_environment)
    with override_settings(STORAGES={**settings.STORAGES, "backups": configured.storage}):
        yield s3_environment


@pytest.fixture(scope="module")
def workspace(django_db_setup: None, django_db_blocker: Any) -> Iterator[Cooperative]:
    with django_db_blocker.unblock():
        cooperative = provision("s3")
    yield cooperative
    with django_db_blocker.unblock():
        forget(cooperative)


def test_the_environment_selects_the_s3_backend(s3_environment: dict[str, str]) -> None:
    configured = conf.load(base_dir=Path("/srv"), environment=s3_environment).storage
    assert configured["BACKEND"] == "storages.backends.s3.S3Storage"
    assert configured["OPTIONS"]["bucket_name"] == BUCKET
    assert configured["OPTIONS"]["location"] == PREFIX
    assert configured["OPTIONS"]["object_parameters"] == {"ServerSideEncryption": "AES256"}
    local = conf.load(base_dir=Path("/srv"), environment={}).storage
    assert local["OPTIONS"]["location"] == "/srv/.data/backups"
    with pytest.raises(conf.BackupConfigError, match="BUCKET"):
        conf.load(base_dir=Path("/srv"), environment={"COOPCORE_BACKUP_STORAGE": "s3"})
    with pytest.raises(conf.BackupConfigError, match="'local' or 's3'"):
        conf.load(base_dir=Path("/srv"), environment={"COOPCORE_BACKUP_STORAGE": "ftp"})
    with pytest.raises(conf.BackupConfigError, match="0-23"):
        conf.load(base_dir=Path("/srv"), environment={"COOPCORE_BACKUP_HOUR": "24"})


@committed
def test_a_backup_goes_to_the_bucket_and_a_drill_restores_it_from_there(
    workspace: Cooperative, on_s3: dict[str, str]
) -> None:
    backup = backup_run(backup_id=backup_create(cooperative=workspace, actor=None).pk)
    assert backup.status == RunStatus.SUCCEEDED, backup.error
    assert backup.storage_location.startswith(f"s3://{BUCKET}/{PREFIX}")

    s3 = client(on_s3)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/backups/{workspace.pk}/")
    keys = {item["Key"]: item["Size"] for item in listed.get("Contents", [])}
    assert keys[f"{PREFIX}/{backup.storage_key}"] == backup.size_bytes
    assert f"{PREFIX}/{backup.manifest_key}" in keys
    head = s3.head_object(Bucket=BUCKET, Key=f"{PREFIX}/{backup.storage_key}")
    assert head["ServerSideEncryption"] == "AES256"
    assert storage.manifest_read(backup.manifest_key)["dump_sha256"] == backup.sha256

    drill = restore_drill(cooperative=workspace)
    assert drill.status == RunStatus.SUCCEEDED, drill.error
    assert drill.backup_id == backup.pk


@committed
def test_a_dump_changed_in_the_bucket_is_refused(workspace: Cooperative, on_s3: dict[str, str]) -> None:
    backup = backup_run(backup_id=backup_create(cooperative=workspace, actor=None).pk)
    assert backup.status == RunStatus.SUCCEEDED, backup.error
    s3 = client(on_s3)
    key = f"{PREFIX}/{backup.storage_key}"
    body = bytearray(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    body[-10] ^= 0x01
    s3.put_object(Bucket=BUCKET, Key=key, Body=bytes(body))

    drill = restore_drill(cooperative=workspace)
    assert drill.status == RunStatus.FAILED
    assert "SHA-256" in drill.error
