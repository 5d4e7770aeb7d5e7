"""The savings interest job: periodic posting (with accrual), deposit maturity and premature closure.

The arithmetic is the pure engine's (:mod:`core_banking.savings.interest`); this module loads what it
needs from the database, books the result through the ledger and keeps a record of it.

What earns how
--------------
* Compulsory and voluntary savings earn with the product's method (daily balance, monthly minimum
  balance, month-end balance), day count, rounding and rate schedule, over calendar-aligned posting
  periods (:func:`~core_banking.savings.interest.period_containing`). The balance at the start of
  the period and the movements inside it come from the account's ``SavingsTransaction`` rows by value
  date. An account earns from the day after ``interest_posted_through`` (for an account never posted,
  the period's first day), its opening day or the product's first rate, whichever is latest: a
  posting period that was never run (the job was stopped for a whole month) is caught up by the next
  posting, not lost.
* Fixed deposits (FDR) and recurring deposits (DPS) do not take part in periodic posting: they earn
  once, at maturity (:func:`savings_maturity_process`) or on premature closure
  (:func:`savings_deposit_close_early`), at the contract rate: the product's rate in force on the day
  the account was opened. Interest is credited to the deposit every *posting period* of the product
  (monthly = every month, quarterly = every 3 months, ... yearly = every 12 months): that is the
  engine's ``compound_every_months``. A 12-month FDR of a yearly-posting product earns simple interest.
* A DPS whose instalments were all paid on time (instalment k before the k-th monthly anniversary of
  the opening day, nothing withdrawn, nothing paid beyond the contract) earns the rate-sheet figure of
  :func:`~core_banking.savings.interest.recurring_deposit_maturity`. Any other DPS (missed, late or
  extra instalments) earns daily-balance interest over its real movements at the contract rate, with
  the product's day count and rounding: what the member actually kept in the account.
* Premature closure pays the completed months only (``months_completed``) at the contract rate
  reduced by the product's ``premature_rate_reduction``, with the same two rules, then pays the whole
  balance out in cash (the paying staff member's till, or the branch's cash) and closes the account.
  :func:`savings_deposit_close_early_preview` computes the same figures without writing.

Accrual
-------
A product whose accrual period is shorter than its posting period (monthly accrual, quarterly
posting) accrues at the end of each accrual period that is not a posting date: the interest from the
posting period's first day to the accrual date, rounded once, less what the account has accrued
already, is booked Dr interest expense (5100) / Cr interest payable (2200). Computing the cumulative
figure each time keeps rounding from drifting. At the posting date the account is credited with the
whole period's interest: Dr 2200 for what was accrued, Dr 5100 for the rest, Cr the product's control
account. The member's balance moves only at posting. ``InterestPosting.payable_change_minor`` records
each row's effect on 2200, so an account's rows always sum to what it still has accrued. An account
that closes between accrual and posting earns nothing for the broken period: at the posting date its
accrual is reversed (Dr 2200 / Cr 5100). When the accrual period is not shorter than the posting
period, accrual equals posting and nothing goes through 2200.

Interest carried in from the old books
--------------------------------------
An account brought in by a data import may have accrued interest in the cooperative's old books that
was not yet credited on the cut-over date. The import writes it as an ``OPENING`` row on the
cut-over date (``interest_posted_through``), tied to the opening entry that credits 2200 with it.
The account then earns here from the day after the cut-over, so the next posting credits what the
period earned *plus* what was carried in; 2200 releases both, and interest expense takes only what
was earned here and not accrued before. Rows dated on or before ``interest_posted_through`` that
still sum to something are exactly that carried-in interest (an ordinary posting releases all its
period's accruals), which is how :func:`_carried_in` finds it. Term deposits compute their interest
over the whole term from the opening day, the old books' share included: maturity and premature
closure release whatever the account has accrued (Dr 2200) and expense the difference, which is a
credit to expense when a premature closure pays less than the old books had accrued. An account
that closes before its first posting forfeits what was carried in, like any broken period's accrual.

Running it once
---------------
Every booking is one row of ``InterestPosting``, unique per account and date (posting period end,
accrual date, maturity date, closure date), written in the same transaction as the ledger entry, the
balance and the SMS, under the account's row lock; the ledger key is derived from the account and the
date too. Running a period again finds the row and does nothing, however many workers race. Interest
that rounds to zero writes the row (its breakdown shows why) but no entry, no transaction and no SMS.
Each account is booked in a transaction of its own: one account that cannot be booked (a closed
ledger period, a product without a rate) is reported and the others go on; a later run retries it.
Movements entered later with a value date inside a period already posted do not change that posting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from django.db import connection, transaction
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone, translation

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import JournalEntry
from core_banking.ledger.services import LineSpec, actor_id, journal_post_result
from core_banking.savings import interest as engine
from core_banking.savings.models import (
    AccountStatus,
    Channel,
    InterestPosting,
    InterestPostingKind,
    SavingsAccount,
    SavingsKind,
    SavingsProduct,
    SavingsRate,
    SavingsTransaction,
    TransactionKind,
)
from core_banking.savings.selectors import interest_accrued_minor
from core_banking.savings.services import (
    _lock_for_withdrawal,
    _Locked,
    _not_found,
    _record,
    _take,
)
from notifications.models import MessageKind
from tenants.db import workspace_language

INTEREST_PAYABLE_CODE = "2200"
PERIODIC_KINDS = (SavingsKind.COMPULSORY, SavingsKind.VOLUNTARY)
TERM_KINDS = (SavingsKind.FIXED, SavingsKind.RECURRING)
_MONTHS_IN_PERIOD = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}
_ONE_DAY = dt.timedelta(days=1)


# --- Results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountBooking:
    """What one account got: ``credited_minor`` to its balance, ``payable_change_minor`` to 2200."""

    account_id: int
    number: str
    kind: str
    period_start: dt.date
    period_end: dt.date
    interest_minor: int
    credited_minor: int
    payable_change_minor: int


@dataclass(frozen=True)
class AccountFailure:
    account_id: int
    number: str
    code: str
    message: str


@dataclass
class InterestJobSummary:
    """One run of the job for one date: what was booked, what had been booked before, what failed."""

    on: dt.date
    booked: list[AccountBooking] = field(default_factory=list)
    already_done: int = 0
    failures: list[AccountFailure] = field(default_factory=list)

    @property
    def credited(self) -> list[AccountBooking]:
        return [booking for booking in self.booked if booking.credited_minor > 0]

    @property
    def credited_minor(self) -> int:
        return sum(booking.credited_minor for booking in self.booked)

    @property
    def accrued_minor(self) -> int:
        return sum(
            booking.payable_change_minor
            for booking in self.booked
            if booking.kind == InterestPostingKind.ACCRUAL
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain values for a task result or a log line."""
        return {
            "on": self.on.isoformat(),
            "booked": len(self.booked),
            "credited": len(self.credited),
            "credited_minor": self.credited_minor,
            "accrued_minor": self.accrued_minor,
            "already_done": self.already_done,
            "failures": [
                {"account": failure.number, "code": failure.code, "message": failure.message}
                for failure in self.failures
            ],
        }


