"""Lending staff pages: who may see and do what, branch walls, forms that call the services, exact amounts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest

from core_banking.lending.models import (
    ApplicationStatus,
    ApprovalLevel,
    Loan,
    LoanApplication,
    LoanLimitRule,
    LoanProduct,
    LoanRate,
    LoanStatus,
    LoanTransaction,
)
from core_banking.lending.services import loan_payoff_quote, loan_repay
from core_banking.members.models import Member, MemberStatus
from core_banking.savings.models import SavingsAccount, SavingsProduct
from core_banking.savings.services import savings_account_open, savings_deposit
from frontend.formatting import format_money
from tests.conftest import ALPHA, workspace_client
from tests.core_banking.lending.page_fixtures import (  # noqa: F401 - fixtures
    EMI,
    PRINCIPAL,
    Book,
    _media_in_tmp,
    book_fixture,
    br1_loan_fixture,
    voluntary_savings_fixture,
)
from tests.core_banking.savings.conftest import OPENED
from tests.core_banking.savings.page_helpers import client_for, form_key

pytestmark = pytest.mark.django_db

OFFICER, APPROVER1, APPROVER2, TELLER = "loan-officer", "approver-one", "approver-two", "teller"


def bdt(minor: int) -> str:
    return format_money(minor, "BDT", "en")


def _application_post(product: LoanProduct, **extra: Any) -> dict[str, Any]:
    data = {
        "product": product.pk,
        "amount": "120,000.00",
        "installments": "12",
        "purpose": "Rickshaw van",
        "guarantors-TOTAL_FORMS": "3",
        "guarantors-INITIAL_FORMS": "0",
        "guarantors-MIN_NUM_FORMS": "0",
        "guarantors-MAX_NUM_FORMS": "10",
    }
    data.update(extra)
    return data


# --- Who sees what ----------------------------------------------------------------------------------


def test_pages_render_for_the_right_roles_and_refuse_the_others(book: Book) -> None:
    loan, application = book.loan, book.application
    product_id = loan.product_id
    reading = [
        "/lending/loans/",
        f"/lending/loans/{loan.pk}/",
        f"/lending/loans/{loan.pk}/payoff/?on=2026-04-20",
        "/lending/applications/",
        f"/lending/applications/{application.pk}/",
        "/lending/products/",
        f"/lending/products/{product_id}/",
        "/lending/approval-levels/",
        f"/lending/members/{book.borrower.pk}/documents/",
    ]
    for user in (ALPHA.admin, "auditor", OFFICER, APPROVER1, TELLER):
        client = client_for(user)
        for url in reading:
            assert client.get(url).status_code == 200, (user, url)
    # Products and the approval ladder: the organisation's managers only.
    officer, auditor, teller, approver = (client_for(u) for u in (OFFICER, "auditor", TELLER, APPROVER1))
    admin = client_for(ALPHA.admin)
    for url in ("/lending/products/new/", f"/lending/products/{product_id}/edit/"):
        assert admin.get(url).status_code == 200, url
        assert officer.get(url).status_code == 403, url
    assert officer.post("/lending/approval-levels/", {}).status_code == 403
    assert officer.post(f"/lending/products/{product_id}/", {"action": "rate"}).status_code == 403
    # Applications: loan officers; approvals: approvers; money: who posts transactions.
    new = f"/lending/applications/new/?member={book.borrower.pk}"
    assert officer.get(new).status_code == 200
    assert teller.get(new).status_code == 403 and approver.get(new).status_code == 403
    assert approver.get("/lending/approvals/").status_code == 200
    assert officer.get("/lending/approvals/").status_code == 403
    assert teller.get(f"/lending/loans/{loan.pk}/repay/").status_code == 200
    assert officer.get(f"/lending/loans/{loan.pk}/repay/").status_code == 403
    assert approver.get(f"/lending/loans/{loan.pk}/repay/").status_code == 403
    assert (
        officer.post(f"/lending/applications/{application.pk}/decide/", {"decision": "approved"}).status_code
        == 403
    )
    # The auditor reads everything and changes nothing.
    assert auditor.get(f"/lending/loans/{loan.pk}/repay/").status_code == 403
    assert auditor.post(f"/lending/loans/{loan.pk}/repay/", {"amount": "10"}).status_code == 403
    # Unknown ids and signed-out visitors.
    assert admin.get("/lending/loans/999999/").status_code == 404
    assert admin.get("/lending/applications/999999/").status_code == 404
    assert workspace_client(ALPHA).get(f"/lending/loans/{loan.pk}/").status_code == 302
    assert LoanTransaction.objects.filter(loan=loan).count() == 1  # only the disbursement


def test_a_branch_limited_user_cannot_see_another_branchs_loan(book: Book, br1_loan: Loan) -> None:
    """alpha-only works at BR1 only; the head office's loan answers 404 wherever it is asked for."""
    br1 = client_for(ALPHA.only_here)
    assert br1.get(f"/lending/loans/{br1_loan.pk}/").status_code == 200
    hidden = [
        f"/lending/loans/{book.loan.pk}/",
        f"/lending/loans/{book.loan.pk}/payoff/",
        f"/lending/loans/{book.loan.pk}/repay/",
        f"/lending/loans/{book.loan.pk}/documents/schedule/",
        f"/lending/applications/{book.application.pk}/",
        f"/lending/applications/{book.application.pk}/documents/contract/",
        f"/lending/members/{book.borrower.pk}/documents/",
        f"/lending/documents/loan-{book.loan.pk}/schedule-20260101T000000-00000000.pdf",
    ]
    for url in hidden:
        assert br1.get(url).status_code == 404, url
    listing = br1.get("/lending/loans/").content.decode()
    assert br1_loan.number in listing and book.loan.number not in listing
    # And the other way round: the head office's loan officer does not see BR1.
    officer = client_for(OFFICER)
    assert officer.get(f"/lending/loans/{br1_loan.pk}/").status_code == 404
    assert officer.get(f"/lending/applications/new/?member={br1_loan.member_id}").status_code == 404
    applications = officer.get("/lending/applications/").content.decode()
    assert book.application.number in applications and br1_loan.application.number not in applications
    # A stored document of a loan the user cannot see stays out of reach too.
    schedule = client_for(ALPHA.admin).get(f"/lending/loans/{book.loan.pk}/documents/schedule/")
    name = schedule["X-Document-Id"]
    assert br1.get(f"/lending/documents/loan-{book.loan.pk}/{name}.pdf").status_code == 404
    assert client_for("auditor").get(f"/lending/documents/loan-{book.loan.pk}/{name}.pdf").status_code == 200


