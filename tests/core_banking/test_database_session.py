"""The connection settings the posting path relies on (measured in `make bench-books`)."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from core_banking.ledger.services import LineSpec, journal_post
from core_banking.organisation.models import Branch
from tests.conftest import Workspace


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return str(cursor.fetchone()[0])


def test_connections_run_without_jit_and_with_generic_plans(in_alpha: Workspace) -> None:
    # JIT compiled a deposit's statement on every execution (30 to 400 ms); custom plans re-planned
    # it on every execution (about 0.45 ms of a 1.2 ms deposit).
    assert _setting("jit") == "off"
    assert _setting("plan_cache_mode") == "force_generic_plan"


def test_the_posting_statement_is_prepared_once_per_connection(in_alpha: Workspace) -> None:
    branch = Branch.objects.get(is_head_office=True)
    for number in range(3):
        journal_post(
            idempotency_key=f"prepared-{number}",
            value_date=dt.date(2026, 11, 24),
            branch=branch,
            lines=[LineSpec(f"1100-{branch.code}", debit_minor=100), LineSpec("2300", credit_minor=100)],
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%ledger_ledgerstate%%'"
        )
        assert cursor.fetchone()[0] == 1
