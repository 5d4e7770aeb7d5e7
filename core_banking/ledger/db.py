"""Running the ledger's hot statements as prepared statements.

Django's psycopg backend binds parameters on the client, so PostgreSQL parses and plans every
statement afresh; for the posting statement (one CTE that writes an entry, its lines, the day
balances and the chain head) planning cost more than executing. These helpers run a statement
on the same connection and transaction with server-side binding and ``prepare=True`` (psycopg
prepares only on a connection with a ``prepare_threshold``: set in settings; the session's
``plan_cache_mode`` is set in ``core_banking/ledger/apps.py``).
PostgreSQL re-parses a prepared statement when ``search_path`` has changed since its last use,
so one connection serving several workspaces always writes into the current one.

The statements are written with named placeholders (``%(name)s``) for the reader. psycopg turns
them into PostgreSQL's ``$n`` on every call, and caches that only for statements under 4 KB with
at most 50 parameters; the posting statements are longer, and parsing them cost about as much as
a round trip. So each statement is converted once here (``_positional``) and run through a
``RawCursor``, which sends ``$n`` statements as they are.

Many rows of one table at once (an import's members, a field sync's records) go in with COPY
(``copy_insert``), on the same connection and transaction.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from django.db import connection
from psycopg.types.json import Jsonb


def server_cursor() -> psycopg.Cursor[Any]:
    # A Django cursor first: it opens the connection and sets the workspace's search_path.
    with connection.cursor():
        pass
    raw = connection.connection
    assert raw is not None
    return psycopg.Cursor(raw)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%|%")


@functools.lru_cache(maxsize=256)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` with ``$n`` for each distinct ``%(name)s`` (``%%`` for a literal %), and the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            if match.group(0) != "%%":
                raise ValueError(f"a lone % at {match.start()}: write %% for a literal one")
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PLACEHOLDER.sub(number, sql), tuple(names)


def _execute_prepared(sql: str, parameters: Mapping[str, Any]) -> psycopg.RawCursor[Any]:
    statement, names = _positional(sql)
    # A Django cursor first: it opens the connection and sets the workspace's search_path.
    with connection.cursor():
        raw = connection.connection
    assert raw is not None
    cursor = psycopg.RawCursor(raw)
    cursor.execute(statement, [parameters[name] for name in names], prepare=True)
    return cursor


def prepared_fetchone(sql: str, parameters: Mapping[str, Any]) -> tuple[Any, ...]:
    with _execute_prepared(sql, parameters) as cursor:
        row = cursor.fetchone()
    assert row is not None, "the statement returns one row"
    return tuple(row)


def prepared_fetchall(sql: str, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    with _execute_prepared(sql, parameters) as cursor:
        return [tuple(row) for row in cursor.fetchall()]


def copy_insert(model: Any, rows: Sequence[Any], exclude: Sequence[str] = ()) -> list[int]:
    """Insert unsaved model instances with COPY (ids taken from the table's sequence first); their
    ids, in order, also set on the instances. Every concrete column is written as the instance holds
    it (the field defaults the instance got when it was made), so callers set what matters. psycopg
    adapts the Python values itself (ints, text, dates, UUIDs, Decimal, lists); JSON is wrapped,
    nothing else is converted: Django's per-value preparation costs more than the COPY at these
    volumes. Database errors (a unique key taken meanwhile) are raised as Django's."""
    if not rows:
        return []
    table = model._meta.db_table
    fields = [field for field in model._meta.concrete_fields if field.column not in exclude]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    getters = [_column_value(field) for field in fields]
    with connection.wrap_database_errors, server_cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)]
        )
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                row.pk = pk
                copy.write_row([getter(row) for getter in getters])
    return ids


def _column_value(field: Any) -> Any:
    attname = field.attname
    if field.get_internal_type() == "JSONField":
        return lambda row: Jsonb(getattr(row, attname))
    return operator.attrgetter(attname)