def test_lists_filter_by_status_branch_and_search(book: Book, br1_loan: Loan) -> None:
    admin = client_for(ALPHA.admin)
    everything = admin.get("/lending/loans/").content.decode()
    assert book.loan.number in everything and br1_loan.number in everything
    br1 = br1_loan.branch_id
    by_branch = admin.get("/lending/loans/", {"branch": br1}, HTTP_HX_REQUEST="true").content.decode()
    assert br1_loan.number in by_branch and book.loan.number not in by_branch and "<html" not in by_branch
    by_member = admin.get("/lending/loans/", {"q": book.borrower.number}).content.decode()
    assert book.loan.number in by_member and br1_loan.number not in by_member
    closed = admin.get("/lending/loans/", {"status": "closed"}).content.decode()
    assert book.loan.number not in closed and "No loan matches" in closed
    assert bdt(PRINCIPAL) in everything  # the principal outstanding, as the reader writes it
    disbursed = admin.get("/lending/applications/", {"status": "disbursed"}).content.decode()
    assert book.application.number in disbursed
    waiting = admin.get("/lending/applications/", {"status": "submitted"}).content.decode()
    assert book.application.number not in waiting and "No application matches" in waiting


# --- Products ----------------------------------------------------------------------------------------


def _product_post(**extra: Any) -> dict[str, Any]:
    data = {
        "code": "EMG",
        "name": "Emergency loan",
        "product_type": "emergency",
        "is_active": "on",
        "annual_rate": "10",
        "rate_effective_from": "2026-01-01",
        "minimum_amount": "1,000",
        "maximum_amount": "50,000",
        "default_installments": "6",
        "maximum_installments": "12",
        "frequency": "monthly",
        "repay_every": "1",
        "interest_method": "flat",
        "amortization": "equal_installments",
        "interest_period": "same_as_repayment",
        "days_in_year": "365",
        "days_in_month": "actual",
        "rounding": "half_up",
        "installment_multiple": "1",
        "grace_principal": "0",
        "grace_interest_payment": "0",
        "interest_free_periods": "0",
        "minimum_days_to_first_meeting": "0",
        "fee_kind": "flat",
        "fee_flat": "100",
        "fee_collection": "deducted",
        "penalty_kind": "percent",
        "penalty_percent": "2",
        "penalty_grace_days": "5",
        "allocation_1": "penalty",
        "allocation_2": "interest",
        "allocation_3": "fee",
        "allocation_4": "principal",
        "prepayment_strategy": "reduce_term",
        "minimum_guarantors": "0",
    }
    data.update(extra)
    return data


