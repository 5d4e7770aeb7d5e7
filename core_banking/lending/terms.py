"""From a product, an application and the branch's calendar to the schedule engine's terms.

The engine (``core_banking.lending.schedule``) reads the same JSON the CLI and the preview API
take; a loan keeps its terms as that JSON (``Loan.terms_json``), so its schedule can always be
recomputed and checked by anyone with the engine alone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core_banking.lending.schedule import LoanTerms, Schedule, TermsError, schedule_generate, terms_from_json
from core_banking.money import from_minor

if TYPE_CHECKING:
    from core_banking.lending.models import LoanProduct
    from core_banking.members.models import Member
    from core_banking.organisation.models import Branch

# How far ahead holidays are read for a new schedule: the longest loan a cooperative gives.
_CALENDAR_YEARS = 30


def rate_on(product: LoanProduct, day: dt.date) -> Decimal | None:
    """The product's annual rate in force on ``day`` (None before its first rate)."""
    rate = product.rates.filter(effective_from__lte=day).order_by("-effective_from").first()
    return rate.annual_rate if rate is not None else None


def _later_rates(product: LoanProduct, day: dt.date) -> list[dict[str, str]]:
    if product.pk is None:  # a product being checked before it is saved has no rates yet
        return []
    return [
        {"effective_from": rate.effective_from.isoformat(), "annual_rate": str(rate.annual_rate)}
        for rate in product.rates.filter(effective_from__gt=day).order_by("effective_from")
    ]


def _days_setting(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def calendar_json(branch: Branch | None, start: dt.date, years: int = _CALENDAR_YEARS) -> dict[str, Any]:
    """The branch's weekly off-days and holidays from ``start`` on, as the engine's terms name them."""
    from core_banking.organisation.selectors import working_calendar

    if branch is None:
        return {}
    end = (
        start.replace(year=start.year + years)
        if not (start.month == 2 and start.day == 29)
        else start.replace(year=start.year + years, day=28)
    )
    calendar = working_calendar(branch=branch, start=start, end=end)
    return {
        "holidays": sorted(day.isoformat() for day in calendar.holidays if day >= start),
        "weekly_off_days": sorted(calendar.weekly_off_days),
    }


def terms_json_for(
    *,
    product: LoanProduct,
    principal_minor: int,
    currency: str,
    installments: int,
    disbursement_date: dt.date,
    annual_rate: Decimal | None = None,
    branch: Branch | None = None,
    member: Member | None = None,
    first_due_date: dt.date | None = None,
) -> dict[str, Any]:
    """The engine's terms for a loan of ``product``: product settings, rate, calendar, meeting day."""
    rate = annual_rate if annual_rate is not None else rate_on(product, disbursement_date)
    terms: dict[str, Any] = {
        "principal": from_minor(principal_minor, currency),
        "currency": currency,
        "annual_rate": str(rate if rate is not None else Decimal(0)),
        "interest_method": product.interest_method,
        "amortization": product.amortization,
        "interest_period": product.interest_period,
        "days_in_year": _days_setting(product.days_in_year),
        "days_in_month": _days_setting(product.days_in_month),
        "frequency": product.frequency,
        "repay_every": product.repay_every,
        "installments": installments,
        "disbursement_date": disbursement_date.isoformat(),
        "rounding": product.rounding,
        "grace_principal": product.grace_principal,
        "grace_interest_payment": product.grace_interest_payment,
        "interest_free_periods": product.interest_free_periods,
    }
    if product.installment_multiple_minor:
        terms["installment_multiple"] = from_minor(product.installment_multiple_minor, currency)
    if first_due_date is not None:
        terms["first_due_date"] = first_due_date.isoformat()
    later = _later_rates(product, disbursement_date)
    if later:
        terms["rate_changes"] = later
    group = member.group if member is not None and member.group_id is not None else None
    if product.follows_group_meetings and group is not None:
        terms["meeting_weekday"] = group.meeting_weekday
        terms["minimum_days_to_first_meeting"] = product.minimum_days_to_first_meeting
    terms.update(calendar_json(branch, disbursement_date))
    return terms


def parse(terms: dict[str, Any]) -> LoanTerms:
    return terms_from_json(terms)


def schedule_for(terms: dict[str, Any]) -> Schedule:
    return schedule_generate(terms_from_json(terms))


def product_sample_problems(product: LoanProduct) -> dict[str, list[str]]:
    """What the engine says about the product's schedule settings, on a sample loan; empty when fine."""
    from tenants.db import workspace_currency

    currency = workspace_currency()
    sample_minor = max(product.minimum_amount_minor, product.installment_multiple_minor or 0, 1) * 100
    terms = terms_json_for(
        product=product,
        principal_minor=sample_minor,
        currency=currency,
        installments=product.default_installments,
        disbursement_date=dt.date.today(),
        annual_rate=Decimal(10),
    )
    try:
        schedule_generate(terms_from_json(terms))
    except TermsError as error:
        return {_PRODUCT_FIELD.get(name, name): messages for name, messages in error.errors.items()}
    return {}


# Where an engine term's complaint belongs on the product form.
_PRODUCT_FIELD = {
    "installments": "default_installments",
    "installment_multiple": "installment_multiple_minor",
}
