"""Reads of the members module: what a staff user may see, and member search."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from control_plane.audit.models import AuditEvent
from core_banking.members.identity import phone_guess
from core_banking.members.models import Member, MemberDocument, MemberGroup
from core_banking.members.normalise import fold_digits, search_normalise
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability, Role, is_group_leader

SEARCH_LIMIT = 20
# Words shorter than this have no trigram of their own: they are matched at the start of a word.
MIN_SUBSTRING = 3
_NUMBER = re.compile(r"^([A-Z][A-Z0-9]*)-0*([0-9]{1,9})$")
_ID_LIKE = re.compile(r"^(?=.*[0-9])[A-Z0-9]{5,30}$")
_PHONE_LIKE = re.compile(r"^\+?[0-9 ()\-.]{6,24}$")
_ID_SEPARATORS = re.compile(r"[\s\-./]+")


def staff_profile_of(user: Any) -> StaffProfile | None:
    """The staff profile of a signed-in user of this workspace; None for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    profile: StaffProfile | None = getattr(user, "staff_profile", None)
    return profile


def members_visible(*, visible_branch_ids: Sequence[int] | None) -> QuerySet[Member]:
    members = Member.objects.select_related("branch", "member_type", "group")
    if visible_branch_ids is not None:
        members = members.filter(branch_id__in=visible_branch_ids)
    return members


def member_for_staff(*, member_id: int, visible_branch_ids: Sequence[int] | None) -> Member:
    """The member, if this staff user may see its branch; ``Member.DoesNotExist`` otherwise (a 404)."""
    return members_visible(visible_branch_ids=visible_branch_ids).get(pk=member_id)


def groups_visible_to(profile: StaffProfile) -> QuerySet[MemberGroup]:
    """Groups in the user's branches; a field officer (who does not manage members) sees only theirs,
    a group leader only the groups they lead."""
    groups = MemberGroup.objects.select_related("branch", "leader", "field_officer")
    visible = profile.visible_branch_ids()
    if visible is not None:
        groups = groups.filter(branch_id__in=visible)
    if is_group_leader(profile.roles):
        return groups.filter(leader_id=profile.member_id) if profile.member_id else groups.none()
    if Role.FIELD_OFFICER.value in profile.roles and not profile.can(Capability.MANAGE_MEMBERS):
        groups = groups.filter(field_officer_id=profile.user_id)
    return groups


def default_member_type_id() -> int | None:
    """The preselected type on the admission form: the seeded ordinary type while it exists."""
    from core_banking.members.models import MemberType
    from core_banking.members.presets import DEFAULT_MEMBER_TYPE_CODE

    ids = list(MemberType.objects.filter(code=DEFAULT_MEMBER_TYPE_CODE).values_list("id", flat=True)[:1])
    return ids[0] if ids else None


def _exact_conditions(query: str, region: str) -> Q | None:
    """Member number, phone or national ID as typed (in any digits): each answered by a plain index."""
    folded = fold_digits(query).strip().upper()
    conditions: list[Q] = []
    number = _NUMBER.match(folded.replace(" ", ""))
    if number:
        conditions.append(Q(number=f"{number.group(1)}-{int(number.group(2)):06d}") | Q(number=folded))
    if _PHONE_LIKE.match(folded) and sum(char.isdigit() for char in folded) >= 6:
        phone = phone_guess(folded, region)
        if phone:
            conditions.append(Q(phone=phone))
    identity = _ID_SEPARATORS.sub("", folded)
    if _ID_LIKE.match(identity):
        conditions.append(Q(national_id=identity))
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


def _word_condition(word: str) -> Q:
    """Where one typed word must occur in the search text, in a form the trigram index can answer.

    A word of three characters or more may occur anywhere (a substring). A shorter one has no
    trigram of its own, so a substring match would read every member; it must begin a word
    instead (the text's first word, or one after a space), which the index's word-start trigrams
    answer: "สม" finds สมชาย and สมศรี, "md" finds "md karim mia".
    """
    if len(word) >= MIN_SUBSTRING:
        return Q(search_text__contains=word)
    return Q(search_text__startswith=word) | Q(search_text__contains=f" {word}")


def _rank(normalised: str) -> Case:
    """How well a member's search text matches what was typed: 0 best. Plain LIKE tests, cheap per row.

    The search text begins with the name, so: the name begins with the words typed, whole (0) or the
    last one cut short (1); the words typed, whole, further on (2) or starting a word (3); the words
    only apart or inside other words (4).
    """
    return Case(
        When(Q(search_text=normalised) | Q(search_text__startswith=f"{normalised} "), then=Value(0)),
        When(search_text__startswith=normalised, then=Value(1)),
        When(
            Q(search_text__contains=f" {normalised} ") | Q(search_text__endswith=f" {normalised}"),
            then=Value(2),
        ),
        When(search_text__contains=f" {normalised}", then=Value(3)),
        default=Value(4),
        output_field=IntegerField(),
    )


def member_search(
    query: str, *, visible_branch_ids: Sequence[int] | None, limit: int = SEARCH_LIMIT, region: str = ""
) -> list[Member]:
    """Members by name, member number, phone or national ID, best matches first.

    Exact numbers come first. Then every word typed must occur in the member's normalised search
    text (served by the trigram index; see ``_word_condition``), ranked by ``_rank`` and then by
    member number. The rank is a few LIKE tests rather than a similarity function: a common name
    ("nguyen") matches a tenth of the members, and every match is ranked before the limit applies.
    """
    from core_banking.members.services import cooperative_country

    if not query.strip() or limit <= 0:
        return []
    members = members_visible(visible_branch_ids=visible_branch_ids)
    found: list[Member] = []
    exact = _exact_conditions(query, region or cooperative_country())
    if exact is not None:
        found = list(members.filter(exact).order_by("number")[:limit])
    normalised = search_normalise(query)
    if len(found) >= limit or len(normalised) < 2:
        return found
    fuzzy = members.filter(*[_word_condition(word) for word in normalised.split()])
    if found:
        fuzzy = fuzzy.exclude(pk__in=[member.pk for member in found])
    fuzzy = fuzzy.annotate(rank=_rank(normalised)).order_by("rank", "number")
    return found + list(fuzzy[: limit - len(found)])


def member_current_documents(member: Member) -> dict[str, MemberDocument]:
    return {document.kind: document for document in member.documents.filter(is_current=True)}


def member_status_history(member: Member, *, limit: int = 10) -> list[AuditEvent]:
    """Suspensions and reinstatements, newest first, with the reason given."""
    return list(
        AuditEvent.objects.filter(
            object_type=Member._meta.label_lower,
            object_id=str(member.pk),
            action__in=["member.suspend_from_borrowing", "member.reinstate"],
        ).order_by("-occurred_at")[:limit]
    )


def leader_login(group: MemberGroup) -> Any | None:
    """The user the group's leader signs in to the field app as (active or closed), if any."""
    if group.leader_id is None:
        return None
    profile = StaffProfile.objects.select_related("user").filter(member_id=group.leader_id).first()
    return profile.user if profile is not None else None