def test_a_product_is_created_edited_and_given_rates_and_limits_through_the_pages(in_alpha: Any) -> None:
    admin = client_for(ALPHA.admin)
    # Settings that do not fit together are refused with the reason on the field.
    refused = admin.post("/lending/products/new/", _product_post(default_installments="24"))
    assert refused.status_code == 200
    assert "maximum_installments" in refused.context["form"].errors
    twice = admin.post("/lending/products/new/", _product_post(allocation_2="penalty"))
    assert "Each part once" in twice.content.decode()
    assert not LoanProduct.objects.exists()

    created = admin.post("/lending/products/new/", _product_post())
    product = LoanProduct.objects.get(code="EMG")
    assert created.status_code == 302 and created["Location"] == f"/lending/products/{product.pk}/"
    assert (product.minimum_amount_minor, product.maximum_amount_minor) == (1_000_00, 50_000_00)
    assert (product.fee_kind, product.fee_flat_minor, product.installment_multiple_minor) == (
        "flat",
        100_00,
        100,
    )
    assert (product.penalty_percent, product.penalty_grace_days) == (Decimal(2), 5)
    assert product.allocation_order == ["penalty", "interest", "fee", "principal"]
    assert product.prepayment_strategy == "reduce_term"
    assert product.receivable_account.code == "1300-EMG"
    assert list(product.rates.values_list("effective_from", "annual_rate")) == [
        (dt.date(2026, 1, 1), Decimal(10))
    ]
    page = admin.get(f"/lending/products/{product.pk}/").content.decode()
    assert bdt(50_000_00) in page and "Penalty on overdue instalments" in page

    # Edit: the code and type stay; a setting changes.
    edit = admin.get(f"/lending/products/{product.pk}/edit/")
    assert 'name="code"' not in edit.content.decode()
    saved = admin.post(
        f"/lending/products/{product.pk}/edit/",
        {**_product_post(), "name": "Emergency cash loan", "maximum_amount": "75,000.50", "is_active": ""},
    )
    assert saved.status_code == 302, saved.context["form"].errors
    product.refresh_from_db()
    assert (product.name, product.maximum_amount_minor, product.is_active) == (
        "Emergency cash loan",
        75_000_50,
        False,
    )

    # A rate change from a future date is scheduled beside the current one.
    future = admin.post(
        f"/lending/products/{product.pk}/",
        {"action": "rate", "effective_from": "2027-01-01", "annual_rate": "11.5"},
    )
    assert future.status_code == 302
    assert list(LoanRate.objects.filter(product=product).values_list("annual_rate", flat=True)) == [
        Decimal(10),
        Decimal("11.5"),
    ]
    assert "Scheduled" in admin.get(f"/lending/products/{product.pk}/").content.decode()

    # Limit rules: add (three times the savings), refuse one without its factor, remove.
    added = admin.post(
        f"/lending/products/{product.pk}/", {"action": "limit", "basis": "deposits", "factor": "3"}
    )
    assert added.status_code == 302
    rule = LoanLimitRule.objects.get(product=product)
    assert (rule.basis, rule.factor) == ("deposits", Decimal(3))
    missing = admin.post(f"/lending/products/{product.pk}/", {"action": "limit", "basis": "salary"})
    assert missing.status_code == 200 and "This basis needs a factor" in missing.content.decode()
    removed = admin.post(f"/lending/products/{product.pk}/", {"action": "remove", "rule": rule.pk})
    assert removed.status_code == 302 and not LoanLimitRule.objects.filter(product=product).exists()


