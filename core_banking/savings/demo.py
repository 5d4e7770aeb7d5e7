"""Demo savings for the demo cooperatives (registered in ``tenants.demo.DEMO_EXTENSIONS``).

Three products (compulsory, voluntary, a one-year fixed deposit), accounts for the demo members,
and a few months of deposits and withdrawals of the sizes these groups really handle. Everything
goes through the services. Loading again creates nothing twice: products are found by code,
accounts by member and product, and every movement carries a key derived from the account and
the month, so a key already posted is skipped (a later month may add that month's deposit).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from core_banking.members.models import Member, MemberStatus
from core_banking.savings.models import (
    InterestMethod,
    InterestPeriod,
    SavingsAccount,
    SavingsKind,
    SavingsProduct,
    SavingsTransaction,
)
from core_banking.savings.services import (
    savings_account_open,
    savings_deposit,
    savings_product_create,
    savings_rate_schedule,
    savings_withdraw,
)

if TYPE_CHECKING:
    from tenants.demo import DemoCooperative
    from tenants.models import Cooperative

KEY_PREFIX = "demo-sav"
MONTHS_OF_DEPOSITS = 4


@dataclass(frozen=True)
class DemoProduct:
    code: str
    name: str
    kind: SavingsKind
    rate: Decimal
    settings: dict[str, object]
    # A rate change scheduled a few months after the product is created (shows the rate schedule).
    next_rate: Decimal | None = None


@dataclass(frozen=True)
class DemoAmounts:
    """Typical amounts in minor units: monthly compulsory savings, voluntary deposits, a fixed deposit."""

    compulsory: tuple[int, ...]
    voluntary: tuple[int, ...]
    fixed: tuple[int, ...]


RUPALI_PRODUCTS = (
    DemoProduct(
        "CMP",
        "সাধারণ সঞ্চয় (বাধ্যতামূলক)",
        SavingsKind.COMPULSORY,
        Decimal("5.0"),
        {
            "withdrawals_allowed": False,
            "interest_method": InterestMethod.MONTHLY_MINIMUM_BALANCE,
            "posting_period": InterestPeriod.HALF_YEARLY,
        },
    ),
    DemoProduct(
        "VOL",
        "স্বেচ্ছা সঞ্চয়",
        SavingsKind.VOLUNTARY,
        Decimal("4.0"),
        {
            "minimum_balance_minor": 100_00,
            "withdrawals_per_month": 2,
            "interest_method": InterestMethod.DAILY_BALANCE,
            "posting_period": InterestPeriod.QUARTERLY,
        },
        next_rate=Decimal("4.5"),
    ),
    DemoProduct(
        "FDR",
        "স্থায়ী আমানত (১ বছর)",
        SavingsKind.FIXED,
        Decimal("9.0"),
        {
            "withdrawals_allowed": False,
            "term_months": 12,
            "premature_rate_reduction": Decimal("2.0"),
            "interest_method": InterestMethod.DAILY_BALANCE,
            "posting_period": InterestPeriod.YEARLY,
        },
    ),
)
RUPALI_AMOUNTS = DemoAmounts(
    compulsory=(200_00, 300_00, 500_00),  # Tk 200-500 a month
    voluntary=(2_000_00, 5_000_00, 10_000_00),
    fixed=(50_000_00, 1_00_000_00),
)

BINHMINH_PRODUCTS = (
    DemoProduct(
        "CMP",
        "Tiết kiệm bắt buộc",
        SavingsKind.COMPULSORY,
        Decimal("1.0"),
        {
            "withdrawals_allowed": False,
            "interest_method": InterestMethod.MONTH_END_BALANCE,
            "posting_period": InterestPeriod.YEARLY,
        },
    ),
    DemoProduct(
        "VOL",
        "Tiết kiệm tự nguyện",
        SavingsKind.VOLUNTARY,
        Decimal("3.0"),
        {
            "minimum_balance_minor": 50_000,
            "interest_method": InterestMethod.DAILY_BALANCE,
            "posting_period": InterestPeriod.MONTHLY,
        },
        next_rate=Decimal("3.2"),
    ),
    DemoProduct(
        "FDR",
        "Tiền gửi có kỳ hạn 12 tháng",
        SavingsKind.FIXED,
        Decimal("5.5"),
        {
            "withdrawals_allowed": False,
            "term_months": 12,
            "premature_rate_reduction": Decimal("1.5"),
            "posting_period": InterestPeriod.YEARLY,
        },
    ),
)
BINHMINH_AMOUNTS = DemoAmounts(
    compulsory=(50_000, 100_000, 200_000),  # 50,000-200,000 dong a month
    voluntary=(500_000, 1_000_000, 2_000_000),
    fixed=(20_000_000, 50_000_000),
)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _products(specs: tuple[DemoProduct, ...], today: dt.date) -> dict[str, SavingsProduct]:
    found = {}
    for spec in specs:
        product = SavingsProduct.objects.filter(code=spec.code).first()
        if product is None:
            product = savings_product_create(
                actor=None,
                code=spec.code,
                name=spec.name,
                kind=spec.kind,
                annual_rate=spec.rate,
                rate_effective_from=dt.date(today.year - 5, 1, 1),
                **spec.settings,
            )
            if spec.next_rate is not None:
                savings_rate_schedule(
                    actor=None,
                    product=product,
                    effective_from=_add_months(today.replace(day=1), 2),
                    annual_rate=spec.next_rate,
                )
        found[spec.code] = product
    return found


def _account(member: Member, product: SavingsProduct, opened_on: dt.date) -> SavingsAccount:
    account = SavingsAccount.objects.filter(member=member, product=product).order_by("id").first()
    return account or savings_account_open(actor=None, member=member, product=product, opened_on=opened_on)


class _Poster:
    """Posts demo movements whose keys are not posted yet, oldest first."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.done = set(
            SavingsTransaction.objects.filter(idempotency_key__startswith=f"{KEY_PREFIX}:").values_list(
                "idempotency_key", flat=True
            )
        )

    def deposit(self, account: SavingsAccount, key: str, amount_minor: int, day: dt.date) -> None:
        if key in self.done or day > self.today or day < account.opened_on:
            return
        savings_deposit(account_id=account.pk, amount_minor=amount_minor, value_date=day, idempotency_key=key)

    def withdraw(self, account: SavingsAccount, key: str, amount_minor: int, day: dt.date) -> None:
        if key in self.done or day > self.today or day < account.opened_on:
            return
        savings_withdraw(
            account_id=account.pk, amount_minor=amount_minor, value_date=day, idempotency_key=key
        )


