"""What every benchmark shares: a database of its own, derived from DATABASE_URL, and the machine."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit


def bench_database_url(suffix: str) -> tuple[str, str, str]:
    """(bench URL, maintenance URL, bench database name) derived from DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coopcore")
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + suffix
    bench = urlunsplit(parts._replace(path="/" + name))
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    return bench, maintenance, name


def psycopg_dsn(url: str) -> str:
    parts = urlsplit(url)
    host = unquote(parts.hostname or "") if parts.hostname else ""
    if "%2F" in (parts.netloc or ""):
        host = unquote(parts.netloc.split("@")[-1])
    user = parts.username or "postgres"
    port = f" port={parts.port}" if parts.port else ""
    return f"host={host} user={user}{port} dbname={parts.path.lstrip('/')}"


def recreate_database(maintenance_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(psycopg_dsn(maintenance_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def database_exists(maintenance_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(psycopg_dsn(maintenance_url), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def run_in_own_database(suffix: str, run: Callable[[], int]) -> int:
    """Run a benchmark in a database of its own (<name><suffix>), created before and dropped after."""
    bench_url, maintenance_url, name = bench_database_url(suffix)
    recreate_database(maintenance_url, name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        return run()
    finally:
        from django.db import connections

        connections.close_all()
        recreate_database(maintenance_url, name, drop_only=True)


def say(message: str) -> None:
    """Progress for the person watching, on stderr (stdout carries the figures)."""
    print(message, file=sys.stderr, flush=True)


def bench_workspace(slug: str) -> Any:
    """A migrated database with the workspace template and one Bangladeshi cooperative."""
    from django.core.management import call_command

    from tenants import services
    from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision

    call_command("migrate_schemas", "--shared", verbosity=0)
    services.template_ensure()
    return cooperative_provision(
        spec=CooperativeSpec(name="Bench samity", slug=slug, country="BD"),
        admin=AdminSpec(username="admin", password=None, email="admin@bench.example"),
    )


def committed_insert_floor(count: int = 3_000) -> dict[str, Any]:
    """One-row INSERTs, each committed on its own (synchronous_commit on), over the same connection.

    No posting can commit faster than the disk flushes a commit: this is the machine's ceiling for
    single postings at the moment of the run (it moves with the disk's load).
    """
    import time

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE floor_commit (id bigserial PRIMARY KEY, amount bigint)")
    raw = connection.connection
    assert raw is not None
    started = time.perf_counter()
    for number in range(count):
        raw.execute("INSERT INTO floor_commit (amount) VALUES (%s)", (number,), prepare=True)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE floor_commit")
    return {"inserts": count, "per_s": round(count / elapsed), "ms_each": round(elapsed / count * 1000, 3)}


def copy_floor_seconds(count: int) -> float:
    """Median seconds to COPY ``count`` bare journal entries and twice as many lines, and commit.

    Into ordinary (logged) tables of the journal's shape, without its indexes and triggers: the
    least any batch posting of ``count`` entries can cost on this machine at this moment.
    """
    import io
    import statistics
    import time

    from django.db import connection, transaction

    entries = io.StringIO()
    lines = io.StringIO()
    hashes = f"{'a' * 64}\t{'b' * 64}\t{'c' * 64}"
    for number in range(count):
        entries.write(
            f"{number}\t2026-11-24\t1\tDeposit\tcopy-{number}\t{hashes}\t\\N\t2026-11-24 10:00:00+00\t\\N\n"
        )
        lines.write(f"{2 * number}\t{number}\t1\t{1000 + number}\t0\n")
        lines.write(f"{2 * number + 1}\t{number}\t2\t0\t{1000 + number}\n")
    entry_rows, line_rows = entries.getvalue(), lines.getvalue()
    timings = []
    for _ in range(5):
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE floor_entry (LIKE ledger_journalentry)")
            cursor.execute("CREATE TABLE floor_line (LIKE ledger_journalline)")
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(
                "COPY floor_entry (id, value_date, branch_id, memo, idempotency_key, payload_hash, "
                "previous_hash, entry_hash, reverses_id, posted_at, posted_by_id) FROM STDIN"
            ) as copy:
                copy.write(entry_rows)
            with cursor.copy(
                "COPY floor_line (id, entry_id, account_id, debit_minor, credit_minor) FROM STDIN"
            ) as copy:
                copy.write(line_rows)
        timings.append(time.perf_counter() - started)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE floor_entry, floor_line")
    return statistics.median(timings)
