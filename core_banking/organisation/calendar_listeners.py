"""Who must hear of a change to the working-day calendar, e.g. to move the due dates of live loans.

A listener is a plain callable taking a ``CalendarChange``. The calendar services call every
registered listener inside their own transaction, after the change is written and audited: what a
listener writes commits with the change, and a listener that raises rolls the change back with it.
Register once per process, from an app's ``AppConfig.ready()``::

    from core_banking.organisation import calendar_listeners

    calendar_listeners.register(reschedule_live_loans)
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core_banking.organisation.working_days import yearly_occurrence

if TYPE_CHECKING:
    from core_banking.organisation.models import Branch


class CalendarChangeKind(enum.StrEnum):
    HOLIDAY_ADDED = "holiday_added"
    HOLIDAY_REMOVED = "holiday_removed"
    WEEKLY_OFF_DAYS_CHANGED = "weekly_off_days_changed"


@dataclass(frozen=True)
class CalendarChange:
    """One change to the calendar.

    ``branch`` is the branch whose calendar changed, or None for the whole cooperative. For a holiday,
    ``holiday`` is its date (the first one when ``every_year``). For weekly off-days, ``weekdays_before``
    and ``weekdays_after`` are the days off that apply to ``branch`` (the cooperative's when it has none
    of its own) before and after; when the cooperative's days change, the branches in
    ``branches_unaffected`` keep days of their own and nothing changes for them.
    """

    kind: CalendarChangeKind
    branch: Branch | None
    actor: Any | None
    holiday: dt.date | None = None
    every_year: bool = False
    weekdays_before: frozenset[int] = frozenset()
    weekdays_after: frozenset[int] = frozenset()
    branches_unaffected: frozenset[int] = field(default_factory=frozenset)

    @property
    def weekdays_changed(self) -> frozenset[int]:
        """The weekdays that became, or stopped being, days off."""
        return self.weekdays_before ^ self.weekdays_after

    def applies_to_branch(self, branch_id: int) -> bool:
        if self.branch is not None:
            return self.branch.pk == branch_id
        return branch_id not in self.branches_unaffected

    def affects(self, day: dt.date) -> bool:
        """Whether ``day`` turned from a working day into a day off, or back (in the changed scope)."""
        if self.kind == CalendarChangeKind.WEEKLY_OFF_DAYS_CHANGED:
            return day.weekday() in self.weekdays_changed
        if self.holiday is None:
            return False
        if self.every_year:
            return yearly_occurrence(self.holiday, day.year) == day
        return day == self.holiday


CalendarListener = Callable[[CalendarChange], None]

_listeners: list[CalendarListener] = []


def register(listener: CalendarListener) -> CalendarListener:
    """Call ``listener`` on every calendar change from now on (once, however often it is registered)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def unregister(listener: CalendarListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def listeners() -> tuple[CalendarListener, ...]:
    return tuple(_listeners)


def notify(change: CalendarChange) -> None:
    """Call every listener in the order registered; an exception propagates to the caller's transaction."""
    for listener in tuple(_listeners):
        listener(change)
