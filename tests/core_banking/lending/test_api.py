"""The lending API: schedule preview, the application-to-repayment flow, stable errors, walls."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from control_plane.identity.models import User
from core_banking.lending.models import Loan, LoanProduct
from core_banking.lending.services import loan_disburse
from core_banking.members.models import Member
from tests.conftest import ALPHA, BETA, workspace_client
from tests.core_banking.lending.test_workflow import _approved

pytestmark = pytest.mark.django_db

TERMS = {
    "principal": "12000.00",
    "currency": "BDT",
    "annual_rate": "12",
    "interest_method": "declining",
    "amortization": "equal_installments",
    "interest_period": "same_as_repayment",
    "days_in_year": 360,
    "days_in_month": 30,
    "frequency": "monthly",
    "repay_every": 1,
    "installments": 12,
    "disbursement_date": "2026-02-05",
    "rounding": "half_even",
    "grace_principal": 0,
    "grace_interest_payment": 0,
    "interest_free_periods": 0,
}


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, body, content_type="application/json")


def test_schedule_preview_answers_like_the_engine_and_names_each_bad_field(in_alpha: object) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    answer = _post(client, "/api/v1/lending/schedule-preview/", TERMS)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    first = body["installments"][0]
    # 1 % a month on Tk 12,000.00: Tk 120.00 interest; the equal instalment is Tk 1,066.19.
    assert (first["due_date"], first["interest"], first["total"]) == ("2026-03-05", "120.00", "1066.19")
    assert body["totals"]["principal"] == "12000.00"
    bad = _post(
        client, "/api/v1/lending/schedule-preview/", {**TERMS, "principal": "12.345", "frequency": "daily"}
    )
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["code"] == "schedule_terms_invalid"
    assert {"principal", "frequency"} <= set(error["fields"])
    assert Client(HTTP_HOST=ALPHA.host).post("/api/v1/lending/schedule-preview/", TERMS).status_code == 401


def test_apply_approve_disburse_repay_through_the_api(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    officer = workspace_client(ALPHA, username="loan-officer")
    filed = _post(
        officer,
        "/api/v1/lending/applications/",
        {"member": borrower.pk, "product": monthly_product.pk, "amount": "120000.00", "installments": 12,
         "applied_on": "2026-02-02", "purpose": "Rickshaw van"},
    )  # fmt: skip
    assert filed.status_code == 201, filed.content
    application = filed.json()
    assert (application["number"], application["status"], application["required_levels"]) == (
        "HO-A-000001",
        "submitted",
        [1, 2],
    )
    assert application["next_level"] == 1 and application["eligibility"]["eligible"] is True
    url = f"/api/v1/lending/applications/{application['id']}/"
    own = _post(officer, f"{url}decisions/", {"decision": "approved"})
    assert (own.status_code, own.json()["error"]["code"]) == (403, "permission_denied")
    for approver in ("approver-one", "approver-two"):
        decided = _post(
            workspace_client(ALPHA, username=approver), f"{url}decisions/", {"decision": "approved"}
        )
        assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "approved"
    assert [d["decided_by"] for d in decided.json()["decisions"]] == ["approver-one", "approver-two"]

    teller = workspace_client(ALPHA, username="teller")
    paid_out = _post(teller, f"{url}disburse/", {"disbursed_on": "2026-02-05", "idempotency_key": "api-disb"})
    assert paid_out.status_code == 201, paid_out.content
    loan = paid_out.json()
    assert (loan["principal"], loan["principal_outstanding"], len(loan["installments"])) == (
        "120000.00",
        "120000.00",
        12,
    )
    assert loan["installments"][0]["interest"] == "1200.00"
    loan_url = f"/api/v1/lending/loans/{loan['id']}/"
    paid = _post(
        teller,
        f"{loan_url}repayments/",
        {"amount": "10661.85", "value_date": "2026-03-05", "idempotency_key": "api-r1"},
    )
    assert paid.status_code == 201, paid.content
    assert (paid.json()["interest"], paid.json()["principal"]) == ("1200.00", "9461.85")
    quote = teller.get(f"{loan_url}payoff/?on=2026-03-05").json()
    assert (quote["principal"], quote["interest"]) == ("110538.15", "0.00")
    too_much = _post(
        teller,
        f"{loan_url}repayments/",
        {"amount": "200000.00", "value_date": "2026-03-05", "idempotency_key": "api-r2"},
    )
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (409, "repayment_above_payoff")
    assert too_much.json()["error"]["detail"] == {"payoff_minor": 11_053_815}


def test_an_ineligible_application_gets_422_with_every_reason(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    borrower.status = "suspended_from_borrowing"
    borrower.save(update_fields=["status"])
    refused = _post(
        workspace_client(ALPHA, username="loan-officer"),
        "/api/v1/lending/applications/",
        {"member": borrower.pk, "product": monthly_product.pk, "amount": "900000.00", "installments": 30},
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "loan_not_eligible"
    assert set(error["fields"]) == {"member_status", "installments", "limit"}
    assert error["detail"]["eligibility"]["limit_minor"] == 500_000_00


def test_another_cooperative_cannot_see_or_touch_a_loan(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    application = _approved(staff, borrower, monthly_product)
    loan = loan_disburse(
        actor=None, application_id=application.pk, disbursed_on=dt.date(2026, 2, 5), idempotency_key="wall"
    )
    token = Token.objects.create(user=User.objects.get(username=ALPHA.only_here))
    # Beta's admin, on beta's host, asks for alpha's ids: nothing is there.
    beta_admin = workspace_client(BETA, username=BETA.admin)
    assert beta_admin.get(f"/api/v1/lending/loans/{loan.pk}/").status_code == 404
    assert beta_admin.get(f"/api/v1/lending/applications/{application.pk}/").status_code == 404
    repay = _post(
        beta_admin,
        f"/api/v1/lending/loans/{loan.pk}/repayments/",
        {"amount": "10.00", "value_date": "2026-03-05", "idempotency_key": "evil"},
    )
    assert repay.status_code == 404
    # Alpha's token on beta's host is not a token there.
    assert (
        Client(HTTP_HOST=BETA.host)
        .get("/api/v1/lending/loans/", HTTP_AUTHORIZATION=f"Token {token.key}")
        .status_code
        == 401
    )
    with tenant_context(ALPHA.cooperative()):
        assert Loan.objects.get(pk=loan.pk).principal_outstanding_minor == 120_000_00


def test_a_cooperative_adds_its_own_sub_types(in_alpha: object) -> None:
    admin = workspace_client(ALPHA, username=ALPHA.admin)
    added = _post(
        admin,
        "/api/v1/lending/sub-types/",
        {"product_type": "special", "code": "solar", "name": "Solar home"},
    )
    assert added.status_code == 201, added.content
    assert added.json()["code"] == "solar"
    taken = _post(
        admin, "/api/v1/lending/sub-types/", {"product_type": "special", "code": "solar", "name": "Again"}
    )
    assert (taken.status_code, taken.json()["error"]["code"]) == (400, "validation_error")
    listed = {item["code"] for item in admin.get("/api/v1/lending/sub-types/").json()}
    assert "solar" in listed
    auditor_refused = _post(
        workspace_client(ALPHA, username="auditor"),
        "/api/v1/lending/sub-types/",
        {"product_type": "special", "code": "boat", "name": "Boat"},
    )
    assert auditor_refused.status_code == 403
