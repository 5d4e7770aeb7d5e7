"""Schedule generation, recasting and accrued interest (the rules are in docs/lending-schedule.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal, NamedTuple

from core_banking.lending.schedule.dates import (
    anchor_day,
    months_and_days,
    nominal_due_dates,
    step_days,
    working_day,
)
from core_banking.lending.schedule.interest import (
    PERIODS_PER_YEAR,
    RATE_SCALE,
    DayCount,
    Rates,
    pmt,
    round_div,
    to_multiple,
)
from core_banking.lending.schedule.terms import (
    MAX_INSTALLMENTS,
    LoanTerms,
    TermsError,
    currency_exponent,
    gettext_noop,
)

RecastStrategy = Literal["reduce_installment", "reduce_term"]

KEEP_RANGE = gettext_noop("Must be from 0 to the number of instalments in the schedule.")
NOTHING_LEFT_TO_SCHEDULE = gettext_noop("No instalment is left to carry the outstanding principal.")
OUTSTANDING_NOT_NEGATIVE = gettext_noop("Must be a whole number of minor units, zero or more.")
START_TOO_EARLY = gettext_noop("Must not be before the disbursement date or the last kept due date.")
START_AFTER_MATURITY = gettext_noop("No due date of the loan's calendar is left after this date.")
CHOOSE_STRATEGY = gettext_noop("Choose reduce_installment or reduce_term.")
DOES_NOT_AMORTIZE = gettext_noop(
    "The instalment does not cover the interest: the loan would never be repaid."
)


@dataclass(frozen=True, slots=True)
class Installment:
    """One instalment: what falls due on ``due_date`` and the principal still owed after it.

    ``period_start`` is the date interest runs from (the disbursement date or the previous due
    date). ``interest_minor`` is the interest collected with this instalment; ``earned_interest_minor``
    is the interest earned over its period, which differs only where interest is deferred (grace on
    interest payment: earned now, collected later) so accrual follows what was earned.
    """

    number: int
    due_date: dt.date
    principal_minor: int
    interest_minor: int
    total_minor: int
    balance_minor: int
    period_start: dt.date
    earned_interest_minor: int


@dataclass(frozen=True, slots=True)
class Schedule:
    terms: LoanTerms
    installments: tuple[Installment, ...]
    total_principal_minor: int
    total_interest_minor: int
    total_minor: int


class _Period(NamedTuple):
    number: int
    start: dt.date  # interest runs from here (the previous actual due date)
    due: dt.date  # the actual due date (moved off holidays and weekly off-days)
    nominal_start: dt.date
    nominal_due: dt.date


class _Context:
    """What one set of terms needs again and again, worked out once."""

    def __init__(self, terms: LoanTerms) -> None:
        self.terms = terms
        self.mode = terms.rounding
        self.multiple = terms.installment_multiple_minor
        self.rates = Rates(terms)
        self.days = DayCount(terms, self.rates)
        # A one-time loan has no regular period: its single period is counted in days.
        self.by_days = terms.interest_period == "daily" or terms.frequency == "once"
        self.thirty_day_months = terms.days_in_month == 30 and terms.frequency in ("monthly", "once")
        self.anchor = anchor_day(terms)
        if terms.frequency == "once":
            self.periods_in_step, self.period_denominator = 0, 1
        else:
            self.periods_in_step = terms.repay_every * (2 if terms.frequency == "fortnightly" else 1)
            self.period_denominator = 100 * RATE_SCALE * PERIODS_PER_YEAR[terms.frequency]
        if terms.frequency == "monthly":
            self.step_in_days = 30 * terms.repay_every
        elif terms.frequency == "once":
            self.step_in_days = 0
        else:
            self.step_in_days = step_days(terms)
        self.pmt_year = 365 if terms.days_in_year == "actual" else int(terms.days_in_year)

    # Declining balance: the rate for one period, as numerator / denominator.
    def period_rate(self, period: _Period) -> tuple[int, int]:
        if not self.by_days:
            return self.rates.on(period.start) * self.periods_in_step, self.period_denominator
        if self.thirty_day_months:
            actual = (period.due - period.start).days
            if actual <= 0:
                return 0, 1
            months, rest = months_and_days(period.nominal_start, period.nominal_due, self.anchor)
            counted = (
                30 * months
                + rest
                + (period.due - period.nominal_due).days
                - (period.start - period.nominal_start).days
            )
            weighted = sum(
                units * (end - start).days
                for start, end, units in self.rates.pieces(period.start, period.due)
            )
            return weighted * max(counted, 0), 100 * RATE_SCALE * self.days.year * actual
        return self.days.numerator(period.start, period.due), self.days.denominator

    # Flat: every period's rate over one common denominator, so they add up exactly.
    @property
    def flat_denominator(self) -> int:
        return self.days.denominator if self.by_days else self.period_denominator

    def flat_numerator(self, period: _Period) -> int:
        if self.by_days:
            return self.days.numerator(period.start, period.due)
        return self.rates.on(period.start) * self.periods_in_step

    # The periodic rate of the level instalment (Fineract: a regular period, 30-day months).
    def pmt_rate(self, period: _Period) -> tuple[int, int]:
        units = self.rates.on(period.start)
        if not self.by_days:
            return units * self.periods_in_step, self.period_denominator
        return units * self.step_in_days, 100 * RATE_SCALE * self.pmt_year

    def level_installment(self, balance: int, rate: tuple[int, int], periods: int) -> int:
        numerator, denominator = pmt(balance, rate[0], rate[1], periods)
        if self.multiple:
            return to_multiple(numerator, denominator, self.multiple, self.mode)
        return round_div(numerator, denominator, self.mode)

    def to_multiple(self, amount: int) -> int:
        assert self.multiple
        return to_multiple(amount, 1, self.multiple, self.mode)


def _periods(
    ctx: _Context, start: dt.date, first_number: int, nominal: Iterable[dt.date]
) -> Iterator[_Period]:
    terms = ctx.terms
    actual_start = nominal_start = start
    number = first_number
    for nominal_due in nominal:
        due = working_day(nominal_due, terms.holidays, terms.weekly_off_days)
        yield _Period(number, actual_start, due, nominal_start, nominal_due)
        actual_start, nominal_start = due, nominal_due
        number += 1


def _installment(period: _Period, principal: int, interest: int, balance: int, earned: int) -> Installment:
    return Installment(
        number=period.number,
        due_date=period.due,
        principal_minor=principal,
        interest_minor=interest,
        total_minor=principal + interest,
        balance_minor=balance,
        period_start=period.start,
        earned_interest_minor=earned,
    )


def _grace_left(number: int, remaining: int, grace: int) -> int:
    """How many of the ``remaining`` instalments from ``number`` on are still in principal grace."""
    return max(0, min(grace, number + remaining - 1) - number + 1)


class _Amortizer:
    """The principal part of each declining-balance instalment: level payment or equal principal."""

    def __init__(self, ctx: _Context, level: int | None) -> None:
        self.ctx = ctx
        self.fixed = level is not None
        self.payment = level
        self.rate = (0, 0)

    def target(self, period: _Period, balance: int, earned: int, payments: int) -> int:
        ctx = self.ctx
        if ctx.terms.amortization == "equal_principal":
            if self.payment is None:
                self.payment = round_div(balance, payments, ctx.mode)
            return self.payment
        if not self.fixed:
            rate = ctx.pmt_rate(period)
            if self.payment is None or rate != self.rate:  # first instalment, or the rate changed
                self.payment, self.rate = ctx.level_installment(balance, rate, payments), rate
        assert self.payment is not None
        return self.payment - earned


def _declining(
    ctx: _Context,
    periods: Iterator[_Period],
    *,
    principal: int,
    count: int | None,
    level: int | None,
    carried_deferred: int,
) -> list[Installment]:
    """Declining balance. ``count`` None: run until the balance is repaid by the fixed ``level``."""
    terms = ctx.terms
    amortizer = _Amortizer(ctx, level)
    balance, deferred = principal, carried_deferred
    result: list[Installment] = []
    for index, period in enumerate(periods):
        number = period.number
        remaining = MAX_INSTALLMENTS if count is None else count - index
        last = count is not None and remaining == 1
        numerator, denominator = ctx.period_rate(period)
        earned = 0
        if number > terms.interest_free_periods:
            earned = round_div(balance * numerator, denominator, ctx.mode)
        in_grace = number <= terms.grace_principal and not last
        if last:
            principal_part = balance
        elif in_grace:
            principal_part = 0
        else:
            payments = remaining - _grace_left(number, remaining, terms.grace_principal)
            principal_part = min(max(amortizer.target(period, balance, earned, payments), 0), balance)
            last = count is None and principal_part == balance
        if number <= terms.grace_interest_payment and not last:
            deferred, collected = deferred + earned, 0
        else:
            deferred, collected = 0, earned + deferred
        if ctx.multiple and not last and not in_grace:
            principal_part = min(max(ctx.to_multiple(principal_part + collected) - collected, 0), balance)
        balance -= principal_part
        result.append(_installment(period, principal_part, collected, balance, earned))
        if last or (count is None and balance == 0):
            break
        if count is None and index >= MAX_INSTALLMENTS:
            raise TermsError({"strategy": [DOES_NOT_AMORTIZE]})
    return result


def _flat_interest(ctx: _Context, periods: list[_Period], principal: int) -> list[int]:
    """Interest earned per period: principal x rate x term, rounded once, spread evenly.

    Each run of periods at one rate is spread evenly over its periods; interest-free periods drop
    their share; the last instalment absorbs the rounding.
    """
    mode, size = ctx.mode, len(periods)
    numerators = [ctx.flat_numerator(period) for period in periods]
    denominator = ctx.flat_denominator
    total = round_div(principal * sum(numerators), denominator, mode)
    shares = [0] * size
    start = 0
    while start < size:
        rate = ctx.rates.on(periods[start].start)
        end = start + 1
        while end < size and ctx.rates.on(periods[end].start) == rate:
            end += 1
        run_total = round_div(principal * sum(numerators[start:end]), denominator, mode)
        shares[start:end] = [round_div(run_total, end - start, mode)] * (end - start)
        start = end
    free = [period.number <= ctx.terms.interest_free_periods for period in periods]
    left = (
        0
        if free[-1]
        else max(0, total - sum(part for part, is_free in zip(shares, free, strict=True) if is_free))
    )
    earned: list[int] = []
    for index in range(size):
        part = left if index == size - 1 else (0 if free[index] else min(shares[index], left))
        earned.append(part)
        left -= part
    return earned


def _flat_collected(
    ctx: _Context, periods: list[_Period], earned: list[int], carried_deferred: int
) -> list[int]:
    """Interest collected per instalment: deferred interest spread evenly, or at once (see the doc)."""
    terms, size = ctx.terms, len(periods)
    free_until, grace_until = terms.interest_free_periods, terms.grace_interest_payment
    if not carried_deferred and not any(free_until < period.number <= grace_until for period in periods):
        return list(earned)
    paying_from = max(free_until, grace_until)
    collecting = [index for index, period in enumerate(periods) if period.number > paying_from] or [size - 1]
    collected = [0] * size
    if terms.amortization == "equal_installments":
        to_collect = max(0, sum(earned) + carried_deferred)
        per = round_div(to_collect, len(collecting), ctx.mode)
        for position, index in enumerate(collecting):
            collected[index] = to_collect if position == len(collecting) - 1 else min(per, to_collect)
            to_collect -= collected[index]
        return collected
    for index in collecting:
        collected[index] = earned[index]
    first = collecting[0]
    collected[first] = max(
        0, collected[first] + carried_deferred + sum(earned[i] for i in range(size) if i not in collecting)
    )
    return collected


def _flat(
    ctx: _Context, periods: list[_Period], *, principal: int, share: int | None, carried_deferred: int
) -> list[Installment]:
    """Flat: interest on the original principal for the whole term, spread evenly."""
    terms, size = ctx.terms, len(periods)
    if share is None:
        payments = sum(
            1
            for index, period in enumerate(periods)
            if period.number > terms.grace_principal or index == size - 1
        )
        share = round_div(principal, payments, ctx.mode)
    earned = _flat_interest(ctx, periods, principal)
    collected = _flat_collected(ctx, periods, earned, carried_deferred)
    result: list[Installment] = []
    balance = principal
    for index, period in enumerate(periods):
        if index == size - 1:
            principal_part = balance
        elif period.number <= terms.grace_principal:
            principal_part = 0
        elif ctx.multiple:  # as Fineract: principal and interest each to the multiple
            principal_part = ctx.to_multiple(share) + ctx.to_multiple(collected[index]) - collected[index]
            principal_part = min(max(principal_part, 0), balance)
        else:
            principal_part = min(share, balance)
        balance -= principal_part
        result.append(_installment(period, principal_part, collected[index], balance, earned[index]))
    return result


def _run(
    ctx: _Context,
    periods: Iterator[_Period],
    *,
    principal: int,
    count: int | None,
    level: int | None,
    carried_deferred: int,
) -> list[Installment]:
    if ctx.terms.interest_method == "flat":
        assert count is not None
        return _flat(
            ctx,
            list(islice(periods, count)),
            principal=principal,
            share=level,
            carried_deferred=carried_deferred,
        )
    if count is not None:
        periods = islice(periods, count)
    return _declining(
        ctx, periods, principal=principal, count=count, level=level, carried_deferred=carried_deferred
    )


def _schedule(terms: LoanTerms, installments: Iterable[Installment]) -> Schedule:
    rows = tuple(installments)
    principal = sum(row.principal_minor for row in rows)
    interest = sum(row.interest_minor for row in rows)
    return Schedule(
        terms=terms,
        installments=rows,
        total_principal_minor=principal,
        total_interest_minor=interest,
        total_minor=principal + interest,
    )


def schedule_generate(terms: LoanTerms) -> Schedule:
    """The repayment schedule of ``terms``: principal always adds up to the loan exactly."""
    ctx = _Context(terms)
    periods = _periods(ctx, terms.disbursement_date, 1, nominal_due_dates(terms))
    rows = _run(
        ctx,
        periods,
        principal=terms.principal_minor,
        count=terms.installments,
        level=None,
        carried_deferred=0,
    )
    return _schedule(terms, rows)


def schedule_recast(
    terms: LoanTerms,
    schedule: Schedule,
    *,
    keep_through_number: int,
    outstanding_principal_minor: int,
    start_date: dt.date,
    strategy: RecastStrategy = "reduce_installment",
) -> Schedule:
    """Keep instalments 1..``keep_through_number``; recompute the rest from the outstanding principal.

    The new instalments run from ``start_date`` on the calendar of ``terms`` (which may carry new
    holidays or a new meeting day): they fall on its due dates after ``start_date``, numbered on from
    the kept ones. ``reduce_installment`` keeps the number of instalments and lowers each;
    ``reduce_term`` keeps the instalment (the level payment, or the principal part for equal
    principal and flat loans) and ends the loan sooner. Interest deferred in the kept instalments
    and not yet collected is collected by the new ones.
    """
    rows = schedule.installments
    errors: dict[str, list[str]] = {}
    if (
        isinstance(keep_through_number, bool)
        or not isinstance(keep_through_number, int)
        or not (0 <= keep_through_number <= len(rows))
    ):
        errors["keep_through_number"] = [KEEP_RANGE]
    if (
        isinstance(outstanding_principal_minor, bool)
        or not isinstance(outstanding_principal_minor, int)
        or outstanding_principal_minor < 0
    ):
        errors["outstanding_principal"] = [OUTSTANDING_NOT_NEGATIVE]
    if strategy not in ("reduce_installment", "reduce_term"):
        errors["strategy"] = [CHOOSE_STRATEGY]
    if errors:
        raise TermsError(errors)
    kept = rows[:keep_through_number]
    earliest = max([terms.disbursement_date] + [row.due_date for row in kept])
    if start_date < earliest:
        raise TermsError({"start_date": [START_TOO_EARLY]})
    if outstanding_principal_minor == 0:
        return _schedule(terms, kept)
    remaining = len(rows) - keep_through_number  # the current schedule's, after any earlier recast
    if remaining < 1:
        raise TermsError({"keep_through_number": [NOTHING_LEFT_TO_SCHEDULE]})

    ctx = _Context(terms)
    # Earned but not yet collected (grace on interest payment); negative when a flat loan's evenly
    # spread interest has run a few minor units ahead of what was earned (rounding).
    carried = sum(row.earned_interest_minor - row.interest_minor for row in kept)
    nominal = (day for day in nominal_due_dates(terms) if day > start_date)
    periods = _periods(ctx, start_date, keep_through_number + 1, nominal)
    first = next(periods, None)
    if first is None:
        raise TermsError({"start_date": [START_AFTER_MATURITY]})
    periods = _chain(first, periods)

    level = _level(terms, rows, keep_through_number) if strategy == "reduce_term" else None
    count: int | None = remaining
    level_installment = terms.interest_method == "declining" and terms.amortization == "equal_installments"
    if level is not None and level_installment and ctx.multiple:
        level = ctx.to_multiple(level) or None  # too small for the multiple: reduce the instalment instead
    if level is not None:
        if terms.interest_method == "flat" or terms.amortization == "equal_principal":
            grace_left = max(0, terms.grace_principal - keep_through_number)
            count = grace_left + -(-outstanding_principal_minor // level)
        else:
            count = None
    new_rows = _run(
        ctx,
        periods,
        principal=outstanding_principal_minor,
        count=count,
        level=level,
        carried_deferred=carried if terms.interest_method == "flat" else max(carried, 0),
    )
    return _schedule(terms, (*kept, *new_rows))


def _chain(first: _Period, rest: Iterator[_Period]) -> Iterator[_Period]:
    yield first
    yield from rest


def _level(terms: LoanTerms, rows: tuple[Installment, ...], keep_through_number: int) -> int | None:
    """The instalment a ``reduce_term`` recast keeps: from the first regular instalment after the kept ones.

    Regular: past the grace periods, not the last, and neither cut to the remaining balance nor to
    nothing. Its principal plus the interest its period earned is the level instalment; its
    principal alone is the principal part of equal-principal and flat loans.
    """
    for after in (max(terms.grace_principal, terms.grace_interest_payment), terms.grace_principal):
        for row in rows[:-1]:
            if (
                row.number > max(keep_through_number, after)
                and row.principal_minor > 0
                and row.balance_minor > 0
            ):
                if terms.interest_method == "flat" or terms.amortization == "equal_principal":
                    return row.principal_minor
                return row.principal_minor + row.earned_interest_minor
    return None


def accrued_interest(terms: LoanTerms, schedule: Schedule, on_date: dt.date) -> int:
    """Interest earned from disbursement through ``on_date`` (minor units), never above the total.

    Every instalment due on or before ``on_date`` counts in full (what its period earned); the
    running instalment counts pro rata by days elapsed, or, for declining-balance loans with daily
    interest on actual days, exactly: the scheduled balance x the daily rate for each day elapsed.
    """
    ctx = _Context(terms)
    exact_daily = terms.interest_method == "declining" and ctx.by_days and not ctx.thirty_day_months
    accrued = 0
    for row in schedule.installments:
        if row.due_date <= on_date:
            accrued += row.earned_interest_minor
            continue
        if on_date > row.period_start and row.earned_interest_minor > 0:
            elapsed = (on_date - row.period_start).days
            if exact_daily:
                balance = row.balance_minor + row.principal_minor
                part = round_div(
                    balance * ctx.days.numerator(row.period_start, on_date), ctx.days.denominator, ctx.mode
                )
            else:
                part = round_div(
                    row.earned_interest_minor * elapsed, (row.due_date - row.period_start).days, ctx.mode
                )
            accrued += min(part, row.earned_interest_minor)
        break
    return min(accrued, schedule.total_interest_minor)


def _major(amount: int, exponent: int) -> str:
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole}"


def schedule_to_json(schedule: Schedule) -> dict[str, Any]:
    """The schedule as JSON: amounts as decimal strings in major units, dates as ISO 8601."""
    exponent = currency_exponent(schedule.terms.currency)
    return {
        "installments": [
            {
                "number": row.number,
                "due_date": row.due_date.isoformat(),
                "principal": _major(row.principal_minor, exponent),
                "interest": _major(row.interest_minor, exponent),
                "total": _major(row.total_minor, exponent),
                "balance": _major(row.balance_minor, exponent),
            }
            for row in schedule.installments
        ],
        "totals": {
            "principal": _major(schedule.total_principal_minor, exponent),
            "interest": _major(schedule.total_interest_minor, exponent),
            "total": _major(schedule.total_minor, exponent),
        },
    }
