"""Disbursement, repayment, payoff, reversal and closure of loans (L5 refinance, L8).

Each movement commits in one transaction: the ledger entry (through ``journal_post`` or the
savings services), the instalments' paid parts, the loan's running totals, a
``LoanTransaction`` and the member's SMS in the outbox. Locks are taken in one order: the
member row (disbursement only), the loan row, then savings accounts, then the ledger.

Interest is income when it is paid (cash basis), so a repayment credits interest income
directly; the schedule engine alone says how much interest a loan has earned on a date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_UP, Decimal
from types import SimpleNamespace
from typing import Any, cast

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.accounting.day_rules import counter_day_open_require
from core_banking.ledger.db import prepared_fetchone
from core_banking.ledger.models import Account, JournalEntry, JournalLine
from core_banking.ledger.presets import cash_account_code
from core_banking.ledger.services import (
    LineSpec,
    actor_id,
    journal_post,
    posted_entry,
    posting_parameters,
    posting_statement,
)
from core_banking.lending import allocation
from core_banking.lending import terms as loan_terms
from core_banking.lending.errors import invalid, not_found, require_positive_amount
from core_banking.lending.models import (
    ApplicationStatus,
    FeeCollection,
    FeeKind,
    Loan,
    LoanApplication,
    LoanInstallment,
    LoanProduct,
    LoanStatus,
    LoanTransaction,
    LoanTransactionKind,
    PrepaymentStrategy,
    RepaymentSource,
)
from core_banking.lending.schedule import Installment, Schedule, accrued_interest, schedule_recast
from core_banking.lending.services.applications import next_number
from core_banking.members.models import Member, MemberStatus
from core_banking.organisation.models import Branch
from core_banking.savings.models import Channel, SavingsAccount
from notifications.models import MessageKind, OutboxStatus
from notifications.services import outbox_enqueue, outbox_initial_status, outbox_relay_kick_on_commit
from tenants.db import workspace_currency

INTEREST_RECEIVABLE_CODE = "1400"  # interest accrued and not yet received (products that accrue)

_ROUNDING = {
    "half_even": "ROUND_HALF_EVEN",
    "half_up": "ROUND_HALF_UP",
    "down": "ROUND_DOWN",
    "up": "ROUND_UP",
}


# --- Reading a loan's state -------------------------------------------------------------------


# What a payment may change in an instalment row; only rows where it changed are written back.
_WRITTEN_FIELDS = (
    "principal_minor",
    "principal_paid_minor",
    "interest_paid_minor",
    "fee_paid_minor",
    "penalty_paid_minor",
    "interest_waived_minor",
    "paid_on",
)


def _state(row: LoanInstallment) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in _WRITTEN_FIELDS)


def _rows(loan: Loan) -> list[LoanInstallment]:
    rows = list(LoanInstallment.objects.filter(loan_id=loan.pk).order_by("number"))
    for row in rows:
        row._loaded_state = _state(row)  # type: ignore[attr-defined]
    return rows


def schedule_of(loan: Loan, rows: list[LoanInstallment]) -> Schedule:
    """The loan's current schedule (after any recast) as the engine knows it."""
    terms = loan_terms.parse(loan.terms_json)
    installments = []
    balance = loan.principal_minor
    for row in rows:
        balance -= row.principal_minor
        installments.append(
            Installment(
                number=row.number,
                due_date=row.due_date,
                principal_minor=row.principal_minor,
                interest_minor=row.interest_minor,
                total_minor=row.principal_minor + row.interest_minor,
                balance_minor=balance,
                period_start=row.period_start,
                earned_interest_minor=row.earned_interest_minor,
            )
        )
    principal = sum(item.principal_minor for item in installments)
    interest = sum(item.interest_minor for item in installments)
    return Schedule(
        terms=terms,
        installments=tuple(installments),
        total_principal_minor=principal,
        total_interest_minor=interest,
        total_minor=principal + interest,
    )


@dataclass(frozen=True)
class PayoffQuote:
    """What settles the loan on ``on_date``, part by part (minor units)."""

    loan_number: str
    on_date: dt.date
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    interest_accrued_minor: int
    interest_paid_minor: int

    @property
    def total_minor(self) -> int:
        return self.principal_minor + self.interest_minor + self.fee_minor + self.penalty_minor


def _quote(loan: Loan, rows: list[LoanInstallment], on_date: dt.date) -> PayoffQuote:
    terms = loan_terms.parse(loan.terms_json)
    accrued = accrued_interest(terms, schedule_of(loan, rows), on_date)
    paid = sum(row.interest_paid_minor for row in rows)
    # Interest paid ahead of its time (advance payments) is not refunded: it stays earned.
    return PayoffQuote(
        loan_number=loan.number,
        on_date=on_date,
        principal_minor=sum(row.principal_minor - row.principal_paid_minor for row in rows),
        interest_minor=max(accrued - paid, 0),
        fee_minor=sum(row.fee_minor - row.fee_paid_minor for row in rows),
        penalty_minor=sum(row.penalty_minor - row.penalty_paid_minor for row in rows),
        interest_accrued_minor=accrued,
        interest_paid_minor=paid,
    )


def loan_payoff_quote(*, loan_id: int, on_date: dt.date) -> PayoffQuote:
    loan = Loan.objects.filter(pk=loan_id).first()
    if loan is None:
        raise not_found("loan", "loan", loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise _not_active(loan)
    if on_date < loan.disbursed_on:
        raise invalid("on_date", "Before the disbursement.")
    return _quote(loan, _rows(loan), on_date)


def _owed(row: LoanInstallment) -> allocation.Owed:
    return allocation.Owed(
        number=row.number,
        penalty=row.penalty_minor - row.penalty_paid_minor,
        fee=row.fee_minor - row.fee_paid_minor,
        interest=row.interest_minor - row.interest_waived_minor - row.interest_paid_minor,
        principal=row.principal_minor - row.principal_paid_minor,
    )


def _owed_total(row: LoanInstallment) -> int:
    """``_owed(row).total`` without building the breakdown (read for every row of every payment)."""
    return (
        row.penalty_minor
        - row.penalty_paid_minor
        + row.fee_minor
        - row.fee_paid_minor
        + row.interest_minor
        - row.interest_waived_minor
        - row.interest_paid_minor
        + row.principal_minor
        - row.principal_paid_minor
    )


def _owed_without_interest(row: LoanInstallment) -> int:
    """Principal, fee and penalty still owed on the row: what no payoff can waive."""
    return (
        row.principal_minor
        - row.principal_paid_minor
        + row.fee_minor
        - row.fee_paid_minor
        + row.penalty_minor
        - row.penalty_paid_minor
    )


def _not_active(loan: Loan) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.LOAN_NOT_ACTIVE,
        f"Loan {loan.number} is {loan.get_status_display()}.",
        fields={"loan": [loan.status]},
    )


# --- Applying payments to instalments ------------------------------------------------------


def _apply(rows: list[LoanInstallment], split: allocation.Split, value_date: dt.date) -> None:
    by_number = {row.number: row for row in rows}
    for number, parts in split.by_installment.items():
        row = by_number[number]
        row.penalty_paid_minor += parts.get("penalty", 0)
        row.fee_paid_minor += parts.get("fee", 0)
        row.interest_paid_minor += parts.get("interest", 0)
        row.principal_paid_minor += parts.get("principal", 0)
    for row in rows:
        if row.paid_on is None and _owed_total(row) == 0:
            row.paid_on = value_date


