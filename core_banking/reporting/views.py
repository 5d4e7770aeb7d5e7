"""Staff pages of the reports: the index, each report on screen, and its PDF, XLSX and CSV downloads."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.reporting import outputs
from core_banking.reporting.access import branch_set_resolve, reporting_profile
from core_banking.reporting.forms import ReportForm, initial_values
from core_banking.reporting.registry import REPORTS, Parameter, ReportQuery, ReportSpec
from core_banking.staff.models import StaffProfile
from tenants.db import current_cooperative

EXPORT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _spec(slug: str) -> ReportSpec[Any]:
    spec = REPORTS.get(slug)
    if spec is None:
        raise Http404
    return spec


def _refused(request: HttpRequest, refusal: BusinessRuleViolation) -> HttpResponse:
    return render(request, "reporting/refused.html", {"message": refusal.message}, status=refusal.http_status)


def _presentation(request: HttpRequest) -> outputs.Presentation:
    cooperative = current_cooperative()
    if cooperative is None:
        raise Http404
    return outputs.Presentation.for_cooperative(cooperative, request.LANGUAGE_CODE)


def _query(form: ReportForm, spec: ReportSpec[Any], profile: StaffProfile) -> ReportQuery:
    data = form.cleaned_data
    return ReportQuery(
        branch_set=branch_set_resolve(profile=profile, branch_ids=form.branch_ids()),
        as_of=data.get(Parameter.AS_OF.value),
        start=data.get(Parameter.START.value),
        end=data.get(Parameter.END.value),
        day=data.get(Parameter.DAY.value),
        account=data.get(Parameter.ACCOUNT.value) or None,
        member=data.get(Parameter.MEMBER.value) or None,
        group=data.get(Parameter.GROUP.value) or None,
    )


def _bound_form(request: HttpRequest, spec: ReportSpec[Any], profile: StaffProfile) -> ReportForm:
    """The form from the query string; without one, from the defaults (today, all one's branches)."""
    if request.GET:
        return ReportForm(request.GET, spec=spec, profile=profile)
    cooperative = current_cooperative()
    today = cooperative.business_date() if cooperative else None
    if today is None:
        raise Http404
    initial = initial_values(spec, profile, today)
    data = {
        key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in initial.items()
    }
    return ReportForm(data, spec=spec, profile=profile)


@login_required
@require_GET
def report_index(request: HttpRequest) -> HttpResponse:
    try:
        reporting_profile(request.user)
    except BusinessRuleViolation as refusal:
        return _refused(request, refusal)
    groups: dict[str, list[ReportSpec[Any]]] = {}
    for spec in REPORTS.values():
        groups.setdefault(str(spec.group), []).append(spec)
    return render(request, "reporting/index.html", {"groups": groups})


@login_required
@require_GET
def report_page(request: HttpRequest, slug: str) -> HttpResponse:
    spec = _spec(slug)
    try:
        profile = reporting_profile(request.user)
    except BusinessRuleViolation as refusal:
        return _refused(request, refusal)
    form = _bound_form(request, spec, profile)
    context: dict[str, Any] = {"spec": spec, "form": form, "error": None, "built": None}
    status = 200
    if form.is_valid():
        try:
            built = outputs.report_build(
                spec=spec,
                query=_query(form, spec, profile),
                presentation=_presentation(request),
                produced_by=request.user.get_username(),
            )
        except BusinessRuleViolation as refusal:
            context["error"] = refusal
            status = refusal.http_status
        else:
            context.update(outputs.template_context(built))
            context["built"] = built
            query_string = request.GET.urlencode() or _form_query_string(form)
            context["exports"] = [
                (kind.upper(), f"{reverse('reporting:export', args=[spec.slug, kind])}?{query_string}")
                for kind in EXPORT_TYPES
            ]
    elif not request.GET:
        form = ReportForm(initial=form.data, spec=spec, profile=profile)  # no errors before a first try
        context["form"] = form
    else:
        status = 400
    return render(request, "reporting/report.html", context, status=status)


def _form_query_string(form: ReportForm) -> str:
    query = QueryDict(mutable=True)
    for key, value in form.data.items():
        if isinstance(value, list):
            query.setlist(key, [str(item) for item in value])
        else:
            query[key] = str(value)
    return query.urlencode()


@login_required
@require_GET
def report_export(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    spec = _spec(slug)
    if kind not in EXPORT_TYPES:
        raise Http404
    try:
        profile = reporting_profile(request.user)
        form = ReportForm(request.GET, spec=spec, profile=profile)
        if not form.is_valid():
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                "; ".join(
                    f"{field}: {' '.join(str(error) for error in errors)}"
                    for field, errors in form.errors.items()
                ),
            )
        built = outputs.report_build(
            spec=spec,
            query=_query(form, spec, profile),
            presentation=_presentation(request),
            produced_by=request.user.get_username(),
        )
    except BusinessRuleViolation as refusal:
        return _refused(request, refusal)
    content: bytes | str
    if kind == "pdf":
        content = outputs.pdf_bytes(built)
    elif kind == "xlsx":
        content = outputs.xlsx_bytes(built)
    else:
        # A byte-order mark, so that spreadsheet programs read Bangla and Thai text as UTF-8.
        content = "\ufeff" + outputs.csv_text(built)
    response = HttpResponse(content, content_type=EXPORT_TYPES[kind])
    disposition = "inline" if kind == "pdf" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{outputs.download_name(built, kind)}"'
    return response
