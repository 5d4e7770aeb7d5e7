"""Staff pages of lending: products, applications and approvals, loans, repayments and documents.

Thin: parse, call a selector or a service, render. Reading needs a staff profile in this workspace;
changing products, the approval ladder and the documents' wording (and previewing a wording) needs
``MANAGE_ORGANISATION``; filing and resubmitting applications ``APPRAISE_LOANS``; deciding
``APPROVE_LOANS``; paying out, taking and reversing repayments ``POST_TRANSACTIONS``. An
application, loan or member outside the user's branches is answered with 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.cash.services import cash_account_for_posting
from core_banking.lending import documents, page_selectors, selectors, services
from core_banking.lending import wording as wordings
from core_banking.lending.documents import DocumentKind, DocumentUnavailable
from core_banking.lending.forms import (
    ApplicationForm,
    ApprovalLevelFormSet,
    DecisionForm,
    DisburseForm,
    DocumentTemplateForm,
    GuarantorFormSet,
    LimitRuleForm,
    PayoffDateForm,
    ProductEditForm,
    ProductForm,
    RateForm,
    RepaymentForm,
    ResubmitForm,
    ReverseForm,
    SubTypeForm,
    WithdrawForm,
    apply_violation,
    product_form_initial,
)
from core_banking.lending.models import (
    ApplicationStatus,
    ApprovalLevel,
    Decision,
    Loan,
    LoanApplication,
    LoanLimitRule,
    LoanProduct,
    LoanRate,
    LoanStatus,
    LoanTransaction,
    LoanTransactionKind,
    RepaymentSource,
)
from core_banking.members import selectors as member_selectors
from core_banking.members.models import Member
from core_banking.members.normalise import fold_digits
from core_banking.organisation.models import Branch
from core_banking.savings.forms import AmountField
from core_banking.savings.models import AccountStatus, SavingsAccount
from core_banking.savings.views import (
    form_money,
    money_text,
    staff_allowed,
    staff_of,
    visible_member,
    workspace_cooperative,
)
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability
from frontend.formatting import babel_locale, to_native_digits

PAGE_SIZE = 50
MEMBER_PICK_LIMIT = 20


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _savings_of(member: Member) -> QuerySet[SavingsAccount]:
    return (
        SavingsAccount.objects.filter(member_id=member.pk, status=AccountStatus.ACTIVE)
        .select_related("product")
        .order_by("number")
    )


# --- Products ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRow:
    product: LoanProduct
    loans: int
    current_rate: LoanRate | None
    next_rate: LoanRate | None


def _rates_now(rates: list[LoanRate], today: dt.date) -> tuple[LoanRate | None, LoanRate | None]:
    current = None
    for rate in rates:
        if rate.effective_from > today:
            return current, rate
        current = rate
    return current, None


def _product(product_id: int) -> LoanProduct:
    product = selectors.products().filter(pk=product_id).first()
    if product is None:
        raise Http404
    return product


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    profile = staff_of(request)
    today = workspace_cooperative().business_date()
    products = LoanProduct.objects.annotate(loan_count=Count("loans")).prefetch_related("rates")
    rows = []
    for product in products.select_related("sub_type").order_by("code"):
        current, upcoming = _rates_now(sorted(product.rates.all(), key=lambda r: r.effective_from), today)
        rows.append(ProductRow(product, product.loan_count, current, upcoming))
    context = {
        "rows": rows,
        "can_manage": profile.can(Capability.MANAGE_ORGANISATION),
        "sub_types": selectors.sub_types().order_by("product_type", "code"),
        "sub_type_form": SubTypeForm(),
    }
    return render(request, "lending/product_list.html", context)


@login_required
@require_http_methods(["POST"])
def sub_type_create(request: HttpRequest) -> HttpResponse:
    """A cooperative adds its own sub-type (purpose) of a product type (L1)."""
    staff_allowed(request, Capability.MANAGE_ORGANISATION)
    form = SubTypeForm(request.POST)
    if form.is_valid():
        try:
            services.loan_sub_type_create(actor=request.user, **form.cleaned_data)
        except BusinessRuleViolation as violation:
            for field, problems in violation.fields.items():
                form.add_error(field if field in form.fields else None, problems[0])
        else:
            messages.success(request, _("Sub-type added."))
            return HttpResponseRedirect(reverse("lending:products") + "#sub-types")
    for field_errors in form.errors.values():
        messages.error(request, str(field_errors[0]))
    return HttpResponseRedirect(reverse("lending:products") + "#sub-types")


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    staff_allowed(request, Capability.MANAGE_ORGANISATION)
    cooperative = workspace_cooperative()
    initial = {
        "rate_effective_from": cooperative.business_date(),
        "is_active": True,
        "repay_every": 1,
        "days_in_year": "actual",
        "days_in_month": "actual",
        "rounding": "half_even",
        "amortization": "equal_installments",
        "interest_period": "same_as_repayment",
        "fee_collection": "deducted",
        "penalty_kind": "none",
        "prepayment_strategy": "advance",
    }
    form = ProductForm(request.POST or None, initial=initial, **form_money(request, cooperative))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            product = services.loan_product_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                product_type=data["product_type"],
                annual_rate=data["annual_rate"],
                rate_effective_from=data["rate_effective_from"],
                guarantor_member_types=form.member_types(),
                **form.service_settings(),
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("Loan product %(code)s created.") % {"code": product.code})
            return HttpResponseRedirect(reverse("lending:product", args=[product.pk]))
    return render(request, "lending/product_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    staff_allowed(request, Capability.MANAGE_ORGANISATION)
    product = _product(product_id)
    cooperative = workspace_cooperative()
    form = ProductEditForm(request.POST or None, product=product, **form_money(request, cooperative))
    if request.method == "POST" and form.is_valid():
        try:
            services.loan_product_update(
                actor=request.user,
                product_id=product.pk,
                guarantor_member_types=form.member_types(),
                **form.service_settings(),
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("Loan product %(code)s saved.") % {"code": product.code})
            return HttpResponseRedirect(reverse("lending:product", args=[product.pk]))
    context = {
        "form": form,
        "product": product,
        "loans": product.loans.filter(status=LoanStatus.ACTIVE).count(),
    }
    return render(request, "lending/product_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    """A product's settings, its rates and limit rules; who manages the organisation changes them."""
    profile = staff_of(request)
    product = _product(product_id)
    cooperative = workspace_cooperative()
    can_manage = profile.can(Capability.MANAGE_ORGANISATION)
    today = cooperative.business_date()
    action = request.POST.get("action", "")
    rate_form = RateForm(request.POST if action == "rate" else None, initial={"effective_from": today})
    limit_form = LimitRuleForm(
        request.POST if action == "limit" else None, **form_money(request, cooperative)
    )
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        done = _product_change(request, product, action, rate_form, limit_form)
        if done is not None:
            messages.success(request, done)
            return HttpResponseRedirect(reverse("lending:product", args=[product.pk]))
    rates = list(product.rates.order_by("effective_from"))
    current, _upcoming = _rates_now(rates, today)
    context = {
        "product": product,
        "settings": _product_settings(request, cooperative, product),
        "rates": rates,
        "current_rate": current,
        "today": today,
        "limit_rules": list(product.limit_rules.select_related("member_type").order_by("id")),
        "rate_form": rate_form,
        "limit_form": limit_form,
        "can_manage": can_manage,
        "loans": product.loans.count(),
        "member_types": list(product.guarantor_member_types.order_by("code")),
    }
    return render(request, "lending/product_detail.html", context)


