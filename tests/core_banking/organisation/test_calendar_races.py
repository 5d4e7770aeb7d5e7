"""Calendar changes racing each other, each in its own connection and committed transaction: the
cooperative's calendar lock lets one yearly holiday through per day and month."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.organisation.models import Holiday
from core_banking.organisation.services import holiday_create
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.core_banking.threads import in_threads

# The test's own connection only reads what the threads committed.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def committed_calendar(django_db_setup: None, django_db_blocker: Any) -> Cooperative:
    """A workspace of its own whose calendar changes really commit."""
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Calendar race", slug=f"cal-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@calendar.example"),
        )
        connection.close()
    return cooperative


def test_racing_yearly_holidays_on_one_day_let_one_through(committed_calendar: Cooperative) -> None:
    def add(number: int) -> int:
        # Different first years, so no unique constraint stops them: only the lock does.
        day = dt.date(2026 + number, 5, 1)
        return holiday_create(actor=None, day=day, name=f"May Day {number}", every_year=True).pk

    results = in_threads(6, add, committed_calendar)
    refused = [result for result in results if isinstance(result, BusinessRuleViolation)]
    assert len(refused) == 5, results
    assert {violation.code for violation in refused} == {ErrorCode.HOLIDAY_EXISTS}
    with tenant_context(committed_calendar):
        assert Holiday.objects.filter(day__month=5, day__day=1).count() == 1


def test_racing_additions_of_one_date_let_one_through(committed_calendar: Cooperative) -> None:
    results = in_threads(
        6,
        lambda number: holiday_create(actor=None, day=dt.date(2026, 12, 16), name=f"Victory Day {number}").pk,
        committed_calendar,
    )
    assert sum(isinstance(result, int) for result in results) == 1, results
    with tenant_context(committed_calendar):
        assert Holiday.objects.filter(day=dt.date(2026, 12, 16)).count() == 1
