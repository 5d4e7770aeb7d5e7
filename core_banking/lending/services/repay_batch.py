"""Many cash repayments in one transaction (field sync), each with the guarantees of ``loan_repay``.

A field officer's phone uploads a meeting's instalments together; one commit per instalment would
make the sync as slow as the disk's commit rate. Here the common instalment (a loan that is active,
a payment below what would settle it, no recast of the schedule) is worked out in Python from one
read of the loans (locked, in id order, as every repayment locks) and of their unpaid instalments,
and written set-based: the ledger entries through ``journal_post_batch`` (balanced, chained, keyed),
the instalments and loans in one ``UPDATE … FROM unnest`` each, the repayment rows and the
members' SMS by COPY. The split is the one ``loan_repay`` makes (``_pay``), in the batch's order:
two instalments of one loan in a batch are applied one after the other.

Anything else goes through ``loan_repay`` itself, one by one after the common ones, each in a
savepoint: a key seen before (the replay answers with the first payment, or the conflict), a loan
that is closed or unknown, a settlement or a payment above the payoff, a recast, a closed day or
period, and every later instalment of a loan that had one of those. So every answer, refusal and
error message is exactly ``loan_repay``'s, and a refused item leaves nothing behind while the rest
of the batch stands. The caller owns the transaction (``transaction.atomic``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from django.db import transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from control_plane.errors import BusinessRuleViolation
from core_banking.accounting.day_rules import day_close_applies
from core_banking.ledger.db import server_cursor
from core_banking.ledger.presets import cash_account_code
from core_banking.ledger.services import LineSpec, PostingRequest, actor_id, journal_post_batch
from core_banking.lending.errors import require_positive_amount
from core_banking.lending.models import (
    LoanInstallment,
    LoanProduct,
    LoanStatus,
    LoanTransactionKind,
    PrepaymentStrategy,
    RepaymentSource,
)
from core_banking.lending.services.loans import (
    _income_lines,
    _message_context,
    _owed_total,
    _owed_without_interest,
    _pay,
    loan_repay,
)
from core_banking.organisation.models import Branch
from core_banking.savings.models import Channel
from notifications.models import MessageKind
from notifications.services import outbox_initial_status, outbox_relay_kick_on_commit


@dataclass(frozen=True)
class RepaymentRequest:
    loan_id: int
    amount_minor: int
    value_date: dt.date
    idempotency_key: str
    memo: str = ""
    # The ledger account the cash came into (a collector's till); empty: the loan branch's cash.
    cash_account: str = ""


@dataclass(frozen=True)
class BatchRepayment:
    """One request's answer: the repayment (new or the first one, for a replay) or the refusal."""

    loan_transaction_id: int | None = None
    entry_id: int | None = None
    error: BusinessRuleViolation | None = None


_LOANS_SQL = """
SELECT l.id, l.number, l.status, l.disbursed_on, l.principal_outstanding_minor, l.interest_receivable_minor,
    l.branch_id, b.code, l.member_id, m.phone, m.message_language, m.sms_opt_out,
    p.allocation_order, p.prepayment_strategy, p.accrues_interest, r.code, i.code, f.code, n.code
FROM lending_loan l
JOIN organisation_branch b ON b.id = l.branch_id
JOIN members_member m ON m.id = l.member_id
JOIN lending_loanproduct p ON p.id = l.product_id
JOIN ledger_account r ON r.id = p.receivable_account_id
JOIN ledger_account i ON i.id = p.interest_income_account_id
JOIN ledger_account f ON f.id = p.fee_income_account_id
JOIN ledger_account n ON n.id = p.penalty_income_account_id
WHERE l.id = ANY(%s)
ORDER BY l.id
FOR UPDATE OF l
"""

_INSTALLMENT_COLUMNS = (
    "id",
    "loan_id",
    "number",
    "period_start",
    "due_date",
    "principal_minor",
    "interest_minor",
    "earned_interest_minor",
    "fee_minor",
    "penalty_minor",
    "principal_paid_minor",
    "interest_paid_minor",
    "fee_paid_minor",
    "penalty_paid_minor",
    "interest_waived_minor",
    "paid_on",
)


