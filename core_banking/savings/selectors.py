"""Reads of savings: accounts a staff user may see, an account's statement, balances by product."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum

from core_banking.savings.models import InterestPosting, SavingsAccount, SavingsProduct, SavingsTransaction


def accounts_visible(*, visible_branch_ids: list[int] | None) -> QuerySet[SavingsAccount]:
    """Accounts in the branches a staff user sees (None: every branch)."""
    accounts = SavingsAccount.objects.select_related("member", "product", "branch")
    if visible_branch_ids is not None:
        accounts = accounts.filter(branch_id__in=visible_branch_ids)
    return accounts


def interest_accrued_minor(account_id: int) -> int:
    """Interest the account has accrued and not yet been credited: its share of interest payable."""
    rows = InterestPosting.objects.filter(account_id=account_id)
    return int(rows.aggregate(total=Sum("payable_change_minor"))["total"] or 0)


@dataclass(frozen=True)
class Statement:
    account: SavingsAccount
    start: dt.date
    end: dt.date
    opening_minor: int
    transactions: list[SavingsTransaction]
    closing_minor: int
    deposits_minor: int
    withdrawals_minor: int


def account_statement(*, account: SavingsAccount, start: dt.date, end: dt.date) -> Statement:
    """Opening balance, every movement of the period by value date, closing balance."""
    before = SavingsTransaction.objects.filter(account=account, value_date__lt=start).aggregate(
        total=Sum("amount_minor")
    )
    opening = int(before["total"] or 0)
    movements = list(
        SavingsTransaction.objects.filter(
            account=account, value_date__gte=start, value_date__lte=end
        ).order_by("value_date", "id")
    )
    deposits = sum(movement.amount_minor for movement in movements if movement.amount_minor > 0)
    withdrawals = -sum(movement.amount_minor for movement in movements if movement.amount_minor < 0)
    return Statement(
        account=account,
        start=start,
        end=end,
        opening_minor=opening,
        transactions=movements,
        closing_minor=opening + deposits - withdrawals,
        deposits_minor=deposits,
        withdrawals_minor=withdrawals,
    )


@dataclass(frozen=True)
class ProductBalance:
    product: SavingsProduct
    accounts: int
    balance_minor: int


def balances_by_product(
    *, branch_ids: list[int] | None, as_of: dt.date | None = None
) -> list[ProductBalance]:
    """Accounts and balances per product for a set of branches (None: the whole cooperative).

    With ``as_of`` the balances are those at the end of that day, summed from the transactions;
    without it, the running balances kept on the accounts.
    """
    products = {product.pk: product for product in SavingsProduct.objects.all()}
    found: dict[int, tuple[int, int]] = {}  # product id: (accounts, balance)
    if as_of is None:
        accounts = SavingsAccount.objects.all()
        if branch_ids is not None:
            accounts = accounts.filter(branch_id__in=branch_ids)
        for row in accounts.values("product_id").annotate(count=Count("id"), total=Sum("balance_minor")):
            found[row["product_id"]] = (int(row["count"]), int(row["total"] or 0))
    else:
        movements = SavingsTransaction.objects.filter(value_date__lte=as_of)
        if branch_ids is not None:
            movements = movements.filter(account__branch_id__in=branch_ids)
        totals = movements.values("account__product_id").annotate(
            count=Count("account_id", distinct=True), total=Sum("amount_minor")
        )
        for summed in totals:
            found[summed["account__product_id"]] = (int(summed["count"]), int(summed["total"] or 0))
    return [
        ProductBalance(
            product=product,
            accounts=found.get(product_id, (0, 0))[0],
            balance_minor=found.get(product_id, (0, 0))[1],
        )
        for product_id, product in sorted(products.items(), key=lambda item: item[1].code)
    ]


def open_accounts_by_product(*, branch_ids: list[int] | None, as_of: dt.date) -> dict[int, int]:
    """How many accounts of each product were open at the end of ``as_of`` (product id: count).

    Open means opened on or before that day and not closed on or before it; the branch set is the
    accounts' own branches (None: the whole cooperative).
    """
    accounts = SavingsAccount.objects.filter(opened_on__lte=as_of).exclude(closed_on__lte=as_of)
    if branch_ids is not None:
        accounts = accounts.filter(branch_id__in=branch_ids)
    return {
        row["product_id"]: int(row["count"])
        for row in accounts.values("product_id").annotate(count=Count("id")).order_by()
    }


def member_accounts(*, member_id: int) -> QuerySet[SavingsAccount]:
    """A member's savings accounts with their products, in number order."""
    return SavingsAccount.objects.select_related("product").filter(member_id=member_id).order_by("number")
