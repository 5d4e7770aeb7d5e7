"""Fleet migrations: every workspace schema brought to the migrations on disk, in minutes, not a night.

``manage.py migrate_schemas`` (django-tenants) runs Django's whole ``migrate`` command once per
schema: it loads the migration graph, renders every model's state and sends ``post_migrate`` to
every app, even for a schema with nothing to do. With a thousand workspaces that is the night.

A fleet run (``fleet_migrate``) does this instead:

1. **Reads every schema's applied migrations at once.** One query per ``SCAN_CHUNK`` schemas (a
   ``UNION ALL`` over their ``django_migrations`` tables) returns, for each schema, the migrations
   on disk it has not applied. Schemas with nothing missing are skipped untouched.
2. **The public schema first** (Django's own ``migrate`` through django-tenants), then the
   **workspace template** on its own: provisioning clones it, so it must be current before any
   workspace is. When the template fails the run stops there.
3. **The other schemas in parallel**, in a pool of worker processes (one per CPU by default), each
   with its own database connection. Schemas missing the same migrations form a group; a worker
   prepares a group once (the migration graph, the plan, the rendered project state before it and
   the model state ``post_migrate`` needs after it) and then, per schema, runs Django's migration
   executor with that plan on a copy of that state: the same operations and the same
   ``django_migrations`` records as ``migrate``, without rebuilding the graph and the states for
   every schema.
4. **One transaction per schema.** The schema's migrations, their records and the ``post_migrate``
   work commit together or not at all (PostgreSQL DDL is transactional), under a lock timeout so a
   busy workspace fails fast instead of queueing everybody behind it. A failure is recorded with
   its error and the run goes on; the schema stays exactly as it was. Running again continues where
   a run stopped, because finished schemas have nothing left to apply.

Faithful to ``migrate`` where it matters: ``post_migrate`` (content types and permissions) runs in
each migrated schema, unless the migrations change no model and no permission and its only
receivers are Django's own, in which case it would find nothing to create and is left out. A
schema the fast path cannot take as it is (no ``django_migrations`` table, its state changed since
the scan, a plan Django would not run forwards, a migration that must run outside a transaction,
``pre_migrate`` receivers other than Django's) goes through django-tenants' own per-schema
``migrate`` instead, in the same worker.

Progress lives in ``FleetMigrationRun`` and its ``FleetMigrationOutcome`` rows (public schema),
written by the coordinating process as results arrive, so the console can poll them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from asgiref.local import Local
from django.apps import apps as global_apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ModelState, ProjectState, StateApps
from django.db.models import Q
from django.db.models.signals import post_migrate, pre_migrate
from django.dispatch import Signal
from django.utils import timezone
from django_tenants.utils import schema_exists

from control_plane.audit.services import audit_record
from tenants.models import (
    Cooperative,
    FleetMigrationOutcome,
    FleetMigrationRun,
    FleetOutcomeStatus,
    FleetRunStatus,
)

logger = logging.getLogger(__name__)

MigrationKey = tuple[str, str]

# Schemas per scan query. Each scanned table (and its primary-key index) takes a lock until the
# query ends; PostgreSQL's shared lock table holds max_locks_per_transaction x max_connections
# (64 x 100 by default), so one query over five thousand schemas would run out of it.
SCAN_CHUNK = 500
# A schema whose tables another session holds locked fails after this long instead of making every
# later query on those tables queue behind the migration (re-run the fleet later to finish it).
DEFAULT_LOCK_TIMEOUT_S = 10.0
# The coordinator writes progress at most this often (and once more at the end).
PROGRESS_INTERVAL_S = 0.5
# Held for a whole run, so two runs never migrate the same schemas at once.
FLEET_LOCK_KEY = 0x466C_6565_744D  # "FleetM"
# Only these receivers are known to do nothing a shared plan or an unchanged model set would change.
DJANGO_PRE_MIGRATE = frozenset(
    {"django.contrib.contenttypes.management.inject_rename_contenttypes_operations"}
)
DJANGO_POST_MIGRATE = frozenset(
    {
        "django.contrib.contenttypes.management.create_contenttypes",
        "django.contrib.auth.management.create_permissions",
    }
)


class FleetMigrationBusy(RuntimeError):
    """Another fleet run holds the fleet lock."""


@dataclass(frozen=True)
class SchemaOutcome:
    schema_name: str
    status: str  # a FleetOutcomeStatus value
    seconds: float
    migrations: int = 0
    error: str = ""
    fast_path: bool = True


@dataclass(frozen=True)
class FleetScan:
    """What each schema lacks: ``pending`` maps schema to missing migrations (None: no migration table)."""

    schemas: tuple[str, ...]
    pending: dict[str, frozenset[MigrationKey] | None]
    absent: tuple[str, ...]  # named by a cooperative but not in the database

    @property
    def current(self) -> list[str]:
        return [s for s in self.schemas if s not in self.pending and s not in self.absent]

    def migration_names(self) -> list[str]:
        names: set[str] = set()
        for missing in self.pending.values():
            names.update(f"{app}.{name}" for app, name in missing or ())
        return sorted(names)


@dataclass(frozen=True)
class FleetProgress:
    """Told to the ``progress`` callback after each schema finishes."""

    targets: int
    done: int
    applied: int
    failed: int
    skipped: int
    outcome: SchemaOutcome | None = None


@dataclass
class _Counters:
    done: int = 0
    applied: int = 0
    failed: int = 0
    current: int = 0
    failures: list[SchemaOutcome] = field(default_factory=list)


# --- Scanning ------------------------------------------------------------------------------------


def quote_schema(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def disk_migrations() -> frozenset[MigrationKey]:
    """Every migration on disk, of every installed app.

    A workspace schema records them all, like the public one: django-tenants runs the whole
    ``migrate`` in each schema, and the router turns the operations of apps that do not belong
    there into no-ops that are still recorded as applied.
    """
    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    return frozenset(loader.disk_migrations)


def fleet_schemas() -> list[str]:
    """The workspace template first, then every cooperative's schema (as migrate_schemas does)."""
    template = settings.TENANT_BASE_SCHEMA
    names = list(
        Cooperative.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .exclude(schema_name=template)
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )
    return [template, *names]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def scan(schemas: Sequence[str], *, expected: frozenset[MigrationKey] | None = None) -> FleetScan:
    """Which of ``schemas`` lack which migrations, in one query per ``SCAN_CHUNK`` schemas."""
    expected = disk_migrations() if expected is None else expected
    pending: dict[str, frozenset[MigrationKey] | None] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname, c.oid IS NOT NULL FROM pg_catalog.pg_namespace n "
            "LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid "
            "AND c.relname = 'django_migrations' AND c.relkind IN ('r', 'p') "
            "WHERE n.nspname = ANY(%s)",
            [list(schemas)],
        )
        found = dict(cursor.fetchall())
        with_table = [s for s in schemas if found.get(s)]
        for schema in schemas:
            if schema in found and not found[schema]:
                pending[schema] = None
        apps_, names = zip(*sorted(expected), strict=True) if expected else ((), ())
        for chunk in _chunks(with_table, SCAN_CHUNK):
            branches = " UNION ALL ".join(
                f"SELECT %s::text, app::text, name::text FROM {quote_schema(s)}.django_migrations"  # noqa: S608
                for s in chunk
            )
            cursor.execute(
                "SELECT s.schema_name, e.app, e.name "  # noqa: S608 - quoted schema names, values as parameters
                "FROM unnest(%s::text[]) AS s(schema_name) "
                "CROSS JOIN unnest(%s::text[], %s::text[]) AS e(app, name) "
                f"EXCEPT ({branches})",
                [list(chunk), list(apps_), list(names), *chunk],
            )
            missing: dict[str, set[MigrationKey]] = {}
            for schema, app, name in cursor.fetchall():
                missing.setdefault(schema, set()).add((app, name))
            for schema, keys in missing.items():
                pending[schema] = frozenset(keys)
    ordered = {s: pending[s] for s in schemas if s in pending}
    absent = tuple(s for s in schemas if s not in found)
    return FleetScan(schemas=tuple(schemas), pending=ordered, absent=absent)


