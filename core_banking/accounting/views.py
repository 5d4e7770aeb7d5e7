"""Staff pages of the office books: parse, call a selector or a service, render.

Reading needs ``POST_JOURNAL`` or ``VIEW_REPORTS``; posting, correcting and closing days need
``POST_JOURNAL``; closing months and years is done at the head office; the settings need
``MANAGE_ORGANISATION``; the chart of accounts is kept by head-office staff with ``POST_JOURNAL`` or
``MANAGE_ORGANISATION``. Anything outside the user's branches answers 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.numbers import get_currency_precision
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from control_plane.errors import BusinessRuleViolation
from core_banking.accounting import selectors, services
from core_banking.accounting.fiscal import FiscalYear
from core_banking.accounting.forms import (
    AccountForm,
    CorrectionForm,
    DayCloseForm,
    LedgerForm,
    PeriodCloseForm,
    RejectForm,
    SettingsForm,
    VoucherForm,
    YearEndForm,
    apply_violation,
    line_formset,
)
from core_banking.accounting.models import CorrectionRequest, CorrectionStatus, VoucherKind
from core_banking.ledger import services as ledger_services
from core_banking.ledger.models import Account, JournalEntry
from core_banking.money import from_minor
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability
from tenants.db import workspace_currency

PAGE_SIZE = 50


def _staff(request: HttpRequest) -> StaffProfile:
    profile: StaffProfile | None = getattr(request.user, "staff_profile", None)
    if profile is None:
        raise Http404  # not a staff user of this workspace: nothing here exists for them
    return profile


def _reader(request: HttpRequest) -> StaffProfile:
    profile = _staff(request)
    if not (profile.can(Capability.POST_JOURNAL) or profile.can(Capability.VIEW_REPORTS)):
        raise PermissionDenied
    return profile


def _poster(request: HttpRequest) -> StaffProfile:
    profile = _staff(request)
    if not profile.can(Capability.POST_JOURNAL):
        raise PermissionDenied
    return profile


def _visible_entry(profile: StaffProfile, entry_id: int) -> JournalEntry:
    entry = (
        selectors.entries_visible(visible_branch_ids=profile.visible_branch_ids()).filter(pk=entry_id).first()
    )
    if entry is None:
        raise Http404
    return entry


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _context(profile: StaffProfile, **extra: Any) -> dict[str, Any]:
    return {
        "can_post": profile.can(Capability.POST_JOURNAL) and not profile.read_only,
        "can_close_books": profile.can(Capability.POST_JOURNAL) and selectors.closes_whole_books(profile),
        "can_configure": profile.can(Capability.MANAGE_ORGANISATION),
        "kinds": VoucherKind.choices,
        "digits": get_currency_precision(workspace_currency()),
        **extra,
    }


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    profile = _reader(request)
    visible = profile.visible_branch_ids()
    branch = request.GET.get("branch", "")
    kind = request.GET.get("kind", "")
    vouchers = selectors.vouchers_visible(
        visible_branch_ids=visible,
        branch_id=int(branch) if branch.isdigit() else None,
        kind=kind if kind in VoucherKind.values else "",
        start=_date(request.GET.get("start")),
        end=_date(request.GET.get("end")),
    )
    page = Paginator(vouchers, PAGE_SIZE).get_page(request.GET.get("page"))
    pending = selectors.corrections_visible(visible_branch_ids=visible, status=CorrectionStatus.PENDING)
    context = _context(
        profile,
        page=page,
        branches=selectors.branches_visible(visible),
        filters={name: request.GET.get(name, "") for name in ("branch", "kind", "start", "end")},
        pending=pending.count(),
        fiscal_year=selectors.fiscal_year_for(selectors.business_date()),
        closed_through=selectors.closed_through(),
    )
    return render(request, "accounting/index.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def voucher_create(request: HttpRequest, kind: str) -> HttpResponse:
    profile = _poster(request)
    if kind not in VoucherKind.values:
        raise Http404
    data = request.POST if request.method == "POST" else None
    form = VoucherForm(
        data,
        kind=kind,
        visible_branch_ids=profile.visible_branch_ids(),
        initial={"branch": profile.home_branch_id, "value_date": selectors.business_date()},
    )
    lines = line_formset(data, kind=kind)
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        try:
            result = services.voucher_post(
                actor=request.user,
                branch=form.cleaned_data["branch"],
                kind=kind,
                value_date=form.cleaned_data["value_date"],
                narration=form.cleaned_data["narration"],
                lines=lines.lines(),
                idempotency_key=form.cleaned_data["idempotency_key"],
                cash_account=form.cleaned_data.get("cash_account") or "",
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, lines, violation)
        else:
            messages.success(request, _("Voucher %(number)s posted.") % {"number": result.voucher.number})
            return HttpResponseRedirect(reverse("accounting:entry", args=[result.voucher.entry_id]))
    context = _context(profile, form=form, lines=lines, kind=kind, kind_label=VoucherKind(kind).label)
    return render(request, "accounting/voucher_form.html", context)


@login_required
@require_GET
def entry_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    profile = _reader(request)
    view = selectors.entry_view(_visible_entry(profile, entry_id))
    context = _context(profile, view=view, entry=view.entry, reject_form=RejectForm())
    return render(request, "accounting/entry_detail.html", context)


def _initial_lines(view: selectors.EntryView) -> list[dict[str, Any]]:
    currency = workspace_currency()
    return [
        {
            "account": line.account_code,
            "debit": from_minor(line.debit_minor, currency) if line.debit_minor else "",
            "credit": from_minor(line.credit_minor, currency) if line.credit_minor else "",
        }
        for line in view.lines
    ]


@login_required
@require_http_methods(["GET", "POST"])
def correction_create(request: HttpRequest, entry_id: int) -> HttpResponse:
    profile = _poster(request)
    view = selectors.entry_view(_visible_entry(profile, entry_id))
    data = request.POST if request.method == "POST" else None
    form = CorrectionForm(
        data,
        initial={
            "value_date": selectors.business_date(),
            "narration": view.voucher.narration if view.voucher else "",
        },
    )
    lines = line_formset(data, kind=VoucherKind.JOURNAL, initial=_initial_lines(view))
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        try:
            correction = services.correction_submit(
                actor=request.user,
                original=view.entry,
                reason=form.cleaned_data["reason"],
                value_date=form.cleaned_data["value_date"],
                corrected_lines=lines.lines(),
                idempotency_key=form.cleaned_data["idempotency_key"],
                narration=form.cleaned_data["narration"],
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, lines, violation)
        else:
            if correction.status == CorrectionStatus.PENDING:
                messages.success(
                    request, _("Correction submitted: it posts once another person approves it.")
                )
            else:
                messages.success(request, _("Correction posted: the entry is reversed and re-posted."))
            return HttpResponseRedirect(reverse("accounting:entry", args=[view.entry.pk]))
    context = _context(profile, form=form, lines=lines, view=view, entry=view.entry, kind=VoucherKind.JOURNAL)
    return render(request, "accounting/correction_form.html", context)


@login_required
@require_GET
def correction_list(request: HttpRequest) -> HttpResponse:
    profile = _reader(request)
    status = request.GET.get("status", CorrectionStatus.PENDING)
    if status not in CorrectionStatus.values:
        status = ""
    corrections = selectors.corrections_visible(
        visible_branch_ids=profile.visible_branch_ids(), status=status
    )
    page = Paginator(corrections, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _context(
        profile, page=page, status=status, statuses=CorrectionStatus.choices, reject_form=RejectForm()
    )
    return render(request, "accounting/corrections.html", context)


def _visible_correction(profile: StaffProfile, correction_id: int) -> CorrectionRequest:
    found = (
        selectors.corrections_visible(visible_branch_ids=profile.visible_branch_ids())
        .filter(pk=correction_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    return HttpResponseRedirect(target if target.startswith("/accounting/") else fallback)


@login_required
@require_POST
def correction_approve(request: HttpRequest, correction_id: int) -> HttpResponse:
    profile = _poster(request)
    found = _visible_correction(profile, correction_id)
    try:
        services.correction_approve(actor=request.user, request_id=found.pk)
    except BusinessRuleViolation as violation:
        messages.error(request, violation.message)
    else:
        messages.success(request, _("Correction approved and posted."))
    return _back(request, reverse("accounting:entry", args=[found.original_id]))


@login_required
@require_POST
def correction_reject(request: HttpRequest, correction_id: int) -> HttpResponse:
    profile = _poster(request)
    found = _visible_correction(profile, correction_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why it is rejected."))
    else:
        try:
            services.correction_reject(
                actor=request.user, request_id=found.pk, reason=form.cleaned_data["reason"]
            )
        except BusinessRuleViolation as violation:
            messages.error(request, violation.message)
        else:
            messages.success(request, _("Correction rejected; nothing was posted."))
    return _back(request, reverse("accounting:entry", args=[found.original_id]))


@login_required
@require_GET
def general_ledger(request: HttpRequest) -> HttpResponse:
    """One account's lines with links to each entry and its correction form."""
    from core_banking.reporting.selectors import general_ledger as ledger_of

    profile = _reader(request)
    today = selectors.business_date()
    form = LedgerForm(request.GET or None, initial={"start": today.replace(day=1), "end": today})
    ledger = None
    if request.GET and form.is_valid():
        try:
            ledger = ledger_of(
                account_code=form.cleaned_data["account"],
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                branch_ids=profile.visible_branch_ids(),
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, None, violation)
    return render(request, "accounting/ledger.html", _context(profile, form=form, ledger=ledger))