@dataclass(slots=True)
class _Row:
    """An unpaid instalment as the allocation reads and changes it (``LoanInstallment``'s fields of
    ``_INSTALLMENT_COLUMNS``, in that order): tens of thousands are read per batch."""

    id: int
    loan_id: int
    number: int
    period_start: dt.date
    due_date: dt.date
    principal_minor: int
    interest_minor: int
    earned_interest_minor: int
    fee_minor: int
    penalty_minor: int
    principal_paid_minor: int
    interest_paid_minor: int
    fee_paid_minor: int
    penalty_paid_minor: int
    interest_waived_minor: int
    paid_on: dt.date | None

    @property
    def pk(self) -> int:
        return self.id


_INSTALLMENTS_SQL = (
    f"SELECT {', '.join(_INSTALLMENT_COLUMNS)} FROM lending_loaninstallment "  # noqa: S608
    "WHERE loan_id = ANY(%s) AND paid_on IS NULL ORDER BY loan_id, number"
)

_UPDATE_INSTALLMENTS_SQL = """
UPDATE lending_loaninstallment AS i SET principal_paid_minor = v.principal_paid_minor,
    interest_paid_minor = v.interest_paid_minor, fee_paid_minor = v.fee_paid_minor,
    penalty_paid_minor = v.penalty_paid_minor, paid_on = v.paid_on
FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::date[])
    AS v(id, principal_paid_minor, interest_paid_minor, fee_paid_minor, penalty_paid_minor, paid_on)
WHERE i.id = v.id
"""

_UPDATE_LOANS_SQL = """
UPDATE lending_loan AS l
SET principal_outstanding_minor = v.outstanding, interest_receivable_minor = v.receivable
FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(id, outstanding, receivable)
WHERE l.id = v.id
"""

_TRANSACTION_COLUMNS = (
    "id, loan_id, kind, value_date, amount_minor, principal_minor, interest_minor, fee_minor, "
    "penalty_minor, interest_from_receivable_minor, source, channel, entry_id, idempotency_key, memo, "
    "created_at, created_by_id"
)
_OUTBOX_COLUMNS = "kind, source_ref, member_id, phone, language, context, status, attempts, created_at"


@dataclass
class _Loan:
    """A locked loan as the batch works on it: running totals and its unpaid instalments."""

    id: int
    number: str
    status: str
    disbursed_on: dt.date
    outstanding: int
    receivable: int
    branch: Branch
    member_id: int
    phone: str
    language: str
    opted_out: bool
    product: LoanProduct
    accrues_interest: bool
    rows: list[LoanInstallment]
    # A request of this loan went the one-by-one way: every later one of it goes that way too.
    one_by_one: bool = False
    # Numbers of the instalments the batch's payments reached (the rows to write back).
    touched: set[int] = field(default_factory=set)


@dataclass
class _Planned:
    number: int  # the request's position in the batch
    request: RepaymentRequest
    loan: _Loan
    cash_code: str
    split: Any
    from_receivable: int
    message: dict[str, Any]


def loan_repay_batch(
    *,
    repayments: Sequence[RepaymentRequest],
    actor: Any | None = None,
    channel: str = Channel.FIELD,
) -> list[BatchRepayment]:
    """Take the cash repayments; answers in the order given (see the module's docstring)."""
    answers: list[BatchRepayment | None] = [None] * len(repayments)
    with transaction.atomic(), server_cursor() as cursor:
        loans = _locked_loans(cursor, sorted({request.loan_id for request in repayments}))
        seen_keys = _keys_posted_before(cursor, [request.idempotency_key for request in repayments])
        active_cash = _active_accounts(cursor, {r.cash_account for r in repayments if r.cash_account})
        closed_through = _closed_through(cursor)
        planned: list[_Planned] = []
        later: list[int] = []  # positions that go through loan_repay, in order
        for number, request in enumerate(repayments):
            try:
                require_positive_amount(request.amount_minor)
            except BusinessRuleViolation as error:
                answers[number] = BatchRepayment(error=error)
                continue
            loan = loans.get(request.loan_id)
            step = None
            if (
                loan is not None
                and not loan.one_by_one
                and request.idempotency_key not in seen_keys
                and (not request.cash_account or request.cash_account in active_cash)
                and (closed_through is None or request.value_date > closed_through)
                and not day_close_applies(channel)
            ):
                step = _plan(number, request, loan)
            seen_keys.add(request.idempotency_key)
            if step is None:
                if loan is not None:
                    loan.one_by_one = True
                later.append(number)
            else:
                planned.append(step)
        if planned:
            for step, result in zip(
                planned, _write(cursor, planned, actor=actor, channel=channel), strict=True
            ):
                answers[step.number] = result
        for number in later:
            answers[number] = _one_by_one(repayments[number], actor=actor, channel=channel)
    return cast(list[BatchRepayment], answers)


