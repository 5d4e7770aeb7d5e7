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
        },
    )
    return user
