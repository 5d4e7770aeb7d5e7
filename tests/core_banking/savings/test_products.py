"""Editing a savings product: the service, the API's PATCH and the staff page, who may, the audit row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.savings.models import SavingsAccount, SavingsProduct
from core_banking.savings.services import savings_product_update
from tests.conftest import ALPHA, workspace_client
from tests.core_banking.savings.page_helpers import client_for


def _updates(product: SavingsProduct) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action="savings.product.update", object_type="savings.savingsproduct", object_id=str(product.pk)
        ).order_by("id")
    )


def _as_shown(form: Any) -> dict[str, Any]:
    """The form's values as the page shows them (amounts in major units), ready to be sent back."""
    shown = {name: form[name].value() for name in form.fields}
    return {name: "" if value is None else value for name, value in shown.items()}


def test_the_service_changes_the_named_settings_and_audits_the_difference(voluntary: SavingsProduct) -> None:
    admin = User.objects.get(username=ALPHA.admin)
    control = voluntary.control_account_id

    product = savings_product_update(
        actor=admin,
        product_id=voluntary.pk,
        name="  Voluntary savings plus ",
        minimum_balance_minor=250_00,
        maximum_withdrawal_minor=20_000_00,
        withdrawals_per_month=4,
        is_active=False,
    )

    product.refresh_from_db()
    assert (product.code, product.kind, product.control_account_id) == ("VOL", "voluntary", control)
    assert (
        product.name,
        product.minimum_balance_minor,
        product.maximum_withdrawal_minor,
        product.withdrawals_per_month,
        product.is_active,
        product.interest_method,
    ) == ("Voluntary savings plus", 250_00, 20_000_00, 4, False, "daily_balance")
    [event] = _updates(product)
    assert event.actor_label == ALPHA.admin
    assert event.changes == {
        "name": ["Voluntary savings", "Voluntary savings plus"],
        "minimum_balance_minor": [500_00, 250_00],
        "maximum_withdrawal_minor": [None, 20_000_00],
        "withdrawals_per_month": [None, 4],
        "is_active": [True, False],
    }
    # The same values again change nothing and write no audit row.
    savings_product_update(actor=admin, product_id=voluntary.pk, minimum_balance_minor=250_00)
    assert len(_updates(product)) == 1


def test_interest_settings_change_on_a_product_with_accounts_is_allowed_and_flagged(
    account: SavingsAccount, voluntary: SavingsProduct
) -> None:
    savings_product_update(
        actor=None,
        product_id=voluntary.pk,
        interest_method="monthly_minimum_balance",
        day_count="actual_360",
        posting_period="quarterly",
        rounding="down",
    )
    voluntary.refresh_from_db()
    assert (voluntary.interest_method, voluntary.day_count, voluntary.posting_period, voluntary.rounding) == (
        "monthly_minimum_balance",
        "actual_360",
        "quarterly",
        "down",
    )
    [event] = _updates(voluntary)
    assert event.changes == {
        "interest_method": ["daily_balance", "monthly_minimum_balance"],
        "day_count": ["actual_365", "actual_360"],
        "posting_period": ["monthly", "quarterly"],
        "rounding": ["half_even", "down"],
        "interest_settings_changed": ["day_count", "interest_method", "posting_period", "rounding"],
        "accounts": 1,
    }


def test_the_code_kind_and_control_account_never_change(
    voluntary: SavingsProduct, fdr: SavingsProduct
) -> None:
    for changes in ({"code": "NEW"}, {"kind": "fixed"}, {"control_account_id": fdr.control_account_id}):
        with pytest.raises(BusinessRuleViolation) as raised:
            savings_product_update(actor=None, product_id=voluntary.pk, **changes)
        assert raised.value.code == ErrorCode.VALIDATION_ERROR
        assert raised.value.fields == {next(iter(changes)): ["Cannot be changed."]}
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_product_update(
            actor=None, product_id=fdr.pk, term_months=None, rounding="sideways", minimum_balance_minor=-1
        )
    assert set(raised.value.fields) == {"term_months", "rounding", "minimum_balance_minor"}
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_product_update(actor=None, product_id=999_999, name="Nothing")
    assert raised.value.code == ErrorCode.NOT_FOUND
    voluntary.refresh_from_db()
    assert (voluntary.code, voluntary.kind, voluntary.minimum_balance_minor) == ("VOL", "voluntary", 500_00)
    assert not AuditEvent.objects.filter(action="savings.product.update").exists()