def _locked_loans(cursor: Any, loan_ids: list[int]) -> dict[int, _Loan]:
    cursor.execute(_LOANS_SQL, [loan_ids])
    loans: dict[int, _Loan] = {}
    branches: dict[int, Branch] = {}
    for row in cursor.fetchall():
        (loan_id, number, status, disbursed_on, outstanding, receivable, branch_id, branch_code, member_id,
         phone, language, opted_out, order, strategy, accrues, receivable_code, interest_code, fee_code,
         penalty_code) = row  # fmt: skip
        branch = branches.get(branch_id) or branches.setdefault(
            branch_id, Branch(id=branch_id, code=branch_code)
        )
        product = cast(
            LoanProduct,
            SimpleNamespace(
                allocation_order=order,
                prepayment_strategy=strategy,
                accrues_interest=accrues,
                receivable_account=SimpleNamespace(code=receivable_code),
                interest_income_account=SimpleNamespace(code=interest_code),
                fee_income_account=SimpleNamespace(code=fee_code),
                penalty_income_account=SimpleNamespace(code=penalty_code),
            ),
        )
        loans[loan_id] = _Loan(
            id=loan_id, number=number, status=status, disbursed_on=disbursed_on, outstanding=outstanding,
            receivable=receivable, branch=branch, member_id=member_id, phone=phone, language=language,
            opted_out=opted_out, product=product, accrues_interest=accrues, rows=[],
        )  # fmt: skip
    cursor.execute(_INSTALLMENTS_SQL, [list(loans)])
    for values in cursor.fetchall():
        row = _Row(*values)
        loans[row.loan_id].rows.append(cast(LoanInstallment, row))
    return loans


def _keys_posted_before(cursor: Any, keys: list[str]) -> set[str]:
    """Keys of earlier repayments and of earlier journal entries (a key is the journal's, whoever used it)."""
    cursor.execute(
        "SELECT idempotency_key FROM lending_loantransaction WHERE idempotency_key = ANY(%s) "
        "UNION SELECT idempotency_key FROM ledger_journalentry WHERE idempotency_key = ANY(%s)",
        [keys, keys],
    )
    return {row[0] for row in cursor.fetchall()}


def _active_accounts(cursor: Any, codes: set[str]) -> set[str]:
    if not codes:
        return set()
    cursor.execute("SELECT code FROM ledger_account WHERE code = ANY(%s) AND is_active", [sorted(codes)])
    return {row[0] for row in cursor.fetchall()}


def _closed_through(cursor: Any) -> dt.date | None:
    cursor.execute("SELECT closed_through FROM ledger_ledgerstate LIMIT 1")
    row = cursor.fetchone()
    return row[0] if row else None


def _plan(number: int, request: RepaymentRequest, loan: _Loan) -> _Planned | None:
    """The common instalment's split, written into the loan's rows; None for anything else."""
    if loan.status != LoanStatus.ACTIVE or request.value_date < loan.disbursed_on:
        return None
    floor = sum(_owed_without_interest(row) for row in loan.rows)
    due_total = sum(_owed_total(row) for row in loan.rows if row.due_date <= request.value_date)
    if request.amount_minor >= floor or (
        request.amount_minor > due_total and loan.product.prepayment_strategy != PrepaymentStrategy.ADVANCE
    ):
        return None  # a settlement, a payment above the payoff, or a recast
    applied = _pay(
        cast(Any, loan), loan.product, loan.rows, request.amount_minor, request.value_date, floor=floor
    )
    split = applied.split
    # Only unpaid rows were read, so a row is changed exactly when the payment reached it.
    loan.touched.update(split.by_installment)
    from_receivable = min(split.total("interest"), loan.receivable) if loan.accrues_interest else 0
    loan.outstanding -= split.total("principal")
    loan.receivable -= from_receivable
    message = _message_context(cast(Any, loan), loan.rows, request.amount_minor, request.value_date)
    return _Planned(
        number=number,
        request=request,
        loan=loan,
        cash_code=request.cash_account or cash_account_code(loan.branch.code),
        split=split,
        from_receivable=from_receivable,
        message=message,
    )


