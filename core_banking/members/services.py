"""The one write path for groups, member types, members, their nominees and their documents.

Each function owns its transaction, takes its row locks in one order (member number counter,
then member, then group) and appends to the audit trail in the same transaction. Rules that
are broken raise ``BusinessRuleViolation`` with a stable code; a race that reaches a database
constraint (two admissions with one national ID) answers with the same code, not an
IntegrityError.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.members.identity import (
    NationalIdInvalid,
    PhoneInvalid,
    national_id_normalise,
    phone_normalise,
    phone_search_forms,
)
from core_banking.members.images import ImageProblem, ImageRejected, clean_image
from core_banking.members.models import (
    DocumentKind,
    Member,
    MemberDocument,
    MemberGroup,
    MemberStatus,
    MemberType,
    Nominee,
    Weekday,
)
from core_banking.members.normalise import search_text_for
from core_banking.organisation.models import Branch
from tenants.db import current_cooperative, current_schema, workspace_business_date

MESSAGE_LANGUAGES = ("bn", "vi", "th", "en")
MEMBER_NUMBER_DIGITS = 6


# --- The cooperative this runs in ----------------------------------------------------------------


def cooperative_country() -> str:
    cooperative = current_cooperative()
    return cooperative.country if cooperative else ""


def cooperative_language() -> str:
    cooperative = current_cooperative()
    return cooperative.default_language if cooperative else "en"


def workspace_storage_prefix() -> str:
    """Every file of this workspace lives under this prefix, and nothing of another workspace does."""
    return f"workspaces/{current_schema()}/"


def _constraint_name(exc: IntegrityError) -> str:
    diag = getattr(exc.__cause__, "diag", None)
    return str(getattr(diag, "constraint_name", "") or "")


def _invalid(field: str, message: str, code: ErrorCode = ErrorCode.VALIDATION_ERROR) -> BusinessRuleViolation:
    return BusinessRuleViolation(code, message, fields={field: [message]})


# --- Member types --------------------------------------------------------------------------------


def member_types_seed(*, language: str) -> int:
    """The default types (ordinary, associate) in the cooperative's language; existing ones are kept."""
    from core_banking.members.presets import DEFAULT_MEMBER_TYPES, name_in

    existing = set(MemberType.objects.values_list("code", flat=True))
    created = MemberType.objects.bulk_create(
        MemberType(code=preset.code, name=name_in(preset.names, language))
        for preset in DEFAULT_MEMBER_TYPES
        if preset.code not in existing
    )
    return len(created)


def _member_type_values(code: str, name: str) -> tuple[str, str]:
    code, name = code.strip().upper(), name.strip()
    problems: dict[str, list[str]] = {}
    if not code or len(code) > 20:
        problems["code"] = ["1-20 characters."]
    if not name or len(name) > 120:
        problems["name"] = ["1-120 characters."]
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "The member type is not valid.", fields=problems
        )
    return code, name


def _member_type_save(member_type: MemberType) -> None:
    if MemberType.objects.filter(code=member_type.code).exclude(pk=member_type.pk).exists():
        raise _invalid("code", "Another member type has this code.", ErrorCode.MEMBER_TYPE_CODE_TAKEN)
    try:
        with transaction.atomic():
            member_type.save()
    except IntegrityError as exc:
        raise _invalid(
            "code", "Another member type has this code.", ErrorCode.MEMBER_TYPE_CODE_TAKEN
        ) from exc


@transaction.atomic
def member_type_create(*, actor: Any | None, code: str, name: str) -> MemberType:
    code, name = _member_type_values(code, name)
    member_type = MemberType(code=code, name=name)
    _member_type_save(member_type)
    audit_record(
        actor=actor, action="member_type.create", target=member_type, changes={"code": code, "name": name}
    )
    return member_type