@dataclass(frozen=True)
class DailyRun:
    """What the daily task did at one business date."""

    business_date: dt.date
    interest: InterestJobSummary
    maturities: InterestJobSummary

    def as_dict(self) -> dict[str, Any]:
        return {
            "business_date": self.business_date.isoformat(),
            "interest": self.interest.as_dict(),
            "maturities": self.maturities.as_dict(),
        }


@dataclass(frozen=True)
class DepositClosure:
    """A deposit closed before maturity: the interest credited and the cash paid out.

    ``principal_minor`` is the balance before the interest; ``penalty_minor`` the interest the
    contract rate would have paid for the same months, less what the reduced rate paid.
    """

    account_id: int
    principal_minor: int
    interest_minor: int
    penalty_minor: int
    paid_out_minor: int
    interest_transaction: SavingsTransaction | None
    payout_transaction: SavingsTransaction | None
    posting: InterestPosting


@dataclass(frozen=True)
class DepositClosurePreview:
    """What closing a deposit before maturity on ``on`` would credit and pay out; nothing is written."""

    account_id: int
    on: dt.date
    principal_minor: int
    interest_minor: int
    penalty_minor: int
    paid_out_minor: int
    months_completed: int
    contract_rate: Decimal
    applied_rate: Decimal


@dataclass(frozen=True)
class _Computed:
    interest: int
    calculation: str
    period_start: dt.date
    breakdown: dict[str, Any]


# --- Small helpers -------------------------------------------------------------------------------


def _currency_exponent() -> int:
    tenant: Any = getattr(connection, "tenant", None)
    return int(get_currency_precision(str(tenant.currency)))


def _months(period: str) -> int:
    return _MONTHS_IN_PERIOD[period]


def last_month_end_before(day: dt.date) -> dt.date:
    """The last day of the month before ``day``'s month: the latest posting date that has passed."""
    return day.replace(day=1) - _ONE_DAY


def is_posting_date(product: SavingsProduct, day: dt.date) -> bool:
    return engine.period_containing(day, engine.PeriodFrequency(product.posting_period)).last_day == day


def is_accrual_date(product: SavingsProduct, day: dt.date) -> bool:
    """An accrual period ends on ``day``, and it is not a posting date (posting settles it then)."""
    if _months(product.accrual_period) >= _months(product.posting_period) or is_posting_date(product, day):
        return False
    return engine.period_containing(day, engine.PeriodFrequency(product.accrual_period)).last_day == day


def _rate_changes(product: SavingsProduct) -> list[engine.RateChange]:
    return [
        engine.RateChange(effective=rate.effective_from, annual_rate_percent=rate.annual_rate)
        for rate in SavingsRate.objects.filter(product=product).order_by("effective_from")
    ]


def _contract_rate(account: SavingsAccount) -> Decimal:
    """The deposit's rate: the product's rate in force on the day the account was opened."""
    rate = (
        SavingsRate.objects.filter(product_id=account.product_id, effective_from__lte=account.opened_on)
        .order_by("-effective_from")
        .first()
    )
    if rate is None:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            f"{account.product.name} had no rate on {account.opened_on.isoformat()}, the opening day.",
            fields={"product": ["No rate in force on the opening day."]},
        )
    return rate.annual_rate


