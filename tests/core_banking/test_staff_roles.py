"""Staff users: roles, approver authority levels, branch limits."""

from __future__ import annotations

import pytest

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.organisation.models import Branch
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability, Role, capabilities_of, is_read_only
from core_banking.staff.services import staff_user_create
from tests.conftest import Workspace


def test_every_role_named_by_the_brief_exists() -> None:
    assert {role.value for role in Role} == {
        "cooperative_admin", "branch_manager", "accountant", "loan_officer", "approver", "field_officer",
        "auditor", "group_leader",
    }  # fmt: skip


def test_auditor_alone_is_read_only_but_not_with_another_role() -> None:
    assert is_read_only(["auditor"])
    assert not is_read_only(["auditor", "accountant"])
    assert capabilities_of(["auditor"]) == {Capability.VIEW_AUDIT_TRAIL, Capability.VIEW_REPORTS}


def test_approver_gets_an_authority_level(in_alpha: Workspace) -> None:
    head_office = Branch.objects.get(is_head_office=True)
    user = staff_user_create(
        actor=None,
        username="approver-3",
        password=None,
        email="a3@example.org",
        roles=["approver"],
        home_branch=head_office,
        approver_level=3,
    )
    profile = StaffProfile.objects.get(user=user)
    assert profile.approver_level == 3 and profile.can(Capability.APPROVE_LOANS)
    assert user.has_usable_password()  # a random one nobody knows: "forgotten password" can reach it
    event = AuditEvent.objects.filter(action="staff.create", object_id=str(user.pk)).get()
    assert event.changes["approver_level"] == 3


def test_approver_without_a_level_is_refused_and_nothing_is_written(in_alpha: Workspace) -> None:
    head_office = Branch.objects.get(is_head_office=True)
    with pytest.raises(BusinessRuleViolation) as raised:
        staff_user_create(
            actor=None, username="nolevel", password=None, roles=["approver"], home_branch=head_office
        )
    assert raised.value.code == ErrorCode.APPROVER_LEVEL_REQUIRED
    assert "approver_level" in raised.value.fields
    assert not User.objects.filter(username="nolevel").exists()


def test_unknown_roles_are_refused(in_alpha: Workspace) -> None:
    head_office = Branch.objects.get(is_head_office=True)
    with pytest.raises(BusinessRuleViolation) as raised:
        staff_user_create(
            actor=None, username="wizard", password=None, roles=["wizard"], home_branch=head_office
        )
    assert raised.value.code == ErrorCode.ROLE_UNKNOWN


def test_a_user_limited_to_branches_sees_only_those(in_alpha: Workspace) -> None:
    head_office = Branch.objects.get(is_head_office=True)
    branch_one = Branch.objects.get(code="BR1")
    other = Branch.objects.create(code="BR2", name="Branch two")
    user = staff_user_create(
        actor=None,
        username="limited",
        password="long-enough-password-1",
        roles=["branch_manager"],
        home_branch=branch_one,
        branches=[other],
    )
    assert user.staff_profile.visible_branch_ids() == sorted([branch_one.pk, other.pk])
    admin = StaffProfile.objects.get(roles__contains=["cooperative_admin"])
    assert admin.visible_branch_ids() is None  # head office sees all
    assert head_office.pk not in user.staff_profile.visible_branch_ids()


def test_an_invited_user_without_an_email_address_is_refused(in_alpha: Workspace) -> None:
    head_office = Branch.objects.get(is_head_office=True)
    with pytest.raises(BusinessRuleViolation) as raised:
        staff_user_create(
            actor=None, username="ghost", password=None, roles=["accountant"], home_branch=head_office
        )
    assert raised.value.fields == {"email": ["Required when no password is given."]}
    assert not User.objects.filter(username="ghost").exists()


def test_an_invited_user_sets_a_password_by_email(alpha: Workspace) -> None:
    from django.core import mail
    from django.test import Client
    from django_tenants.utils import tenant_context

    with tenant_context(alpha.cooperative()):
        staff_user_create(
            actor=None,
            username="invitee",
            password=None,
            email="invitee@example.org",
            roles=["accountant"],
            home_branch=Branch.objects.get(is_head_office=True),
        )
    response = Client(HTTP_HOST=alpha.host).post(
        "/accounts/password-reset/", {"email": "invitee@example.org"}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "invitee" in mail.outbox[0].body


def test_a_password_hashed_elsewhere_is_kept_as_it_is(in_alpha: Workspace) -> None:
    from django.contrib.auth.hashers import make_password

    hashed = make_password("chosen-at-sign-up-42")
    head_office = Branch.objects.get(is_head_office=True)
    user = staff_user_create(
        actor=None,
        username="signed-up-admin",
        password=None,
        password_hash=hashed,
        roles=[Role.COOPERATIVE_ADMIN.value],
        home_branch=head_office,
    )
    user.refresh_from_db()
    assert user.password == hashed and user.check_password("chosen-at-sign-up-42")


@pytest.mark.parametrize(
    ("password", "password_hash"),
    [(None, "chosen-at-sign-up-42"), ("chosen-at-sign-up-42", "pbkdf2_sha256$1$salt$x")],
)
def test_a_password_hash_must_be_a_hash_and_come_alone(
    in_alpha: Workspace, password: str | None, password_hash: str
) -> None:
    head_office = Branch.objects.get(is_head_office=True)
    with pytest.raises(BusinessRuleViolation) as refused:
        staff_user_create(
            actor=None,
            username="signed-up-admin",
            password=password,
            password_hash=password_hash,
            roles=[Role.COOPERATIVE_ADMIN.value],
            home_branch=head_office,
            email="a@example.org",
        )
    assert refused.value.code == ErrorCode.VALIDATION_ERROR
    assert refused.value.fields == {"password": ["Not a password hash."]}
    assert not User.objects.filter(username="signed-up-admin").exists()
