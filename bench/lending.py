"""Lending benchmark: the close of business over 100,000 active loans, repayments, schedules.

Runs in a database of its own (<name>_bench_lending, created and dropped here). A workspace with
10 branches, a weekly samity loan product (Tk 50,000.00 over 52 weeks at 24 %, declining
balance, a 2 % penalty on what a late instalment still owes) and 25,000 members, then:

- the book: 52 loans paid out through the services, one per weekly cohort over the past year, are
  the templates; 100,000 loans are copied from them in bulk SQL (loans, applications and 52
  instalments each: 5.2 million instalment rows), each with its member and branch. Every loan
  paid its instalments due before the close on time, except about one in seven, which stopped
  paying 1 to 40 weeks ago (so every ageing bucket has loans). The copies have no ledger entries
  of their own: the close of business reads loans, instalments and the provision account, so the
  receivables need not be in the ledger for its timing (the provision it posts is real);
- ``cob_s_100k_loans``: ``close_of_business_run`` on a month end (penalties, ageing, provision
  per branch, and the month-end snapshot of every loan: the largest close there is), after a
  first close the day before (which charges every late instalment's penalty at once);
- ``repayments_per_s``: one instalment each on up-to-date loans through ``loan_repay``, each call
  in its own transaction (loan row lock, allocation, instalments, ledger entry, SMS), from
  ``BENCH_REPAYMENT_WORKERS`` (4) worker processes at once, each on its own connection, as web
  workers serve tellers and field syncs; ``details.repayments.sequential`` is the same one after
  another on one connection (one commit each, so bound by the disk's commit time);
- ``schedules_per_s``: ``bench.lending_schedule.measure_schedules_per_second`` (a 52-week loan).

Writes bench/results/lending.json. ``BENCH_LOANS`` sets the number of loans (default 100,000).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import bench_workspace, committed_insert_floor, machine, run_in_own_database, say

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "lending.json"
LOANS = int(os.environ.get("BENCH_LOANS", "100000"))
REPAYMENTS = int(os.environ.get("BENCH_REPAYMENTS", "1000"))
# Web worker processes posting at once: two per core on this 2-core machine (gunicorn's usual advice).
REPAYMENT_WORKERS = int(os.environ.get("BENCH_REPAYMENT_WORKERS", "4"))
BRANCHES = 10
MEMBERS = 25_000
COHORTS = 52  # one template loan per week of disbursement over the past year
CLOSE = dt.date(2026, 10, 31)  # a month end: the close also takes the month-end snapshot
PRINCIPAL = 50_000_00


def main() -> int:
    return run_in_own_database("_bench_lending", _run)


def _product_and_people() -> tuple[Any, Any, list[Any]]:
    from core_banking.lending.services import approval_levels_set, loan_product_create
    from core_banking.members.models import Member, MemberType
    from core_banking.organisation.models import Branch
    from core_banking.organisation.services import branch_create
    from core_banking.staff.roles import Role
    from core_banking.staff.services import staff_user_create

    for number in range(1, BRANCHES):
        branch_create(actor=None, code=f"B{number:02d}", name=f"Branch {number}")
    branches = list(Branch.objects.order_by("code"))
    member_type, _created = MemberType.objects.get_or_create(code="ORD", defaults={"name": "Ordinary"})
    members = Member.objects.bulk_create(
        Member(
            number=f"M{number:06d}",
            branch=branches[number % len(branches)],
            member_type=member_type,
            full_name=f"Member {number}",
            phone=f"+88017{number:08d}",
            message_language="bn",
            join_date=dt.date(2020, 1, 1),
        )
        for number in range(MEMBERS)
    )
    approval_levels_set(actor=None, levels=[(1, 0)])
    approver = staff_user_create(
        actor=None,
        username="approver",
        password=None,
        roles=[Role.APPROVER.value],
        approver_level=1,
        home_branch=branches[0],
        all_branches=True,
        email="approver@bench.example",
    )
    product = loan_product_create(
        actor=None,
        code="SAM",
        name="Samity loan",
        product_type="ordinary",
        annual_rate=Decimal("24"),
        rate_effective_from=dt.date(2024, 1, 1),
        default_installments=52,
        maximum_installments=52,
        interest_method="declining",
        amortization="equal_installments",
        days_in_year="365",
        frequency="weekly",
        penalty_kind="percent",
        penalty_percent=Decimal("2"),
        penalty_grace_days=0,
    )
    return product, approver, members


def _templates(product: Any, approver: Any, members: list[Any]) -> list[int]:
    """One real loan per weekly cohort, paid out through the services (the copies' terms and schedules)."""
    from core_banking.lending.services import loan_application_decide, loan_application_submit, loan_disburse

    loan_ids = []
    for cohort in range(COHORTS):
        paid_out = CLOSE - dt.timedelta(days=7 * cohort + 3)
        application = loan_application_submit(
            actor=None,
            member_id=members[cohort].pk,
            product_id=product.pk,
            amount_minor=PRINCIPAL,
            installments=52,
            applied_on=paid_out,
        ).application
        loan_application_decide(actor=approver, application_id=application.pk, decision="approved")
        loan = loan_disburse(
            actor=None,
            application_id=application.pk,
            disbursed_on=paid_out,
            idempotency_key=f"template-{cohort}",
        )
        loan_ids.append(loan.pk)
    return loan_ids


def _columns(table: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s AND column_name <> 'id' "
            "ORDER BY ordinal_position",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy_statement(table: str, alias: str, overrides: dict[str, str], source: str) -> str:
    """INSERT INTO table SELECT every column of ``alias`` (or its override) FROM ``source``."""
    columns = _columns(table)
    values = [overrides.get(column, f"{alias}.{column}") for column in columns]
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"  # noqa: S608


def _copy_the_book(template_ids: list[int]) -> dict[str, Any]:
    """LOANS loans copied from the templates, with applications and instalments, in a few statements."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_template ON COMMIT DROP AS "
            "SELECT ordinality - 1 AS cohort, l.id AS loan_id, l.application_id, "
            "(SELECT count(*) FROM lending_loaninstallment d "
            "WHERE d.loan_id = l.id AND d.due_date < %s::date) AS past_due "
            "FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(id, ordinality) "
            "JOIN lending_loan l ON l.id = t.id",
            [CLOSE, template_ids],
        )
        # Loan n: cohort n mod 52, member n mod 25,000 (in that member's branch); about one loan in
        # seven stopped paying 1–40 weeks before the close.
        cursor.execute(
            "CREATE TEMP TABLE bench_copy ON COMMIT DROP AS "
            "SELECT g AS n, t.loan_id AS template_loan, t.application_id AS template_application, "
            "t.past_due - CASE WHEN (g * 7919) %% 7 = 0 THEN 1 + (g * 104729) %% 40 ELSE 0 END "
            "AS paid_through, "
            "m.id AS member_id, m.branch_id, 'BA-' || lpad(g::text, 7, '0') AS application_number, "
            "'BL-' || lpad(g::text, 7, '0') AS loan_number "
            "FROM generate_series(1::bigint, %s::bigint) g "
            "JOIN bench_template t ON t.cohort = g %% %s "
            "JOIN (SELECT id, branch_id, row_number() OVER (ORDER BY id) - 1 AS k FROM members_member) m "
            "ON m.k = g %% %s",
            [LOANS, COHORTS, MEMBERS],
        )
        cursor.execute(
            _copy_statement(
                "lending_loanapplication",
                "a",
                {"number": "c.application_number", "member_id": "c.member_id", "branch_id": "c.branch_id"},
                "bench_copy c JOIN lending_loanapplication a ON a.id = c.template_application",
            )
        )
        cursor.execute(
            _copy_statement(
                "lending_loan",
                "l",
                {
                    "number": "c.loan_number",
                    "application_id": "a.id",
                    "member_id": "c.member_id",
                    "branch_id": "c.branch_id",
                },
                "bench_copy c JOIN lending_loan l ON l.id = c.template_loan "
                "JOIN lending_loanapplication a ON a.number = c.application_number",
            )
        )
        cursor.execute("ANALYZE lending_loan")
        # Instalments due before the close are paid on their due dates, except the last weeks'.
        paid = "i.number <= c.paid_through"
        cursor.execute(
            _copy_statement(
                "lending_loaninstallment",
                "i",
                {
                    "loan_id": "l.id",
                    "principal_paid_minor": f"CASE WHEN {paid} THEN i.principal_minor ELSE 0 END",
                    "interest_paid_minor": f"CASE WHEN {paid} THEN i.interest_minor ELSE 0 END",
                    "fee_paid_minor": f"CASE WHEN {paid} THEN i.fee_minor ELSE 0 END",
                    "paid_on": f"CASE WHEN {paid} THEN i.due_date END",
                },
                "bench_copy c JOIN lending_loan l ON l.number = c.loan_number "
                "JOIN lending_loaninstallment i ON i.loan_id = c.template_loan "
                # A loan's instalments side by side, as a disbursement writes them (one INSERT):
                # reading one loan's schedule then touches a page or two, not one page per row.
                "ORDER BY l.id, i.number",
            )
        )
        installments = cursor.rowcount
        cursor.execute(
            "UPDATE lending_loan l SET principal_outstanding_minor = l.principal_minor - p.paid "
            "FROM (SELECT loan_id, sum(principal_paid_minor) AS paid FROM lending_loaninstallment "
            "GROUP BY loan_id) p WHERE p.loan_id = l.id AND p.paid > 0"
        )
    with connection.cursor() as cursor:
        for table in ("lending_loanapplication", "lending_loan", "lending_loaninstallment"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {"installments": installments, "seconds": round(time.perf_counter() - started, 1)}


def _close(day: dt.date) -> dict[str, Any]:
    from core_banking.lending.close_of_business import close_of_business_run

    started = time.perf_counter()
    run = close_of_business_run(business_date=day)
    seconds = time.perf_counter() - started
    counts = {key: value for key, value in run.counts.items() if key != "provision_by_branch"}
    return {"business_date": day.isoformat(), "seconds": round(seconds, 2), "counts": counts}


def _repayment_work(wanted: int = 2 * REPAYMENTS + 50) -> tuple[list[int], dict[int, int], dt.date]:
    """Up to ``wanted`` loans that are up to date with the next instalment each owes (not the last
    one, which may be more than the payoff), and the value date: the day after the close."""
    from core_banking.lending.models import Loan, LoanInstallment

    candidates = list(
        Loan.objects.filter(status="active", days_past_due=0, number__startswith="BL-")
        .order_by("id")
        .values_list("id", flat=True)[: 2 * wanted]
    )
    amounts = {
        row.loan_id: row.principal_minor + row.interest_minor
        for row in LoanInstallment.objects.filter(loan_id__in=candidates, paid_on__isnull=True, number__lt=52)
        .order_by("loan_id", "number")
        .distinct("loan_id")
    }
    loans = [loan_id for loan_id in candidates if loan_id in amounts][:wanted]
    return loans, amounts, CLOSE + dt.timedelta(days=1)


def _repay_all(loans: list[int], amounts: dict[int, int], value_date: dt.date, prefix: str) -> float:
    """loan_repay for each loan, one after another on this process's connection; the seconds taken."""
    from core_banking.lending.services import loan_repay

    started = time.perf_counter()
    for loan_id in loans:
        loan_repay(
            actor=None, loan_id=loan_id, amount_minor=amounts[loan_id], value_date=value_date,
            idempotency_key=f"{prefix}-{loan_id}",
        )  # fmt: skip
    return time.perf_counter() - started


def _repay_in_worker(job: tuple[str, list[int], dict[int, int], dt.date, float]) -> tuple[float, float]:
    """One web worker's share: its own connection, started with the others at ``start_at``."""
    from django.db import connection
    from django_tenants.utils import schema_context

    schema, loans, amounts, value_date, start_at = job
    with schema_context(schema):
        connection.ensure_connection()
        time.sleep(max(start_at - time.time(), 0))
        started = time.time()
        _repay_all(loans, amounts, value_date, "busy")
        return started, time.time()


def _repayments(schema: str) -> dict[str, Any]:
    """Instalments on up-to-date loans through ``loan_repay``, each call committed alone: first one
    after another on one connection (one teller), then from ``REPAYMENT_WORKERS`` processes at once,
    each with its own connection, as the web workers of a busy day serve tellers and field syncs."""
    import multiprocessing

    from django.db import connections

    loans, amounts, value_date = _repayment_work()
    warm, sequential, concurrent = loans[:50], loans[50 : 50 + REPAYMENTS], loans[50 + REPAYMENTS :]
    _repay_all(warm, amounts, value_date, "warm")  # connections, caches, the engine's imports
    floor = committed_insert_floor()
    one_by_one = _repay_all(sequential, amounts, value_date, "pay")
    # Forked workers must not share this process's connection: each opens its own.
    connections.close_all()
    start_at = time.time() + 2
    shares = [concurrent[n::REPAYMENT_WORKERS] for n in range(REPAYMENT_WORKERS)]
    with multiprocessing.get_context("fork").Pool(REPAYMENT_WORKERS) as pool:
        jobs = [(schema, share, amounts, value_date, start_at) for share in shares]
        spans = pool.map(_repay_in_worker, jobs)
    wall = max(end for _start, end in spans) - min(start for start, _end in spans)
    return {
        # The disk's ceiling for anything committed one by one, measured just before.
        "committed_insert_floor": floor,
        "sequential": {
            "repayments": len(sequential),
            "seconds": round(one_by_one, 2),
            "per_s": round(len(sequential) / one_by_one),
        },
        "concurrent": {
            "workers": REPAYMENT_WORKERS,
            "repayments": len(concurrent),
            "seconds": round(wall, 2),
            "per_s": round(len(concurrent) / wall),
        },
    }


def _schedules_per_second() -> dict[str, Any]:
    try:
        from bench.lending_schedule import measure_schedules_per_second
    except ImportError:
        measure_schedules_per_second = None  # type: ignore[assignment]
    if measure_schedules_per_second is not None:
        return {"per_s": round(measure_schedules_per_second(), 1), "by": "bench.lending_schedule"}
    from core_banking.lending.schedule import LoanTerms, schedule_generate

    terms = LoanTerms(
        principal_minor=PRINCIPAL,
        currency="BDT",
        annual_rate=Decimal("24"),
        interest_method="declining",
        amortization="equal_installments",
        days_in_year=365,
        frequency="weekly",
        installments=52,
        disbursement_date=dt.date(2026, 1, 5),
    )
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < 3:
        schedule_generate(terms)
        count += 1
    return {"per_s": round(count / (time.perf_counter() - started), 1), "by": "bench.lending"}


def _run() -> int:
    import django

    django.setup()
    from django.db import connection
    from django_tenants.utils import tenant_context

    from core_banking.lending.models import Loan

    cooperative = bench_workspace("bench-lending")
    with tenant_context(cooperative):
        product, approver, members = _product_and_people()
        templates = _templates(product, approver, members)
        say(f"  {len(templates)} template loans paid out through the services")
        copied = _copy_the_book(templates)
        active = Loan.objects.filter(status="active").count()
        say(f"  {active:,} active loans, {copied['installments']:,} instalments in {copied['seconds']} s")
        day_before = _close(CLOSE - dt.timedelta(days=1))
        say(f"  close of {day_before['business_date']}: {day_before['seconds']} s {day_before['counts']}")
        month_end = _close(CLOSE)
        say(f"  close of {month_end['business_date']} (month end): {month_end['seconds']} s")
        say(f"    {month_end['counts']}")
        repayments = _repayments(cooperative.schema_name)
        say(
            f"  repayments: {repayments['concurrent']['per_s']}/s from {REPAYMENT_WORKERS} workers at once, "
            f"{repayments['sequential']['per_s']}/s one after another"
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('lending_loaninstallment'))")
            installment_size = cursor.fetchone()[0]
    schedules = _schedules_per_second()
    say(f"  schedules: {schedules['per_s']}/s")

    cob_s = max(day_before["seconds"], month_end["seconds"])
    result: dict[str, Any] = {
        "benchmark": "lending",
        "cob_s_100k_loans": cob_s,
        "repayments_per_s": repayments["concurrent"]["per_s"],
        "schedules_per_s": schedules["per_s"],
        "details": {
            "active_loans": active,
            "book": {**copied, "installment_table_size": installment_size},
            "close_day_before": day_before,
            "close_month_end": month_end,
            "repayments": repayments,
            "schedules": schedules,
        },
        "goals": {"cob_s_100k_loans": "< 60", "repayments_per_s": ">= 500"},
        "goals_met": {
            "cob_s_100k_loans": cob_s < 60,
            "repayments_per_s": repayments["concurrent"]["per_s"] >= 500,
        },
        "note": f"{active:,} active loans in one workspace, 52 weekly instalments each, copied in bulk SQL "
        "from 52 loans paid out through the services (one per weekly cohort); the copies have no ledger "
        "entries of their own (the close reads loans, instalments and the provision account). "
        "cob_s_100k_loans is the slower of two closes: the day before the month end (every late "
        "instalment's penalty charged at once) and the month end (with the snapshot of every loan). "
        "Repayments are loan_repay calls, each committed alone: repayments_per_s from "
        f"{REPAYMENT_WORKERS} worker processes at once, each on its own connection (as the web workers "
        "serve tellers and field syncs), and details.repayments.sequential one after another on one "
        "connection (bound by one commit each).",
        "machine": machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
