"""The chaos check of field sync, small: 600 collections from 6 phones over HTTP to a real server process,
with replayed requests, lost answers and the server killed (SIGKILL) and started again mid-run.

The same driver as ``make chaos-field`` (``bench.field_chaos``), on the test database: a workspace of its
own, committed, and ``manage.py runserver --noreload`` as the browser tests start it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from bench.field_chaos import (
    REFUSED,
    ChaosBook,
    WebServer,
    chaos_book,
    chaos_check,
    chaos_run,
    table,
)
from core_banking.lending.services import loan_repay
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.conftest import subprocess_environment

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("field-chaos")]

COLLECTIONS = 600
PHONES = 6


@pytest.fixture(scope="module")
def book(django_db_setup: None, django_db_blocker: Any) -> tuple[Cooperative, ChaosBook]:
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Field chaos", slug=f"chaos-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@field-chaos.example"),
        )
        with tenant_context(cooperative):
            built = chaos_book(cooperative, collections=COLLECTIONS, devices=PHONES)
        connection.close()
    return cooperative, built


def test_every_collection_is_posted_exactly_once_through_replays_lost_answers_and_a_killed_server(
    book: tuple[Cooperative, ChaosBook], tmp_path: Any
) -> None:
    cooperative, built = book
    assert len(built.collections()) == COLLECTIONS
    server = WebServer(environment=subprocess_environment(), log_path=tmp_path / "web.log")
    server.start()
    try:
        tally = chaos_run(built, server, kills=1, seed=11, time_limit_s=240)
    finally:
        server.stop()
    with tenant_context(cooperative):
        figures, problems = chaos_check(built, tally)
    summary = table(tally, figures)
    assert problems == [], f"{summary}\n" + "\n".join(problems)

    # The chaos happened: the server was killed and came back, requests were replayed, answers were
    # lost, and the phones met the dead server (and sent again).
    assert tally.server_kills == 1 and server.starts == 2, summary
    assert tally.replays > 0 and tally.dropped_responses > 0, summary
    assert tally.transport_errors > 0 and tally.resent_items > 0, summary
    assert tally.duplicates_answered > 0, summary
    assert not set(tally.answers) & REFUSED, summary

    # Every collection acknowledged once, posted once, with exactly what was collected.
    collected = sum(collection.amount_minor for collection in built.collections())
    assert tally.acknowledged == COLLECTIONS == len(tally.acknowledgements), summary
    assert figures == {
        "field_records": COLLECTIONS,
        "repayments": COLLECTIONS,
        "collected_minor": collected,
        "repaid_minor": collected,
        "cash_debited_minor": collected,
        "outbox_messages": COLLECTIONS,
        "trial_balance_balanced": True,
    }, summary

    # The check is not blind: a repayment of one of these loans that no collection made is caught
    # (posted in this test's transaction, rolled back afterwards).
    with tenant_context(cooperative):
        collection = built.collections()[0]
        loan_repay(
            actor=None,
            loan_id=collection.loan_id,
            amount_minor=collection.amount_minor,
            value_date=built.value_date,
            idempotency_key=f"field:{collection.client_uuid}:again",
        )
        _figures, caught = chaos_check(built, tally)
    assert any(problem.startswith("repayments of these loans not from a collection") for problem in caught)
    assert any(problem.startswith("repayments total") for problem in caught)