def test_the_api_patches_a_product_in_major_units_for_admins_only(fdr: SavingsProduct) -> None:
    url = f"/api/v1/savings/products/{fdr.pk}/"
    admin = workspace_client(ALPHA, username=ALPHA.admin)
    assert admin.get(url).json()["premature_rate_reduction"] == "2.0000"

    changed = admin.patch(
        url,
        {
            "name": "Fixed deposit (12 months)",
            "minimum_balance": "1000.50",
            "premature_rate_reduction": "1.5",
            "rounding": "half_up",
            "is_active": False,
        },
        content_type="application/json",
    )

    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["code"], body["kind"], body["control_account"]) == ("FDR", "fixed", "2100-FDR")
    assert (body["name"], body["minimum_balance"], body["premature_rate_reduction"]) == (
        "Fixed deposit (12 months)",
        "1000.50",
        "1.5000",
    )
    assert (body["rounding"], body["is_active"], body["term_months"], body["posting_period"]) == (
        "half_up",
        False,
        12,
        "quarterly",
    )
    fdr.refresh_from_db()
    assert (fdr.minimum_balance_minor, fdr.premature_rate_reduction) == (1_000_50, Decimal("1.5"))
    [event] = _updates(fdr)
    assert event.changes["premature_rate_reduction"] == ["2.0000", "1.5000"]
    assert "accounts" not in event.changes  # no account is open on it

    fixed = admin.patch(url, {"code": "FD2", "kind": "voluntary"}, content_type="application/json")
    assert fixed.status_code == 400
    assert fixed.json()["error"]["fields"] == {"code": ["Cannot be changed."], "kind": ["Cannot be changed."]}
    bad = admin.patch(url, {"minimum_balance": "1.005", "term_months": None}, content_type="application/json")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "validation_error")
    assert (
        admin.patch(
            "/api/v1/savings/products/999999/", {"name": "x"}, content_type="application/json"
        ).status_code
        == 404
    )

    accountant = workspace_client(ALPHA, username="clerk0")
    refused = accountant.patch(url, {"name": "Mine"}, content_type="application/json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    auditor = workspace_client(ALPHA, username="auditor")
    read_only = auditor.patch(url, {"name": "Mine"}, content_type="application/json")
    assert (read_only.status_code, read_only.json()["error"]["code"]) == (403, "read_only_role")
    fdr.refresh_from_db()
    assert fdr.name == "Fixed deposit (12 months)" and len(_updates(fdr)) == 1


def test_the_edit_page_saves_the_settings_for_admins_and_refuses_others(
    account: SavingsAccount, voluntary: SavingsProduct
) -> None:
    admin = client_for(ALPHA.admin)
    detail = admin.get(f"/savings/products/{voluntary.pk}/").content.decode()
    assert f'href="/savings/products/{voluntary.pk}/edit/"' in detail
    url = f"/savings/products/{voluntary.pk}/edit/"
    page = admin.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert "code" not in form.fields and "kind" not in form.fields and "term_months" not in form.fields
    assert form["minimum_balance"].value() == "500.00"
    html = page.content.decode()
    assert 'value="500.00"' in html and "1 account is open" in html

    saved = admin.post(
        url,
        {
            "name": "Voluntary savings",
            "minimum_balance": "1,000.25",
            "withdrawals_allowed": "on",
            "maximum_withdrawal": "",
            "withdrawals_per_month": "3",
            "interest_method": "month_end_balance",
            "day_count": "actual_365",
            "accrual_period": "monthly",
            "posting_period": "monthly",
            "rounding": "half_even",
            "minimum_balance_for_interest": "100",
            "is_active": "on",
        },
    )

    assert saved.status_code == 302 and saved["Location"] == f"/savings/products/{voluntary.pk}/"
    voluntary.refresh_from_db()
    assert (
        voluntary.minimum_balance_minor,
        voluntary.withdrawals_per_month,
        voluntary.interest_method,
        voluntary.minimum_balance_for_interest_minor,
        voluntary.is_active,
    ) == (1_000_25, 3, "month_end_balance", 100_00, True)
    [event] = _updates(voluntary)
    assert event.changes == {
        "minimum_balance_minor": [500_00, 1_000_25],
        "withdrawals_per_month": [None, 3],
        "interest_method": ["daily_balance", "month_end_balance"],
        "minimum_balance_for_interest_minor": [0, 100_00],
        "interest_settings_changed": ["interest_method", "minimum_balance_for_interest_minor"],
        "accounts": 1,
    }
    closing = admin.post(url, _as_shown(admin.get(url).context["form"]) | {"is_active": ""})
    assert closing.status_code == 302
    voluntary.refresh_from_db()
    assert voluntary.is_active is False

    accountant = client_for("clerk0")
    assert (
        f"/savings/products/{voluntary.pk}/edit/"
        not in accountant.get(f"/savings/products/{voluntary.pk}/").content.decode()
    )
    assert accountant.get(url).status_code == 403
    assert accountant.post(url, {"name": "Mine"}).status_code == 403
    assert client_for("auditor").get(url).status_code == 403
    assert admin.get("/savings/products/999999/edit/").status_code == 404
    voluntary.refresh_from_db()
    assert voluntary.name == "Voluntary savings"
    assert len(_updates(voluntary)) == 2


def test_a_term_products_edit_page_keeps_its_term_required(fdr: SavingsProduct) -> None:
    admin = client_for(ALPHA.admin)
    url = f"/savings/products/{fdr.pk}/edit/"
    form = admin.get(url).context["form"]
    assert {"term_months", "installment", "premature_rate_reduction"} <= set(form.fields)
    data = _as_shown(form)
    refused = admin.post(url, data | {"term_months": "", "premature_rate_reduction": "3"})
    assert refused.status_code == 200 and "term_months" in refused.context["form"].errors
    saved = admin.post(url, data | {"term_months": "24", "premature_rate_reduction": "3"})
    assert saved.status_code == 302
    fdr.refresh_from_db()
    assert (fdr.term_months, fdr.premature_rate_reduction, fdr.kind) == (24, Decimal(3), "fixed")
