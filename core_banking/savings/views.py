"""Staff pages of savings: parse, call a selector or a service, render.

Reading needs a staff profile in this workspace; opening accounts and moving money need
``Capability.POST_TRANSACTIONS``; products need ``Capability.MANAGE_ORGANISATION`` to change.
An account or member outside the user's branches is answered with 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.cash.services import cash_account_for_posting
from core_banking.members import selectors as member_selectors
from core_banking.members.models import Member
from core_banking.members.normalise import fold_digits
from core_banking.savings import interest_posting, selectors, services
from core_banking.savings.forms import (
    AccountOpenForm,
    CloseEarlyForm,
    MovementForm,
    ProductEditForm,
    ProductForm,
    RateForm,
    StatementPeriodForm,
    TransferForm,
    apply_violation,
)
from core_banking.savings.models import (
    AccountStatus,
    SavingsAccount,
    SavingsKind,
    SavingsProduct,
    SavingsRate,
    SavingsTransaction,
)
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability
from frontend.formatting import format_money
from tenants.db import current_cooperative
from tenants.models import Cooperative

PAGE_SIZE = 50
_TERM_KINDS = (SavingsKind.FIXED, SavingsKind.RECURRING)
STATEMENT_PAGE_SIZE = 50
RECENT_MOVEMENTS = 10


# --- Access (the shares pages use these too) ------------------------------------------------------


def staff_of(request: HttpRequest) -> StaffProfile:
    profile = member_selectors.staff_profile_of(request.user)
    if profile is None:
        raise Http404  # not a staff user of this workspace: nothing here exists for them
    return profile


def staff_allowed(request: HttpRequest, capability: Capability) -> StaffProfile:
    profile = staff_of(request)
    if not profile.can(capability):
        raise PermissionDenied
    return profile


def workspace_cooperative() -> Cooperative:
    cooperative = current_cooperative()
    if cooperative is None:
        raise Http404
    return cooperative


def _visible_account(profile: StaffProfile, account_id: int) -> SavingsAccount:
    account = (
        selectors.accounts_visible(visible_branch_ids=profile.visible_branch_ids())
        .filter(pk=account_id)
        .first()
    )
    if account is None:
        raise Http404
    return account


def visible_member(profile: StaffProfile, member_id: int) -> Member:
    try:
        return member_selectors.member_for_staff(
            member_id=member_id, visible_branch_ids=profile.visible_branch_ids()
        )
    except Member.DoesNotExist as exc:
        raise Http404 from exc


def money_text(request: HttpRequest, cooperative: Cooperative, minor_units: int) -> str:
    return format_money(
        minor_units,
        cooperative.currency,
        getattr(request, "LANGUAGE_CODE", "en"),
        native_digits=cooperative.use_native_digits,
    )


def form_money(request: HttpRequest, cooperative: Cooperative) -> dict[str, str]:
    return {"currency": cooperative.currency, "language": getattr(request, "LANGUAGE_CODE", "en")}


# --- Accounts ------------------------------------------------------------------------------------


def _account_search(accounts: QuerySet[SavingsAccount], query: str, profile: StaffProfile) -> Any:
    """Accounts whose number starts with what was typed, or whose member the member search finds."""
    folded = fold_digits(query).strip().upper()
    members = member_selectors.member_search(
        query, visible_branch_ids=profile.visible_branch_ids(), limit=PAGE_SIZE
    )
    return accounts.filter(Q(number__startswith=folded) | Q(member_id__in=[member.pk for member in members]))


@login_required
@require_GET
def account_list(request: HttpRequest) -> HttpResponse:
    profile = staff_of(request)
    query = request.GET.get("q", "").strip()
    products = list(SavingsProduct.objects.order_by("code"))
    product_id = request.GET.get("product", "")
    accounts = selectors.accounts_visible(visible_branch_ids=profile.visible_branch_ids())
    if product_id.isdigit():
        accounts = accounts.filter(product_id=int(product_id))
    if query:
        accounts = _account_search(accounts, query, profile)
    page = Paginator(accounts.order_by("number"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "accounts": list(page),
        "page": page,
        "query": query,
        "products": products,
        "product_id": int(product_id) if product_id.isdigit() else None,
        "filtered": bool(query or product_id),
        "can_post": profile.can(Capability.POST_TRANSACTIONS),
        "can_manage_products": profile.can(Capability.MANAGE_ORGANISATION),
    }
    if getattr(request, "htmx", False):
        return render(request, "savings/_account_results.html", context)
    return render(request, "savings/account_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def account_open(request: HttpRequest) -> HttpResponse:
    profile = staff_allowed(request, Capability.POST_TRANSACTIONS)
    cooperative = workspace_cooperative()
    member_id = request.GET.get("member", "")
    member = visible_member(profile, int(member_id)) if member_id.isdigit() else None
    form = AccountOpenForm(
        request.POST or None,
        initial={"opened_on": cooperative.business_date()},
        member_known=member is not None,
    )
    if request.method == "POST" and form.is_valid():
        chosen = member or _member_by_number(profile, form.cleaned_data["member_number"])
        if chosen is None:
            form.add_error("member_number", _("No member with this number in your branches."))
        else:
            try:
                account = services.savings_account_open(
                    actor=request.user,
                    member=chosen,
                    product=form.cleaned_data["product"],
                    opened_on=form.cleaned_data["opened_on"],
                )
            except BusinessRuleViolation as violation:
                apply_violation(form, violation)
            else:
                messages.success(request, _("Account %(number)s opened.") % {"number": account.number})
                return HttpResponseRedirect(reverse("savings:account", args=[account.pk]))
    return render(request, "savings/account_open.html", {"form": form, "member": member})


def _member_by_number(profile: StaffProfile, number: str) -> Member | None:
    folded = fold_digits(number).strip().upper()
    return (
        member_selectors.members_visible(visible_branch_ids=profile.visible_branch_ids())
        .filter(number=folded)
        .first()
    )


@login_required
@require_GET
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    profile = staff_of(request)
    account = _visible_account(profile, account_id)
    recent = list(account.transactions.order_by("-value_date", "-id")[:RECENT_MOVEMENTS])
    is_active = account.status == AccountStatus.ACTIVE
    context = {
        "account": account,
        "recent": recent,
        "liens": list(account.liens.filter(released_at__isnull=True).order_by("id")),
        "interest_accrued_minor": selectors.interest_accrued_minor(account.pk),
        "is_active": is_active,
        "can_close_early": is_active
        and account.product.kind in _TERM_KINDS
        and account.maturity_date is not None
        and workspace_cooperative().business_date() < account.maturity_date,
        "can_post": profile.can(Capability.POST_TRANSACTIONS),
        "other_accounts": list(
            selectors.accounts_visible(visible_branch_ids=profile.visible_branch_ids())
            .filter(member_id=account.member_id)
            .exclude(pk=account.pk)
            .order_by("number")
        ),
    }
    return render(request, "savings/account_detail.html", context)


def _closure_messages(violation: BusinessRuleViolation) -> dict[str, str]:
    """The reader's wording of why a deposit cannot be closed early (the service names the field)."""
    if violation.code == ErrorCode.SAVINGS_ACCOUNT_NOT_ACTIVE:
        text = _("This account is not active: it takes no more movements.")
    elif "on" in violation.fields:
        text = _("A deposit is closed early only before its maturity date.")
    elif "account" in violation.fields:
        text = _("Only fixed and recurring deposits are closed before maturity.")
    else:
        return {}
    return {"account": text, "on": text}


