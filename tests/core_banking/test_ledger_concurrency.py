"""Racing postings against the real database, each in its own connection and committed transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from core_banking.ledger.models import Account, AccountDayBalance, JournalEntry
from core_banking.ledger.services import LineSpec, journal_post, ledger_verify
from core_banking.organisation.models import Branch
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.core_banking.threads import in_threads

DAY = dt.date(2026, 11, 23)
# The test's own connection only reads what the threads committed.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def committed_books(django_db_setup: None, django_db_blocker: Any) -> Cooperative:
    """A workspace of its own whose postings really commit (the ledger cannot be emptied afterwards)."""
    with django_db_blocker.unblock():
        slug = f"race-{uuid.uuid4().hex[:8]}"
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Race", slug=slug, country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@race.example"),
        )
        with tenant_context(cooperative):
            Account.objects.create(code="1010", name="Cash", kind="asset")
            Account.objects.create(code="2010", name="Savings", kind="liability")
        connection.close()
    return cooperative


def _deposit(key: str, amount: int) -> JournalEntry:
    return journal_post(
        idempotency_key=key,
        value_date=DAY,
        branch=Branch.objects.get(is_head_office=True),
        lines=[LineSpec("1010", debit_minor=amount), LineSpec("2010", credit_minor=amount)],
    )


def test_racing_replays_of_one_key_post_once(committed_books: Cooperative) -> None:
    results = in_threads(6, lambda _number: _deposit("same-key", 700).pk, committed_books)
    assert all(isinstance(result, int) for result in results), results
    assert len(set(results)) == 1
    with tenant_context(committed_books):
        assert JournalEntry.objects.filter(idempotency_key="same-key").count() == 1


def _cash_debits(cooperative: Cooperative) -> int:
    with tenant_context(cooperative):
        balance = AccountDayBalance.objects.filter(account__code="1010", day=DAY).first()
        return balance.debit_minor if balance else 0


def test_racing_postings_all_land_balanced_and_chained(committed_books: Cooperative) -> None:
    before = _cash_debits(committed_books)
    results = in_threads(8, lambda number: _deposit(f"dep-{number}", 100 + number).pk, committed_books)
    assert all(isinstance(result, int) for result in results), results
    assert len(set(results)) == 8
    assert _cash_debits(committed_books) == before + sum(100 + number for number in range(8))
    with tenant_context(committed_books):
        report = ledger_verify()
        assert report.reason == "" and report.entries_checked == JournalEntry.objects.count()
