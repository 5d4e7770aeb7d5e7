"""Data migration benchmark: a cooperative's old records, checked and imported.

Runs in a database of its own (<name>_bench_migration, created and dropped here), in one Bangladeshi
workspace with the sample's products (compulsory, voluntary and fixed savings; a general loan).
The generated legacy workbook (``imports.engine.sample``, cached under the system temp folder) holds
100,000 members, 100,000 savings accounts and 50,000 loans, with their branches, groups, staff,
nominees, share holdings and the opening trial balance; every row valid.

- ``dry_run_s_100k``: the dry run of the uploaded workbook (``import_dry_run``: read, check every
  row and reference, classify against the workspace, reconcile, store the report), goal < 60 s;
- ``commit_s_100k``: the commit (``import_commit``: the files read and checked again, then members,
  accounts, loans with their schedules, share holdings and the opening entries written in one
  transaction), goal < 180 s. ``details.commit_stages_s`` splits it.

Writes bench/results/migration.json. ``BENCH_MEMBERS`` sets the size (savings accounts as many,
loans half as many; default 100,000).

    python -m bench.migration
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
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "100000"))
GOAL_DRY_RUN_S = 60.0
GOAL_COMMIT_S = 180.0
CUT_OVER = dt.date(2025, 12, 31)


def main() -> int:
    return run_in_own_database("_bench_migration", _run)


def _workbook(members: int) -> Path:
    from imports.engine.sample import DEFAULT_SEED, write_sample

    path = Path(tempfile.gettempdir()) / f"coopcore-migration-v3-{members}-{DEFAULT_SEED}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        write_sample(path, members=members, savings=members, loans=members // 2)
        say(f"  generated {path.name} in {time.perf_counter() - started:.1f} s")
    return path


def _run() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django_tenants.utils import tenant_context

    from control_plane.audit.models import AuditEvent
    from core_banking.ledger.services import ledger_verify
    from imports.commit import import_commit, import_commit_request
    from imports.models import JobStatus
    from imports.sample_setup import sample_products_ensure
    from imports.services import ImportOptions, import_dry_run, import_job_create

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="coopcore-bench-media-")
    path = _workbook(MEMBERS)
    cooperative = bench_workspace("bench-migration")
    with tenant_context(cooperative):
        sample_products_ensure()
        admin = get_user_model().objects.get(username="admin")
        job = import_job_create(
            actor=admin,
            files=[SimpleUploadedFile(path.name, path.read_bytes())],
            options=ImportOptions(cut_over=CUT_OVER),
        )
        started = time.perf_counter()
        job = import_dry_run(job_id=job.pk)
        dry_run_s = round(time.perf_counter() - started, 1)
        if job.status != JobStatus.VALIDATED or job.errors:
            say(f"  the dry run did not pass: {job.status} {job.errors} errors {job.failure}")
            first = job.issues.filter(severity="error").values_list("entity", "row", "code", "message")[:5]
            say(f"  {list(first)}")
            return 1
        say(f"  dry run: {dry_run_s} s for {job.rows_done:,} rows ({job.warnings:,} warnings)")

        import_commit_request(actor=admin, job_id=job.pk, accept_warnings=True)
        started = time.perf_counter()
        job = import_commit(job_id=job.pk)
        commit_s = round(time.perf_counter() - started, 1)
        if job.status != JobStatus.COMMITTED:
            say(f"  the commit failed: {job.commit_failure}")
            return 1
        event = AuditEvent.objects.filter(object_id=str(job.pk), action="import.commit").latest("id")
        stages = event.changes.get("seconds", {})
        say(f"  commit: {commit_s} s {stages}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM lending_loaninstallment")
            installments = cursor.fetchone()[0]
        chain = ledger_verify()
        if chain.first_broken_entry_id is not None:
            say(f"  the ledger's chain is broken at {chain.first_broken_entry_id}: {chain.reason}")
            return 1

    result: dict[str, Any] = {
        "benchmark": "migration",
        "dry_run_s_100k": dry_run_s,
        "commit_s_100k": commit_s,
        "details": {
            "members": MEMBERS,
            "savings_accounts": MEMBERS,
            "loans": MEMBERS // 2,
            "rows": job.rows_done,
            "warnings_accepted": job.warnings,
            "commit_counts": {entity: counts["created"] for entity, counts in job.commit_counts.items()},
            "loan_instalments_written": installments,
            "opening_entries": len(job.opening_entry_ids),
            "commit_stages_s": stages,
            "goals": {"dry_run_s_100k": GOAL_DRY_RUN_S, "commit_s_100k": GOAL_COMMIT_S},
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
        },
    }
    out = ROOT / "bench" / "results" / "migration.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({key: result[key] for key in ("dry_run_s_100k", "commit_s_100k")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