# --- Applying (inside a worker process) ----------------------------------------------------------


class _StateChanged(Exception):
    """The schema no longer lacks what the scan said: let Django's own migrate work it out."""


@dataclass
class _Prepared:
    """One group's plan and states, built once per worker and reused for every schema of the group."""

    executor: MigrationExecutor
    targets: list[MigrationKey]
    plan: list[tuple[Migration, bool]]
    pre_state: ProjectState
    post_apps: StateApps
    post_migrate_labels: tuple[str, ...] | None
    expected: frozenset[MigrationKey]
    # Each migration of the plan, in the order Django applies them, with every operation and the
    # project states before and after it; None for a plan too long to keep them (see STEP_LIMIT).
    steps: list[tuple[Migration, list[tuple[Operation, ProjectState, ProjectState]]]] | None
    content_type_managers: list[Any]


# Plans with more operations than this are applied by Django's executor from the shared state,
# instead of from states kept per operation (each is a copy of every model's state).
STEP_LIMIT = 60


# Per worker process: group (missing set) -> prepared plan, or None when the group needs the slow path.
_prepared: dict[frozenset[MigrationKey], _Prepared | None] = {}
# The parent's connection objects, inherited through fork: kept referenced and never used or closed
# here (closing them would end the parent's sessions).
_inherited: list[Any] = []


