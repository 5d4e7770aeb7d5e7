"""The console's writes: operators and their devices, and what an operator does to a cooperative.

Lifecycle changes go through ``tenants.lifecycle.cooperative_lifecycle_change`` (the one write
path of ``Cooperative.lifecycle``, audited there with the reason); provisioning through
``tenants.services.cooperative_provision``; plans and charges through ``billing.services``;
backups and restores through ``control_plane.backups.services``; fleet migrations through
``tenants.fleet``. Each of those audits what it did; the operator's reason is audited here, in
the public schema's trail, against the cooperative it concerns (so it shows in the tenant's
history), in the same transaction as the change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context, tenant_context

from billing.models import BillingAccount, OneTimeCharge, Plan
from billing.services import one_time_charge_add, plan_change
from billing.stripe_gateway import PaymentProviderError
from control_plane.audit.services import audit_record
from control_plane.backups.models import Backup, Restore
from control_plane.backups.services import backup_old_schema_drop, backup_start, restore_start
from control_plane.console.auth import enrolment_tokens
from control_plane.console.export import export_stream
from control_plane.console.models import ConsoleOperator
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.money import MoneyFormatError, to_minor
from tenants.fleet import FleetMigrationBusy, fleet_migrate_request
from tenants.lifecycle import LifecycleTransition, cooperative_lifecycle_change
from tenants.models import Cooperative, FleetMigrationRun, Lifecycle
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision

# What "suspend" and "make read-only" apply to, what "reactivate" applies to, and the state it
# brings a cooperative back to.
SUSPENDABLE = frozenset({Lifecycle.TRIAL, Lifecycle.ACTIVE, Lifecycle.PAST_DUE, Lifecycle.READ_ONLY})
MAKEABLE_READ_ONLY = frozenset({Lifecycle.TRIAL, Lifecycle.ACTIVE, Lifecycle.PAST_DUE})
REACTIVATABLE = frozenset({Lifecycle.SUSPENDED, Lifecycle.READ_ONLY})
REACTIVATED_STATE = Lifecycle.ACTIVE
DEVICE_NAME = "console"


def _public() -> Any:
    return schema_context(settings.PUBLIC_SCHEMA_NAME)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "A reason is required.", fields={"reason": ["Required."]}
        )
    return reason


# --- Operators -----------------------------------------------------------------------------------


def console_operator_create(
    *, username: str, email: str = "", password: str | None = None, created_by: str = ""
) -> ConsoleOperator:
    """A vendor staff user in the public schema, with a console profile.

    ``password=None``: the password is unusable until set through the one-time enrolment link
    (``enrolment_link``). The second factor is enrolled at the first log-in either way.
    """
    username = username.strip()
    email = email.strip()
    user_model = get_user_model()
    with _public(), transaction.atomic():
        if not username or len(username) > 150:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR, "A user name is required.", fields={"username": ["Required."]}
            )
        if user_model.objects.filter(username__iexact=username).exists():
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                f"The user name {username!r} is taken.",
                fields={"username": ["Already in use."]},
            )
        user = user_model(username=username, email=email)
        if password is None:
            user.set_unusable_password()
        else:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise BusinessRuleViolation(
                    ErrorCode.VALIDATION_ERROR, " ".join(exc.messages), fields={"password": exc.messages}
                ) from exc
            user.set_password(password)
        user.save()
        operator = ConsoleOperator.objects.create(user=user, created_by=created_by[:150])
        audit_record(
            actor=None,
            action="console.operator_create",
            target=operator,
            changes={"username": username, "created_by": created_by, "password_set": password is not None},
        )
    return operator


def enrolment_link(operator: ConsoleOperator, *, base_url: str) -> str:
    """A one-time link that sets the operator's password; it stops working once a password is set."""
    user = operator.user
    # The console is routed on the bare domain only: reverse in its URLconf, whatever is current.
    path = reverse(
        "console:enrol",
        urlconf=settings.PUBLIC_SCHEMA_URLCONF,
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": enrolment_tokens.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


def console_base_url() -> str:
    """The bare domain, where the console lives (http in development, https behind the TLS proxy)."""
    scheme = "https" if settings.CONFIG.is_production else "http"
    port = settings.COOPCORE_PUBLIC_PORT
    return f"{scheme}://{settings.COOPCORE_DOMAIN_SUFFIX}{':' + port if port else ''}"


def operator_password_set(*, user: User, password: str) -> None:
    with _public(), transaction.atomic():
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR, " ".join(exc.messages), fields={"password": exc.messages}
            ) from exc
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(actor=user, action="console.password_set", target=user)


