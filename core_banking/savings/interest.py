"""Savings interest engine: pure Python over dataclasses, ``Decimal`` and ``datetime.date``.

Nothing here touches the database or Django. The periodic accrual/posting job loads an account's
opening balance, its movements and its product terms, calls :func:`savings_interest`, and posts the
result through the ledger; fixed (FDR) and recurring (DPS) deposits use the term-deposit helpers
at the bottom of the module.

Units and exactness
-------------------
* Every amount in and out is an ``int`` in the currency's minor unit (paisa, satang; VND has
  none, so dong). Rates are annual percentages as ``Decimal`` (``Decimal("6.5")`` is 6.5 % a year);
  ``float`` is refused because it cannot hold most decimal rates exactly.
* Internally the arithmetic is exact (``fractions.Fraction`` built from the ``Decimal`` rates), so
  nothing is lost to intermediate rounding and sums can be split and re-added without drift.
  The result is rounded ONCE, at the end, to a whole minor unit with the product's rounding mode.
  ``unrounded`` shows the exact figure as a ``Decimal`` with :data:`UNROUNDED_PLACES` decimal places
  of the minor unit (rounded half-even), for statements and audit; ``exact`` keeps the ``Fraction``.
* Rounding modes (all applied to the exact value): ``half_even`` (banker's rounding, ties to the
  even neighbour), ``half_up`` (ties away from zero), ``down`` (towards zero, truncation), ``up``
  (away from zero: any fraction of a minor unit becomes a whole one).
* ``currency_exponent`` (ISO 4217: VND 0, BDT 2, THB 2, KWD 3, CLF 4) does not change the arithmetic,
  which already runs in minor units; it is validated and used for the major-unit views
  (``interest_major``), so a result can be shown as 646.03 (BDT) or 99 178 (VND).

Periods, balances and rates
---------------------------
* A :class:`Period` is ``first_day`` to ``last_day``, both inclusive.
* ``opening_balance`` is the balance at the start of ``first_day`` (before any movement that day).
  Each :class:`Movement` (value date, signed amount) must fall inside the period; a day's *closing
  balance* is the opening balance plus every movement with a value date on or before that day.
* A rate schedule is a list of :class:`RateChange` (effective date, annual rate in percent). A change
  takes effect on its own date; the rate in force on a day is the latest change effective on or
  before it, so one period can carry several rates. A rate must be in force on ``first_day``.
* Day count: ``actual_365`` divides by 365 and ``actual_360`` by 360 whatever the year;
  ``actual_actual`` divides each day by the length of its own calendar year (366 in leap years),
  so a period crossing 31 December is split at the year end.

Methods
-------
* ``daily_balance``: each day earns ``closing balance x rate in force that day / 100 / denominator``.
  The day figures are summed unrounded and the total is rounded once. Consecutive days with the same
  balance, rate and denominator are shown as one segment.
* ``monthly_minimum_balance``: each calendar month (or the part of it inside the period) earns on
  its lowest balance: the minimum of the balance carried into the month (the previous day's closing
  balance; the opening balance for the period's first month) and every closing balance within the
  month. So a deposit made on the 1st does not lift that month's minimum, while a withdrawal on any
  day lowers it. The month earns ``minimum x rate x days / 100 / denominator``; when the rate changes
  mid-month the month's days are split by rate, every part at the month's minimum.
* ``month_end_balance``: each calendar month (or part) earns on its closing balance on its last day
  in the period (the month's last day, or ``last_day`` for a period that ends mid-month), for that
  month's days, split by rate the same way.
* A negative balance, a zero balance, and (when ``minimum_balance`` is set) a balance below the
  minimum earn nothing for that day (daily_balance) or that month (the monthly methods). A balance
  equal to the minimum earns.

Idempotent accrual
------------------
The engine is deterministic: the same inputs give the same result. To accrue monthly but post
quarterly without rounding drift, compute from the posting period's first day to the accrual date
and book the difference from what is already accrued: for ``daily_balance`` the exact interest over
two adjoining periods always equals the interest over their union (``exact`` adds up), only the
final rounding differs. :func:`period_containing` gives the calendar-aligned monthly, quarterly,
half-yearly and yearly periods.

Term deposits (months, not days)
--------------------------------
Fixed and recurring deposits are contracted in months, so their interest counts months:
``rate / 100 x months / 12``, the convention of Bangladeshi FDR and DPS rate sheets.

* :func:`fixed_deposit_maturity`: interest paid at maturity, either simple (``principal x rate x
  term / 12``) or compounded every N months (interest credited to the principal at the end of each
  N-month block; a last block shorter than N months earns simple interest for its months on the
  compounded balance).
* :func:`fixed_deposit_premature_closure`: the same calculation for the *completed* months only, at
  the penalty rate: either the contract rate reduced by some percentage points, or a fixed lower
  rate. The penalty rate is never negative and never above the contract rate.
* :func:`recurring_deposit_maturity` (DPS): a fixed instalment is paid at the START of every month
  for N months (Bangladeshi DPS instalments are due in advance, by a day early in the month), so
  instalment k earns for ``N - k + 1`` months. Each month earns one month's interest
  (``rate / 12``) on the running balance. With quarterly compounding (the default,
  ``compound_every_months=3``) the month interest is credited to the balance at the end of every
  third month and at maturity, so from then on it earns too; ``compound_every_months=None`` is the
  simple "product" method (interest on the instalments only: ``instalment x rate / 1200 x
  N(N+1)/2``). Quarterly crediting is chosen as the default because that is how most DPS schemes
  post interest to the account, and it is also the usual recurring-deposit convention in the region.
  Products that credit monthly pass ``compound_every_months=1``; the interval is a product setting.
  The interest is rounded once, at maturity, like everything else here.
* :func:`recurring_deposit_premature_closure`: interest for the completed months' instalments at the
  penalty rate, with the same crediting rule.

Bad input raises :class:`InterestInputError` (a ``ValueError``) whose ``field`` names the field.
"""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import TypeVar

