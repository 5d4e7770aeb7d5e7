"""Pages of data import (mounted at /imports/): the jobs, the upload form, a job's progress and report,
the templates and the sample workbook. Cooperative admins only (``MANAGE_ORGANISATION``); anyone else
on staff is refused, and a user of no staff here sees nothing (404). Parse, call, render."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from control_plane.errors import BusinessRuleViolation
from core_banking.members.services import workspace_storage_prefix
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability
from imports import commit, selectors, services
from imports.engine import reader, sample, templates
from imports.engine.validate import ENTITY_ORDER
from imports.forms import ImportUploadForm
from imports.models import ImportJob
from tenants.db import current_cooperative

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SAMPLE_MEMBERS = 200


def _admin(request: HttpRequest) -> StaffProfile:
    profile: StaffProfile | None = getattr(request.user, "staff_profile", None)
    if profile is None:
        raise Http404  # not a staff user of this workspace: nothing here exists for them
    if not profile.can(Capability.MANAGE_ORGANISATION) or profile.read_only:
        raise PermissionDenied
    return profile


def _language(request: HttpRequest) -> str:
    language = str(getattr(request, "LANGUAGE_CODE", "en"))
    return language if language in templates.LANGUAGES else "en"


def _apply_violation(form: ImportUploadForm, violation: BusinessRuleViolation) -> None:
    """The service's field messages onto the form (its ``files`` are the form's ``spreadsheets``)."""
    if not violation.fields:
        form.add_error(None, violation.message)
    for field, messages in violation.fields.items():
        name = "spreadsheets" if field == "files" else field
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def _job(job_id: int) -> ImportJob:
    job = selectors.import_job(job_id)
    if job is None:
        raise Http404
    return job


def _attachment(content: bytes, name: str, content_type: str) -> FileResponse:
    response = FileResponse(io.BytesIO(content), as_attachment=True, filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return _list(request)


def _list(request: HttpRequest, *, action_error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "jobs": selectors.import_jobs()[:100],
        "cut_over": selectors.cut_over(),
        "action_error": action_error,
    }
    return render(request, "imports/job_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def job_new(request: HttpRequest) -> HttpResponse:
    _admin(request)
    cooperative = current_cooperative()
    country = getattr(cooperative, "country", "") or "BD"
    form = ImportUploadForm(
        request.POST or None,
        request.FILES or None,
        initial={"country": country, "buddhist_era": country == "TH", "date_order": "DMY"},
    )
    status = 200
    error_code = ""
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(
                actor=request.user,
                files=form.cleaned_data["spreadsheets"],
                options=form.options(_language(request)),
            )
        except BusinessRuleViolation as violation:
            _apply_violation(form, violation)
            status, error_code = violation.http_status, str(violation.code)
        else:
            services.import_dry_run_queue(job)
            return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))
    elif request.method == "POST":
        status = 400
    downloads = [{"entity": entity, "title": selectors.entity_title(entity)} for entity in ENTITY_ORDER]
    return render(
        request,
        "imports/job_new.html",
        {"form": form, "downloads": downloads, "error_code": error_code},
        status=status,
    )


def _urls(job: ImportJob) -> dict[str, str]:
    """Where the job page's forms and links go in the workspace (the console has its own)."""
    return {
        "commit": reverse("imports:commit", args=[job.pk]),
        "rollback": reverse("imports:rollback", args=[job.pk]),
        "progress": reverse("imports:progress", args=[job.pk]),
        "report": reverse("imports:report", args=[job.pk]),
        "members": reverse("members:list"),
        "trial_balance": reverse("reporting:report", args=["trial-balance"]),
    }


def _job_context(job: ImportJob, **extra: object) -> dict[str, object]:
    return {**selectors.job_page(job), "urls": _urls(job), **extra}


@login_required
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    _admin(request)
    return render(request, "imports/job_detail.html", _job_context(_job(job_id)))


@login_required
@require_POST
def job_commit(request: HttpRequest, job_id: int) -> HttpResponse:
    """Import a checked job (warnings accepted with the box ticked); it runs as a background job."""
    _admin(request)
    job = _job(job_id)
    try:
        commit.import_commit_request(
            actor=request.user, job_id=job.pk, accept_warnings=request.POST.get("accept_warnings") == "on"
        )
    except BusinessRuleViolation as violation:
        context = _job_context(_job(job_id), action_error=violation.message, error_code=str(violation.code))
        return render(request, "imports/job_detail.html", context, status=violation.http_status)
    return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))


