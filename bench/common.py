"""What every benchmark shares: a database of its own, derived from DATABASE_URL, and the machine."""

from __future__ import annotations

import os
import platform
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


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
