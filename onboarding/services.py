"""Online sign-up's write paths: a pending sign-up, its payment, its workspace, the log-in into it.

1. ``signup_start`` checks everything, stores a pending sign-up (no workspace) holding its
   subdomain, and opens a Stripe Checkout session; the person is sent to Stripe.
2. ``signup_checkout_confirm`` runs when Stripe's ``checkout.session.completed`` webhook arrives
   or when the person comes back to the success URL, whichever is first. Either way it reads the
   session from Stripe (the URL proves nothing) and, once, marks the sign-up paid and queues
3. ``signup_provision`` (a Celery task): the workspace is cloned from the template by
   ``tenants.services.cooperative_provision``, with the country preset, the admin (with the
   password chosen at sign-up), starter products and the billing account, in one transaction.
4. The waiting page polls; when the workspace is ready, ``handoff_token_issue`` gives the
   sign-up's own browser a one-time token, posted once to the workspace's domain, where
   ``handoff_token_consume`` logs the admin in.

``signups_expire`` closes unpaid sign-ups' Checkout sessions and expires them: no workspace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tenants.utils import tenant_context

from billing import stripe_gateway as gateway
from billing.models import Plan
from billing.services import (
    CheckoutRequest,
    billing_account_open,
    checkout_session_create,
    plan_price_for,
)
from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from onboarding.models import HOLDING_STATES, HandoffToken, SignUp, SignUpStatus
from onboarding.starter import starter_products_seed
from tenants.lifecycle import cooperative_lifecycle_change
from tenants.models import Cooperative, Lifecycle
from tenants.services import (
    AdminSpec,
    CooperativeSpec,
    catalog_statistics_refresh,
    cooperative_provision,
    validate_spec,
)

logger = logging.getLogger(__name__)

PAID_STATUSES = frozenset({"paid", "no_payment_required"})
# Codes that mean this sign-up can never become a workspace as given (anything else is retried).
FINAL_PROVISIONING_CODES = frozenset(
    {
        ErrorCode.SLUG_TAKEN,
        ErrorCode.SLUG_INVALID,
        ErrorCode.SLUG_RESERVED,
        ErrorCode.COUNTRY_UNKNOWN,
        ErrorCode.CURRENCY_UNKNOWN,
        ErrorCode.LANGUAGE_UNSUPPORTED,
        ErrorCode.TIME_ZONE_UNKNOWN,
        ErrorCode.VALIDATION_ERROR,
    }
)


@dataclass(frozen=True)
class SignUpRequest:
    plan_code: str
    name: str
    registration_number: str
    country: str
    currency: str
    default_language: str
    slug: str
    admin_name: str
    admin_email: str
    password: str
    language: str = "en"


# --- Starting a sign-up --------------------------------------------------------------------------


def admin_username(email: str) -> str:
    """The admin signs in with their e-mail address."""
    return email.strip().lower()


def signup_validate(data: SignUpRequest) -> tuple[CooperativeSpec, Plan]:
    """Every check a sign-up must pass before anyone pays; all problems at once."""
    problems: dict[str, list[str]] = {}
    codes: list[ErrorCode] = []
    spec = CooperativeSpec(
        name=data.name,
        slug=data.slug,
        country=data.country,
        currency=data.currency,
        default_language=data.default_language,
        registration_number=data.registration_number,
    )
    try:
        spec = validate_spec(spec)
    except BusinessRuleViolation as exc:
        problems.update(exc.fields)
        codes.append(exc.code)
    else:
        if SignUp.objects.filter(slug=spec.slug, status__in=HOLDING_STATES).exists():
            problems["slug"] = ["This subdomain is taken."]
            codes.append(ErrorCode.SLUG_TAKEN)
    plan = Plan.objects.filter(code=data.plan_code, is_public=True).first()
    if plan is None:
        problems["plan"] = ["Choose a plan."]
        codes.append(ErrorCode.VALIDATION_ERROR)
    if not data.admin_name.strip():
        problems["admin_name"] = ["Required."]
        codes.append(ErrorCode.VALIDATION_ERROR)
    user_model = get_user_model()
    candidate = user_model(
        username=admin_username(data.admin_email), email=data.admin_email, first_name=data.admin_name
    )
    try:
        validate_password(data.password, candidate)
    except ValidationError as exc:
        problems["password"] = list(exc.messages)
        codes.append(ErrorCode.VALIDATION_ERROR)
    if problems or plan is None:
        raise BusinessRuleViolation(codes[0], "The sign-up cannot be accepted as given.", fields=problems)
    return spec, plan


def signup_start(*, data: SignUpRequest, site_url: str) -> SignUp:
    """Store a pending sign-up and open its Checkout session (``signup.checkout_url``). No workspace yet.

    One transaction: if Stripe cannot be reached, nothing is stored and the subdomain stays free.
    """
    spec, plan = signup_validate(data)
    price = plan_price_for(plan=plan, currency=spec.currency)
    try:
        with transaction.atomic():
            signup = SignUp.objects.create(
                plan=plan,
                billing_currency=price.currency,
                name=spec.name,
                registration_number=spec.registration_number,
                country=spec.country,
                currency=spec.currency,
                default_language=spec.default_language,
                slug=spec.slug,
                admin_name=data.admin_name.strip(),
                admin_email=data.admin_email.strip(),
                admin_password_hash=make_password(data.password),
                language=data.language,
                expires_at=timezone.now() + dt.timedelta(minutes=settings.SIGNUP_CHECKOUT_MINUTES),
            )
            _checkout_open(signup, site_url)
            audit_record(
                actor=None,
                action="signup.start",
                target=signup,
                changes={"slug": spec.slug, "plan": plan.code, "currency": price.currency},
            )
    except IntegrityError as exc:
        # Another sign-up took the subdomain between the check and the insert.
        raise BusinessRuleViolation(
            ErrorCode.SLUG_TAKEN, "This subdomain is taken.", fields={"slug": ["This subdomain is taken."]}
        ) from exc
    return signup


def _checkout_open(signup: SignUp, site_url: str) -> None:
    price = plan_price_for(plan=signup.plan, currency=signup.billing_currency)
    signup.checkout_attempts += 1
    public_id = str(signup.public_id)
    with translation.override(signup.language):
        setup_fee_label = gettext("Setup fee")
    session = checkout_session_create(
        CheckoutRequest(
            price=price,
            customer_email=signup.admin_email,
            reference=public_id,
            metadata={"signup": public_id, "slug": signup.slug},
            success_url=site_url
            + reverse("signup_return", args=[public_id])
            + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=site_url + reverse("signup_cancelled", args=[public_id]),
            expires_at=signup.expires_at,
            language=signup.language,
            idempotency_key=f"coopcore-signup-{public_id}-{signup.checkout_attempts}",
            setup_fee_label=setup_fee_label,
        )
    )
    signup.stripe_checkout_session_id = str(session["id"])
    signup.checkout_url = str(session.get("url") or "")
    signup.save(update_fields=["checkout_attempts", "stripe_checkout_session_id", "checkout_url"])


def signup_checkout_restart(*, signup: SignUp, site_url: str) -> SignUp:
    """A new Checkout session for a pending sign-up (the person cancelled, or the page was lost).

    The previous session is closed at Stripe first; if it turns out to have been paid after all,
    the sign-up is confirmed instead.
    """
    previous = signup.stripe_checkout_session_id
    if previous:
        try:
            gateway.checkout_session_expire(previous)
        except gateway.PaymentProviderError:
            session = gateway.checkout_session_retrieve(previous)
            if session.get("status") == "complete":
                signup_checkout_confirm(session_id=previous)
                signup.refresh_from_db()
                return signup
    with transaction.atomic():
        locked = SignUp.objects.select_for_update().get(pk=signup.pk)
        if locked.status != SignUpStatus.PENDING:
            return locked
        locked.expires_at = timezone.now() + dt.timedelta(minutes=settings.SIGNUP_CHECKOUT_MINUTES)
        locked.save(update_fields=["expires_at"])
        _checkout_open(locked, site_url)
    return locked


# --- Payment -------------------------------------------------------------------------------------


def signup_checkout_confirm(*, session_id: str, expected_signup: SignUp | None = None) -> str:
    """Mark the sign-up of a paid Checkout session paid and queue its workspace (once).

    The session is read from Stripe: its status, payment status and the sign-up it belongs to
    (our own metadata on it) are Stripe's word, not the caller's.
    """
    from onboarding.tasks import signup_provision as provision_task

    session = gateway.checkout_session_retrieve(session_id)
    public_id = str((session.get("metadata") or {}).get("signup") or session.get("client_reference_id") or "")
    if expected_signup is not None and public_id != str(expected_signup.public_id):
        return "refused: the session belongs to another sign-up"
    if session.get("status") != "complete" or session.get("payment_status") not in PAID_STATUSES:
        return "waiting: not paid"
    with transaction.atomic():
        signup = SignUp.objects.select_for_update().filter(public_id=public_id).first()
        if signup is None:
            return "ignored: no such sign-up"
        if signup.status not in (SignUpStatus.PENDING, SignUpStatus.EXPIRED):
            return f"already {signup.status}"
        late = signup.status == SignUpStatus.EXPIRED
        signup.status = SignUpStatus.PAID
        signup.paid_at = timezone.now()
        signup.payment_status = str(session.get("payment_status") or "")
        signup.stripe_customer_id = gateway.object_id(session.get("customer")) or ""
        signup.stripe_subscription_id = gateway.object_id(session.get("subscription")) or ""
        try:
            with transaction.atomic():
                signup.save()
        except IntegrityError:
            # Paid after it expired, and someone else has begun signing up for the subdomain since.
            signup.status = SignUpStatus.FAILED
            signup.failure = "Paid after the sign-up expired; the subdomain is held by another sign-up."
            signup.save()
            logger.error("signup_paid_but_subdomain_taken", extra={"signup": public_id})
            return "failed: paid late, subdomain taken"
        audit_record(
            actor=None,
            action="signup.paid",
            target=signup,
            changes={"checkout": session_id, "late": late, "subscription": signup.stripe_subscription_id},
        )
        signup_pk = signup.pk
        transaction.on_commit(lambda: provision_task.delay(signup_pk))
    return "paid: workspace queued"


def signup_checkout_expired(*, session_id: str) -> str:
    """Stripe closed the Checkout session unpaid: a pending sign-up on it expires."""
    with transaction.atomic():
        signup = (
            SignUp.objects.select_for_update()
            .filter(stripe_checkout_session_id=session_id, status=SignUpStatus.PENDING)
            .first()
        )
        if signup is None:
            return "ignored: no pending sign-up on this session"
        _expire(signup)
    return "expired"


def _expire(signup: SignUp) -> None:
    signup.status = SignUpStatus.EXPIRED
    signup.admin_password_hash = ""
    signup.save(update_fields=["status", "admin_password_hash"])
    audit_record(actor=None, action="signup.expire", target=signup, changes={"slug": signup.slug})


def signups_expire(*, now: dt.datetime | None = None) -> list[str]:
    """Expire unpaid sign-ups past their time; their Checkout is closed at Stripe first.

    A session that turns out to have been paid is confirmed instead. If Stripe cannot be reached,
    the sign-up waits for the next run: nothing is expired that might have been paid.
    """
    now = now or timezone.now()
    expired = []
    for signup in SignUp.objects.filter(status=SignUpStatus.PENDING, expires_at__lte=now).order_by("pk"):
        session_id = signup.stripe_checkout_session_id
        if session_id:
            try:
                try:
                    session = gateway.checkout_session_expire(session_id)
                except gateway.PaymentProviderError:
                    session = gateway.checkout_session_retrieve(session_id)
            except gateway.PaymentProviderError:
                logger.warning("signup_expire_stripe_unreachable", extra={"signup": str(signup.public_id)})
                continue
            if session.get("status") == "complete":
                signup_checkout_confirm(session_id=session_id)
                continue
        with transaction.atomic():
            locked = SignUp.objects.select_for_update().get(pk=signup.pk)
            if locked.status == SignUpStatus.PENDING:
                _expire(locked)
                expired.append(locked.slug)
    return expired


# --- The workspace -------------------------------------------------------------------------------


def signup_provision(*, signup_id: int) -> str:
    """Create the paid sign-up's workspace, once. Safe to run twice at once: the sign-up's row lock
    serializes the runs, and the second finds the work done."""
    with transaction.atomic():
        signup = SignUp.objects.select_for_update().get(pk=signup_id)
        if signup.status != SignUpStatus.PAID:
            return f"skipped: {signup.status}"
        if signup.provisioning_started_at is None:
            signup.provisioning_started_at = timezone.now()
            signup.save(update_fields=["provisioning_started_at"])
    # Committed: the waiting page now says the workspace is being created.
    with transaction.atomic():
        signup = SignUp.objects.select_for_update().select_related("plan").get(pk=signup_id)
        if signup.status != SignUpStatus.PAID:
            return f"skipped: {signup.status}"
        try:
            with transaction.atomic():
                cooperative = _workspace_create(signup)
        except BusinessRuleViolation as exc:
            if exc.code not in FINAL_PROVISIONING_CODES:
                raise  # the template is missing or outdated: operations fix it, the task retries
            signup.status = SignUpStatus.FAILED
            signup.failure = f"[{exc.code}] {exc.message} {exc.fields}"[:2000]
            signup.save(update_fields=["status", "failure"])
            audit_record(actor=None, action="signup.fail", target=signup, changes={"code": str(exc.code)})
            logger.error(
                "signup_provisioning_failed", extra={"signup": str(signup.public_id), "code": exc.code}
            )
            return f"failed: {exc.code}"
        signup.status = SignUpStatus.PROVISIONED
        signup.cooperative = cooperative
        signup.provisioned_at = timezone.now()
        signup.admin_password_hash = ""
        signup.save()
        audit_record(
            actor=None,
            action="signup.provisioned",
            target=cooperative,
            changes={"signup": str(signup.public_id), "plan": signup.plan.code},
        )
        _after_commit_sync(cooperative)
    if not connection.in_atomic_block:
        # As cooperative_provision does after a clone made in its own transaction.
        catalog_statistics_refresh()
        connection.close()
    return f"provisioned: {signup.slug}"


def _workspace_create(signup: SignUp) -> Cooperative:
    username = admin_username(signup.admin_email)
    cooperative = cooperative_provision(
        spec=CooperativeSpec(
            name=signup.name,
            slug=signup.slug,
            country=signup.country,
            currency=signup.currency,
            default_language=signup.default_language,
            registration_number=signup.registration_number,
        ),
        # The password chosen at sign-up was kept only as its hash; the admin gets that hash.
        admin=AdminSpec(
            username=username,
            password=None,
            password_hash=signup.admin_password_hash,
            email=signup.admin_email,
            first_name=signup.admin_name,
        ),
        lifecycle=Lifecycle.TRIAL,
    )
    with tenant_context(cooperative):
        starter_products_seed(cooperative=cooperative)
    billing_account_open(
        cooperative=cooperative,
        plan=signup.plan,
        currency=signup.billing_currency,
        billing_email=signup.admin_email,
        stripe_customer_id=signup.stripe_customer_id or None,
        stripe_subscription_id=signup.stripe_subscription_id or None,
    )
    if signup.payment_status in PAID_STATUSES:
        cooperative_lifecycle_change(
            cooperative=cooperative,
            to=Lifecycle.ACTIVE,
            reason=f"sign-up paid (checkout {signup.stripe_checkout_session_id})",
            actor=None,
        )
    return cooperative


def _after_commit_sync(cooperative: Cooperative) -> None:
    """Events about the subscription that came before its account existed were skipped: read it now."""
    from billing.tasks import billing_account_sync

    account_id = cooperative.billing_account.pk
    transaction.on_commit(lambda: billing_account_sync.delay(account_id, "workspace provisioned"))


# --- The one-time log-in into the new workspace --------------------------------------------------

# How long after its workspace is ready a sign-up's browser may still be handed in without a password.
HANDOFF_WINDOW = dt.timedelta(hours=1)


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def handoff_token_issue(*, signup: SignUp) -> str | None:
    """A new one-time token for the sign-up's admin (older unused ones are revoked); None when too late."""
    now = timezone.now()
    if (
        signup.status != SignUpStatus.PROVISIONED
        or signup.cooperative_id is None
        or signup.provisioned_at is None
        or signup.provisioned_at < now - HANDOFF_WINDOW
    ):
        return None
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        HandoffToken.objects.filter(signup=signup, used_at__isnull=True).update(used_at=now)
        HandoffToken.objects.create(
            token_hash=_token_hash(raw),
            signup=signup,
            cooperative_id=signup.cooperative_id,
            username=admin_username(signup.admin_email),
            expires_at=now + dt.timedelta(seconds=settings.SIGNUP_HANDOFF_SECONDS),
        )
    return raw


def handoff_token_consume(*, raw_token: str, cooperative: Cooperative) -> Any | None:
    """The user a token logs in, in this cooperative's workspace; None if it is unknown, used, expired
    or another workspace's. A token is good once: presented anywhere, it is spent."""
    if not raw_token or len(raw_token) > 200:
        return None
    digest = _token_hash(raw_token)
    now = timezone.now()
    with transaction.atomic():
        spent = HandoffToken.objects.filter(
            token_hash=digest, used_at__isnull=True, expires_at__gt=now, cooperative_id=cooperative.pk
        ).update(used_at=now)
        if spent != 1:
            # Shown to the wrong workspace, it has leaked: spend it so that it works nowhere.
            HandoffToken.objects.filter(token_hash=digest, used_at__isnull=True).update(used_at=now)
            return None
        username = HandoffToken.objects.values_list("username", flat=True).get(token_hash=digest)
    with tenant_context(cooperative):
        return get_user_model().objects.filter(username=username, is_active=True).first()
