"""Plans and prices as the public site shows them: formatted in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_decimal
from django.conf import settings

from billing.models import Plan
from billing.selectors import plan_currencies, plans_public
from frontend.formatting import babel_locale, format_money

# The currency a reader most likely pays in, from the language they read the site in.
CURRENCY_BY_LANGUAGE = {"bn": "BDT", "vi": "VND", "th": "THB"}


@dataclass(frozen=True)
class PlanCard:
    plan: Plan
    name: str
    currency: str
    monthly_fee: str
    setup_fee: str
    max_members: int | None
    max_branches: int | None
    max_staff_users: int | None
    sms_per_month: int | None
    # The limits as the reader writes numbers (2,000 / 2.000); the ints choose the plural form.
    members_text: str = ""
    branches_text: str = ""
    staff_users_text: str = ""
    sms_text: str = ""


def display_currency(requested: str, language: str) -> str:
    """The currency to show prices in: the one asked for if plans are priced in it, else the reader's."""
    available = plan_currencies()
    requested = requested.strip().upper()
    if requested in available:
        return requested
    guess = CURRENCY_BY_LANGUAGE.get(language, settings.BILLING_FALLBACK_CURRENCY)
    if guess in available:
        return guess
    return settings.BILLING_FALLBACK_CURRENCY if settings.BILLING_FALLBACK_CURRENCY in available else ""


def _number(value: int | None, language: str) -> str:
    return format_decimal(value, locale=babel_locale(language)) if value is not None else ""


def plan_cards(*, currency: str, language: str) -> list[PlanCard]:
    cards = []
    for plan in plans_public():
        prices = {price.currency: price for price in plan.prices.all()}
        price = prices.get(currency) or prices.get(settings.BILLING_FALLBACK_CURRENCY)
        if price is None:
            continue
        cards.append(
            PlanCard(
                plan=plan,
                name=plan.display_name(language),
                currency=price.currency,
                monthly_fee=format_money(price.monthly_fee_minor, price.currency, language),
                setup_fee=format_money(price.setup_fee_minor, price.currency, language),
                max_members=plan.max_members,
                max_branches=plan.max_branches,
                max_staff_users=plan.max_staff_users,
                sms_per_month=plan.sms_per_month,
                members_text=_number(plan.max_members, language),
                branches_text=_number(plan.max_branches, language),
                staff_users_text=_number(plan.max_staff_users, language),
                sms_text=_number(plan.sms_per_month, language),
            )
        )
    return cards
