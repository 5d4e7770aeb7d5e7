"""Backups from the console, for real (pg_dump, psql): back up now, watch the progress, restore from
a kept backup after typing the subdomain, drop the schema the restore kept; refusals shown with
their codes. Everything here commits (``committed``), as the backup processes only see committed rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings
from django.test import Client, override_settings
from django_tenants.utils import schema_exists

from control_plane.audit.models import AuditEvent
from control_plane.backups.models import Backup, BackupKind, Restore, RunStatus
from control_plane.backups.services import backup_create, backup_run, restore_run
from tenants.models import Cooperative
from tests.control_plane.backups.conftest import BACKUP_DIR, committed, forget, local_storage, provision
from tests.control_plane.console.conftest import logged_in_operator as _logged_in_operator

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("backups")]

POLLING = 'hx-trigger="every 2s"'
# Runs the console queues go to a queue of this module that no worker reads: the tests run them here.
UNREAD_QUEUE = f"console-tests-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module", autouse=True)
def _dumps_in_a_test_folder_and_runs_on_no_worker() -> Iterator[None]:
    with override_settings(STORAGES=local_storage(BACKUP_DIR), BACKUP_QUEUE=UNREAD_QUEUE):
        yield
    redis.Redis.from_url(settings.REDIS_URL).delete(UNREAD_QUEUE)


@pytest.fixture(scope="module")
def workspace(django_db_setup: None, django_db_blocker: Any) -> Iterator[Cooperative]:
    with django_db_blocker.unblock():
        cooperative = provision("console")
    yield cooperative
    with django_db_blocker.unblock():
        forget(cooperative)


def _page(client: Client, slug: str) -> str:
    response = client.get(f"/console/tenants/{slug}/")
    assert response.status_code == 200
    return response.content.decode()


def _panel(client: Client, slug: str) -> str:
    response = client.get(f"/console/tenants/{slug}/backups/")
    assert response.status_code == 200 and b"<html" not in response.content
    return response.content.decode()


@committed
def test_back_up_now_shows_the_queued_run_polling_then_the_stored_backup(workspace: Cooperative) -> None:
    slug = workspace.slug
    with _logged_in_operator() as (operator, console):
        page = _page(console, slug)
        assert 'data-testid="backup-now"' in page and 'data-busy="false"' in page and POLLING not in page

        no_reason = console.post(f"/console/tenants/{slug}/backup/", {"backup-reason": ""})
        assert no_reason.status_code == 200 and b"This field is required" in no_reason.content
        assert not Backup.objects.filter(cooperative=workspace).exists()

        done = console.post(f"/console/tenants/{slug}/backup/", {"backup-reason": "OPS-30 before the import"})
        assert (done.status_code, done["Location"]) == (302, f"/console/tenants/{slug}/#backups")
        backup = Backup.objects.get(cooperative=workspace)
        assert (backup.kind, backup.status, backup.requested_by) == (
            BackupKind.ON_DEMAND,
            RunStatus.QUEUED,
            operator.username,
        )
        event = AuditEvent.objects.get(action="console.backup", object_id=str(workspace.pk))
        assert (event.object_type, event.actor_label) == ("tenants.cooperative", operator.username)
        assert event.changes == {"reason": "OPS-30 before the import", "backup": backup.pk}

        # Queued: the section polls its partial every 2 s and shows the run's progress.
        page = _page(console, slug)
        assert 'data-busy="true"' in page and POLLING in page
        assert f'hx-get="/console/tenants/{slug}/backups/"' in page
        running = _panel(console, slug)
        assert f'data-operation="{backup.pk}"' in running and '<progress value="0" max="100"' in running
        assert "Waiting to start" in running and POLLING in running
        assert "OPS-30 before the import" in page  # in the History section

        # A second backup while one is queued: refused, with the backups' own code.
        refused = console.post(f"/console/tenants/{slug}/backup/", {"backup-reason": "OPS-31"})
        assert refused.status_code == 200 and b"wait until it ends" in refused.content
        assert b'data-error-code="backup_operation_in_progress"' in refused.content
        assert Backup.objects.filter(cooperative=workspace).count() == 1

        backup = backup_run(backup_id=backup.pk)  # what the worker does
        assert backup.status == RunStatus.SUCCEEDED, backup.error
        finished = _panel(console, slug)
        assert "hx-trigger" not in finished and 'data-busy="false"' in finished
        row = finished[finished.index(f'data-backup="{backup.pk}"') :].split("</tr>")[0]
        assert 'data-status="succeeded"' in row and backup.sha256[:12] in row
        assert f'href="/console/tenants/{slug}/backups/{backup.pk}/restore/"' in row


@committed
def test_restore_from_the_console_then_drop_the_kept_schema(workspace: Cooperative) -> None:
    slug = workspace.slug
    live_schema = workspace.schema_name
    backup = backup_run(backup_id=backup_create(cooperative=workspace, actor=None).pk)
    assert backup.status == RunStatus.SUCCEEDED, backup.error
    url = f"/console/tenants/{slug}/backups/{backup.pk}/restore/"
    with _logged_in_operator() as (operator, console):
        page = console.get(url)
        assert page.status_code == 200 and b'name="confirm"' in page.content

        wrong = console.post(url, {"reason": "OPS-40", "confirm": "alpha"})
        assert wrong.status_code == 200 and b"This is not what was asked for." in wrong.content

        # Refused while another run of the same cooperative is queued: the message and the code.
        blocking = backup_create(cooperative=workspace, actor=None)
        refused = console.post(url, {"reason": "OPS-40 roll back", "confirm": slug})
        assert refused.status_code == 200 and b"wait until it ends" in refused.content
        assert b'data-error-code="backup_operation_in_progress"' in refused.content
        assert not Restore.objects.filter(cooperative=workspace).exists()
        assert backup_run(backup_id=blocking.pk).status == RunStatus.SUCCEEDED

        done = console.post(url, {"reason": "OPS-40 roll back the bad import", "confirm": slug})
        assert (done.status_code, done["Location"]) == (302, f"/console/tenants/{slug}/#backups")
        restore = Restore.objects.get(cooperative=workspace)
        assert (restore.status, restore.backup_id, restore.requested_by) == (
            RunStatus.QUEUED,
            backup.pk,
            operator.username,
        )
        event = AuditEvent.objects.get(action="console.restore", object_id=str(workspace.pk))
        assert event.changes == {
            "reason": "OPS-40 roll back the bad import",
            "backup": backup.pk,
            "restore": restore.pk,
        }
        assert POLLING in _panel(console, slug)

        restore = restore_run(restore_id=restore.pk)  # what the worker does
        assert restore.status == RunStatus.SUCCEEDED, restore.error
        kept = restore.retired_schema
        assert (
            kept
            and schema_exists(kept)
            and Cooperative.objects.get(pk=workspace.pk).schema_name == live_schema
        )
        panel = _panel(console, slug)
        assert "hx-trigger" not in panel
        assert f'data-restore="{restore.pk}" data-mode="restore" data-status="succeeded"' in panel
        drop_url = f"/console/tenants/{slug}/old-schemas/{kept}/drop/"
        assert f'data-schema="{kept}"' in panel and f'href="{drop_url}"' in panel

        wrong = console.post(drop_url, {"reason": "OPS-41", "confirm": live_schema})
        assert wrong.status_code == 200 and schema_exists(kept)
        dropped = console.post(
            drop_url, {"reason": "OPS-41 restore checked with the cooperative", "confirm": kept}
        )
        assert (dropped.status_code, dropped["Location"]) == (302, f"/console/tenants/{slug}/#backups")
        assert not schema_exists(kept) and schema_exists(live_schema)
        event = AuditEvent.objects.get(action="console.old_schema_drop", object_id=str(workspace.pk))
        assert event.changes == {
            "reason": "OPS-41 restore checked with the cooperative",
            "schema": kept,
            "restore": restore.pk,
        }
        assert f'data-schema="{kept}"' not in _panel(console, slug)

        again = console.post(drop_url, {"reason": "OPS-41", "confirm": kept})
        assert again.status_code == 200 and b'data-error-code="schema_not_retired"' in again.content
        # The live schema is never a "kept" one, whatever the URL says.
        live = console.post(
            f"/console/tenants/{slug}/old-schemas/{live_schema}/drop/",
            {"reason": "x", "confirm": live_schema},
        )
        assert live.status_code == 200 and b'data-error-code="schema_not_retired"' in live.content
        assert schema_exists(live_schema)


@committed
def test_a_backup_of_another_cooperative_is_not_found_under_this_one(workspace: Cooperative) -> None:
    other = Cooperative.objects.get(slug="alpha")
    backup = backup_run(backup_id=backup_create(cooperative=workspace, actor=None).pk)
    with _logged_in_operator() as (_operator, console):
        url = f"/console/tenants/{other.slug}/backups/{backup.pk}/restore/"
        assert console.get(url).status_code == 404
        assert console.post(url, {"reason": "x", "confirm": other.slug}).status_code == 404
    assert not Restore.objects.filter(backup=backup).exists()