def operator_devices_reset(*, username: str, actor_label: str) -> int:
    """Remove an operator's second-factor devices (a lost phone): the next log-in enrols a new one."""
    with _public(), transaction.atomic():
        operator = ConsoleOperator.objects.select_related("user").filter(user__username=username).first()
        if operator is None:
            raise BusinessRuleViolation(
                ErrorCode.NOT_FOUND, f"No console operator {username!r}.", fields={"username": ["Unknown."]}
            )
        removed, _detail = TOTPDevice.objects.filter(user_id=operator.user_id).delete()
        audit_record(
            actor=None,
            action="console.devices_reset",
            target=operator,
            changes={"devices_removed": removed, "by": actor_label},
        )
    return int(removed)


# --- Second factor -------------------------------------------------------------------------------


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The device being enrolled: the same unconfirmed one on every visit, so the QR code stays put."""
    with _public(), transaction.atomic():
        device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by("id").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        return device


def totp_device_confirm(*, user: User, device_id: int, token: str) -> TOTPDevice | None:
    """Confirm the enrolling device with a code from the app; None when the code is wrong."""
    token = "".join(token.split())
    with _public(), transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device_id, user_id=user.pk, confirmed=False)
            .first()
        )
        if device is None or not device.verify_token(token):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(actor=user, action="console.device_enrolled", target=user, changes={"device": device.pk})
    return device


def totp_verify(*, user: User, token: str) -> TOTPDevice | None:
    """The confirmed device of ``user`` that accepts ``token`` (each code works once), else None."""
    token = "".join(token.split())
    with _public(), transaction.atomic():
        for device in (
            TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=True).order_by("id")
        ):
            if device.verify_token(token):
                return device
    return None


# --- What an operator does to a cooperative ------------------------------------------------------


def cooperative_suspend(*, cooperative: Cooperative, reason: str, actor: User) -> LifecycleTransition:
    """Lock the workspace: it answers with the suspended page and nobody logs in. Nothing is deleted."""
    if cooperative.lifecycle not in SUSPENDABLE:
        raise BusinessRuleViolation(
            ErrorCode.LIFECYCLE_TRANSITION_INVALID,
            f"A cooperative in state {cooperative.lifecycle} cannot be suspended here.",
            fields={"to": ["Not allowed from this state."]},
        )
    return cooperative_lifecycle_change(
        cooperative=cooperative, to=Lifecycle.SUSPENDED, reason=_reason(reason), actor=actor
    )


def cooperative_read_only_make(*, cooperative: Cooperative, reason: str, actor: User) -> LifecycleTransition:
    """Freeze the workspace: staff log in, read and export; nothing new is posted. Nothing is deleted.

    The operator's reason is recorded twice in one transaction: with the state change
    (``cooperative.lifecycle``, as for every transition) and as ``console.read_only``, so the
    trail tells an operator's freeze from the one billing makes when a grace period ends.
    """
    reason = _reason(reason)
    if cooperative.lifecycle not in MAKEABLE_READ_ONLY:
        raise BusinessRuleViolation(
            ErrorCode.LIFECYCLE_TRANSITION_INVALID,
            f"A cooperative in state {cooperative.lifecycle} cannot be made read-only here.",
            fields={"to": ["Not allowed from this state."]},
        )
    with _public(), transaction.atomic():
        change = cooperative_lifecycle_change(
            cooperative=cooperative, to=Lifecycle.READ_ONLY, reason=reason, actor=actor
        )
        audit_record(
            actor=actor,
            action="console.read_only",
            target=cooperative,
            changes={"reason": reason, "lifecycle": [change.before, change.after]},
        )
    return change


def cooperative_reactivate(*, cooperative: Cooperative, reason: str, actor: User) -> LifecycleTransition:
    """Bring a suspended or read-only cooperative back to active: its staff log in and post again."""
    if cooperative.lifecycle not in REACTIVATABLE:
        raise BusinessRuleViolation(
            ErrorCode.LIFECYCLE_TRANSITION_INVALID,
            "Only a suspended or read-only cooperative can be reactivated.",
            fields={"to": ["Not suspended or read-only."]},
        )
    return cooperative_lifecycle_change(
        cooperative=cooperative, to=REACTIVATED_STATE, reason=_reason(reason), actor=actor
    )


def cooperative_export(*, cooperative: Cooperative, reason: str, actor: User) -> Iterator[bytes]:
    """Audit the export (committed before a byte leaves), then return the zip's byte stream."""
    reason = _reason(reason)
    with _public(), transaction.atomic():
        audit_record(
            actor=actor,
            action="console.export",
            target=cooperative,
            changes={"reason": reason, "schema": cooperative.schema_name},
        )
    return export_stream(
        schema_name=cooperative.schema_name,
        manifest={
            "cooperative": cooperative.slug,
            "name": cooperative.name,
            "exported_by": actor.get_username(),
            "reason": reason,
        },
    )


