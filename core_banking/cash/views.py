"""Staff pages of cash custody: holders and balances, handovers, the day close.

Any staff user of the workspace reads the holders of their branches; handing over, confirming
and closing are decided by the services (who holds the cash, who keeps the vault). A branch,
handover or close outside the user's branches is answered with 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.numbers import get_currency_precision
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from control_plane.errors import BusinessRuleViolation
from core_banking.cash import access, selectors, services
from core_banking.cash.denominations import denominations_for
from core_banking.cash.forms import VAULT, DayCloseForm, HandoverForm, ReasonForm, new_key
from core_banking.cash.models import CashDayClose, HolderKind
from core_banking.members.forms import apply_violation
from core_banking.organisation.models import Branch
from core_banking.staff.models import StaffProfile
from tenants.db import workspace_business_date, workspace_currency

RECENT = 20


def _staff(request: HttpRequest) -> StaffProfile:
    profile = access.profile_of(request.user)
    if profile is None:
        raise Http404  # not a staff user of this workspace: nothing here exists for them
    return profile


def _branch(profile: StaffProfile, raw: str | None) -> Branch:
    """The branch asked for (default: the user's home branch), if the user sees it."""
    branch_id = int(raw) if raw and raw.isdigit() else profile.home_branch_id
    branch = selectors.branches_visible(profile.visible_branch_ids()).filter(pk=branch_id).first()
    if branch is None:
        raise Http404
    return branch


def _user_or_vault(raw: str) -> Any | None:
    if raw == VAULT:
        return None
    user = get_user_model().objects.filter(pk=int(raw) if raw.isdigit() else -1).first()
    if user is None:
        raise Http404
    return user


def _holder_name(user: Any | None) -> str:
    return str(HolderKind.VAULT.label) if user is None else selectors.person_label(user)


@login_required
@require_GET
def cash_index(request: HttpRequest) -> HttpResponse:
    profile = _staff(request)
    visible = profile.visible_branch_ids()
    branches = list(selectors.branches_visible(visible))
    raw = request.GET.get("branch", "")
    branch_id = int(raw) if raw.isdigit() else None
    if branch_id is not None and branch_id not in {branch.pk for branch in branches}:
        raise Http404
    rows = _own_if_leader(profile, selectors.holder_rows(visible_branch_ids=visible, branch_id=branch_id))
    closable = {
        (row.branch.pk, row.user_id)
        for row in rows
        if access.may_close(profile, branch_id=row.branch.pk, user_id=row.user_id)
    }
    handovers = selectors.handovers_visible(visible_branch_ids=visible)
    closes = selectors.day_closes_visible(visible_branch_ids=visible)
    if branch_id is not None:
        handovers = handovers.filter(branch_id=branch_id)
    if access.own_cash_only(profile):
        mine = profile.user_id
        handovers = handovers.filter(Q(giver__user_id=mine) | Q(receiver__user_id=mine))
        closes = closes.filter(holder__user_id=mine)
    context = {
        "branches": branches,
        "branch_id": branch_id,
        "rows": [(row, (row.branch.pk, row.user_id) in closable) for row in rows],
        "awaiting": list(selectors.handovers_awaiting(profile)),
        "sent": list(selectors.handovers_sent_pending(profile)),
        "recent": list(handovers[:RECENT]),
        "closes": list(closes[:RECENT]),
        "can_act": not profile.read_only,
        "currency": workspace_currency(),
        "reason_form": ReasonForm(),
    }
    return render(request, "cash/index.html", context)


def _own_if_leader(profile: StaffProfile, rows: list[Any]) -> list[Any]:
    """Every till of the branch for staff; a group leader's own alone."""
    return [row for row in rows if row.user_id == profile.user_id] if access.own_cash_only(profile) else rows


def _givers(profile: StaffProfile, branch: Branch) -> list[tuple[str, str]]:
    choices = []
    if access.may_hold_cash(profile, branch.pk):
        choices.append(
            (str(profile.user_id), _("My cash (%(name)s)") % {"name": selectors.person_label(profile.user)})
        )
    if access.keeps_vault(profile, branch.pk):
        choices.append((VAULT, str(HolderKind.VAULT.label)))
    return choices


def _receivers(branch: Branch) -> list[tuple[str, str]]:
    return [(VAULT, str(HolderKind.VAULT.label))] + [
        (str(user.pk), selectors.person_label(user)) for user in selectors.possible_holders(branch)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def handover_send(request: HttpRequest) -> HttpResponse:
    profile = _staff(request)
    branch = _branch(profile, request.GET.get("branch"))
    givers = _givers(profile, branch)
    form = HandoverForm(
        request.POST or None,
        initial={"idempotency_key": new_key(), "giver": givers[0][0] if givers else ""},
        currency=workspace_currency(),
        givers=givers,
        receivers=_receivers(branch),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            handover = services.cash_handover_send(
                actor=request.user,
                branch=branch,
                giver_user=_user_or_vault(data["giver"]),
                receiver_user=_user_or_vault(data["receiver"]),
                amount_minor=data["amount"],
                idempotency_key=data["idempotency_key"],
                memo=data["memo"],
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(
                request,
                _("Handover #%(number)s recorded; it is posted when %(receiver)s confirms it.")
                % {"number": handover.pk, "receiver": selectors.holder_label(handover.receiver)},
            )
            return HttpResponseRedirect(f"{reverse('cash:index')}?branch={branch.pk}")
    context = {
        "form": form,
        "branch": branch,
        "branches": selectors.branches_visible(profile.visible_branch_ids()),
        "rows": _own_if_leader(
            profile,
            selectors.holder_rows(visible_branch_ids=profile.visible_branch_ids(), branch_id=branch.pk),
        ),
        "currency": workspace_currency(),
    }
    return render(request, "cash/handover_form.html", context)


def _decide(request: HttpRequest, handover_id: int, action: str) -> HttpResponse:
    profile = _staff(request)
    handover = selectors.handover_for_staff(
        handover_id=handover_id, visible_branch_ids=profile.visible_branch_ids()
    )
    if handover is None:
        raise Http404
    reason = ReasonForm(request.POST)
    text = reason.cleaned_data["reason"] if reason.is_valid() else ""
    try:
        if action == "confirm":
            services.cash_handover_confirm(actor=request.user, handover_id=handover.pk)
            messages.success(
                request, _("Handover #%(number)s confirmed and posted.") % {"number": handover.pk}
            )
        elif action == "reject":
            services.cash_handover_reject(actor=request.user, handover_id=handover.pk, reason=text)
            messages.success(request, _("Handover #%(number)s rejected.") % {"number": handover.pk})
        else:
            services.cash_handover_cancel(actor=request.user, handover_id=handover.pk, reason=text)
            messages.success(request, _("Handover #%(number)s cancelled.") % {"number": handover.pk})
    except BusinessRuleViolation as violation:
        messages.error(request, violation.message)
    return HttpResponseRedirect(reverse("cash:index"))


@login_required
@require_POST
def handover_confirm(request: HttpRequest, handover_id: int) -> HttpResponse:
    return _decide(request, handover_id, "confirm")


@login_required
@require_POST
def handover_reject(request: HttpRequest, handover_id: int) -> HttpResponse:
    return _decide(request, handover_id, "reject")


@login_required
@require_POST
def handover_cancel(request: HttpRequest, handover_id: int) -> HttpResponse:
    return _decide(request, handover_id, "cancel")


def _close_date(raw: str | None) -> dt.date:
    today = workspace_business_date()
    if not raw:
        return today
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as error:
        raise Http404 from error


@login_required
@require_http_methods(["GET", "POST"])
def day_close(request: HttpRequest) -> HttpResponse:
    """Count one holder's cash (default: your own) for a business date (default: today)."""
    profile = _staff(request)
    branch = _branch(profile, request.GET.get("branch"))
    holder_user = _user_or_vault(request.GET.get("holder") or str(profile.user_id))
    day = _close_date(request.GET.get("date"))
    money = workspace_currency()
    denominations = denominations_for(money, exponent=get_currency_precision(money))
    form = DayCloseForm(
        request.POST or None, initial={"idempotency_key": new_key()}, denominations=denominations
    )
    if request.method == "POST" and form.is_valid():
        try:
            close = services.cash_day_close(
                actor=request.user,
                branch=branch,
                user=holder_user,
                business_date=day,
                counts=form.counts(),
                idempotency_key=form.cleaned_data["idempotency_key"],
                note=form.cleaned_data["note"],
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("The day is closed."))
            return HttpResponseRedirect(reverse("cash:close_detail", args=[close.pk]))
    holder = selectors.holder_of(branch_id=branch.pk, user_id=holder_user.pk if holder_user else None)
    if holder is not None:
        book = selectors.balance_minor(holder.account_id, through=day)
    elif holder_user is None:
        book = selectors.balance_minor_of_code(branch_code=branch.code, through=day)
    else:
        book = 0
    done = (
        CashDayClose.objects.filter(holder=holder, business_date=day).first() if holder is not None else None
    )
    context = {
        "form": form,
        "branch": branch,
        "holder_name": _holder_name(holder_user),
        "day": day,
        "book_minor": book,
        "done": done,
        "currency": money,
        "exponent": get_currency_precision(money),
        "may_close": access.may_close(
            profile, branch_id=branch.pk, user_id=holder_user.pk if holder_user else None
        ),
    }
    return render(request, "cash/day_close.html", context)


@login_required
@require_GET
def close_detail(request: HttpRequest, close_id: int) -> HttpResponse:
    profile = _staff(request)
    closes = selectors.day_closes_visible(visible_branch_ids=profile.visible_branch_ids())
    if access.own_cash_only(profile):
        closes = closes.filter(holder__user_id=profile.user_id)
    close = closes.filter(pk=close_id).first()
    if close is None:
        raise Http404
    money = workspace_currency()
    table = denominations_for(money, exponent=get_currency_precision(money))
    lines = [
        (
            denomination,
            close.counts[denomination.key],
            denomination.value_minor * close.counts[denomination.key],
        )
        for denomination in table
        if close.counts.get(denomination.key)
    ]
    entry_lines = list(close.entry.lines.select_related("account").order_by("id")) if close.entry else []
    context = {
        "close": close,
        "holder_name": selectors.holder_label(close.holder),
        "lines": lines,
        "entry_lines": entry_lines,
        "currency": money,
    }
    return render(request, "cash/close_detail.html", context)
