"""Backups are taken by pg_dump and restored by psql, other processes: they see committed rows only.

So the workspaces here are provisioned and filled for real (committed), each test module with its
own, and the tests that back up or restore run outside the test transaction (``@committed``): a
restore renames schemas, which a rolled-back test transaction would undo halfway. Dumps go to a
folder of this test session, named in the environment too, so that a Celery worker started by the
suite stores its dumps there as well.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sentry_sdk
from django.conf import settings
from django.db import connection, connections
from django.test import override_settings
from django_tenants.utils import tenant_context

from control_plane.backups import postgres
from control_plane.observability import init_sentry
from tenants.models import Cooperative, Lifecycle

BACKUP_DIR = tempfile.mkdtemp(prefix="coopcore-test-backups-")
atexit.register(shutil.rmtree, BACKUP_DIR, True)
# Read by the settings of any worker process the suite starts from now on.
os.environ["COOPCORE_BACKUP_STORAGE"] = "local"
os.environ["COOPCORE_BACKUP_DIR"] = BACKUP_DIR

PASSWORD = "backup-tests-password-1"


def local_storage(location: str) -> dict[str, Any]:
    return {
        **settings.STORAGES,
        "backups": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location},
        },
    }


@pytest.fixture(scope="session", autouse=True)
def _backups_in_a_folder_of_this_session() -> Iterator[str]:
    with override_settings(STORAGES=local_storage(BACKUP_DIR)):
        yield BACKUP_DIR


def committed(test: Callable[..., Any]) -> Callable[..., Any]:
    """Run the test's body in a thread of its own, on a connection outside the test transaction.

    Every statement commits, as in a worker: pg_dump and psql see the rows, and a restore's schema
    renames stay done. (The test transaction of the main thread stays idle, holding no lock.)
    """

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        outcome: dict[str, Any] = {}

        def body() -> None:
            try:
                connection.set_schema_to_public()
                outcome["value"] = test(*args, **kwargs)
            except BaseException as exc:  # re-raised in the test's own thread below
                outcome["error"] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=body, name=f"committed-{test.__name__}")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    return run


def post_entries(cooperative: Cooperative, count: int, *, prefix: str = "e") -> None:
    """Balanced, chained journal entries through the ledger's own service (committed by it)."""
    from core_banking.ledger.services import LineSpec, journal_post
    from core_banking.organisation.models import Branch

    with tenant_context(cooperative):
        branch = Branch.objects.get(is_head_office=True)
        for number in range(count):
            amount = 1_000 + number
            journal_post(
                idempotency_key=f"{prefix}-{number}",
                value_date=cooperative.business_date(),
                branch=branch,
                lines=[LineSpec("1100-HO", debit_minor=amount), LineSpec("3100", credit_minor=amount)],
                # A memo naming the schema: restoring under another name must not touch data.
                memo=f"Entry {number}: moved from {cooperative.schema_name}.members_member",
            )


def provision(label: str, *, entries: int = 12) -> Cooperative:
    """A committed workspace of its own, with a second staff user and a few journal entries."""
    from core_banking.organisation.models import Branch
    from core_banking.staff.roles import Role
    from core_banking.staff.services import staff_user_create
    from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision

    slug = f"{label}-{uuid.uuid4().hex[:6]}"
    cooperative = cooperative_provision(
        spec=CooperativeSpec(name=f"Backup {label}", slug=slug, country="BD"),
        admin=AdminSpec(username="boss", password=PASSWORD),
        lifecycle=Lifecycle.ACTIVE,
    )
    with tenant_context(cooperative):
        staff_user_create(
            actor=None,
            username=f"teller-{label}",
            password=PASSWORD,
            roles=[Role.ACCOUNTANT.value],
            home_branch=Branch.objects.get(is_head_office=True),
        )
    post_entries(cooperative, entries, prefix=f"{label}-seed")
    connection.set_schema_to_public()
    return cooperative


def forget(cooperative: Cooperative) -> None:
    """Take a test workspace out of the live ones (other tests count live cooperatives)."""
    from control_plane.backups.models import Restore

    connection.set_schema_to_public()
    for restore in Restore.objects.filter(cooperative=cooperative).exclude(retired_schema=""):
        if restore.retired_dropped_at is None:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA IF EXISTS {postgres.quoted(restore.retired_schema)} CASCADE")
    Cooperative.objects.filter(pk=cooperative.pk).update(lifecycle=Lifecycle.CLOSED)


def table_counts(schema: str) -> dict[str, int]:
    with postgres.open_connection() as conn, conn.cursor() as cursor:
        return postgres.row_counts(cursor, schema)


def schema_oid(schema: str) -> int | None:
    with postgres.open_connection() as conn:
        row = conn.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema]).fetchone()
        return int(row[0]) if row else None


def schemas_like(pattern: str) -> list[str]:
    with postgres.open_connection() as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY 1", [pattern]
        ).fetchall()
        return [row[0] for row in rows]


def stored_path(key: str) -> str:
    return os.path.join(BACKUP_DIR, key)


class CollectingTransport(sentry_sdk.transport.Transport):
    """Keeps events in memory instead of sending them: the HTTP edge of Sentry, nothing else faked."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Any) -> None:
        for item in envelope.items:
            if item.type == "event":
                self.events.append(item.payload.json)


@pytest.fixture
def sentry_events() -> Iterator[list[dict[str, Any]]]:
    transport = CollectingTransport()
    assert init_sentry(dsn="http://public@127.0.0.1:9/1", environment="test", transport=transport)
    yield transport.events
    sentry_sdk.init(dsn=None)


def days_ago(days: int, hour: int = 2) -> dt.datetime:
    now = dt.datetime.now(dt.UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return now - dt.timedelta(days=days)
