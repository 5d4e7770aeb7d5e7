"""Backup benchmark: back up and restore a workspace whose journal holds 100,000 lines.

Runs in a database of its own (<name>_bench_backups, created and dropped here), with backups in a
temporary folder. A Bangladeshi workspace with 10 branches gets 100,000 journal lines (50,000
chained entries through the batch posting path, as bench/books.py fills its journal), then:

- ``backup_s_100k_lines``: one on-demand backup through the services, as a worker runs it: the
  snapshot and row counts, ``pg_dump`` of the schema, SHA-256, the dump and its signed manifest
  stored;
- ``restore_s_100k_lines``: one restore of that backup through the services: download and checksum,
  the safety backup of the live schema, ``pg_restore`` into a fresh schema, verification (row
  counts, migrations, the ledger's whole hash chain) and the swap.

Also times a restore drill (the same restore into a scratch schema, without the safety backup and
the swap). ``measure()`` returns the figures; ``python -m bench.control_plane_backups`` prints them
and writes bench/results/control_plane_backups.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import bench_workspace, machine, run_in_own_database, say

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "control_plane_backups.json"
JOURNAL_LINES = int(os.environ.get("BENCH_BACKUP_JOURNAL_LINES", "100000"))
BRANCHES = 10


class _PhaseClock:
    """Seconds spent in each phase of a run, from its progress reports."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._phase: str | None = None
        self._since = time.perf_counter()

    def __call__(self, percent: int, phase: str) -> None:
        if phase != self._phase:
            self.stop()
            self._phase, self._since = phase, time.perf_counter()

    def stop(self) -> dict[str, float]:
        now = time.perf_counter()
        if self._phase is not None:
            self.phases[self._phase] = round(self.phases.get(self._phase, 0.0) + now - self._since, 3)
        self._phase, self._since = None, now
        return self.phases


def _workspace_with_journal() -> Any:
    from django_tenants.utils import tenant_context

    from bench.books import _fill_journal
    from core_banking.organisation.services import branch_create
    from core_banking.savings.services import savings_product_create

    cooperative = bench_workspace("bench-backups")
    with tenant_context(cooperative):
        for number in range(1, BRANCHES):
            branch_create(actor=None, code=f"B{number:02d}", name=f"Branch {number}")
        # The filler credits savings deposits (2100-VOL) among other accounts.
        from decimal import Decimal

        savings_product_create(
            actor=None,
            code="VOL",
            name="Voluntary savings",
            kind="voluntary",
            annual_rate=Decimal("6"),
            rate_effective_from=dt.date(2026, 1, 1),
        )
        lines = _fill_journal(JOURNAL_LINES)
    return cooperative, lines


def measure() -> dict[str, Any]:
    """Provision a workspace, fill its journal, time one backup and one restore (needs Django set up)."""
    from django.db import connection

    from control_plane.backups.models import RunStatus
    from control_plane.backups.services import (
        backup_create,
        backup_run,
        restore_create,
        restore_drill,
        restore_run,
    )

    say(f"  provisioning and filling the journal to {JOURNAL_LINES:,} lines ...")
    cooperative, lines = _workspace_with_journal()
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s",
            [cooperative.schema_name],
        )
        schema_bytes = sum(row[0] for row in cursor.fetchall())
        cursor.execute("CHECKPOINT")

    clock = _PhaseClock()
    started = time.perf_counter()
    backup = backup_create(cooperative=cooperative, actor=None)
    backup = backup_run(backup_id=backup.pk, on_progress=clock)
    backup_s = time.perf_counter() - started
    backup_phases = clock.stop()
    assert backup.status == RunStatus.SUCCEEDED, backup.error
    say(f"  backup: {backup_s:.2f} s, {backup.size_bytes:,} bytes")

    clock = _PhaseClock()
    started = time.perf_counter()
    drill = restore_drill(cooperative=cooperative, on_progress=clock)
    drill_s = time.perf_counter() - started
    drill_phases = clock.stop()
    assert drill.status == RunStatus.SUCCEEDED, drill.error
    say(f"  restore drill: {drill_s:.2f} s")

    clock = _PhaseClock()
    started = time.perf_counter()
    restore = restore_create(backup=backup, actor=None)
    restore = restore_run(restore_id=restore.pk, on_progress=clock)
    restore_s = time.perf_counter() - started
    restore_phases = clock.stop()
    assert restore.status == RunStatus.SUCCEEDED, restore.error
    assert restore.checks["ledger"]["reason"] == ""
    say(f"  restore: {restore_s:.2f} s (previous schema kept as {restore.retired_schema})")

    return {
        "backup_s_100k_lines": round(backup_s, 2),
        "restore_s_100k_lines": round(restore_s, 2),
        "details": {
            "journal_lines": lines,
            "journal_entries_chained": restore.checks["ledger"]["entries_checked"],
            "schema_bytes_on_disk": schema_bytes,
            "dump_bytes": backup.size_bytes,
            "backup_phases_s": backup_phases,
            "restore_phases_s": restore_phases,
            "restore_drill_s": round(drill_s, 2),
            "restore_drill_phases_s": drill_phases,
            "storage": "local folder",
        },
    }


def _run() -> int:
    import django

    django.setup()
    figures = measure()
    result: dict[str, Any] = {
        "benchmark": "control_plane_backups",
        **figures,
        "note": "One on-demand backup and one restore of the same workspace through the services, "
        "in this process, with the dump stored in a local folder. The restore's time includes the "
        "backup of the live schema it takes first (phase safety_backup) and the verification of "
        "the whole ledger hash chain (phase verifying).",
        "machine": machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="coopcore-bench-backups-") as folder:
        os.environ["COOPCORE_BACKUP_STORAGE"] = "local"
        os.environ["COOPCORE_BACKUP_DIR"] = folder
        return run_in_own_database("_bench_backups", _run)


if __name__ == "__main__":
    sys.exit(main())
