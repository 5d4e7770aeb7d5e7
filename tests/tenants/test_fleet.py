"""Fleet migrations against real, committed workspaces and real worker processes.

A new migration exists only for these tests: ``notifications`` gets a temporary migration module
(``MIGRATION_MODULES``) holding copies of its real migrations plus ``0002_fleet_probe``, which
creates a table and adds a column to the outbox. The fleet's worker processes are forked from
the test process, so they see the same settings; what they do is committed, so every check reads
through a connection of its own and every test takes the migration out of every schema again.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import uuid
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from tenants.fleet import (
    FLEET_LOCK_KEY,
    FleetMigrationBusy,
    fleet_migrate,
    fleet_migrate_request,
    fleet_run_detail,
    fleet_runs_recent,
    fleet_schemas,
    scan,
)
from tenants.models import FleetMigrationRun, FleetOutcomeStatus, FleetRunStatus

pytestmark = pytest.mark.xdist_group("fleet")

ROOT = Path(__file__).resolve().parents[2]
NEW = ("notifications", "0002_fleet_probe")
FLEET_SLUGS = ("fleet-a", "fleet-b")

NEW_MIGRATION = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notifications", "{previous}")]

    operations = [
        migrations.CreateModel(
            name="FleetProbe",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("label", models.CharField(max_length=20)),
            ],
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="fleet_note",
            field=models.CharField(blank=True, default="", max_length=20),
        ),
    ]
"""


# --- Helpers -------------------------------------------------------------------------------------


