"""The console's view of a cooperative's data imports: the same report pages its admins see, with
the commit and the rollback done on its behalf (a reason each, audited in the console's trail and
in the workspace's, with the operator's name). Read inside the cooperative's workspace only."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tenants.utils import tenant_context

from control_plane.console import services
from control_plane.console.auth import console_operator_required
from control_plane.console.forms import ReasonForm
from control_plane.console.views import _cooperative, _operator
from control_plane.errors import BusinessRuleViolation
from imports import commit as import_commit_service
from imports import selectors
from imports.forms import ImportUploadForm
from imports.models import ImportJob
from tenants.models import Cooperative

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JOBS_SHOWN = 50


def _urls(cooperative: Cooperative, job: ImportJob) -> dict[str, str]:
    args = [cooperative.slug, job.pk]
    return {
        "commit": reverse("console:import_commit", args=args),
        "rollback": reverse("console:import_rollback", args=args),
        "progress": reverse("console:import_progress", args=args),
        "report": reverse("console:import_report", args=args),
    }


def _job(job_id: int) -> ImportJob:
    job = selectors.import_job(job_id)
    if job is None:
        raise Http404
    return job


def _detail(
    request: HttpRequest, cooperative: Cooperative, job_id: int, *, status: int = 200, **extra: Any
) -> HttpResponse:
    with tenant_context(cooperative):
        job = _job(job_id)
        context = {
            **selectors.job_page(job),
            "cooperative": cooperative,
            "urls": _urls(cooperative, job),
            "console": True,
            "reason_form": ReasonForm(prefix="import"),
            **extra,
        }
        return render(request, "console/tenant_import.html", context, status=status)


@never_cache
@console_operator_required
@require_GET
def import_list(request: HttpRequest, slug: str) -> HttpResponse:
    cooperative = _cooperative(slug)
    with tenant_context(cooperative):
        context = {
            "cooperative": cooperative,
            "jobs": list(selectors.import_jobs()[:JOBS_SHOWN]),
            "cut_over": selectors.cut_over(),
        }
        return render(request, "console/tenant_imports.html", context)


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload the cooperative's files for it (the same form as its admins', and a reason)."""
    cooperative = _cooperative(slug)
    status = 200
    with tenant_context(cooperative):
        form = ImportUploadForm(
            request.POST or None,
            request.FILES or None,
            initial={"country": cooperative.country, "buddhist_era": cooperative.country == "TH"},
        )
        reason = ReasonForm(request.POST or None, prefix="import")
        if request.method == "POST":
            if form.is_valid() and reason.is_valid():
                try:
                    job_id = services.cooperative_import_upload(
                        cooperative=cooperative,
                        files=form.cleaned_data["spreadsheets"],
                        options=form.options(cooperative.default_language),
                        reason=reason.cleaned_data["reason"],
                        actor=_operator(request),
                    )
                except BusinessRuleViolation as violation:
                    for field, texts in violation.fields.items():
                        for text in texts:
                            form.add_error("spreadsheets" if field == "files" else None, text)
                    status = violation.http_status
                else:
                    messages.success(request, _("The files are uploaded; their dry run is queued."))
                    return HttpResponseRedirect(reverse("console:import", args=[cooperative.slug, job_id]))
            else:
                status = 400
        return render(
            request,
            "console/tenant_import_new.html",
            {"cooperative": cooperative, "form": form, "reason_form": reason},
            status=status,
        )


@never_cache
@console_operator_required
@require_GET
def import_detail(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    return _detail(request, _cooperative(slug), job_id)


@never_cache
@console_operator_required
@require_GET
def import_progress(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """The progress block, polled while a dry run or an import runs; the page reloads when it ends."""
    cooperative = _cooperative(slug)
    with tenant_context(cooperative):
        job = _job(job_id)
        progress = import_commit_service.commit_progress(job.pk) if job.status == "committing" else None
        context = {
            "job": job,
            "progress": progress,
            "urls": _urls(cooperative, job),
            "cooperative": cooperative,
        }
        response = render(request, "imports/_progress.html", context)
    if not job.is_running and getattr(request, "htmx", False):
        response["HX-Refresh"] = "true"
    return response


@never_cache
@console_operator_required
@require_GET
def import_report(request: HttpRequest, slug: str, job_id: int) -> FileResponse:
    cooperative = _cooperative(slug)
    prefix = f"workspaces/{cooperative.schema_name}/"
    with tenant_context(cooperative):
        job = _job(job_id)
    if not job.report_path or not job.report_path.startswith(prefix):
        raise Http404  # only this cooperative's own files
    try:
        handle = default_storage.open(job.report_path, "rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(
        handle, as_attachment=True, filename=f"import-{job.pk}-report.xlsx", content_type=XLSX
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _act(
    request: HttpRequest, slug: str, job_id: int, action: Any, done: str, **arguments: Any
) -> HttpResponse:
    """A commit or a rollback on the cooperative's behalf: a reason, the service, the job's page again."""
    cooperative = _cooperative(slug)
    form = ReasonForm(request.POST, prefix="import")
    if not form.is_valid():
        return _detail(request, cooperative, job_id, status=400, action_error=_("A reason is required."))
    try:
        action(
            cooperative=cooperative,
            job_id=job_id,
            reason=form.cleaned_data["reason"],
            actor=_operator(request),
            **arguments,
        )
    except BusinessRuleViolation as violation:
        return _detail(
            request,
            cooperative,
            job_id,
            status=violation.http_status,
            action_error=violation.message,
            error_code=str(violation.code),
        )
    messages.success(request, done)
    return HttpResponseRedirect(reverse("console:import", args=[cooperative.slug, job_id]))


@never_cache
@console_operator_required
@require_POST
def import_commit(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    return _act(
        request,
        slug,
        job_id,
        services.cooperative_import_commit,
        _("The import is queued; its progress shows here."),
        accept_warnings=request.POST.get("accept_warnings") == "on",
    )


@never_cache
@console_operator_required
@require_POST
def import_rollback(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    return _act(request, slug, job_id, services.cooperative_import_rollback, _("The import is rolled back."))