def _use_schema(schema: str) -> None:
    """Point the connection's search path at ``schema`` (django-tenants' backend)."""
    tenant_connection: Any = connection
    tenant_connection.set_schema(schema)


def _worker_start() -> None:
    """Pool initializer: fresh database connections for this process."""
    _inherited.append(connections._connections)  # type: ignore[attr-defined]
    connections._connections = Local(connections.thread_critical)  # type: ignore[attr-defined]
    _prepared.clear()


def _receiver_names(signal: Signal) -> set[str]:
    names: set[str] = set()
    for app_config in global_apps.get_app_configs():
        live: Any = signal._live_receivers(app_config)
        if isinstance(live, tuple):  # Django 5: (sync receivers, async receivers)
            live = [*live[0], *live[1]]
        for receiver in live:
            names.add(f"{receiver.__module__}.{getattr(receiver, '__qualname__', repr(receiver))}")
    return names


def _content_signature(apps: StateApps) -> dict[str, frozenset[tuple[str, frozenset[str]]]]:
    """Per app label, what Django's post_migrate receivers create: content types and permissions."""
    from django.contrib.auth import management as auth_management

    all_permissions: Callable[[Any], list[tuple[str, str]]] = auth_management._get_all_permissions  # type: ignore[attr-defined]
    signature: dict[str, set[tuple[str, frozenset[str]]]] = {}
    for model in apps.get_models():
        codenames = frozenset(codename for codename, _name in all_permissions(model._meta))
        signature.setdefault(model._meta.app_label, set()).add((model._meta.model_name or "", codenames))
    return {label: frozenset(models) for label, models in signature.items()}


def _post_migrate_labels(pre_apps: StateApps, post_apps: StateApps) -> tuple[str, ...] | None:
    """The apps post_migrate must be sent for in each schema of a group; None: all of them.

    Django's migrate sends it for every app, and its receivers create only what is missing. When
    those are the only receivers, an app whose models and permissions the plan leaves as they were
    would get nothing from them, so only the apps the plan changes are sent it.
    """
    if _receiver_names(post_migrate) - DJANGO_POST_MIGRATE:
        return None
    before, after = _content_signature(pre_apps), _content_signature(post_apps)
    return tuple(
        sorted(label for label in before.keys() | after.keys() if before.get(label) != after.get(label))
    )


def _emit_post_migrate(prepared: _Prepared) -> None:
    """Django's emit_post_migrate_signal, for the apps the group needs it for."""
    labels = prepared.post_migrate_labels
    if labels is None:
        emit_post_migrate_signal(0, False, connection.alias, apps=prepared.post_apps, plan=prepared.plan)
        return
    for label in labels:
        try:
            app_config = global_apps.get_app_config(label)
        except LookupError:
            continue
        if app_config.models_module is None:
            continue
        post_migrate.send(
            sender=app_config,
            app_config=app_config,
            verbosity=0,
            interactive=False,
            using=connection.alias,
            apps=prepared.post_apps,
            plan=prepared.plan,
        )


def _post_migrate_apps(state: ProjectState) -> StateApps:
    """The apps post_migrate receives, rendered as Django's migrate command renders them."""
    state.clear_delayed_apps_cache()
    post_apps = state.apps
    with post_apps.bulk_update():
        model_keys = []
        for model_state in post_apps.real_models:
            model_key = model_state.app_label, model_state.name_lower
            model_keys.append(model_key)
            post_apps.unregister_model(*model_key)
    post_apps.render_multiple([ModelState.from_model(global_apps.get_model(*key)) for key in model_keys])
    return post_apps