def _write(cursor: Any, planned: list[_Planned], *, actor: Any | None, channel: str) -> list[BatchRepayment]:
    postings = [
        PostingRequest(
            idempotency_key=step.request.idempotency_key,
            value_date=step.request.value_date,
            branch=step.loan.branch,
            memo=(step.request.memo or step.loan.number)[:300],
            lines=[
                LineSpec(step.cash_code, debit_minor=step.request.amount_minor),
                *_income_lines(step.loan.product, step.split, from_receivable=step.from_receivable),
            ],
        )
        for step in planned
    ]
    entries = journal_post_batch(postings=postings, actor=actor)
    loans = {step.loan.id: step.loan for step in planned}
    # Rows were read unpaid: one changed if a payment reached it or it is now paid (``_apply`` marks
    # any row left owing nothing).
    changed = [
        row
        for loan in loans.values()
        for row in loan.rows
        if row.number in loan.touched or row.paid_on is not None
    ]
    cursor.execute(
        _UPDATE_INSTALLMENTS_SQL,
        [
            [row.pk for row in changed],
            [row.principal_paid_minor for row in changed],
            [row.interest_paid_minor for row in changed],
            [row.fee_paid_minor for row in changed],
            [row.penalty_paid_minor for row in changed],
            [row.paid_on for row in changed],
        ],
    )
    cursor.execute(
        _UPDATE_LOANS_SQL,
        [
            list(loans),
            [loan.outstanding for loan in loans.values()],
            [loan.receivable for loan in loans.values()],
        ],
    )
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence('lending_loantransaction', 'id')) FROM generate_series(1, %s)",
        [len(planned)],
    )
    transaction_ids = [row[0] for row in cursor.fetchall()]
    now = timezone.now()
    by = actor_id(actor)
    with cursor.copy(f"COPY lending_loantransaction ({_TRANSACTION_COLUMNS}) FROM STDIN") as copy:
        for transaction_id, step, entry in zip(transaction_ids, planned, entries, strict=True):
            split = step.split
            copy.write_row(
                (transaction_id, step.loan.id, LoanTransactionKind.REPAYMENT.value, step.request.value_date,
                 step.request.amount_minor, split.total("principal"), split.total("interest"),
                 split.total("fee"), split.total("penalty"), step.from_receivable, RepaymentSource.CASH.value,
                 channel, entry.entry_id, step.request.idempotency_key, step.request.memo[:300], now, by)
            )  # fmt: skip
    with cursor.copy(f"COPY notifications_outboxmessage ({_OUTBOX_COLUMNS}) FROM STDIN") as copy:
        for step in planned:
            loan = step.loan
            status = outbox_initial_status(phone=loan.phone, sms_opt_out=loan.opted_out)
            copy.write_row(
                (MessageKind.INSTALMENT_RECEIVED.value, step.request.idempotency_key, loan.member_id,
                 loan.phone, loan.language, Jsonb(step.message), status.value, 0, now)
            )  # fmt: skip
    outbox_relay_kick_on_commit()  # the relay sends these once the batch commits
    return [
        BatchRepayment(loan_transaction_id=transaction_id, entry_id=entry.entry_id)
        for transaction_id, entry in zip(transaction_ids, entries, strict=True)
    ]


def _one_by_one(request: RepaymentRequest, *, actor: Any | None, channel: str) -> BatchRepayment:
    """``loan_repay`` in a savepoint: its answer, or its refusal with nothing left behind."""
    try:
        with transaction.atomic():
            payment = loan_repay(
                actor=actor,
                loan_id=request.loan_id,
                amount_minor=request.amount_minor,
                value_date=request.value_date,
                idempotency_key=request.idempotency_key,
                cash_account=request.cash_account,
                channel=channel,
                memo=request.memo,
            )
    except BusinessRuleViolation as error:
        return BatchRepayment(error=error)
    return BatchRepayment(loan_transaction_id=payment.pk, entry_id=payment.entry_id)
