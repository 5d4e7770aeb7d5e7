"""The one write path for staff users and their roles."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.organisation.models import Branch
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Role


def _validated_roles(roles: Sequence[str], approver_level: int | None) -> list[str]:
    known = {role.value for role in Role}
    unknown = [role for role in roles if role not in known]
    if unknown or not roles:
        raise BusinessRuleViolation(
            ErrorCode.ROLE_UNKNOWN,
            "Give one or more known roles.",
            fields={"roles": [f"Unknown role: {r}" for r in unknown] or ["At least one role is required."]},
        )
    if Role.GROUP_LEADER.value in roles and len(set(roles)) > 1:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "A group leader is a member, not staff: the role is held alone.",
            fields={"roles": ["The group leader role cannot be combined with another."]},
        )
    if Role.APPROVER.value in roles and not approver_level:
        raise BusinessRuleViolation(
            ErrorCode.APPROVER_LEVEL_REQUIRED,
            "An approver needs an authority level.",
            fields={"approver_level": ["Required for the approver role (1 is the lowest authority)."]},
        )
    return sorted(set(roles))


def _is_password_hash(value: str) -> bool:
    try:
        identify_hasher(value)
    except ValueError:
        return False
    return True


@transaction.atomic
def staff_user_create(
    *,
    actor: Any | None,
    username: str,
    password: str | None,
    roles: Sequence[str],
    home_branch: Branch,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    language: str = "",
    approver_level: int | None = None,
    all_branches: bool = False,
    branches: Sequence[Branch] = (),
    password_hash: str | None = None,
    member: Any | None = None,
) -> User:
    """Create a staff user with roles.

    ``password=None`` invites: the user gets a random password nobody knows and sets their own
    through "forgotten your password" (Django's reset skips unusable passwords, so it must be
    a real one). An invited user needs an e-mail address to receive the link.

    ``password_hash``: a password validated and hashed elsewhere (online sign-up keeps only the
    hash until the workspace exists), stored as it is; hashing a throwaway one would cost a
    PBKDF2 run for nothing.
    """
    clean_roles = _validated_roles(roles, approver_level)
    if (Role.GROUP_LEADER.value in clean_roles) != (member is not None):
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "A group leader's login is a member's, and only a group leader's is.",
            fields={"member": ["A group leader needs the member; no other role takes one."]},
        )
    if password_hash is not None and (password is not None or not _is_password_hash(password_hash)):
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "A password hash is given alone, and only as Django's hashers make it.",
            fields={"password": ["Not a password hash."]},
        )
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "That user name is taken.", fields={"username": ["Already in use."]}
        )
    user = user_model(
        username=username, first_name=first_name, last_name=last_name, email=email, language=language
    )
    if password_hash is not None:
        user.password = password_hash
    elif password is None:
        if not email:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                "Without a password the user sets one by e-mail, so an e-mail address is required.",
                fields={"email": ["Required when no password is given."]},
            )
        user.set_password(secrets.token_urlsafe(32))
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                "The password is too weak.",
                fields={"password": list(exc.messages)},
            ) from exc
        user.set_password(password)
    user.save()
    profile = StaffProfile.objects.create(
        user=user,
        roles=clean_roles,
        approver_level=approver_level if Role.APPROVER.value in clean_roles else None,
        home_branch=home_branch,
        all_branches=all_branches,
        member=member,
    )
    if branches:
        profile.branches.set(branches)
    audit_record(
        actor=actor,
        action="staff.create",
        target=user,
        changes={
            "roles": clean_roles,
            "approver_level": profile.approver_level,
            "home_branch": home_branch.code,
            "branches": sorted(b.code for b in branches),
            "all_branches": all_branches,
            "member": member.number if member is not None else None,
        },
    )
    return user


# --- Group leaders: a member's login to the field app --------------------------------------------


@transaction.atomic
def group_leader_login_grant(*, actor: Any, group: Any, username: str, password: str) -> User:
    """Give the leader of ``group`` a login to the field app, or open their earlier one again.

    The leader collects for the groups they lead (whichever those are at the time), holds the cash
    they collect in a till of their own, and sees nothing else. The password is set by the staff
    member who hands the phone over (members have no e-mail to be invited by)."""
    leader = group.leader
    if leader is None:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "The group has no leader.",
            fields={"leader": ["Name the group's leader first."]},
        )
    profile = StaffProfile.objects.select_for_update().select_related("user").filter(member=leader).first()
    if profile is None:
        return staff_user_create(
            actor=actor,
            username=username.strip(),
            password=password,
            roles=[Role.GROUP_LEADER.value],
            home_branch=group.branch,
            first_name=leader.full_name[:150],
            language=leader.message_language,
            member=leader,
        )
    user = profile.user
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "The password is too weak.", fields={"password": list(exc.messages)}
        ) from exc
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    if profile.home_branch_id != group.branch_id:
        profile.home_branch = group.branch
        profile.save(update_fields=["home_branch"])
    audit_record(actor=actor, action="staff.group_leader.reopen", target=user, changes={"group": group.code})
    return user


@transaction.atomic
def group_leader_login_revoke(*, actor: Any, member: Any) -> User | None:
    """Close a group leader's login: the user can no longer sign in and every device of theirs is
    refused. Nothing they synced before is touched. None when the member has no login."""
    from field.models import FieldDevice  # the field app builds on staff, not the other way round

    profile = StaffProfile.objects.select_related("user").filter(member=member).first()
    if profile is None:
        return None
    user = profile.user
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    revoked = FieldDevice.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    audit_record(
        actor=actor, action="staff.group_leader.revoke", target=user, changes={"devices_revoked": revoked}
    )
    return user