def _prepare(missing: frozenset[MigrationKey], expected: frozenset[MigrationKey]) -> _Prepared | None:
    """Build the group's plan on the current schema (one of the group); None sends the group the slow way.

    Raises _StateChanged when only this schema is not what the group is (the next one may be).
    """
    if _receiver_names(pre_migrate) - DJANGO_PRE_MIGRATE:
        return None
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    plan = executor.migration_plan(targets)
    planned = {(migration.app_label, migration.name) for migration, _backwards in plan}
    if not plan or expected - set(executor.loader.applied_migrations) != missing:
        raise _StateChanged
    if (
        planned != missing
        or any(backwards for _migration, backwards in plan)
        or not all(migration.atomic for migration, _backwards in plan)
    ):
        return None
    pre_state = executor._create_project_state(with_applied_migrations=True)  # type: ignore[attr-defined]
    pre_apps = pre_state.apps  # render once; every schema gets a copy
    # Once per group: Django's receiver only adds content-type renames to the plan's migrations.
    emit_pre_migrate_signal(0, False, connection.alias, apps=pre_apps, plan=plan)
    steps = _operation_steps(executor, plan, pre_state)
    post_state = pre_state.clone()
    for migration, _backwards in plan:
        post_state = migration.mutate_state(post_state, preserve=False)
    post_apps = _post_migrate_apps(post_state)
    states = [pre_state, *(state for _m, ops in steps or () for _o, _f, state in ops)]
    managers: list[Any] = []
    for apps in [*(state.apps for state in states), post_apps]:
        with contextlib.suppress(LookupError):
            manager = apps.get_model("contenttypes", "ContentType").objects
            if all(manager is not known for known in managers):
                managers.append(manager)
    return _Prepared(
        executor=executor,
        targets=targets,
        plan=plan,
        pre_state=pre_state,
        post_apps=post_apps,
        post_migrate_labels=_post_migrate_labels(pre_apps, post_apps),
        expected=expected,
        steps=steps,
        content_type_managers=managers,
    )


def _operation_steps(
    executor: MigrationExecutor, plan: list[tuple[Migration, bool]], pre_state: ProjectState
) -> list[tuple[Migration, list[tuple[Operation, ProjectState, ProjectState]]]] | None:
    """What Migration.apply computes for each operation (the states around it), computed once.

    In the order Django's executor applies a forwards plan (the order of the full plan).
    """
    if sum(len(migration.operations) for migration, _backwards in plan) > STEP_LIMIT:
        return None
    planned = {migration for migration, _backwards in plan}
    full_plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    state = pre_state.clone()
    steps = []
    for migration, _backwards in full_plan:
        if migration not in planned:
            continue
        operations = []
        for operation in migration.operations:
            before = state.clone()
            operation.state_forwards(migration.app_label, state)
            operations.append((operation, before, state.clone()))
        steps.append((migration, operations))
    return steps


def _apply_steps(
    executor: Any, steps: list[tuple[Migration, list[tuple[Operation, ProjectState, ProjectState]]]]
) -> None:
    """Django's MigrationExecutor.apply_migration and Migration.apply, with the states computed once.

    (``executor`` is typed Any: Django 5.1+ has record_migration(migration), older stubs do not.)
    """
    for migration, operations in steps:
        recorded = False
        with connection.schema_editor(atomic=migration.atomic) as schema_editor:
            for operation, from_state, to_state in operations:
                atomic_operation = operation.atomic or (migration.atomic and operation.atomic is not False)
                if not schema_editor.atomic_migration and atomic_operation:
                    with transaction.atomic(schema_editor.connection.alias):
                        operation.database_forwards(migration.app_label, schema_editor, from_state, to_state)
                else:
                    operation.database_forwards(migration.app_label, schema_editor, from_state, to_state)
            if not schema_editor.deferred_sql:
                executor.record_migration(migration)
                recorded = True
        if not recorded:
            executor.record_migration(migration)
    if executor.loader.replacements:
        executor.check_replacements()