#: Decimal places (of the minor unit) shown in ``unrounded`` figures.
UNROUNDED_PLACES = 10
#: ISO 4217 minor-unit exponents run from 0 (VND, JPY) to 4 (CLF, UYW).
MAX_CURRENCY_EXPONENT = 4

_ONE_DAY = timedelta(days=1)
_HUNDRED = 100
_MONTHS_PER_YEAR = 12


class InterestInputError(ValueError):
    """An input the engine cannot compute with; ``field`` names it (e.g. ``"period.last_day"``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InterestMethod(StrEnum):
    DAILY_BALANCE = "daily_balance"
    MONTHLY_MINIMUM_BALANCE = "monthly_minimum_balance"
    MONTH_END_BALANCE = "month_end_balance"


class DayCount(StrEnum):
    ACTUAL_365 = "actual_365"
    ACTUAL_360 = "actual_360"
    ACTUAL_ACTUAL = "actual_actual"


class Rounding(StrEnum):
    HALF_EVEN = "half_even"
    HALF_UP = "half_up"
    DOWN = "down"
    UP = "up"


class PeriodFrequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


class PenaltyKind(StrEnum):
    RATE_REDUCED_BY = "rate_reduced_by"
    FIXED_RATE = "fixed_rate"


_MONTHS_IN_PERIOD = {
    PeriodFrequency.MONTHLY: 1,
    PeriodFrequency.QUARTERLY: 3,
    PeriodFrequency.HALF_YEARLY: 6,
    PeriodFrequency.YEARLY: 12,
}


# --------------------------------------------------------------------------------------------------
# Inputs and results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """First and last day of an accrual or posting period, both inclusive."""

    first_day: date
    last_day: date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True)
class Movement:
    """A balance change inside the period: deposits positive, withdrawals negative (minor units)."""

    value_date: date
    amount: int


@dataclass(frozen=True)
class RateChange:
    """From ``effective`` on (inclusive) the account earns ``annual_rate_percent`` a year."""

    effective: date
    annual_rate_percent: Decimal


@dataclass(frozen=True)
class SavingsInterestTerms:
    """The product settings that decide how a savings account earns interest."""

    method: InterestMethod
    day_count: DayCount
    rates: Sequence[RateChange]
    currency_exponent: int
    rounding: Rounding
    #: Minor units; a day (daily_balance) or month (monthly methods) below it earns nothing.
    minimum_balance: int | None = None


@dataclass(frozen=True)
class InterestSegment:
    """One line of the breakdown: ``balance x rate x days / 100 / denominator``.

    ``earns`` is False (and the interest zero) when the balance is not positive or is below the
    product's minimum balance.
    """

    first_day: date
    last_day: date
    days: int
    balance: int
    annual_rate_percent: Decimal
    denominator: int
    interest: Decimal
    exact: Fraction
    earns: bool

    def as_json(self) -> dict[str, str | int | bool]:
        """Plain values (dates ISO, decimals as strings) for storing next to the posting."""
        return {
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "days": self.days,
            "balance": self.balance,
            "annual_rate_percent": str(self.annual_rate_percent),
            "denominator": self.denominator,
            "interest": str(self.interest),
            "earns": self.earns,
        }


@dataclass(frozen=True)
class InterestResult:
    """Interest for one account over one period.

    ``interest`` is in minor units, rounded once; ``unrounded`` and ``exact`` are the figure before
    rounding; ``segments`` cover every day of the period, in order.
    """

    interest: int
    unrounded: Decimal
    exact: Fraction
    segments: tuple[InterestSegment, ...]
    method: InterestMethod
    day_count: DayCount
    rounding: Rounding
    currency_exponent: int

    @property
    def interest_major(self) -> Decimal:
        """The rounded interest in major units (taka, baht, dong), e.g. ``Decimal("646.03")``."""
        return _scaled_decimal(self.interest, self.currency_exponent)

    def breakdown_json(self) -> list[dict[str, str | int | bool]]:
        return [segment.as_json() for segment in self.segments]


@dataclass(frozen=True)
class PrematurePenalty:
    """How a deposit closed before maturity is paid: a reduced rate or a fixed lower rate.

    ``percent`` is the percentage points taken off the contract rate (``RATE_REDUCED_BY``) or the
    annual rate paid instead (``FIXED_RATE``). Build one with :meth:`reduced_by` or :meth:`fixed_rate`.
    """

    kind: PenaltyKind
    percent: Decimal

    @classmethod
    def reduced_by(cls, percentage_points: Decimal) -> PrematurePenalty:
        return cls(kind=PenaltyKind.RATE_REDUCED_BY, percent=percentage_points)

    @classmethod
    def fixed_rate(cls, annual_rate_percent: Decimal) -> PrematurePenalty:
        return cls(kind=PenaltyKind.FIXED_RATE, percent=annual_rate_percent)

    def applied_rate(self, contract_rate_percent: Decimal) -> Decimal:
        """The annual rate paid on premature closure: never below zero, never above the contract."""
        kind = _coerce_enum(PenaltyKind, self.kind, "penalty.kind")
        percent = _require_rate(self.percent, "penalty.percent")
        if kind is PenaltyKind.RATE_REDUCED_BY:
            return max(contract_rate_percent - percent, Decimal(0))
        return min(percent, contract_rate_percent)


@dataclass(frozen=True)
class DepositPeriod:
    """A crediting block of a term deposit, months numbered from 1 (the month of the deposit).

    ``opening_balance`` is the balance at the start of the block (a fixed deposit's principal, or
    earlier instalments plus credited interest); ``deposited`` counts the instalments paid during
    the block; ``interest`` is what the block credits at its end.
    """

    first_month: int
    last_month: int
    opening_balance: Decimal
    deposited: int
    interest: Decimal


@dataclass(frozen=True)
class DepositInterestResult:
    """Interest on a fixed or recurring deposit, paid at maturity (or premature closure)."""

    deposited: int
    interest: int
    unrounded: Decimal
    exact: Fraction
    maturity_amount: int
    annual_rate_percent: Decimal
    months: int
    periods: tuple[DepositPeriod, ...]


# --------------------------------------------------------------------------------------------------
# Savings interest
# --------------------------------------------------------------------------------------------------


def savings_interest(
    *,
    opening_balance: int,
    movements: Sequence[Movement],
    period: Period,
    terms: SavingsInterestTerms,
) -> InterestResult:
    """Interest earned by one savings account over ``period`` (see the module docstring).

    ``opening_balance`` is the balance at the start of ``period.first_day``; ``movements`` are every
    balance change with a value date inside the period, in any order.
    """
    first_day = _require_date(period.first_day, "period.first_day")
    last_day = _require_date(period.last_day, "period.last_day")
    if last_day < first_day:
        raise InterestInputError("period.last_day", f"{last_day} is before period.first_day {first_day}")
    opening = _require_int(opening_balance, "opening_balance")
    method = _coerce_enum(InterestMethod, terms.method, "method")
    day_count = _coerce_enum(DayCount, terms.day_count, "day_count")
    rounding = _coerce_enum(Rounding, terms.rounding, "rounding")
    exponent = _require_int(terms.currency_exponent, "currency_exponent")
    if not 0 <= exponent <= MAX_CURRENCY_EXPONENT:
        raise InterestInputError(
            "currency_exponent", f"{exponent} is not an ISO 4217 exponent (0 to {MAX_CURRENCY_EXPONENT})"
        )
    minimum = (
        None if terms.minimum_balance is None else _require_int(terms.minimum_balance, "minimum_balance")
    )
    if minimum is not None and minimum < 0:
        raise InterestInputError("minimum_balance", f"must not be negative, got {minimum}")
    schedule = _RateSchedule(terms.rates, first_day)
    balances = _Balances(opening, movements, first_day, last_day)

    context = _SegmentContext(schedule=schedule, day_count=day_count, minimum=minimum)
    if method is InterestMethod.DAILY_BALANCE:
        segments = _daily_balance_segments(balances, first_day, last_day, context)
    else:
        segments = _monthly_segments(balances, first_day, last_day, context, method)

    exact = sum((segment.exact for segment in segments), Fraction(0))
    return InterestResult(
        interest=_round_fraction(exact, rounding),
        unrounded=_fraction_to_decimal(exact),
        exact=exact,
        segments=tuple(segments),
        method=method,
        day_count=day_count,
        rounding=rounding,
        currency_exponent=exponent,
    )


def period_containing(day: date, frequency: PeriodFrequency) -> Period:
    """The calendar-aligned month, quarter, half-year or year that contains ``day``."""
    day = _require_date(day, "day")
    months = _MONTHS_IN_PERIOD[_coerce_enum(PeriodFrequency, frequency, "frequency")]
    first_month = (day.month - 1) // months * months + 1
    last_month = first_month + months - 1
    return Period(
        first_day=date(day.year, first_month, 1),
        last_day=date(day.year, last_month, calendar.monthrange(day.year, last_month)[1]),
    )


@dataclass(frozen=True)
class _Rate:
    effective: date
    percent: Decimal
    fraction: Fraction  # percent / 100, exact


class _RateSchedule:
    def __init__(self, rates: Iterable[RateChange], first_day: date) -> None:
        parsed: list[_Rate] = []
        for index, change in enumerate(rates):
            if not isinstance(change, RateChange):
                raise InterestInputError(f"rates[{index}]", f"must be a RateChange, got {change!r}")
            effective = _require_date(change.effective, f"rates[{index}].effective")
            percent = _require_rate(change.annual_rate_percent, f"rates[{index}].annual_rate_percent")
            parsed.append(_Rate(effective, percent, Fraction(percent) / _HUNDRED))
        parsed.sort(key=lambda rate: rate.effective)
        for earlier, later in pairwise(parsed):
            if earlier.effective == later.effective:
                raise InterestInputError("rates", f"two rates take effect on {later.effective}")
        if not parsed or parsed[0].effective > first_day:
            raise InterestInputError("rates", f"no rate is in force on the period's first day {first_day}")
        self._rates = parsed
        self._dates = [rate.effective for rate in parsed]

    def on(self, day: date) -> _Rate:
        return self._rates[bisect_right(self._dates, day) - 1]

    def changes_within(self, first_day: date, last_day: date) -> list[date]:
        """Dates after ``first_day`` and up to ``last_day`` on which a new rate starts."""
        return [effective for effective in self._dates if first_day < effective <= last_day]


class _Balances:
    """Closing balance of any day, from the opening balance and the movements."""

    def __init__(self, opening: int, movements: Sequence[Movement], first_day: date, last_day: date) -> None:
        net: dict[date, int] = {}
        for index, movement in enumerate(movements):
            if not isinstance(movement, Movement):
                raise InterestInputError(f"movements[{index}]", f"must be a Movement, got {movement!r}")
            value_date = _require_date(movement.value_date, f"movements[{index}].value_date")
            amount = _require_int(movement.amount, f"movements[{index}].amount")
            if not first_day <= value_date <= last_day:
                raise InterestInputError(
                    f"movements[{index}].value_date",
                    f"{value_date} is outside the period {first_day} to {last_day}",
                )
            net[value_date] = net.get(value_date, 0) + amount
        self.opening = opening
        self.change_dates = sorted(net)
        self._closing: list[int] = []
        running = opening
        for value_date in self.change_dates:
            running += net[value_date]
            self._closing.append(running)

    def closing(self, day: date) -> int:
        """Balance at the end of ``day`` (the opening balance for a day before the first movement)."""
        index = bisect_right(self.change_dates, day)
        return self.opening if index == 0 else self._closing[index - 1]

    def changes_within(self, first_day: date, last_day: date) -> list[date]:
        return [day for day in self.change_dates if first_day <= day <= last_day]


@dataclass(frozen=True)
class _SegmentContext:
    schedule: _RateSchedule
    day_count: DayCount
    minimum: int | None

    def denominator(self, day: date) -> int:
        if self.day_count is DayCount.ACTUAL_360:
            return 360
        if self.day_count is DayCount.ACTUAL_ACTUAL and calendar.isleap(day.year):
            return 366
        return 365

    def segment(self, first_day: date, last_day: date, balance: int) -> InterestSegment:
        """``balance`` earning over the days, at the rate and denominator of ``first_day``.

        Callers split at every rate change (and year end for actual/actual) first, so both are
        constant over the segment.
        """
        rate = self.schedule.on(first_day)
        denominator = self.denominator(first_day)
        days = (last_day - first_day).days + 1
        earns = balance > 0 and (self.minimum is None or balance >= self.minimum)
        exact = Fraction(balance) * rate.fraction * days / denominator if earns else Fraction(0)
        return InterestSegment(
            first_day=first_day,
            last_day=last_day,
            days=days,
            balance=balance,
            annual_rate_percent=rate.percent,
            denominator=denominator,
            interest=_fraction_to_decimal(exact),
            exact=exact,
            earns=earns,
        )

    def year_starts_within(self, first_day: date, last_day: date) -> list[date]:
        if self.day_count is not DayCount.ACTUAL_ACTUAL:
            return []
        return [date(year, 1, 1) for year in range(first_day.year + 1, last_day.year + 1)]


def _ranges(first_day: date, last_day: date, starts: Iterable[date]) -> list[tuple[date, date]]:
    """Split ``first_day..last_day`` into consecutive ranges, one starting at each of ``starts``."""
    ordered = sorted({first_day, *(day for day in starts if first_day < day <= last_day)})
    ends = [next_start - _ONE_DAY for next_start in ordered[1:]] + [last_day]
    return list(zip(ordered, ends, strict=True))


def _daily_balance_segments(
    balances: _Balances, first_day: date, last_day: date, context: _SegmentContext
) -> list[InterestSegment]:
    starts = [
        *balances.changes_within(first_day, last_day),
        *context.schedule.changes_within(first_day, last_day),
        *context.year_starts_within(first_day, last_day),
    ]
    segments: list[InterestSegment] = []
    for start, end in _ranges(first_day, last_day, starts):
        balance = balances.closing(start)
        previous = segments[-1] if segments else None
        if (
            previous is not None
            and previous.balance == balance
            and context.schedule.on(start).percent == previous.annual_rate_percent
            and context.denominator(start) == previous.denominator
        ):
            # A day's movements that net to nothing, or a "change" to the same rate, is no boundary.
            segments[-1] = context.segment(previous.first_day, end, balance)
        else:
            segments.append(context.segment(start, end, balance))
    return segments


def _month_parts(first_day: date, last_day: date) -> list[tuple[date, date]]:
    parts: list[tuple[date, date]] = []
    start = first_day
    while start <= last_day:
        month_end = date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
        end = min(month_end, last_day)
        parts.append((start, end))
        start = end + _ONE_DAY
    return parts


def _monthly_segments(
    balances: _Balances,
    first_day: date,
    last_day: date,
    context: _SegmentContext,
    method: InterestMethod,
) -> list[InterestSegment]:
    segments: list[InterestSegment] = []
    for month_first, month_last in _month_parts(first_day, last_day):
        if method is InterestMethod.MONTHLY_MINIMUM_BALANCE:
            carried_in = balances.closing(month_first - _ONE_DAY)
            basis = min(
                [carried_in]
                + [balances.closing(day) for day in balances.changes_within(month_first, month_last)]
            )
        else:
            basis = balances.closing(month_last)
        rate_starts = context.schedule.changes_within(month_first, month_last)
        for start, end in _ranges(month_first, month_last, rate_starts):
            segments.append(context.segment(start, end, basis))
    return segments


# --------------------------------------------------------------------------------------------------
# Term deposits
# --------------------------------------------------------------------------------------------------


def fixed_deposit_maturity(
    *,
    principal: int,
    annual_rate_percent: Decimal,
    term_months: int,
    compound_every_months: int | None,
    rounding: Rounding,
) -> DepositInterestResult:
    """Interest and maturity amount of a fixed deposit paid at maturity.

    ``compound_every_months=None`` is simple interest (``principal x rate x term / 12``); ``3``
    credits interest to the principal every quarter, and so on.
    """
    principal = _require_positive_int(principal, "principal")
    rate = _require_rate(annual_rate_percent, "annual_rate_percent")
    months = _require_positive_int(term_months, "term_months")
    return _deposit_interest(
        principal=principal,
        instalment=0,
        months=months,
        rate_percent=rate,
        compound_every_months=_require_compounding(compound_every_months),
        rounding=_coerce_enum(Rounding, rounding, "rounding"),
    )


def fixed_deposit_premature_closure(
    *,
    principal: int,
    annual_rate_percent: Decimal,
    term_months: int,
    months_completed: int,
    penalty: PrematurePenalty,
    compound_every_months: int | None,
    rounding: Rounding,
) -> DepositInterestResult:
    """A fixed deposit closed after ``months_completed`` whole months (fewer than ``term_months``).

    Interest is paid for the completed months only, at ``penalty.applied_rate(annual_rate_percent)``,
    with the same simple/compounding rule as at maturity. Use :func:`months_completed` to count the
    whole months between the deposit and the closing date.
    """
    principal = _require_positive_int(principal, "principal")
    rate = _require_rate(annual_rate_percent, "annual_rate_percent")
    term = _require_positive_int(term_months, "term_months")
    completed = _require_completed_months(months_completed, term)
    return _deposit_interest(
        principal=principal,
        instalment=0,
        months=completed,
        rate_percent=_penalty_rate(penalty, rate),
        compound_every_months=_require_compounding(compound_every_months),
        rounding=_coerce_enum(Rounding, rounding, "rounding"),
    )


def recurring_deposit_maturity(
    *,
    instalment: int,
    annual_rate_percent: Decimal,
    months: int,
    compound_every_months: int | None = 3,
    rounding: Rounding,
) -> DepositInterestResult:
    """Maturity of a recurring deposit (DPS): ``instalment`` paid at the start of each of ``months``.

    Interest runs monthly on the running balance and is credited every ``compound_every_months``
    (quarterly by default) and at maturity; ``None`` credits only at maturity (simple interest).
    """
    instalment = _require_positive_int(instalment, "instalment")
    rate = _require_rate(annual_rate_percent, "annual_rate_percent")
    count = _require_positive_int(months, "months")
    return _deposit_interest(
        principal=0,
        instalment=instalment,
        months=count,
        rate_percent=rate,
        compound_every_months=_require_compounding(compound_every_months),
        rounding=_coerce_enum(Rounding, rounding, "rounding"),
    )


def recurring_deposit_premature_closure(
    *,
    instalment: int,
    annual_rate_percent: Decimal,
    months: int,
    months_completed: int,
    penalty: PrematurePenalty,
    compound_every_months: int | None = 3,
    rounding: Rounding,
) -> DepositInterestResult:
    """A DPS closed after ``months_completed`` whole months, each with its instalment paid.

    Interest on those instalments, for those months, at the penalty rate, credited as at maturity.
    An account with missed or irregular instalments is better computed with
    :func:`savings_interest` over its real movements.
    """
    instalment = _require_positive_int(instalment, "instalment")
    rate = _require_rate(annual_rate_percent, "annual_rate_percent")
    count = _require_positive_int(months, "months")
    completed = _require_completed_months(months_completed, count)
    return _deposit_interest(
        principal=0,
        instalment=instalment,
        months=completed,
        rate_percent=_penalty_rate(penalty, rate),
        compound_every_months=_require_compounding(compound_every_months),
        rounding=_coerce_enum(Rounding, rounding, "rounding"),
    )


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's end (31 Jan + 1 month = 29 Feb 2028)."""
    day = _require_date(day, "day")
    months = _require_int(months, "months")
    index = day.year * _MONTHS_PER_YEAR + day.month - 1 + months
    year, month = divmod(index, _MONTHS_PER_YEAR)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def months_completed(*, opened_on: date, closed_on: date) -> int:
    """Whole months from ``opened_on`` to ``closed_on``.

    Month n is complete on ``add_months(opened_on, n)``: a deposit of 31 January has one month on
    29 February 2028, and a deposit of 15 March has two months on 15 May but one on 14 May.
    """
    opened_on = _require_date(opened_on, "opened_on")
    closed_on = _require_date(closed_on, "closed_on")
    if closed_on < opened_on:
        raise InterestInputError("closed_on", f"{closed_on} is before opened_on {opened_on}")
    count = (closed_on.year - opened_on.year) * _MONTHS_PER_YEAR + closed_on.month - opened_on.month
    if add_months(opened_on, count) > closed_on:
        count -= 1
    return count