def test_the_approval_ladder_is_edited_on_its_page(in_alpha: Any) -> None:
    admin = client_for(ALPHA.admin)
    management = {
        "levels-TOTAL_FORMS": "3",
        "levels-INITIAL_FORMS": "0",
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "20",
    }
    refused = admin.post(
        "/lending/approval-levels/",
        {
            **management,
            "levels-0-level": "1",
            "levels-0-required_above": "50,000",
            "levels-1-level": "2",
            "levels-1-required_above": "0",
        },
    )
    assert refused.status_code == 200
    assert "higher level cannot start at a smaller amount" in refused.content.decode()
    saved = admin.post(
        "/lending/approval-levels/",
        {
            **management,
            "levels-0-level": "1",
            "levels-0-required_above": "0",
            "levels-1-level": "2",
            "levels-1-required_above": "100,000",
        },
    )
    assert saved.status_code == 302
    assert list(ApprovalLevel.objects.values_list("level", "required_above_minor")) == [
        (1, 0),
        (2, 100_000_00),
    ]
    assert bdt(100_000_00) in admin.get("/lending/approval-levels/").content.decode()


def test_a_cooperative_adds_its_own_sub_type_on_the_products_page(in_alpha: Any) -> None:
    from core_banking.lending.models import LoanSubType

    admin = client_for(ALPHA.admin)
    added = admin.post(
        "/lending/sub-types/new/", {"product_type": "special", "code": "solar", "name": "Solar home"}
    )
    assert added.status_code == 302
    assert LoanSubType.objects.filter(code="solar", product_type="special").exists()
    page = admin.get("/lending/products/").content.decode()
    assert "Solar home" in page
    again = admin.post(
        "/lending/sub-types/new/", {"product_type": "special", "code": "solar", "name": "Again"}
    )
    assert again.status_code == 302
    assert "Already in use." in admin.get("/lending/products/").content.decode()
    auditor = client_for("auditor")
    assert (
        auditor.post(
            "/lending/sub-types/new/", {"product_type": "special", "code": "x", "name": "X"}
        ).status_code
        == 403
    )
    assert LoanSubType.objects.filter(code="solar").count() == 1


# --- Applications -----------------------------------------------------------------------------------


def test_the_eligibility_check_shows_every_check_with_its_arithmetic(
    *,
    staff: dict[str, Any],
    ladder: None,
    monthly_product: LoanProduct,
    borrower: Member,
    guarantor: Member,
    voluntary_savings: SavingsProduct,
) -> None:
    from core_banking.lending.services import loan_limit_rule_add

    account = savings_account_open(actor=None, member=borrower, product=voluntary_savings, opened_on=OPENED)
    savings_deposit(account_id=account.pk, amount_minor=20_000_00, value_date=OPENED, idempotency_key="sv-1")
    loan_limit_rule_add(actor=None, product=monthly_product, basis="deposits", factor=Decimal(5))
    officer = client_for(OFFICER)
    url = f"/lending/applications/check/?member={borrower.pk}"
    checked = officer.post(
        url,
        _application_post(
            monthly_product,
            **{
                "guarantors-0-member_number": guarantor.number.lower(),
                "guarantors-0-monthly_salary": "25,000",
            },
        ),
        HTTP_HX_REQUEST="true",
    )
    html = checked.content.decode()
    assert checked.status_code == 200 and "<html" not in html
    # The limit: five times the savings of Tk 20,000.00 is Tk 1,00,000.00, below the Tk 1,20,000.00 asked.
    assert f"Savings {bdt(20_000_00)} × 5 = {bdt(100_000_00)}" in html
    assert f"Applied for {bdt(PRINCIPAL)}; limit {bdt(100_000_00)}." in html
    assert "Not eligible" in html and guarantor.full_name in html
    assert "Schedule preview" in html and bdt(EMI) in html  # the equal instalment, to the paisa
    # Filing it anyway is refused with every reason, and nothing is stored.
    filed = officer.post(
        f"/lending/applications/new/?member={borrower.pk}", _application_post(monthly_product)
    )
    assert filed.status_code == 200
    assert "not eligible" in filed.content.decode() and f"limit {bdt(100_000_00)}" in filed.content.decode()
    assert not LoanApplication.objects.exists()
    # An unknown guarantor number is named on its row.
    unknown = officer.post(
        f"/lending/applications/new/?member={borrower.pk}",
        _application_post(monthly_product, **{"guarantors-0-member_number": "HO-999999"}),
    )
    assert "No member with this number in your branches." in unknown.content.decode()
    # Within the limit it is filed, numbered automatically, with its checks stored.
    ok = officer.post(
        f"/lending/applications/new/?member={borrower.pk}",
        _application_post(
            monthly_product, amount="90,000", **{"guarantors-0-member_number": guarantor.number}
        ),
    )
    application = LoanApplication.objects.get()
    assert ok.status_code == 302 and ok["Location"] == f"/lending/applications/{application.pk}/"
    assert (application.amount_minor, application.number, application.created_by_id) == (
        90_000_00,
        "HO-A-000001",
        staff["officer"].pk,
    )
    assert list(application.guarantors.values_list("member__number", flat=True)) == [guarantor.number]
    detail = officer.get(ok["Location"]).content.decode()
    assert f"Savings {bdt(20_000_00)} × 5 = {bdt(100_000_00)}" in detail