def _merge(first: allocation.Split, second: allocation.Split) -> allocation.Split:
    merged = allocation.Split(unapplied=second.unapplied)
    for split in (first, second):
        for number, parts in split.by_installment.items():
            target = merged.by_installment.setdefault(number, {})
            for component, amount in parts.items():
                target[component] = target.get(component, 0) + amount
    return merged


@dataclass
class _Applied:
    split: allocation.Split
    settled: bool
    recast: bool = False


def _pay(
    loan: Loan,
    product: LoanProduct,
    rows: list[LoanInstallment],
    amount: int,
    value_date: dt.date,
    *,
    floor: int | None = None,
) -> _Applied:
    """Split ``amount`` over the loan's instalments and write it into ``rows`` (not yet saved).

    ``floor``, when the caller knows it, is what is owed without interest over all the unpaid
    instalments; a caller holding only the instalments the payment reaches must give it.
    """
    order = list(product.allocation_order)
    due = [_owed(row) for row in rows if row.due_date <= value_date]
    if amount <= sum(owed.total for owed in due):
        # The common case, an instalment paid on or after its date: what is due absorbs it all,
        # and the payoff (never less than what is due) needs no working out.
        split = allocation.allocate(amount, due, order)
        _apply(rows, split, value_date)
        return _Applied(split, settled=False)
    # The payoff is never less than the principal, fees and penalties still owed (its interest part
    # is never negative): a payment below that neither settles nor overpays, and the engine need
    # not work the payoff out (an advance payment of the next instalment, typically).
    if floor is None:
        floor = sum(_owed_without_interest(row) for row in rows)
    if amount >= floor:
        quote = _quote(loan, rows, value_date)
        if amount > quote.total_minor:
            raise BusinessRuleViolation(
                ErrorCode.REPAYMENT_ABOVE_PAYOFF,
                f"The loan is settled with {quote.total_minor}; {amount} is more.",
                fields={"amount_minor": [f"At most {quote.total_minor}."]},
                extra={"payoff_minor": quote.total_minor},
            )
        if amount == quote.total_minor:
            return _Applied(_settle(rows, quote, value_date), settled=True)
    split = allocation.allocate(amount, due, order)
    _apply(rows, split, value_date)
    leftover = split.unapplied
    if leftover == 0:
        return _Applied(split, settled=False)
    future = [row for row in rows if row.due_date > value_date]
    strategy = product.prepayment_strategy
    if strategy == PrepaymentStrategy.ADVANCE or len(future) < 2:
        ahead = allocation.allocate(leftover, [_owed(row) for row in future], order)
        _apply(rows, ahead, value_date)
        return _Applied(_merge(split, ahead), settled=False)
    # Prepayment: the running instalment takes the extra principal; the rest are recomputed.
    running, later = future[0], future[1:]
    later_principal = sum(row.principal_minor - row.principal_paid_minor for row in later)
    extra = min(leftover, later_principal - 1)
    running.principal_minor += extra
    running.principal_paid_minor += extra
    split.by_installment.setdefault(running.number, {})
    split.by_installment[running.number]["principal"] = (
        split.by_installment[running.number].get("principal", 0) + extra
    )
    _recast(loan, rows, keep_through=running, outstanding=later_principal - extra, strategy=strategy)
    rest = leftover - extra
    if rest:
        ahead = allocation.allocate(rest, [_owed(row) for row in rows if row.due_date > value_date], order)
        _apply(rows, ahead, value_date)
        split = _merge(split, ahead)
    split.unapplied = 0
    return _Applied(split, settled=False, recast=True)


def _recast(
    loan: Loan, rows: list[LoanInstallment], *, keep_through: LoanInstallment, outstanding: int, strategy: str
) -> None:
    """Recompute the instalments after ``keep_through`` from ``outstanding`` principal (engine)."""
    terms = loan_terms.parse(loan.terms_json)
    kept = [row for row in rows if row.number <= keep_through.number]
    current = schedule_of(loan, rows)
    recast = schedule_recast(
        terms,
        current,
        keep_through_number=keep_through.number,
        outstanding_principal_minor=outstanding,
        start_date=keep_through.due_date,
        strategy="reduce_term" if strategy == PrepaymentStrategy.REDUCE_TERM else "reduce_installment",
    )
    penalties = {row.number: row.penalty_minor for row in rows}
    fees = {row.number: row.fee_minor for row in rows}
    replaced = [
        LoanInstallment(
            loan_id=loan.pk,
            number=item.number,
            period_start=item.period_start,
            due_date=item.due_date,
            principal_minor=item.principal_minor,
            interest_minor=item.interest_minor,
            earned_interest_minor=item.earned_interest_minor,
            fee_minor=fees.get(item.number, 0),
            penalty_minor=penalties.get(item.number, 0),
        )
        for item in recast.installments
        if item.number > keep_through.number
    ]
    rows[:] = kept + replaced


def _settle(rows: list[LoanInstallment], quote: PayoffQuote, value_date: dt.date) -> allocation.Split:
    """Pay everything owed today; interest not yet earned is waived, never charged."""
    split = allocation.Split()
    interest_left = quote.interest_minor
    for row in rows:
        owed = _owed(row)
        interest = min(owed.interest, interest_left)
        interest_left -= interest
        parts = {"penalty": owed.penalty, "fee": owed.fee, "interest": interest, "principal": owed.principal}
        parts = {name: amount for name, amount in parts.items() if amount}
        if parts:
            split.by_installment[row.number] = parts
        row.interest_waived_minor += owed.interest - interest
    _apply(rows, split, value_date)
    return split


_UPDATE_ROWS_SQL = """
UPDATE lending_loaninstallment AS i SET
    principal_minor = v.principal_minor, principal_paid_minor = v.principal_paid_minor,
    interest_paid_minor = v.interest_paid_minor, fee_paid_minor = v.fee_paid_minor,
    penalty_paid_minor = v.penalty_paid_minor, interest_waived_minor = v.interest_waived_minor,
    paid_on = v.paid_on
FROM (SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[],
    %s::bigint[], %s::bigint[], %s::date[])) AS v(id, principal_minor, principal_paid_minor,
    interest_paid_minor, fee_paid_minor, penalty_paid_minor, interest_waived_minor, paid_on)
WHERE i.id = v.id
"""


_UPDATE_LOAN_SQL = """
UPDATE lending_loan SET principal_outstanding_minor = %s, interest_receivable_minor = %s, status = %s,
    closed_on = %s WHERE id = %s
"""


def _save_rows(loan: Loan, rows: list[LoanInstallment], recast: bool, *, with_loan: bool = False) -> None:
    """Write back the rows a payment changed (usually one or two), in one statement.

    ``with_loan`` writes the loan's running totals (outstanding, status, closing date) in the same
    round trip.
    """
    if recast:
        numbers = [row.number for row in rows if row.pk is None]
        LoanInstallment.objects.filter(loan_id=loan.pk, number__in=numbers).delete()
        LoanInstallment.objects.filter(loan_id=loan.pk, number__gt=max(row.number for row in rows)).delete()
        LoanInstallment.objects.bulk_create([row for row in rows if row.pk is None])
    changed = [
        row for row in rows if row.pk is not None and getattr(row, "_loaded_state", None) != _state(row)
    ]
    columns: list[Any] = [[row.pk for row in changed]] + [
        [getattr(row, name) for row in changed] for name in _WRITTEN_FIELDS
    ]
    loan_values: list[Any] = [
        loan.principal_outstanding_minor,
        loan.interest_receivable_minor,
        loan.status,
        loan.closed_on,
        loan.pk,
    ]
    with connection.cursor() as cursor:
        if changed and with_loan:
            statement = f"WITH installments AS ({_UPDATE_ROWS_SQL} RETURNING 1) {_UPDATE_LOAN_SQL}"
            cursor.execute(statement, [*columns, *loan_values])
        elif changed:
            cursor.execute(_UPDATE_ROWS_SQL, columns)
        elif with_loan:
            cursor.execute(_UPDATE_LOAN_SQL, loan_values)
    for row in changed:
        row._loaded_state = _state(row)  # type: ignore[attr-defined]