def _movements(account_id: int) -> list[engine.Movement]:
    rows = SavingsTransaction.objects.filter(account_id=account_id).order_by("value_date", "id")
    return [
        engine.Movement(value_date, amount)
        for value_date, amount in rows.values_list("value_date", "amount_minor")
    ]


def _within(
    movements: Sequence[engine.Movement], first_day: dt.date, last_day: dt.date
) -> tuple[int, list[engine.Movement]]:
    """The balance at the start of ``first_day`` and the movements up to ``last_day``."""
    opening = sum(movement.amount for movement in movements if movement.value_date < first_day)
    inside = [movement for movement in movements if first_day <= movement.value_date <= last_day]
    return opening, inside


def _entry_memo(kind: InterestPostingKind, number: str, first_day: dt.date, last_day: dt.date) -> str:
    with translation.override(workspace_language()):
        label = str(kind.label)
    return f"{label} {number} {first_day.isoformat()}–{last_day.isoformat()}"[:300]


def _interest_lines(
    *, expense_code: str, control_code: str, credit: int, payable_change: int
) -> list[LineSpec]:
    """Cr the control account ``credit``; 2200 moves by ``payable_change``; interest expense takes the rest.

    Signed debits: expense ``credit + payable_change``, payable ``-payable_change``, control
    ``-credit``; they sum to zero. Debit lines come first; zero lines are left out.
    """
    signed = [
        (expense_code, credit + payable_change),
        (INTEREST_PAYABLE_CODE, -payable_change),
        (control_code, -credit),
    ]
    debit_lines = [LineSpec(code, debit_minor=amount) for code, amount in signed if amount > 0]
    credit_lines = [LineSpec(code, credit_minor=-amount) for code, amount in signed if amount < 0]
    return debit_lines + credit_lines


def _book(
    *,
    account: SavingsAccount,
    locked: _Locked,
    credit: int,
    payable_change: int,
    value_date: dt.date,
    key: str,
    memo: str,
    transaction_memo: str,
    actor: Any | None,
) -> tuple[JournalEntry | None, SavingsTransaction | None]:
    """Inside the caller's transaction, with the account row locked: the entry, balance and SMS."""
    lines = _interest_lines(
        expense_code=account.product.interest_expense_account.code,
        control_code=locked.control_code,
        credit=credit,
        payable_change=payable_change,
    )
    if not lines:
        return None, None
    posting = journal_post_result(
        idempotency_key=key,
        value_date=value_date,
        branch=account.branch,
        memo=memo,
        lines=lines,
        actor=actor,
    )
    if posting.replayed:
        # The interest row is written with its entry; an entry without one is not ours to reuse.
        raise BusinessRuleViolation(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            f"Ledger key {key} is already used by entry {posting.entry.pk}.",
            fields={"idempotency_key": [key]},
        )
    if credit <= 0:
        return posting.entry, None
    balance_after = locked.balance_minor + credit
    SavingsAccount.objects.filter(pk=account.pk).update(balance_minor=balance_after)
    movement = _record(
        locked=locked,
        kind=TransactionKind.INTEREST,
        signed_amount=credit,
        balance_after=balance_after,
        value_date=value_date,
        entry_id=posting.entry.pk,
        key=key,
        channel=Channel.SYSTEM,
        memo=transaction_memo,
        actor=actor,
        message_kind=MessageKind.SAVINGS_INTEREST,
    )
    return posting.entry, movement


def _save_posting(
    *,
    account: SavingsAccount,
    kind: InterestPostingKind,
    computed: _Computed,
    period_end: dt.date,
    credited: int,
    payable_change: int,
    entry: JournalEntry | None,
    movement: SavingsTransaction | None,
    actor: Any | None,
) -> InterestPosting:
    posting = InterestPosting.objects.create(
        account=account,
        kind=kind,
        period_start=computed.period_start,
        period_end=period_end,
        interest_minor=computed.interest,
        credited_minor=credited,
        payable_change_minor=payable_change,
        calculation=computed.calculation,
        breakdown_json=computed.breakdown,
        entry=entry,
        savings_transaction=movement,
        created_at=timezone.now(),
        created_by_id=actor_id(actor),
    )
    audit_record(
        actor=actor,
        action=f"savings.interest.{kind.value}",
        target=account,
        changes={
            "interest_posting": posting.pk,
            "period": [computed.period_start.isoformat(), period_end.isoformat()],
            "interest_minor": computed.interest,
            "credited_minor": credited,
            "payable_change_minor": payable_change,
            "entry": entry.pk if entry is not None else None,
        },
    )
    return posting


def _booking(posting: InterestPosting, number: str) -> AccountBooking:
    return AccountBooking(
        account_id=posting.account_id,
        number=number,
        kind=posting.kind,
        period_start=posting.period_start,
        period_end=posting.period_end,
        interest_minor=posting.interest_minor,
        credited_minor=posting.credited_minor,
        payable_change_minor=posting.payable_change_minor,
    )


