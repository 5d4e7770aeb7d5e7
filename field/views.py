"""Staff pages of field collection (mounted at /field/collections/): per collector and day, the
records of a day with the collector's cash and its handover, and the review queue with its actions.

What each user sees is decided by ``field.selectors`` (a field officer: their own records and
groups; other staff: their branches); a record or collector outside it is answered with 404, as if
it did not exist. The actions are decided by the services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from control_plane.errors import BusinessRuleViolation
from core_banking.cash import access as cash_access
from core_banking.cash import services as cash_services
from core_banking.cash.forms import new_key
from core_banking.members.forms import apply_violation
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability
from field import selectors, services
from field.forms import AdmissionApproveForm, HandoverForm, MarkReviewedForm, NoteForm, ResolveSuspenseForm
from field.models import FieldRecord, RecordKind, ReviewOutcome
from tenants.db import workspace_business_date, workspace_currency

DAYS_SHOWN = 7


def _staff(request: HttpRequest) -> StaffProfile:
    profile = cash_access.profile_of(request.user)
    if profile is None:
        raise Http404  # not a staff user of this workspace: nothing here exists for them
    return profile


def _date(raw: str | None, default: dt.date) -> dt.date:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as error:
        raise Http404 from error


@login_required
@require_GET
def collections_index(request: HttpRequest) -> HttpResponse:
    """Per collector and day over a week (ending on ``?date=``): collected, synced, pending review, cash."""
    profile = _staff(request)
    end = _date(request.GET.get("date"), workspace_business_date())
    start = end - dt.timedelta(days=DAYS_SHOWN - 1)
    context = {
        "rows": selectors.collector_days(profile, start=start, end=end),
        "start": start,
        "end": end,
        "previous": (start - dt.timedelta(days=1)).isoformat(),
        "to_review": selectors.review_queue(profile).count(),
        "suspense_minor": selectors.suspense_open_minor(profile),
        "officer_only": selectors.officer_only(profile),
    }
    return render(request, "field/staff/collections.html", context)


def _collector(collector_id: int) -> Any:
    collector = get_user_model().objects.filter(pk=collector_id).first()
    if collector is None:
        raise Http404
    return collector


@login_required
@require_http_methods(["GET", "POST"])
def collector_day(request: HttpRequest, collector_id: int, day: str) -> HttpResponse:
    """One collector's records of one day, their cash in the books, and handing it over to the vault."""
    profile = _staff(request)
    on = _date(day, workspace_business_date())
    collector = _collector(collector_id)
    records = selectors.records_of_day(profile, collector_id=collector.pk, day=on)
    own = profile.user_id == collector.pk
    # Cash is shown to the collector and to staff of the branches (not to another field officer).
    tills = (
        selectors.tills_of(profile, collector_id=collector.pk, day=on)
        if own or not selectors.officer_only(profile)
        else []
    )
    if not records and not tills and not own:
        raise Http404
    form = HandoverForm(
        request.POST if request.POST.get("action") == "handover" else None,
        initial={"idempotency_key": new_key()},
        currency=workspace_currency(),
        branches=[(till.holder.branch_id, till.holder.branch.name) for till in tills],
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "handover" and own and form.is_valid():
            till = next(t for t in tills if t.holder.branch_id == form.cleaned_data["branch"])
            try:
                handover = cash_services.cash_handover_send(
                    actor=request.user,
                    branch=till.holder.branch,
                    giver_user=request.user,
                    receiver_user=None,
                    amount_minor=form.cleaned_data["amount"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    value_date=on,
                    memo=_("Field collections of %(day)s") % {"day": on.isoformat()},
                )
            except BusinessRuleViolation as violation:
                apply_violation(form, violation)
            else:
                messages.success(
                    request,
                    _("Handover #%(number)s recorded; it is posted when the vault's keeper confirms it.")
                    % {"number": handover.pk},
                )
                return HttpResponseRedirect(request.path)
        elif action == "confirm":
            handover_id = request.POST.get("handover", "")
            mine = {h.pk for till in tills for h in till.handed_over}
            if not handover_id.isdigit() or int(handover_id) not in mine:
                raise Http404
            try:
                cash_services.cash_handover_confirm(actor=request.user, handover_id=int(handover_id))
            except BusinessRuleViolation as violation:
                messages.error(request, violation.message)
            else:
                messages.success(
                    request, _("Handover #%(number)s confirmed and posted.") % {"number": handover_id}
                )
            return HttpResponseRedirect(request.path)
        elif action != "handover":
            raise Http404
    superseded = selectors.superseded_attendance_ids(records)
    expected = sum(selectors.record_cash_minor(record) for record in records)
    context = {
        "collector": collector,
        "collector_name": collector.get_full_name() or collector.get_username(),
        "day": on,
        "records": [(record, record.pk in superseded) for record in records],
        "tills": tills,
        "expected_minor": expected,
        "form": form if own and tills else None,
        "own": own,
        # The vault's keepers confirm what the collector handed over (not the collector themselves).
        "confirmable": [
            till.holder.pk
            for till in tills
            if not own and cash_access.keeps_vault(profile, till.holder.branch_id)
        ],
    }
    return render(request, "field/staff/collector_day.html", context)


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    profile = _staff(request)
    context = {
        "records": list(selectors.review_queue(profile)[:500]),
        "suspense_minor": selectors.suspense_open_minor(profile),
    }
    return render(request, "field/staff/review_queue.html", context)


def _record(profile: StaffProfile, record_id: int) -> FieldRecord:
    record = selectors.record_for_staff(profile, record_id)
    if record is None:
        raise Http404
    return record


def _forms(request: HttpRequest, profile: StaffProfile, record: FieldRecord) -> dict[str, Any]:
    """The review forms that apply to this record, bound to the POST of the one submitted."""
    action = request.POST.get("action") if request.method == "POST" else None
    forms: dict[str, Any] = {}

    def bound(name: str) -> dict[str, Any]:
        # Each form has its own prefix: several on one page, each field's id stays unique.
        return {"data": request.POST if action == name else None, "prefix": name}

    open_review = record.status == "needs_review" and record.reviewed_at is None
    if not open_review or not selectors.may_review(profile, record) or record.collector_id == profile.user_id:
        return forms
    # The approvals first: what the record asks for; then moving suspense money or closing it.
    if record.kind == RecordKind.WITHDRAWAL_REQUEST:
        forms["approve_withdrawal"] = NoteForm(**bound("approve_withdrawal"))
    if record.kind == RecordKind.ADMISSION and profile.can(Capability.MANAGE_MEMBERS):
        forms["approve_admission"] = AdmissionApproveForm(
            **bound("approve_admission"),
            groups=selectors.groups_visible(profile).filter(is_active=True),
            initial={"group": record.group_id},
        )
    if record.suspense_minor > 0:
        loans, accounts = selectors.resolution_choices(record)
        forms["resolve"] = ResolveSuspenseForm(**bound("resolve"), loans=loans, accounts=accounts)
    else:
        forms["mark_reviewed"] = MarkReviewedForm(**bound("mark_reviewed"))
    return forms


def _act(request: HttpRequest, record: FieldRecord, action: str, form: Any) -> FieldRecord:
    data = form.cleaned_data
    if action == "resolve":
        return services.field_suspense_resolve(
            actor=request.user,
            record_id=record.pk,
            outcome=ReviewOutcome(data["outcome"]),
            loan_id=data.get("loan"),
            savings_account_id=data.get("savings_account"),
            note=data["note"],
        )
    if action == "approve_withdrawal":
        return services.field_withdrawal_approve(actor=request.user, record_id=record.pk, note=data["note"])
    if action == "approve_admission":
        return services.field_admission_approve(
            actor=request.user,
            record_id=record.pk,
            member_type=data["member_type"],
            group=data["group"],
            note=data["note"],
        )
    return services.field_record_mark_reviewed(actor=request.user, record_id=record.pk, note=data["note"])


@login_required
@require_http_methods(["GET", "POST"])
def record_detail(request: HttpRequest, record_id: int) -> HttpResponse:
    """One record as synced, what became of it, and the review actions that apply to it."""
    profile = _staff(request)
    record = _record(profile, record_id)
    forms = _forms(request, profile, record)
    if request.method == "POST":
        action = request.POST.get("action", "")
        form = forms.get(action)
        if form is None:
            messages.error(request, _("This action does not apply to this record (any more)."))
            return HttpResponseRedirect(request.path)
        if form.is_valid():
            try:
                _act(request, record, action, form)
            except BusinessRuleViolation as violation:
                apply_violation(form, violation)
            else:
                messages.success(request, _("Done: the record is reviewed."))
                return HttpResponseRedirect(request.path)
    payload = dict(record.payload)
    context = {
        "record": record,
        "payload": payload,
        "amount_minor": record.amount_minor,
        "forms": forms,
        "flags": record.flags,
    }
    return render(request, "field/staff/record.html", context)
