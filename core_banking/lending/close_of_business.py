"""The daily close of business of the loan book: penalties, ageing, accrual, provision, month-end snapshot.

``close_of_business_run(business_date=D)`` closes day ``D``: every movement with a value date up
to ``D`` is in. It works on the whole book in a few SQL statements (no Python loop over loans),
in one transaction, once per date:

1. **Penalties.** Every instalment of an active loan whose product charges a penalty, due more
   than the product's grace days before ``D`` (``due_date + penalty_grace_days < D``), with
   principal, interest (less any waived) or fee still unpaid and no penalty charged yet, is
   charged once: the product's flat amount, or its percent of what that instalment still owes
   (principal + interest − waived + fee, unpaid), rounded to the currency's minor unit with the
   product's rounding mode (half to even unless the product says otherwise, as its disbursement
   fee). The arithmetic is exact ``numeric`` in PostgreSQL; rounding is explicit, e.g. half to
   even takes ``floor(x)`` and adds 1 when the fraction is above one half, or exactly one half
   and ``floor(x)`` is odd. Each charge is recorded as a ``LoanTransaction`` of kind
   ``penalty`` (no ledger entry: interest, fees and penalties are income when they are paid, the
   cash basis of ``services/loans.py``; the repayment that pays a penalty credits penalty
   income). Written in the same statement as the instalments.
2. **Arrears ageing.** For each active loan: ``overdue_minor`` is everything still owed
   (penalties included) on instalments due before ``D``; ``days_past_due`` is ``D`` minus the due
   date of the oldest instalment due before ``D`` whose principal, interest or fee is unpaid
   (0 when none: an unpaid penalty alone makes a loan owe, not late); ``arrears_as_of`` is ``D``.
   A loan due on ``D`` and unpaid at its close is 1 day past due at the close of ``D + 1``.
3. **Interest accrual** (products that accrue; the others are on the cash basis). Each loan's
   interest earned through ``D`` — every instalment due by then in full (what its period earned,
   from the engine's schedule), the running one pro rata by days, half to even — less what was
   booked before and what was paid and recognised without an accrual, is booked: one entry per
   branch, Dr interest receivable (1400) / Cr the products' interest income, key
   ``cob:<D>:accrual:<branch code>``. Repayments then clear the receivable (``services/loans.py``);
   closing a loan releases whatever accrual is left; a write-off takes it back out of income.
4. **Loan-loss provision.** Each active loan's required provision is its principal outstanding
   × the rate of its ageing bucket (``ProvisionRate``), rounded half to even per loan; per branch
   the sum is compared with what account 1390 holds for the branch (its credit balance in the day
   balances up to ``D``), and one entry per branch posts the difference: an increase Dr 5200 /
   Cr 1390, a release Dr 1390 / Cr 5200, dated ``D``, key ``cob:<D>:provision:<branch code>``.
5. **Month end.** When ``D`` is the last day of its month, each active loan's figures after the
   steps above are inserted into ``LoanMonthEndSnapshot`` (``INSERT … SELECT``, ``ON CONFLICT DO
   NOTHING``); PostgreSQL keeps those rows as they were taken.

Once per date: the run's ``CloseOfBusinessRun`` row is inserted first (unique per date) and the
whole run commits with it. A second run for the same date — however many race — returns the first
run's row and changes nothing. Runs are serialised per workspace (an advisory lock), and a date
before the latest closed one is refused: the book's state only moves forward. A repayment entered
later with a value date at or before a closed date is reflected by the next close.

Cost: steps 1 and 2 read only the instalments not fully paid (``paid_on`` is empty until the last
of an instalment is paid; a partial index of migration 0003), so a book whose instalments are
mostly paid on time is aged without reading them all; step 2 then writes every active loan once,
steps 3 and 4 read the loans. ``make bench-lending`` times it on 100,000 loans.

The daily beat task (``core_banking.lending.tasks``) closes the day that has just ended on the
cooperative's own clock.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.services import LineSpec, actor_id, journal_post
from core_banking.lending.models import CloseOfBusinessRun, LoanTransactionKind
from core_banking.lending.services.provisions import (
    PROVISION_ACCOUNT_CODE,
    PROVISION_EXPENSE_CODE,
    provision_rates_ensure,
)
from core_banking.organisation.models import Branch
from tenants.db import current_schema, workspace_business_date, workspace_language


def rounded_sql(exact: str, mode: str) -> str:
    """SQL rounding a non-negative ``numeric`` expression to a whole number by a rounding mode.

    ``exact`` and ``mode`` are constant SQL fragments (a column name, a bound parameter), never
    user text. Modes are the products' (``half_even``, ``half_up``, ``down``, ``up``); anything
    else rounds half to even.
    """
    fraction = f"({exact} - floor({exact}))"
    return f"""(CASE {mode}
        WHEN 'down' THEN floor({exact})
        WHEN 'up' THEN ceil({exact})
        WHEN 'half_up' THEN floor({exact}) + CASE WHEN {fraction} >= 0.5 THEN 1 ELSE 0 END
        ELSE floor({exact}) + CASE
            WHEN {fraction} > 0.5 OR ({fraction} = 0.5 AND mod(floor({exact}), 2) = 1) THEN 1 ELSE 0 END
    END)::bigint"""


# What an instalment still owes of its principal, interest (less any waived) and fee: the amount that
# makes it late and that a percent penalty is charged on.
_OWED_CONTRACT = """((i.principal_minor - i.principal_paid_minor)
    + (i.interest_minor - i.interest_waived_minor - i.interest_paid_minor)
    + (i.fee_minor - i.fee_paid_minor))"""
_OWED_PENALTY = "(i.penalty_minor - i.penalty_paid_minor)"

_PENALTY_SQL = f"""
WITH late AS MATERIALIZED (
    -- Unpaid instalments only (the partial index of migration 0003): a small part of the book.
    SELECT i.id, i.loan_id, i.number, i.due_date, {_OWED_CONTRACT} AS owed
    FROM lending_loaninstallment i
    WHERE i.paid_on IS NULL
        AND i.due_date < %(day)s::date
        AND i.penalty_minor = 0
        AND {_OWED_CONTRACT} > 0
), due AS (
    SELECT late.id, late.loan_id, late.number, p.penalty_kind, p.penalty_flat_minor, p.rounding,
        late.owed::numeric * p.penalty_percent / 100 AS exact
    FROM late
    JOIN lending_loan l ON l.id = late.loan_id
    JOIN lending_loanproduct p ON p.id = l.product_id
    WHERE l.status = 'active'
        AND p.penalty_kind IN ('flat', 'percent')
        AND late.due_date + p.penalty_grace_days < %(day)s::date
), priced AS (
    SELECT id, loan_id, number,
        CASE WHEN penalty_kind = 'flat' THEN penalty_flat_minor ELSE {rounded_sql("exact", "rounding")} END
            AS penalty
    FROM due
), charged AS (
    UPDATE lending_loaninstallment i SET penalty_minor = priced.penalty
    FROM priced
    WHERE i.id = priced.id AND priced.penalty > 0
    RETURNING i.id, i.loan_id, i.number, i.penalty_minor
), recorded AS (
    INSERT INTO lending_loantransaction (loan_id, kind, value_date, amount_minor, principal_minor,
        interest_minor, fee_minor, penalty_minor, source, channel, idempotency_key, memo, created_at,
        created_by_id)
    SELECT charged.loan_id, %(kind)s::text, %(day)s::date, charged.penalty_minor, 0, 0, 0,
        charged.penalty_minor, '', 'system', %(key_prefix)s::text || charged.id, '#' || charged.number,
        %(now)s::timestamptz, %(actor_id)s::bigint
    FROM charged
    RETURNING 1
)
SELECT count(*), COALESCE(sum(penalty_minor), 0), count(DISTINCT loan_id),
    (SELECT count(*) FROM recorded)