def _run_each(
    summary: InterestJobSummary,
    account_ids: Sequence[int],
    book_one: Callable[[int], AccountBooking | None],
) -> InterestJobSummary:
    """Book each account in a transaction of its own; a refusal is reported and the rest go on."""
    numbers = dict(SavingsAccount.objects.filter(pk__in=account_ids).values_list("pk", "number"))
    for account_id in account_ids:
        try:
            booking = book_one(account_id)
        except (BusinessRuleViolation, engine.InterestInputError) as error:
            code = error.code if isinstance(error, BusinessRuleViolation) else ErrorCode.VALIDATION_ERROR
            message = error.message if isinstance(error, BusinessRuleViolation) else str(error)
            summary.failures.append(
                AccountFailure(account_id, numbers.get(account_id, ""), str(code), message)
            )
            continue
        if booking is None:
            summary.already_done += 1
        else:
            summary.booked.append(booking)
    return summary


# --- Periodic interest ---------------------------------------------------------------------------


def _savings_computation(
    account: SavingsAccount, product: SavingsProduct, period: engine.Period, exponent: int
) -> _Computed:
    rates = _rate_changes(product)
    # An account posted before earns from the day after; so a period no run posted (the job did not
    # run for a whole month) is caught up by the next posting instead of being lost.
    posted_through = account.interest_posted_through
    starts = [period.first_day if posted_through is None else posted_through + _ONE_DAY, account.opened_on]
    if rates:
        starts.append(rates[0].effective)
    start = max(starts)
    if not rates or start > period.last_day:
        reason = "no rate in force" if not rates else "nothing to earn in the period"
        return _Computed(0, product.interest_method, min(start, period.last_day), {"reason": reason})
    opening, movements = _within(_movements(account.pk), start, period.last_day)
    minimum = product.minimum_balance_for_interest_minor
    result = engine.savings_interest(
        opening_balance=opening,
        movements=movements,
        period=engine.Period(start, period.last_day),
        terms=engine.SavingsInterestTerms(
            method=engine.InterestMethod(product.interest_method),
            day_count=engine.DayCount(product.day_count),
            rates=rates,
            currency_exponent=exponent,
            rounding=engine.Rounding(product.rounding),
            minimum_balance=minimum if minimum > 0 else None,
        ),
    )
    return _Computed(
        interest=result.interest,
        calculation=product.interest_method,
        period_start=start,
        breakdown={
            "method": product.interest_method,
            "day_count": product.day_count,
            "rounding": product.rounding,
            "currency_exponent": exponent,
            "opening_balance_minor": opening,
            "minimum_balance_minor": minimum,
            "unrounded": str(result.unrounded),
            "interest_minor": result.interest,
            "segments": result.breakdown_json(),
        },
    )


def _carried_in(account: SavingsAccount) -> int:
    """Interest accrued before the account earns here (the old books' share, on the cut-over date)."""
    if account.interest_posted_through is None:
        return 0
    rows = InterestPosting.objects.filter(
        account_id=account.pk, period_end__lte=account.interest_posted_through
    )
    return int(rows.aggregate(total=Sum("payable_change_minor"))["total"] or 0)


def _periodic_key(kind: InterestPostingKind, account_id: int, period_end: dt.date) -> str:
    return f"savings-{kind.value}:{account_id}:{period_end.isoformat()}"


def _book_period(
    *, account_id: int, period_end: dt.date, kind: InterestPostingKind, exponent: int, actor: Any | None
) -> AccountBooking | None:
    """Accrue (``ACCRUAL``) or post (``POSTING``) one account's interest up to ``period_end``.

    Both run from the first day of the posting period that contains ``period_end``. None when the
    account has a booking for that date already.
    """
    with transaction.atomic():
        account, locked = _lock_for_withdrawal(account_id)
        if InterestPosting.objects.filter(account_id=account_id, period_end=period_end).exists():
            return None
        product = account.product
        posting_period = engine.period_containing(period_end, engine.PeriodFrequency(product.posting_period))
        period = engine.Period(posting_period.first_day, period_end)
        accrued, carried = interest_accrued_minor(account_id), _carried_in(account)
        if locked.status == AccountStatus.ACTIVE:
            computed = _savings_computation(account, product, period, exponent)
        else:
            computed = _Computed(
                0, product.interest_method, period.first_day, {"reason": f"account {locked.status}"}
            )
            carried = 0  # a closed account forfeits the broken period, what was carried in too
        if kind is InterestPostingKind.ACCRUAL:
            # The computation runs from the period's start: it replaces the period's own accruals.
            credit, payable_change = 0, computed.interest - (accrued - carried)
        else:
            credit, payable_change = computed.interest + carried, -accrued
        entry, movement = _book(
            account=account,
            locked=locked,
            credit=credit,
            payable_change=payable_change,
            value_date=period.last_day,
            key=_periodic_key(kind, account_id, period.last_day),
            memo=_entry_memo(kind, locked.number, computed.period_start, period.last_day),
            transaction_memo=f"{computed.period_start.isoformat()}–{period.last_day.isoformat()}",
            actor=actor,
        )
        posting = _save_posting(
            account=account,
            kind=kind,
            computed=computed,
            period_end=period.last_day,
            credited=credit,
            payable_change=payable_change,
            entry=entry,
            movement=movement,
            actor=actor,
        )
        if kind is InterestPostingKind.POSTING and locked.status == AccountStatus.ACTIVE:
            SavingsAccount.objects.filter(pk=account_id).update(interest_posted_through=period.last_day)
        return _booking(posting, locked.number)