@transaction.atomic
def member_type_update(*, actor: Any | None, member_type: MemberType, code: str, name: str) -> MemberType:
    member_type = MemberType.objects.select_for_update().get(pk=member_type.pk)
    code, name = _member_type_values(code, name)
    before = {"code": member_type.code, "name": member_type.name}
    member_type.code, member_type.name = code, name
    _member_type_save(member_type)
    changes = {
        key: [before[key], value]
        for key, value in {"code": code, "name": name}.items()
        if before[key] != value
    }
    if changes:
        audit_record(actor=actor, action="member_type.update", target=member_type, changes=changes)
    return member_type


# --- Groups --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupData:
    code: str
    name: str
    meeting_weekday: int
    meeting_place: str = ""
    leader: Member | None = None
    field_officer: Any | None = None  # a staff user
    is_active: bool = True


def group_data_of(group: MemberGroup) -> GroupData:
    return GroupData(
        code=group.code,
        name=group.name,
        meeting_weekday=group.meeting_weekday,
        meeting_place=group.meeting_place,
        leader=group.leader,
        field_officer=group.field_officer,
        is_active=group.is_active,
    )


def _check_leader(branch: Branch, leader: Member | None, group_id: int | None) -> None:
    if leader is None:
        return
    if leader.branch_id != branch.pk:
        raise _invalid(
            "leader",
            "The leader must be a member of the group's branch.",
            ErrorCode.GROUP_LEADER_OUTSIDE_BRANCH,
        )
    if leader.status == MemberStatus.EXITED:
        raise _invalid("leader", "A member who has exited cannot lead a group.")
    if leader.group_id not in (None, group_id):
        raise _invalid("leader", "The leader belongs to another group.")


def _check_field_officer(branch: Branch, officer: Any | None) -> None:
    if officer is None:
        return
    profile = getattr(officer, "staff_profile", None)
    visible = profile.visible_branch_ids() if profile is not None else []
    if not officer.is_active or (visible is not None and branch.pk not in visible):
        raise _invalid(
            "field_officer",
            "The field officer must be a staff user who may see the group's branch.",
            ErrorCode.FIELD_OFFICER_OUTSIDE_BRANCH,
        )


def _checked_group_data(branch: Branch, data: GroupData, group_id: int | None) -> GroupData:
    data = replace(
        data, code=data.code.strip().upper(), name=data.name.strip(), meeting_place=data.meeting_place.strip()
    )
    problems: dict[str, list[str]] = {}
    if not data.code or len(data.code) > 20:
        problems["code"] = ["1-20 characters."]
    if not data.name or len(data.name) > 120:
        problems["name"] = ["1-120 characters."]
    if len(data.meeting_place) > 200:
        problems["meeting_place"] = ["At most 200 characters."]
    if data.meeting_weekday not in Weekday.values:
        problems["meeting_weekday"] = ["A day of the week, 0 (Monday) to 6 (Sunday)."]
    if problems:
        raise BusinessRuleViolation(ErrorCode.VALIDATION_ERROR, "The group is not valid.", fields=problems)
    _check_leader(branch, data.leader, group_id)
    _check_field_officer(branch, data.field_officer)
    same_code = MemberGroup.objects.filter(code=data.code)
    if group_id is not None:
        same_code = same_code.exclude(pk=group_id)
    if same_code.exists():
        raise _invalid("code", "Another group has this code.", ErrorCode.GROUP_CODE_TAKEN)
    return data


def _group_audit_values(group: MemberGroup) -> dict[str, Any]:
    return {
        "branch": group.branch.code,
        "code": group.code,
        "name": group.name,
        "meeting_weekday": group.meeting_weekday,
        "meeting_place": group.meeting_place,
        "leader": group.leader.number if group.leader else None,
        "field_officer": group.field_officer.get_username() if group.field_officer else None,
        "is_active": group.is_active,
    }


def _group_save(group: MemberGroup) -> None:
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError as exc:
        raise _invalid("code", "Another group has this code.", ErrorCode.GROUP_CODE_TAKEN) from exc