def _product_settings(
    request: HttpRequest, cooperative: Any, product: LoanProduct
) -> list[tuple[Any, list[tuple[Any, str]]]]:
    """The product's settings as the reader reads them, in the product form's sections."""
    form = ProductEditForm(product=product, **form_money(request, cooperative))
    raw = product_form_initial(product)
    language = getattr(request, "LANGUAGE_CODE", "en")
    hidden = {"name", "is_active", "sub_type"}

    def digits(text: str) -> str:
        return to_native_digits(text, language) if cooperative.use_native_digits else text

    sections = []
    for title, fields in form.sections():
        lines = []
        for bound in fields:
            if bound.name in hidden:
                continue
            field: Any = bound.field
            value = raw.get(bound.name)
            if bound.name == "guarantor_member_types":
                names = [t.name for t in product.guarantor_member_types.order_by("code")]
                text = ", ".join(names) or _("Any member type")
            elif isinstance(field, forms.BooleanField):
                text = _("Yes") if value else _("No")
            elif isinstance(field, AmountField):
                text = "—" if value is None else money_text(request, cooperative, int(value))
            elif isinstance(field, forms.ChoiceField):
                offered: Any = field.choices
                choices = {str(key): label for key, label in offered}
                text = str(choices.get(str(value), value) or "—")
            elif isinstance(field, forms.DecimalField):
                text = digits(format_decimal(value or 0, format="#,##0.####", locale=babel_locale(language)))
            else:
                text = "—" if value is None else digits(str(value))
            lines.append((bound.label, text))
        if lines:
            sections.append((title, lines))
    return sections


def _product_change(
    request: HttpRequest, product: LoanProduct, action: str, rate_form: RateForm, limit_form: LimitRuleForm
) -> str | None:
    """Apply one change from the product page; the success message, or None when refused."""
    try:
        if action == "rate" and rate_form.is_valid():
            services.loan_rate_schedule(
                actor=request.user,
                product=product,
                effective_from=rate_form.cleaned_data["effective_from"],
                annual_rate=rate_form.cleaned_data["annual_rate"],
            )
            return _("Rate saved.")
        if action == "limit" and limit_form.is_valid():
            data = limit_form.cleaned_data
            services.loan_limit_rule_add(
                actor=request.user,
                product=product,
                basis=data["basis"],
                factor=data.get("factor") or Decimal(0),
                amount_minor=data.get("amount") or 0,
                member_type=data.get("member_type"),
                minimum_membership_months=data.get("minimum_membership_months") or 0,
            )
            return _("Limit rule added.")
        if action == "remove":
            rule_id = request.POST.get("rule", "")
            if (
                not rule_id.isdigit()
                or not LoanLimitRule.objects.filter(pk=int(rule_id), product=product).exists()
            ):
                raise Http404
            services.loan_limit_rule_remove(actor=request.user, rule_id=int(rule_id))
            return _("Limit rule removed.")
    except BusinessRuleViolation as violation:
        apply_violation(rate_form if action == "rate" else limit_form, violation)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def approval_levels(request: HttpRequest) -> HttpResponse:
    """The approval ladder: which authority level decides loans above which amount."""
    profile = staff_of(request)
    can_manage = profile.can(Capability.MANAGE_ORGANISATION)
    cooperative = workspace_cooperative()
    current = list(ApprovalLevel.objects.order_by("level"))
    initial = [{"level": level.level, "required_above": level.required_above_minor} for level in current]
    formset = ApprovalLevelFormSet(
        request.POST or None, initial=initial, form_kwargs=form_money(request, cooperative), prefix="levels"
    )
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if formset.is_valid():
            levels = [
                (form.cleaned_data["level"], form.cleaned_data["required_above"])
                for form in formset.forms
                if form.cleaned_data.get("level") is not None
            ]
            try:
                services.approval_levels_set(actor=request.user, levels=levels)
            except BusinessRuleViolation as violation:
                formset.forms[0].add_error(None, violation.fields.get("levels", [violation.message])[0])
            else:
                messages.success(request, _("Approval levels saved."))
                return HttpResponseRedirect(reverse("lending:approval_levels"))
    return render(
        request,
        "lending/approval_levels.html",
        {"formset": formset, "levels": current, "can_manage": can_manage},
    )


