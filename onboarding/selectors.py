"""Sign-up's reads: whether a subdomain can be had, a sign-up's progress."""

from __future__ import annotations

from dataclasses import dataclass

from django_tenants.utils import schema_exists

from control_plane.errors import ErrorCode
from onboarding.models import HOLDING_STATES, SignUp, SignUpStatus
from tenants.models import Cooperative
from tenants.services import RESERVED_SLUGS, SLUG_PATTERN, schema_name_for


def slug_problem(slug: str) -> ErrorCode | None:
    """Why ``slug`` cannot be a new workspace's subdomain (None: it can, as of now).

    Taken means a cooperative has it, a schema of that name exists, or a sign-up holds it while
    it is being paid for.
    """
    slug = slug.strip().lower()
    if not SLUG_PATTERN.match(slug):
        return ErrorCode.SLUG_INVALID
    if slug in RESERVED_SLUGS:
        return ErrorCode.SLUG_RESERVED
    if (
        Cooperative.objects.filter(slug=slug).exists()
        or SignUp.objects.filter(slug=slug, status__in=HOLDING_STATES).exists()
        or schema_exists(schema_name_for(slug))
    ):
        return ErrorCode.SLUG_TAKEN
    return None


@dataclass(frozen=True)
class Progress:
    """The steps the waiting page shows, and whether it should keep asking."""

    status: str
    paid: bool
    creating: bool
    ready: bool
    failed: bool
    expired: bool

    @property
    def waiting(self) -> bool:
        return not (self.ready or self.failed or self.expired)


def signup_progress(signup: SignUp) -> Progress:
    status = signup.status
    return Progress(
        status=status,
        paid=status in (SignUpStatus.PAID, SignUpStatus.PROVISIONED, SignUpStatus.FAILED),
        creating=signup.provisioning_started_at is not None,
        ready=status == SignUpStatus.PROVISIONED,
        failed=status == SignUpStatus.FAILED,
        expired=status == SignUpStatus.EXPIRED,
    )