@contextlib.contextmanager
def observer() -> Iterator[psycopg.Connection]:
    """A connection of its own, in autocommit: it sees what the workers committed, and commits."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings.get("HOST") or "127.0.0.1",
        port=settings.get("PORT") or 5432,
        user=settings.get("USER") or "postgres",
        password=settings.get("PASSWORD") or None,
        dbname=settings["NAME"],
        autocommit=True,
    ) as conn:
        yield conn


def _q(schema: str) -> str:
    return '"' + schema.replace('"', '""') + '"'


def _workspace_schemas(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
        "WHERE c.relname = 'notifications_outboxmessage' ORDER BY 1"
    ).fetchall()
    return [row[0] for row in rows]


def _state(conn: psycopg.Connection, schema: str) -> dict[str, bool]:
    """What the new migration leaves in one schema."""
    q = _q(schema)
    column = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = 'notifications_outboxmessage' AND column_name = 'fleet_note')",
        [schema],
    ).fetchone()
    table = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{q}.notifications_fleetprobe"]).fetchone()
    recorded = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM {q}.django_migrations WHERE app = %s AND name = %s)", list(NEW)
    ).fetchone()
    permissions = conn.execute(
        f"SELECT count(*) FROM {q}.auth_permission p "
        f"JOIN {q}.django_content_type t ON t.id = p.content_type_id "
        "WHERE t.app_label = 'notifications' AND t.model = 'fleetprobe'"
    ).fetchone()
    return {
        "column": bool(column and column[0]),
        "table": bool(table and table[0]),
        "recorded": bool(recorded and recorded[0]),
        "permissions": bool(permissions and permissions[0] == 4),
    }


MIGRATED = {"column": True, "table": True, "recorded": True, "permissions": True}
UNTOUCHED = {"column": False, "table": False, "recorded": False, "permissions": False}


def _take_out(conn: psycopg.Connection) -> None:
    """Every schema as it was before the new migration."""
    for schema in _workspace_schemas(conn):
        q = _q(schema)
        conn.execute(f"DROP TABLE IF EXISTS {q}.notifications_fleetprobe")
        conn.execute(f"ALTER TABLE {q}.notifications_outboxmessage DROP COLUMN IF EXISTS fleet_note")
        conn.execute(f"DELETE FROM {q}.django_migrations WHERE app = %s AND name = %s", list(NEW))
        conn.execute(
            f"DELETE FROM {q}.auth_permission WHERE content_type_id IN "
            f"(SELECT id FROM {q}.django_content_type "
            "WHERE app_label = 'notifications' AND model = 'fleetprobe')"
        )
        conn.execute(
            f"DELETE FROM {q}.django_content_type WHERE app_label = 'notifications' AND model = 'fleetprobe'"
        )


@contextlib.contextmanager
def locked_elsewhere(sql: str) -> Iterator[None]:
    """Another session holds a lock (taken by ``sql``) until the block ends."""
    with observer() as conn:
        conn.autocommit = False
        conn.execute(sql)
        try:
            yield
        finally:
            conn.rollback()


# --- Fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fleet_workspaces(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> list[str]:
    """Two more workspaces, provisioned and committed (as the real command does) once for the module."""
    from tenants.models import Cooperative
    from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        for slug in FLEET_SLUGS:
            if not Cooperative.objects.filter(slug=slug).exists():
                cooperative_provision(
                    spec=CooperativeSpec(name=f"{slug} cooperative", slug=slug, country="BD"),
                    admin=AdminSpec(username="admin", password=None, email=f"admin@{slug}.example"),
                )
        return [f"coop_{slug.replace('-', '_')}" for slug in FLEET_SLUGS]


@pytest.fixture
def new_migration(fleet_workspaces: list[str], tmp_path: Path) -> Iterator[str]:
    """A migration module for notifications with one new migration; every schema cleaned afterwards.

    Requested before ``db`` by the tests, so its clean-up runs after the test's transaction has
    rolled back (and released what it read).
    """
    real = ROOT / "notifications" / "migrations"
    package = f"fleet_probe_migrations_{uuid.uuid4().hex[:10]}"
    target = tmp_path / package
    target.mkdir()
    names = sorted(p.name for p in real.glob("[0-9][0-9][0-9][0-9]_*.py"))
    for name in names:
        shutil.copy(real / name, target / name)
    (target / "__init__.py").write_text("")
    previous = names[-1].removesuffix(".py")
    (target / f"{NEW[1]}.py").write_text(NEW_MIGRATION.format(previous=previous))
    sys.path.insert(0, str(tmp_path))
    try:
        with override_settings(MIGRATION_MODULES={"notifications": package}):
            yield package
    finally:
        sys.path.remove(str(tmp_path))
        with observer() as conn:
            _take_out(conn)


# --- Tests ---------------------------------------------------------------------------------------


def test_a_new_migration_reaches_every_schema_and_a_second_run_skips_them_all(
    new_migration: str, fleet_workspaces: list[str], db: None
) -> None:
    schemas = fleet_schemas()
    assert schemas[0] == "workspace_template"
    assert {"coop_alpha", "coop_beta", *fleet_workspaces} <= set(schemas)
    found = scan(schemas)
    assert found.pending == {schema: frozenset({NEW}) for schema in schemas}

    seen: list[tuple[int, int]] = []
    run = fleet_migrate(actor=None, workers=2, progress=lambda p: seen.append((p.done, p.targets)))

    assert run.status == FleetRunStatus.SUCCEEDED
    assert (run.targets, run.applied, run.failed, run.skipped) == (len(schemas), len(schemas), 0, 0)
    assert seen[-1] == (len(schemas), len(schemas)) and len(seen) == len(schemas)
    outcomes = {o.schema_name: o for o in run.outcomes.all()}
    assert set(outcomes) == set(schemas)
    assert {o.status for o in outcomes.values()} == {FleetOutcomeStatus.APPLIED}
    assert all(o.migrations == 1 and o.seconds is not None and o.finished_at for o in outcomes.values())
    # The template went first, on its own: provisioning clones it.
    template_done = outcomes["workspace_template"].finished_at
    assert all(template_done <= o.finished_at for o in outcomes.values())
    with observer() as conn:
        # The table, the column, the record, and post_migrate's content type with its permissions.
        assert {schema: _state(conn, schema) for schema in schemas} == {
            schema: MIGRATED for schema in schemas
        }

    again = fleet_migrate(actor=None, workers=2)
    assert again.status == FleetRunStatus.SUCCEEDED
    assert (again.targets, again.applied, again.skipped) == (0, 0, len(schemas))
    assert not again.outcomes.exists()
    assert not scan(schemas).pending


def test_a_failing_workspace_is_reported_the_others_are_migrated_and_a_rerun_finishes_it(
    new_migration: str, fleet_workspaces: list[str], db: None
) -> None:
    broken = fleet_workspaces[1]
    with observer() as conn:
        # Somebody added the column by hand in one workspace: the migration's AddField fails there.
        conn.execute(f"ALTER TABLE {_q(broken)}.notifications_outboxmessage ADD COLUMN fleet_note text")
    schemas = fleet_schemas()

    run = fleet_migrate(actor=None, workers=2)

    assert run.status == FleetRunStatus.FAILED
    assert (run.targets, run.applied, run.failed, run.done) == (
        len(schemas),
        len(schemas) - 1,
        1,
        len(schemas),
    )
    failed = run.outcomes.get(status=FleetOutcomeStatus.FAILED)
    assert failed.schema_name == broken
    assert "fleet_note" in failed.error and "already exists" in failed.error
    with observer() as conn:
        for schema in schemas:
            if schema != broken:
                assert _state(conn, schema) == MIGRATED, schema
        # All or nothing in the failed schema: the table created before the failing step is gone too.
        assert _state(conn, broken) == {**UNTOUCHED, "column": True}

    detail = fleet_run_detail(run.pk)
    assert [o.schema_name for o in detail.failures] == [broken]
    assert detail.percent == 100 and detail.pending == 0
    assert fleet_runs_recent()[0] == run

    # The command reports the same failure and exits non-zero; it only tried the one schema left.
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 schema\\(s\\) failed"):
        call_command("migrate_fleet", "--workers=2", stdout=out, stderr=err)
    assert f"FAILED {broken}:" in err.getvalue()
    assert re.search(r"\[1/1\] migrated 0, failed 1", out.getvalue())

    with observer() as conn:
        conn.execute(f"ALTER TABLE {_q(broken)}.notifications_outboxmessage DROP COLUMN fleet_note")
    out = StringIO()
    call_command("migrate_fleet", "--workers=2", stdout=out)
    assert "1 schema(s) migrated" in out.getvalue()
    rerun = FleetMigrationRun.objects.order_by("-id").first()
    assert rerun is not None and rerun.status == FleetRunStatus.SUCCEEDED
    assert [o.schema_name for o in rerun.outcomes.all()] == [broken]
    assert rerun.skipped == len(schemas) - 1
    with observer() as conn:
        assert _state(conn, broken) == MIGRATED


def test_a_workspace_kept_busy_fails_after_the_lock_timeout_instead_of_waiting(
    new_migration: str, fleet_workspaces: list[str], db: None
) -> None:
    busy = fleet_workspaces[0]
    with locked_elsewhere(f"LOCK TABLE {_q(busy)}.notifications_outboxmessage IN ACCESS SHARE MODE"):
        # One worker: the schemas are migrated one after another in this process.
        run = fleet_migrate(actor=None, workers=1, lock_timeout=0.5)
    assert run.failed == 1 and run.applied == len(fleet_schemas()) - 1
    failure = run.outcomes.get(status=FleetOutcomeStatus.FAILED)
    assert failure.schema_name == busy and "lock timeout" in failure.error
    with observer() as conn:
        assert _state(conn, busy) == UNTOUCHED


def test_when_the_template_fails_no_workspace_is_touched(
    new_migration: str, fleet_workspaces: list[str], db: None
) -> None:
    with observer() as conn:
        conn.execute(
            'ALTER TABLE "workspace_template".notifications_outboxmessage ADD COLUMN fleet_note text'
        )
    run = fleet_migrate(actor=None, workers=2)
    assert run.status == FleetRunStatus.FAILED
    assert "template failed" in run.error
    statuses = dict(run.outcomes.values_list("schema_name", "status"))
    assert statuses.pop("workspace_template") == FleetOutcomeStatus.FAILED
    assert set(statuses.values()) == {FleetOutcomeStatus.NOT_RUN}
    with observer() as conn:
        assert all(_state(conn, schema) == UNTOUCHED for schema in statuses)


def test_dry_run_tells_what_each_schema_lacks_and_changes_nothing(
    new_migration: str, fleet_workspaces: list[str], db: None
) -> None:
    out = StringIO()
    call_command("migrate_fleet", "--dry-run", stdout=out)
    schemas = fleet_schemas()
    assert f"{len(schemas)} workspace schema(s): {len(schemas)} to migrate, 0 up to date" in out.getvalue()
    assert f"{len(schemas)} schema(s) lack notifications.0002_fleet_probe" in out.getvalue()
    assert not FleetMigrationRun.objects.exists()
    assert scan(schemas).pending


def test_a_second_run_is_refused_while_one_holds_the_fleet_lock(db: None) -> None:
    with locked_elsewhere(f"SELECT pg_advisory_lock({FLEET_LOCK_KEY})"):
        with pytest.raises(FleetMigrationBusy):
            fleet_migrate(actor=None)
        with pytest.raises(CommandError, match="Another fleet migration is running"):
            call_command("migrate_fleet")
        with pytest.raises(FleetMigrationBusy):
            fleet_migrate_request(actor=None)


def test_the_console_queues_a_run_and_the_command_carries_it_out(
    new_migration: str, fleet_workspaces: list[str], db: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as queued_tasks:
        queued = fleet_migrate_request(actor=None, workers=2)
    assert queued.status == FleetRunStatus.QUEUED
    assert len(queued_tasks) == 1  # the task is queued once the run is committed
    with pytest.raises(FleetMigrationBusy):
        fleet_migrate_request(actor=None)

    out = StringIO()
    call_command("migrate_fleet", "--run", str(queued.pk), stdout=out)

    queued.refresh_from_db()
    assert queued.status == FleetRunStatus.SUCCEEDED
    assert queued.applied == len(fleet_schemas()) and queued.workers == 2
    with pytest.raises(CommandError, match="not waiting to be run"):
        call_command("migrate_fleet", "--run", str(queued.pk))


def test_the_task_runs_the_command_in_a_process_of_its_own(
    fleet_workspaces: list[str], db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Celery prefork worker may not fork the fleet's workers, so the task starts the command."""
    from tenants.tasks import fleet_migrate_run
    from tests.conftest import subprocess_environment

    for name, value in subprocess_environment().items():
        monkeypatch.setenv(name, value)
    with observer() as conn:  # committed, as a run queued from the console is when the task starts
        row = conn.execute(
            "INSERT INTO public.tenants_fleetmigrationrun (status, requested_by_label, created_at, workers, "
            "schemas, targets, done, applied, failed, skipped, migrations, error) "
            "VALUES ('queued', 'test', now(), 2, 0, 0, 0, 0, 0, 0, '[]', '') RETURNING id"
        ).fetchone()
    assert row is not None
    run_id = int(row[0])
    try:
        result = fleet_migrate_run(run_id)
        run = FleetMigrationRun.objects.get(pk=run_id)
        assert run.status == FleetRunStatus.SUCCEEDED, run.error
        assert result["status"] == FleetRunStatus.SUCCEEDED
        assert run.skipped == len(fleet_schemas()) and run.targets == 0  # nothing new on disk there
        assert fleet_migrate_run(run_id)["status"] == "not queued"  # a redelivery does nothing
    finally:
        with observer() as conn:
            conn.execute("DELETE FROM public.tenants_fleetmigrationoutcome WHERE run_id = %s", [run_id])
            conn.execute("DELETE FROM public.tenants_fleetmigrationrun WHERE id = %s", [run_id])


