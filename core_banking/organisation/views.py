"""Staff pages of the working-day calendar: parse, call a selector or a service, render.

Every staff user reads the calendar (the cooperative-wide days and those of the branches they
see); adding or removing holidays and setting weekly off-days needs ``MANAGE_ORGANISATION``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from control_plane.errors import BusinessRuleViolation
from core_banking.organisation import selectors, services
from core_banking.organisation.forms import HolidayForm, WeeklyOffDaysForm, apply_violation
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability
from tenants.db import workspace_business_date

FIRST_YEAR, LAST_YEAR = 1900, 2999


def _staff(request: HttpRequest) -> StaffProfile:
    profile: StaffProfile | None = getattr(request.user, "staff_profile", None)
    if profile is None:
        raise Http404  # not a staff user of this workspace: nothing here exists for them
    return profile


def _manager(request: HttpRequest) -> StaffProfile:
    profile = _staff(request)
    if not profile.can(Capability.MANAGE_ORGANISATION):
        raise PermissionDenied
    return profile


def _year(value: str | None) -> int:
    if value and value.isdigit() and FIRST_YEAR <= int(value) <= LAST_YEAR:
        return int(value)
    return workspace_business_date().year


def _calendar_url(year: int) -> str:
    return f"{reverse('organisation:calendar')}?year={year}"


def _language(request: HttpRequest) -> str:
    return str(getattr(request, "LANGUAGE_CODE", "en"))


def _page(request: HttpRequest, profile: StaffProfile, year: int, **forms: Any) -> dict[str, Any]:
    visible = profile.visible_branch_ids()
    branches = selectors.branches_visible(visible)
    this_year = workspace_business_date().year
    off_days = selectors.weekly_off_days_overview(visible_branch_ids=visible)
    return {
        "year": year,
        "years": range(
            max(FIRST_YEAR, min(year, this_year) - 5), min(LAST_YEAR, max(year, this_year) + 5) + 1
        ),
        "previous_year": year - 1 if year > FIRST_YEAR else None,
        "next_year": year + 1 if year < LAST_YEAR else None,
        "holidays": selectors.holidays_in_year(year=year, visible_branch_ids=visible),
        "off_days": off_days,
        "can_manage": profile.can(Capability.MANAGE_ORGANISATION) and not profile.read_only,
        "holiday_form": forms.get("holiday_form")
        or HolidayForm(branches=branches, initial={"day": workspace_business_date()}),
        "off_days_form": forms.get("off_days_form")
        or WeeklyOffDaysForm(
            branches=branches, language=_language(request), initial=_off_days_initial(request, off_days)
        ),
    }


def _off_days_initial(request: HttpRequest, off_days: selectors.WeeklyOffDaysOverview) -> dict[str, Any]:
    """The weekly off-days form opens on the cooperative's days, or on a branch's chosen from the list."""
    chosen = request.GET.get("off_days_branch", "")
    for row in off_days.branches:
        if str(row.branch.pk) == chosen:
            return {"branch": row.branch.pk, "weekdays": sorted(row.own)}
    return {"weekdays": sorted(off_days.cooperative)}


@login_required
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    """The holidays of one year, the weekly off-days, and (for managers) the forms that change them."""
    profile = _staff(request)
    context = _page(request, profile, _year(request.GET.get("year")))
    if getattr(request, "htmx", False):
        return render(request, "organisation/_holidays.html", context)
    return render(request, "organisation/calendar.html", context)


@login_required
@require_POST
def holiday_add(request: HttpRequest) -> HttpResponse:
    profile = _manager(request)
    form = HolidayForm(request.POST, branches=selectors.branches_visible(profile.visible_branch_ids()))
    if form.is_valid():
        data = form.cleaned_data
        try:
            holiday = services.holiday_create(
                actor=request.user,
                day=data["day"],
                name=data["name"],
                branch=data["branch"],
                every_year=data["every_year"],
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("Holiday added: %(name)s.") % {"name": holiday.name})
            return HttpResponseRedirect(_calendar_url(holiday.day.year))
    year = form.cleaned_data["day"].year if "day" in form.cleaned_data else _year(None)
    context = _page(request, profile, year, holiday_form=form)
    return render(request, "organisation/calendar.html", context, status=400)


@login_required
@require_POST
def holiday_delete(request: HttpRequest, holiday_id: int) -> HttpResponse:
    profile = _manager(request)
    holiday = selectors.holiday_visible(
        holiday_id=holiday_id, visible_branch_ids=profile.visible_branch_ids()
    )
    if holiday is None:
        raise Http404
    year = _year(request.POST.get("year"))
    try:
        services.holiday_delete(actor=request.user, holiday_id=holiday.pk)
    except BusinessRuleViolation as violation:
        messages.error(request, violation.message)
    else:
        messages.success(request, _("Holiday removed: %(name)s.") % {"name": holiday.name})
    return HttpResponseRedirect(_calendar_url(year))


@login_required
@require_POST
def weekly_off_days(request: HttpRequest) -> HttpResponse:
    profile = _manager(request)
    form = WeeklyOffDaysForm(
        request.POST,
        branches=selectors.branches_visible(profile.visible_branch_ids()),
        language=_language(request),
    )
    year = _year(request.POST.get("year"))
    if form.is_valid():
        try:
            services.weekly_off_days_set(
                actor=request.user, weekdays=form.cleaned_data["weekdays"], branch=form.cleaned_data["branch"]
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("Weekly off-days saved."))
            return HttpResponseRedirect(_calendar_url(year))
    context = _page(request, profile, year, off_days_form=form)
    return render(request, "organisation/calendar.html", context, status=400)
