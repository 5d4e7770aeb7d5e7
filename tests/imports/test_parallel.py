"""Preparing rows on every core gives exactly what one process gives, in order, failures included."""

from __future__ import annotations

import datetime as dt

from imports.engine import opening, parallel

TERMS = {
    "principal": "50000.00",
    "currency": "BDT",
    "annual_rate": "24",
    "interest_method": "declining",
    "amortization": "equal_installments",
    "interest_period": "same_as_repayment",
    "days_in_year": 365,
    "days_in_month": "actual",
    "frequency": "weekly",
    "repay_every": 1,
    "installments": 52,
    "disbursement_date": "2025-03-01",
    "rounding": "half_even",
    "grace_principal": 0,
    "grace_interest_payment": 0,
    "interest_free_periods": 0,
    "holidays": ["2025-03-26", "2025-04-14"],
    "weekly_off_days": [4],
}


def test_schedules_in_worker_processes_equal_those_made_here() -> None:
    cut_over = dt.date(2025, 12, 31)
    jobs = [
        ({**TERMS, "principal": f"{10_000 + index}.00"}, index * 100, index * 10, cut_over)
        for index in range(6_000)
    ]
    jobs[4_321] = ({**TERMS, "installments": 0}, 0, 0, cut_over)  # the engine refuses these terms

    here = [opening.instalment_rows(job) for job in jobs]
    pending = parallel.map_in_processes(opening.instalment_rows, jobs, workers=2)
    assert pending._executor is not None  # really in other processes
    assert pending.results() == here
    assert isinstance(here[4_321], dict) and "installments" in here[4_321]
    first = here[0]
    assert isinstance(first, list) and len(first) == 52
    assert sum(row[3] for row in first) == 10_000_00  # the principal, exactly
    assert first[0][8] == 0 and first[0][13] is None  # nothing paid on the first loan


def test_small_batches_and_daemonic_processes_stay_in_this_process() -> None:
    pending = parallel.map_in_processes(opening.member_search_text, [("Nguyễn Thị Hoa", "M-1", "", "")])
    assert pending._executor is None
    assert pending.results() == ["nguyen thi hoa m-1"]
