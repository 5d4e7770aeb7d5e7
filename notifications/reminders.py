"""Instalment reminders (N2): before an instalment falls due and on the first days it is overdue.

Per the workspace's settings (``NotificationSettings``): an "upcoming" reminder ``upcoming_reminder_days``
days before the due date, and an "overdue" reminder on each of the first ``overdue_reminder_days``
days after it, for what is still owed on the instalment. Days are counted on the cooperative's own
clock (its time zone), and nothing is queued before ``send_hour`` there.

At most one reminder per instalment per day, however often the job runs: each reminder's outbox
``source_ref`` is ``reminder:<instalment id>:<local date>``, and the outbox is unique per
(source_ref, kind), so a second run that day inserts nothing. A run that day after the hour (a late
worker) still queues the day's reminders; a day with no run at all sends none that day (a reminder
for yesterday would be wrong today).

Messages go to the member's phone in the member's language, as every outbox row; a member without
a valid number gets a row staff see as not sendable, and an opted-out number is the relay's to skip.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q

from core_banking.lending.models import LoanInstallment, LoanStatus
from notifications.models import MessageKind, OutboxMessage
from notifications.services import outbox_rows
from notifications.templates_models import NotificationChoices, notification_settings_current
from tenants.db import workspace_currency


@dataclass(frozen=True)
class ReminderRun:
    local_date: dt.date | None  # None: before the sending hour, nothing looked at
    upcoming: int = 0  # rows inserted now (0 on a second run the same day)
    overdue: int = 0
    considered: list[str] = field(default_factory=list)  # the source refs due today

    def as_dict(self) -> dict[str, Any]:
        return {
            "local_date": self.local_date.isoformat() if self.local_date else None,
            "upcoming": self.upcoming,
            "overdue": self.overdue,
            "due_today": len(self.considered),
        }


def reminder_source_ref(installment_id: int, local_date: dt.date) -> str:
    return f"reminder:{installment_id}:{local_date.isoformat()}"


def _still_owed() -> Any:
    return (
        F("principal_minor")
        - F("principal_paid_minor")
        + F("interest_minor")
        - F("interest_waived_minor")
        - F("interest_paid_minor")
        + F("fee_minor")
        - F("fee_paid_minor")
        + F("penalty_minor")
        - F("penalty_paid_minor")
    )


def reminder_dates(local_date: dt.date, choices: NotificationChoices) -> dict[dt.date, MessageKind]:
    """The due dates that get a reminder on ``local_date``, and which kind."""
    dates: dict[dt.date, MessageKind] = {}
    if choices.upcoming_reminder_days > 0:
        dates[local_date + dt.timedelta(days=choices.upcoming_reminder_days)] = MessageKind.UPCOMING_REMINDER
    for days_late in range(1, choices.overdue_reminder_days + 1):
        dates[local_date - dt.timedelta(days=days_late)] = MessageKind.OVERDUE_REMINDER
    return dates


def reminders_enqueue(*, local_now: dt.datetime) -> ReminderRun:
    """Queue today's reminders in the current workspace; ``local_now`` is on its own clock."""
    choices = notification_settings_current()
    if local_now.hour < choices.send_hour:
        return ReminderRun(local_date=None)
    today = local_now.date()
    dates = reminder_dates(today, choices)
    if not dates:
        return ReminderRun(local_date=today)
    due = (
        LoanInstallment.objects.filter(loan__status=LoanStatus.ACTIVE, due_date__in=list(dates))
        .annotate(owed=_still_owed())
        .filter(Q(owed__gt=0))
        .select_related("loan__member")
        .order_by("due_date", "loan_id", "number")
    )
    currency = workspace_currency()
    rows: list[OutboxMessage] = []
    for installment in due:
        kind = dates[installment.due_date]
        rows.append(
            outbox_rows(
                kind=kind,
                source_ref=reminder_source_ref(installment.pk, today),
                member=installment.loan.member,
                context={
                    "loan": installment.loan.number,
                    "installment_number": installment.number,
                    "due_date": installment.due_date.isoformat(),
                    "due_minor": int(installment.owed),
                    "currency": currency,
                    "days": abs((installment.due_date - today).days),
                },
            )
        )
    refs = [row.source_ref for row in rows]
    already = set(OutboxMessage.objects.filter(source_ref__in=refs).values_list("source_ref", flat=True))
    # The unique (source_ref, kind) is what holds under concurrent runs; ``already`` only counts.
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    inserted = [row for row in rows if row.source_ref not in already]
    return ReminderRun(
        local_date=today,
        upcoming=sum(1 for row in inserted if row.kind == MessageKind.UPCOMING_REMINDER),
        overdue=sum(1 for row in inserted if row.kind == MessageKind.OVERDUE_REMINDER),
        considered=refs,
    )
