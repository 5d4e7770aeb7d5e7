"""The PostgreSQL side of backups: the client tools, dumping one schema, restoring it under a new name.

Dumping
    ``pg_dump --schema=<schema> --format=custom`` of one workspace. Before it starts, a separate
    connection opens a REPEATABLE READ transaction and exports its snapshot; pg_dump runs on that
    snapshot (``--snapshot``), and the same transaction counts every table's rows and reads the
    migration records and the ledger's chain head. The counts in the manifest are therefore exactly
    the rows in the dump, even while tellers keep posting.

Restoring under a new name, and why this way
    pg_restore recreates every object under the schema name it was dumped from, qualified
    (``CREATE TABLE coop_x.members_member``, ``SELECT pg_catalog.setval('coop_x.…_seq', …)``,
    ``CREATE TRIGGER … EXECUTE FUNCTION coop_x.ledger_lines_inserted()``), and cannot rename. The
    options considered:

    - Rewriting the SQL that ``pg_restore -f -`` writes (``coop_x.`` → ``restore_7.``): the schema
      name also appears inside data (memos, audit rows, COPY lines) and inside function bodies, so
      any textual rewrite either misses names or corrupts rows. Rejected.
    - Restoring into a scratch database, renaming there, dumping and restoring again: correct but
      twice the work and it needs CREATEDB rights on managed PostgreSQL. Rejected.
    - Renaming the live schema away, restoring, renaming back, each step committed: the workspace
      disappears for the length of the restore. Rejected.
    - What is done: one transaction on one connection (psql reading our script) that renames the
      dump's schema, if it exists, to a hold name, creates an empty schema under the dumped name,
      runs everything ``pg_restore -n <schema> -f -`` writes, renames the restored schema to the
      fresh target name and the held one back, then commits. PostgreSQL DDL is transactional and
      catalog changes are invisible to other sessions until commit: every other session keeps
      reading and writing the live workspace throughout (its tables, their OIDs and locks are never
      touched; only DDL in that schema waits for the commit). If pg_restore fails, the script ends
      with ROLLBACK instead: nothing half-restored is ever committed.

    Everything inside the schema keeps working under the new name: tables, sequences, indexes,
    constraints and triggers are bound by OID once created, so renaming a schema carries them
    along; column defaults and sequence ownership likewise. Function bodies are stored as text and
    resolved when they run: the ledger's trigger functions name their tables unqualified only when
    the table's schema is ``current_schema()`` and otherwise through ``TG_TABLE_SCHEMA`` (ledger
    migrations 0002-0004); no function names its own schema. The tests post into a restored schema
    and check the triggers still balance, refuse and chain.

    ``pg_restore -n`` keeps a dump from creating anything outside its own schema, and the dump's
    table of contents must name exactly the schema its manifest and record name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any

import psycopg
from django.conf import settings
from django.db import connection, connections
from psycopg import sql

from control_plane.backups.errors import BackupErrorCode, BackupRefused

SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# A namespace for our advisory-lock keys, so they never meet another feature's ("CB" << 48 | id).
LOCK_NAMESPACE = 0x4342 << 48
CHUNK = 1 << 20


class PostgresToolFailed(RuntimeError):
    """pg_dump, pg_restore or psql exited with an error; the message ends with what it said."""


def checked_schema_name(name: str) -> str:
    if not SCHEMA_NAME.match(name) or name.startswith("pg_"):
        raise ValueError(f"not a schema name this product uses: {name!r}")
    return name


def quoted(name: str) -> str:
    """An identifier for a SQL script (the names are checked first, quoting is a second guard)."""
    return '"' + checked_schema_name(name).replace('"', '""') + '"'


# --- The client tools ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PgTools:
    pg_dump: str
    pg_restore: str
    psql: str
    major: int


def _major_version(executable: str) -> int | None:
    try:
        output = subprocess.run(  # noqa: S603 - a path we found, no shell
            [executable, "--version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except OSError:
        return None
    match = re.search(r"\)\s+(\d+)", output)
    return int(match.group(1)) if match else None


def _candidate_dirs(server_major: int) -> Iterator[Path]:
    configured = str(getattr(settings, "BACKUP_PG_BIN_DIR", "") or "")
    if configured:
        yield Path(configured)
        return
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted(
            (int(child.name) for child in debian.iterdir() if child.name.isdigit()),
            key=lambda major: (major != server_major, major),
        )
        yield from (debian / str(major) / "bin" for major in versions)
    found = shutil.which("pg_dump")
    if found:
        yield Path(found).resolve().parent
    with contextlib.suppress(ImportError):
        import pgserver  # the embedded server of `make run` ships its own client tools

        yield Path(pgserver.__file__).parent / "pginstall" / "bin"


def _server_major() -> int:
    connection.ensure_connection()
    return int(connection.pg_version) // 10000  # type: ignore[attr-defined]


@cache
def _tools_for(server_major: int, configured: str) -> PgTools | None:
    for directory in _candidate_dirs(server_major):
        paths = [directory / name for name in ("pg_dump", "pg_restore", "psql")]
        if not all(path.is_file() and os.access(path, os.X_OK) for path in paths):
            continue
        majors = {_major_version(str(path)) for path in paths}
        if len(majors) != 1:
            continue
        (major,) = majors
        # pg_dump refuses a server newer than itself; psql must read what that pg_restore writes.
        if major is not None and major >= server_major:
            return PgTools(str(paths[0]), str(paths[1]), str(paths[2]), major)
    return None


def pg_tools() -> PgTools:
    """pg_dump, pg_restore and psql of one installation, at least as new as the server."""
    server_major = _server_major()
    configured = str(getattr(settings, "BACKUP_PG_BIN_DIR", "") or "")
    tools = _tools_for(server_major, configured)
    if tools is None:
        where = configured or "/usr/lib/postgresql/<version>/bin, the embedded server or PATH"
        raise BackupRefused(
            BackupErrorCode.POSTGRES_TOOLS_MISSING,
            f"No pg_dump, pg_restore and psql of PostgreSQL {server_major} or newer in {where} "
            "(set COOPCORE_BACKUP_PG_BIN_DIR).",
        )
    return tools


# --- Connections ---------------------------------------------------------------------------------

_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def _database() -> dict[str, Any]:
    return dict(connections["default"].settings_dict)


def libpq_environment() -> dict[str, str]:
    """The environment that points the client tools at the application's database."""
    database = _database()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    values = {
        "PGHOST": database.get("HOST") or "",
        "PGPORT": str(database.get("PORT") or ""),
        "PGUSER": database.get("USER") or "",
        "PGPASSWORD": database.get("PASSWORD") or "",
        "PGDATABASE": database["NAME"],
        "PGAPPNAME": "coopcore-backups",
        "PGCONNECT_TIMEOUT": "20",
    }
    for option, variable in _LIBPQ_OPTIONS.items():
        value = (database.get("OPTIONS") or {}).get(option)
        if value:
            values[variable] = str(value)
    environment.update({key: str(value) for key, value in values.items() if value})
    return environment


