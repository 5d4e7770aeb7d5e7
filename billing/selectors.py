"""Billing's reads: plans for the public site, usage against a plan's limits, a cooperative's state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import tenant_context

from billing.models import BillingAccount, OneTimeCharge, Plan, PlanPrice
from tenants.models import Cooperative

# Share of a limit from which usage is shown as close to it.
NEAR_LIMIT = 0.9


def plans_public() -> list[Plan]:
    """The plans offered on the public site, with their prices (one query for both)."""
    return list(
        Plan.objects.filter(is_public=True).prefetch_related(
            Prefetch("prices", queryset=PlanPrice.objects.order_by("currency"))
        )
    )


def plan_currencies() -> list[str]:
    return sorted(set(PlanPrice.objects.filter(plan__is_public=True).values_list("currency", flat=True)))


@dataclass(frozen=True)
class WorkspaceCounts:
    members: int
    branches: int
    staff_users: int
    sms_this_month: int  # messages the gateway accepted since the first of the month
    sms_segments_this_month: int  # their segments: what the plan's SMS allowance counts


def workspace_counts(cooperative: Cooperative, *, at: dt.datetime | None = None) -> WorkspaceCounts:
    """What the workspace uses now, counted inside its own schema.

    Members: everyone not exited. Staff: active users with a staff profile. SMS: messages the
    gateway accepted, and their segments, since the first of this month on the cooperative's own
    clock (``notifications.metering``: by ``sent_at``, not by when the message was written).
    """
    from core_banking.members.models import Member, MemberStatus
    from core_banking.organisation.models import Branch
    from notifications.metering import sms_this_month

    with tenant_context(cooperative):
        sms = sms_this_month(zone=cooperative.zone, today=cooperative.business_date(at))
        return WorkspaceCounts(
            members=Member.objects.exclude(status=MemberStatus.EXITED).count(),
            branches=Branch.objects.count(),
            staff_users=get_user_model().objects.filter(is_active=True, staff_profile__isnull=False).count(),
            sms_this_month=sms.sent,
            sms_segments_this_month=sms.segments,
        )


@dataclass(frozen=True)
class UsageLine:
    metric: str
    label: str | Promise
    used: int
    limit: int | None  # None: unlimited

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used > self.limit

    @property
    def near(self) -> bool:
        return self.limit is not None and not self.over and self.used >= self.limit * NEAR_LIMIT

    @property
    def percent(self) -> int | None:
        if not self.limit:
            return None
        return round(100 * self.used / self.limit)


@dataclass(frozen=True)
class Usage:
    cooperative: Cooperative
    plan: Plan | None
    lines: tuple[UsageLine, ...]
    measured_at: dt.datetime

    @property
    def over_limits(self) -> list[UsageLine]:
        return [line for line in self.lines if line.over]

    @property
    def warnings(self) -> list[UsageLine]:
        return [line for line in self.lines if line.over or line.near]


USAGE_METRICS = (
    ("members", _("Members"), "max_members"),
    ("branches", _("Branches"), "max_branches"),
    ("staff_users", _("Staff users"), "max_staff_users"),
    # Gateways bill per segment (a long or UCS-2 text is several), so the plan's SMS allowance
    # counts segments, not messages.
    ("sms_segments_this_month", _("SMS segments this month"), "sms_per_month"),
)


def usage_against_limits(cooperative: Cooperative) -> Usage:
    """Members, branches, staff users and SMS segments sent this month against the plan's limits.

    Going over a limit is a warning for the cooperative and for operations staff; nothing is
    refused because of it. Without a billing account every limit is shown as unlimited.
    """
    account = BillingAccount.objects.select_related("plan").filter(cooperative=cooperative).first()
    plan = account.plan if account is not None else None
    counts = workspace_counts(cooperative)
    lines = tuple(
        UsageLine(
            metric=metric,
            label=label,
            used=getattr(counts, metric),
            limit=getattr(plan, limit_field) if plan is not None else None,
        )
        for metric, label, limit_field in USAGE_METRICS
    )
    return Usage(cooperative=cooperative, plan=plan, lines=lines, measured_at=timezone.now())


def sms_allowance(cooperative: Cooperative) -> int | None:
    """The plan's SMS allowance in segments a month; None without a plan or a limit."""
    return (
        BillingAccount.objects.filter(cooperative=cooperative)
        .values_list("plan__sms_per_month", flat=True)
        .first()
    )


@dataclass(frozen=True)
class BillingState:
    """What the workspace's banner and the operations console show about a cooperative's billing."""

    lifecycle: str
    plan: Plan | None
    subscription_status: str
    current_period_end: dt.datetime | None
    grace_deadline: dt.datetime | None


def _state_of(cooperative: Cooperative, account: BillingAccount | None) -> BillingState:
    return BillingState(
        lifecycle=cooperative.lifecycle,
        plan=account.plan if account else None,
        subscription_status=account.subscription_status if account else "",
        current_period_end=account.current_period_end if account else None,
        grace_deadline=account.grace_deadline if account else None,
    )


def billing_state(cooperative: Cooperative) -> BillingState:
    account = BillingAccount.objects.select_related("plan").filter(cooperative=cooperative).first()
    return _state_of(cooperative, account)


def billing_states(cooperatives: Iterable[Cooperative]) -> dict[int, BillingState]:
    """``billing_state`` of many cooperatives, keyed by id, in one query (the console's tenant list)."""
    by_id = {cooperative.pk: cooperative for cooperative in cooperatives}
    if not by_id:
        return {}
    accounts = {
        account.cooperative_id: account
        for account in BillingAccount.objects.select_related("plan").filter(cooperative_id__in=list(by_id))
    }
    return {pk: _state_of(cooperative, accounts.get(pk)) for pk, cooperative in by_id.items()}


def one_time_charges_for(cooperative: Cooperative, *, limit: int = 50) -> list[OneTimeCharge]:
    """The cooperative's one-time charges, newest first."""
    return list(
        OneTimeCharge.objects.filter(account__cooperative=cooperative).order_by("-created_at", "-id")[:limit]
    )


def plans_billable_in(currency: str) -> list[Plan]:
    """Every plan (public or not) that has a price in ``currency``: what a cooperative may move to."""
    return list(
        Plan.objects.filter(prices__currency=currency.upper()).distinct().order_by("sort_order", "id")
    )
