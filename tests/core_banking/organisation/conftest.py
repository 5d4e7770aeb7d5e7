"""Calendar fixtures: alpha's branches and a listener registered for one test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core_banking.organisation import calendar_listeners
from core_banking.organisation.calendar_listeners import CalendarChange
from core_banking.organisation.models import Branch


@pytest.fixture
def head_office(in_alpha: object) -> Branch:
    return Branch.objects.get(is_head_office=True)


@pytest.fixture
def br1(in_alpha: object) -> Branch:
    return Branch.objects.get(code="BR1")


@pytest.fixture
def heard() -> Iterator[list[CalendarChange]]:
    """The calendar changes a listener registered for this test hears."""
    changes: list[CalendarChange] = []

    def listener(change: CalendarChange) -> None:
        changes.append(change)

    calendar_listeners.register(listener)
    yield changes
    calendar_listeners.unregister(listener)