@login_required
@require_http_methods(["GET", "POST"])
def close_early(request: HttpRequest, account_id: int) -> HttpResponse:
    """A fixed or recurring deposit closed before maturity: what it pays, then the confirmation."""
    profile = staff_allowed(request, Capability.POST_TRANSACTIONS)
    account = _visible_account(profile, account_id)
    cooperative = workspace_cooperative()
    on = cooperative.business_date()
    form = CloseEarlyForm(request.POST or None, **form_money(request, cooperative))
    if request.method == "POST" and form.is_valid():
        try:
            closure = interest_posting.savings_deposit_close_early(
                account_id=account.pk,
                on=on,
                idempotency_key=form.cleaned_data["idempotency_key"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
                # The cash is paid by the signed-in staff member: their till, or the vault.
                counter_account_code=cash_account_for_posting(actor=request.user, branch=account.branch),
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation, messages=_closure_messages(violation))
        else:
            messages.success(
                request,
                _("Deposit %(number)s closed: %(amount)s paid out.")
                % {
                    "number": account.number,
                    "amount": money_text(request, cooperative, closure.paid_out_minor),
                },
            )
            return HttpResponseRedirect(reverse("savings:account", args=[account.pk]))
    preview, refusal = None, ""
    try:
        preview = interest_posting.savings_deposit_close_early_preview(account_id=account.pk, on=on)
    except BusinessRuleViolation as violation:
        refusal = _closure_messages(violation).get("account", violation.message)
    context = {"account": account, "form": form, "preview": preview, "refusal": refusal, "on": on}
    return render(request, "savings/close_early.html", context)


@dataclass(frozen=True)
class StatementRow:
    movement: SavingsTransaction
    running_minor: int

    @property
    def paid_in_minor(self) -> int:
        return max(self.movement.amount_minor, 0)

    @property
    def paid_out_minor(self) -> int:
        return max(-self.movement.amount_minor, 0)


@login_required
@require_GET
def account_statement(request: HttpRequest, account_id: int) -> HttpResponse:
    """Every movement of the period by value date with the running balance, a page at a time."""
    profile = staff_of(request)
    account = _visible_account(profile, account_id)
    cooperative = workspace_cooperative()
    period = StatementPeriodForm(request.GET or None)
    start: dt.date = account.opened_on
    end: dt.date = cooperative.business_date()
    if period.is_valid():
        start = period.cleaned_data.get("start") or start
        end = period.cleaned_data.get("end") or end
    statement = selectors.account_statement(account=account, start=start, end=end)
    rows = []
    running = statement.opening_minor
    for movement in statement.transactions:
        running += movement.amount_minor
        rows.append(StatementRow(movement, running))
    paginator = Paginator(rows, STATEMENT_PAGE_SIZE)
    # Without a page asked for, the latest movements: that is what the counter is asked about.
    page = paginator.get_page(request.GET.get("page") or paginator.num_pages)
    page_rows = list(page)
    carried = (
        page_rows[0].running_minor - page_rows[0].movement.amount_minor
        if page_rows
        else statement.opening_minor
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "account": account,
        "statement": statement,
        "period": period if period.is_bound else StatementPeriodForm(initial={"start": start, "end": end}),
        "page": page,
        "rows": page_rows,
        "carried_minor": carried,
        "query": query.urlencode(),
    }
    return render(request, "savings/account_statement.html", context)


def _movement(request: HttpRequest, account_id: int, *, withdrawal: bool) -> HttpResponse:
    profile = staff_allowed(request, Capability.POST_TRANSACTIONS)
    account = _visible_account(profile, account_id)
    cooperative = workspace_cooperative()
    form = MovementForm(request.POST or None, **form_money(request, cooperative))
    if request.method == "POST" and form.is_valid():
        post = services.savings_withdraw if withdrawal else services.savings_deposit
        try:
            movement = post(
                account_id=account.pk,
                amount_minor=form.cleaned_data["amount"],
                value_date=cooperative.business_date(),
                idempotency_key=form.cleaned_data["idempotency_key"],
                actor=request.user,
                memo=form.cleaned_data["memo"],
                # The cash is taken or paid by the signed-in staff member: their till, or the vault.
                counter_account_code=cash_account_for_posting(actor=request.user, branch=account.branch),
            )
        except BusinessRuleViolation as violation:
            apply_violation(
                form, violation, messages=_withdrawal_messages(request, cooperative, account, violation)
            )
        else:
            text = (
                _("Withdrawal of %(amount)s recorded. Balance: %(balance)s.")
                if withdrawal
                else _("Deposit of %(amount)s recorded. Balance: %(balance)s.")
            )
            messages.success(
                request,
                text
                % {
                    "amount": money_text(request, cooperative, abs(movement.amount_minor)),
                    "balance": money_text(request, cooperative, movement.balance_after_minor),
                },
            )
            return HttpResponseRedirect(reverse("savings:account", args=[account.pk]))
    account.refresh_from_db()
    context = {
        "account": account,
        "form": form,
        "withdrawal": withdrawal,
        "withdrawable_minor": _withdrawable(account),
    }
    return render(request, "savings/movement_form.html", context)


def _withdrawable(account: SavingsAccount) -> int:
    return max(account.balance_minor - account.lien_minor - account.product.minimum_balance_minor, 0)


def _withdrawal_messages(
    request: HttpRequest, cooperative: Cooperative, account: SavingsAccount, violation: BusinessRuleViolation
) -> dict[str, str]:
    """The reader's wording of a withdrawal rule that refused, amounts formatted (read after the refusal)."""
    account.refresh_from_db()
    product = account.product
    if violation.code == ErrorCode.INSUFFICIENT_BALANCE:
        return {
            "amount": _("At most %(amount)s can be withdrawn now: liens and the minimum balance stay.")
            % {"amount": money_text(request, cooperative, _withdrawable(account))}
        }
    if violation.code == ErrorCode.WITHDRAWAL_LIMIT_EXCEEDED:
        return {
            "amount": _("At most %(amount)s in one withdrawal.")
            % {"amount": money_text(request, cooperative, product.maximum_withdrawal_minor or 0)},
            "value_date": _("This month's withdrawals are used up (%(count)s a month).")
            % {"count": product.withdrawals_per_month},
        }
    return {}


@login_required
@require_http_methods(["GET", "POST"])
def deposit(request: HttpRequest, account_id: int) -> HttpResponse:
    return _movement(request, account_id, withdrawal=False)


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, account_id: int) -> HttpResponse:
    return _movement(request, account_id, withdrawal=True)