@transaction.atomic
def group_create(*, actor: Any | None, branch: Branch, data: GroupData) -> MemberGroup:
    data = _checked_group_data(branch, data, None)
    group = MemberGroup(branch=branch, **{field.name: getattr(data, field.name) for field in fields(data)})
    _group_save(group)
    audit_record(actor=actor, action="member_group.create", target=group, changes=_group_audit_values(group))
    return group


@transaction.atomic
def group_update(*, actor: Any | None, group: MemberGroup, data: GroupData) -> MemberGroup:
    group = MemberGroup.objects.select_for_update().select_related("branch").get(pk=group.pk)
    before = _group_audit_values(group)
    data = _checked_group_data(group.branch, data, group.pk)
    for field in fields(data):
        setattr(group, field.name, getattr(data, field.name))
    _group_save(group)
    after = _group_audit_values(group)
    changes = {key: [before[key], value] for key, value in after.items() if before[key] != value}
    if changes:
        audit_record(actor=actor, action="member_group.update", target=group, changes=changes)
    if "meeting_weekday" in changes:
        from core_banking.members import group_listeners

        group_listeners.notify(
            group_listeners.MeetingDayChange(
                group=group,
                weekday_before=changes["meeting_weekday"][0],
                weekday_after=changes["meeting_weekday"][1],
                actor=actor,
            )
        )
    return group


# --- Members -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberData:
    """A member's personal data, as a person fills it in; the service checks and normalises it."""

    full_name: str
    member_type: MemberType
    join_date: dt.date
    guardian_name: str = ""
    gender: str = ""
    date_of_birth: dt.date | None = None
    national_id: str = ""
    phone: str = ""
    email: str = ""
    message_language: str = ""
    address: str = ""
    group: MemberGroup | None = None
    sms_opt_out: bool = False


@dataclass(frozen=True)
class NomineeData:
    name: str
    relationship: str
    share_percent: int
    phone: str = ""
    national_id: str = ""


def member_data_of(member: Member) -> MemberData:
    return MemberData(
        full_name=member.full_name,
        member_type=member.member_type,
        join_date=member.join_date,
        guardian_name=member.guardian_name,
        gender=member.gender,
        date_of_birth=member.date_of_birth,
        national_id=member.national_id,
        phone=member.phone,
        email=member.email,
        message_language=member.message_language,
        address=member.address,
        group=member.group,
        sms_opt_out=member.sms_opt_out,
    )


def _national_id(raw: str, field: str) -> str:
    country = cooperative_country()
    try:
        return national_id_normalise(raw, country)
    except NationalIdInvalid as exc:
        raise _invalid(
            field, f"Not a valid national ID here: {exc.expected}.", ErrorCode.NATIONAL_ID_INVALID
        ) from exc


def _phone(raw: str, field: str) -> str:
    try:
        return phone_normalise(raw, cooperative_country())
    except PhoneInvalid as exc:
        raise _invalid(field, "Not a valid phone number.", ErrorCode.PHONE_INVALID) from exc


def _plain_field_problems(data: MemberData) -> dict[str, list[str]]:
    from core_banking.members.models import Gender

    problems: dict[str, list[str]] = {}
    if not data.full_name or len(data.full_name) > 200:
        problems["full_name"] = ["1-200 characters."]
    if len(data.guardian_name) > 200:
        problems["guardian_name"] = ["At most 200 characters."]
    if data.gender and data.gender not in Gender.values:
        problems["gender"] = [f"One of {', '.join(Gender.values)}."]
    if data.join_date > workspace_business_date():
        problems["join_date"] = ["The join date cannot be after today's business date."]
    if data.date_of_birth is not None and data.date_of_birth >= data.join_date:
        problems["date_of_birth"] = ["The date of birth must be before the join date."]
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError:
            problems["email"] = ["Not a valid e-mail address."]
    return problems


def _check_group(branch: Branch, group: MemberGroup | None, member_id: int | None) -> None:
    if group is None:
        return
    if group.branch_id != branch.pk:
        raise _invalid("group", "The group belongs to another branch.", ErrorCode.GROUP_OUTSIDE_BRANCH)
    already_in_it = member_id is not None and group.members.filter(pk=member_id).exists()
    if not group.is_active and not already_in_it:
        raise _invalid("group", "The group is closed.")