# --- Applications -------------------------------------------------------------------------------------


@login_required
@require_GET
def application_list(request: HttpRequest) -> HttpResponse:
    profile = staff_of(request)
    status = request.GET.get("status", "")
    query = request.GET.get("q", "").strip()
    found = selectors.applications_visible(visible_branch_ids=profile.visible_branch_ids())
    if status in ApplicationStatus.values:
        found = found.filter(status=status)
    if query:
        folded = fold_digits(query).strip().upper()
        members = member_selectors.member_search(
            query, visible_branch_ids=profile.visible_branch_ids(), limit=PAGE_SIZE
        )
        found = found.filter(Q(number__startswith=folded) | Q(member_id__in=[m.pk for m in members]))
    page = Paginator(found.order_by("-applied_on", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    applications = list(page)
    context = {
        "applications": applications,
        "levels": page_selectors.next_levels(applications),
        "page": page,
        "status": status,
        "query": query,
        "statuses": ApplicationStatus.choices,
        "filtered": bool(status or query),
        "can_apply": profile.can(Capability.APPRAISE_LOANS),
    }
    if _is_htmx(request):
        return render(request, "lending/_application_results.html", context)
    return render(request, "lending/application_list.html", context)


@login_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    """The approver's queue: what waits for a decision at their level (or a lower one)."""
    profile = staff_allowed(request, Capability.APPROVE_LOANS)
    queue = page_selectors.approval_queue(profile, int(request.user.pk or 0))
    return render(request, "lending/approvals.html", {"queue": queue, "authority": profile.approver_level})


def _guarantor_inputs(profile: StaffProfile, formset: Any) -> list[services.GuarantorInput] | None:
    """The guarantors typed, by member number; None (with errors on the rows) when one is unknown."""
    found: list[services.GuarantorInput] = []
    ok = True
    for form in formset.forms:
        number = form.cleaned_data.get("member_number") if hasattr(form, "cleaned_data") else ""
        if not number:
            continue
        member = (
            member_selectors.members_visible(visible_branch_ids=profile.visible_branch_ids())
            .filter(number=number)
            .first()
        )
        if member is None:
            form.add_error("member_number", _("No member with this number in your branches."))
            ok = False
            continue
        found.append(
            services.GuarantorInput(
                member.pk, form.cleaned_data.get("monthly_salary"), form.cleaned_data.get("liability")
            )
        )
    return found if ok else None


def _application_forms(request: HttpRequest, member: Member, data: Any = None) -> tuple[ApplicationForm, Any]:
    cooperative = workspace_cooperative()
    money = form_money(request, cooperative)
    form = ApplicationForm(
        data,
        savings=_savings_of(member),
        loans=page_selectors.member_loans_for_refinance(member),
        **money,
    )
    guarantors = GuarantorFormSet(data, form_kwargs=money, prefix="guarantors")
    return form, guarantors


def _member_pick(request: HttpRequest, profile: StaffProfile) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    members = (
        member_selectors.member_search(
            query, visible_branch_ids=profile.visible_branch_ids(), limit=MEMBER_PICK_LIMIT
        )
        if query
        else []
    )
    context = {"members": members, "query": query}
    if _is_htmx(request):
        return render(request, "lending/_member_pick_results.html", context)
    return render(request, "lending/member_pick.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest) -> HttpResponse:
    """A new application: pick the member, then the loan; check eligibility before filing."""
    profile = staff_allowed(request, Capability.APPRAISE_LOANS)
    member_id = request.GET.get("member", "")
    if not member_id.isdigit():
        return _member_pick(request, profile)
    member = visible_member(profile, int(member_id))
    form, guarantors = _application_forms(request, member, request.POST or None)
    eligibility: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid() and guarantors.is_valid():
        offered = _guarantor_inputs(profile, guarantors)
        if offered is not None:
            try:
                applied = services.loan_application_submit(
                    actor=request.user,
                    member_id=member.pk,
                    applied_on=workspace_cooperative().business_date(),
                    guarantors=offered,
                    **form.service_kwargs(),
                )
            except BusinessRuleViolation as violation:
                if violation.code == ErrorCode.LOAN_NOT_ELIGIBLE:
                    eligibility = violation.extra.get("eligibility")
                    form.add_error(
                        None, _("The member is not eligible for this loan: see every reason below.")
                    )
                else:
                    apply_violation(form, violation)
            else:
                messages.success(
                    request, _("Application %(number)s filed.") % {"number": applied.application.number}
                )
                return HttpResponseRedirect(reverse("lending:application", args=[applied.application.pk]))
    context = {"member": member, "form": form, "guarantors": guarantors, "eligibility": eligibility}
    return render(request, "lending/application_form.html", context)


@login_required
@require_POST
def application_check(request: HttpRequest) -> HttpResponse:
    """htmx: every eligibility check with its arithmetic, existing contracts and the schedule preview."""
    profile = staff_allowed(request, Capability.APPRAISE_LOANS)
    member_id = request.GET.get("member", "")
    if not member_id.isdigit():
        raise Http404
    member = visible_member(profile, int(member_id))
    form, guarantors = _application_forms(request, member, request.POST)
    context: dict[str, Any] = {"member": member, "form": form, "guarantors": guarantors}
    if form.is_valid() and guarantors.is_valid():
        offered = _guarantor_inputs(profile, guarantors)
        if offered is not None:
            kwargs = form.service_kwargs()
            today = workspace_cooperative().business_date()
            result = selectors.eligibility_preview(
                member=member, applied_on=today, guarantors=offered, **kwargs
            )
            context["eligibility"] = result.as_json()
            context["projection"] = page_selectors.projection(
                product=form.cleaned_data["product"],
                amount_minor=kwargs["amount_minor"],
                installments=kwargs["installments"],
                on_date=today,
                member=member,
            )
    return render(request, "lending/_check.html", context)


def _decided_by(application: LoanApplication) -> list[selectors.DecisionView]:
    return selectors.decisions(application)


def _application_context(
    request: HttpRequest, profile: StaffProfile, application: LoanApplication, **extra: Any
) -> dict[str, Any]:
    today = workspace_cooperative().business_date()
    level = page_selectors.next_levels([application]).get(application.pk)
    waiting = application.status == ApplicationStatus.SUBMITTED
    can_decide = (
        waiting
        and profile.can(Capability.APPROVE_LOANS)
        and application.created_by_id != request.user.pk
        and level is not None
        and (profile.approver_level or 0) >= level
    )
    loan = Loan.objects.filter(application_id=application.pk).first()
    guarantors = page_selectors.guarantors_of(application)
    projection = None
    if application.status in (
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.APPROVED,
        ApplicationStatus.RETURNED,
    ):
        projection = page_selectors.application_projection(application, today)
    refinance = None
    if application.refinances_id is not None and application.status != ApplicationStatus.DISBURSED:
        refinance = page_selectors.refinance_figures(application, today)
    subjects: list[Any] = [application]
    return {
        "application": application,
        "member": application.member,
        "eligibility": application.eligibility_json or None,
        "guarantors": guarantors,
        "decisions": _decided_by(application),
        "next_level": level,
        "loan": loan,
        "projection": projection,
        "refinance": refinance,
        "today": today,
        "can_decide": can_decide,
        "own_application": application.created_by_id == request.user.pk,
        "can_resubmit": application.status == ApplicationStatus.RETURNED
        and profile.can(Capability.APPRAISE_LOANS),
        "can_withdraw": application.status
        in (ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED, ApplicationStatus.APPROVED)
        and profile.can(Capability.APPRAISE_LOANS),
        "can_disburse": application.status == ApplicationStatus.APPROVED
        and profile.can(Capability.POST_TRANSACTIONS),
        "decision_form": extra.pop("decision_form", None) or DecisionForm(),
        "withdraw_form": extra.pop("withdraw_form", None) or WithdrawForm(),
        "stored": documents.documents_for(*subjects),
        "languages": documents.language_choices(application.member),
        "documents_ready": application.status
        not in (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN),
        **extra,
    }


@login_required
@require_GET
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    profile = staff_of(request)
    application = page_selectors.application_for(profile, application_id)
    return render(
        request, "lending/application_detail.html", _application_context(request, profile, application)
    )


@login_required
@require_POST
def application_decide(request: HttpRequest, application_id: int) -> HttpResponse:
    profile = staff_allowed(request, Capability.APPROVE_LOANS)
    application = page_selectors.application_for(profile, application_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        decision = form.cleaned_data["decision"]
        try:
            services.loan_application_decide(
                actor=request.user,
                application_id=application.pk,
                decision=decision,
                reason=form.cleaned_data.get("reason") or "",
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            texts = {
                Decision.APPROVED: _("Application %(number)s approved at your level."),
                Decision.REJECTED: _("Application %(number)s rejected."),
                Decision.RETURNED: _("Application %(number)s returned to the officer."),
            }
            messages.success(request, texts[Decision(decision)] % {"number": application.number})
            return HttpResponseRedirect(reverse("lending:application", args=[application.pk]))
    application.refresh_from_db()
    context = _application_context(request, profile, application, decision_form=form)
    return render(request, "lending/application_detail.html", context, status=200)


@login_required
@require_http_methods(["GET", "POST"])
def application_resubmit(request: HttpRequest, application_id: int) -> HttpResponse:
    """A returned application, fixed as asked, goes back for approval from the first level."""
    profile = staff_allowed(request, Capability.APPRAISE_LOANS)
    application = page_selectors.application_for(profile, application_id)
    if application.status != ApplicationStatus.RETURNED:
        messages.error(request, _("Only a returned application is sent again."))
        return HttpResponseRedirect(reverse("lending:application", args=[application.pk]))
    cooperative = workspace_cooperative()
    money = form_money(request, cooperative)
    initial = {
        "amount": application.amount_minor,
        "installments": application.installments,
        "purpose": application.purpose,
        "monthly_salary": application.monthly_salary_minor,
        "collateral_value": application.collateral_value_minor,
        "collateral_description": application.collateral_description,
    }
    form = ResubmitForm(request.POST or None, initial=initial, **money)
    guarantor_initial = [
        {
            "member_number": g.member.number,
            "monthly_salary": g.monthly_salary_minor,
            "liability": g.liability_minor,
        }
        for g in page_selectors.guarantors_of(application)
    ]
    guarantors = GuarantorFormSet(
        request.POST or None, initial=guarantor_initial, form_kwargs=money, prefix="guarantors"
    )
    eligibility = None
    if request.method == "POST" and form.is_valid() and guarantors.is_valid():
        offered = _guarantor_inputs(profile, guarantors)
        if offered is not None:
            data = form.cleaned_data
            try:
                services.loan_application_resubmit(
                    actor=request.user,
                    application_id=application.pk,
                    amount_minor=data["amount"],
                    installments=data["installments"],
                    purpose=data.get("purpose") or "",
                    monthly_salary_minor=data.get("monthly_salary"),
                    collateral_value_minor=data.get("collateral_value") or 0,
                    collateral_description=data.get("collateral_description") or "",
                    guarantors=offered,
                )
            except BusinessRuleViolation as violation:
                if violation.code == ErrorCode.LOAN_NOT_ELIGIBLE:
                    eligibility = violation.extra.get("eligibility")
                    form.add_error(
                        None, _("The member is not eligible for this loan: see every reason below.")
                    )
                else:
                    apply_violation(form, violation)
            else:
                messages.success(
                    request,
                    _("Application %(number)s sent for approval again.") % {"number": application.number},
                )
                return HttpResponseRedirect(reverse("lending:application", args=[application.pk]))
    context = {"application": application, "form": form, "guarantors": guarantors, "eligibility": eligibility}
    return render(request, "lending/application_resubmit.html", context)


@login_required
@require_POST
def application_withdraw(request: HttpRequest, application_id: int) -> HttpResponse:
    profile = staff_allowed(request, Capability.APPRAISE_LOANS)
    application = page_selectors.application_for(profile, application_id)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.loan_application_withdraw(
                actor=request.user, application_id=application.pk, reason=form.cleaned_data["reason"]
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(request, _("Application %(number)s withdrawn.") % {"number": application.number})
            return HttpResponseRedirect(reverse("lending:application", args=[application.pk]))
    context = _application_context(request, profile, application, withdraw_form=form)
    return render(request, "lending/application_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def disburse(request: HttpRequest, application_id: int) -> HttpResponse:
    """Pay out an approved application, in cash or into the member's savings account."""
    profile = staff_allowed(request, Capability.POST_TRANSACTIONS)
    application = page_selectors.application_for(profile, application_id)
    cooperative = workspace_cooperative()
    today = cooperative.business_date()
    savings = _savings_of(application.member)
    form = DisburseForm(request.POST or None, savings=savings, **form_money(request, cooperative))
    if application.status != ApplicationStatus.APPROVED:
        messages.error(request, _("Only an approved application is paid out."))
        return HttpResponseRedirect(reverse("lending:application", args=[application.pk]))
    if request.method == "POST" and form.is_valid():
        try:
            loan = services.loan_disburse(
                actor=request.user,
                application_id=application.pk,
                disbursed_on=today,
                idempotency_key=form.cleaned_data["idempotency_key"],
                to_savings_account_id=form.to_savings_account_id(),
                first_due_date=form.cleaned_data.get("first_due_date"),
                cash_account=cash_account_for_posting(actor=request.user, branch=application.branch),
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(
                request,
                _("Loan %(number)s paid out: %(amount)s.")
                % {"number": loan.number, "amount": money_text(request, cooperative, loan.principal_minor)},
            )
            return HttpResponseRedirect(reverse("lending:loan", args=[loan.pk]))
    context = {
        "application": application,
        "form": form,
        "today": today,
        "projection": page_selectors.application_projection(application, today),
        "refinance": page_selectors.refinance_figures(application, today),
    }
    return render(request, "lending/disburse.html", context)


# --- Loans ----------------------------------------------------------------------------------------------


@login_required
@require_GET
def loan_list(request: HttpRequest) -> HttpResponse:
    profile = staff_of(request)
    status = request.GET.get("status", "active")
    branch = request.GET.get("branch", "")
    query = request.GET.get("q", "").strip()
    visible = profile.visible_branch_ids()
    found = selectors.loans_visible(visible_branch_ids=visible)
    if status in LoanStatus.values:
        found = found.filter(status=status)
    if branch.isdigit():
        found = found.filter(branch_id=int(branch))
    if query:
        folded = fold_digits(query).strip().upper()
        members = member_selectors.member_search(query, visible_branch_ids=visible, limit=PAGE_SIZE)
        found = found.filter(Q(number__startswith=folded) | Q(member_id__in=[m.pk for m in members]))
    page = Paginator(found.order_by("number"), PAGE_SIZE).get_page(request.GET.get("page"))
    branches = Branch.objects.order_by("code")
    if visible is not None:
        branches = branches.filter(pk__in=visible)
    context = {
        "loans": list(page),
        "page": page,
        "status": status,
        "statuses": LoanStatus.choices,
        "branch_id": int(branch) if branch.isdigit() else None,
        "branches": list(branches),
        "query": query,
        "filtered": bool(query or branch or status != "active"),
        "can_apply": profile.can(Capability.APPRAISE_LOANS),
    }
    if _is_htmx(request):
        return render(request, "lending/_loan_results.html", context)
    return render(request, "lending/loan_list.html", context)


@login_required
@require_GET
def loan_detail(request: HttpRequest, loan_id: int) -> HttpResponse:
    profile = staff_of(request)
    loan = page_selectors.loan_for(profile, loan_id)
    today = workspace_cooperative().business_date()
    rows = page_selectors.loan_schedule(loan, today)
    guarantors = page_selectors.guarantors_of(loan.application)
    context = {
        "loan": loan,
        "member": loan.member,
        "application": loan.application,
        "rows": rows,
        "totals": page_selectors.schedule_totals(rows),
        "chart": page_selectors.paid_chart(rows),
        "transactions": page_selectors.loan_transactions(loan),
        "guarantors": guarantors,
        "today": today,
        "is_active": loan.status == LoanStatus.ACTIVE,
        "can_post": profile.can(Capability.POST_TRANSACTIONS),
        "stored": documents.documents_for(loan, loan.application),
        "languages": documents.language_choices(loan.member),
        "repayments": [
            row.transaction
            for row in page_selectors.loan_transactions(loan)
            if row.transaction.kind == LoanTransactionKind.REPAYMENT
        ],
    }
    return render(request, "lending/loan_detail.html", context)


def _payoff(loan: Loan, on: dt.date) -> tuple[Any, str]:
    try:
        return services.loan_payoff_quote(loan_id=loan.pk, on_date=on), ""
    except BusinessRuleViolation as violation:
        if violation.code == ErrorCode.LOAN_NOT_ACTIVE:
            return None, _("This loan is not active: it takes no more payments.")
        return None, _("No payoff before the loan was paid out.")


@login_required
@require_GET
def payoff_quote(request: HttpRequest, loan_id: int) -> HttpResponse:
    """htmx: what settles the loan on the date asked (``on`` or ``value_date``)."""
    profile = staff_of(request)
    loan = page_selectors.loan_for(profile, loan_id)
    raw = request.GET.get("on") or request.GET.get("value_date") or ""
    form = PayoffDateForm({"on": raw})
    on = workspace_cooperative().business_date()
    if form.is_valid() and form.cleaned_data.get("on"):
        on = form.cleaned_data["on"]
    quote, refusal = _payoff(loan, on)
    return render(
        request, "lending/_payoff.html", {"loan": loan, "quote": quote, "refusal": refusal, "on": on}
    )


@login_required
@require_http_methods(["GET", "POST"])
def repay(request: HttpRequest, loan_id: int) -> HttpResponse:
    """Take a payment in cash or from the member's savings; the payoff amount settles the loan."""
    profile = staff_allowed(request, Capability.POST_TRANSACTIONS)
    loan = page_selectors.loan_for(profile, loan_id)
    cooperative = workspace_cooperative()
    today = cooperative.business_date()
    savings = _savings_of(loan.member)
    form = RepaymentForm(
        request.POST or None,
        initial={"value_date": today, "source": RepaymentSource.CASH},
        savings=savings,
        **form_money(request, cooperative),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.loan_repay(
                actor=request.user,
                loan_id=loan.pk,
                amount_minor=data["amount"],
                value_date=data["value_date"],
                idempotency_key=data["idempotency_key"],
                source=data["source"],
                savings_account_id=data.get("savings_account")
                if data["source"] == RepaymentSource.SAVINGS
                else None,
                cash_account=cash_account_for_posting(actor=request.user, branch=loan.branch),
                memo=data.get("memo") or "",
            )
        except BusinessRuleViolation as violation:
            extra = {}
            if violation.code == ErrorCode.REPAYMENT_ABOVE_PAYOFF:
                extra["amount"] = _("At most %(amount)s settles the loan on this date.") % {
                    "amount": money_text(request, cooperative, int(violation.extra.get("payoff_minor", 0)))
                }
            apply_violation(form, violation, messages=extra)
        else:
            loan.refresh_from_db()
            text = _("Payment of %(amount)s recorded.") % {
                "amount": money_text(request, cooperative, payment.amount_minor)
            }
            if loan.status == LoanStatus.CLOSED:
                text = _("Payment of %(amount)s recorded: the loan is settled and closed.") % {
                    "amount": money_text(request, cooperative, payment.amount_minor)
                }
            messages.success(request, text)
            return HttpResponseRedirect(reverse("lending:loan", args=[loan.pk]))
    on = today
    if form.is_bound and form.is_valid():
        on = form.cleaned_data["value_date"]
    quote, refusal = _payoff(loan, on)
    rows = page_selectors.loan_schedule(loan, today)
    next_due = next((row for row in rows if row.outstanding_minor > 0), None)
    context = {
        "loan": loan,
        "form": form,
        "quote": quote,
        "refusal": refusal,
        "on": on,
        "next_due": next_due,
        "totals": page_selectors.schedule_totals(rows),
    }
    return render(request, "lending/repay.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def reverse_repayment(request: HttpRequest, loan_id: int, transaction_id: int) -> HttpResponse:
    """Undo a repayment with the reason: its entry is reversed and later repayments re-applied."""
    profile = staff_allowed(request, Capability.POST_TRANSACTIONS)
    loan = page_selectors.loan_for(profile, loan_id)
    payment = LoanTransaction.objects.filter(
        pk=transaction_id, loan_id=loan.pk, kind=LoanTransactionKind.REPAYMENT
    ).first()
    if payment is None:
        raise Http404
    cooperative = workspace_cooperative()
    form = ReverseForm(request.POST or None, **form_money(request, cooperative))
    if request.method == "POST" and form.is_valid():
        try:
            services.loan_repayment_reverse(
                actor=request.user,
                transaction_id=payment.pk,
                reason=form.cleaned_data["reason"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                value_date=cooperative.business_date(),
            )
        except BusinessRuleViolation as violation:
            apply_violation(form, violation)
        else:
            messages.success(
                request,
                _("Repayment of %(amount)s reversed.")
                % {"amount": money_text(request, cooperative, payment.amount_minor)},
            )
            return HttpResponseRedirect(reverse("lending:loan", args=[loan.pk]))
    later = LoanTransaction.objects.filter(
        loan_id=loan.pk, kind=LoanTransactionKind.REPAYMENT, reversed_by__isnull=True
    ).filter(Q(value_date__gt=payment.value_date) | Q(value_date=payment.value_date, id__gt=payment.pk))
    context = {
        "loan": loan,
        "payment": payment,
        "form": form,
        "later": list(later.order_by("value_date", "id")),
    }
    return render(request, "lending/reverse.html", context)


# --- Documents --------------------------------------------------------------------------------------------

_PDF = "application/pdf"


def _pdf_response(record: documents.StoredDocument, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=_PDF)
    response["Content-Disposition"] = f'inline; filename="{documents.download_name(record)}"'
    response["X-Document-Id"] = record.name
    return response


def _date_param(request: HttpRequest, name: str) -> dt.date:
    raw = request.GET.get(name, "")
    if not raw:
        return workspace_cooperative().business_date()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as error:
        raise Http404 from error


def _issue(
    request: HttpRequest,
    *,
    kind: DocumentKind,
    subject: documents.Subject,
    member: Member,
    params: dict[str, Any],
    label: str = "",
) -> HttpResponse:
    language = documents.document_language(member, request.GET.get("lang", ""))
    try:
        record, content = documents.document_issue(
            kind=kind, subject=subject, language=language, actor=request.user, params=params, label=label
        )
    except DocumentUnavailable as refusal:
        return render(request, "lending/document_refused.html", {"reason": str(refusal)}, status=409)
    return _pdf_response(record, content)


def _kind(value: str) -> DocumentKind:
    try:
        return DocumentKind(value)
    except ValueError as error:
        raise Http404 from error


def _id_param(request: HttpRequest, name: str) -> int:
    raw = request.GET.get(name, "")
    if not raw.isdigit():
        raise Http404
    return int(raw)


@login_required
@require_GET
def loan_document(request: HttpRequest, loan_id: int, kind: str) -> HttpResponse:
    """A loan's document as it reads now (stored when new): schedule, contract, guarantee, payoff, receipt."""
    profile = staff_of(request)
    loan = page_selectors.loan_for(profile, loan_id)
    document = _kind(kind)
    params: dict[str, Any] = {}
    label = ""
    if document == DocumentKind.GUARANTEE:
        guarantor = (
            loan.application.guarantors.select_related("member")
            .filter(pk=_id_param(request, "guarantor"))
            .first()
        )
        if guarantor is None:
            raise Http404
        params, label = {"guarantor": guarantor.pk}, guarantor.member.full_name
    elif document == DocumentKind.PAYOFF:
        on = _date_param(request, "on")
        params, label = {"on": on.isoformat()}, on.isoformat()
    elif document == DocumentKind.RECEIPT:
        transaction_id = _id_param(request, "transaction")
        params, label = {"transaction": transaction_id}, f"{loan.number}-R{transaction_id}"
    elif document == DocumentKind.INTEREST_CERTIFICATE:
        raise Http404
    return _issue(request, kind=document, subject=loan, member=loan.member, params=params, label=label)


@login_required
@require_GET
def application_document(request: HttpRequest, application_id: int, kind: str) -> HttpResponse:
    """An application's documents before pay-out: the projected schedule, contract, guarantees, payoff."""
    profile = staff_of(request)
    application = page_selectors.application_for(profile, application_id)
    document = _kind(kind)
    params: dict[str, Any] = {}
    label = ""
    if document == DocumentKind.GUARANTEE:
        guarantor = (
            application.guarantors.select_related("member").filter(pk=_id_param(request, "guarantor")).first()
        )
        if guarantor is None:
            raise Http404
        params, label = {"guarantor": guarantor.pk}, guarantor.member.full_name
    elif document == DocumentKind.PAYOFF:
        on = _date_param(request, "on")
        params, label = {"on": on.isoformat()}, on.isoformat()
    elif document not in (DocumentKind.SCHEDULE, DocumentKind.CONTRACT):
        raise Http404
    return _issue(
        request, kind=document, subject=application, member=application.member, params=params, label=label
    )


@login_required
@require_GET
def interest_certificate(request: HttpRequest, member_id: int, year: int) -> HttpResponse:
    """L9: the interest a member paid on all loans in a year, for tax deduction."""
    profile = staff_of(request)
    member = visible_member(profile, member_id)
    if not 1900 <= year <= 2200:
        raise Http404
    return _issue(
        request,
        kind=DocumentKind.INTEREST_CERTIFICATE,
        subject=member,
        member=member,
        params={"year": year},
        label=str(year),
    )


def _subject(profile: StaffProfile, key: str) -> documents.Subject:
    kind, _dash, number = key.partition("-")
    if not number.isdigit():
        raise Http404
    if kind == "loan":
        return page_selectors.loan_for(profile, int(number))
    if kind == "application":
        return page_selectors.application_for(profile, int(number))
    if kind == "member":
        return visible_member(profile, int(number))
    raise Http404


@login_required
@require_GET
def stored_document(request: HttpRequest, subject: str, name: str) -> HttpResponse:
    """A stored copy, byte for byte as issued (a reprint)."""
    profile = staff_of(request)
    found = _subject(profile, subject)
    try:
        record, content = documents.document_read(found, name)
    except LookupError as error:
        raise Http404 from error
    return _pdf_response(record, content)


@login_required
@require_GET
def member_documents(request: HttpRequest, member_id: int) -> HttpResponse:
    """A member's interest certificates issued so far, and the years that can be certified."""
    profile = staff_of(request)
    member = visible_member(profile, member_id)
    lending = page_selectors.member_lending(member)
    context = {
        "member": member,
        "years": lending.interest_years,
        "stored": documents.documents_for(member),
        "languages": documents.language_choices(member),
    }
    return render(request, "lending/member_documents.html", context)


# --- Document wording -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordingCell:
    language: str
    current: wordings.VersionView | None

    @property
    def custom(self) -> bool:
        return self.current is not None and not self.current.row.is_default


@dataclass(frozen=True)
class WordingRow:
    kind: DocumentKind
    title: str
    cells: list[WordingCell]


def _wording_key(kind: str, language: str) -> tuple[DocumentKind, str]:
    document = _kind(kind)
    if language not in wordings.languages():
        raise Http404
    return document, language


@login_required
@require_GET
def document_templates(request: HttpRequest) -> HttpResponse:
    """Each document's wording per language: the default, or the cooperative's own (which version)."""
    profile = staff_of(request)
    current = wordings.templates_overview()
    rows = [
        WordingRow(
            kind,
            str(documents.TITLES[kind]),
            [WordingCell(language, current.get((str(kind), language))) for language in wordings.languages()],
        )
        for kind in DocumentKind
    ]
    context = {"rows": rows, "can_manage": profile.can(Capability.MANAGE_ORGANISATION)}
    return render(request, "lending/document_templates.html", context)


def _wording_page(
    request: HttpRequest,
    profile: StaffProfile,
    kind: DocumentKind,
    language: str,
    form: DocumentTemplateForm,
    *,
    status: int = 200,
) -> HttpResponse:
    with translation.override(language):
        default = wordings.default_wording(str(kind), str(documents.TITLES[kind]))
    shown_default = {**DocumentTemplateForm.initial_for(default)}
    history = wordings.template_history(str(kind), language)
    context = {
        "kind": kind,
        "language": language,
        "document_title": documents.TITLES[kind],
        "form": form,
        "fields": [(form[name], shown_default.get(name, "")) for name in form.fields],
        "placeholders": [(name, wordings.PLACEHOLDER_HELP[name]) for name in wordings.PLACEHOLDERS[kind]],
        "filters": ", ".join(wordings.FILTERS),
        "history": history,
        "current": history[0] if history else None,
        "can_manage": profile.can(Capability.MANAGE_ORGANISATION),
    }
    return render(request, "lending/document_template_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def document_template_edit(request: HttpRequest, kind: str, language: str) -> HttpResponse:
    """One document's wording in one language: the current text, the placeholders, the history."""
    profile = staff_of(request)
    document, language = _wording_key(kind, language)
    if request.method == "POST":
        staff_allowed(request, Capability.MANAGE_ORGANISATION)
        form = DocumentTemplateForm(request.POST, kind=document)
        if form.is_valid():
            try:
                saved = services.document_template_save(
                    actor=request.user, kind=str(document), language=language, **form.wording().as_dict()
                )
            except BusinessRuleViolation as violation:
                apply_violation(form, violation)
            else:
                messages.success(
                    request,
                    _("Wording saved as version %(version)s: documents issued from now on use it.")
                    % {"version": saved.version},
                )
                return HttpResponseRedirect(reverse("lending:document_template", args=[document, language]))
        return _wording_page(request, profile, document, language, form)
    current = wordings.Wording.of(wordings.template_current(str(document), language))
    form = DocumentTemplateForm(initial=DocumentTemplateForm.initial_for(current), kind=document)
    return _wording_page(request, profile, document, language, form)


@login_required
@require_POST
def document_template_restore(request: HttpRequest, kind: str, language: str) -> HttpResponse:
    """Back to the default wording, as a new version that says so."""
    staff_allowed(request, Capability.MANAGE_ORGANISATION)
    document, language = _wording_key(kind, language)
    saved = services.document_template_restore_default(
        actor=request.user, kind=str(document), language=language
    )
    messages.success(
        request,
        _("The default wording is back, as version %(version)s.") % {"version": saved.version},
    )
    return HttpResponseRedirect(reverse("lending:document_template", args=[document, language]))


@login_required
@require_POST
def document_template_check(request: HttpRequest, kind: str, language: str) -> HttpResponse:
    """htmx: what would be refused in the wording as typed, field by field (nothing is saved)."""
    staff_allowed(request, Capability.MANAGE_ORGANISATION)
    document, language = _wording_key(kind, language)
    form = DocumentTemplateForm(request.POST, kind=document)
    problems: dict[str, list[str]] = {}
    if form.is_valid():
        problems = wordings.wording_problems(str(document), form.wording())
    labelled = [(wordings.FIELD_LABELS[name], texts) for name, texts in problems.items()]
    return render(request, "lending/_document_template_check.html", {"problems": labelled})


@login_required
@require_POST
def document_template_preview(request: HttpRequest, kind: str, language: str) -> HttpResponse:
    """The PDF with the wording as typed, for the newest loan the user can see (or a made-up one).

    Nothing is saved or stored; a wording that would be refused shows the page with its messages."""
    profile = staff_allowed(request, Capability.MANAGE_ORGANISATION)
    document, language = _wording_key(kind, language)
    form = DocumentTemplateForm(request.POST, kind=document)
    if form.is_valid():
        given = form.wording()
        problems = wordings.wording_problems(str(document), given)
        if not problems:
            content = documents.document_preview(
                kind=document,
                language=language,
                wording=given,
                visible_branch_ids=profile.visible_branch_ids(),
            )
            response = HttpResponse(content, content_type=_PDF)
            response["Content-Disposition"] = f'inline; filename="preview-{document}-{language}.pdf"'
            return response
        apply_violation(
            form,
            BusinessRuleViolation(ErrorCode.VALIDATION_ERROR, "The wording cannot be used.", fields=problems),
        )
    return _wording_page(request, profile, document, language, form, status=400)