def _fiscal_years(today: dt.date) -> list[tuple[int, str]]:
    start_month = selectors.accounting_settings().fiscal_year_start_month
    first = selectors.first_posting_date() or today
    current = selectors.fiscal_year_for(today).start_year
    oldest = selectors.fiscal_year_for(first).start_year
    years = [FiscalYear(year, start_month) for year in range(current - 1, oldest - 1, -1)]
    return [(year.start_year, year.label) for year in years] or [
        (current - 1, FiscalYear(current - 1, start_month).label)
    ]


@login_required
@require_GET
def closings(request: HttpRequest) -> HttpResponse:
    profile = _reader(request)
    return render(request, "accounting/closings.html", _closings_context(profile))


def _closings_context(profile: StaffProfile, **forms: Any) -> dict[str, Any]:
    visible = profile.visible_branch_ids()
    today = selectors.business_date()
    return _context(
        profile,
        day_form=forms.get("day_form")
        or DayCloseForm(visible_branch_ids=visible, initial={"branch": profile.home_branch_id, "day": today}),
        period_form=forms.get("period_form") or PeriodCloseForm(),
        year_form=forms.get("year_form") or YearEndForm(years=_fiscal_years(today)),
        day_closes=selectors.day_closes_visible(visible_branch_ids=visible)[:30],
        period_closes=selectors.period_closes()[:24],
        year_end_closings=selectors.year_end_closings(visible_branch_ids=visible)[:30],
        closed_through=selectors.closed_through(),
        fiscal_year=selectors.fiscal_year_for(today),
    )


