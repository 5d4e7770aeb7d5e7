"""Fleet migrations benchmark: one new migration on 1,000 workspaces, ours against django-tenants'.

Runs in a database of its own (<name>_fleet, created and dropped here) with the settings
``bench.fleet_probe.settings``: the product's settings plus a benchmark-only workspace app whose
second migration (a column with an index on a small table) is "the new migration".

1. Shared migrations, the template, and ``BENCH_FLEET_TENANTS`` (default 1,000) workspaces copied
   from it in parallel: its DDL (pg_dump --schema-only) replayed under each workspace's name and
   its rows copied, which gives what provisioning's clone gives, in less time (the seed is
   left out: what a migration meets in a workspace is its tables).
2. The new migration is taken out of every schema (its column dropped, its record deleted).
3. ``migrate_all_s.ours``: ``tenants.fleet.fleet_migrate`` applies it everywhere; then
   ``migrate_noop_s.ours``: the same call again, with nothing to apply.
4. Step 2 again, then ``migrate_all_s.django_tenants_multiprocessing``: ``migrate_schemas
   --executor=multiprocessing`` (its default of two processes, one per core here), and
   ``migrate_noop_s.django_tenants_multiprocessing``: the same command again.

Both are called in this process (no interpreter start-up in either figure); every schema is
checked after each apply. Writes bench/results/control_plane_fleet.json and prints the figures.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import bench_database_url, database_exists, machine, recreate_database, say

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "control_plane_fleet.json"
TENANTS = int(os.environ.get("BENCH_FLEET_TENANTS", "1000"))
SETTINGS = "bench.fleet_probe.settings"
NEW_MIGRATION = ("fleet_probe", "0002_probe_note")
PROBE_TABLE = "fleet_probe_probe"
PROBE_COLUMN = "note"
GOALS = {"migrate_all_s": 60.0, "migrate_noop_s": 5.0}


def measure() -> dict[str, Any]:
    """The whole benchmark in a database of its own; returns the figures.

    BENCH_FLEET_KEEP_DATABASE=1 keeps the database (and its cloned workspaces) for the next run,
    which then only clones what is missing.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    keep = os.environ.get("BENCH_FLEET_KEEP_DATABASE") == "1"
    bench_url, maintenance_url, name = bench_database_url("_fleet")
    if not (keep and database_exists(maintenance_url, name)):
        recreate_database(maintenance_url, name)
    os.environ["DATABASE_URL"] = bench_url
    try:
        return _measure()
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            recreate_database(maintenance_url, name, drop_only=True)


# --- Workspaces ----------------------------------------------------------------------------------


def _template_copy_sql() -> tuple[str, list[str], list[tuple[str, str]]]:
    """The template's DDL (pg_dump --schema-only) and the tables that hold rows, read once.

    Replaying that DDL makes a workspace with the same tables, indexes, constraints, triggers and
    functions as a clone, faster than clone_schema's walk over the catalogs (about 2 s against 3 s
    per workspace on a busy 2-core machine), which matters at a thousand workspaces.
    """
    import subprocess

    from django.conf import settings
    from django.db import connection

    from bench.common import psycopg_dsn

    template = settings.TENANT_BASE_SCHEMA
    dump = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", f"--schema={template}",
         psycopg_dsn(os.environ["DATABASE_URL"])],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    statements = [
        line
        for line in dump.splitlines()
        if not line.startswith("\\") and not line.startswith("SET ") and "set_config(" not in line
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY 1",
            [template],
        )
        tables = [row[0] for row in cursor.fetchall()]
        with_rows = []
        for table in tables:
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{template}"."{table}")')  # noqa: S608
            row = cursor.fetchone()
            if row and row[0]:
                with_rows.append(table)
        # The columns whose sequences must move past the copied ids.
        cursor.execute(
            "SELECT t.relname, a.attname FROM pg_depend d "
            "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = %s AND t.relname = ANY(%s)",
            [template, with_rows],
        )
        sequences = [(table, column) for table, column in cursor.fetchall()]
    return "\n".join(statements), with_rows, sequences