def _accounts_due(products: Sequence[SavingsProduct], period_end: dt.date, *, posting: bool) -> list[int]:
    """Accounts with nothing booked for ``period_end``: active ones, and (at posting) any still accrued."""
    booked = InterestPosting.objects.filter(account=OuterRef("pk"), period_end=period_end)
    active = Q(status=AccountStatus.ACTIVE, opened_on__lte=period_end) & (
        Q(interest_posted_through__isnull=True) | Q(interest_posted_through__lt=period_end)
    )
    accounts: QuerySet[SavingsAccount] = SavingsAccount.objects.filter(product__in=products)
    if posting:
        accrued = (
            InterestPosting.objects.filter(account=OuterRef("pk"))
            .values("account")
            .annotate(total=Sum("payable_change_minor"))
            .values("total")
        )
        accounts = accounts.annotate(accrued=Subquery(accrued, output_field=IntegerField()))
        active |= Q(accrued__isnull=False) & ~Q(accrued=0)
    return list(accounts.filter(active).exclude(Exists(booked)).order_by("pk").values_list("pk", flat=True))


def savings_interest_post(*, period_end: dt.date, actor: Any | None = None) -> InterestJobSummary:
    """Post (or accrue) the interest of every compulsory and voluntary account due on ``period_end``.

    Products whose posting period ends on ``period_end`` credit their accounts with the period's
    interest; products whose (shorter) accrual period ends there accrue it. Safe to run any number
    of times for the same date: what was booked before is left alone.
    """
    exponent = _currency_exponent()
    products = list(SavingsProduct.objects.filter(kind__in=PERIODIC_KINDS))
    posting_products = [product for product in products if is_posting_date(product, period_end)]
    accrual_products = [product for product in products if is_accrual_date(product, period_end)]
    summary = InterestJobSummary(on=period_end)
    for kind, due_products in (
        (InterestPostingKind.POSTING, posting_products),
        (InterestPostingKind.ACCRUAL, accrual_products),
    ):
        if not due_products:
            continue
        account_ids = _accounts_due(due_products, period_end, posting=kind is InterestPostingKind.POSTING)

        def book_one(account_id: int, kind: InterestPostingKind = kind) -> AccountBooking | None:
            return _book_period(
                account_id=account_id, period_end=period_end, kind=kind, exponent=exponent, actor=actor
            )

        _run_each(summary, account_ids, book_one)
    return summary


# --- Term deposits -------------------------------------------------------------------------------


def _instalments_on_time(
    movements: Sequence[engine.Movement], opened_on: dt.date, instalment: int | None, months: int
) -> bool:
    """Nothing withdrawn, and by each monthly anniversary k at least k instalments paid."""
    if not instalment or instalment <= 0 or any(movement.amount < 0 for movement in movements):
        return False
    for month in range(1, months + 1):
        due_by = engine.add_months(opened_on, month)
        paid = sum(movement.amount for movement in movements if movement.value_date < due_by)
        if paid < month * instalment:
            return False
    return True


def _deposit_breakdown(
    calculation: str, result: engine.DepositInterestResult, contract: _Contract, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "calculation": calculation,
        **extra,
        "contract_rate": str(contract.contract_rate),
        "annual_rate_percent": str(result.annual_rate_percent),
        "term_months": contract.term,
        "months": result.months,
        "compound_every_months": contract.compounding,
        "rounding": contract.rounding.value,
        "deposited_minor": result.deposited,
        "unrounded": str(result.unrounded),
        "interest_minor": result.interest,
        "blocks": [
            {
                "first_month": block.first_month,
                "last_month": block.last_month,
                "opening_balance": str(block.opening_balance),
                "deposited": block.deposited,
                "interest": str(block.interest),
            }
            for block in result.periods
        ],
    }


def _daily_over_movements(
    *,
    account: SavingsAccount,
    movements: Sequence[engine.Movement],
    rate: Decimal,
    last_day: dt.date,
    exponent: int,
    calculation: str,
) -> _Computed:
    """Daily-balance interest at one rate from the opening day through ``last_day`` (a DPS off contract)."""
    product = account.product
    if last_day < account.opened_on:
        return _Computed(
            0, calculation, account.opened_on, {"calculation": calculation, "reason": "no month"}
        )
    opening, inside = _within(movements, account.opened_on, last_day)
    result = engine.savings_interest(
        opening_balance=opening,
        movements=inside,
        period=engine.Period(account.opened_on, last_day),
        terms=engine.SavingsInterestTerms(
            method=engine.InterestMethod.DAILY_BALANCE,
            day_count=engine.DayCount(product.day_count),
            rates=[engine.RateChange(account.opened_on, rate)],
            currency_exponent=exponent,
            rounding=engine.Rounding(product.rounding),
        ),
    )
    return _Computed(
        interest=result.interest,
        calculation=calculation,
        period_start=account.opened_on,
        breakdown={
            "calculation": calculation,
            "method": engine.InterestMethod.DAILY_BALANCE.value,
            "annual_rate_percent": str(rate),
            "day_count": product.day_count,
            "rounding": product.rounding,
            "opening_balance_minor": opening,
            "unrounded": str(result.unrounded),
            "interest_minor": result.interest,
            "segments": result.breakdown_json(),
        },
    )