# --- Ledger lines ------------------------------------------------------------------------------


def _income_lines(
    product: LoanProduct, split: allocation.Split, *, from_receivable: int = 0
) -> list[LineSpec]:
    """The credits of a payment: principal to the receivable, interest, fees and penalties to income.

    ``from_receivable`` is the part of the interest that clears interest receivable (1400) for a
    product that accrues; when it is more than the interest paid (an accrual left over at closing),
    the difference goes back out of income.
    """
    interest_to_income = split.total("interest") - from_receivable
    parts = [
        (product.receivable_account.code, split.total("principal")),
        (INTEREST_RECEIVABLE_CODE, from_receivable),
        (product.interest_income_account.code, interest_to_income),
        (product.fee_income_account.code, split.total("fee")),
        (product.penalty_income_account.code, split.total("penalty")),
    ]
    return [
        LineSpec(code, credit_minor=amount) if amount > 0 else LineSpec(code, debit_minor=-amount)
        for code, amount in parts
        if amount
    ]


def _receivable_share(loan: Loan, split: allocation.Split, *, closes: bool) -> int:
    """How much of a payment's interest clears the loan's accrued interest receivable.

    Cash-basis products: none. Accruing products: the interest paid, up to what is accrued and
    unpaid; the payment that closes the loan clears all of it (an accrual above what was finally
    earned is released from income).
    """
    if not loan.product.accrues_interest:
        return 0
    if closes:
        return loan.interest_receivable_minor
    return min(split.total("interest"), loan.interest_receivable_minor)


def _message_context(
    loan: Loan,
    rows: list[LoanInstallment],
    amount: int,
    value_date: dt.date,
    *,
    outstanding_minor: int | None = None,
) -> dict[str, Any]:
    """What the "instalment received" SMS says. ``outstanding_minor`` is given by a caller holding
    only some of the unpaid instalments (the next one due among them)."""
    open_rows = [(row, total) for row in rows if (total := _owed_total(row)) > 0]
    upcoming = next(
        (item for item in open_rows if item[0].due_date >= value_date), open_rows[0] if open_rows else None
    )
    return {
        "amount_minor": amount,
        "currency": workspace_currency(),
        "loan": loan.number,
        "value_date": value_date.isoformat(),
        "outstanding_minor": (
            outstanding_minor if outstanding_minor is not None else sum(total for _row, total in open_rows)
        ),
        "next_due_date": upcoming[0].due_date.isoformat() if upcoming else None,
        "next_due_minor": upcoming[1] if upcoming else 0,
    }


def disbursement_fee(product: LoanProduct, principal_minor: int) -> int:
    """The product's fee on a loan of this size (flat, or percent rounded as the product rounds)."""
    if product.fee_kind == FeeKind.FLAT:
        return product.fee_flat_minor
    if product.fee_kind == FeeKind.PERCENT:
        exact = Decimal(principal_minor) * product.fee_percent / 100
        return int(exact.to_integral_value(rounding=_ROUNDING.get(product.rounding, ROUND_HALF_EVEN)))
    return 0


# --- Disbursement ------------------------------------------------------------------------------


def _replayed_disbursement(key: str, application_id: int) -> Loan:
    earlier = LoanTransaction.objects.filter(idempotency_key=key).select_related("loan").first()
    if (
        earlier is None
        or earlier.kind != LoanTransactionKind.DISBURSEMENT
        or earlier.loan.application_id != application_id
    ):
        raise BusinessRuleViolation(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was already used for a different posting.",
            fields={"idempotency_key": ["Used by another posting."]},
        )
    return earlier.loan