def _copy_range(arguments: tuple[list[int], str, list[str], list[tuple[str, str]]]) -> int:
    """In a pool process: a cooperative row and a copy of the template for each number."""
    from django.conf import settings
    from django.db import connection, transaction

    from tenants.models import Cooperative

    numbers, ddl, with_rows, sequences = arguments
    template = settings.TENANT_BASE_SCHEMA
    for number in numbers:
        schema = f"coop_fleet_{number:05d}"
        with transaction.atomic():
            Cooperative.objects.create(
                schema_name=schema,
                name=f"Fleet {number}",
                slug=f"fleet-{number:05d}",
                country="BD",
                currency="BDT",
                default_language="bn",
                time_zone="Asia/Dhaka",
            )
            with connection.cursor() as cursor:
                cursor.execute(ddl.replace(template, schema))
                for table in with_rows:
                    cursor.execute(f'INSERT INTO "{schema}"."{table}" SELECT * FROM "{template}"."{table}"')  # noqa: S608
                for table, column in sequences:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence(%s, %s), max({column})) "  # noqa: S608
                        f'FROM "{schema}"."{table}" HAVING max({column}) IS NOT NULL',
                        [f'"{schema}"."{table}"', column],
                    )
        # As provisioning does: a connection that made a schema pays for it on every later DDL statement.
        connection.close()
    return len(numbers)


def _provision(count: int) -> float:
    import multiprocessing

    from django.db import connections

    from tenants.models import Cooperative
    from tenants.services import catalog_statistics_refresh

    started = time.perf_counter()
    ddl, with_rows, sequences = _template_copy_sql()
    present = set(Cooperative.objects.filter(slug__startswith="fleet-").values_list("slug", flat=True))
    numbers = [n for n in range(count) if f"fleet-{n:05d}" not in present]
    done = count - len(numbers)
    batch = 50
    for start in range(0, len(numbers), batch * 2):
        connections.close_all()
        parts = [numbers[start : start + batch], numbers[start + batch : start + 2 * batch]]
        work = [(part, ddl, with_rows, sequences) for part in parts if part]
        with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
            done += sum(pool.map(_copy_range, work))
        catalog_statistics_refresh()
        say(f"  {done}/{count} workspaces made ({time.perf_counter() - started:.0f} s)")
    return time.perf_counter() - started


def _schemas() -> list[str]:
    from django.conf import settings

    from tenants.models import Cooperative

    return list(
        Cooperative.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )


def _take_out_new_migration(schemas: list[str]) -> float:
    """Every schema back to before the new migration: its column (and indexes) dropped, its record gone."""
    from django.db import connection, transaction

    from tenants.fleet import quote_schema

    started = time.perf_counter()
    # A few schemas per transaction: each ALTER holds its table's lock until the commit.
    for start in range(0, len(schemas), 50):
        with transaction.atomic(), connection.cursor() as cursor:
            for schema in schemas[start : start + 50]:
                quoted = quote_schema(schema)
                cursor.execute(f"ALTER TABLE {quoted}.{PROBE_TABLE} DROP COLUMN IF EXISTS {PROBE_COLUMN}")
                cursor.execute(
                    f"DELETE FROM {quoted}.django_migrations WHERE app = %s AND name = %s",  # noqa: S608
                    list(NEW_MIGRATION),
                )
    return time.perf_counter() - started


def _applied_everywhere(schemas: list[str]) -> bool:
    """Each schema has the new column and records the new migration."""
    from django.db import connection

    from tenants.fleet import scan

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND a.attname = %s AND NOT a.attisdropped AND n.nspname = ANY(%s)",
            [PROBE_TABLE, PROBE_COLUMN, schemas],
        )
        row = cursor.fetchone()
    with_column = int(row[0]) if row else 0
    return with_column == len(schemas) and not scan(schemas).pending