def _deposit_interest(
    *,
    principal: int,
    instalment: int,
    months: int,
    rate_percent: Decimal,
    compound_every_months: int | None,
    rounding: Rounding,
) -> DepositInterestResult:
    """Month by month: pay the instalment, earn ``rate / 12`` on the balance, credit at block ends."""
    monthly_rate = Fraction(rate_percent) / (_HUNDRED * _MONTHS_PER_YEAR)
    balance = Fraction(principal)
    pending = Fraction(0)
    periods: list[DepositPeriod] = []
    block_first, block_opening, block_deposited = 1, balance, 0
    for month in range(1, months + 1):
        balance += instalment
        block_deposited += instalment
        pending += balance * monthly_rate
        block_ends = month == months or (
            compound_every_months is not None and month % compound_every_months == 0
        )
        if block_ends:
            periods.append(
                DepositPeriod(
                    first_month=block_first,
                    last_month=month,
                    opening_balance=_fraction_to_decimal(block_opening),
                    deposited=block_deposited,
                    interest=_fraction_to_decimal(pending),
                )
            )
            balance += pending
            pending = Fraction(0)
            block_first, block_opening, block_deposited = month + 1, balance, 0
    deposited = principal + instalment * months
    exact = balance - deposited
    interest = _round_fraction(exact, rounding)
    return DepositInterestResult(
        deposited=deposited,
        interest=interest,
        unrounded=_fraction_to_decimal(exact),
        exact=exact,
        maturity_amount=deposited + interest,
        annual_rate_percent=rate_percent,
        months=months,
        periods=tuple(periods),
    )