@login_required
@require_POST
def day_close(request: HttpRequest) -> HttpResponse:
    profile = _poster(request)
    form = DayCloseForm(request.POST, visible_branch_ids=profile.visible_branch_ids())
    if form.is_valid():
        try:
            close = services.branch_day_close(
                actor=request.user, branch=form.cleaned_data["branch"], day=form.cleaned_data["day"]
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, None, violation)
        else:
            messages.success(
                request,
                _("%(branch)s: %(day)s closed.")
                % {"branch": close.branch.name, "day": close.day.isoformat()},
            )
            return HttpResponseRedirect(reverse("accounting:closings"))
    return render(request, "accounting/closings.html", _closings_context(profile, day_form=form), status=400)


def _books_closer(request: HttpRequest) -> StaffProfile:
    profile = _poster(request)
    if not selectors.closes_whole_books(profile):
        raise PermissionDenied
    return profile


@login_required
@require_POST
def period_close(request: HttpRequest) -> HttpResponse:
    profile = _books_closer(request)
    form = PeriodCloseForm(request.POST)
    if form.is_valid():
        try:
            close = services.period_close(actor=request.user, period_end=form.cleaned_data["period_end"])
        except BusinessRuleViolation as violation:
            apply_violation(form, None, violation)
        else:
            messages.success(request, _("The books are closed through %(day)s.") % {"day": close.period_end})
            return HttpResponseRedirect(reverse("accounting:closings"))
    return render(
        request, "accounting/closings.html", _closings_context(profile, period_form=form), status=400
    )


