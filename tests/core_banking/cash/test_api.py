"""The cash API: decimal strings in, exact postings, stable errors; and from the attacker's side."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.utils import translation
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from control_plane.identity.models import User
from core_banking.cash.models import CashDayClose, CashHandover, HandoverStatus
from core_banking.ledger.models import JournalEntry
from core_banking.organisation.models import Branch
from tests.conftest import ALPHA, BETA, workspace_client
from tests.core_banking.cash.conftest import give_teller

DAY = "2026-11-02"


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def _send(client: Client, branch: Branch, key: str, **extra: Any) -> Any:
    body = {"branch": branch.pk, "amount": "2500.50", "value_date": DAY, "idempotency_key": key, **extra}
    return _post(client, "/api/v1/cash/handovers/", body)


def test_send_confirm_and_balances_through_the_api(head_office: Branch, manager: User, teller: User) -> None:
    keeper = workspace_client(ALPHA, username=manager.username)
    sent = _send(keeper, head_office, "api-h-1", from_vault=True, to_user=teller.pk)
    assert sent.status_code == 201, sent.content
    body = sent.json()
    assert (body["amount"], body["status"], body["entry"]) == ("2500.50", "pending", None)
    with translation.override("bn"):  # alpha writes in Bangla
        vault = translation.gettext("Vault")
    assert body["giver"] == {"user": None, "name": vault, "account": "1100-HO"}
    assert body["receiver"]["account"] == f"1100-HO-U{teller.pk}"
    assert (
        _send(keeper, head_office, "api-h-1", from_vault=True, to_user=teller.pk).json()["id"] == body["id"]
    )
    entries = JournalEntry.objects.count()

    refused = _post(keeper, f"/api/v1/cash/handovers/{body['id']}/confirm/", {})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "cash_handover_not_receiver"
    assert JournalEntry.objects.count() == entries

    cashier = workspace_client(ALPHA, username=teller.username)
    waiting = cashier.get("/api/v1/cash/handovers/", {"awaiting_me": "true"}).json()
    assert [row["id"] for row in waiting] == [body["id"]]
    confirmed = _post(cashier, f"/api/v1/cash/handovers/{body['id']}/confirm/", {})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    again = _post(cashier, f"/api/v1/cash/handovers/{body['id']}/confirm/", {})
    assert again.json()["entry"] == confirmed.json()["entry"] and JournalEntry.objects.count() == entries + 1

    holders = {
        row["account"]: row for row in keeper.get("/api/v1/cash/holders/", {"branch": head_office.pk}).json()
    }
    assert holders["1100-HO"]["balance"] == "97499.50"
    assert holders[f"1100-HO-U{teller.pk}"]["balance"] == "2500.50"
    assert holders[f"1100-HO-U{teller.pk}"]["kind"] == "teller"
    mine = cashier.get("/api/v1/cash/holders/me/", {"branch": head_office.pk}).json()
    assert mine == {"branch_id": head_office.pk, "account": f"1100-HO-U{teller.pk}"}


def test_errors_are_stable_codes_with_fields(head_office: Branch, manager: User, teller: User) -> None:
    keeper = workspace_client(ALPHA, username=manager.username)
    too_much = _send(keeper, head_office, "api-h-2", from_vault=True, to_user=teller.pk, amount="100000.01")
    assert too_much.status_code == 409
    assert too_much.json()["error"]["code"] == "cash_balance_insufficient"
    assert too_much.json()["error"]["fields"] == {"amount": ["At most 10000000."]}
    neither = _send(keeper, head_office, "api-h-3", from_vault=True)
    assert neither.status_code == 400 and neither.json()["error"]["fields"] == {
        "to_user": ["Give either to_user or to_vault."]
    }
    bad_amount = _send(keeper, head_office, "api-h-4", from_vault=True, to_user=teller.pk, amount="1.005")
    assert bad_amount.json()["error"]["code"] == "validation_error"
    not_mine = _send(keeper, head_office, "api-h-5", to_vault=True)  # the manager holds no till cash
    assert not_mine.status_code == 409 and not_mine.json()["error"]["code"] == "cash_balance_insufficient"
    assert not CashHandover.objects.exists()


def test_day_close_through_the_api(head_office: Branch, manager: User, teller: User) -> None:
    give_teller(manager, teller, head_office, 1_000_00)
    cashier = workspace_client(ALPHA, username=teller.username)
    table = cashier.get("/api/v1/cash/denominations/").json()
    assert table[0] == {"key": "note-1000", "kind": "note", "face_value": "1000", "value": "1000.00"}
    assert table[-1] == {"key": "coin-0.50", "kind": "coin", "face_value": "0.50", "value": "0.50"}
    body = {
        "branch": head_office.pk,
        "business_date": DAY,
        "counts": {"note-500": 1, "note-100": 4, "coin-2": 3},
    }
    closed = _post(cashier, "/api/v1/cash/day-closes/", {**body, "idempotency_key": "api-c-1"})
    assert closed.status_code == 201, closed.content
    result = closed.json()
    assert (result["counted"], result["book"], result["difference"]) == ("906.00", "1000.00", "-94.00")
    entry = JournalEntry.objects.get(pk=result["entry"])
    assert [
        (line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")
    ] == [
        ("1450", 94_00, 0),
        (f"1100-HO-U{teller.pk}", 0, 94_00),
    ]
    second = _post(cashier, "/api/v1/cash/day-closes/", {**body, "idempotency_key": "api-c-2"})
    assert second.status_code == 409 and second.json()["error"]["code"] == "cash_day_closed"
    wrong = _post(
        cashier, "/api/v1/cash/day-closes/", {**body, "counts": {"note-3": 1}, "idempotency_key": "api-c-3"}
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["fields"] == {
        "counts.note-3": ["not a denomination of BDT"]
    }
    listed = cashier.get("/api/v1/cash/day-closes/", {"date": DAY}).json()
    assert [row["id"] for row in listed] == [result["id"]]


def test_another_workspace_cannot_see_or_confirm_alphas_handover(
    head_office: Branch, manager: User, teller: User
) -> None:
    token = Token.objects.create(user=teller)  # made in alpha's schema, before any request moves it
    keeper = workspace_client(ALPHA, username=manager.username)
    handover_id = _send(keeper, head_office, "api-h-9", from_vault=True, to_user=teller.pk).json()["id"]
    with tenant_context(BETA.cooperative()):
        assert not CashHandover.objects.exists()  # so any answer with content would be alpha's
    intruder = workspace_client(BETA, username=BETA.admin)
    assert intruder.get(f"/api/v1/cash/handovers/{handover_id}/").status_code == 404
    refused = _post(intruder, f"/api/v1/cash/handovers/{handover_id}/confirm/", {})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert intruder.get("/api/v1/cash/handovers/").json() == []
    assert intruder.post(f"/cash/handovers/{handover_id}/confirm/").status_code == 404
    # Alpha's own token is worthless on beta's host, and beta's session on alpha's.
    elsewhere = Client(HTTP_HOST=BETA.host, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert _post(elsewhere, f"/api/v1/cash/handovers/{handover_id}/confirm/", {}).status_code == 401
    stolen = Client(HTTP_HOST=ALPHA.host)
    stolen.cookies = intruder.cookies
    assert _post(stolen, f"/api/v1/cash/handovers/{handover_id}/confirm/", {}).status_code == 401
    with tenant_context(ALPHA.cooperative()):
        assert CashHandover.objects.get(pk=handover_id).status == HandoverStatus.PENDING


def test_a_branch_limited_officer_and_an_auditor(head_office: Branch, manager: User, teller: User) -> None:
    give_teller(manager, teller, head_office, 1_000_00)
    handover = CashHandover.objects.get()
    officer = workspace_client(ALPHA, username=ALPHA.only_here)  # a field officer of BR1 only
    assert officer.get(f"/api/v1/cash/handovers/{handover.pk}/").status_code == 404
    assert officer.get("/api/v1/cash/handovers/").json() == []
    assert {row["branch"] for row in officer.get("/api/v1/cash/holders/").json()} == {"BR1"}
    assert officer.get("/api/v1/cash/holders/", {"branch": head_office.pk}).status_code == 404
    refused = _send(officer, head_office, "api-h-10", to_vault=True)
    assert refused.status_code == 404
    auditor = workspace_client(ALPHA, username="auditor")
    assert len(auditor.get("/api/v1/cash/holders/").json()) == 3  # two vaults and the teller
    read_only = _post(
        auditor,
        "/api/v1/cash/day-closes/",
        {"branch": head_office.pk, "vault": True, "counts": {}, "idempotency_key": "a"},
    )
    assert read_only.status_code == 403 and read_only.json()["error"]["code"] == "read_only_role"
    assert not CashDayClose.objects.exists()
