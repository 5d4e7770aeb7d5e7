"""Staff pages of members and groups: parse, call a selector or a service, render.

Reading needs a staff profile in this workspace; changing needs ``Capability.MANAGE_MEMBERS``.
A member or group outside the user's branches is answered with 404, as if it did not exist.
Photos and ID scans are served only through ``document_file``, never from a public media URL.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.members import selectors, services
from core_banking.members.forms import (
    DocumentUploadForm,
    GroupForm,
    LeaderLoginForm,
    MemberForm,
    NomineeFormSet,
    StatusForm,
    apply_violation,
)
from core_banking.members.images import MAX_UPLOAD_BYTES
from core_banking.members.models import DocumentKind, Member, MemberDocument, MemberGroup, MemberStatus
from core_banking.staff import services as staff_services
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability
from tenants.db import current_cooperative

PAGE_SIZE = 50


def _staff(request: HttpRequest) -> StaffProfile:
    profile = selectors.staff_profile_of(request.user)
    if profile is None:
        raise Http404  # not a staff user of this workspace: nothing here exists for them
    return profile


def _manager(request: HttpRequest) -> StaffProfile:
    profile = _staff(request)
    if not profile.can(Capability.MANAGE_MEMBERS):
        raise PermissionDenied
    return profile


def _visible_member(profile: StaffProfile, member_id: int) -> Member:
    try:
        return selectors.member_for_staff(
            member_id=member_id, visible_branch_ids=profile.visible_branch_ids()
        )
    except Member.DoesNotExist as exc:
        raise Http404 from exc


def _visible_group(profile: StaffProfile, group_id: int) -> MemberGroup:
    try:
        return selectors.groups_visible_to(profile).get(pk=group_id)
    except MemberGroup.DoesNotExist as exc:
        raise Http404 from exc


# --- Members -------------------------------------------------------------------------------------


@login_required
@require_GET
def member_list(request: HttpRequest) -> HttpResponse:
    profile = _staff(request)
    visible = profile.visible_branch_ids()
    query = request.GET.get("q", "").strip()
    page = None
    if query:
        members = selectors.member_search(query, visible_branch_ids=visible, limit=PAGE_SIZE)
    else:
        page = Paginator(
            selectors.members_visible(visible_branch_ids=visible).order_by("number"), PAGE_SIZE
        ).get_page(request.GET.get("page"))
        members = list(page)
    context = {
        "members": members,
        "page": page,
        "query": query,
        "can_manage": profile.can(Capability.MANAGE_MEMBERS),
    }
    if getattr(request, "htmx", False):
        return render(request, "members/_member_results.html", context)
    return render(request, "members/member_list.html", context)


def _nominee_data(formset: Any) -> list[services.NomineeData]:
    """The filled-in nominee rows that are not marked for removal (blank extra rows are skipped)."""
    rows = []
    for data in formset.cleaned_data:
        if not data or data.get("DELETE"):
            continue
        rows.append(services.NomineeData(**{key: value for key, value in data.items() if key != "DELETE"}))
    return rows


def _member_data(cleaned: dict[str, Any]) -> services.MemberData:
    return services.MemberData(
        full_name=cleaned["full_name"],
        member_type=cleaned["member_type"],
        join_date=cleaned["join_date"],
        guardian_name=cleaned.get("guardian_name", ""),
        gender=cleaned.get("gender", ""),
        date_of_birth=cleaned.get("date_of_birth"),
        national_id=cleaned.get("national_id", ""),
        phone=cleaned.get("phone", ""),
        email=cleaned.get("email", ""),
        message_language=cleaned["message_language"],
        sms_opt_out=bool(cleaned.get("sms_opt_out")),
        address=cleaned.get("address", ""),
        group=cleaned.get("group"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_create(request: HttpRequest) -> HttpResponse:
    profile = _manager(request)
    visible = profile.visible_branch_ids()
    cooperative = current_cooperative()
    initial = {
        "branch": profile.home_branch_id,
        "message_language": cooperative.default_language if cooperative else "en",
        "join_date": cooperative.business_date() if cooperative else None,
        "member_type": selectors.default_member_type_id(),
    }
    form = MemberForm(request.POST or None, initial=initial, visible_branch_ids=visible)
    nominees = NomineeFormSet(request.POST or None, prefix="nominees")
    if request.method == "POST" and form.is_valid() and nominees.is_valid():
        try:
            member = services.member_create(
                actor=request.user,
                branch=form.cleaned_data["branch"],
                data=_member_data(form.cleaned_data),
                nominees=_nominee_data(nominees),
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("Member %(number)s admitted.") % {"number": member.number})
            return HttpResponseRedirect(reverse("members:detail", args=[member.pk]))
    return render(request, "members/member_form.html", {"form": form, "nominees": nominees, "member": None})


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, member_id: int) -> HttpResponse:
    profile = _manager(request)
    member = _visible_member(profile, member_id)
    data = services.member_data_of(member)
    initial = {field: getattr(data, field) for field in data.__dataclass_fields__}
    form = MemberForm(
        request.POST or None, initial=initial, visible_branch_ids=profile.visible_branch_ids(), member=member
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(actor=request.user, member=member, data=_member_data(form.cleaned_data))
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("members:detail", args=[member.pk]))
    return render(request, "members/member_form.html", {"form": form, "nominees": None, "member": member})


@login_required
@require_GET
def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    profile = _staff(request)
    member = _visible_member(profile, member_id)
    documents = selectors.member_current_documents(member)
    context = {
        "member": member,
        "nominees": list(member.nominees.all()),
        "photo": documents.get(DocumentKind.PHOTO),
        "id_scans": [
            documents[kind] for kind in (DocumentKind.ID_FRONT, DocumentKind.ID_BACK) if kind in documents
        ],
        "status_history": selectors.member_status_history(member),
        "can_manage": profile.can(Capability.MANAGE_MEMBERS),
        "is_active": member.status == MemberStatus.ACTIVE,
        "is_suspended": member.status == MemberStatus.SUSPENDED_FROM_BORROWING,
        "status_form": StatusForm(),
    }
    return render(request, "members/member_detail.html", context)


@login_required
@require_POST
def member_status(request: HttpRequest, member_id: int) -> HttpResponse:
    profile = _manager(request)
    member = _visible_member(profile, member_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the status changes."))
        return HttpResponseRedirect(reverse("members:detail", args=[member.pk]))
    change = (
        services.member_suspend_from_borrowing
        if form.cleaned_data["action"] == "suspend_from_borrowing"
        else services.member_reinstate
    )
    try:
        change(actor=request.user, member=member, reason=form.cleaned_data["reason"])
    except BusinessRuleViolation as violation:
        messages.error(request, violation.message)
    else:
        messages.success(request, _("Status changed."))
    return HttpResponseRedirect(reverse("members:detail", args=[member.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def member_nominees(request: HttpRequest, member_id: int) -> HttpResponse:
    profile = _manager(request)
    member = _visible_member(profile, member_id)
    initial = list(member.nominees.values("name", "relationship", "share_percent", "phone", "national_id"))
    formset = NomineeFormSet(request.POST or None, initial=initial, prefix="nominees")
    error = ""
    if request.method == "POST" and formset.is_valid():
        try:
            services.member_nominees_set(actor=request.user, member=member, nominees=_nominee_data(formset))
        except BusinessRuleViolation as violation:
            error = "; ".join(message for messages_ in violation.fields.values() for message in messages_)
            error = error or violation.message
        else:
            messages.success(request, _("Nominees saved."))
            return HttpResponseRedirect(reverse("members:detail", args=[member.pk]))
    return render(
        request, "members/member_nominees.html", {"member": member, "nominees": formset, "error": error}
    )


@login_required
@require_http_methods(["GET", "POST"])
def document_upload(request: HttpRequest, member_id: int) -> HttpResponse:
    profile = _manager(request)
    member = _visible_member(profile, member_id)
    form = DocumentUploadForm(
        request.POST or None, request.FILES or None, initial={"kind": request.GET.get("kind")}
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
                raise BusinessRuleViolation(
                    ErrorCode.DOCUMENT_TOO_LARGE,
                    "The file is larger than 10 MB.",
                    fields={"file": [_("The file is larger than 10 MB.")]},
                )
            services.member_document_upload(
                actor=request.user, member=member, kind=form.cleaned_data["kind"], content=upload.read()
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("Picture saved."))
            return HttpResponseRedirect(reverse("members:detail", args=[member.pk]))
    return render(request, "members/document_upload.html", {"member": member, "form": form})


@login_required
@require_GET
def document_file(
    request: HttpRequest, member_id: int, document_id: int, *, thumbnail: bool = False
) -> FileResponse:
    """A stored picture, for staff of this workspace who may see the member's branch; 404 for anyone else."""
    profile = _staff(request)
    member = _visible_member(profile, member_id)
    document = get_object_or_404(MemberDocument, pk=document_id, member=member)
    path = document.thumbnail_path if thumbnail else document.storage_path
    if not path.startswith(services.workspace_storage_prefix()):
        raise Http404  # never serve a file outside this workspace's own prefix, whatever a row says
    try:
        handle = default_storage.open(path, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=document.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


# --- Groups --------------------------------------------------------------------------------------


@login_required
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    profile = _staff(request)
    groups = selectors.groups_visible_to(profile)
    return render(
        request,
        "members/group_list.html",
        {"groups": groups, "can_manage": profile.can(Capability.MANAGE_MEMBERS)},
    )


def _group_data(form: GroupForm, branch_id: int) -> services.GroupData:
    cleaned = form.cleaned_data
    leader = None
    number = cleaned.get("leader_number", "").strip().upper()
    if number:
        leader = Member.objects.filter(number=number, branch_id=branch_id).first()
        if leader is None:
            raise BusinessRuleViolation(
                ErrorCode.GROUP_LEADER_OUTSIDE_BRANCH,
                "No member of the group's branch has this number.",
                fields={"leader_number": [_("No member of the group's branch has this number.")]},
            )
    return services.GroupData(
        code=cleaned["code"],
        name=cleaned["name"],
        meeting_weekday=cleaned["meeting_weekday"],
        meeting_place=cleaned.get("meeting_place", ""),
        leader=leader,
        field_officer=cleaned.get("field_officer"),
        is_active=cleaned.get("is_active", False),
    )


def _leader_field(violation: BusinessRuleViolation) -> BusinessRuleViolation:
    """The service names the leader field ``leader``; the form asks for the leader's number."""
    if "leader" in violation.fields:
        violation.fields["leader_number"] = violation.fields.pop("leader")
    return violation


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    profile = _manager(request)
    form = GroupForm(
        request.POST or None,
        initial={"branch": profile.home_branch_id, "is_active": True},
        visible_branch_ids=profile.visible_branch_ids(),
    )
    if request.method == "POST" and form.is_valid():
        branch = form.cleaned_data["branch"]
        try:
            services.group_create(actor=request.user, branch=branch, data=_group_data(form, branch.pk))
        except BusinessRuleViolation as violation:
            apply_violation(form, _leader_field(violation))
        else:
            messages.success(request, _("Group saved."))
            return HttpResponseRedirect(reverse("members:group_list"))
    return render(request, "members/group_form.html", {"form": form, "group": None})


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, group_id: int) -> HttpResponse:
    profile = _manager(request)
    group = _visible_group(profile, group_id)
    form = _group_form(profile, group, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(actor=request.user, group=group, data=_group_data(form, group.branch_id))
        except BusinessRuleViolation as violation:
            apply_violation(form, _leader_field(violation))
        else:
            messages.success(request, _("Group saved."))
            return HttpResponseRedirect(reverse("members:group_list"))
    return _group_page(request, form, group)


def _group_page(
    request: HttpRequest, form: GroupForm, group: MemberGroup, login_form: LeaderLoginForm | None = None
) -> HttpResponse:
    login = selectors.leader_login(group)
    if login_form is None and group.leader is not None:
        login_form = LeaderLoginForm(
            initial={"username": login.username if login else group.leader.number.lower()}
        )
    context = {"form": form, "group": group, "leader_login": login, "login_form": login_form}
    return render(
        request, "members/group_form.html", context, status=400 if login_form and login_form.errors else 200
    )


def _group_initial(group: MemberGroup) -> dict[str, Any]:
    return {
        "code": group.code,
        "name": group.name,
        "meeting_weekday": group.meeting_weekday,
        "meeting_place": group.meeting_place,
        "leader_number": group.leader.number if group.leader else "",
        "field_officer": group.field_officer_id,
        "is_active": group.is_active,
    }


def _group_form(profile: StaffProfile, group: MemberGroup, data: Any = None) -> GroupForm:
    return GroupForm(
        data, initial=_group_initial(group), visible_branch_ids=profile.visible_branch_ids(), group=group
    )


@login_required
@require_POST
def group_leader_login(request: HttpRequest, group_id: int) -> HttpResponse:
    """Give the group's leader a sign-in to the field app (or a new password for it)."""
    profile = _manager(request)
    group = _visible_group(profile, group_id)
    form = LeaderLoginForm(request.POST)
    if form.is_valid():
        try:
            user = staff_services.group_leader_login_grant(
                actor=request.user,
                group=group,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(
                request,
                _("%(name)s signs in to the field app as %(username)s.")
                % {"name": group.leader.full_name if group.leader else "", "username": user.get_username()},
            )
            return HttpResponseRedirect(reverse("members:group_edit", args=[group.pk]))
    return _group_page(request, _group_form(profile, group), group, form)


@login_required
@require_POST
def group_leader_login_close(request: HttpRequest, group_id: int) -> HttpResponse:
    """Close the leader's sign-in: they can no longer sign in, and their phones are refused."""
    profile = _manager(request)
    group = _visible_group(profile, group_id)
    if group.leader is not None:
        staff_services.group_leader_login_revoke(actor=request.user, member=group.leader)
        messages.success(request, _("The leader's sign-in is closed; their phones are refused."))
    return HttpResponseRedirect(reverse("members:group_edit", args=[group.pk]))