# --- The measurement -----------------------------------------------------------------------------


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _measure() -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    from tenants import services
    from tenants.fleet import fleet_migrate, fleet_schemas, scan
    from tenants.models import FleetMigrationOutcome

    call_command("migrate_schemas", "--shared", verbosity=0)
    services.template_ensure()
    say(f"Making {TENANTS} workspaces from the template ...")
    provision_s = _provision(TENANTS)
    schemas = _schemas()
    workers = os.cpu_count() or 1
    details: dict[str, Any] = {
        "workspaces": TENANTS,
        "schemas": len(schemas),
        "provision_s": round(provision_s, 1),
    }

    say("Ours: applying the new migration to every schema ...")
    details["reset_s"] = round(_take_out_new_migration(schemas), 2)
    load_before = _load()
    started = time.perf_counter()
    run = fleet_migrate(actor=None, workers=workers)
    ours_all = time.perf_counter() - started
    ours_ok = _applied_everywhere(schemas) and run.applied == len(schemas) and not run.failed
    seconds = list(
        FleetMigrationOutcome.objects.filter(run=run).exclude(seconds=None).values_list("seconds", flat=True)
    )
    started = time.perf_counter()
    scan(fleet_schemas())
    scan_s = time.perf_counter() - started
    say(f"  {ours_all:.1f} s; nothing to apply next ...")
    started = time.perf_counter()
    noop = fleet_migrate(actor=None, workers=workers)
    ours_noop = time.perf_counter() - started
    details["ours"] = {
        "workers": workers,
        "applied": run.applied,
        "failed": run.failed,
        "verified": ours_ok,
        "per_schema_median_s": round(statistics.median(seconds), 4) if seconds else None,
        "per_schema_p95_s": round(sorted(seconds)[int(len(seconds) * 0.95) - 1], 4) if seconds else None,
        "scan_all_schemas_s": round(scan_s, 3),
        "noop_skipped": noop.skipped,
        "load_average_before": load_before,
    }
    say(f"  {ours_noop:.2f} s")

    say("django-tenants (migrate_schemas --executor=multiprocessing): applying the new migration ...")
    _take_out_new_migration(schemas)
    load_before = _load()
    started = time.perf_counter()
    call_command("migrate_schemas", executor="multiprocessing", interactive=False, verbosity=0)
    theirs_all = time.perf_counter() - started
    theirs_ok = _applied_everywhere(schemas)
    say(f"  {theirs_all:.1f} s; nothing to apply next ...")
    started = time.perf_counter()
    call_command("migrate_schemas", executor="multiprocessing", interactive=False, verbosity=0)
    theirs_noop = time.perf_counter() - started
    say(f"  {theirs_noop:.1f} s")
    from django.conf import settings

    details["django_tenants_multiprocessing"] = {
        "processes": getattr(settings, "TENANT_MULTIPROCESSING_MAX_PROCESSES", 2),
        "verified": theirs_ok,
        "load_average_before": load_before,
    }
    details["load_average_after"] = _load()

    figures = {
        "migrate_all_s": {"ours": round(ours_all, 2), "django_tenants_multiprocessing": round(theirs_all, 2)},
        "migrate_noop_s": {
            "ours": round(ours_noop, 2),
            "django_tenants_multiprocessing": round(theirs_noop, 2),
        },
    }
    return {
        "benchmark": "control_plane_fleet",
        **figures,
        "goals_s": GOALS,
        "goals_met": {key: figures[key]["ours"] < goal for key, goal in GOALS.items()},
        "details": details,
        "note": "One new migration (a column with an index on a small workspace table) applied to every "
        "workspace schema and the template, then a run with nothing to apply; both executors in the same "
        "run on the same schemas, reset in between. Figures are wall-clock seconds of the call in this "
        "process (public-schema check included, interpreter start-up not).",
        "machine": machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main() -> int:
    result = measure()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["details"]["ours"]["verified"] else 1


if __name__ == "__main__":
    sys.exit(main())