def test_the_first_deploy_migrates_an_empty_database(db: None) -> None:
    """A new installation's migrate step: no table anywhere yet, and migrate_fleet builds it all."""
    import subprocess

    from tests.conftest import subprocess_environment
    from tests.processes import ROOT

    environment = subprocess_environment()
    database = connection.settings_dict
    name = f"fresh_{uuid.uuid4().hex[:10]}"
    maintenance = {
        "host": database.get("HOST") or "127.0.0.1",
        "port": database.get("PORT") or 5432,
        "user": database.get("USER") or "postgres",
        "password": database.get("PASSWORD") or None,
        "dbname": "postgres",
    }
    with psycopg.connect(**maintenance, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        environment["DATABASE_URL"] = environment["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate_fleet", "--workers", "1"],
            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        with psycopg.connect(**{**maintenance, "dbname": name}) as conn:
            template = conn.execute(
                "SELECT count(*) FROM public.tenants_cooperative WHERE is_template"
            ).fetchone()
            applied = conn.execute("SELECT count(*) FROM workspace_template.django_migrations").fetchone()
        assert template == (1,)
        assert applied is not None and applied[0] > 0
        # Run again: nothing to do, and it says so by succeeding.
        again = subprocess.run(
            [sys.executable, "manage.py", "migrate_fleet", "--workers", "1"],
            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr[-3000:]
    finally:
        with psycopg.connect(**maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
