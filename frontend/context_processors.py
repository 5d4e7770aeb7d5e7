from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core_banking.staff.roles import ROLE_LABELS, Role
from frontend.formatting import format_local_date
from frontend.navigation import entries_for
from tenants.db import in_public_schema


def workspace(request: HttpRequest) -> dict[str, Any]:
    """What the shell shows on every page: cooperative, branch, business date, menu and languages."""
    language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    context: dict[str, Any] = {"language_choices": settings.LANGUAGES, "current_language": language}
    tenant = getattr(request, "tenant", None)
    if tenant is None or in_public_schema():
        return context
    context["cooperative"] = tenant
    context["workspace_state"] = tenant.lifecycle
    context["business_date"] = format_local_date(
        tenant.business_date(), language, native_digits=tenant.use_native_digits
    )
    user = getattr(request, "user", None)
    profile = getattr(user, "staff_profile", None) if user is not None and user.is_authenticated else None
    if profile is not None:
        context["staff_profile"] = profile
        context["home_branch"] = profile.home_branch
        context["role_labels"] = [ROLE_LABELS[Role(role)] for role in profile.roles]
        context["navigation"] = entries_for(profile.capabilities, request.path)
    return context