def _clear_content_type_caches(prepared: _Prepared) -> None:
    """Content type ids differ per schema; the managers cache them per database alias only."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    for manager in prepared.content_type_managers:
        manager.clear_cache()


def _applied_here(schema: str) -> set[MigrationKey]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {quote_schema(schema)}.django_migrations")  # noqa: S608
        return {(app, name) for app, name in cursor.fetchall()}


def _apply_fast(
    schema: str, prepared: _Prepared, missing: frozenset[MigrationKey], lock_timeout: float
) -> int:
    """The group's plan on this schema, in one transaction; returns how many migrations it applied."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            if lock_timeout:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true)", [f"{int(lock_timeout * 1000)}ms"]
                )
            # Two runs (or migrate_schemas) on one schema take turns; the second sees the first's work.
            cursor.execute(f"LOCK TABLE {quote_schema(schema)}.django_migrations IN SHARE ROW EXCLUSIVE MODE")
        now_missing = prepared.expected - _applied_here(schema)
        if not now_missing:
            return 0
        if now_missing != missing:
            raise _StateChanged
        _clear_content_type_caches(prepared)
        if prepared.steps is not None:
            _apply_steps(prepared.executor, prepared.steps)
        else:
            prepared.executor.migrate(prepared.targets, plan=prepared.plan, state=prepared.pre_state.clone())
        _emit_post_migrate(prepared)
    return len(prepared.plan)


def _apply_with_migrate_schemas(schema: str) -> int:
    """django-tenants' own per-schema migrate (Django's migrate command), for what the fast path leaves."""
    before = _applied_here(schema) if _has_migration_table(schema) else set()
    call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=0)
    _use_schema(schema)
    return len(_applied_here(schema) - before)


def _has_migration_table(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{quote_schema(schema)}.django_migrations"])
        row = cursor.fetchone()
    return bool(row and row[0])


def migrate_schema(
    schema: str,
    missing: frozenset[MigrationKey] | None,
    expected: frozenset[MigrationKey],
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
) -> SchemaOutcome:
    """Apply what ``schema`` lacks; never raises: a failure comes back as a FAILED outcome."""
    started = time.perf_counter()
    fast = True
    try:
        _use_schema(schema)
        try:
            if missing is None:
                raise _StateChanged
            if missing not in _prepared:
                _prepared[missing] = _prepare(missing, expected)
            prepared = _prepared[missing]
            if prepared is None:
                raise _StateChanged
            count = _apply_fast(schema, prepared, missing, lock_timeout)
        except _StateChanged:
            fast = False
            _use_schema(schema)
            count = _apply_with_migrate_schemas(schema)
        status = FleetOutcomeStatus.APPLIED if count else FleetOutcomeStatus.CURRENT
        return SchemaOutcome(schema, status, time.perf_counter() - started, count, fast_path=fast)
    except Exception as exc:
        logger.warning("fleet_migration_failed", extra={"schema": schema}, exc_info=True)
        message = f"{type(exc).__name__}: {exc}".strip()
        return SchemaOutcome(
            schema, FleetOutcomeStatus.FAILED, time.perf_counter() - started, error=message, fast_path=fast
        )
    finally:
        with contextlib.suppress(Exception):
            _use_schema(settings.PUBLIC_SCHEMA_NAME)


def _migrate_schema_task(
    arguments: tuple[str, frozenset[MigrationKey] | None, frozenset[MigrationKey], float],
) -> SchemaOutcome:
    return migrate_schema(*arguments)


# --- Coordinating a run --------------------------------------------------------------------------


@contextlib.contextmanager
def _fleet_lock() -> Iterator[None]:
    """The fleet's advisory lock, on a session of its own for the whole run.

    Not on the default connection: django-tenants' migrate (the public schema, the template's first
    migration, the slow path) closes that one when it finishes, which would release the lock.
    """
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [FLEET_LOCK_KEY])
            row = cursor.fetchone()
        if not (row and row[0]):
            raise FleetMigrationBusy("Another fleet migration is running.")
        yield
    finally:
        holder.close()  # the session ends, and its lock with it