@dataclass(frozen=True)
class _Contract:
    """A term deposit's terms as the engine takes them, for maturity or a premature closure."""

    term: int
    completed: int
    contract_rate: Decimal
    rate: Decimal  # the contract rate, or the reduced rate on premature closure
    penalty: engine.PrematurePenalty
    compounding: int
    rounding: engine.Rounding
    premature: bool


def _contract(
    account: SavingsAccount, closed_on: dt.date | None, *, penalty_waived: bool = False
) -> _Contract:
    product = account.product
    assert account.maturity_date is not None
    term = engine.months_completed(opened_on=account.opened_on, closed_on=account.maturity_date)
    contract_rate = _contract_rate(account)
    reduction = Decimal(0) if penalty_waived else product.premature_rate_reduction
    penalty = engine.PrematurePenalty.reduced_by(reduction)
    if closed_on is None:
        completed, rate = term, contract_rate
    else:
        completed = engine.months_completed(opened_on=account.opened_on, closed_on=closed_on)
        rate = penalty.applied_rate(contract_rate)
    return _Contract(
        term=term,
        completed=completed,
        contract_rate=contract_rate,
        rate=rate,
        penalty=penalty,
        compounding=_months(product.posting_period),
        rounding=engine.Rounding(product.rounding),
        premature=closed_on is not None,
    )


def _deposit_computation(
    account: SavingsAccount,
    principal: int,
    exponent: int,
    *,
    closed_on: dt.date | None,
    penalty_waived: bool = False,
) -> _Computed:
    """A deposit's interest at maturity (``closed_on`` None) or on premature closure at ``closed_on``.

    ``penalty_waived`` computes a premature closure at the contract rate: what the penalty costs.
    """
    contract = _contract(account, closed_on, penalty_waived=penalty_waived)
    if account.product.kind == SavingsKind.FIXED:
        return _fixed_deposit_computation(account, principal, contract)
    return _recurring_deposit_computation(account, contract, exponent)


def _fixed_deposit_computation(account: SavingsAccount, principal: int, contract: _Contract) -> _Computed:
    calculation = "fixed_deposit_premature" if contract.premature else "fixed_deposit"
    if principal <= 0 or contract.completed == 0:
        reason = {"calculation": calculation, "reason": "nothing earned"}
        return _Computed(0, calculation, account.opened_on, reason)
    if contract.premature:
        result = engine.fixed_deposit_premature_closure(
            principal=principal,
            annual_rate_percent=contract.contract_rate,
            term_months=contract.term,
            months_completed=contract.completed,
            penalty=contract.penalty,
            compound_every_months=contract.compounding,
            rounding=contract.rounding,
        )
    else:
        result = engine.fixed_deposit_maturity(
            principal=principal,
            annual_rate_percent=contract.rate,
            term_months=contract.term,
            compound_every_months=contract.compounding,
            rounding=contract.rounding,
        )
    breakdown = _deposit_breakdown(calculation, result, contract, {"principal_minor": principal})
    return _Computed(result.interest, calculation, account.opened_on, breakdown)


def _recurring_deposit_computation(account: SavingsAccount, contract: _Contract, exponent: int) -> _Computed:
    suffix = "_premature" if contract.premature else ""
    if contract.completed == 0:
        calculation = f"recurring_deposit{suffix}"
        return _Computed(
            0, calculation, account.opened_on, {"calculation": calculation, "reason": "no month"}
        )
    movements = _movements(account.pk)
    instalment = account.product.installment_minor
    on_contract = instalment is not None and _instalments_on_time(
        movements, account.opened_on, instalment, contract.completed
    )
    if on_contract and not contract.premature:
        # Money paid beyond the contract earns too, so such a DPS is computed on its real movements.
        on_contract = sum(movement.amount for movement in movements) == contract.term * (instalment or 0)
    if not on_contract or instalment is None:
        return _daily_over_movements(
            account=account,
            movements=movements,
            rate=contract.rate,
            last_day=engine.add_months(account.opened_on, contract.completed) - _ONE_DAY,
            exponent=exponent,
            calculation=f"recurring_deposit_daily{suffix}",
        )
    calculation = f"recurring_deposit{suffix}"
    if contract.premature:
        result = engine.recurring_deposit_premature_closure(
            instalment=instalment,
            annual_rate_percent=contract.contract_rate,
            months=contract.term,
            months_completed=contract.completed,
            penalty=contract.penalty,
            compound_every_months=contract.compounding,
            rounding=contract.rounding,
        )
    else:
        result = engine.recurring_deposit_maturity(
            instalment=instalment,
            annual_rate_percent=contract.rate,
            months=contract.term,
            compound_every_months=contract.compounding,
            rounding=contract.rounding,
        )
    breakdown = _deposit_breakdown(calculation, result, contract, {"instalment_minor": instalment})
    return _Computed(result.interest, calculation, account.opened_on, breakdown)