def _approved_application(application_id: int, disbursed_on: dt.date) -> tuple[LoanApplication, Member]:
    """The application, locked and approved, and its member, locked and free to borrow."""
    application = (
        LoanApplication.objects.select_for_update(of=("self",))
        .select_related(
            "product__receivable_account", "product__fee_income_account", "branch", "pledged_savings"
        )
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise not_found("application", "application", application_id)
    if application.status != ApplicationStatus.APPROVED:
        raise BusinessRuleViolation(
            ErrorCode.APPLICATION_NOT_PENDING,
            f"Application {application.number} is {application.get_status_display()}; "
            "only approved ones are paid out.",
            fields={"status": [application.status]},
        )
    # The exit rules' contract: lock the member row, refuse an exited member (shares.exit_rules).
    member = (
        Member.objects.select_for_update(no_key=True, of=("self",))
        .select_related("group")
        .get(pk=application.member_id)
    )
    if member.status != MemberStatus.ACTIVE:
        raise BusinessRuleViolation(
            ErrorCode.LOAN_NOT_ELIGIBLE,
            f"Member {member.number} is {member.get_status_display()}.",
            fields={"member_status": [member.status]},
        )
    if disbursed_on < application.applied_on:
        raise invalid("disbursed_on", "Before the application date.")
    return application, member


@dataclass
class _Refinance:
    old: Loan
    rows: list[LoanInstallment]
    payoff: PayoffQuote
    split: allocation.Split | None = None
    from_receivable: int = 0


def _refinance_of(application: LoanApplication, disbursed_on: dt.date) -> _Refinance | None:
    if application.refinances_id is None:
        return None
    old = Loan.objects.select_for_update().select_related("product").get(pk=application.refinances_id)
    if old.status != LoanStatus.ACTIVE:
        raise _not_active(old)
    rows = _rows(old)
    return _Refinance(old, rows, _quote(old, rows, disbursed_on))


def _schedule_rows(loan: Loan, schedule: Schedule, fee_added: int) -> list[LoanInstallment]:
    return [
        LoanInstallment(
            loan=loan,
            number=item.number,
            period_start=item.period_start,
            due_date=item.due_date,
            principal_minor=item.principal_minor,
            interest_minor=item.interest_minor,
            earned_interest_minor=item.earned_interest_minor,
            fee_minor=fee_added if item.number == 1 else 0,
        )
        for item in schedule.installments
    ]


def _pay_out(
    *,
    loan: Loan,
    lines: list[LineSpec],
    net: int,
    key: str,
    to_savings_account_id: int | None,
    cash_account: str,
    actor: Any | None,
    channel: str,
) -> tuple[JournalEntry, Any]:
    """Post the disbursement: ``lines`` (receivable, fee, refinance) plus the net paid out."""
    if to_savings_account_id is None:
        counter_day_open_require(branch=loan.branch, day=loan.disbursed_on, channel=channel)
        lines.append(LineSpec(cash_account or cash_account_code(loan.branch.code), credit_minor=net))
        entry = journal_post(
            idempotency_key=key,
            value_date=loan.disbursed_on,
            branch=loan.branch,
            lines=lines,
            memo=loan.number,
            actor=actor,
        )
        return entry, None
    account = SavingsAccount.objects.filter(pk=to_savings_account_id, member_id=loan.member_id).first()
    if account is None:
        raise BusinessRuleViolation(
            ErrorCode.DISBURSEMENT_ACCOUNT_INVALID,
            "Disburse only into the borrower's own savings account.",
            fields={"to_savings_account_id": ["Not the borrower's account."]},
        )
    from core_banking.savings.services import savings_deposit

    receivable = loan.product.receivable_account.code
    # The savings service posts the net amount (receivable → savings); the rest of the entry
    # (fee, refinance) is posted beside it against the receivable.
    movement = savings_deposit(
        account_id=account.pk,
        amount_minor=net,
        value_date=loan.disbursed_on,
        idempotency_key=f"{key}:savings",
        actor=actor,
        channel=channel,
        memo=loan.number,
        counter_account_code=receivable,
    )
    rest = loan.principal_minor - net
    if not rest:
        return movement.entry, movement
    lines[0] = LineSpec(receivable, debit_minor=rest)
    entry = journal_post(
        idempotency_key=key,
        value_date=loan.disbursed_on,
        branch=loan.branch,
        lines=lines,
        memo=loan.number,
        actor=actor,
    )
    return entry, movement


def _close_refinanced(
    refinance: _Refinance, *, new_loan: Loan, entry: JournalEntry, key: str, actor: Any | None
) -> None:
    old, split = refinance.old, refinance.split
    assert split is not None
    _save_rows(old, refinance.rows, recast=False)
    _close(old, new_loan.disbursed_on, actor=actor)
    old.principal_outstanding_minor = 0
    old.interest_receivable_minor -= refinance.from_receivable
    old.save(
        update_fields=["principal_outstanding_minor", "interest_receivable_minor", "status", "closed_on"]
    )
    LoanTransaction.objects.create(
        loan=old,
        kind=LoanTransactionKind.REPAYMENT,
        value_date=new_loan.disbursed_on,
        amount_minor=refinance.payoff.total_minor,
        principal_minor=split.total("principal"),
        interest_minor=split.total("interest"),
        fee_minor=split.total("fee"),
        penalty_minor=split.total("penalty"),
        interest_from_receivable_minor=refinance.from_receivable,
        source=RepaymentSource.REFINANCE,
        entry=entry,
        idempotency_key=f"{key}:refinance",
        memo=new_loan.number,
        created_at=timezone.now(),
        created_by_id=actor_id(actor),
    )


def _pledge(loan: Loan, application: LoanApplication, actor: Any | None) -> None:
    """Savings pledged as security: a lien for the product's share of the loan, released at closure."""
    product = loan.product
    if not product.deposit_security_percent or not application.pledged_savings_id:
        return
    from core_banking.savings.services import lien_place

    pledged = int(
        (Decimal(loan.principal_minor) * product.deposit_security_percent / 100).to_integral_value(
            rounding=ROUND_UP
        )
    )
    loan.pledged_lien = lien_place(
        actor=actor,
        account_id=application.pledged_savings_id,
        amount_minor=pledged,
        reason="Loan security",
        reference=loan.number,
    )
    loan.save(update_fields=["pledged_lien"])


@transaction.atomic
def loan_disburse(
    *,
    actor: Any | None,
    application_id: int,
    disbursed_on: dt.date,
    idempotency_key: str,
    to_savings_account_id: int | None = None,
    cash_account: str = "",
    first_due_date: dt.date | None = None,
    channel: str = Channel.OFFICE,
) -> Loan:
    """Pay out an approved application: the loan, its schedule, the ledger entry, the lien, the SMS.

    A refinance settles the old loan from the new one in the same entry; the member receives
    the net amount. The same key again returns the same loan.
    """
    if LoanTransaction.objects.filter(idempotency_key=idempotency_key).exists():
        return _replayed_disbursement(idempotency_key, application_id)
    application, member = _approved_application(application_id, disbursed_on)
    product = application.product
    currency = workspace_currency()
    principal = application.amount_minor
    terms_json = loan_terms.terms_json_for(
        product=product,
        principal_minor=principal,
        currency=currency,
        installments=application.installments,
        disbursement_date=disbursed_on,
        annual_rate=application.annual_rate,
        branch=application.branch,
        member=member,
        first_due_date=first_due_date,
    )
    try:
        schedule = loan_terms.schedule_for(terms_json)
    except loan_terms.TermsError as error:
        raise BusinessRuleViolation(
            ErrorCode.SCHEDULE_TERMS_INVALID, "The schedule cannot be made.", fields=error.errors
        ) from error
    fee = disbursement_fee(product, principal)
    deducted_fee = fee if product.fee_collection == FeeCollection.DEDUCTED else 0
    net = principal - deducted_fee
    refinance = _refinance_of(application, disbursed_on)
    if refinance is not None:
        net -= refinance.payoff.total_minor
        if net <= 0:
            raise BusinessRuleViolation(
                ErrorCode.REFINANCE_EXCEEDS_LOAN,
                f"Settling {refinance.old.number} takes {refinance.payoff.total_minor}; "
                "the new loan leaves nothing to pay out.",
                fields={"amount_minor": [f"More than {refinance.payoff.total_minor + deducted_fee}."]},
            )
    loan = Loan.objects.create(
        number=next_number("loan", application.branch_id, "L"),
        application=application,
        member=member,
        product=product,
        branch=application.branch,
        principal_minor=principal,
        disbursed_on=disbursed_on,
        terms_json=terms_json,
        principal_outstanding_minor=principal,
    )
    rows = _schedule_rows(loan, schedule, fee if product.fee_collection == FeeCollection.ADDED else 0)
    LoanInstallment.objects.bulk_create(rows)
    lines = [LineSpec(product.receivable_account.code, debit_minor=principal)]
    if deducted_fee:
        lines.append(LineSpec(product.fee_income_account.code, credit_minor=deducted_fee))
    if refinance is not None:
        refinance.split = _settle(refinance.rows, refinance.payoff, disbursed_on)
        refinance.from_receivable = _receivable_share(refinance.old, refinance.split, closes=True)
        lines.extend(
            _income_lines(refinance.old.product, refinance.split, from_receivable=refinance.from_receivable)
        )
    entry, movement = _pay_out(
        loan=loan,
        lines=lines,
        net=net,
        key=idempotency_key,
        to_savings_account_id=to_savings_account_id,
        cash_account=cash_account,
        actor=actor,
        channel=channel,
    )
    LoanTransaction.objects.create(
        loan=loan,
        kind=LoanTransactionKind.DISBURSEMENT,
        value_date=disbursed_on,
        amount_minor=principal,
        principal_minor=principal,
        fee_minor=deducted_fee,
        source=RepaymentSource.SAVINGS if movement else RepaymentSource.CASH,
        channel=channel,
        savings_transaction=movement,
        entry=entry,
        idempotency_key=idempotency_key,
        created_at=timezone.now(),
        created_by_id=actor_id(actor),
    )
    if refinance is not None:
        _close_refinanced(refinance, new_loan=loan, entry=entry, key=idempotency_key, actor=actor)
    _pledge(loan, application, actor)
    application.status = ApplicationStatus.DISBURSED
    application.save(update_fields=["status"])
    first = rows[0]
    outbox_enqueue(
        kind=MessageKind.LOAN_DISBURSED,
        source_ref=idempotency_key,
        member=member,
        context={
            "amount_minor": principal,
            "net_minor": net,
            "currency": currency,
            "loan": loan.number,
            "value_date": disbursed_on.isoformat(),
            "installments": len(rows),
            "first_due_date": first.due_date.isoformat(),
            "first_installment_minor": first.principal_minor + first.interest_minor + first.fee_minor,
        },
    )
    audit_record(
        actor=actor,
        action="lending.loan.disburse",
        target=loan,
        changes={
            "application": application.number,
            "principal_minor": principal,
            "net_minor": net,
            "fee_minor": fee,
            "refinances": refinance.old.number if refinance else None,
            "to_savings": to_savings_account_id,
        },
    )
    return loan


def _close(loan: Loan, on_date: dt.date, *, actor: Any | None) -> None:
    loan.status = LoanStatus.CLOSED
    loan.closed_on = on_date
    if loan.pledged_lien_id:
        from core_banking.savings.services import lien_release

        lien_release(actor=actor, lien_id=loan.pledged_lien_id)


# --- Repayment ---------------------------------------------------------------------------------


def _lock_loan(loan_id: int) -> Loan:
    """The loan row locked, with its branch, product (and accounts) and member read beside it.

    Two small queries: one joining the product's four accounts too costs several times more to
    plan than both together, and a repayment is on the counter's critical path.
    """
    loan = (
        Loan.objects.select_for_update(of=("self",))
        .select_related("branch", "member")
        .filter(pk=loan_id)
        .first()
    )
    if loan is None:
        raise not_found("loan", "loan", loan_id)
    loan.product = LoanProduct.objects.select_related(
        "receivable_account", "interest_income_account", "fee_income_account", "penalty_income_account"
    ).get(pk=loan.product_id)
    return loan


def _replayed_repayment(key: str, loan_id: int, amount: int, value_date: dt.date) -> LoanTransaction:
    earlier = LoanTransaction.objects.filter(idempotency_key=key).first()
    if earlier is None or (earlier.loan_id, earlier.kind, earlier.amount_minor, earlier.value_date) != (
        loan_id,
        LoanTransactionKind.REPAYMENT,
        amount,
        value_date,
    ):
        raise BusinessRuleViolation(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was already used for a different posting.",
            fields={"idempotency_key": ["Used by another posting."]},
        )
    return earlier


def _post_payment(
    *,
    loan: Loan,
    split: allocation.Split,
    amount: int,
    value_date: dt.date,
    key: str,
    source: str,
    savings_account_id: int | None,
    cash_account: str,
    actor: Any | None,
    channel: str,
    memo: str,
    from_receivable: int = 0,
) -> tuple[JournalEntry, Any]:
    """The ledger side of a payment: cash, or a debit to the member's savings through its service."""
    income = _income_lines(loan.product, split, from_receivable=from_receivable)
    if source == RepaymentSource.SAVINGS:
        from core_banking.savings.services import savings_pay_to_account

        if savings_account_id is None:
            raise invalid("savings_account_id", "Name the savings account to pay from.")
        if not SavingsAccount.objects.filter(pk=savings_account_id, member_id=loan.member_id).exists():
            raise invalid("savings_account_id", "Pay only from the borrower's own savings.")
        movement = savings_pay_to_account(
            account_id=savings_account_id,
            amount_minor=amount,
            value_date=value_date,
            idempotency_key=key,
            credit_lines=income,
            actor=actor,
            memo=memo or loan.number,
            channel=channel,
        )
        return movement.entry, movement
    counter_day_open_require(branch=loan.branch, day=value_date, channel=channel)
    lines = [LineSpec(cash_account or cash_account_code(loan.branch.code), debit_minor=amount), *income]
    entry = journal_post(
        idempotency_key=key,
        value_date=value_date,
        branch=loan.branch,
        lines=lines,
        memo=memo or loan.number,
        actor=actor,
    )
    return entry, None


def loan_repay(
    *,
    actor: Any | None,
    loan_id: int,
    amount_minor: int,
    value_date: dt.date,
    idempotency_key: str,
    source: str = RepaymentSource.CASH,
    savings_account_id: int | None = None,
    cash_account: str = "",
    channel: str = Channel.OFFICE,
    memo: str = "",
) -> LoanTransaction:
    """Take a payment: full, partial, advance or settlement, split by the product's order.

    Paying exactly the payoff quote settles and closes the loan; more than that is refused
    with the quote. The same key again returns the first payment.

    The common case, a cash instalment at the counter outside any caller's transaction, is
    written in two round trips (``_repay_in_two_statements``); anything else, or anything out of
    the ordinary there, goes the step-by-step way, which also explains every refusal.
    """
    require_positive_amount(amount_minor)
    if source not in (RepaymentSource.CASH, RepaymentSource.SAVINGS):
        raise invalid("source", "cash or savings.")
    if source == RepaymentSource.CASH and not connection.in_atomic_block:
        # Not the common case, or PostgreSQL refused the statement (a key posted by another loan,
        # an account deactivated meanwhile): rolled back, nothing written; the step-by-step path
        # below replays or explains.
        with contextlib.suppress(_NotTheCommonCase, DatabaseError), transaction.atomic():
            return _repay_in_two_statements(
                actor=actor,
                loan_id=loan_id,
                amount_minor=amount_minor,
                value_date=value_date,
                idempotency_key=idempotency_key,
                cash_account=cash_account,
                channel=channel,
                memo=memo,
            )
    return _repay_step_by_step(
        actor=actor,
        loan_id=loan_id,
        amount_minor=amount_minor,
        value_date=value_date,
        idempotency_key=idempotency_key,
        source=source,
        savings_account_id=savings_account_id,
        cash_account=cash_account,
        channel=channel,
        memo=memo,
    )


@transaction.atomic
def _repay_step_by_step(
    *,
    actor: Any | None,
    loan_id: int,
    amount_minor: int,
    value_date: dt.date,
    idempotency_key: str,
    source: str = RepaymentSource.CASH,
    savings_account_id: int | None = None,
    cash_account: str = "",
    channel: str = Channel.OFFICE,
    memo: str = "",
) -> LoanTransaction:
    """``loan_repay`` statement by statement, with the ORM: every case, every refusal explained."""
    loan = _lock_loan(loan_id)
    # After the lock: a concurrent request with this key has committed by now if it ran.
    if LoanTransaction.objects.filter(idempotency_key=idempotency_key).exists():
        return _replayed_repayment(idempotency_key, loan_id, amount_minor, value_date)
    if loan.status != LoanStatus.ACTIVE:
        raise _not_active(loan)
    if value_date < loan.disbursed_on:
        raise invalid("value_date", "Before the disbursement.")
    rows = _rows(loan)
    applied = _pay(loan, loan.product, rows, amount_minor, value_date)
    closes = all(_owed(row).total == 0 for row in rows)
    from_receivable = _receivable_share(loan, applied.split, closes=closes)
    entry, movement = _post_payment(
        loan=loan,
        split=applied.split,
        amount=amount_minor,
        value_date=value_date,
        key=idempotency_key,
        source=source,
        savings_account_id=savings_account_id,
        cash_account=cash_account,
        actor=actor,
        channel=channel,
        memo=memo,
        from_receivable=from_receivable,
    )
    loan.principal_outstanding_minor -= applied.split.total("principal")
    loan.interest_receivable_minor -= from_receivable
    if closes:
        _close(loan, value_date, actor=actor)
    _save_rows(loan, rows, recast=applied.recast, with_loan=True)
    # The repayment row and the member's SMS in one statement. The row itself is the record of
    # who took what when (no separate audit event), as for savings movements.
    payment = LoanTransaction(
        loan=loan,
        kind=LoanTransactionKind.REPAYMENT,
        value_date=value_date,
        amount_minor=amount_minor,
        principal_minor=applied.split.total("principal"),
        interest_minor=applied.split.total("interest"),
        fee_minor=applied.split.total("fee"),
        penalty_minor=applied.split.total("penalty"),
        interest_from_receivable_minor=from_receivable,
        source=source,
        channel=channel,
        savings_transaction=movement,
        entry=entry,
        idempotency_key=idempotency_key,
        memo=memo[:300],
        created_by_id=actor_id(actor),
    )
    _record_with_message(payment, loan.member, _message_context(loan, rows, amount_minor, value_date))
    return payment


_RECORD_SQL = """
WITH movement AS (
    INSERT INTO lending_loantransaction (loan_id, kind, value_date, amount_minor, principal_minor,
        interest_minor, fee_minor, penalty_minor, interest_from_receivable_minor, source, channel,
        savings_transaction_id, entry_id, idempotency_key, reverses_id, memo, created_at, created_by_id)
    VALUES (%(loan_id)s, %(kind)s, %(value_date)s, %(amount)s, %(principal)s, %(interest)s, %(fee)s,
        %(penalty)s, %(from_receivable)s, %(source)s, %(channel)s, %(savings_transaction_id)s,
        %(entry_id)s, %(key)s, NULL, %(memo)s, now(), %(actor_id)s)
    RETURNING id, created_at
), message AS (
    INSERT INTO notifications_outboxmessage (kind, source_ref, member_id, phone, language, context, status,
        attempts, created_at)
    VALUES (%(message_kind)s, %(key)s, %(member_id)s, %(phone)s, %(language)s, %(context)s::jsonb,
        %(message_status)s, 0, now())
    ON CONFLICT (source_ref, kind) DO NOTHING
)
SELECT id, created_at FROM movement
"""


def _record_with_message(payment: LoanTransaction, member: Member, context: dict[str, Any]) -> None:
    """Insert ``payment`` and the member's "instalment received" SMS row in one round trip."""
    from psycopg.types.json import Jsonb

    parameters: dict[str, Any] = {
        "loan_id": payment.loan_id,
        "kind": payment.kind,
        "value_date": payment.value_date,
        "amount": payment.amount_minor,
        "principal": payment.principal_minor,
        "interest": payment.interest_minor,
        "fee": payment.fee_minor,
        "penalty": payment.penalty_minor,
        "from_receivable": payment.interest_from_receivable_minor,
        "source": payment.source,
        "channel": payment.channel,
        "savings_transaction_id": payment.savings_transaction_id,
        "entry_id": payment.entry_id,
        "key": payment.idempotency_key,
        "memo": payment.memo,
        "actor_id": payment.created_by_id,
        "message_kind": MessageKind.INSTALMENT_RECEIVED.value,
        "member_id": member.pk,
        "phone": member.phone,
        "language": member.message_language,
        "context": Jsonb(context),
        "message_status": outbox_initial_status(phone=member.phone, sms_opt_out=member.sms_opt_out),
    }
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_SQL, parameters)
        payment.pk, payment.created_at = cursor.fetchone()
    payment._state.adding = False
    outbox_relay_kick_on_commit()  # the statement wrote the member's SMS to the outbox


