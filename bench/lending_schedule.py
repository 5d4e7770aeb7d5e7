"""Schedule generation benchmark: schedules per second for a 52-week weekly declining-balance loan.

Pure Python, no database: the engine (``core_banking.lending.schedule``) computes the same loan
again and again for ``seconds``; each round builds the schedule from terms that are already parsed.
The loan is a typical samity loan: 52 weekly instalments on the group's meeting day, declining
balance with equal instalments, daily interest (actual/365), instalments in whole taka, with a
weekly off-day and a year of holidays to step around.

``python -m bench.lending_schedule`` prints ``{"schedules_per_s": ...}``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from decimal import Decimal

from core_banking.lending.schedule import LoanTerms, schedule_generate

TERMS = LoanTerms(
    principal_minor=5_000_000,  # 50,000.00 BDT
    currency="BDT",
    annual_rate=Decimal("24"),
    interest_method="declining",
    amortization="equal_installments",
    interest_period="daily",
    days_in_year=365,
    frequency="weekly",
    installments=52,
    disbursement_date=dt.date(2026, 1, 5),
    installment_multiple_minor=100,
    weekly_off_days=frozenset({4}),
    holidays=frozenset(
        dt.date(2026, month, day)
        for month, day in ((2, 21), (3, 26), (4, 14), (5, 1), (12, 16), (3, 20), (3, 21))
    ),
    meeting_weekday=2,
    minimum_days_to_first_meeting=7,
)


def measure_schedules_per_second(seconds: float = 3.0) -> float:
    """How many 52-week schedules the engine computes per second, over about ``seconds``."""
    schedule_generate(TERMS)  # warm-up
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(20):
            schedule = schedule_generate(TERMS)
        count += 20
        now = time.perf_counter()
        if now >= deadline:
            break
    assert len(schedule.installments) == 52 and schedule.total_principal_minor == TERMS.principal_minor
    return count / (now - started)


def main() -> int:
    print(json.dumps({"schedules_per_s": round(measure_schedules_per_second(), 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