def _mature_one(*, account_id: int, exponent: int, actor: Any | None) -> AccountBooking | None:
    with transaction.atomic():
        account, locked = _lock_for_withdrawal(account_id)
        maturity = account.maturity_date
        if locked.status != AccountStatus.ACTIVE or maturity is None:
            return None
        if InterestPosting.objects.filter(account_id=account_id, period_end=maturity).exists():
            return None
        computed = _deposit_computation(account, locked.balance_minor, exponent, closed_on=None)
        released = -interest_accrued_minor(account_id)  # the old books' accrual, inside this interest
        entry, movement = _book(
            account=account,
            locked=locked,
            credit=computed.interest,
            payable_change=released,
            value_date=maturity,
            key=f"savings-maturity:{account_id}:{maturity.isoformat()}",
            memo=_entry_memo(InterestPostingKind.MATURITY, locked.number, account.opened_on, maturity),
            transaction_memo=f"{account.opened_on.isoformat()}–{maturity.isoformat()}",
            actor=actor,
        )
        posting = _save_posting(
            account=account,
            kind=InterestPostingKind.MATURITY,
            computed=computed,
            period_end=maturity,
            credited=computed.interest,
            payable_change=released,
            entry=entry,
            movement=movement,
            actor=actor,
        )
        SavingsAccount.objects.filter(pk=account_id).update(
            status=AccountStatus.MATURED, interest_posted_through=maturity
        )
        return _booking(posting, locked.number)


