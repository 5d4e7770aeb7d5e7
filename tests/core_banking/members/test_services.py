"""Members, groups, member types: numbering, IDs, phones, nominees, status changes and the audit trail."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.db import connection

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.members.models import Member, MemberGroup, MemberNumberCounter, MemberStatus, MemberType
from core_banking.members.services import (
    GroupData,
    NomineeData,
    group_create,
    group_update,
    member_data_of,
    member_nominees_set,
    member_reinstate,
    member_suspend_from_borrowing,
    member_type_create,
    member_types_seed,
    member_update,
)
from core_banking.organisation.models import Branch
from core_banking.staff.services import staff_user_create
from tests.conftest import PASSWORD, Workspace
from tests.core_banking.members.helpers import new_member


def admin() -> User:
    return User.objects.get(username="alpha-admin")


# --- Member types --------------------------------------------------------------------------------


def test_provisioning_seeds_member_types_in_the_cooperatives_language(in_alpha: Workspace) -> None:
    assert dict(MemberType.objects.values_list("code", "name")) == {
        "ASSOC": "সহযোগী সদস্য",
        "ORD": "সাধারণ সদস্য",
    }
    assert member_types_seed(language="bn") == 0  # seeding again adds nothing


def test_beta_gets_its_types_in_vietnamese(in_beta: Workspace) -> None:
    assert MemberType.objects.get(code="ORD").name == "Thành viên chính thức"


def test_a_member_type_code_is_unique(in_alpha: Workspace) -> None:
    member_type_create(actor=admin(), code="staff", name="Staff member")
    assert MemberType.objects.filter(code="STAFF").exists()
    with pytest.raises(BusinessRuleViolation) as raised:
        member_type_create(actor=admin(), code="STAFF", name="Again")
    assert raised.value.code == ErrorCode.MEMBER_TYPE_CODE_TAKEN
    assert raised.value.http_status == 409


# --- Numbering -----------------------------------------------------------------------------------


def test_member_numbers_count_per_branch(in_alpha: Workspace, branch_two: Branch) -> None:
    numbers = [new_member().number for _ in range(3)]
    assert numbers == ["BR1-000001", "BR1-000002", "BR1-000003"]
    assert new_member(branch=branch_two).number == "BR2-000001"
    assert MemberNumberCounter.objects.get(branch__code="BR1").last_number == 3


def test_numbering_continues_from_the_counter_not_from_the_count(in_alpha: Workspace) -> None:
    MemberNumberCounter.objects.create(branch=Branch.objects.get(code="BR1"), last_number=122)
    assert new_member().number == "BR1-000123"


def test_a_refused_admission_gives_its_number_back(in_alpha: Workspace) -> None:
    with pytest.raises(BusinessRuleViolation):
        new_member(national_id="123")
    assert new_member().number == "BR1-000001"


# --- Personal data -------------------------------------------------------------------------------


def test_member_is_admitted_with_normalised_data_and_audited(in_alpha: Workspace) -> None:
    member = new_member(
        actor=admin(),
        full_name="  রহিমা   বেগম ",
        national_id="১২৩৪৫৬৭৮৯০",
        phone="০১৭১১-০০০০০০",
        guardian_name="করিম উদ্দিন",
        gender="female",
        date_of_birth=dt.date(1985, 3, 1),
    )
    member.refresh_from_db()
    assert member.full_name == "রহিমা বেগম"
    assert member.national_id == "1234567890"
    assert member.phone == "+8801711000000"
    assert member.message_language == "bn"  # the cooperative's default
    assert member.status == MemberStatus.ACTIVE
    assert member.search_text == "রহিমা বেগম br1-000001 1234567890 8801711000000"
    event = AuditEvent.objects.get(action="member.create", object_id=str(member.pk))
    assert event.actor_label == "alpha-admin"
    assert event.changes["national_id"] == "1234567890"
    assert event.changes["number"] == "BR1-000001"


def test_a_national_id_of_the_wrong_shape_is_refused_with_its_code(in_alpha: Workspace) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        new_member(national_id="12345678901")
    assert raised.value.code == ErrorCode.NATIONAL_ID_INVALID
    assert raised.value.fields == {"national_id": ["Not a valid national ID here: 10, 13 or 17 digits."]}
    assert not Member.objects.exists()


def test_beta_checks_vietnamese_ids(in_beta: Workspace) -> None:
    assert new_member(national_id="001203004567").national_id == "001203004567"
    with pytest.raises(BusinessRuleViolation) as raised:
        new_member(national_id="1234567890")  # a Bangladeshi shape, not a Vietnamese one
    assert raised.value.code == ErrorCode.NATIONAL_ID_INVALID


def test_a_duplicate_national_id_answers_with_a_code_not_an_integrity_error(in_alpha: Workspace) -> None:
    first = new_member(national_id="1234567890")
    with pytest.raises(BusinessRuleViolation) as raised:
        new_member(full_name="Somebody Else", national_id="1234567890")
    assert raised.value.code == ErrorCode.NATIONAL_ID_TAKEN
    assert raised.value.http_status == 409
    assert raised.value.fields == {
        "national_id": [f"This national ID is already registered to member {first.number}."]
    }
    # Members without an ID do not collide with each other.
    new_member(full_name="No Id One")
    new_member(full_name="No Id Two")


def test_a_duplicate_that_slips_past_the_check_still_gets_the_code(in_alpha: Workspace) -> None:
    """Two admissions racing both pass the look-up; the database constraint catches the second.

    The save step is called directly, as the second of two racing admissions reaches it.
    """
    from core_banking.members.services import _member_save

    first = new_member(national_id="1234567890")
    racer = Member(
        branch=first.branch,
        number="BR1-999999",
        member_type=first.member_type,
        full_name="Racer",
        national_id="1234567890",
        message_language="bn",
        join_date=dt.date(2024, 1, 1),
    )
    with pytest.raises(BusinessRuleViolation) as raised:
        _member_save(racer)
    assert raised.value.code == ErrorCode.NATIONAL_ID_TAKEN
    # The surrounding transaction is still usable afterwards.
    assert Member.objects.count() == 1


def test_an_invalid_phone_is_refused(in_alpha: Workspace) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        new_member(phone="01711")
    assert raised.value.code == ErrorCode.PHONE_INVALID
    assert "phone" in raised.value.fields


def test_an_unsupported_message_language_is_refused(in_alpha: Workspace) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        new_member(message_language="fr")
    assert raised.value.code == ErrorCode.LANGUAGE_UNSUPPORTED
    assert new_member(message_language="en").message_language == "en"


def test_dates_must_make_sense(in_alpha: Workspace) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        new_member(join_date=dt.date(2999, 1, 1))
    assert "join_date" in raised.value.fields
    with pytest.raises(BusinessRuleViolation) as raised:
        new_member(join_date=dt.date(2020, 1, 1), date_of_birth=dt.date(2021, 1, 1))
    assert "date_of_birth" in raised.value.fields


def test_update_changes_data_keeps_the_number_and_audits_the_difference(in_alpha: Workspace) -> None:
    member = new_member(full_name="Karim Uddin", phone="01711000000")
    updated = member_update(
        actor=admin(),
        member=member,
        data=replace(member_data_of(member), full_name="Karim Uddin Mia", phone="01811000000"),
    )
    updated.refresh_from_db()
    assert updated.number == "BR1-000001"
    assert updated.phone == "+8801811000000"
    assert "karim uddin mia" in updated.search_text and "8801811000000" in updated.search_text
    event = AuditEvent.objects.get(action="member.update", object_id=str(member.pk))
    assert event.changes == {
        "full_name": ["Karim Uddin", "Karim Uddin Mia"],
        "phone": ["+8801711000000", "+8801811000000"],
    }


def test_a_member_may_keep_its_own_national_id_on_update(in_alpha: Workspace) -> None:
    member = new_member(national_id="1234567890")
    member_update(actor=None, member=member, data=replace(member_data_of(member), address="Mirpur 10"))
    assert Member.objects.get(pk=member.pk).address == "Mirpur 10"


# --- Nominees ------------------------------------------------------------------------------------


def test_nominee_shares_must_total_100(in_alpha: Workspace) -> None:
    member = new_member(
        nominees=(
            NomineeData("Karim", "husband", 60),
            NomineeData("Salma", "daughter", 40, phone="01911000000"),
        )
    )
    assert sorted(member.nominees.values_list("name", "share_percent", "phone")) == [
        ("Karim", 60, ""),
        ("Salma", 40, "+8801911000000"),
    ]
    with pytest.raises(BusinessRuleViolation) as raised:
        member_nominees_set(
            actor=None,
            member=member,
            nominees=[NomineeData("Karim", "husband", 60), NomineeData("Salma", "daughter", 30)],
        )
    assert raised.value.code == ErrorCode.NOMINEE_SHARES_INVALID
    assert raised.value.fields == {"nominees": ["The nominees' shares add up to 90 %, not 100 %."]}
    assert member.nominees.count() == 2  # unchanged


def test_nominees_are_replaced_and_audited(in_alpha: Workspace) -> None:
    member = new_member(nominees=(NomineeData("Karim", "husband", 100),))
    member_nominees_set(actor=admin(), member=member, nominees=[NomineeData("Salma", "daughter", 100)])
    assert list(member.nominees.values_list("name", flat=True)) == ["Salma"]
    event = AuditEvent.objects.get(action="member.nominees", object_id=str(member.pk))
    assert event.changes["nominees"][1] == [
        {"name": "Salma", "relationship": "daughter", "share_percent": 100}
    ]
    member_nominees_set(actor=admin(), member=member, nominees=[])
    assert member.nominees.count() == 0


def test_a_nominee_share_out_of_range_is_refused(in_alpha: Workspace) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        new_member(nominees=(NomineeData("Karim", "husband", 0), NomineeData("Salma", "daughter", 100)))
    assert raised.value.code == ErrorCode.VALIDATION_ERROR
    assert raised.value.fields == {"nominees[0]": ["A share of 1 to 100 per cent."]}


# --- Status --------------------------------------------------------------------------------------


def test_suspend_from_borrowing_and_reinstate_are_audited_with_the_reason(in_alpha: Workspace) -> None:
    member = new_member()
    member_suspend_from_borrowing(actor=admin(), member=member, reason="Two instalments overdue")
    assert Member.objects.get(pk=member.pk).status == MemberStatus.SUSPENDED_FROM_BORROWING
    with pytest.raises(BusinessRuleViolation) as raised:
        member_suspend_from_borrowing(actor=admin(), member=member, reason="again")
    assert raised.value.code == ErrorCode.MEMBER_STATUS_CHANGE_INVALID
    member_reinstate(actor=admin(), member=member, reason="Paid up")
    assert Member.objects.get(pk=member.pk).status == MemberStatus.ACTIVE
    events = AuditEvent.objects.filter(object_id=str(member.pk), action__startswith="member.").exclude(
        action="member.create"
    )
    assert sorted((e.action, e.changes["reason"]) for e in events) == [
        ("member.reinstate", "Paid up"),
        ("member.suspend_from_borrowing", "Two instalments overdue"),
    ]


def test_a_status_change_needs_a_reason_and_an_exited_member_cannot_change(in_alpha: Workspace) -> None:
    member = new_member()
    with pytest.raises(BusinessRuleViolation) as raised:
        member_suspend_from_borrowing(actor=None, member=member, reason="  ")
    assert raised.value.fields == {"reason": ["Say why, in 1-500 characters."]}
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.EXITED)
    with pytest.raises(BusinessRuleViolation) as raised:
        member_reinstate(actor=None, member=member, reason="back")
    assert raised.value.code == ErrorCode.MEMBER_STATUS_CHANGE_INVALID


# --- Groups --------------------------------------------------------------------------------------


def _field_officer(username: str, branch: Branch) -> User:
    return staff_user_create(
        actor=None, username=username, password=PASSWORD, roles=["field_officer"], home_branch=branch
    )


def test_group_with_leader_and_field_officer_of_its_branch(in_alpha: Workspace) -> None:
    branch = Branch.objects.get(code="BR1")
    leader = new_member(full_name="Leader Lovely")
    officer = User.objects.get(username="alpha-only")  # a field officer limited to BR1
    group = group_create(
        actor=admin(),
        branch=branch,
        data=GroupData(
            code="g-01", name="Shapla Samity", meeting_weekday=2, meeting_place="School yard", leader=leader,
            field_officer=officer,
        ),
    )  # fmt: skip
    assert (group.code, group.leader, group.field_officer) == ("G-01", leader, officer)
    event = AuditEvent.objects.get(action="member_group.create", object_id=str(group.pk))
    assert event.changes["leader"] == leader.number and event.changes["field_officer"] == "alpha-only"
    group_update(
        actor=admin(), group=group, data=GroupData(code="G-01", name="Shapla Samity", meeting_weekday=4)
    )
    group.refresh_from_db()
    assert group.meeting_weekday == 4 and group.leader is None
    event = AuditEvent.objects.get(action="member_group.update", object_id=str(group.pk))
    assert event.changes["meeting_weekday"] == [2, 4]


def test_a_leader_from_another_branch_is_refused(in_alpha: Workspace, branch_two: Branch) -> None:
    stranger = new_member(branch=branch_two)
    with pytest.raises(BusinessRuleViolation) as raised:
        group_create(
            actor=None,
            branch=Branch.objects.get(code="BR1"),
            data=GroupData(code="G-02", name="Padma", meeting_weekday=0, leader=stranger),
        )
    assert raised.value.code == ErrorCode.GROUP_LEADER_OUTSIDE_BRANCH


def test_a_field_officer_who_cannot_see_the_branch_is_refused(
    in_alpha: Workspace, branch_two: Branch
) -> None:
    officer = _field_officer("br2-officer", branch_two)
    with pytest.raises(BusinessRuleViolation) as raised:
        group_create(
            actor=None,
            branch=Branch.objects.get(code="BR1"),
            data=GroupData(code="G-03", name="Meghna", meeting_weekday=1, field_officer=officer),
        )
    assert raised.value.code == ErrorCode.FIELD_OFFICER_OUTSIDE_BRANCH


def test_group_codes_are_unique(in_alpha: Workspace) -> None:
    branch = Branch.objects.get(code="BR1")
    group_create(actor=None, branch=branch, data=GroupData(code="G-04", name="Jamuna", meeting_weekday=1))
    with pytest.raises(BusinessRuleViolation) as raised:
        group_create(actor=None, branch=branch, data=GroupData(code="g-04", name="Other", meeting_weekday=1))
    assert raised.value.code == ErrorCode.GROUP_CODE_TAKEN


def test_a_member_joins_only_a_group_of_its_branch(in_alpha: Workspace, branch_two: Branch) -> None:
    group = group_create(
        actor=None, branch=branch_two, data=GroupData(code="G-05", name="Karnaphuli", meeting_weekday=5)
    )
    with pytest.raises(BusinessRuleViolation) as raised:
        new_member(group=group)  # BR1 member, BR2 group
    assert raised.value.code == ErrorCode.GROUP_OUTSIDE_BRANCH
    assert new_member(branch=branch_two, group=group).group == group


def test_a_field_officer_sees_only_the_groups_assigned_to_them(in_alpha: Workspace) -> None:
    from core_banking.members.selectors import groups_visible_to

    branch = Branch.objects.get(code="BR1")
    mine = User.objects.get(username="alpha-only")
    other = _field_officer("other-officer", branch)
    group_create(
        actor=None,
        branch=branch,
        data=GroupData(code="G-06", name="Mine", meeting_weekday=1, field_officer=mine),
    )
    group_create(
        actor=None,
        branch=branch,
        data=GroupData(code="G-07", name="Theirs", meeting_weekday=1, field_officer=other),
    )
    group_create(actor=None, branch=branch, data=GroupData(code="G-08", name="Nobody's", meeting_weekday=1))
    assert [g.code for g in groups_visible_to(mine.staff_profile)] == ["G-06"]
    assert [g.code for g in groups_visible_to(admin().staff_profile)] == ["G-06", "G-07", "G-08"]
    assert MemberGroup.objects.count() == 3
    assert connection.schema_name == "coop_alpha"
