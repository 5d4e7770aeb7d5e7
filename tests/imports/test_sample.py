"""The sample legacy workbook: its command line, its determinism, and a per-file settings override."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

from imports.engine.reader import XlsxWorkbook
from imports.engine.sample import write_sample
from imports.engine.validate import DryRun, ImportSettings
from imports.engine.values import DateSettings

ROOT = Path(__file__).resolve().parents[2]


def test_command_line_writes_a_workbook(tmp_path):  # type: ignore[no-untyped-def]
    out = tmp_path / "legacy.xlsx"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "imports.engine.sample",
            str(out),
            "--members",
            "40",
            "--country",
            "VN",
            "--bad-rows",
            "3",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "40 members, 40 savings accounts, 20 loans, 3 bad rows (VND)" in result.stdout
    workbook = XlsxWorkbook(out.read_bytes())
    assert workbook.sheet_names == [
        "branches",
        "staff",
        "groups",
        "members",
        "nominees",
        "shares",
        "savings_accounts",
        "loans",
        "trial_balance",
    ]
    members = list(workbook.table("members").rows())
    assert len(members) == 40
    scripts = {"bangla": 0, "vietnamese": 0, "thai": 0}
    for _row, values in members:
        name = str(values["full_name"])
        if any("\u0980" <= char <= "\u09ff" for char in name):
            scripts["bangla"] += 1
        elif any("\u0e00" <= char <= "\u0e7f" for char in name):
            scripts["thai"] += 1
        elif name:
            scripts["vietnamese"] += 1
    assert min(scripts.values()) >= 10


def test_same_seed_same_workbook_content():
    first, second, other = io.BytesIO(), io.BytesIO(), io.BytesIO()
    write_sample(first, members=30, seed=1)
    write_sample(second, members=30, seed=1)
    write_sample(other, members=30, seed=2)

    def members(data: bytes) -> list[object]:
        return list(XlsxWorkbook(data).table("members").rows())

    assert members(first.getvalue()) == members(second.getvalue())
    assert members(first.getvalue()) != members(other.getvalue())


def test_a_file_can_carry_its_own_date_order():
    dry = DryRun(ImportSettings(country="BD", currency="BDT"))
    row = {"member_no": "M-1", "branch_code": "HO", "full_name": "A", "join_date": "03/04/2020"}
    dry.add_file("members", [(2, row)])
    dry.add_file("nominees", [])
    day_first = dry.results["members"].records[0].values["join_date"]
    other = DryRun(ImportSettings(country="BD", currency="BDT"))
    other.add_file(
        "members",
        [(2, row)],
        settings=ImportSettings(country="BD", currency="BDT", dates=DateSettings(order="MDY")),
    )
    month_first = other.results["members"].records[0].values["join_date"]
    assert (day_first, month_first) == (dt.date(2020, 4, 3), dt.date(2020, 3, 4))