@login_required
@require_POST
def year_end_close(request: HttpRequest) -> HttpResponse:
    profile = _books_closer(request)
    form = YearEndForm(request.POST, years=_fiscal_years(selectors.business_date()))
    if form.is_valid():
        try:
            result = services.fiscal_year_close(
                actor=request.user, fiscal_year=form.cleaned_data["fiscal_year"]
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, None, violation)
        else:
            messages.success(
                request,
                _("Fiscal year %(year)s closed into retained surplus.") % {"year": result.fiscal_year.label},
            )
            return HttpResponseRedirect(reverse("accounting:closings"))
    return render(request, "accounting/closings.html", _closings_context(profile, year_form=form), status=400)


@login_required
@require_http_methods(["GET", "POST"])
def settings_edit(request: HttpRequest) -> HttpResponse:
    profile = _staff(request)
    if not profile.can(Capability.MANAGE_ORGANISATION):
        raise PermissionDenied
    current = selectors.accounting_settings()
    form = SettingsForm(
        request.POST or None,
        initial={
            "fiscal_year_start_month": current.fiscal_year_start_month,
            "corrections_need_approval": current.corrections_need_approval,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.accounting_settings_update(actor=request.user, **form.cleaned_data)
        except BusinessRuleViolation as violation:
            apply_violation(form, None, violation)
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("accounting:settings"))
    return render(request, "accounting/settings.html", _context(profile, form=form, settings=current))


def _chart_editor(request: HttpRequest) -> StaffProfile:
    profile = _staff(request)
    if not selectors.chart_editor(profile):
        raise PermissionDenied
    return profile


@login_required
@require_GET
def chart(request: HttpRequest) -> HttpResponse:
    """The chart of accounts by kind: codes, names, branches, active or not (no balances)."""
    profile = _reader(request)
    groups = selectors.chart_by_kind()
    context = _context(
        profile,
        groups=groups,
        can_edit_chart=selectors.chart_editor(profile),
        control_ids={
            account.pk
            for group in groups
            for account in group.accounts
            if ledger_services.is_control_account(account.code)
        },
    )
    return render(request, "accounting/chart.html", context)


def _fixed_fields(account: Account) -> tuple[str, ...]:
    if ledger_services.is_control_account(account.code):
        return ("code", "kind", "branch", "is_active")
    return ("code", "kind") if ledger_services.account_has_postings(account) else ()


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    profile = _chart_editor(request)
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = ledger_services.account_create(
                actor=request.user,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                branch=form.cleaned_data["branch"],
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, None, violation)
        else:
            messages.success(request, _("Account %(account)s added.") % {"account": account})
            return HttpResponseRedirect(reverse("accounting:chart"))
    return render(request, "accounting/account_form.html", _context(profile, form=form, account=None))


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    profile = _chart_editor(request)
    account = selectors.chart_of_accounts().filter(pk=account_id).first()
    if account is None:
        raise Http404
    fixed = _fixed_fields(account)
    form = AccountForm(request.POST or None, account=account, fixed=fixed)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = ledger_services.account_update(
                actor=request.user,
                account_id=account.pk,
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                is_active=data["is_active"],
                branch=data["branch"],
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, None, violation)
        else:
            messages.success(request, _("Account %(account)s saved.") % {"account": account})
            return HttpResponseRedirect(reverse("accounting:chart"))
    context = _context(
        profile,
        form=form,
        account=account,
        is_control=ledger_services.is_control_account(account.code),
        has_postings="code" in fixed and not ledger_services.is_control_account(account.code),
    )
    return render(request, "accounting/account_form.html", context)
