"""The accounting API: decimal strings in, exact minor units inside, stable errors, walls."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_tenants.utils import tenant_context

from control_plane.identity.models import User
from core_banking.accounting.models import CorrectionRequest, Voucher
from core_banking.organisation.models import Branch
from tests.conftest import ALPHA, BETA
from tests.core_banking.accounting.conftest import english_client, receipt

JOURNAL = {
    "kind": "journal",
    "value_date": "2026-10-05",
    "narration": "Cash deposited in the bank",
    "lines": [{"account": "1200", "debit": "10000.50"}, {"account": "1100-HO", "credit": "10000.50"}],
    "idempotency_key": "jv-1",
}


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/accounting/{path}", body, content_type="application/json")


def test_a_journal_voucher_through_the_api_is_exact_and_replay_safe(head_office: Branch) -> None:
    client = english_client(ALPHA, "clerk0")
    first = _post(client, "vouchers/", {**JOURNAL, "branch": head_office.pk})
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["number"], body["amount"], body["fiscal_year_label"]) == (
        "JV-HO-2026-27-00001",
        "10000.50",
        "2026-27",
    )
    assert [(line["account"], line["debit"], line["credit"]) for line in body["lines"]] == [
        ("1200", "10000.50", "0.00"),
        ("1100-HO", "0.00", "10000.50"),
    ]
    again = _post(client, "vouchers/", {**JOURNAL, "branch": head_office.pk})
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    changed = {**JOURNAL, "branch": head_office.pk, "narration": "Something else"}
    conflict = _post(client, "vouchers/", changed)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_reused"
    assert Voucher.objects.count() == 1

    entry = client.get(f"/api/v1/accounting/entries/{body['entry']}/").json()
    assert (entry["voucher"], entry["debit"], entry["credit"], entry["correctable"]) == (
        "JV-HO-2026-27-00001", "10000.50", "10000.50", True,
    )  # fmt: skip


def test_an_unbalanced_voucher_answers_with_field_errors(head_office: Branch) -> None:
    client = english_client(ALPHA, "clerk0")
    lines = [{"account": "1200", "debit": "100"}, {"account": "1100-HO", "credit": "99.99"}]
    response = _post(client, "vouchers/", {**JOURNAL, "branch": head_office.pk, "lines": lines})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "entry_unbalanced",
        "message": "The voucher does not balance.",
        "fields": {"lines": ["Debits 100.00 ≠ credits 99.99."]},
    }
    receipt_body = {
        "kind": "receipt", "branch": head_office.pk, "value_date": "2026-10-05", "narration": "Fees",
        "lines": [{"account": "4300", "amount": "12.345"}], "idempotency_key": "rv-1",
    }  # fmt: skip
    bad_amount = _post(client, "vouchers/", receipt_body)
    assert bad_amount.json()["error"]["fields"] == {
        "lines[0].amount": ["BDT has 2 decimal places; this amount has more."]
    }
    receipt_body["lines"] = [{"account": "4300", "amount": "12.34"}]
    made = _post(client, "vouchers/", receipt_body).json()
    assert [(line["account"], line["debit"], line["credit"]) for line in made["lines"]] == [
        ("1100-HO", "12.34", "0.00"),
        ("4300", "0.00", "12.34"),
    ]


def test_maker_checker_through_the_api(head_office: Branch, maker: User) -> None:
    admin = english_client(ALPHA, ALPHA.admin)
    settings = admin.put(
        "/api/v1/accounting/settings/",
        {"fiscal_year_start_month": 7, "corrections_need_approval": True},
        content_type="application/json",
    )
    assert settings.json() == {
        "fiscal_year_start_month": 7, "corrections_need_approval": True, "retained_surplus_code": "3900",
    }  # fmt: skip
    original = receipt(head_office, "rv-1", ("4300", 5_000_00))
    maker_client = english_client(ALPHA, "clerk0")
    body = {
        "reason": "Keyed 5,000 instead of 500",
        "value_date": "2026-10-05",
        "lines": [{"account": "1100-HO", "debit": "500"}, {"account": "4300", "credit": "500"}],
        "idempotency_key": "fix-1",
    }
    submitted = _post(maker_client, f"entries/{original.entry_id}/corrections/", body)
    assert submitted.status_code == 201, submitted.content
    request = submitted.json()
    assert (request["status"], request["maker"], request["reversal"]) == ("pending", "clerk0", None)
    own = _post(maker_client, f"corrections/{request['id']}/approve/", {})
    assert (own.status_code, own.json()["error"]["code"]) == (403, "maker_cannot_check")
    approved = _post(english_client(ALPHA, "clerk1"), f"corrections/{request['id']}/approve/", {})
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["checker"]) == ("posted", "clerk1")
    entry = maker_client.get(f"/api/v1/accounting/entries/{original.entry_id}/").json()
    assert entry["reversals"] == [approved.json()["reversal"]] and not entry["correctable"]


def test_closing_through_the_api_needs_every_branch(head_office: Branch, br1_accountant: User) -> None:
    receipt(head_office, "rv-1", ("4300", 100_00))
    limited = english_client(ALPHA, "br1-accountant")
    refused = _post(limited, "period-closes/", {"period_end": "2026-09-30"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    hidden = _post(limited, "day-closes/", {"branch": head_office.pk, "day": "2026-10-05"})
    assert hidden.status_code == 404
    clerk = english_client(ALPHA, "clerk0")
    day = _post(clerk, "day-closes/", {"branch": head_office.pk, "day": "2026-10-05"})
    assert (day.status_code, day.json()["debit"], day.json()["entry_count"]) == (201, "100.00", 1)
    closed = _post(clerk, "period-closes/", {"period_end": "2026-10-31"})
    assert closed.status_code == 201 and closed.json()["period_end"] == "2026-10-31"
    late = _post(
        clerk, "vouchers/",
        {**JOURNAL, "branch": head_office.pk, "value_date": "2026-10-30", "idempotency_key": "late"},
    )  # fmt: skip
    assert (late.status_code, late.json()["error"]["code"]) == (409, "period_closed")


def test_a_branch_limited_accountant_sees_only_their_branch(
    head_office: Branch, branch_one: Branch, br1_accountant: User
) -> None:
    theirs = receipt(branch_one, "rv-1", ("4300", 5))
    other = receipt(head_office, "rv-2", ("4300", 7))
    client = english_client(ALPHA, "br1-accountant")
    assert [row["number"] for row in client.get("/api/v1/accounting/vouchers/").json()] == [theirs.number]
    assert client.get(f"/api/v1/accounting/vouchers/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/accounting/entries/{other.entry_id}/").status_code == 404
    posted = _post(client, "vouchers/", {**JOURNAL, "branch": head_office.pk})
    assert posted.status_code == 404


def test_another_workspace_cannot_see_or_touch_the_vouchers(head_office: Branch) -> None:
    voucher = receipt(head_office, "rv-1", ("4300", 5_000_00))
    with tenant_context(BETA.cooperative()):
        attacker = english_client(BETA, BETA.admin)
        assert attacker.get("/api/v1/accounting/vouchers/").json() == []
        assert attacker.get(f"/api/v1/accounting/vouchers/{voucher.pk}/").status_code == 404
        assert attacker.get(f"/api/v1/accounting/entries/{voucher.entry_id}/").status_code == 404
        correction = _post(
            attacker, f"entries/{voucher.entry_id}/corrections/", {"reason": "x", "idempotency_key": "k"}
        )
        assert correction.status_code == 404
    # Alpha's own session is no key to beta's workspace.
    alpha_session = english_client(ALPHA, ALPHA.admin)
    alpha_session.defaults["HTTP_HOST"] = BETA.host
    assert alpha_session.get("/api/v1/accounting/vouchers/").status_code in (401, 403)
    with tenant_context(ALPHA.cooperative()):
        assert Voucher.objects.count() == 1 and not CorrectionRequest.objects.exists()


def test_the_auditor_reads_and_cannot_post(head_office: Branch) -> None:
    receipt(head_office, "rv-1", ("4300", 5))
    auditor = english_client(ALPHA, "auditor")
    assert len(auditor.get("/api/v1/accounting/vouchers/").json()) == 1
    refused = _post(auditor, "vouchers/", {**JOURNAL, "branch": head_office.pk})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "read_only_role")