def fleet_lock_held() -> bool:
    """Whether a fleet run is going on right now (in any process)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND ((classid::bigint << 32) | objid::bigint) = %s)",
            [FLEET_LOCK_KEY],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def public_pending(expected: frozenset[MigrationKey] | None = None) -> frozenset[MigrationKey] | None:
    """What the public schema lacks (None: no migration table yet)."""
    result = scan([settings.PUBLIC_SCHEMA_NAME], expected=expected)
    return result.pending.get(settings.PUBLIC_SCHEMA_NAME, frozenset())


def public_migrate(*, verbosity: int = 0) -> None:
    """The control plane's own schema, with Django's migrate (as ``migrate_schemas --shared``)."""
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)


def template_prepare() -> None:
    """Create the workspace template if there is none yet, and reinstall the clone function.

    What ``ensure_workspace_template`` does on every deploy, without migrating an existing template
    here: the fleet run migrates it, first.
    """
    from tenants.services import clone_function_install, template_ensure

    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template) or not Cooperative.objects.filter(is_template=True).exists():
        template_ensure()
    else:
        clone_function_install()


def _actor_fields(actor: Any | None) -> dict[str, Any]:
    if actor is None or not getattr(actor, "pk", None):
        return {"requested_by_id": None, "requested_by_label": "system"}
    return {"requested_by_id": actor.pk, "requested_by_label": str(getattr(actor, "username", actor))[:200]}


class _Recorder:
    """Writes the run's progress from the coordinating process, batched in time."""

    def __init__(self, run: FleetMigrationRun, targets: int, skipped: int) -> None:
        self.run = run
        self.counters = _Counters()
        self.targets = targets
        self.skipped = skipped
        self.outcome_rows: dict[str, FleetMigrationOutcome] = {}
        self.dirty: list[FleetMigrationOutcome] = []
        self.last_flush = time.monotonic()

    def add_rows(self, schemas: Iterable[str]) -> None:
        rows = [FleetMigrationOutcome(run=self.run, schema_name=s) for s in schemas]
        # PostgreSQL returns the new ids, so the rows can be updated as results arrive.
        FleetMigrationOutcome.objects.bulk_create(rows, batch_size=1000)
        self.outcome_rows.update({row.schema_name: row for row in rows})

    def extend(self, found: FleetScan) -> None:
        """More schemas for the same run."""
        self.add_rows([*found.pending, *found.absent])
        self.targets += len(found.pending) + len(found.absent)
        self.skipped += len(found.current)
        self.run.schemas += len(found.schemas)
        self.run.targets = self.targets

    def record(self, outcome: SchemaOutcome) -> None:
        counters = self.counters
        counters.done += 1
        if outcome.status == FleetOutcomeStatus.APPLIED:
            counters.applied += 1
        elif outcome.status == FleetOutcomeStatus.FAILED:
            counters.failed += 1
            counters.failures.append(outcome)
        else:
            counters.current += 1
        row = self.outcome_rows.get(outcome.schema_name)
        if row is not None:
            row.status = outcome.status
            row.migrations = outcome.migrations
            row.seconds = round(outcome.seconds, 4)
            row.error = outcome.error[:4000]
            row.finished_at = timezone.now()
            self.dirty.append(row)
        if time.monotonic() - self.last_flush >= PROGRESS_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        if self.dirty:
            FleetMigrationOutcome.objects.bulk_update(
                self.dirty, ["status", "migrations", "seconds", "error", "finished_at"], batch_size=500
            )
            self.dirty = []
        run = self.run
        run.done = self.counters.done
        run.applied = self.counters.applied
        run.failed = self.counters.failed
        run.skipped = self.skipped + self.counters.current
        run.save(update_fields=["done", "applied", "failed", "skipped"])
        self.last_flush = time.monotonic()

    def progress(self, outcome: SchemaOutcome | None) -> FleetProgress:
        counters = self.counters
        return FleetProgress(
            targets=self.targets,
            done=counters.done,
            applied=counters.applied,
            failed=counters.failed,
            skipped=self.skipped + counters.current,
            outcome=outcome,
        )

    def not_run(self, schemas: Iterable[str], reason: str) -> None:
        for schema in schemas:
            row = self.outcome_rows.get(schema)
            if row is not None and row.status == FleetOutcomeStatus.PENDING:
                row.status = FleetOutcomeStatus.NOT_RUN
                row.error = reason
                self.dirty.append(row)


def _interrupt_stale_runs() -> None:
    """Runs left RUNNING by a process that died (the caller holds the fleet lock, so none is live),
    and runs QUEUED an hour ago that no worker ever started."""
    queued_before = timezone.now() - dt.timedelta(hours=1)
    stale = FleetMigrationRun.objects.filter(
        Q(status=FleetRunStatus.RUNNING) | Q(status=FleetRunStatus.QUEUED, created_at__lt=queued_before)
    )
    for run in stale:
        run.outcomes.filter(status=FleetOutcomeStatus.PENDING).update(status=FleetOutcomeStatus.NOT_RUN)
        run.status = FleetRunStatus.INTERRUPTED
        run.finished_at = run.finished_at or timezone.now()
        run.error = run.error or (
            "The process running it stopped before it finished."
            if run.started_at
            else "No worker started it."
        )
        run.save(update_fields=["status", "finished_at", "error"])