class _NotTheCommonCase(Exception):
    """Raised inside the two-statement repayment to roll it back and go step by step."""


_INSTALLMENT_DATES = ("period_start", "due_date", "paid_on")


def _open_installment(data: dict[str, Any]) -> SimpleNamespace:
    """An instalment row from ``to_jsonb``, as a plain object with the model's attribute names."""
    row = SimpleNamespace(**data)
    for name in _INSTALLMENT_DATES:
        value = getattr(row, name)
        if value is not None:
            setattr(row, name, dt.date.fromisoformat(value))
    row.pk = row.id
    row._loaded_state = _state(cast(LoanInstallment, row))
    return row


def _from_json(model: type[Any], data: dict[str, Any]) -> Any:
    """A model instance from a row as PostgreSQL's ``to_jsonb`` gives it (dates as ISO strings)."""
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        value = data.get(field.attname)
        if value is not None and field.get_internal_type() == "DateField":
            value = dt.date.fromisoformat(value)
        values[field.attname] = value
    instance = model(**values)
    instance._state.adding = False
    return instance


_REPAYMENT_CONTEXT_SQL = (
    "SELECT lending_repayment_context(%(loan_id)s::bigint, %(key)s::text, %(value_date)s::date,"
    " %(day_check)s::boolean, %(lock_prefix)s::text, %(cash_code)s::text, %(amount)s::bigint)"
)