def open_connection(*, autocommit: bool = True) -> psycopg.Connection[Any]:
    """A connection of its own (not Django's): for snapshots and locks that outlive Django's transactions."""
    database = _database()
    params: dict[str, Any] = {
        "dbname": database["NAME"],
        "application_name": "coopcore-backups",
        "connect_timeout": 20,
    }
    for key, option in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
        if database.get(key):
            params[option] = database[key]
    for option in _LIBPQ_OPTIONS:
        value = (database.get("OPTIONS") or {}).get(option)
        if value:
            params[option] = value
    return psycopg.connect(autocommit=autocommit, **params)


class OperationLock:
    """The one backup-or-restore of a cooperative at a time: a session advisory lock on its own connection.

    Held for a whole run; PostgreSQL releases it if the process dies, so a crashed worker never
    leaves a cooperative locked.
    """

    def __init__(self, cooperative_id: int) -> None:
        self.key = LOCK_NAMESPACE | cooperative_id
        self.acquired = False
        self._connection: psycopg.Connection[Any] | None = None

    def __enter__(self) -> OperationLock:
        self._connection = open_connection()
        row = self._connection.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
        self.acquired = bool(row and row[0])
        return self

    def __exit__(self, *exc: object) -> None:
        if self._connection is not None:
            self._connection.close()  # closing the session releases the lock


def operation_lock_free(cooperative_id: int) -> bool:
    """Whether no run holds the cooperative's lock right now (a momentary answer)."""
    with open_connection() as conn:
        key = LOCK_NAMESPACE | cooperative_id
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
        if row and row[0]:
            conn.execute("SELECT pg_advisory_unlock(%s)", [key])
            return True
    return False


# --- Reading a schema ----------------------------------------------------------------------------


def schema_tables(cursor: Any, schema: str) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
        [schema],
    )
    return [row[0] for row in cursor.fetchall()]