def _checked_member_data(branch: Branch, data: MemberData, member_id: int | None) -> MemberData:
    data = replace(
        data,
        full_name=" ".join(data.full_name.split()),
        guardian_name=" ".join(data.guardian_name.split()),
        email=data.email.strip(),
        address=data.address.strip(),
        message_language=data.message_language.strip().lower() or cooperative_language(),
    )
    problems = _plain_field_problems(data)
    if problems:
        raise BusinessRuleViolation(ErrorCode.VALIDATION_ERROR, "Some fields are not valid.", fields=problems)
    if data.message_language not in MESSAGE_LANGUAGES:
        raise _invalid(
            "message_language", f"One of {', '.join(MESSAGE_LANGUAGES)}.", ErrorCode.LANGUAGE_UNSUPPORTED
        )
    _check_group(branch, data.group, member_id)
    national_id = _national_id(data.national_id, "national_id")
    if national_id:
        holders = Member.objects.filter(national_id=national_id)
        if member_id is not None:
            holders = holders.exclude(pk=member_id)
        holder = holders.first()
        if holder is not None:
            raise _invalid(
                "national_id",
                f"This national ID is already registered to member {holder.number}.",
                ErrorCode.NATIONAL_ID_TAKEN,
            )
    return replace(data, national_id=national_id, phone=_phone(data.phone, "phone"))


def member_search_text(member: Member) -> str:
    return search_text_for(
        member.full_name, member.number, member.national_id, extra=phone_search_forms(member.phone)
    )


def _next_member_number(branch: Branch) -> str:
    """``<branch code>-000123``; one statement takes the next number, so no two admissions share one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO members_membernumbercounter (branch_id, last_number) VALUES (%s, 1) "
            "ON CONFLICT (branch_id) DO UPDATE "
            "SET last_number = members_membernumbercounter.last_number + 1 RETURNING last_number",
            [branch.pk],
        )
        row = cursor.fetchone()
    assert row is not None
    return f"{branch.code}-{int(row[0]):0{MEMBER_NUMBER_DIGITS}d}"


def _member_save(member: Member) -> None:
    member.search_text = member_search_text(member)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        if _constraint_name(exc) == "national_id_unique":
            raise _invalid(
                "national_id",
                "This national ID is already registered to another member.",
                ErrorCode.NATIONAL_ID_TAKEN,
            ) from exc
        raise


def _member_audit_values(member: Member) -> dict[str, Any]:
    return {
        "full_name": member.full_name,
        "guardian_name": member.guardian_name,
        "gender": member.gender,
        "date_of_birth": member.date_of_birth.isoformat() if member.date_of_birth else None,
        "national_id": member.national_id,
        "phone": member.phone,
        "email": member.email,
        "message_language": member.message_language,
        "sms_opt_out": member.sms_opt_out,
        "address": member.address,
        "join_date": member.join_date.isoformat(),
        "member_type": member.member_type.code,
        "group": member.group.code if member.group else None,
    }


@transaction.atomic
def member_create(
    *, actor: Any | None, branch: Branch, data: MemberData, nominees: Sequence[NomineeData] = ()
) -> Member:
    """Admit a member: checked data, the branch's next member number, nominees, one audit event."""
    data = _checked_member_data(branch, data, None)
    clean_nominees = _checked_nominees(nominees)
    member = Member(
        branch=branch,
        number=_next_member_number(branch),
        **{f.name: getattr(data, f.name) for f in fields(data)},
    )
    _member_save(member)
    Nominee.objects.bulk_create(Nominee(member=member, **vars(nominee)) for nominee in clean_nominees)
    audit_record(
        actor=actor,
        action="member.create",
        target=member,
        changes={
            "number": member.number,
            "branch": branch.code,
            **_member_audit_values(member),
            "nominees": [_nominee_audit_value(nominee) for nominee in clean_nominees],
        },
    )
    return member


