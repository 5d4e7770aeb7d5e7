"""REST API of members, nominees, documents, groups and member types (under /api/v1/).

Reading needs a staff profile in this workspace; writing needs ``Capability.MANAGE_MEMBERS``.
Staff limited to some branches see only those branches' members and groups: anything else
answers 404, exactly as an id that does not exist.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.members import selectors, services
from core_banking.members.images import MAX_UPLOAD_BYTES
from core_banking.members.models import Member, MemberDocument, MemberGroup, MemberType
from core_banking.members.serializers import (
    DocumentSerializer,
    DocumentUploadSerializer,
    ErrorSerializer,
    GroupSerializer,
    GroupWriteSerializer,
    MemberListItemSerializer,
    MemberPageSerializer,
    MemberSerializer,
    MemberTypeSerializer,
    MemberWriteSerializer,
    NomineeListSerializer,
    StatusChangeSerializer,
)
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="A rule was broken: see error.code and error.fields."),
    403: OpenApiResponse(
        ErrorSerializer, description="not_authenticated, permission_denied or read_only_role."
    ),
    404: OpenApiResponse(
        ErrorSerializer, description="No such record in this workspace, or not in your branches."
    ),
    409: OpenApiResponse(ErrorSerializer, description="Conflicts: national_id_taken, group_code_taken ..."),
}
READ_ERRORS = {403: ERRORS[403], 404: ERRORS[404]}


class MemberPages(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


class StaffReadsManagersWrite(permissions.BasePermission):
    """Any staff user of the workspace reads; only those who manage members write."""

    def has_permission(self, request: Request, view: Any) -> bool:
        profile = selectors.staff_profile_of(request.user)
        if profile is None:
            return False
        return request.method in permissions.SAFE_METHODS or profile.can(Capability.MANAGE_MEMBERS)


class MembersApiView(APIView):
    permission_classes = [permissions.IsAuthenticated, StaffReadsManagersWrite]

    def profile(self) -> StaffProfile:
        profile = selectors.staff_profile_of(self.request.user)
        assert profile is not None  # the permission class has checked
        return profile

    def visible_branch_ids(self) -> list[int] | None:
        return self.profile().visible_branch_ids()

    def serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "visible_branch_ids": self.visible_branch_ids()}

    def member(self, member_id: int) -> Member:
        try:
            return selectors.member_for_staff(
                member_id=member_id, visible_branch_ids=self.visible_branch_ids()
            )
        except Member.DoesNotExist as exc:
            raise Http404 from exc

    def member_with_details(self, member_id: int) -> Member:
        members = selectors.members_visible(visible_branch_ids=self.visible_branch_ids()).prefetch_related(
            "nominees", Prefetch("documents", queryset=MemberDocument.objects.filter(is_current=True))
        )
        try:
            return members.get(pk=member_id)
        except Member.DoesNotExist as exc:
            raise Http404 from exc


# --- Members -------------------------------------------------------------------------------------


class MemberListView(MembersApiView):
    @extend_schema(
        operation_id="members_list",
        summary="List or search members",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Name, member number, phone or national ID."),
            OpenApiParameter("branch", OpenApiTypes.INT),
            OpenApiParameter("status", OpenApiTypes.STR),
            OpenApiParameter("limit", OpenApiTypes.INT),
            OpenApiParameter("offset", OpenApiTypes.INT),
        ],
        responses={200: MemberPageSerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        visible = self.visible_branch_ids()
        query = request.query_params.get("q", "").strip()
        if query:
            limit = _bounded_int(request.query_params.get("limit"), default=20, maximum=50)
            found = selectors.member_search(query, visible_branch_ids=visible, limit=limit)
            data = MemberListItemSerializer(found, many=True).data
            return Response({"count": len(found), "next": None, "previous": None, "results": data})
        members = selectors.members_visible(visible_branch_ids=visible).order_by("number")
        branch = request.query_params.get("branch")
        if branch:
            members = members.filter(branch_id=_bounded_int(branch, default=0, maximum=2**62))
        member_status = request.query_params.get("status")
        if member_status:
            members = members.filter(status=member_status)
        paginator = MemberPages()
        page = paginator.paginate_queryset(members, request, view=self)
        return paginator.get_paginated_response(MemberListItemSerializer(page, many=True).data)

    @extend_schema(
        operation_id="members_create",
        summary="Admit a member",
        request=MemberWriteSerializer,
        responses={201: MemberSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = MemberWriteSerializer(data=request.data, context=self.serializer_context())
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        branch = values.pop("branch")
        nominees = [services.NomineeData(**nominee) for nominee in values.pop("nominees", [])]
        member = services.member_create(
            actor=request.user, branch=branch, data=services.MemberData(**values), nominees=nominees
        )
        return Response(
            MemberSerializer(self.member_with_details(member.pk)).data, status=status.HTTP_201_CREATED
        )


def _bounded_int(raw: str | None, *, default: int, maximum: int) -> int:
    try:
        value = int(raw) if raw else default
    except ValueError as exc:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "Not a number.", fields={"query": [str(raw)]}
        ) from exc
    return max(1, min(value, maximum))


class MemberDetailView(MembersApiView):
    @extend_schema(operation_id="members_retrieve", responses={200: MemberSerializer, **READ_ERRORS})
    def get(self, request: Request, member_id: int) -> Response:
        return Response(MemberSerializer(self.member_with_details(member_id)).data)

    @extend_schema(
        operation_id="members_update",
        summary="Change a member's personal data",
        request=MemberWriteSerializer,
        responses={200: MemberSerializer, **ERRORS},
    )
    def patch(self, request: Request, member_id: int) -> Response:
        member = self.member(member_id)
        serializer = MemberWriteSerializer(data=request.data, partial=True, context=self.serializer_context())
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        if "branch" in values and values["branch"].pk != member.branch_id:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                "A member's branch is not changed here.",
                fields={"branch": ["Moving a member to another branch is a transfer."]},
            )
        if "nominees" in values:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                "Nominees are changed through their own endpoint.",
                fields={"nominees": ["Use PUT /api/v1/members/{id}/nominees/."]},
            )
        values.pop("branch", None)
        data = replace(services.member_data_of(member), **values)
        services.member_update(actor=request.user, member=member, data=data)
        return Response(MemberSerializer(self.member_with_details(member_id)).data)


class MemberNomineesView(MembersApiView):
    @extend_schema(
        operation_id="members_nominees_retrieve", responses={200: NomineeListSerializer, **READ_ERRORS}
    )
    def get(self, request: Request, member_id: int) -> Response:
        member = self.member(member_id)
        return Response(NomineeListSerializer({"nominees": member.nominees.all()}).data)

    @extend_schema(
        operation_id="members_nominees_replace",
        summary="Replace the nominees (shares total 100 %; an empty list removes them)",
        request=NomineeListSerializer,
        responses={200: NomineeListSerializer, **ERRORS},
    )
    def put(self, request: Request, member_id: int) -> Response:
        member = self.member(member_id)
        serializer = NomineeListSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        nominees = [services.NomineeData(**nominee) for nominee in serializer.validated_data["nominees"]]
        services.member_nominees_set(actor=request.user, member=member, nominees=nominees)
        return Response(NomineeListSerializer({"nominees": member.nominees.all()}).data)


class MemberStatusView(MembersApiView):
    @extend_schema(
        operation_id="members_status_change",
        summary="Suspend from borrowing, or reinstate",
        request=StatusChangeSerializer,
        responses={200: MemberSerializer, **ERRORS},
    )
    def post(self, request: Request, member_id: int) -> Response:
        member = self.member(member_id)
        serializer = StatusChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = (
            services.member_suspend_from_borrowing
            if serializer.validated_data["action"] == "suspend_from_borrowing"
            else services.member_reinstate
        )
        change(actor=request.user, member=member, reason=serializer.validated_data["reason"])
        return Response(MemberSerializer(self.member_with_details(member_id)).data)


class MemberDocumentsView(MembersApiView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="members_documents_list",
        summary="Photos and ID scans, current ones first",
        responses={200: DocumentSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, member_id: int) -> Response:
        member = self.member(member_id)
        documents = member.documents.order_by("-is_current", "-uploaded_at")
        return Response(DocumentSerializer(documents, many=True).data)

    @extend_schema(
        operation_id="members_documents_upload",
        summary="Upload a photo or ID scan (multipart)",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={
            201: DocumentSerializer,
            413: OpenApiResponse(ErrorSerializer, description="document_too_large"),
            **ERRORS,
        },
    )
    def post(self, request: Request, member_id: int) -> Response:
        member = self.member(member_id)
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            raise BusinessRuleViolation(
                ErrorCode.DOCUMENT_TOO_LARGE,
                "The file is larger than 10 MB.",
                fields={"file": ["At most 10 MB."]},
            )
        document = services.member_document_upload(
            actor=request.user, member=member, kind=serializer.validated_data["kind"], content=upload.read()
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


# --- Groups --------------------------------------------------------------------------------------


class GroupListView(MembersApiView):
    @extend_schema(
        operation_id="member_groups_list",
        summary="Groups you may see (a field officer: the groups assigned to them)",
        responses={200: GroupSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(GroupSerializer(selectors.groups_visible_to(self.profile()), many=True).data)

    @extend_schema(
        operation_id="member_groups_create",
        request=GroupWriteSerializer,
        responses={201: GroupSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = GroupWriteSerializer(data=request.data, context=self.serializer_context())
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        branch = values.pop("branch")
        group = services.group_create(actor=request.user, branch=branch, data=services.GroupData(**values))
        return Response(GroupSerializer(group).data, status=status.HTTP_201_CREATED)


class GroupDetailView(MembersApiView):
    def group(self, group_id: int) -> MemberGroup:
        try:
            return selectors.groups_visible_to(self.profile()).get(pk=group_id)
        except MemberGroup.DoesNotExist as exc:
            raise Http404 from exc

    @extend_schema(operation_id="member_groups_retrieve", responses={200: GroupSerializer, **READ_ERRORS})
    def get(self, request: Request, group_id: int) -> Response:
        return Response(GroupSerializer(self.group(group_id)).data)

    @extend_schema(
        operation_id="member_groups_update",
        request=GroupWriteSerializer,
        responses={200: GroupSerializer, **ERRORS},
    )
    def patch(self, request: Request, group_id: int) -> Response:
        group = self.group(group_id)
        serializer = GroupWriteSerializer(data=request.data, partial=True, context=self.serializer_context())
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        if "branch" in values and values.pop("branch").pk != group.branch_id:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                "A group stays in its branch.",
                fields={"branch": ["A group cannot move to another branch."]},
            )
        group = services.group_update(
            actor=request.user, group=group, data=replace(services.group_data_of(group), **values)
        )
        return Response(GroupSerializer(group).data)


# --- Member types --------------------------------------------------------------------------------


class MemberTypeListView(MembersApiView):
    @extend_schema(
        operation_id="member_types_list", responses={200: MemberTypeSerializer(many=True), **READ_ERRORS}
    )
    def get(self, request: Request) -> Response:
        return Response(MemberTypeSerializer(MemberType.objects.all(), many=True).data)

    @extend_schema(
        operation_id="member_types_create",
        request=MemberTypeSerializer,
        responses={201: MemberTypeSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = MemberTypeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member_type = services.member_type_create(
            actor=request.user, code=serializer.validated_data["code"], name=serializer.validated_data["name"]
        )
        return Response(MemberTypeSerializer(member_type).data, status=status.HTTP_201_CREATED)


class MemberTypeDetailView(MembersApiView):
    def member_type(self, type_id: int) -> MemberType:
        try:
            return MemberType.objects.get(pk=type_id)
        except MemberType.DoesNotExist as exc:
            raise Http404 from exc

    @extend_schema(operation_id="member_types_retrieve", responses={200: MemberTypeSerializer, **READ_ERRORS})
    def get(self, request: Request, type_id: int) -> Response:
        return Response(MemberTypeSerializer(self.member_type(type_id)).data)

    @extend_schema(
        operation_id="member_types_update",
        request=MemberTypeSerializer,
        responses={200: MemberTypeSerializer, **ERRORS},
    )
    def patch(self, request: Request, type_id: int) -> Response:
        member_type = self.member_type(type_id)
        serializer = MemberTypeSerializer(member_type, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = services.member_type_update(
            actor=request.user,
            member_type=member_type,
            code=serializer.validated_data.get("code", member_type.code),
            name=serializer.validated_data.get("name", member_type.name),
        )
        return Response(MemberTypeSerializer(updated).data)