@login_required
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest, account_id: int) -> HttpResponse:
    """Money from this account to another active account of the same member."""
    profile = staff_allowed(request, Capability.POST_TRANSACTIONS)
    source = _visible_account(profile, account_id)
    cooperative = workspace_cooperative()
    targets = (
        selectors.accounts_visible(visible_branch_ids=profile.visible_branch_ids())
        .filter(member_id=source.member_id, status=AccountStatus.ACTIVE)
        .exclude(pk=source.pk)
        .order_by("number")
    )
    form = TransferForm(request.POST or None, targets=targets, **form_money(request, cooperative))
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["to_account"]
        try:
            moved = services.savings_transfer(
                from_account_id=source.pk,
                to_account_id=target.pk,
                amount_minor=form.cleaned_data["amount"],
                value_date=cooperative.business_date(),
                idempotency_key=form.cleaned_data["idempotency_key"],
                actor=request.user,
                memo=form.cleaned_data["memo"],
            )
        except BusinessRuleViolation as violation:
            apply_violation(
                form, violation, messages=_withdrawal_messages(request, cooperative, source, violation)
            )
        else:
            messages.success(
                request,
                _("%(amount)s moved from %(source)s to %(target)s.")
                % {
                    "amount": money_text(request, cooperative, moved.added.amount_minor),
                    "source": source.number,
                    "target": target.number,
                },
            )
            return HttpResponseRedirect(reverse("savings:account", args=[source.pk]))
    source.refresh_from_db()
    context = {
        "account": source,
        "form": form,
        "has_targets": targets.exists(),
        "withdrawable_minor": _withdrawable(source),
    }
    return render(request, "savings/transfer_form.html", context)