def cooperative_provision_by_operator(
    *, spec: CooperativeSpec, admin: AdminSpec, lifecycle: str, reason: str, actor: User
) -> Cooperative:
    """Provision (``tenants.services.cooperative_provision``, audited there), and record why."""
    reason = _reason(reason)
    if lifecycle not in {Lifecycle.TRIAL, Lifecycle.ACTIVE}:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "A new cooperative starts in trial or active.",
            fields={"lifecycle": ["Trial or active."]},
        )
    cooperative = cooperative_provision(spec=spec, admin=admin, actor=actor, lifecycle=lifecycle)
    with _public(), transaction.atomic():
        audit_record(
            actor=actor,
            action="console.provision",
            target=cooperative,
            changes={"reason": reason, "admin": admin.username, "starts_as": lifecycle},
        )
    return cooperative


# --- Billing: plan and one-time charges ----------------------------------------------------------


@contextlib.contextmanager
def _stripe_refusal() -> Iterator[None]:
    """Stripe refused or could not be reached: a refusal the operator reads (nothing was changed)."""
    try:
        yield
    except PaymentProviderError as exc:
        raise BusinessRuleViolation(
            ErrorCode.PAYMENT_PROVIDER_ERROR, f"Stripe did not accept the change; nothing was changed. {exc}"
        ) from exc


def cooperative_plan_change(
    *, cooperative: Cooperative, plan: Plan, reason: str, actor: User
) -> BillingAccount:
    """Move the cooperative to ``plan`` (``billing.services.plan_change``: Stripe prorates) and record why."""
    reason = _reason(reason)
    with _public(), transaction.atomic():
        before = BillingAccount.objects.select_related("plan").filter(cooperative=cooperative).first()
        with _stripe_refusal():
            account = plan_change(cooperative=cooperative, plan=plan, actor=actor)
        audit_record(
            actor=actor,
            action="console.plan_change",
            target=cooperative,
            changes={"reason": reason, "plan": [before.plan.code if before else None, plan.code]},
        )
    return account


def cooperative_charge_add(
    *, cooperative: Cooperative, amount: str, kind: str, description: str, reason: str, actor: User
) -> OneTimeCharge:
    """A one-time fee typed in major units of the account's currency, converted exactly to minor units.

    An amount with more decimals than the currency has (any for VND) is refused, never rounded.
    """
    reason = _reason(reason)
    with _public(), transaction.atomic():
        account = BillingAccount.objects.filter(cooperative=cooperative).first()
        if account is None:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                "This cooperative has no billing account: give it a plan first.",
                fields={"plan": ["No billing account."]},
            )
        try:
            amount_minor = to_minor(amount, account.currency)
        except MoneyFormatError as exc:
            raise BusinessRuleViolation(
                ErrorCode.AMOUNT_INVALID, str(exc), fields={"amount": [str(exc)]}
            ) from exc
        try:
            with _stripe_refusal():
                charge = one_time_charge_add(
                    cooperative=cooperative,
                    amount_minor=amount_minor,
                    description=description,
                    actor=actor,
                    kind=kind,
                )
        except BusinessRuleViolation as exc:
            if "amount_minor" in exc.fields:
                raise BusinessRuleViolation(
                    exc.code, exc.message, fields={"amount": ["A positive amount."]}
                ) from exc
            raise
        audit_record(
            actor=actor,
            action="console.one_time_charge",
            target=cooperative,
            changes={
                "reason": reason,
                "charge": str(charge.public_id),
                "amount_minor": amount_minor,
                "currency": charge.currency,
                "kind": kind,
            },
        )
    return charge


# --- Backups and restores ------------------------------------------------------------------------


