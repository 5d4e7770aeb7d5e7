"""``manage.py migrate_fleet``: the deploy's migration step (see docs/fleet-migrations.md)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.fleet import (
    DEFAULT_LOCK_TIMEOUT_S,
    FleetMigrationBusy,
    FleetProgress,
    disk_migrations,
    fleet_migrate,
    fleet_schemas,
    public_pending,
    scan,
)
from tenants.models import FleetMigrationRun, FleetOutcomeStatus, FleetRunStatus

# A progress line at most this often (failures are told at once).
PROGRESS_EVERY_S = 2.0


class Command(BaseCommand):
    help = (
        "Migrate every schema: the public one, then the workspace template, then every cooperative's "
        "workspace in parallel. Schemas with nothing to apply are skipped; a schema that fails is "
        "reported and left as it was, and running again continues where the last run stopped."
    )

    # As Django's migrate: the full system checks (URLs, templates, the API schema) take seconds on
    # every deploy and say nothing about the database; `manage.py check --deploy` runs them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers", type=int, default=None, help="worker processes (default: one per CPU)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show what each schema lacks and change nothing"
        )
        parser.add_argument(
            "--run", type=int, default=None, help="carry out this run, queued from the operations console"
        )
        parser.add_argument(
            "--lock-timeout",
            type=float,
            default=DEFAULT_LOCK_TIMEOUT_S,
            help="seconds a schema waits for a table lock before it fails (0: wait forever)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        if options["dry_run"]:
            self._dry_run()
            return
        verbosity = int(options["verbosity"])
        started = time.monotonic()
        last_line = 0.0

        def progress(state: FleetProgress) -> None:
            nonlocal last_line
            outcome = state.outcome
            line = (
                f"[{state.done}/{state.targets}] migrated {state.applied}, failed {state.failed}, "
                f"up to date {state.skipped}"
            )
            if outcome is not None and outcome.status == FleetOutcomeStatus.FAILED:
                self.stderr.write(f"FAILED {outcome.schema_name}: {outcome.error}")
            if outcome is not None and verbosity >= 2:
                self.stdout.write(f"{line}  {outcome.schema_name} {outcome.status} ({outcome.seconds:.2f} s)")
                return
            now = time.monotonic()
            if verbosity >= 1 and (now - last_line >= PROGRESS_EVERY_S or state.done == state.targets):
                last_line = now
                self.stdout.write(line)

        queued = None
        if options["run"] is not None:
            queued = FleetMigrationRun.objects.filter(pk=options["run"], status=FleetRunStatus.QUEUED).first()
            if queued is None:
                raise CommandError(f"Run {options['run']} is not waiting to be run.")
        try:
            run = fleet_migrate(
                actor=None,
                workers=options["workers"] or (queued.workers if queued else None),
                run=queued,
                lock_timeout=options["lock_timeout"],
                progress=progress,
            )
        except FleetMigrationBusy as exc:
            raise CommandError(f"{exc} Wait for it to finish, then run migrate_fleet again.") from exc
        seconds = time.monotonic() - started
        summary = (
            f"Fleet migration {run.pk}: {run.applied} schema(s) migrated, {run.skipped} up to date, "
            f"{run.failed} failed, in {seconds:.1f} s."
        )
        if run.status == FleetRunStatus.SUCCEEDED:
            self.stdout.write(self.style.SUCCESS(summary))
            return
        self.stdout.write(summary)
        failed = list(run.outcomes.filter(status=FleetOutcomeStatus.FAILED).order_by("schema_name"))
        for outcome in failed[:50]:
            self.stderr.write(
                f"  {outcome.schema_name}: {outcome.error.splitlines()[0] if outcome.error else ''}"
            )
        if len(failed) > 50:
            self.stderr.write(
                f"  ... and {len(failed) - 50} more (see the console, or run {run.pk}'s outcomes)."
            )
        reason = run.error or f"{run.failed} schema(s) failed and were left as they were."
        raise CommandError(
            f"{reason} Fix the cause and run migrate_fleet again: it continues where it stopped."
        )

    def _dry_run(self) -> None:
        expected = disk_migrations()
        public = public_pending(expected)
        if public is None or public:
            how_many = "all" if public is None else str(len(public))
            self.stdout.write(f"public: {how_many} migration(s) to apply (Django's migrate, first).")
            if public is None:
                return
        else:
            self.stdout.write("public: up to date.")
        found = scan(fleet_schemas(), expected=expected)
        self.stdout.write(
            f"{len(found.schemas)} workspace schema(s): {len(found.pending)} to migrate, "
            f"{len(found.current)} up to date, {len(found.absent)} missing from the database."
        )
        groups = Counter(found.pending.values())
        for missing, count in groups.most_common():
            if missing is None:
                self.stdout.write(f"  {count} schema(s) without a migration table: every migration.")
                continue
            names = sorted(f"{app}.{name}" for app, name in missing)
            shown = ", ".join(names[:8]) + (f", ... ({len(names)} in all)" if len(names) > 8 else "")
            self.stdout.write(f"  {count} schema(s) lack {shown}")
        for schema in found.absent:
            self.stdout.write(f"  {schema}: named by a cooperative but not in the database.")
        sys.stdout.flush()