def _month_day(opened_on: dt.date, month_start: dt.date) -> dt.date:
    """The member's usual deposit day (the day of the month the account was opened) in a month."""
    return month_start.replace(day=min(opened_on.day, 28))


def savings_demo_load(cooperative: Cooperative, demo: DemoCooperative) -> None:
    """Products, accounts and a few months of movements for the demo members."""
    if cooperative.slug == "rupali":
        specs, amounts = RUPALI_PRODUCTS, RUPALI_AMOUNTS
    elif cooperative.slug == "binhminh":
        specs, amounts = BINHMINH_PRODUCTS, BINHMINH_AMOUNTS
    else:
        return
    members = list(Member.objects.exclude(status=MemberStatus.EXITED).order_by("id"))
    if not members:
        return
    today = cooperative.business_date()
    products = _products(specs, today)
    poster = _Poster(today)
    this_month = today.replace(day=1)
    for index, member in enumerate(members):
        # Compulsory savings from the day of joining; the last few months' instalments.
        compulsory = _account(member, products["CMP"], member.join_date)
        monthly = amounts.compulsory[index % len(amounts.compulsory)]
        poster.deposit(compulsory, f"{KEY_PREFIX}:{compulsory.number}:open", monthly, compulsory.opened_on)
        for back in range(MONTHS_OF_DEPOSITS, 0, -1):
            day = _month_day(compulsory.opened_on, _add_months(this_month, -back))
            if (day.year, day.month) == (compulsory.opened_on.year, compulsory.opened_on.month):
                continue  # the opening deposit is that month's
            poster.deposit(compulsory, f"{KEY_PREFIX}:{compulsory.number}:{day:%Y-%m}", monthly, day)
        if index % 2 == 0:
            # Voluntary savings: a larger sum paid in, part of it taken out last month.
            opened = min(member.join_date + dt.timedelta(days=30), today)
            voluntary = _account(member, products["VOL"], opened)
            paid_in = amounts.voluntary[index % len(amounts.voluntary)]
            poster.deposit(voluntary, f"{KEY_PREFIX}:{voluntary.number}:open", paid_in, voluntary.opened_on)
            taken_on = _month_day(voluntary.opened_on, _add_months(this_month, -1))
            poster.withdraw(voluntary, f"{KEY_PREFIX}:{voluntary.number}:w1", paid_in // 4, taken_on)
            poster.deposit(voluntary, f"{KEY_PREFIX}:{voluntary.number}:d2", paid_in // 2, today)
        if index % 6 == 1:
            # A one-year fixed deposit placed a few months ago, still running.
            opened = max(member.join_date, today - dt.timedelta(days=100 + index * 3))
            fixed = _account(member, products["FDR"], opened)
            principal = amounts.fixed[(index // 6) % len(amounts.fixed)]
            poster.deposit(fixed, f"{KEY_PREFIX}:{fixed.number}:open", principal, fixed.opened_on)