_REPAY_GUARD = """UPDATE lending_loan SET principal_outstanding_minor = %(outstanding)s::bigint,
    interest_receivable_minor = %(receivable)s::bigint
    WHERE id = %(loan_id)s::bigint AND status = 'active' RETURNING id"""
_REPAY_AFTER = """installments AS (
    UPDATE lending_loaninstallment AS i SET principal_paid_minor = v.principal_paid_minor,
        interest_paid_minor = v.interest_paid_minor, fee_paid_minor = v.fee_paid_minor,
        penalty_paid_minor = v.penalty_paid_minor, paid_on = v.paid_on
    FROM unnest(%(row_ids)s::bigint[], %(principal_paid)s::bigint[], %(interest_paid)s::bigint[],
        %(fee_paid)s::bigint[], %(penalty_paid)s::bigint[], %(paid_on)s::date[])
        AS v(id, principal_paid_minor, interest_paid_minor, fee_paid_minor, penalty_paid_minor, paid_on)
    WHERE i.id = v.id AND i.loan_id = %(loan_id)s::bigint
), movement AS (
    INSERT INTO lending_loantransaction (loan_id, kind, value_date, amount_minor, principal_minor,
        interest_minor, fee_minor, penalty_minor, interest_from_receivable_minor, source, channel,
        savings_transaction_id, entry_id, idempotency_key, reverses_id, memo, created_at, created_by_id)
    SELECT %(loan_id)s::bigint, 'repayment', %(value_date)s::date, %(amount)s::bigint, %(principal)s::bigint,
        %(interest)s::bigint, %(fee)s::bigint, %(penalty)s::bigint, %(from_receivable)s::bigint, 'cash',
        %(channel)s::text, NULL, entry.id, %(key)s::text, NULL, %(payment_memo)s::text, now(),
        %(actor_id)s::bigint
    FROM entry
    RETURNING id, created_at
), message AS (
    INSERT INTO notifications_outboxmessage (kind, source_ref, member_id, phone, language, context, status,
        attempts, created_at)
    SELECT %(message_kind)s::text, %(key)s::text, l.member_id, %(phone)s::text, %(language)s::text,
        %(context)s::jsonb,
        -- The member's opt-out is read here, by the member's key, in the same statement.
        CASE WHEN m.sms_opt_out THEN %(opted_out)s::text ELSE %(message_status)s::text END, 0, now()
    FROM lending_loan l JOIN members_member m ON m.id = l.member_id, movement
    WHERE l.id = %(loan_id)s::bigint
    ON CONFLICT (source_ref, kind) DO NOTHING
)"""
_REPAY_ONE_SQL = posting_statement(
    guard=_REPAY_GUARD,
    after=_REPAY_AFTER,
    columns="(SELECT id FROM movement), (SELECT created_at FROM movement)",
)


