"""Import engine speed check: parse and validate generated legacy rows, no database.

Generates (once, cached under the system temp folder by size and seed) a legacy workbook with
``--members`` member rows, writes the same members sheet as UTF-8 CSV, then times, for each:
reading the sheet (calamine for XLSX; ``--openpyxl`` adds openpyxl's read-only mode for
comparison) and validating every row through ``DryRun``. Prints rows/s per format.

``--full`` times the benchmark the product promises instead: a dry run of the whole workbook with
100,000 members, 100,000 savings accounts and 50,000 loans (plus their branches, groups, nominees,
shares and the trial balance, which the promise leaves out: reported as a whole and per sheet),
goal under 60 s on the 2-core machine.

    python -m bench.imports_engine [--members 100000] [--openpyxl] [--full]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from imports.engine.reader import XlsxWorkbook, open_table
from imports.engine.sample import DEFAULT_SEED, write_sample
from imports.engine.validate import ENTITY_ORDER, DryRun, ImportSettings

SETTINGS = ImportSettings(country="BD", currency="BDT", cut_over=dt.date(2025, 12, 31))
GOAL_FULL_S = 60.0


def _cached_workbook(members: int, savings: int, loans: int) -> bytes:
    path = Path(tempfile.gettempdir()) / f"coopcore-imports-{members}-{savings}-{loans}-{DEFAULT_SEED}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        write_sample(path, members=members, savings=savings, loans=loans, bad_rows=50)
        print(f"generated {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path.read_bytes()


def _members_csv(workbook: bytes) -> bytes:
    book = XlsxWorkbook(workbook)
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    for row in book.rows("members"):
        writer.writerow([cell.isoformat() if isinstance(cell, dt.date) else cell for cell in row])
    book.close()
    return text.getvalue().encode("utf-8")


def _time_members(data: bytes, **options: str) -> dict[str, float]:
    started = time.perf_counter()
    cpu_started = time.process_time()
    table = open_table(data, "members", **options)  # type: ignore[arg-type]
    rows = list(table.rows())
    read_s = time.perf_counter() - started
    dry = DryRun(SETTINGS, keep_records=False)
    dry.add_file("members", rows, table.headers)
    total_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    return {
        "rows": len(rows),
        "read_s": round(read_s, 2),
        "total_s": round(total_s, 2),
        "rows_per_s": round(len(rows) / total_s),
        "cpu_s": round(cpu_s, 2),
        "errors": dry.errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--openpyxl", action="store_true", help="also time openpyxl's read-only mode")
    parser.add_argument("--full", action="store_true", help="dry run 100k members + 100k savings + 50k loans")
    args = parser.parse_args()
    if args.full:
        workbook = _cached_workbook(100_000, 100_000, 50_000)
        started = time.perf_counter()
        cpu_started = time.process_time()
        book = XlsxWorkbook(workbook)
        dry = DryRun(SETTINGS, keep_records=False)
        per_entity: dict[str, float] = {}
        for entity in ENTITY_ORDER:
            entity_started = time.perf_counter()
            table = book.table(entity)
            dry.add_file(entity, table.rows(), table.headers)
            per_entity[entity] = round(time.perf_counter() - entity_started, 2)
        book.close()
        dry.check_references({"savings_product": {"GS", "VS", "DPS"}, "loan_product": {"GEN"}})
        lines = dry.reconcile()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        rows = sum(dry.totals.rows.values())
        promised = ("members", "savings_accounts", "loans")
        print(
            json.dumps(
                {
                    "full_dry_run_s": round(elapsed, 2),
                    # CPU time of this process: what the run costs when it has a core to itself.
                    "full_dry_run_cpu_s": round(cpu, 2),
                    "load_average_1m": round(os.getloadavg()[0], 2),
                    "rows": rows,
                    "rows_per_s": round(rows / elapsed),
                    "members_savings_loans_s": round(sum(per_entity[entity] for entity in promised), 2),
                    "per_entity_s": per_entity,
                    "rows_per_entity": dict(dry.totals.rows),
                    "errors": dry.errors,
                    "warnings": dry.warnings,
                    "goal_s": GOAL_FULL_S,
                    "reconciliation_differences": {line.control: line.difference for line in lines},
                }
            )
        )
        return 0 if elapsed < GOAL_FULL_S else 1
    workbook = _cached_workbook(args.members, 0, 0)
    results = {"xlsx_calamine": _time_members(workbook), "csv_utf8": _time_members(_members_csv(workbook))}
    if args.openpyxl:
        results["xlsx_openpyxl"] = _time_members(workbook, xlsx_engine="openpyxl")
    results["load_average_1m"] = round(os.getloadavg()[0], 2)  # type: ignore[assignment]
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