FROM charged
"""  # noqa: S608 - constant fragments; values are bound

_AGEING_SQL = f"""
WITH arrears AS MATERIALIZED (
    -- Unpaid instalments only (the partial index of migration 0003), grouped by loan.
    SELECT i.loan_id,
        sum({_OWED_CONTRACT} + {_OWED_PENALTY}) AS overdue,
        min(i.due_date) FILTER (WHERE {_OWED_CONTRACT} > 0) AS oldest
    FROM lending_loaninstallment i
    WHERE i.paid_on IS NULL AND i.due_date < %(day)s::date AND {_OWED_CONTRACT} + {_OWED_PENALTY} > 0
    GROUP BY i.loan_id
), aged AS (
    SELECT l.id, COALESCE(a.overdue, 0) AS overdue, COALESCE(%(day)s::date - a.oldest, 0) AS days
    FROM lending_loan l
    LEFT JOIN arrears a ON a.loan_id = l.id
    WHERE l.status = 'active'
        -- A loan closed since the last close owes nothing: its figures go back to zero.
        OR (l.status = 'closed' AND (l.days_past_due <> 0 OR l.overdue_minor <> 0))
), updated AS (
    UPDATE lending_loan l
    SET overdue_minor = aged.overdue, days_past_due = aged.days, arrears_as_of = %(day)s::date
    FROM aged
    WHERE l.id = aged.id
    RETURNING l.status, l.days_past_due, l.overdue_minor
)
SELECT count(*) FILTER (WHERE status = 'active'),
    count(*) FILTER (WHERE status = 'active' AND (days_past_due > 0 OR overdue_minor > 0)),
    COALESCE(sum(overdue_minor), 0)