def _repay_in_two_statements(
    *,
    actor: Any | None,
    loan_id: int,
    amount_minor: int,
    value_date: dt.date,
    idempotency_key: str,
    cash_account: str,
    channel: str,
    memo: str,
) -> LoanTransaction:
    """An instalment paid in cash (on, after or before its date): the reads after the loan's lock in one
    statement (``lending_repayment_context``, migrations 0005 and 0007: only the instalments the
    payment reaches, with totals over the rest), the split in Python, then the entry,
    the instalments, the loan, the repayment row and the SMS in one statement (``posting_statement``).

    Raises ``_NotTheCommonCase`` (the caller rolls back and goes step by step) for a key seen
    before, a closed day or period, an inactive account, a loan not active, a prepayment that
    recasts the schedule, a settlement, or a payment that closes the loan.
    """
    from psycopg.types.json import Jsonb

    from core_banking.accounting.day_rules import day_close_applies, day_lock_prefix

    with connection.cursor() as cursor:
        cursor.execute(
            _REPAYMENT_CONTEXT_SQL,
            {
                "loan_id": loan_id,
                "key": idempotency_key,
                "value_date": value_date,
                "day_check": day_close_applies(channel),
                # The branch's day lock, named as ``day_lock_key`` names it; the function adds the id.
                "lock_prefix": day_lock_prefix(),
                "cash_code": cash_account or "",
                "amount": amount_minor,
            },
        )
        (answer,) = cursor.fetchone()
    # Django reads jsonb as text on its own connections; the document is parsed here.
    context = json.loads(answer) if isinstance(answer, str) else answer
    if context is None or context["replay"] or not context["day_open"]:
        raise _NotTheCommonCase
    closed_through = context["closed_through"]
    if closed_through is not None and value_date <= dt.date.fromisoformat(closed_through):
        raise _NotTheCommonCase
    loan = _from_json(Loan, context["loan"])
    if loan.status != LoanStatus.ACTIVE or value_date < loan.disbursed_on:
        raise _NotTheCommonCase
    loan_data = context["loan"]
    branch = Branch(id=loan_data["branch_id"], code=context["branch_code"])
    cash_code = cash_account or cash_account_code(branch.code)
    if cash_account and not context["cash_active"]:
        raise _NotTheCommonCase
    product_data = context["product"]
    product = LoanProduct(
        allocation_order=product_data["allocation_order"],
        prepayment_strategy=product_data["prepayment_strategy"],
        accrues_interest=product_data["accrues_interest"],
        receivable_account=Account(code=product_data["receivable"]),
        interest_income_account=Account(code=product_data["interest_income"]),
        fee_income_account=Account(code=product_data["fee_income"]),
        penalty_income_account=Account(code=product_data["penalty_income"]),
    )
    loan.product = product
    # The unpaid instalments the payment reaches (all those due, then oldest first), and the first
    # due on or after the day: plain objects with the model's attribute names (the split reads and
    # writes attributes only), cheaper than model instances on the hot path.
    rows = cast(list[LoanInstallment], [_open_installment(row) for row in context["rows"] or []])
    unpaid = context["open"]
    due_total = sum(_owed(row).total for row in rows if row.due_date <= value_date)
    floor = unpaid["floor"]
    if amount_minor >= floor or (
        amount_minor > due_total and product.prepayment_strategy != PrepaymentStrategy.ADVANCE
    ):
        raise _NotTheCommonCase  # a payoff to work out, or a recast: step by step, with every row
    applied = _pay(loan, product, rows, amount_minor, value_date, floor=floor)
    if (
        applied.settled
        or applied.recast
        or applied.split.unapplied
        or all(_owed(row).total == 0 for row in rows)
    ):
        # Settling, recasting and closing: step by step. (Below the floor the amount is applied in
        # full and leaves an unpaid instalment among those returned; checked all the same.)
        raise _NotTheCommonCase
    split = applied.split
    from_receivable = _receivable_share(loan, split, closes=False)
    changed = [row for row in rows if getattr(row, "_loaded_state", None) != _state(row)]
    lines = [
        LineSpec(cash_code, debit_minor=amount_minor),
        *_income_lines(product, split, from_receivable=from_receivable),
    ]
    parameters = posting_parameters(
        idempotency_key=idempotency_key,
        value_date=value_date,
        branch=branch,
        lines=lines,
        memo=memo or loan.number,
        actor=actor,
    )
    loan.principal_outstanding_minor -= split.total("principal")
    loan.interest_receivable_minor -= from_receivable
    member = context["member"]
    message_context = _message_context(
        loan, rows, amount_minor, value_date, outstanding_minor=unpaid["owed"] - split.applied
    )
    parameters |= {
        "loan_id": loan.pk,
        "outstanding": loan.principal_outstanding_minor,
        "receivable": loan.interest_receivable_minor,
        "row_ids": [row.pk for row in changed],
        "principal_paid": [row.principal_paid_minor for row in changed],
        "interest_paid": [row.interest_paid_minor for row in changed],
        "fee_paid": [row.fee_paid_minor for row in changed],
        "penalty_paid": [row.penalty_paid_minor for row in changed],
        "paid_on": [row.paid_on for row in changed],
        "amount": amount_minor,
        "principal": split.total("principal"),
        "interest": split.total("interest"),
        "fee": split.total("fee"),
        "penalty": split.total("penalty"),
        "from_receivable": from_receivable,
        "channel": channel,
        "payment_memo": memo[:300],
        "message_kind": MessageKind.INSTALMENT_RECEIVED.value,
        "phone": member["phone"],
        "language": member["language"],
        "context": Jsonb(message_context),
        # Nothing is sent to a member without a number; staff see such rows as not sendable.
        "message_status": OutboxStatus.PENDING if member["phone"] else OutboxStatus.NO_RECIPIENT,
        "opted_out": OutboxStatus.OPTED_OUT.value,
    }
    row = prepared_fetchone(_REPAY_ONE_SQL, parameters)
    outbox_relay_kick_on_commit()  # the statement wrote the member's SMS to the outbox
    if row is None or row[5] is None:
        raise _NotTheCommonCase
    payment = LoanTransaction(
        id=row[5],
        loan=loan,
        kind=LoanTransactionKind.REPAYMENT,
        value_date=value_date,
        amount_minor=amount_minor,
        principal_minor=split.total("principal"),
        interest_minor=split.total("interest"),
        fee_minor=split.total("fee"),
        penalty_minor=split.total("penalty"),
        interest_from_receivable_minor=from_receivable,
        source=RepaymentSource.CASH,
        channel=channel,
        entry=posted_entry(row, parameters, branch=branch),
        idempotency_key=idempotency_key,
        memo=memo[:300],
        created_at=row[6],
        created_by_id=parameters["actor_id"],
    )
    payment._state.adding = False
    return payment


# --- Reversal ----------------------------------------------------------------------------------