def _penalty_rate(penalty: PrematurePenalty, contract_rate: Decimal) -> Decimal:
    if not isinstance(penalty, PrematurePenalty):
        raise InterestInputError("penalty", f"must be a PrematurePenalty, got {penalty!r}")
    return penalty.applied_rate(contract_rate)


def _require_compounding(value: int | None) -> int | None:
    if value is None:
        return None
    return _require_positive_int(value, "compound_every_months")


def _require_completed_months(value: int, term: int) -> int:
    completed = _require_int(value, "months_completed")
    if not 0 <= completed < term:
        raise InterestInputError(
            "months_completed", f"must be from 0 to {term - 1} for a premature closure, got {completed}"
        )
    return completed


# --------------------------------------------------------------------------------------------------
# Validation and exact rounding
# --------------------------------------------------------------------------------------------------

_EnumT = TypeVar("_EnumT", bound=StrEnum)


def _coerce_enum(enum_type: type[_EnumT], value: object, field: str) -> _EnumT:
    """Accept the enum member or its stored string value (``"daily_balance"``)."""
    if isinstance(value, enum_type):
        return value
    if isinstance(value, str):
        try:
            return enum_type(value)
        except ValueError:
            pass
    allowed = ", ".join(member.value for member in enum_type)
    raise InterestInputError(field, f"unknown value {value!r}; expected one of {allowed}")


