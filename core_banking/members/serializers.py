"""API shapes of the members module. Serializers only parse and present; services decide."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from rest_framework import serializers

from control_plane.identity.models import User
from core_banking.members.images import MAX_UPLOAD_BYTES
from core_banking.members.models import (
    DocumentKind,
    Gender,
    Member,
    MemberDocument,
    MemberGroup,
    MemberStatus,
    MemberType,
    Nominee,
    Weekday,
)
from core_banking.members.services import MESSAGE_LANGUAGES
from core_banking.organisation.models import Branch


class ErrorDetailSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # One of the keys is "fields", which a serializer cannot declare as a class attribute.
        return {
            "code": serializers.CharField(help_text="A stable code, e.g. national_id_taken."),
            "message": serializers.CharField(),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                help_text="Messages per field name.",
            ),
        }


class ErrorSerializer(serializers.Serializer):
    """What every error of the API looks like."""

    error = ErrorDetailSerializer()


def _visible_branch_ids(context: Mapping[str, Any]) -> list[int] | None:
    ids: list[int] | None = context.get("visible_branch_ids")
    return ids


# --- Member types --------------------------------------------------------------------------------


class MemberTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = MemberType
        fields = ["id", "code", "name"]
        # The service answers a taken code with its own error code (member_type_code_taken).
        extra_kwargs: dict[str, dict[str, Any]] = {"code": {"validators": []}}


# --- Groups --------------------------------------------------------------------------------------


class GroupSerializer(serializers.ModelSerializer):
    branch_code = serializers.CharField(source="branch.code", read_only=True)
    leader_number = serializers.CharField(
        source="leader.number", read_only=True, allow_null=True, default=None
    )
    field_officer_username = serializers.CharField(
        source="field_officer.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = MemberGroup
        fields = [
            "id", "branch", "branch_code", "code", "name", "meeting_weekday", "meeting_place", "leader",
            "leader_number", "field_officer", "field_officer_username", "is_active",
        ]  # fmt: skip


class GroupWriteSerializer(serializers.Serializer):
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.all(), help_text="Only on creation.")
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=120)
    meeting_weekday = serializers.ChoiceField(choices=Weekday.choices)
    meeting_place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    leader = serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.all(), required=False, allow_null=True
    )
    field_officer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(staff_profile__isnull=False), required=False, allow_null=True
    )
    is_active = serializers.BooleanField(required=False, default=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        visible = _visible_branch_ids(self.context)
        if visible is not None:
            branch_field: Any = self.fields["branch"]
            leader_field: Any = self.fields["leader"]
            branch_field.queryset = Branch.objects.filter(pk__in=visible)
            leader_field.queryset = Member.objects.filter(branch_id__in=visible)


# --- Members -------------------------------------------------------------------------------------


class NomineeSerializer(serializers.ModelSerializer):
    share_percent = serializers.IntegerField(min_value=0, max_value=1000)

    class Meta:
        model = Nominee
        fields = ["name", "relationship", "share_percent", "phone", "national_id"]
        extra_kwargs = {"phone": {"required": False}, "national_id": {"required": False}}


class NomineeListSerializer(serializers.Serializer):
    nominees = NomineeSerializer(many=True)


class DocumentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = MemberDocument
        fields = [
            "id", "kind", "content_type", "size_bytes", "width", "height", "sha256", "uploaded_at",
            "is_current", "url", "thumbnail_url",
        ]  # fmt: skip

    def get_url(self, document: MemberDocument) -> str:
        return reverse("members:document_image", args=[document.member_id, document.pk])

    def get_thumbnail_url(self, document: MemberDocument) -> str:
        return reverse("members:document_thumbnail", args=[document.member_id, document.pk])


class MemberSerializer(serializers.ModelSerializer):
    branch_code = serializers.CharField(source="branch.code", read_only=True)
    member_type_code = serializers.CharField(source="member_type.code", read_only=True)
    group_code = serializers.CharField(source="group.code", read_only=True, allow_null=True, default=None)
    nominees = NomineeSerializer(many=True, read_only=True)
    documents = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "id", "number", "branch", "branch_code", "group", "group_code", "member_type",
            "member_type_code", "full_name", "guardian_name", "gender", "date_of_birth", "national_id",
            "phone", "email", "message_language", "sms_opt_out", "address", "join_date", "status",
            "exit_date", "created_at", "nominees", "documents",
        ]  # fmt: skip

    def get_documents(self, member: Member) -> list[dict[str, Any]]:
        """The current photo and ID scans."""
        current = [document for document in member.documents.all() if document.is_current]
        return list(DocumentSerializer(current, many=True).data)


class MemberListItemSerializer(serializers.ModelSerializer):
    branch_code = serializers.CharField(source="branch.code", read_only=True)

    class Meta:
        model = Member
        fields = ["id", "number", "branch", "branch_code", "full_name", "phone", "national_id", "status"]


class MemberPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = MemberListItemSerializer(many=True)


class MemberWriteSerializer(serializers.Serializer):
    """Personal data; on update only the fields sent change (PATCH)."""

    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.all(), help_text="Only on creation.")
    member_type = serializers.PrimaryKeyRelatedField(queryset=MemberType.objects.all())
    group = serializers.PrimaryKeyRelatedField(
        queryset=MemberGroup.objects.all(), required=False, allow_null=True
    )
    full_name = serializers.CharField(max_length=200)
    guardian_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    national_id = serializers.CharField(max_length=60, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    message_language = serializers.ChoiceField(
        choices=MESSAGE_LANGUAGES, required=False, allow_blank=True, help_text="Default: the cooperative's."
    )
    sms_opt_out = serializers.BooleanField(
        required=False,
        help_text="The member asked for no SMS: their messages are kept as opted out, not sent.",
    )
    address = serializers.CharField(required=False, allow_blank=True)
    join_date = serializers.DateField()
    nominees = NomineeSerializer(many=True, required=False, help_text="Only on creation; shares total 100.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        visible = _visible_branch_ids(self.context)
        if visible is not None:
            branch_field: Any = self.fields["branch"]
            group_field: Any = self.fields["group"]
            branch_field.queryset = Branch.objects.filter(pk__in=visible)
            group_field.queryset = MemberGroup.objects.filter(branch_id__in=visible)


class StatusChangeSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["suspend_from_borrowing", "reinstate"])
    reason = serializers.CharField(max_length=500)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MemberStatus.choices)


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField(
        help_text="JPEG, PNG or WebP (HEIC where the server can read it), "
        f"at most {MAX_UPLOAD_BYTES // 2**20} MB."
    )
