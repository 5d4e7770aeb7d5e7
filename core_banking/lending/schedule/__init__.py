"""The loan schedule and interest engine: plain Python, no Django (see docs/lending-schedule.md).

The only place where loan interest is calculated. ``python -m core_banking.lending.schedule`` reads
terms as JSON on stdin and writes the schedule as JSON on stdout.
"""

from core_banking.lending.schedule.engine import (
    Installment,
    RecastStrategy,
    Schedule,
    accrued_interest,
    schedule_generate,
    schedule_recast,
    schedule_to_json,
)
from core_banking.lending.schedule.terms import LoanTerms, RateChange, TermsError, terms_from_json

__all__ = [
    "Installment",
    "LoanTerms",
    "RateChange",
    "RecastStrategy",
    "Schedule",
    "TermsError",
    "accrued_interest",
    "schedule_generate",
    "schedule_recast",
    "schedule_to_json",
    "terms_from_json",
]