def _fresh_rows(loan: Loan, rows: list[LoanInstallment]) -> list[LoanInstallment]:
    """The loan's instalments as first scheduled, with the fees and penalties charged since."""
    schedule = loan_terms.schedule_for(loan.terms_json)
    fees = {row.number: row.fee_minor for row in rows}
    penalties = {row.number: row.penalty_minor for row in rows}
    return [
        LoanInstallment(
            loan_id=loan.pk,
            number=item.number,
            period_start=item.period_start,
            due_date=item.due_date,
            principal_minor=item.principal_minor,
            interest_minor=item.interest_minor,
            earned_interest_minor=item.earned_interest_minor,
            fee_minor=fees.get(item.number, 0),
            penalty_minor=penalties.get(item.number, 0),
        )
        for item in schedule.installments
    ]


def _cash_line_of(payment: LoanTransaction) -> str:
    """The cash account a cash repayment went into (so its re-posting lands in the same till)."""
    lines = JournalLine.objects.filter(entry_id=payment.entry_id, debit_minor=payment.amount_minor)
    return lines.values_list("account__code", flat=True).first() or ""


def _reapply(
    loan: Loan, *, standing: list[LoanTransaction], later: list[LoanTransaction], key: str, actor: Any | None
) -> list[LoanInstallment]:
    """Rebuild the instalments from the first schedule with the repayments that still stand, and
    post the later ones again with the split they get now."""
    now = timezone.now()
    rows = _fresh_rows(loan, _rows(loan))
    for payment in standing:
        _pay(loan, loan.product, rows, payment.amount_minor, payment.value_date)
    # What the standing repayments left of the accrued interest receivable (accruing products).
    loan.interest_receivable_minor = loan.interest_accrued_minor - sum(
        payment.interest_from_receivable_minor for payment in standing
    )
    reapplied = []
    for payment in later:
        applied = _pay(loan, loan.product, rows, payment.amount_minor, payment.value_date)
        from_receivable = _receivable_share(
            loan, applied.split, closes=all(_owed(row).total == 0 for row in rows)
        )
        loan.interest_receivable_minor -= from_receivable
        entry, _movement = _post_payment(
            loan=loan,
            split=applied.split,
            amount=payment.amount_minor,
            value_date=payment.value_date,
            key=f"{payment.idempotency_key}:again:{key}",
            source=payment.source,
            savings_account_id=None,
            cash_account=_cash_line_of(payment),
            actor=actor,
            channel=payment.channel,
            memo=payment.memo,
            from_receivable=from_receivable,
        )
        reapplied.append((payment, applied, entry, from_receivable))
    LoanInstallment.objects.filter(loan_id=loan.pk).delete()
    LoanInstallment.objects.bulk_create(rows)
    for payment, applied, entry, from_receivable in reapplied:
        LoanTransaction.objects.create(
            loan=loan,
            kind=LoanTransactionKind.REPAYMENT,
            value_date=payment.value_date,
            amount_minor=payment.amount_minor,
            principal_minor=applied.split.total("principal"),
            interest_minor=applied.split.total("interest"),
            fee_minor=applied.split.total("fee"),
            penalty_minor=applied.split.total("penalty"),
            interest_from_receivable_minor=from_receivable,
            source=payment.source,
            channel=payment.channel,
            entry=entry,
            idempotency_key=f"{payment.idempotency_key}:again:{key}",
            memo=payment.memo,
            created_at=now,
            created_by_id=actor_id(actor),
        )
    return rows


@transaction.atomic
def loan_repayment_reverse(
    *, actor: Any | None, transaction_id: int, reason: str, idempotency_key: str, value_date: dt.date
) -> LoanTransaction:
    """Undo a repayment (a bounced cheque, a wrong loan): its entry is reversed, later ones re-applied.

    The repayments after it are reversed too and posted again with the split they get without
    it, so the ledger and the instalments agree; a closed loan opens again. Repayments taken
    from savings are corrected on the savings side (``savings_correct``), not here.
    """
    if not reason.strip():
        raise invalid("reason", "Say why.")
    earlier = LoanTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        if earlier.kind == LoanTransactionKind.REVERSAL and earlier.reverses_id == transaction_id:
            return earlier
        raise BusinessRuleViolation(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was already used for a different posting.",
            fields={"idempotency_key": ["Used by another posting."]},
        )
    target = LoanTransaction.objects.filter(pk=transaction_id).first()
    if target is None:
        raise not_found("loan transaction", "transaction", transaction_id)
    loan = _lock_loan(target.loan_id)
    payments = list(
        LoanTransaction.objects.filter(
            loan_id=loan.pk, kind=LoanTransactionKind.REPAYMENT, reversed_by__isnull=True
        ).order_by("value_date", "id")
    )
    if target not in payments or target.source == RepaymentSource.REFINANCE:
        raise BusinessRuleViolation(
            ErrorCode.LOAN_TRANSACTION_NOT_REVERSIBLE,
            "Only a repayment that stands can be reversed.",
            fields={
                "transaction": [f"{target.kind}, {'reversed' if target not in payments else target.source}."]
            },
        )
    later = [p for p in payments if (p.value_date, p.id) > (target.value_date, target.id)]
    if any(p.source != RepaymentSource.CASH for p in [target, *later]):
        raise BusinessRuleViolation(
            ErrorCode.LOAN_TRANSACTION_NOT_REVERSIBLE,
            "A repayment from savings is undone by correcting the savings transaction.",
            fields={"transaction": ["Paid from savings."]},
        )
    if loan.status == LoanStatus.WRITTEN_OFF:
        raise _not_active(loan)
    counter_day_open_require(branch=loan.branch, day=value_date, channel=Channel.OFFICE)
    from core_banking.ledger.services import journal_correct

    now = timezone.now()
    reversal_row = None
    for payment in [target, *later]:
        assert payment.entry is not None
        correction = journal_correct(
            original=payment.entry,
            reason=reason,
            idempotency_key=f"{idempotency_key}:{payment.pk}",
            value_date=value_date,
            actor=actor,
        )
        row = LoanTransaction.objects.create(
            loan=loan,
            kind=LoanTransactionKind.REVERSAL,
            value_date=value_date,
            amount_minor=payment.amount_minor,
            principal_minor=payment.principal_minor,
            interest_minor=payment.interest_minor,
            fee_minor=payment.fee_minor,
            penalty_minor=payment.penalty_minor,
            interest_from_receivable_minor=payment.interest_from_receivable_minor,
            source=payment.source,
            channel=payment.channel,
            entry=correction.reversal,
            idempotency_key=idempotency_key if payment.pk == target.pk else f"{idempotency_key}:{payment.pk}",
            reverses=payment,
            memo=reason.strip()[:300],
            created_at=now,
            created_by_id=actor_id(actor),
        )
        if payment.pk == target.pk:
            reversal_row = row
    standing = [p for p in payments if p.pk != target.pk and p not in later]
    rows = _reapply(loan, standing=standing, later=later, key=idempotency_key, actor=actor)
    loan.principal_outstanding_minor = sum(row.principal_minor - row.principal_paid_minor for row in rows)
    if all(_owed(row).total == 0 for row in rows):
        loan.status, loan.closed_on = LoanStatus.CLOSED, loan.closed_on
    else:
        loan.status, loan.closed_on = LoanStatus.ACTIVE, None
    loan.save(
        update_fields=["principal_outstanding_minor", "interest_receivable_minor", "status", "closed_on"]
    )
    audit_record(
        actor=actor,
        action="lending.repayment.reverse",
        target=loan,
        changes={"transaction": target.pk, "reason": reason.strip(), "reapplied": [p.pk for p in later]},
    )
    assert reversal_row is not None
    return reversal_row