def cooperative_backup_now(*, cooperative: Cooperative, reason: str, actor: User) -> Backup:
    """Queue an on-demand backup (it runs on a worker once this commits) and record why."""
    reason = _reason(reason)
    with _public(), transaction.atomic():
        backup = backup_start(cooperative=cooperative, actor=actor)
        audit_record(
            actor=actor,
            action="console.backup",
            target=cooperative,
            changes={"reason": reason, "backup": backup.pk},
        )
    return backup


def cooperative_restore(*, cooperative: Cooperative, backup: Backup, reason: str, actor: User) -> Restore:
    """Queue a restore of ``backup`` into ``cooperative`` (refused unless the backup is its own)."""
    reason = _reason(reason)
    with _public(), transaction.atomic():
        restore = restore_start(backup=backup, actor=actor, cooperative=cooperative)
        audit_record(
            actor=actor,
            action="console.restore",
            target=cooperative,
            changes={"reason": reason, "backup": backup.pk, "restore": restore.pk},
        )
    return restore


def cooperative_old_schema_drop(
    *, cooperative: Cooperative, schema_name: str, reason: str, actor: User
) -> Restore:
    """Drop the schema a restore set aside (``backup_old_schema_drop`` refuses anything else)."""
    reason = _reason(reason)
    with _public(), transaction.atomic():
        restore = backup_old_schema_drop(cooperative=cooperative, schema_name=schema_name, actor=actor)
        audit_record(
            actor=actor,
            action="console.old_schema_drop",
            target=cooperative,
            changes={"reason": reason, "schema": schema_name, "restore": restore.pk},
        )
    return restore


# --- Fleet migrations ----------------------------------------------------------------------------


def fleet_migrate_by_operator(*, reason: str, actor: User) -> FleetMigrationRun:
    """Queue a fleet migration run (``tenants.fleet``) and record why, against the run."""
    reason = _reason(reason)
    with _public(), transaction.atomic():
        try:
            run = fleet_migrate_request(actor=actor)
        except FleetMigrationBusy as exc:
            raise BusinessRuleViolation(
                ErrorCode.FLEET_MIGRATION_BUSY,
                "A fleet migration is already queued or running: wait until it ends.",
            ) from exc
        audit_record(actor=actor, action="console.fleet_migrate", target=run, changes={"reason": reason})
    return run


# --- Data import on a cooperative's behalf -------------------------------------------------------


def cooperative_import_upload(
    *, cooperative: Cooperative, files: list[Any], options: Any, reason: str, actor: User
) -> int:
    """Upload a cooperative's old records on its behalf and queue their dry run; the job's id."""
    from imports.services import import_dry_run_queue, import_job_create

    reason = _reason(reason)
    with tenant_context(cooperative), transaction.atomic():
        job = import_job_create(actor=None, files=files, options=options)
        audit_record(
            actor=None,
            action="import.uploaded_by_operations",
            target=job,
            changes={"operator": actor.get_username(), "reason": reason},
        )
        import_dry_run_queue(job)  # queued in this workspace once the upload commits
    with _public(), transaction.atomic():
        audit_record(
            actor=actor,
            action="console.import_upload",
            target=cooperative,
            changes={"reason": reason, "import": job.pk, "files": [file.name for file in files]},
        )
    return int(job.pk)


def cooperative_import_commit(
    *, cooperative: Cooperative, job_id: int, accept_warnings: bool, reason: str, actor: User
) -> None:
    """Import a checked job of the cooperative's (its warnings accepted in the operator's name)."""
    from imports.commit import import_commit_request

    reason = _reason(reason)
    with tenant_context(cooperative):
        import_commit_request(
            actor=None, job_id=job_id, accept_warnings=accept_warnings, operator=actor.get_username()
        )
    with _public(), transaction.atomic():
        audit_record(
            actor=actor,
            action="console.import_commit",
            target=cooperative,
            changes={"reason": reason, "import": job_id, "warnings_accepted": accept_warnings},
        )


def cooperative_import_rollback(*, cooperative: Cooperative, job_id: int, reason: str, actor: User) -> None:
    """Roll a committed import of the cooperative's back (refused once it is live or used)."""
    from imports.commit import import_rollback

    reason = _reason(reason)
    with tenant_context(cooperative):
        import_rollback(actor=None, job_id=job_id, reason=reason, operator=actor.get_username())
    with _public(), transaction.atomic():
        audit_record(
            actor=actor,
            action="console.import_rollback",
            target=cooperative,
            changes={"reason": reason, "import": job_id},
        )