def savings_maturity_process(*, on: dt.date, actor: Any | None = None) -> InterestJobSummary:
    """Credit the maturity interest of every active FDR and DPS due on or before ``on``; mark them matured.

    The interest is valued on the maturity date. Safe to run any number of times.
    """
    exponent = _currency_exponent()
    account_ids = list(
        SavingsAccount.objects.filter(
            product__kind__in=TERM_KINDS, status=AccountStatus.ACTIVE, maturity_date__lte=on
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    summary = InterestJobSummary(on=on)
    return _run_each(
        summary,
        account_ids,
        lambda account_id: _mature_one(account_id=account_id, exponent=exponent, actor=actor),
    )


def _closure_figures(
    account: SavingsAccount, principal: int, on: dt.date, exponent: int
) -> tuple[_Computed, DepositClosurePreview]:
    """The premature closure's interest computation and its figures; reads only."""
    computed = _deposit_computation(account, principal, exponent, closed_on=on)
    at_contract_rate = _deposit_computation(account, principal, exponent, closed_on=on, penalty_waived=True)
    contract = _contract(account, on)
    return computed, DepositClosurePreview(
        account_id=account.pk,
        on=on,
        principal_minor=principal,
        interest_minor=computed.interest,
        penalty_minor=max(at_contract_rate.interest - computed.interest, 0),
        paid_out_minor=principal + computed.interest,
        months_completed=contract.completed,
        contract_rate=contract.contract_rate,
        applied_rate=contract.rate,
    )


def savings_deposit_close_early_preview(*, account_id: int, on: dt.date) -> DepositClosurePreview:
    """What :func:`savings_deposit_close_early` would credit and pay out on ``on``, without writing.

    Refused as the closure itself would be (not a term deposit, not active, not before maturity).
    """
    account = SavingsAccount.objects.select_related("product").filter(pk=account_id).first()
    if account is None:
        raise _not_found(account_id)
    _check_early_closure(account, on)
    _computed, preview = _closure_figures(account, account.balance_minor, on, _currency_exponent())
    return preview


def savings_deposit_close_early(
    *,
    account_id: int,
    on: dt.date,
    idempotency_key: str,
    actor: Any | None = None,
    reason: str = "",
    counter_account_code: str = "",
) -> DepositClosure:
    """Close a fixed or recurring deposit before maturity and pay it out in cash.

    Interest for the completed months at the reduced rate is credited (``{key}:interest``), the
    whole balance is paid out (``{key}:payout``), and the account is closed, in one transaction.
    The cash leaves ``counter_account_code`` (the till of whoever pays it out) or, without one,
    the cash of the account's branch. The same key again returns the first closure.
    """
    if not idempotency_key or len(idempotency_key) > 100:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "A closure needs an idempotency key of 1-100 characters.",
            fields={"idempotency_key": ["1-100 characters."]},
        )
    reason = reason.strip()
    with transaction.atomic():
        account, locked = _lock_for_withdrawal(account_id)
        earlier = InterestPosting.objects.filter(
            account_id=account_id, kind=InterestPostingKind.EARLY_CLOSURE
        ).first()
        if earlier is not None:
            return _closure_replayed(earlier, idempotency_key, on)
        _check_early_closure(account, on)
        computed, figures = _closure_figures(account, locked.balance_minor, on, _currency_exponent())
        computed = _Computed(
            computed.interest,
            computed.calculation,
            computed.period_start,
            {
                **computed.breakdown,
                "idempotency_key": idempotency_key,
                "principal_minor": figures.principal_minor,
                "penalty_minor": figures.penalty_minor,
            },
        )
        released = -interest_accrued_minor(account_id)  # the old books' accrual, inside this interest
        entry, interest_movement = _book(
            account=account,
            locked=locked,
            credit=computed.interest,
            payable_change=released,
            value_date=on,
            key=f"{idempotency_key}:interest",
            memo=_entry_memo(InterestPostingKind.EARLY_CLOSURE, locked.number, account.opened_on, on),
            transaction_memo=f"{account.opened_on.isoformat()}–{on.isoformat()}",
            actor=actor,
        )
        posting = _save_posting(
            account=account,
            kind=InterestPostingKind.EARLY_CLOSURE,
            computed=computed,
            period_end=on,
            credited=computed.interest,
            payable_change=released,
            entry=entry,
            movement=interest_movement,
            actor=actor,
        )
        balance = locked.balance_minor + computed.interest
        payout = None
        if balance > 0:
            label = str(InterestPostingKind.EARLY_CLOSURE.label)
            payout = _take(
                account_id=account_id,
                amount_minor=balance,
                value_date=on,
                idempotency_key=f"{idempotency_key}:payout",
                actor=actor,
                channel=Channel.OFFICE,
                memo=f"{label} — {reason}"[:300] if reason else label,
                kind=TransactionKind.WITHDRAWAL,
                message_kind=MessageKind.SAVINGS_WITHDRAWAL,
                counter_account_code=counter_account_code,
                check_rules=False,
            )
        SavingsAccount.objects.filter(pk=account_id).update(
            status=AccountStatus.CLOSED, closed_on=on, interest_posted_through=on
        )
        audit_record(
            actor=actor,
            action="savings.deposit.close_early",
            target=account,
            changes={
                "closed_on": on.isoformat(),
                "principal_minor": figures.principal_minor,
                "interest_minor": computed.interest,
                "penalty_minor": figures.penalty_minor,
                "paid_out_minor": balance,
                **({"reason": reason} if reason else {}),
            },
        )
        return DepositClosure(
            account_id=account_id,
            principal_minor=figures.principal_minor,
            interest_minor=computed.interest,
            penalty_minor=figures.penalty_minor,
            paid_out_minor=balance,
            interest_transaction=interest_movement,
            payout_transaction=payout,
            posting=posting,
        )


def _check_early_closure(account: SavingsAccount, on: dt.date) -> None:
    if account.product.kind not in TERM_KINDS or account.maturity_date is None:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "Only fixed and recurring deposits are closed before maturity.",
            fields={"account": [f"{account.number} is {account.product.get_kind_display()}."]},
        )
    if account.status != AccountStatus.ACTIVE:
        raise BusinessRuleViolation(
            ErrorCode.SAVINGS_ACCOUNT_NOT_ACTIVE,
            f"Account {account.number} is {account.status}.",
            fields={"account": [f"Status: {account.status}."]},
        )
    if not account.opened_on <= on < account.maturity_date:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            f"A premature closure falls from {account.opened_on.isoformat()} to the day before maturity "
            f"({account.maturity_date.isoformat()}).",
            fields={
                "on": [f"From {account.opened_on.isoformat()}, before {account.maturity_date.isoformat()}."]
            },
        )


def _closure_replayed(earlier: InterestPosting, idempotency_key: str, on: dt.date) -> DepositClosure:
    if earlier.breakdown_json.get("idempotency_key") != idempotency_key or earlier.period_end != on:
        raise BusinessRuleViolation(
            ErrorCode.SAVINGS_ACCOUNT_NOT_ACTIVE,
            f"The deposit was closed on {earlier.period_end.isoformat()} by another request.",
            fields={"account": ["Closed."]},
        )
    payout = SavingsTransaction.objects.filter(idempotency_key=f"{idempotency_key}:payout").first()
    paid_out = -payout.amount_minor if payout is not None else 0
    return DepositClosure(
        account_id=earlier.account_id,
        principal_minor=earlier.breakdown_json.get("principal_minor", paid_out - earlier.interest_minor),
        interest_minor=earlier.interest_minor,
        penalty_minor=earlier.breakdown_json.get("penalty_minor", 0),
        paid_out_minor=paid_out,
        interest_transaction=earlier.savings_transaction,
        payout_transaction=payout,
        posting=earlier,
    )


# --- The daily run -------------------------------------------------------------------------------


def savings_interest_daily_run(*, business_date: dt.date, actor: Any | None = None) -> DailyRun:
    """What the daily task does at a workspace's business date.

    Posts (and accrues) for the latest month end before ``business_date`` (every posting and accrual
    period ends on a month end): on the 1st that is the day before, and a run missed on the 1st is
    caught up later in the month. Then credits every deposit maturing on or before ``business_date``.
    """
    return DailyRun(
        business_date=business_date,
        interest=savings_interest_post(period_end=last_month_end_before(business_date), actor=actor),
        maturities=savings_maturity_process(on=business_date, actor=actor),
    )