def test_a_member_suspended_from_borrowing_is_refused_with_the_reason(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    borrower.status = MemberStatus.SUSPENDED_FROM_BORROWING
    borrower.save(update_fields=["status"])
    response = client_for(OFFICER).post(
        f"/lending/applications/new/?member={borrower.pk}", _application_post(monthly_product)
    )
    assert response.status_code == 200
    assert "Member status: Suspended from borrowing." in response.content.decode()
    assert not LoanApplication.objects.exists()


def test_approval_level_by_level_on_the_approvers_screens(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    officer = client_for(OFFICER)
    officer.post(f"/lending/applications/new/?member={borrower.pk}", _application_post(monthly_product))
    application = LoanApplication.objects.get()
    assert application.required_levels == [1, 2]
    first, second = client_for(APPROVER1), client_for(APPROVER2)
    # Level 1 waits for approver one (and approver two may take a lower level); the maker sees no buttons.
    link = f'href="/lending/applications/{application.pk}/"'
    assert link in first.get("/lending/approvals/").content.decode()
    assert 'value="approved"' not in officer.get(f"/lending/applications/{application.pk}/").content.decode()
    decide = f"/lending/applications/{application.pk}/decide/"
    # Rejecting or returning needs reasons.
    no_reason = first.post(decide, {"decision": "returned", "reason": " "})
    assert no_reason.status_code == 200 and "Say why." in no_reason.content.decode()
    approved = first.post(decide, {"decision": "approved"})
    assert approved.status_code == 302
    # Level 2 is not approver one's: off their queue, and refused if forced.
    assert link not in first.get("/lending/approvals/").content.decode()
    forced = first.post(decide, {"decision": "approved"})
    assert forced.status_code == 200 and "needs an approver of a higher level" in forced.content.decode()
    assert link in second.get("/lending/approvals/").content.decode()
    second.post(decide, {"decision": "approved"})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    detail = officer.get(f"/lending/applications/{application.pk}/").content.decode()
    assert "approver-one" in detail and "approver-two" in detail  # who decided, at which level
    assert [(d.level, d.decision) for d in application.decisions.order_by("id")] == [
        (1, "approved"),
        (2, "approved"),
    ]


def test_a_returned_application_is_fixed_and_sent_again(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    officer = client_for(OFFICER)
    officer.post(f"/lending/applications/new/?member={borrower.pk}", _application_post(monthly_product))
    application = LoanApplication.objects.get()
    client_for(APPROVER1).post(
        f"/lending/applications/{application.pk}/decide/",
        {"decision": "returned", "reason": "Salary slip missing"},
    )
    detail = officer.get(f"/lending/applications/{application.pk}/").content.decode()
    assert "Salary slip missing" in detail and "Fix and send again" in detail
    url = f"/lending/applications/{application.pk}/resubmit/"
    form = officer.get(url)
    assert form.status_code == 200 and "120000.00" in form.content.decode()
    sent = officer.post(
        url,
        {
            "amount": "90,000",
            "installments": "12",
            "monthly_salary": "30,000",
            "guarantors-TOTAL_FORMS": "3",
            "guarantors-INITIAL_FORMS": "0",
            "guarantors-MIN_NUM_FORMS": "0",
            "guarantors-MAX_NUM_FORMS": "10",
        },
    )
    assert sent.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.amount_minor, application.monthly_salary_minor) == (
        ApplicationStatus.SUBMITTED,
        90_000_00,
        30_000_00,
    )
    assert application.required_levels == [1]  # below Tk 1,00,000 now: one level


def test_pay_out_into_the_members_savings_once(
    staff: dict[str, Any],
    ladder: None,
    monthly_product: LoanProduct,
    borrower: Member,
    voluntary_savings: SavingsProduct,
) -> None:
    from tests.core_banking.lending.page_fixtures import approved_application

    account = savings_account_open(actor=None, member=borrower, product=voluntary_savings, opened_on=OPENED)
    application = approved_application(staff, borrower, monthly_product)
    assert client_for(OFFICER).get(f"/lending/applications/{application.pk}/disburse/").status_code == 403
    teller = client_for(TELLER)
    url = f"/lending/applications/{application.pk}/disburse/"
    form = teller.get(url).content.decode()
    assert account.number in form and bdt(EMI) in form  # the schedule as it will be
    key = form_key(teller, url)
    paid_out = teller.post(url, {"to": str(account.pk), "idempotency_key": key})
    loan = Loan.objects.get()
    assert paid_out.status_code == 302 and paid_out["Location"] == f"/lending/loans/{loan.pk}/"
    assert loan.disbursed_on == ALPHA.cooperative().business_date()
    account.refresh_from_db()
    assert account.balance_minor == PRINCIPAL - 2_400_00  # the 2 % fee is deducted
    again = teller.post(url, {"to": str(account.pk), "idempotency_key": key})
    assert again.status_code == 302 and Loan.objects.count() == 1  # a double tap pays out once
    page = teller.get(f"/lending/loans/{loan.pk}/").content.decode()
    assert bdt(EMI) in page and 'class="overdue"' not in page


def test_repay_see_the_payoff_and_reverse(book: Book) -> None:
    loan = book.loan
    teller = client_for(TELLER)
    page = teller.get(f"/lending/loans/{loan.pk}/").content.decode()
    assert bdt(EMI) in page and 'class="overdue"' in page  # instalments due since March are late
    assert "<svg" in page and "Still to pay" in page

    # The payoff for a date, as the repayment form shows it (htmx).
    quote = loan_payoff_quote(loan_id=loan.pk, on_date=dt.date(2026, 3, 10))
    partial = teller.get(
        f"/lending/loans/{loan.pk}/payoff/", {"value_date": "2026-03-10"}, HTTP_HX_REQUEST="true"
    )
    assert bdt(quote.total_minor) in partial.content.decode()

    # A cash payment of one instalment, dated, split interest first.
    repay = f"/lending/loans/{loan.pk}/repay/"
    too_much = teller.post(
        repay,
        {
            "value_date": "2026-03-10",
            "source": "cash",
            "amount": "200,000",
            "idempotency_key": form_key(teller, repay),
        },
    )
    assert too_much.status_code == 200
    assert f"At most {bdt(quote.total_minor)} settles the loan" in too_much.content.decode()
    taken = teller.post(
        repay,
        {
            "value_date": "2026-03-10",
            "source": "cash",
            "amount": "10,661.85",
            "idempotency_key": form_key(teller, repay),
        },
    )
    assert taken.status_code == 302
    payment = LoanTransaction.objects.get(kind="repayment")
    assert (payment.amount_minor, payment.interest_minor, payment.principal_minor) == (
        EMI,
        1_200_00,
        EMI - 1_200_00,
    )
    # From savings needs the account.
    no_account = teller.post(
        repay,
        {
            "value_date": "2026-03-10",
            "source": "savings",
            "amount": "100",
            "idempotency_key": form_key(teller, repay),
        },
    )
    assert "Choose the savings account" in no_account.content.decode()

    # Reverse it with the reason: the entry is reversed and the loan owes it again.
    reverse = f"/lending/loans/{loan.pk}/transactions/{payment.pk}/reverse/"
    assert teller.get(reverse).status_code == 200
    no_reason = teller.post(reverse, {"reason": "", "idempotency_key": form_key(teller, reverse)})
    assert no_reason.status_code == 200 and LoanTransaction.objects.filter(kind="reversal").count() == 0
    reversed_ = teller.post(reverse, {"reason": "Wrong loan", "idempotency_key": form_key(teller, reverse)})
    assert reversed_.status_code == 302
    reversal = LoanTransaction.objects.get(kind="reversal")
    assert (reversal.reverses_id, reversal.memo) == (payment.pk, "Wrong loan")
    loan.refresh_from_db()
    assert loan.principal_outstanding_minor == PRINCIPAL
    assert "reversed" in teller.get(f"/lending/loans/{loan.pk}/").content.decode()


def test_settling_through_the_form_closes_the_loan(book: Book) -> None:
    loan = book.loan
    quote = loan_payoff_quote(loan_id=loan.pk, on_date=dt.date(2026, 4, 20))
    teller = client_for(TELLER)
    repay = f"/lending/loans/{loan.pk}/repay/"
    amount = f"{Decimal(quote.total_minor) / 100:.2f}"
    response = teller.post(
        repay,
        {
            "value_date": "2026-04-20",
            "source": "cash",
            "amount": amount,
            "idempotency_key": form_key(teller, repay),
        },
    )
    assert response.status_code == 302
    loan.refresh_from_db()
    assert (loan.status, loan.closed_on) == (LoanStatus.CLOSED, dt.date(2026, 4, 20))
    page = teller.get(f"/lending/loans/{loan.pk}/")
    assert "Take a payment" not in page.content.decode()
    assert teller.get(f"/lending/loans/{loan.pk}/payoff/").content.decode().count("not active") == 1


def test_the_member_page_shows_loans_applications_and_guarantees(book: Book) -> None:
    admin = client_for(ALPHA.admin)
    borrower_page = admin.get(f"/members/{book.borrower.pk}/").content.decode()
    assert book.loan.number in borrower_page and f"/lending/loans/{book.loan.pk}/" in borrower_page
    assert "New loan application" in borrower_page
    guarantor_page = admin.get(f"/members/{book.guarantor.pk}/").content.decode()
    assert "Guarantees for others" in guarantor_page and book.loan.number in guarantor_page
    # A teller (no appraisal) sees the loans but not the link to apply.
    teller_page = client_for(TELLER).get(f"/members/{book.borrower.pk}/").content.decode()
    assert book.loan.number in teller_page and "New loan application" not in teller_page
    loan_repay(
        actor=None,
        loan_id=book.loan.pk,
        amount_minor=EMI,
        value_date=dt.date(2026, 3, 5),
        idempotency_key="m-1",
    )
    certificates = admin.get(f"/lending/members/{book.borrower.pk}/documents/").content.decode()
    assert f"/lending/members/{book.borrower.pk}/interest-certificate/2026/" in certificates


def test_pages_speak_bangla(book: Book) -> None:
    client = client_for(ALPHA.admin, language="bn")
    page = client.get(f"/lending/loans/{book.loan.pk}/").content.decode()
    native = ALPHA.cooperative().use_native_digits
    assert format_money(EMI, "BDT", "bn", native_digits=native) in page
    assert re.search(r"<html lang=\"bn\"", page)


def test_a_pledged_account_and_a_refinance_are_offered_from_the_members_own(
    book: Book,
    voluntary_savings: SavingsProduct,
) -> None:
    account = savings_account_open(
        actor=None, member=book.borrower, product=voluntary_savings, opened_on=OPENED
    )
    other: SavingsAccount = savings_account_open(
        actor=None, member=book.guarantor, product=voluntary_savings, opened_on=OPENED
    )
    form = client_for(OFFICER).get(f"/lending/applications/new/?member={book.borrower.pk}").content.decode()
    assert account.number in form and other.number not in form
    assert book.loan.number in form  # the running loan may be refinanced
