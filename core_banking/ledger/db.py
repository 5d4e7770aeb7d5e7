"""Running the ledger's hot statements as prepared statements.

Django's psycopg backend binds parameters on the client, so PostgreSQL parses and plans every
statement afresh; for the posting statement (one CTE that writes an entry, its lines, the day
balances and the chain head) planning cost more than executing. These helpers run a statement
on the same connection and transaction with server-side binding and ``prepare=True`` (psycopg
prepares only on a connection with a ``prepare_threshold``: set in settings; the session's
``plan_cache_mode`` is set in ``core_banking/ledger/apps.py``).
PostgreSQL re-parses a prepared statement when ``search_path`` has changed since its last use,
so one connection serving several workspaces always writes into the current one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from django.db import connection


def server_cursor() -> psycopg.Cursor[Any]:
    # A Django cursor first: it opens the connection and sets the workspace's search_path.
    with connection.cursor():
        pass
    raw = connection.connection
    assert raw is not None
    return psycopg.Cursor(raw)


def prepared_fetchone(sql: str, parameters: Mapping[str, Any]) -> tuple[Any, ...]:
    with server_cursor() as cursor:
        cursor.execute(sql, parameters, prepare=True)
        row = cursor.fetchone()
    assert row is not None, "the statement returns one row"
    return tuple(row)


def prepared_fetchall(sql: str, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    with server_cursor() as cursor:
        cursor.execute(sql, parameters, prepare=True)
        return [tuple(row) for row in cursor.fetchall()]