def _locked_member(member: Member) -> Member:
    return (
        Member.objects.select_for_update(of=("self",))
        .select_related("branch", "member_type", "group")
        .get(pk=member.pk)
    )


@transaction.atomic
def member_update(*, actor: Any | None, member: Member, data: MemberData) -> Member:
    """Change a member's personal data (not the branch or number, not the status)."""
    member = _locked_member(member)
    before = _member_audit_values(member)
    data = _checked_member_data(member.branch, data, member.pk)
    for field in fields(data):
        setattr(member, field.name, getattr(data, field.name))
    _member_save(member)
    after = _member_audit_values(member)
    changes = {key: [before[key], value] for key, value in after.items() if before[key] != value}
    if changes:
        audit_record(actor=actor, action="member.update", target=member, changes=changes)
    return member


# --- Nominees ------------------------------------------------------------------------------------


def _nominee_audit_value(nominee: NomineeData) -> dict[str, Any]:
    return {
        "name": nominee.name,
        "relationship": nominee.relationship,
        "share_percent": nominee.share_percent,
    }


def _checked_nominees(nominees: Sequence[NomineeData]) -> list[NomineeData]:
    """Nominees share what the member leaves: each 1-100 %, together exactly 100 % (or none at all)."""
    clean: list[NomineeData] = []
    problems: dict[str, list[str]] = {}
    for index, nominee in enumerate(nominees):
        name, relationship = " ".join(nominee.name.split()), " ".join(nominee.relationship.split())
        messages = []
        if not name or len(name) > 200:
            messages.append("A name of 1-200 characters.")
        if not relationship or len(relationship) > 60:
            messages.append("A relationship of 1-60 characters.")
        if isinstance(nominee.share_percent, bool) or not 1 <= nominee.share_percent <= 100:
            messages.append("A share of 1 to 100 per cent.")
        if messages:
            problems[f"nominees[{index}]"] = messages
            continue
        clean.append(
            NomineeData(
                name=name,
                relationship=relationship,
                share_percent=nominee.share_percent,
                phone=_phone(nominee.phone, f"nominees[{index}].phone"),
                national_id=_national_id(nominee.national_id, f"nominees[{index}].national_id"),
            )
        )
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "Some nominees are not valid.", fields=problems
        )
    total = sum(nominee.share_percent for nominee in clean)
    if clean and total != 100:
        raise _invalid(
            "nominees",
            f"The nominees' shares add up to {total} %, not 100 %.",
            ErrorCode.NOMINEE_SHARES_INVALID,
        )
    return clean


@transaction.atomic
def member_nominees_set(
    *, actor: Any | None, member: Member, nominees: Sequence[NomineeData]
) -> list[Nominee]:
    """Replace the member's nominees with these (an empty list removes them all)."""
    member = _locked_member(member)
    clean = _checked_nominees(nominees)
    before = [
        _nominee_audit_value(NomineeData(n.name, n.relationship, n.share_percent))
        for n in member.nominees.all()
    ]
    member.nominees.all().delete()
    created = Nominee.objects.bulk_create(Nominee(member=member, **vars(nominee)) for nominee in clean)
    after = [_nominee_audit_value(nominee) for nominee in clean]
    if before != after:
        audit_record(
            actor=actor, action="member.nominees", target=member, changes={"nominees": [before, after]}
        )
    return created


# --- Status --------------------------------------------------------------------------------------


def _status_change(
    *, actor: Any | None, member: Member, reason: str, source: str, target: str, action: str
) -> Member:
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise _invalid("reason", "Say why, in 1-500 characters.")
    member = _locked_member(member)
    if member.status != source:
        raise _invalid(
            "status",
            f"The member's status is {member.status}; this change needs {source}.",
            ErrorCode.MEMBER_STATUS_CHANGE_INVALID,
        )
    member.status = target
    member.save(update_fields=["status"])
    audit_record(
        actor=actor, action=action, target=member, changes={"status": [source, target], "reason": reason}
    )
    return member