FROM updated
"""  # noqa: S608 - constant fragments; values are bound

# Each active loan with its ageing bucket (the greatest lower bound not above its days past due)
# and its required provision, rounded half to even per loan.
_PROVISIONED_LOANS = f"""
buckets AS (
    SELECT min_days_past_due AS lower_bound, rate_percent,
        lead(min_days_past_due) OVER (ORDER BY min_days_past_due) AS upper_bound
    FROM lending_provisionrate
), provisioned AS (
    SELECT l.id AS loan_id, l.branch_id, l.product_id, l.member_id, l.principal_outstanding_minor,
        l.overdue_minor, l.days_past_due, b.lower_bound, b.rate_percent,
        {rounded_sql("(l.principal_outstanding_minor::numeric * b.rate_percent / 100)", "'half_even'")}
            AS required
    FROM lending_loan l
    JOIN buckets b ON l.days_past_due >= b.lower_bound
        AND (b.upper_bound IS NULL OR l.days_past_due < b.upper_bound)
    WHERE l.status = 'active'
)"""  # noqa: S608 - constant fragments

_PROVISION_SQL = f"""
WITH {_PROVISIONED_LOANS}, required AS (
    SELECT branch_id, sum(required) AS required, count(*) AS loans
    FROM provisioned GROUP BY branch_id
), held AS (
    SELECT d.branch_id, sum(d.credit_minor - d.debit_minor) AS held
    FROM ledger_accountdaybalance d
    JOIN ledger_account a ON a.id = d.account_id
    WHERE a.code = %(provision_code)s AND d.day <= %(day)s::date
    GROUP BY d.branch_id
)
SELECT b.id, COALESCE(r.required, 0), COALESCE(h.held, 0), COALESCE(r.loans, 0)
FROM organisation_branch b
LEFT JOIN required r ON r.branch_id = b.id
LEFT JOIN held h ON h.branch_id = b.id
WHERE r.branch_id IS NOT NULL OR h.branch_id IS NOT NULL
ORDER BY b.code
"""  # noqa: S608 - constant fragments; values are bound

_SNAPSHOT_SQL = f"""
WITH {_PROVISIONED_LOANS}, inserted AS (
    INSERT INTO lending_loanmonthendsnapshot (month_end, loan_id, branch_id, product_id, member_id,
        principal_outstanding_minor, overdue_minor, days_past_due, bucket_days, provision_rate,
        provision_required_minor, taken_at)
    SELECT %(day)s::date, loan_id, branch_id, product_id, member_id, principal_outstanding_minor,
        overdue_minor, days_past_due, lower_bound, rate_percent, required, %(now)s::timestamptz
    FROM provisioned
    ORDER BY loan_id
    ON CONFLICT (month_end, loan_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM inserted
"""  # noqa: S608 - constant fragments; values are bound


# Interest earned through the day by loans of products that accrue: every instalment due by then in
# full (what its period earned, from the engine's schedule), the running one pro rata by days,
# rounded half to even; less what was booked before or recognised as paid beyond the accrual.
_EARNED_PART = rounded_sql(
    "(i.earned_interest_minor::numeric * (%(day)s::date - i.period_start) / (i.due_date - i.period_start))",
    "'half_even'",
)
_ACCRUAL_SQL = f"""
WITH earned AS (
    SELECT l.id AS loan_id, l.branch_id, p.interest_income_account_id AS income_id,
        sum(CASE WHEN i.due_date <= %(day)s::date THEN i.earned_interest_minor
                 WHEN i.period_start < %(day)s::date AND i.due_date > i.period_start THEN {_EARNED_PART}
                 ELSE 0 END) AS accrued
    FROM lending_loan l
    JOIN lending_loanproduct p ON p.id = l.product_id AND p.accrues_interest
    JOIN lending_loaninstallment i ON i.loan_id = l.id
    WHERE l.status = 'active'
    GROUP BY l.id, l.branch_id, p.interest_income_account_id
), direct AS (
    SELECT t.loan_id, sum(t.interest_minor - t.interest_from_receivable_minor) AS recognised
    FROM lending_loantransaction t
    WHERE t.kind = 'repayment' AND t.loan_id IN (SELECT loan_id FROM earned)
      AND NOT EXISTS (SELECT 1 FROM lending_loantransaction r WHERE r.reverses_id = t.id)
    GROUP BY t.loan_id
), due AS (
    SELECT e.loan_id, e.branch_id, e.income_id,
        GREATEST(e.accrued - l.interest_accrued_minor - COALESCE(d.recognised, 0), 0) AS delta
    FROM earned e
    JOIN lending_loan l ON l.id = e.loan_id
    LEFT JOIN direct d ON d.loan_id = e.loan_id
), booked AS (
    UPDATE lending_loan l SET interest_accrued_minor = l.interest_accrued_minor + due.delta,
        interest_receivable_minor = l.interest_receivable_minor + due.delta
    FROM due WHERE l.id = due.loan_id AND due.delta > 0
    RETURNING due.branch_id, due.income_id, due.delta
)
SELECT branch_id, income_id, sum(delta), count(*) FROM booked GROUP BY branch_id, income_id
ORDER BY branch_id, income_id
"""  # noqa: S608 - constant fragments; values are bound

INTEREST_RECEIVABLE_CODE = "1400"


@dataclass(frozen=True)
class ProvisionPosting:
    """One branch's provision adjustment: ``change_minor`` > 0 raised the provision, < 0 released it."""

    branch_code: str
    required_minor: int
    held_before_minor: int
    change_minor: int
    entry_id: int | None


def is_month_end(day: dt.date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _fetchone(sql: str, parameters: dict[str, Any]) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def _lock_the_book() -> None:
    """One close at a time per workspace, held until the run's transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"{current_schema()}:lending-cob"]
        )


def _charge_penalties(day: dt.date, actor: Any | None) -> dict[str, int]:
    charged, amount, loans, recorded = _fetchone(
        _PENALTY_SQL,
        {
            "day": day,
            "kind": LoanTransactionKind.PENALTY.value,
            "key_prefix": f"cob:{day.isoformat()}:penalty:",
            "now": timezone.now(),
            "actor_id": actor_id(actor),
        },
    )
    assert charged == recorded
    return {"penalties_charged": int(charged), "penalty_minor": int(amount), "loans_penalised": int(loans)}


def _age(day: dt.date) -> dict[str, int]:
    aged, in_arrears, overdue = _fetchone(_AGEING_SQL, {"day": day})
    return {"loans_aged": int(aged), "loans_in_arrears": int(in_arrears), "overdue_minor": int(overdue)}


def _accrue(day: dt.date, actor: Any | None) -> dict[str, int]:
    """Book interest earned through ``day`` by loans of accruing products: per branch one entry,
    Dr interest receivable (1400) / Cr each product's interest income, key ``cob:<D>:accrual:<branch>``."""
    from core_banking.ledger.models import Account

    with connection.cursor() as cursor:
        cursor.execute(_ACCRUAL_SQL, {"day": day})
        rows = cursor.fetchall()
    if not rows:
        return {"interest_accrued_minor": 0, "loans_accrued": 0}
    branches = Branch.objects.in_bulk({row[0] for row in rows})
    accounts = Account.objects.in_bulk({row[1] for row in rows})
    with translation.override(workspace_language()):
        memo = _("Loan interest earned to the close of %(day)s") % {"day": day.isoformat()}
    by_branch: dict[int, list[tuple[str, int]]] = {}
    for branch_id, income_id, amount, _loans in rows:
        by_branch.setdefault(branch_id, []).append((accounts[income_id].code, int(amount)))
    for branch_id, incomes in by_branch.items():
        branch = branches[branch_id]
        journal_post(
            idempotency_key=f"cob:{day.isoformat()}:accrual:{branch.code}",
            value_date=day,
            branch=branch,
            lines=[
                LineSpec(INTEREST_RECEIVABLE_CODE, debit_minor=sum(amount for _code, amount in incomes)),
                *(LineSpec(code, credit_minor=amount) for code, amount in incomes),
            ],
            memo=memo,
            actor=actor,
        )
    return {
        "interest_accrued_minor": sum(int(row[2]) for row in rows),
        "loans_accrued": sum(int(row[3]) for row in rows),
    }


def _provision_memo(day: dt.date) -> str:
    with translation.override(workspace_language()):
        return _("Loan-loss provision at the close of %(day)s") % {"day": day.isoformat()}


def _provision(day: dt.date, actor: Any | None) -> list[ProvisionPosting]:
    with connection.cursor() as cursor:
        cursor.execute(_PROVISION_SQL, {"day": day, "provision_code": PROVISION_ACCOUNT_CODE})
        rows = cursor.fetchall()
    branches = Branch.objects.in_bulk([row[0] for row in rows])
    memo = _provision_memo(day)
    postings = []
    for branch_id, required, held, _loans in rows:
        branch = branches[branch_id]
        change = int(required) - int(held)
        entry_id = None
        if change:
            # Debit lines first: an increase is an expense, a release gives the expense back.
            lines = (
                [
                    LineSpec(PROVISION_EXPENSE_CODE, debit_minor=change),
                    LineSpec(PROVISION_ACCOUNT_CODE, credit_minor=change),
                ]
                if change > 0
                else [
                    LineSpec(PROVISION_ACCOUNT_CODE, debit_minor=-change),
                    LineSpec(PROVISION_EXPENSE_CODE, credit_minor=-change),
                ]
            )
            entry = journal_post(
                idempotency_key=f"cob:{day.isoformat()}:provision:{branch.code}",
                value_date=day,
                branch=branch,
                lines=lines,
                memo=memo,
                actor=actor,
            )
            entry_id = entry.pk
        postings.append(
            ProvisionPosting(
                branch_code=branch.code,
                required_minor=int(required),
                held_before_minor=int(held),
                change_minor=change,
                entry_id=entry_id,
            )
        )
    return postings


def _snapshot(day: dt.date) -> int:
    (inserted,) = _fetchone(_SNAPSHOT_SQL, {"day": day, "now": timezone.now()})
    return int(inserted)


def _refuse_out_of_order(day: dt.date) -> None:
    if day > workspace_business_date():
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            _("%(day)s has not come yet; only a day that has begun can be closed.")
            % {"day": day.isoformat()},
            fields={"business_date": [_("Not after today.")]},
        )
    later = CloseOfBusinessRun.objects.filter(business_date__gt=day).order_by("-business_date").first()
    if later is not None:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            _("The loan book was already closed for %(later)s; an earlier day cannot be closed after it.")
            % {"later": later.business_date.isoformat()},
            fields={
                "business_date": [_("Before the last close (%(later)s).") % {"later": later.business_date}]
            },
        )


def _provision_counts(postings: Sequence[ProvisionPosting]) -> dict[str, Any]:
    return {
        "provision_required_minor": sum(posting.required_minor for posting in postings),
        "provision_change_minor": sum(posting.change_minor for posting in postings),
        "provision_entries": sum(1 for posting in postings if posting.entry_id is not None),
        "provision_by_branch": {
            posting.branch_code: {
                "required_minor": posting.required_minor,
                "held_before_minor": posting.held_before_minor,
                "change_minor": posting.change_minor,
                "entry_id": posting.entry_id,
            }
            for posting in postings
        },
    }


def close_of_business_run(*, business_date: dt.date, actor: Any | None = None) -> CloseOfBusinessRun:
    """Close the loan book for ``business_date`` (see the module's description); once per date."""
    existing = CloseOfBusinessRun.objects.filter(business_date=business_date).first()
    if existing is not None:
        return existing
    provision_rates_ensure()
    with transaction.atomic():
        _lock_the_book()
        existing = CloseOfBusinessRun.objects.filter(business_date=business_date).first()
        if existing is not None:
            return existing  # another run committed it while this one waited for the lock
        _refuse_out_of_order(business_date)
        run = CloseOfBusinessRun.objects.create(
            business_date=business_date, started_at=timezone.now(), run_by_id=actor_id(actor)
        )
        counts: dict[str, Any] = {}
        counts.update(_charge_penalties(business_date, actor))
        counts.update(_age(business_date))
        counts.update(_accrue(business_date, actor))
        counts.update(_provision_counts(_provision(business_date, actor)))
        counts["month_end_snapshots"] = _snapshot(business_date) if is_month_end(business_date) else 0
        run.counts = counts
        run.finished_at = timezone.now()
        run.save(update_fields=["counts", "finished_at"])
        audit_record(
            actor=actor,
            action="lending.close_of_business",
            target=run,
            changes={key: value for key, value in counts.items() if key != "provision_by_branch"},
        )
    return run


def latest_close() -> CloseOfBusinessRun | None:
    return CloseOfBusinessRun.objects.order_by("-business_date").first()