def fleet_migrate(
    *,
    actor: Any | None,
    workers: int | None = None,
    run: FleetMigrationRun | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
    progress: Callable[[FleetProgress], None] | None = None,
) -> FleetMigrationRun:
    """Migrate the public schema, then the template, then every other workspace schema in parallel.

    Returns the finished run (status SUCCEEDED, or FAILED with failed outcome rows). ``run`` is a
    QUEUED run made by ``fleet_migrate_request`` (the console); without it a run is created here.
    Raises FleetMigrationBusy when another run holds the fleet lock.
    """
    workers = max(1, workers or os.cpu_count() or 1)
    with _fleet_lock():
        expected = disk_migrations()
        public = public_pending(expected)
        # None: a fresh database, with no migration table yet (the first deploy): everything to apply.
        if public is None or public:
            public_migrate()
        template_prepare()
        _interrupt_stale_runs()
        started = timezone.now()
        found = scan(fleet_schemas(), expected=expected)
        if run is None:
            run = FleetMigrationRun(**_actor_fields(actor))
        run.status = FleetRunStatus.RUNNING
        run.started_at = started
        run.workers = workers
        run.schemas = len(found.schemas)
        run.targets = len(found.pending) + len(found.absent)
        run.skipped = len(found.current)
        run.migrations = found.migration_names()[:200]
        run.save()
        recorder = _Recorder(run, targets=run.targets, skipped=run.skipped)
        recorder.add_rows([*found.pending, *found.absent])
        migrate_found = functools.partial(
            _migrate_found, expected=expected, lock_timeout=lock_timeout, recorder=recorder, progress=progress
        )
        try:
            migrate_found(found=found, workers=workers)
            if not run.error:
                # Workspaces provisioned while the run went on were cloned from the template as it
                # was then: they are migrated too, here, one after another (they are few).
                known = set(found.schemas)
                late = scan([s for s in fleet_schemas() if s not in known], expected=expected)
                if late.schemas:
                    recorder.extend(late)
                    migrate_found(found=late, workers=1)
        except BaseException as exc:
            recorder.not_run(found.pending, "The run stopped before reaching this schema.")
            recorder.flush()
            run.status = FleetRunStatus.INTERRUPTED
            run.error = f"{type(exc).__name__}: {exc}"[:4000]
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "error", "finished_at"])
            raise
        recorder.flush()
        counters = recorder.counters
        run.finished_at = timezone.now()
        run.status = FleetRunStatus.FAILED if counters.failed or run.error else FleetRunStatus.SUCCEEDED
        run.save(update_fields=["status", "finished_at", "error", "schemas", "targets"])
        audit_record(
            actor=actor,
            action="fleet.migrate",
            object_type="tenants.fleetmigrationrun",
            object_id=str(run.pk),
            changes={
                "targets": run.targets,
                "applied": run.applied,
                "failed": run.failed,
                "skipped": run.skipped,
                "migrations": run.migrations[:20],
            },
        )
    return run


def _worker_pool(workers: int, schemas: int) -> ProcessPoolExecutor | None:
    """Forked worker processes, or None to migrate in this process."""
    if workers == 1 or multiprocessing.current_process().daemon:
        _prepared.clear()  # plans prepared by an earlier run in this process may be stale
        return None
    return ProcessPoolExecutor(
        max_workers=min(workers, max(1, schemas)),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_start,
    )


def _migrate_found(
    *,
    found: FleetScan,
    expected: frozenset[MigrationKey],
    workers: int,
    lock_timeout: float,
    recorder: _Recorder,
    progress: Callable[[FleetProgress], None] | None,
) -> None:
    for schema in found.absent:
        missing_schema = "The schema does not exist."
        recorder.record(SchemaOutcome(schema, FleetOutcomeStatus.FAILED, 0.0, error=missing_schema))
    if found.pending:
        _run_pool(
            found=found,
            expected=expected,
            workers=workers,
            lock_timeout=lock_timeout,
            recorder=recorder,
            progress=progress,
        )