@transaction.atomic
def member_suspend_from_borrowing(*, actor: Any | None, member: Member, reason: str) -> Member:
    """The member keeps saving and holding shares, but may not apply for a loan until reinstated."""
    return _status_change(
        actor=actor,
        member=member,
        reason=reason,
        source=MemberStatus.ACTIVE,
        target=MemberStatus.SUSPENDED_FROM_BORROWING,
        action="member.suspend_from_borrowing",
    )


@transaction.atomic
def member_reinstate(*, actor: Any | None, member: Member, reason: str) -> Member:
    return _status_change(
        actor=actor,
        member=member,
        reason=reason,
        source=MemberStatus.SUSPENDED_FROM_BORROWING,
        target=MemberStatus.ACTIVE,
        action="member.reinstate",
    )


# --- Documents -----------------------------------------------------------------------------------

_IMAGE_ERRORS: dict[ImageProblem, tuple[ErrorCode, str]] = {
    ImageProblem.TOO_LARGE: (ErrorCode.DOCUMENT_TOO_LARGE, "The file is larger than 10 MB."),
    ImageProblem.TOO_MANY_PIXELS: (ErrorCode.DOCUMENT_TOO_LARGE, "The picture has too many pixels."),
    ImageProblem.NOT_AN_IMAGE: (
        ErrorCode.DOCUMENT_NOT_AN_IMAGE,
        "The file is not a JPEG, PNG or WebP picture.",
    ),
    ImageProblem.DAMAGED: (ErrorCode.DOCUMENT_NOT_AN_IMAGE, "The picture is damaged and cannot be read."),
    ImageProblem.HEIC_UNSUPPORTED: (
        ErrorCode.DOCUMENT_FORMAT_UNSUPPORTED,
        "HEIC pictures cannot be read here: choose JPEG ('Most compatible') in the camera settings, "
        "or upload a screenshot.",
    ),
}


def _storage_name(member: Member, suffix: str) -> str:
    return f"{workspace_storage_prefix()}members/{member.pk}/{secrets.token_hex(16)}{suffix}"


@transaction.atomic
def member_document_upload(*, actor: Any | None, member: Member, kind: str, content: bytes) -> MemberDocument:
    """Store a photo or ID scan, cleaned and re-encoded; the previous one of its kind stays, not current."""
    if kind not in DocumentKind.values:
        raise _invalid("kind", f"One of {', '.join(DocumentKind.values)}.")
    try:
        image = clean_image(content)
    except ImageRejected as exc:
        code, message = _IMAGE_ERRORS[exc.problem]
        raise _invalid("file", message, code) from exc
    member = _locked_member(member)
    stored = default_storage.save(_storage_name(member, ".jpg"), ContentFile(image.jpeg))
    try:
        thumbnail = default_storage.save(_storage_name(member, ".thumb.jpg"), ContentFile(image.thumbnail))
        try:
            with transaction.atomic():
                previous = list(
                    MemberDocument.objects.select_for_update().filter(
                        member=member, kind=kind, is_current=True
                    )
                )
                MemberDocument.objects.filter(pk__in=[doc.pk for doc in previous]).update(is_current=False)
                document = MemberDocument.objects.create(
                    member=member,
                    kind=kind,
                    storage_path=stored,
                    thumbnail_path=thumbnail,
                    content_type="image/jpeg",
                    size_bytes=len(image.jpeg),
                    sha256=image.sha256,
                    width=image.width,
                    height=image.height,
                    uploaded_at=timezone.now(),
                    uploaded_by_id=actor.pk if actor is not None and actor.is_authenticated else None,
                    is_current=True,
                )
        except Exception:
            default_storage.delete(thumbnail)
            raise
    except Exception:
        default_storage.delete(stored)
        raise
    audit_record(
        actor=actor,
        action="member.document.upload",
        target=member,
        changes={
            "kind": kind,
            "document": document.pk,
            "replaces": [doc.pk for doc in previous],
            "sha256": image.sha256,
            "width": image.width,
            "height": image.height,
            "source_format": image.source_format,
        },
    )
    return document