def row_counts(cursor: Any, schema: str) -> dict[str, int]:
    """Every table's row count, in one statement (one snapshot)."""
    tables = schema_tables(cursor, schema)
    if not tables:
        return {}
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {name}, COUNT(*) FROM {table}").format(
            name=sql.Literal(table), table=sql.Identifier(schema, table)
        )
        for table in tables
    )
    cursor.execute(query)
    return {name: int(count) for name, count in cursor.fetchall()}


def applied_migrations(cursor: Any, schema: str) -> list[str]:
    cursor.execute(
        sql.SQL("SELECT app, name FROM {} ORDER BY app, name").format(
            sql.Identifier(schema, "django_migrations")
        )
    )
    return [f"{app}.{name}" for app, name in cursor.fetchall()]


def analyze_schema(schema: str) -> None:
    """Planner statistics for every table of a schema (pg_restore leaves none; autovacuum comes late)."""
    with open_connection() as conn, conn.cursor() as cursor:
        for table in schema_tables(cursor, schema):
            cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))


@dataclass(frozen=True)
class SchemaFacts:
    row_counts: dict[str, int]
    migrations: list[str]
    journal_lines: int
    ledger_head: str


def schema_facts(cursor: Any, schema: str) -> SchemaFacts:
    counts = row_counts(cursor, schema)
    head = ""
    if "ledger_ledgerstate" in counts:
        cursor.execute(
            sql.SQL("SELECT last_entry_hash FROM {} ORDER BY id LIMIT 1").format(
                sql.Identifier(schema, "ledger_ledgerstate")
            )
        )
        row = cursor.fetchone()
        head = str(row[0]) if row else ""
    return SchemaFacts(
        row_counts=counts,
        migrations=applied_migrations(cursor, schema) if "django_migrations" in counts else [],
        journal_lines=counts.get("ledger_journalline", 0),
        ledger_head=head,
    )


# --- Dumping -------------------------------------------------------------------------------------


@contextlib.contextmanager
def exported_snapshot() -> Iterator[tuple[str, Any]]:
    """(snapshot id, cursor) of a read-only REPEATABLE READ transaction kept open until the block ends."""
    with open_connection(autocommit=False) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        with conn.cursor() as cursor:
            yield str(row[0]), cursor
        conn.rollback()