def _run_pool(
    *,
    found: FleetScan,
    expected: frozenset[MigrationKey],
    workers: int,
    lock_timeout: float,
    recorder: _Recorder,
    progress: Callable[[FleetProgress], None] | None,
) -> None:
    """The template alone, then the rest, in a pool of forked workers (they inherit settings and apps).

    With one worker, or in a daemonic process (which may not start children: a Celery prefork
    worker), the schemas are migrated one after another in this process instead.
    """
    template = settings.TENANT_BASE_SCHEMA
    rest = [s for s in found.pending if s != template]
    pool = _worker_pool(workers, len(rest))
    futures: dict[Future[SchemaOutcome], str] = {}
    recorded: set[Future[SchemaOutcome]] = set()

    def submit(schema: str) -> Future[SchemaOutcome]:
        arguments = (schema, found.pending[schema], expected, lock_timeout)
        if pool is None:
            future: Future[SchemaOutcome] = Future()
            future.set_result(_migrate_schema_task(arguments))
        else:
            future = pool.submit(_migrate_schema_task, arguments)
        futures[future] = schema
        return future

    def record(future: Future[SchemaOutcome]) -> None:
        recorded.add(future)
        try:
            outcome = future.result()
        except BrokenProcessPool as exc:
            outcome = SchemaOutcome(
                futures[future], FleetOutcomeStatus.FAILED, 0.0, error=f"A worker process died: {exc}"
            )
        recorder.record(outcome)
        if progress is not None:
            progress(recorder.progress(outcome))

    def collect(schemas: list[str]) -> None:
        if pool is None:
            for schema in schemas:
                record(submit(schema))
            return
        remaining = {submit(schema) for schema in schemas}
        while remaining:
            finished, remaining = wait(remaining, timeout=PROGRESS_INTERVAL_S, return_when=FIRST_COMPLETED)
            for future in finished:
                record(future)
            if not finished and time.monotonic() - recorder.last_flush >= PROGRESS_INTERVAL_S:
                recorder.flush()

    try:
        if template in found.pending:
            collect([template])
            if recorder.counters.failed:
                recorder.run.error = "The workspace template failed; no workspace was migrated."
                recorder.not_run(rest, "Not attempted: the workspace template failed.")
                return
            recorder.flush()
        collect(rest)
    finally:
        # On an interruption the schemas already started finish (each commits or rolls back whole);
        # the others are not started. Whatever finished is recorded.
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        for future in futures:
            if future not in recorded and future.done() and not future.cancelled():
                record(future)


# --- Requests from the console, and reads ---------------------------------------------------------


def fleet_migrate_request(*, actor: Any, workers: int | None = None) -> FleetMigrationRun:
    """Queue a fleet run (the console's button): a QUEUED run now, the work in a Celery task."""
    from tenants.tasks import fleet_migrate_run

    if fleet_lock_held() or FleetMigrationRun.objects.filter(status=FleetRunStatus.QUEUED).exists():
        raise FleetMigrationBusy("A fleet migration is already queued or running.")
    with transaction.atomic():
        run = FleetMigrationRun.objects.create(
            status=FleetRunStatus.QUEUED, workers=workers or 0, **_actor_fields(actor)
        )
        audit_record(
            actor=actor,
            action="fleet.migrate_request",
            object_type="tenants.fleetmigrationrun",
            object_id=str(run.pk),
        )
        transaction.on_commit(lambda: fleet_migrate_run.delay(run.pk))
    return run


def fleet_runs_recent(*, limit: int = 20) -> list[FleetMigrationRun]:
    """The latest runs, newest first."""
    return list(FleetMigrationRun.objects.order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class FleetRunDetail:
    run: FleetMigrationRun
    failures: list[FleetMigrationOutcome]
    latest: list[FleetMigrationOutcome]  # the most recently finished schemas
    pending: int
    percent: int
    slowest: list[FleetMigrationOutcome]


def fleet_run_detail(run_id: int, *, limit: int = 50) -> FleetRunDetail:
    """One run with its failures (all of them, up to 1000), the latest and the slowest schemas."""
    run = FleetMigrationRun.objects.get(pk=run_id)
    outcomes = FleetMigrationOutcome.objects.filter(run=run)
    failures = list(outcomes.filter(status=FleetOutcomeStatus.FAILED).order_by("schema_name")[:1000])
    finished = outcomes.exclude(finished_at=None)
    latest = list(finished.order_by("-finished_at", "-id")[:limit])
    slowest = list(finished.exclude(seconds=None).order_by("-seconds")[:10])
    pending = outcomes.filter(status=FleetOutcomeStatus.PENDING).count()
    percent = 100 if not run.targets else min(100, int(100 * run.done / run.targets))
    return FleetRunDetail(
        run=run, failures=failures, latest=latest, pending=pending, percent=percent, slowest=slowest
    )