@login_required
@require_POST
def job_rollback(request: HttpRequest, job_id: int) -> HttpResponse:
    """Undo a committed import before the cooperative goes live (a reason is required)."""
    _admin(request)
    job = _job(job_id)
    try:
        commit.import_rollback(actor=request.user, job_id=job.pk, reason=request.POST.get("reason", ""))
    except BusinessRuleViolation as violation:
        context = _job_context(_job(job_id), action_error=violation.message, error_code=str(violation.code))
        return render(request, "imports/job_detail.html", context, status=violation.http_status)
    return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))


@login_required
@require_POST
def go_live(request: HttpRequest) -> HttpResponse:
    """The cooperative works here from now on; imports can no longer be rolled back."""
    _admin(request)
    if request.POST.get("confirm") != "on":
        return _list(request, action_error=_("Tick the box to confirm."), status=400)
    try:
        commit.workspace_go_live(actor=request.user)
    except BusinessRuleViolation as violation:
        return _list(request, action_error=violation.message, status=violation.http_status)
    return HttpResponseRedirect(reverse("imports:index"))


@login_required
@require_GET
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress block, polled by htmx while the dry run goes on; once it ends the page reloads."""
    _admin(request)
    job = _job(job_id)
    progress = commit.commit_progress(job.pk) if job.status == "committing" else None
    response = render(
        request, "imports/_progress.html", {"job": job, "progress": progress, "urls": _urls(job)}
    )
    if not job.is_running and getattr(request, "htmx", False):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def job_report(request: HttpRequest, job_id: int) -> FileResponse:
    """Every issue and the reconciliation as a spreadsheet (the engine's report)."""
    _admin(request)
    job = _job(job_id)
    if not job.report_path or not job.report_path.startswith(workspace_storage_prefix()):
        raise Http404  # never serve a file outside this workspace's own prefix, whatever a row says
    try:
        handle = default_storage.open(job.report_path, "rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(
        handle, as_attachment=True, filename=f"import-{job.pk}-report.xlsx", content_type=XLSX
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def template_download(request: HttpRequest, entity: str, kind: str) -> FileResponse:
    """An entity's template with headers and example rows in the reader's language."""
    _admin(request)
    template = templates.TEMPLATES.get(entity)
    if template is None or kind not in ("xlsx", "csv"):
        raise Http404
    language = _language(request)
    out = io.BytesIO()
    if kind == "xlsx":
        descriptions = {item.description: _(item.description) for item in template.fields if item.description}
        templates.write_xlsx_template(template, out, language=language, translate=descriptions)
        return _attachment(out.getvalue(), f"{entity}-{language}.xlsx", XLSX)
    templates.write_csv_template(template, out, language=language)
    return _attachment(out.getvalue(), f"{entity}-{language}.csv", "text/csv; charset=utf-8")


@login_required
@require_GET
def sample_download(request: HttpRequest) -> FileResponse:
    """A generated legacy workbook (this workspace's country) to try the import with."""
    _admin(request)
    cooperative = current_cooperative()
    country = getattr(cooperative, "country", "") or "BD"
    country = country if country in sample.COUNTRY_CURRENCY else "BD"
    out = io.BytesIO()
    sample.write_sample(out, members=SAMPLE_MEMBERS, country=country, language=_language(request))
    return _attachment(out.getvalue(), f"sample-{country.lower()}.xlsx", XLSX)


# --- Mapping profiles: another system's columns, mapped once ---------------------------------------


@login_required
@require_GET
def profile_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(request, "imports/profile_list.html", {"profiles": selectors.mapping_profiles()})


def _field_choices(entity: str, language: str) -> list[tuple[str, str]]:
    """The template's fields as the reader's language heads them (required ones marked *)."""
    template = templates.TEMPLATES[entity]
    return [("", _("— not imported —"))] + [
        (item.key, f"{item.header(language)}{' *' if item.required else ''}") for item in template.fields
    ]


@login_required
@require_http_methods(["GET", "POST"])
def profile_new(request: HttpRequest) -> HttpResponse:
    """Step one: a sample of the export and what it holds; step two: which column is which field."""
    _admin(request)
    context: dict[str, Any] = {
        "entities": [(entity, selectors.entity_title(entity)) for entity in ENTITY_ORDER],
        "errors": [],
    }
    entity = request.POST.get("entity", "")
    if request.method == "POST" and entity not in templates.TEMPLATES:
        context["errors"] = [_("Choose what the file holds.")]
    if request.method == "GET" or context["errors"]:
        return render(request, "imports/profile_new.html", context, status=400 if context["errors"] else 200)
    context.update(
        entity=entity,
        entity_title=selectors.entity_title(entity),
        choices=_field_choices(entity, _language(request)),
    )
    upload = request.FILES.get("sample")
    if upload is not None:
        return _profile_sample(request, context, upload.read(services.MAX_FILE_BYTES + 1))
    return _profile_save(request, context)


@login_required
@require_GET
def profile_edit(request: HttpRequest, profile_id: int) -> HttpResponse:
    """A saved mapping's columns, to change; saved under the same name it replaces the old one."""
    _admin(request)
    profile = selectors.mapping_profiles().filter(pk=profile_id).first()
    if profile is None or profile.entity not in templates.TEMPLATES:
        raise Http404
    context: dict[str, Any] = {
        "errors": [],
        "entity": profile.entity,
        "entity_title": selectors.entity_title(profile.entity),
        "choices": _field_choices(profile.entity, _language(request)),
        "columns": [
            {"index": index, "header": header, "field": field}
            for index, (header, field) in enumerate(profile.columns.items())
        ],
        "encoding": profile.encoding,
        "delimiter": profile.delimiter,
        "name": profile.name,
        "date_order": profile.date_order,
        "sheet": profile.sheet,
    }
    return render(request, "imports/profile_new.html", context)


def _profile_sample(request: HttpRequest, context: dict[str, Any], data: bytes) -> HttpResponse:
    """Read the sample's header row; suggest a field per column where its header says which."""
    try:
        sampled = reader.sample_headers(
            data,
            locale=_language(request),
            sheet=request.POST.get("sheet", ""),
            template=templates.TEMPLATES[context["entity"]],
        )
    except reader.ReadError as error:
        message = _(error.message)
        context["errors"] = [message % error.params if error.params else message]
        return render(request, "imports/profile_new.html", context, status=400)
    suggested = reader.match_headers(sampled.headers, templates.TEMPLATES[context["entity"]]).mapped
    context["columns"] = [
        {"index": index, "header": header, "field": suggested.get(header, "")}
        for index, header in enumerate(header for header in sampled.headers if header)
    ]
    context.update(
        encoding=sampled.encoding or "",
        delimiter=sampled.delimiter or "",
        sheet=sampled.sheet or "",
        sheet_names=sampled.sheet_names,
    )
    return render(request, "imports/profile_new.html", context)


def _profile_save(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    headers = request.POST.getlist("header")
    chosen = [request.POST.get(f"field_{index}", "") for index in range(len(headers))]
    context["columns"] = [
        {"index": index, "header": header, "field": field}
        for index, (header, field) in enumerate(zip(headers, chosen, strict=True))
    ]
    context.update(
        encoding=request.POST.get("encoding", ""),
        delimiter=request.POST.get("delimiter", ""),
        name=request.POST.get("name", ""),
        date_order=request.POST.get("date_order", "DMY"),
        sheet=request.POST.get("sheet", ""),
    )
    template = templates.TEMPLATES[context["entity"]]
    used = [field for field in chosen if field]
    language = _language(request)
    missing = [item.header(language) for item in template.fields if item.required and item.key not in used]
    twice = sorted({field for field in used if used.count(field) > 1})
    if missing:
        context["errors"].append(
            _("These required fields have no column: %(fields)s") % {"fields": ", ".join(missing)}
        )
    if twice:
        context["errors"].append(_("Two columns cannot both be %(fields)s.") % {"fields": ", ".join(twice)})
    status = 400
    if not context["errors"]:
        try:
            services.mapping_profile_save(
                actor=request.user,
                name=request.POST.get("name", ""),
                entity=context["entity"],
                columns=dict(zip(headers, chosen, strict=True)),
                encoding=context["encoding"],
                delimiter=context["delimiter"],
                date_order=request.POST.get("date_order", "DMY"),
                sheet=context["sheet"],
            )
        except BusinessRuleViolation as violation:
            context["errors"] = [m for messages in violation.fields.values() for m in messages] or [
                violation.message
            ]
            status = violation.http_status
        else:
            return HttpResponseRedirect(reverse("imports:profiles"))
    return render(request, "imports/profile_new.html", context, status=status)
