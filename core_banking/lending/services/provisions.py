"""The loan-loss provision's ageing buckets and rates, set per cooperative.

A bucket is a lower bound in days past due and the percent of the principal outstanding held
against loans from that bound up to the next one. The close of business reads them; a workspace
that never set them gets the defaults on first use (``provision_rates_ensure``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.lending.models import ProvisionRate
from tenants.db import workspace_language

PROVISION_ACCOUNT_CODE = "1390"  # loan-loss provision (contra asset: a credit balance)
PROVISION_EXPENSE_CODE = "5200"  # provision for loan losses (expense)


@dataclass(frozen=True)
class ProvisionBucket:
    """One bucket as given to ``provision_rates_set``; an empty label is named from the bounds."""

    min_days_past_due: int
    rate_percent: Decimal
    label: str = ""


# Days past due from which each rate applies: not late 1 %, 1–30 days 5 %, 31–90 days 25 %,
# 91–180 days 50 %, more than 180 days 100 %.
DEFAULT_BUCKETS: tuple[ProvisionBucket, ...] = (
    ProvisionBucket(0, Decimal("1")),
    ProvisionBucket(1, Decimal("5")),
    ProvisionBucket(31, Decimal("25")),
    ProvisionBucket(91, Decimal("50")),
    ProvisionBucket(181, Decimal("100")),
)


def bucket_label(lower: int, upper: int | None) -> str:
    """How a bucket reads by its bounds (``upper`` is the next bucket's lower bound)."""
    if lower == 0 and upper == 1:
        return _("Not overdue")
    if upper is None:
        return _("%(days)s days past due or more") % {"days": lower}
    return _("%(first)s–%(last)s days past due") % {"first": lower, "last": upper - 1}


def _problems(buckets: Sequence[ProvisionBucket]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    bounds = [bucket.min_days_past_due for bucket in buckets]
    if 0 not in bounds:
        problems["rates"] = [_("A bucket must start at 0 days past due.")]
    if len(set(bounds)) != len(bounds):
        problems.setdefault("rates", []).append(_("Each bucket starts at a different day."))
    for number, bucket in enumerate(buckets):
        days = bucket.min_days_past_due
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            problems[f"rates[{number}].min_days_past_due"] = [_("A whole number of days, 0 or more.")]
        rate = bucket.rate_percent
        if not isinstance(rate, Decimal) or not rate.is_finite() or not Decimal(0) <= rate <= Decimal(100):
            problems[f"rates[{number}].rate_percent"] = [_("A percentage between 0 and 100.")]
        elif rate != rate.quantize(Decimal("0.0001")):
            problems[f"rates[{number}].rate_percent"] = [_("At most four decimal places.")]
        if len(bucket.label) > 60:
            problems[f"rates[{number}].label"] = [_("At most 60 characters.")]
    return problems


def _rows(buckets: Sequence[ProvisionBucket]) -> list[ProvisionRate]:
    ordered = sorted(buckets, key=lambda bucket: bucket.min_days_past_due)
    uppers: list[int | None] = [bucket.min_days_past_due for bucket in ordered[1:]]
    uppers.append(None)
    with translation.override(workspace_language()):
        return [
            ProvisionRate(
                min_days_past_due=bucket.min_days_past_due,
                rate_percent=bucket.rate_percent,
                label=bucket.label.strip() or bucket_label(bucket.min_days_past_due, upper),
            )
            for bucket, upper in zip(ordered, uppers, strict=True)
        ]


def _as_dicts(rows: Sequence[ProvisionRate]) -> list[dict[str, Any]]:
    return [
        {
            "min_days_past_due": row.min_days_past_due,
            "rate_percent": str(row.rate_percent),
            "label": row.label,
        }
        for row in rows
    ]


@transaction.atomic
def provision_rates_set(*, actor: Any | None, rates: Sequence[ProvisionBucket]) -> list[ProvisionRate]:
    """Replace the cooperative's buckets and rates; the next close of business provisions with them."""
    problems = _problems(rates)
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, _("Some provision rates are not valid."), fields=problems
        )
    before = list(ProvisionRate.objects.select_for_update().order_by("min_days_past_due"))
    ProvisionRate.objects.all().delete()
    created = ProvisionRate.objects.bulk_create(_rows(rates))
    audit_record(
        actor=actor,
        action="lending.provision_rates.set",
        object_type="lending.provisionrate",
        changes={"before": _as_dicts(before), "after": _as_dicts(created)},
    )
    return created


def provision_rates_ensure() -> list[ProvisionRate]:
    """The buckets in force; the defaults are written first when the cooperative has none yet."""
    rows = list(ProvisionRate.objects.order_by("min_days_past_due"))
    if rows:
        return rows
    with transaction.atomic():
        ProvisionRate.objects.bulk_create(_rows(DEFAULT_BUCKETS), ignore_conflicts=True)
    return list(ProvisionRate.objects.order_by("min_days_past_due"))