# --- Products ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRow:
    product: SavingsProduct
    accounts: int
    current_rate: SavingsRate | None
    next_rate: SavingsRate | None


def _rates_now(rates: list[SavingsRate], today: dt.date) -> tuple[SavingsRate | None, SavingsRate | None]:
    """The rate in force today and the next scheduled change, from rates ordered by date."""
    current = None
    for rate in rates:
        if rate.effective_from > today:
            return current, rate
        current = rate
    return current, None


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    profile = staff_of(request)
    today = workspace_cooperative().business_date()
    products = SavingsProduct.objects.annotate(account_count=Count("accounts")).prefetch_related("rates")
    rows = []
    for product in products.order_by("code"):
        current, upcoming = _rates_now(
            sorted(product.rates.all(), key=lambda rate: rate.effective_from), today
        )
        rows.append(ProductRow(product, product.account_count, current, upcoming))
    return render(
        request,
        "savings/product_list.html",
        {"rows": rows, "can_manage": profile.can(Capability.MANAGE_ORGANISATION)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    staff_allowed(request, Capability.MANAGE_ORGANISATION)
    cooperative = workspace_cooperative()
    initial = {
        "rate_effective_from": cooperative.business_date(),
        "withdrawals_allowed": True,
        "premature_rate_reduction": 0,
    }
    form = ProductForm(request.POST or None, initial=initial, **form_money(request, cooperative))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            product = services.savings_product_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                annual_rate=data["annual_rate"],
                rate_effective_from=data["rate_effective_from"],
                **form.service_settings(),
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("Product %(code)s created.") % {"code": product.code})
            return HttpResponseRedirect(reverse("savings:product", args=[product.pk]))
    return render(request, "savings/product_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    """Change a product's settings; its code, kind and control account stay."""
    staff_allowed(request, Capability.MANAGE_ORGANISATION)
    product = SavingsProduct.objects.filter(pk=product_id).first()
    if product is None:
        raise Http404
    cooperative = workspace_cooperative()
    form = ProductEditForm(request.POST or None, product=product, **form_money(request, cooperative))
    if request.method == "POST" and form.is_valid():
        try:
            services.savings_product_update(
                actor=request.user, product_id=product.pk, **form.service_settings()
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("Product %(code)s saved.") % {"code": product.code})
            return HttpResponseRedirect(reverse("savings:product", args=[product.pk]))
    context = {
        "form": form,
        "product": product,
        "accounts": product.accounts.exclude(status=AccountStatus.CLOSED).count(),
    }
    return render(request, "savings/product_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    """A product's settings and its rate schedule; who manages the organisation adds dated rates."""
    profile = staff_of(request)
    product = SavingsProduct.objects.select_related("control_account").filter(pk=product_id).first()
    if product is None:
        raise Http404
    can_manage = profile.can(Capability.MANAGE_ORGANISATION)
    today = workspace_cooperative().business_date()
    form = RateForm(request.POST or None, initial={"effective_from": today})
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.savings_rate_schedule(
                    actor=request.user,
                    product=product,
                    effective_from=form.cleaned_data["effective_from"],
                    annual_rate=form.cleaned_data["annual_rate"],
                )
            except BusinessRuleViolation as violation:
                apply_violation(form, violation)
            else:
                messages.success(request, _("Rate saved."))
                return HttpResponseRedirect(reverse("savings:product", args=[product.pk]))
    rates = list(product.rates.order_by("effective_from"))
    current, _upcoming = _rates_now(rates, today)
    context = {
        "product": product,
        "rates": rates,
        "current_rate": current,
        "today": today,
        "form": form,
        "can_manage": can_manage,
        "accounts": product.accounts.count(),
        "is_term": product.kind in ("recurring", "fixed"),
    }
    return render(request, "savings/product_detail.html", context)
