"""A cooperative's data as a zip of CSV files, one per table of its workspace schema, streamed.

Only the named schema is read: its tables are listed from the catalog for that schema alone, and
every ``COPY`` names the schema explicitly, so the connection's ``search_path`` plays no part.
Rows are read in one REPEATABLE READ, READ ONLY transaction, so the files agree with one another.
The zip is written as it is read (no temporary file holds a cooperative's data on the server).

Left out on purpose, because they let someone act as a person rather than describe the
cooperative's business: log-in sessions (``django_session``), API tokens (``authtoken_token``)
and password hashes (``identity_user.password``, exported empty). ``manifest.json`` says so,
and counts the rows of every file.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

EXCLUDED_TABLES = frozenset({"django_session", "authtoken_token"})
WITHHELD_COLUMNS: dict[str, frozenset[str]] = {"identity_user": frozenset({"password"})}
# Bytes gathered before they are handed to the response.
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class ExportTable:
    name: str
    columns: tuple[str, ...]


def export_tables(schema_name: str) -> list[ExportTable]:
    """The base tables of one schema (and their columns), less what is never exported."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, array_agg(a.attname ORDER BY a.attnum) "
            "FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') "
            "GROUP BY c.relname ORDER BY c.relname",
            [schema_name],
        )
        rows = cursor.fetchall()
    return [
        ExportTable(name=name, columns=tuple(columns))
        for name, columns in rows
        if name not in EXCLUDED_TABLES
    ]


class _Sink:
    """A write-only, unseekable file: zipfile then writes data descriptors and never seeks back."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data


def _select(schema_name: str, table: ExportTable) -> sql.Composed:
    withheld = WITHHELD_COLUMNS.get(table.name, frozenset())
    columns = sql.SQL(", ").join(
        sql.SQL("NULL AS {}").format(sql.Identifier(column)) if column in withheld else sql.Identifier(column)
        for column in table.columns
    )
    return sql.SQL("COPY (SELECT {} FROM {}.{}) TO STDOUT WITH (FORMAT csv, HEADER)").format(
        columns, sql.Identifier(schema_name), sql.Identifier(table.name)
    )


@contextlib.contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of the schema; inside a caller's transaction, that transaction's view."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def export_stream(*, schema_name: str, manifest: dict[str, object]) -> Iterator[bytes]:
    """Yield the zip's bytes: ``<table>.csv`` for every table of ``schema_name``, then the manifest."""
    sink = _Sink()
    counts: dict[str, int] = {}
    with _snapshot(), zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in export_tables(schema_name):
            with (
                archive.open(f"{table.name}.csv", mode="w", force_zip64=True) as member,
                connection.cursor() as cursor,
                cursor.cursor.copy(_select(schema_name, table)) as copy,
            ):
                for chunk in copy:
                    member.write(bytes(chunk))
                    if sink.size >= CHUNK_BYTES:
                        yield sink.take()
                counts[table.name] = max(cursor.cursor.rowcount, 0)
        body = {
            **manifest,
            "schema": schema_name,
            "exported_at": timezone.now().isoformat(timespec="seconds"),
            "tables": counts,
            "tables_left_out": sorted(EXCLUDED_TABLES),
            "columns_exported_empty": {name: sorted(columns) for name, columns in WITHHELD_COLUMNS.items()},
        }
        archive.writestr("manifest.json", json.dumps(body, indent=2, ensure_ascii=False, default=str))
    yield sink.take()
