"""The workspace's SMS page: this month against the plan's allowance, and the last twelve months."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core_banking.members import selectors as member_selectors
from core_banking.staff.roles import Capability
from notifications import metering
from tenants.db import current_cooperative

# The meter is the whole cooperative's consumption against its plan, not any member's data:
# those who run the cooperative or read its reports see it, whatever their branch.
SMS_USAGE_CAPABILITIES = (Capability.MANAGE_ORGANISATION, Capability.VIEW_REPORTS)


@login_required
@require_GET
def sms_usage(request: HttpRequest) -> HttpResponse:
    """Going over the allowance shows a warning here; nothing stops sending."""
    profile = member_selectors.staff_profile_of(request.user)
    cooperative = current_cooperative()
    if profile is None or cooperative is None:
        raise Http404
    if not any(profile.can(capability) for capability in SMS_USAGE_CAPABILITIES):
        raise PermissionDenied
    language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    return render(
        request, "notifications/sms_usage.html", {"usage": metering.sms_usage(cooperative, language)}
    )