def _require_date(value: object, field: str) -> date:
    # datetime is a date subclass, but comparing one with a date raises; refuse it up front.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InterestInputError(field, f"must be a datetime.date, got {value!r}")
    return value


def _require_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InterestInputError(field, f"must be an int (minor units or a count), got {value!r}")
    return value


def _require_positive_int(value: object, field: str) -> int:
    number = _require_int(value, field)
    if number <= 0:
        raise InterestInputError(field, f"must be positive, got {number}")
    return number


def _require_rate(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InterestInputError(field, f"must be a Decimal percentage (not a float), got {value!r}")
    rate = Decimal(value)
    if not rate.is_finite():
        raise InterestInputError(field, f"must be a finite number, got {value!r}")
    if rate < 0:
        raise InterestInputError(field, f"must not be negative, got {rate}")
    return rate


def _round_fraction(value: Fraction, rounding: Rounding) -> int:
    """``value`` rounded to an integer with ``rounding``, exactly (no binary or decimal precision)."""
    sign = -1 if value < 0 else 1
    whole, remainder = divmod(abs(value.numerator), value.denominator)
    if remainder == 0 or rounding is Rounding.DOWN:
        return sign * whole
    if rounding is Rounding.UP:
        return sign * (whole + 1)
    twice = 2 * remainder
    if twice > value.denominator or (twice == value.denominator and rounding is Rounding.HALF_UP):
        return sign * (whole + 1)
    if twice == value.denominator and whole % 2 == 1:  # half_even tie: go to the even neighbour
        return sign * (whole + 1)
    return sign * whole


def _fraction_to_decimal(value: Fraction) -> Decimal:
    scaled = _round_fraction(value * 10**UNROUNDED_PLACES, Rounding.HALF_EVEN)
    return _scaled_decimal(scaled, UNROUNDED_PLACES)


def _scaled_decimal(digits: int, places: int) -> Decimal:
    """``digits x 10**-places``, built from a string so the context precision cannot round it."""
    return Decimal(f"{digits}E-{places}")
