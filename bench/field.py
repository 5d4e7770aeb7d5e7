"""Field sync benchmark: a batch of 1,000 collections from one device, posted end to end.

Runs in a database of its own (<name>_bench_field, created and dropped here). The loan book is
the lending benchmark's, smaller (``BENCH_FIELD_LOANS`` weekly loans, 7,000 by default, copied in
bulk from loans paid out through the services). A field officer registers one device through
``field_device_register``; then the device uploads ``BENCH_FIELD_COLLECTIONS`` (1,000) instalments,
one on each of as many up-to-date loans (the next instalment each owes), through the sync API
itself (``POST /api/v1/field/sync/`` with the device's token, batches of 100, the most it takes),
so the figure includes everything a collection costs: the request, the immutable field record,
the lending allocation, the ledger entry and the member's SMS in the outbox.

- ``collections_per_s``: collections / seconds for the whole upload (goal: at least 2,000), the
  median of ``BENCH_FIELD_ROUNDS`` (3) rounds, each on loans of its own;
- ``copy_floor_ratio``: those seconds / the seconds to COPY as many bare journal entries and
  twice as many lines into tables of the journal's shape (the floor; goal: within 30x).

Every answer must be ``created`` and every collection must have its repayment, or the run fails.
Writes bench/results/field.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("BENCH_LOANS", os.environ.get("BENCH_FIELD_LOANS", "7000"))

from bench import lending
from bench.common import bench_workspace, copy_floor_seconds, machine, run_in_own_database, say

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "field.json"
COLLECTIONS = int(os.environ.get("BENCH_FIELD_COLLECTIONS", "1000"))
BATCH = 100  # the most one sync request takes
# The machine's speed wanders from run to run: the figure is the median of several rounds.
ROUNDS = int(os.environ.get("BENCH_FIELD_ROUNDS", "3"))


def main() -> int:
    return run_in_own_database("_bench_field", _run)


def _device() -> str:
    from core_banking.organisation.models import Branch
    from core_banking.staff.roles import Role
    from core_banking.staff.services import staff_user_create
    from field.services import field_device_register

    officer = staff_user_create(
        actor=None,
        username="collector",
        password=None,
        roles=[Role.FIELD_OFFICER.value],
        home_branch=Branch.objects.get(is_head_office=True),
        all_branches=True,
        email="collector@bench.example",
    )
    _device_row, token = field_device_register(actor=officer, label="bench phone")
    return token


def _collections(loans: list[int], amounts: dict[int, int], value_date: dt.date) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC).isoformat()
    return [
        {
            "client_uuid": str(uuid.uuid4()),
            "device_sequence": sequence,
            "device_time": now,
            "kind": "instalment",
            "loan": loan_id,
            "amount_minor": amounts[loan_id],
            "value_date": value_date.isoformat(),
        }
        for sequence, loan_id in enumerate(loans, start=1)
    ]


def _upload(client: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    for start in range(0, len(items), BATCH):
        response = client.post(
            "/api/v1/field/sync/", {"items": items[start : start + BATCH]}, content_type="application/json"
        )
        if response.status_code != 200:
            raise SystemExit(f"sync answered {response.status_code}: {response.content[:500]!r}")
        answers.extend(response.json()["items"])
    return answers


def _run() -> int:
    import django

    django.setup()
    from django.test import Client
    from django_tenants.utils import tenant_context

    from core_banking.lending.models import LoanTransaction
    from tenants.services import domain_for

    cooperative = bench_workspace("bench-field")
    with tenant_context(cooperative):
        product, approver, members = lending._product_and_people()
        copied = lending._copy_the_book(lending._templates(product, approver, members))
        say(f"  {copied['installments']:,} instalments copied in {copied['seconds']} s")
        token = _device()
        loans, amounts, value_date = lending._repayment_work(ROUNDS * COLLECTIONS + 10)
        if len(loans) < ROUNDS * COLLECTIONS + 10:
            raise SystemExit(f"only {len(loans)} up-to-date loans; raise BENCH_FIELD_LOANS")
        client = Client(HTTP_HOST=domain_for(cooperative.slug), HTTP_AUTHORIZATION=f"Device {token}")
        warm = _upload(client, _collections(loans[:10], amounts, value_date))  # connections, imports
        sequence = len(warm)
        rounds = []
        for round_number in range(ROUNDS):
            # Each round on loans of its own: every collection is the next instalment its loan owes.
            first = 10 + round_number * COLLECTIONS
            items = _collections(loans[first : first + COLLECTIONS], amounts, value_date)
            for item in items:
                sequence += 1
                item["device_sequence"] = sequence
            started = time.perf_counter()
            answers = _upload(client, items)
            rounds.append(time.perf_counter() - started)
            statuses = {answer["status"] for answer in answers}
            if statuses != {"created"}:
                raise SystemExit(f"not every collection was created: {statuses}")
            keys = [f"field:{item['client_uuid']}" for item in items]
            posted = LoanTransaction.objects.filter(idempotency_key__in=keys).count()
            if posted != len(items):
                raise SystemExit(f"{posted} repayments for {len(items)} collections")
            say(f"  round {round_number + 1}: {len(items)} collections in {rounds[-1]:.3f} s")
        floor = copy_floor_seconds(len(items))
    seconds = statistics.median(rounds)
    ratio = seconds / floor
    per_s = round(len(items) / seconds)
    say(
        f"  {len(items)} collections in {seconds:.3f} s (median of {ROUNDS}): {per_s}/s; "
        f"COPY floor {floor * 1000:.1f} ms; {ratio:.1f}x"
    )
    result = {
        "benchmark": "field",
        "collections_per_s": per_s,
        "copy_floor_ratio": round(ratio, 1),
        "details": {
            "collections": len(items),
            "seconds": round(seconds, 3),
            "rounds_s": [round(value, 3) for value in rounds],
            "requests": -(-len(items) // BATCH),
            "copy_floor_ms": round(floor * 1000, 2),
            "book": copied,
        },
        "goals": {"collections_per_s": ">= 2000", "copy_floor_ratio": "<= 30"},
        "goals_met": {"collections_per_s": per_s >= 2000, "copy_floor_ratio": ratio <= 30},
        "note": "One device uploads one instalment on each of as many up-to-date loans through the sync API "
        f"(batches of {BATCH}); the time covers the requests, the field records, the allocation, the "
        "ledger entries and the SMS rows. The floor COPYs as many bare entries and twice as many lines "
        "into tables of the journal's shape, without indexes or triggers, and commits.",
        "machine": machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
