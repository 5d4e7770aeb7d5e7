"""SMS metering: messages and segments a workspace sent, per calendar month on its own clock.

What counts as sent is what the gateway **accepted** (``sent_at`` is set when it answers with a
message id): the gateway bills every segment it accepted, whether the network later delivers it
or reports it failed or undelivered. Messages that never reached the gateway (no valid number, an
opted-out number, dead after retries) cost nothing and are counted apart, as not sent.

A sent message belongs to the month of its ``sent_at``, a message not sent to the month it was
written (``created_at``), both in the cooperative's time zone: a message sent at 01:00 on the 1st
in Dhaka is that month's, although it is still the previous month in UTC.

Runs inside the workspace's schema.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth

from notifications.models import OutboxMessage, OutboxStatus

# Settled without reaching the gateway. A message that is still pending or being sent is neither
# sent nor not sent yet.
NOT_SENT_STATUSES = (OutboxStatus.NO_RECIPIENT, OutboxStatus.OPTED_OUT, OutboxStatus.DEAD)


@dataclass(frozen=True)
class SmsMonth:
    month: dt.date  # the first day of the month, on the cooperative's calendar
    sent: int  # messages the gateway accepted
    segments: int  # their segments: what the gateway bills
    not_sent: int  # no valid number, opted out, dead


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def months_before(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months before ``month`` (a first of the month)."""
    index = month.year * 12 + month.month - 1 - count
    return dt.date(index // 12, index % 12 + 1, 1)


def _local_midnight(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def sms_months(*, zone: zoneinfo.ZoneInfo, first: dt.date, last: dt.date) -> list[SmsMonth]:
    """Every month from ``first`` to ``last`` (months, inclusive), oldest first; one aggregate query.

    Months without a message are there with zeros, so a chart has a column for each.
    """
    first, last = month_start(first), month_start(last)
    lower = _local_midnight(first, zone)
    upper = _local_midnight(months_before(last, -1), zone)
    accepted = Q(sent_at__isnull=False)
    not_sent = Q(sent_at__isnull=True, status__in=NOT_SENT_STATUSES)
    rows = (
        OutboxMessage.objects.filter(
            Q(sent_at__gte=lower, sent_at__lt=upper)
            | (not_sent & Q(created_at__gte=lower, created_at__lt=upper))
        )
        .annotate(month=TruncMonth(Coalesce("sent_at", "created_at"), tzinfo=zone))
        .values("month")
        .annotate(
            sent=Count("id", filter=accepted),
            segments=Coalesce(Sum("segments", filter=accepted), 0),
            not_sent=Count("id", filter=not_sent),
        )
        .order_by("month")
    )
    found = {row["month"].date(): row for row in rows}
    months = []
    month = first
    while month <= last:
        row = found.get(month)
        months.append(
            SmsMonth(
                month=month,
                sent=row["sent"] if row else 0,
                segments=row["segments"] if row else 0,
                not_sent=row["not_sent"] if row else 0,
            )
        )
        month = months_before(month, -1)
    return months


def sms_this_month(*, zone: zoneinfo.ZoneInfo, today: dt.date) -> SmsMonth:
    """The month ``today`` (a date on the cooperative's calendar) falls in."""
    return sms_months(zone=zone, first=today, last=today)[0]


# --- The workspace's page: this month against the allowance, and the last twelve months ----------

MONTHS_SHOWN = 12
CHART_HEIGHT = 100.0
BAR_STEP = 10.0
BAR_WIDTH = 7.0


@dataclass(frozen=True)
class MonthBar:
    month: SmsMonth
    label: str  # the month as the reader writes it ("নভে ২০২৬", "พ.ย. 2569")
    sent_text: str
    segments_text: str
    not_sent_text: str
    x: float
    y: float
    height: float
    over: bool  # more segments than the plan allows in a month


@dataclass(frozen=True)
class SmsUsage:
    this_month: SmsMonth
    allowance: int | None  # segments a month; None: no plan, or no limit
    sent_text: str
    segments_text: str
    not_sent_text: str
    allowance_text: str
    cost_text: str  # what the gateway charges for this month's segments, at the configured price
    bars: list[MonthBar]
    chart_width: float
    chart_height: float
    allowance_y: float | None  # where the allowance line is drawn

    @property
    def percent(self) -> int | None:
        if not self.allowance:
            return None
        return round(100 * self.this_month.segments / self.allowance)

    @property
    def bar_percent(self) -> int:
        """The filled share of the allowance bar (full when over, an allowance of 0 included)."""
        if self.over:
            return 100
        return min(self.percent or 0, 100)

    @property
    def over(self) -> bool:
        return self.allowance is not None and self.this_month.segments > self.allowance

    @property
    def near(self) -> bool:
        from billing.selectors import NEAR_LIMIT

        return (
            self.allowance is not None
            and not self.over
            and self.this_month.segments >= self.allowance * NEAR_LIMIT
        )


def sms_usage(cooperative: Any, language: str, *, today: dt.date | None = None) -> SmsUsage:
    """What the workspace's SMS page shows, in ``language`` (run inside ``cooperative``'s schema)."""
    from billing.selectors import sms_allowance
    from frontend.formatting import format_count, format_local_date
    from notifications.texts import sms_cost_text

    native = bool(cooperative.use_native_digits)

    def count(value: int) -> str:
        return format_count(value, language, native_digits=native)

    today = today or cooperative.business_date()
    last = month_start(today)
    months = sms_months(zone=cooperative.zone, first=months_before(last, MONTHS_SHOWN - 1), last=last)
    allowance = sms_allowance(cooperative)
    tallest = max([month.segments for month in months] + [allowance or 0]) or 1
    bars = []
    for index, month in enumerate(months):
        height = round(CHART_HEIGHT * month.segments / tallest, 2)
        bars.append(
            MonthBar(
                month=month,
                label=format_local_date(month.month, language, native_digits=native, style="MMM yyyy"),
                sent_text=count(month.sent),
                segments_text=count(month.segments),
                not_sent_text=count(month.not_sent),
                x=index * BAR_STEP + (BAR_STEP - BAR_WIDTH) / 2,
                y=round(CHART_HEIGHT - height, 2),
                height=height,
                over=allowance is not None and month.segments > allowance,
            )
        )
    this_month = months[-1]
    return SmsUsage(
        this_month=this_month,
        allowance=allowance,
        sent_text=count(this_month.sent),
        segments_text=count(this_month.segments),
        not_sent_text=count(this_month.not_sent),
        allowance_text=count(allowance) if allowance is not None else "",
        cost_text=sms_cost_text(this_month.segments, cooperative.currency, language, native_digits=native),
        bars=bars,
        chart_width=len(months) * BAR_STEP,
        chart_height=CHART_HEIGHT,
        allowance_y=round(CHART_HEIGHT - CHART_HEIGHT * allowance / tallest, 2) if allowance else None,
    )
