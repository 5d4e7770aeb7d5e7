"""``python -m core_banking.lending.schedule``: JSON in, JSON out, a message per bad field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

TERMS = {
    "principal": "30000",
    "currency": "BDT",
    "annual_rate": "12",
    "interest_method": "declining",
    "interest_period": "daily",
    "days_in_year": 365,
    "frequency": "monthly",
    "installments": 3,
    "disbursement_date": "2026-01-31",
    "holidays": ["2026-02-28"],
    "weekly_off_days": ["friday"],
    "installment_multiple": "1",
}


def run(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core_banking.lending.schedule"],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_terms_in_schedule_out() -> None:
    result = run(json.dumps(TERMS))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # The example of docs/lending-schedule.md.
    assert json.loads(result.stdout) == {
        "installments": [
            {
                "number": 1,
                "due_date": "2026-03-01",
                "principal": "9911.97",
                "interest": "286.03",
                "total": "10198.00",
                "balance": "20088.03",
            },
            {
                "number": 2,
                "due_date": "2026-03-31",
                "principal": "9999.87",
                "interest": "198.13",
                "total": "10198.00",
                "balance": "10088.16",
            },
            {
                "number": 3,
                "due_date": "2026-04-30",
                "principal": "10088.16",
                "interest": "99.50",
                "total": "10187.66",
                "balance": "0.00",
            },
        ],
        "totals": {"principal": "30000.00", "interest": "583.66", "total": "30583.66"},
    }


def test_json_numbers_are_fine_for_rates_and_refused_for_amounts_with_decimals() -> None:
    result = run(json.dumps({**TERMS, "annual_rate": 12.5, "principal": 30000}))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["principal"] == "30000.00"
    result = run(json.dumps({**TERMS, "principal": 30000.1}))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == 'principal: Give the amount as a decimal string in major units, e.g. "1250.75".\n'


def test_bad_terms_exit_2_with_a_line_per_field_and_nothing_on_stdout() -> None:
    result = run(json.dumps({**TERMS, "principal": "1.001", "installments": 0, "colour": "red"}))
    assert result.returncode == 2
    assert result.stdout == ""
    assert sorted(result.stderr.splitlines()) == [
        "colour: Unknown setting.",
        "installments: Must be from 1 to 1000.",
        "principal: The amount has more decimal places than the currency allows.",
    ]


def test_bad_json_exits_2() -> None:
    for text in ("{not json", "", '{"annual_rate": NaN}'):
        result = run(text)
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.startswith("terms: not valid JSON")
    result = run("[1, 2]")
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        "terms: The terms must be a JSON object.\n",
    )


def test_the_engine_imports_no_django() -> None:
    code = (
        "import sys, core_banking.lending.schedule, core_banking.lending.schedule.__main__; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
