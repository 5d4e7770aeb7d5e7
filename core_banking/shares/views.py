"""Staff pages of share capital: a member's holding, buying shares, the cooperative's share terms.

Reading needs a staff profile in this workspace; a purchase needs ``Capability.POST_TRANSACTIONS``
and changing the terms ``Capability.MANAGE_ORGANISATION``. A member outside the user's branches
is answered with 404, as if they did not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.cash.services import cash_account_for_posting
from core_banking.members.models import MemberStatus
from core_banking.savings.forms import apply_violation
from core_banking.savings.views import (
    form_money,
    money_text,
    staff_allowed,
    staff_of,
    visible_member,
    workspace_cooperative,
)
from core_banking.shares import selectors, services
from core_banking.shares.forms import PurchaseForm, ShareSettingsForm
from core_banking.shares.models import ShareAccount, ShareSettings
from core_banking.staff.roles import Capability

HISTORY_SHOWN = 50


@login_required
@require_GET
def holding(request: HttpRequest, member_id: int) -> HttpResponse:
    profile = staff_of(request)
    member = visible_member(profile, member_id)
    history = list(selectors.share_history(member=member).order_by("-value_date", "-id")[:HISTORY_SHOWN])
    context = {
        "member": member,
        "position": selectors.share_position(member=member),
        "terms": selectors.share_settings_current(),
        "history": history,
        "can_buy": profile.can(Capability.POST_TRANSACTIONS) and member.status != MemberStatus.EXITED,
    }
    return render(request, "shares/holding.html", context)


def _purchase_messages(violation: BusinessRuleViolation, terms: ShareSettings, held: int) -> dict[str, str]:
    if violation.code == ErrorCode.SHARES_ABOVE_MAXIMUM and terms.maximum_shares is not None:
        return {
            "shares": _("A member holds at most %(maximum)s shares; this member holds %(held)s.")
            % {"maximum": terms.maximum_shares, "held": held}
        }
    if violation.code == ErrorCode.SHARES_BELOW_MINIMUM:
        return {
            "shares": _("A member holds at least %(minimum)s shares: buy at least %(needed)s.")
            % {"minimum": terms.minimum_shares, "needed": max(terms.minimum_shares - held, 1)}
        }
    return {}


@login_required
@require_http_methods(["GET", "POST"])
def purchase(request: HttpRequest, member_id: int) -> HttpResponse:
    profile = staff_allowed(request, Capability.POST_TRANSACTIONS)
    member = visible_member(profile, member_id)
    cooperative = workspace_cooperative()
    form = PurchaseForm(request.POST or None, **form_money(request, cooperative))
    if request.method == "POST" and form.is_valid():
        try:
            movement = services.share_purchase(
                member_id=member.pk,
                shares=form.cleaned_data["shares"],
                value_date=cooperative.business_date(),
                idempotency_key=form.cleaned_data["idempotency_key"],
                actor=request.user,
                memo=form.cleaned_data["memo"],
                cash_account_code=cash_account_for_posting(actor=request.user, branch=member.branch),
            )
        except BusinessRuleViolation as violation:
            held = ShareAccount.objects.filter(member_id=member.pk).values_list("shares", flat=True).first()
            terms = selectors.share_settings_current()
            apply_violation(form, violation, messages=_purchase_messages(violation, terms, held or 0))
        else:
            messages.success(
                request,
                _("%(shares)s shares bought for %(amount)s. Held now: %(held)s shares.")
                % {
                    "shares": movement.shares,
                    "amount": money_text(request, cooperative, movement.amount_minor),
                    "held": movement.shares_after,
                },
            )
            return HttpResponseRedirect(reverse("shares:holding", args=[member.pk]))
    context = {
        "member": member,
        "form": form,
        "position": selectors.share_position(member=member),
        "terms": selectors.share_settings_current(),
    }
    return render(request, "shares/purchase.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def share_settings(request: HttpRequest) -> HttpResponse:
    profile = staff_of(request)
    can_manage = profile.can(Capability.MANAGE_ORGANISATION)
    cooperative = workspace_cooperative()
    current = selectors.share_settings_current()
    initial = {
        "nominal_value": current.nominal_value_minor,
        "minimum_shares": current.minimum_shares,
        "maximum_shares": current.maximum_shares,
    }
    form = ShareSettingsForm(
        request.POST or None,
        initial=initial,
        **form_money(request, cooperative),
    )
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.share_settings_update(
                    actor=request.user,
                    nominal_value_minor=form.cleaned_data["nominal_value"],
                    minimum_shares=form.cleaned_data["minimum_shares"],
                    maximum_shares=form.cleaned_data["maximum_shares"],
                )
            except BusinessRuleViolation as violation:
                locked = {"nominal_value": _("The value of a share cannot change while members hold shares.")}
                apply_violation(
                    form, violation, messages=locked if violation.code == ErrorCode.SHARE_VALUE_LOCKED else {}
                )
            else:
                messages.success(request, _("Share terms saved."))
                return HttpResponseRedirect(reverse("shares:settings"))
    context = {
        "terms": current,
        "form": form,
        "can_manage": can_manage,
        "capital_minor": selectors.share_capital_total(),
        "holders": ShareAccount.objects.filter(shares__gt=0).count(),
    }
    return render(request, "shares/settings.html", context)