def _drain(stream: IO[bytes], on_line: Callable[[str], None], tail: list[str]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        on_line(line)
        tail.append(line)
        if len(tail) > 40:
            del tail[:-40]


def _reader(stream: IO[bytes] | None, on_line: Callable[[str], None], tail: list[str]) -> threading.Thread:
    assert stream is not None
    thread = threading.Thread(target=_drain, args=(stream, on_line, tail), daemon=True)
    thread.start()
    return thread


def _tables_started(marker: str, on_table: Callable[[str], None]) -> Callable[[str], None]:
    """A line handler calling ``on_table`` for each table a verbose pg_dump/pg_restore starts on."""

    def handle(line: str) -> None:
        table = _table_of(line, marker)
        if table is not None:
            on_table(table)

    return handle


def _table_of(line: str, marker: str) -> str | None:
    # pg_dump: dumping contents of table "coop_x.members_member"
    if marker not in line:
        return None
    name = line.rsplit(marker, 1)[1].strip().strip('"')
    return name.split(".", 1)[-1]


def dump_schema(
    *,
    tools: PgTools,
    schema: str,
    snapshot: str,
    path: Path,
    on_table: Callable[[str], None],
    tick: Callable[[], None],
    lock_wait_seconds: int = 300,
) -> tuple[int, str]:
    """Dump one schema in custom format to ``path``; (size in bytes, SHA-256 hex)."""
    command = [
        tools.pg_dump,
        "--format=custom",
        f"--schema={quoted(schema)}",
        f"--snapshot={snapshot}",
        f"--lock-wait-timeout={lock_wait_seconds * 1000}",
        "--no-owner",
        "--no-privileges",
        "--verbose",
        f"--file={path}",
    ]
    tail: list[str] = []
    process = subprocess.Popen(  # noqa: S603 - our own arguments, no shell
        command, env=libpq_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    reader = _reader(
        process.stderr,
        _tables_started("dumping contents of table ", on_table),
        tail,
    )
    _wait(process, tick)
    reader.join(timeout=10)
    if process.returncode != 0:
        raise PostgresToolFailed(f"pg_dump exited with {process.returncode}: " + _errors(tail))
    return file_digest(path)


def _wait(process: subprocess.Popen[bytes], tick: Callable[[], None]) -> None:
    while True:
        try:
            process.wait(timeout=0.5)
            return
        except subprocess.TimeoutExpired:
            tick()


def _errors(tail: list[str]) -> str:
    interesting = [line for line in tail if "error" in line.lower() or "fatal" in line.lower()]
    return " | ".join((interesting or tail)[-6:])[:2000]


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def dump_schema_name(*, tools: PgTools, path: Path) -> str | None:
    """The schema a custom-format dump creates, from its table of contents (None if not exactly one)."""
    listing = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [tools.pg_restore, "--list", str(path)],
        env=libpq_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if listing.returncode != 0:
        raise PostgresToolFailed("pg_restore --list: " + listing.stderr.strip()[-2000:])
    # "8; 2615 141563 SCHEMA - coop_probe postgres"
    schemas = re.findall(r"^\d+; \d+ \d+ SCHEMA - (\S+)", listing.stdout, flags=re.MULTILINE)
    return schemas[0] if len(schemas) == 1 else None


# --- Restoring -----------------------------------------------------------------------------------


def _rename_if_exists(old: str, new: str) -> str:
    """A DO block renaming schema ``old`` to ``new`` when ``old`` exists (both names checked)."""
    literal = checked_schema_name(old)  # a checked name holds no quote
    return "\n".join(
        [
            "DO $coopcore$ BEGIN",
            f"  IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '{literal}') THEN",  # noqa: S608
            f"    ALTER SCHEMA {quoted(old)} RENAME TO {quoted(new)};",
            "  END IF;",
            "END $coopcore$;",
        ]
    )


def _restore_script_head(dump_schema: str, hold: str) -> str:
    return f"BEGIN;\n{_rename_if_exists(dump_schema, hold)}\nCREATE SCHEMA {quoted(dump_schema)};\n"


def _restore_script_tail(dump_schema: str, hold: str, target: str) -> str:
    rename = f"ALTER SCHEMA {quoted(dump_schema)} RENAME TO {quoted(target)};"
    return f"\n{rename}\n{_rename_if_exists(hold, dump_schema)}\nCOMMIT;\n"


def restore_schema(
    *,
    tools: PgTools,
    path: Path,
    dump_schema: str,
    target: str,
    on_table: Callable[[str], None],
    tick: Callable[[], None],
) -> None:
    """Restore a one-schema dump as schema ``target``, in one transaction (see the module docstring)."""
    checked_schema_name(dump_schema)
    checked_schema_name(target)
    hold = f"coopcore_hold_{secrets.token_hex(6)}"
    environment = libpq_environment()
    restore = subprocess.Popen(  # noqa: S603 - our own arguments, no shell
        [
            tools.pg_restore,
            f"--schema={dump_schema}",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--verbose",
            "--file=-",
            str(path),
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    psql = subprocess.Popen(  # noqa: S603 - our own arguments, no shell
        [tools.psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--file=-"],
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    restore_tail: list[str] = []
    psql_tail: list[str] = []
    readers = [
        _reader(
            restore.stderr,
            _tables_started("processing data for table ", on_table),
            restore_tail,
        ),
        _reader(psql.stderr, lambda line: None, psql_tail),
    ]
    assert restore.stdout is not None and psql.stdin is not None
    completed = False
    try:
        psql.stdin.write(_restore_script_head(dump_schema, hold).encode())
        for chunk in iter(lambda: restore.stdout.read(CHUNK), b""):  # type: ignore[union-attr]
            psql.stdin.write(chunk)
            tick()
        restore.wait()
        if restore.returncode == 0:
            psql.stdin.write(_restore_script_tail(dump_schema, hold, target).encode())
            completed = True
        else:
            psql.stdin.write(b"\nROLLBACK;\n")
        psql.stdin.close()
    except BrokenPipeError:
        # psql stopped at an error (ON_ERROR_STOP): its transaction is gone; say why below.
        restore.kill()
        restore.wait()
    finally:
        with contextlib.suppress(BrokenPipeError):
            psql.stdin.close()
    _wait(psql, tick)
    for reader in readers:
        reader.join(timeout=10)
    if psql.returncode != 0:
        raise PostgresToolFailed(f"psql exited with {psql.returncode}: " + _errors(psql_tail))
    if restore.returncode != 0 or not completed:
        raise PostgresToolFailed(f"pg_restore exited with {restore.returncode}: " + _errors(restore_tail))
