"""Who must hear that a group's meeting day changed (lending moves weekly loans' due dates).

A listener is a plain callable taking a ``MeetingDayChange``; ``group_update`` calls every
registered listener inside its own transaction, after the change is written and audited, so
what a listener writes commits or rolls back with it. Register from an app's ``ready()``.
No Django signals: the call is explicit in the service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core_banking.members.models import MemberGroup


@dataclass(frozen=True)
class MeetingDayChange:
    group: MemberGroup
    weekday_before: int
    weekday_after: int
    actor: Any | None


MeetingDayListener = Callable[[MeetingDayChange], None]

_listeners: list[MeetingDayListener] = []


def register(listener: MeetingDayListener) -> MeetingDayListener:
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def unregister(listener: MeetingDayListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def notify(change: MeetingDayChange) -> None:
    for listener in tuple(_listeners):
        listener(change)
