"""Spare workspaces: template clones made ahead of time, so a sign-up waits for a rename, not a clone.

``clone_schema`` walks the system catalogs once per object of the template, and those catalogs
grow with every workspace in the database: with a thousand cooperatives a clone takes well over
a second on a small machine. ``ALTER SCHEMA ... RENAME`` takes milliseconds whatever the size.
So a small pool of spares (``settings.TENANT_SPARE_WORKSPACES``) is kept full in the background
(beat, and after each provisioning commits), and ``cooperative_provision`` renames one into
place inside its own transaction, falling back to the clone when none is ready.

A spare is an exact clone of the template (tables, functions, triggers and the template's rows),
made by the same function as the clone path. Everything in it refers to its own objects by OID,
never by schema name (``test_a_renamed_spare_is_a_working_workspace`` checks the triggers), so
the rename is all that differs. A spare records the migrations it was cloned with; after a deploy
that brings new ones it no longer matches, is never handed out, and the next refill drops it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.db import connection, transaction

from tenants.models import SpareWorkspace

SPARE_PREFIX = "spare_"
# pg_try_advisory_lock key of the refill: one refill at a time in the whole installation.
REFILL_LOCK_KEY = 0x5350_4152  # "SPAR"


@cache
def migrations_fingerprint() -> str:
    """SHA-256 of the tenant migrations on disk (they do not change while the process runs)."""
    from tenants.services import expected_tenant_migrations

    names = "\n".join(f"{app}.{name}" for app, name in sorted(expected_tenant_migrations()))
    return hashlib.sha256(names.encode()).hexdigest()


def _quoted(schema_name: str) -> str:
    if not schema_name.replace("_", "").isalnum() or not schema_name.islower():
        raise ValueError(f"not a schema name of ours: {schema_name!r}")
    return f'"{schema_name}"'


def spare_claim(*, schema_name: str) -> bool:
    """Rename a current spare to ``schema_name``; False when none is ready.

    Runs inside the caller's transaction (provisioning's): if that rolls back, the rename and the
    claim roll back with it and the spare is there again. ``SKIP LOCKED``: two provisionings at
    once take two different spares, neither waits for the other.
    """
    assert connection.in_atomic_block, "a spare is claimed inside the provisioning's transaction"
    spare = (
        SpareWorkspace.objects.select_for_update(skip_locked=True)
        .filter(migrations_fingerprint=migrations_fingerprint())
        .order_by("created_at", "id")
        .first()
    )
    if spare is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SCHEMA {_quoted(spare.schema_name)} RENAME TO {_quoted(schema_name)}")
    spare.delete()
    return True


@contextmanager
def _refill_lock() -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REFILL_LOCK_KEY])
        row = cursor.fetchone()
        held = bool(row and row[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [REFILL_LOCK_KEY])


def _drop(spare: SpareWorkspace) -> None:
    with transaction.atomic():
        locked = SpareWorkspace.objects.select_for_update(skip_locked=True).filter(pk=spare.pk).first()
        if locked is None:  # being claimed right now
            return
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {_quoted(locked.schema_name)} CASCADE")
        locked.delete()


def _make_one() -> SpareWorkspace:
    from tenants.services import clone_into, require_current_template

    require_current_template()
    schema_name = SPARE_PREFIX + secrets.token_hex(8)
    with transaction.atomic():
        spare = SpareWorkspace.objects.create(
            schema_name=schema_name, migrations_fingerprint=migrations_fingerprint()
        )
        clone_into(schema_name)
    return spare


def spares_refill(*, target: int | None = None) -> int:
    """Drop stale spares and clone new ones until ``target`` current ones wait; returns how many were made.

    Runs in the public schema, as a task outside any transaction: each spare commits on its own.
    A refill already running elsewhere makes this one return 0 at once.
    """
    from tenants.services import catalog_statistics_refresh

    wanted = settings.TENANT_SPARE_WORKSPACES if target is None else target
    made = 0
    with _refill_lock() as held:
        if not held:
            return 0
        for stale in SpareWorkspace.objects.exclude(migrations_fingerprint=migrations_fingerprint()):
            _drop(stale)
        ready = SpareWorkspace.objects.filter(migrations_fingerprint=migrations_fingerprint()).count()
        for _ in range(max(0, wanted - ready)):
            _make_one()
            catalog_statistics_refresh()
            made += 1
    if made and not connection.in_atomic_block:
        # As after a provisioning: this session's catalog caches now hold every cloned relation.
        connection.close()
    return made


def spares_ready() -> int:
    return SpareWorkspace.objects.filter(migrations_fingerprint=migrations_fingerprint()).count()
