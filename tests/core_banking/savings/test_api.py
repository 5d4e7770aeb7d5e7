"""The savings API: decimal strings in, exact minor units inside, stable errors, branch walls."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from core_banking.organisation.models import Branch
from core_banking.savings.models import SavingsAccount, SavingsProduct
from core_banking.savings.services import savings_account_open, savings_deposit, savings_product_create
from tests.conftest import ALPHA, BETA, workspace_client
from tests.core_banking.savings.conftest import OPENED, make_member


def _deposit(client: Client, account: SavingsAccount, amount: str, key: str) -> object:
    return client.post(
        f"/api/v1/savings/accounts/{account.pk}/deposits/",
        {"amount": amount, "idempotency_key": key, "value_date": "2026-11-24"},
        content_type="application/json",
    )


def test_a_deposit_through_the_api_is_exact_and_replay_safe(account: SavingsAccount) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    first = _deposit(client, account, "1250.75", "api-1")
    assert first.status_code == 201, first.content  # type: ignore[attr-defined]
    body = first.json()  # type: ignore[attr-defined]
    assert (body["amount"], body["balance_after"], body["kind"]) == ("1250.75", "1250.75", "deposit")
    again = _deposit(client, account, "1250.75", "api-1")
    assert again.json()["id"] == body["id"]  # type: ignore[attr-defined]
    account.refresh_from_db()
    assert account.balance_minor == 125_075
    conflict = _deposit(client, account, "1250.76", "api-1")
    assert conflict.status_code == 409  # type: ignore[attr-defined]
    assert conflict.json()["error"]["code"] == "idempotency_key_reused"  # type: ignore[attr-defined]


def test_bad_amounts_get_field_messages(account: SavingsAccount) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    response = _deposit(client, account, "10.005", "api-2")
    assert response.status_code == 400  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "validation_error"
    assert error["fields"]["amount"] == ["BDT has 2 decimal places; this amount has more."]
    assert _deposit(client, account, "-3", "api-3").json()["error"]["fields"]["amount"]  # type: ignore[attr-defined]


def test_a_withdrawal_beyond_the_balance_is_a_conflict_with_a_reason(account: SavingsAccount) -> None:
    savings_deposit(account_id=account.pk, amount_minor=1_000_00, value_date=OPENED, idempotency_key="d-1")
    client = workspace_client(ALPHA, username=ALPHA.admin)
    response = client.post(
        f"/api/v1/savings/accounts/{account.pk}/withdrawals/",
        {"amount": "600.00", "idempotency_key": "w-1"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_balance"
    assert response.json()["error"]["fields"] == {"amount_minor": ["At most 50000."]}


def test_vnd_has_no_decimals(in_beta: object) -> None:
    product = savings_product_create(
        actor=None, code="TK", name="Tiết kiệm", kind="voluntary", annual_rate=Decimal("4"),
        rate_effective_from=OPENED,
    )  # fmt: skip
    member = make_member("HO-1", phone="+84912345678")
    account = savings_account_open(actor=None, member=member, product=product, opened_on=OPENED)
    client = workspace_client(BETA, username=BETA.admin)
    assert _deposit(client, account, "1.5", "vn-1").status_code == 400  # type: ignore[attr-defined]
    ok = _deposit(client, account, "1500000", "vn-2")
    assert ok.json()["balance_after"] == "1500000"  # type: ignore[attr-defined]


def test_a_branch_limited_officer_cannot_see_or_move_another_branchs_account(
    account: SavingsAccount, voluntary: SavingsProduct
) -> None:
    # alpha-only is a field officer limited to branch BR1; the account is at the head office.
    client = workspace_client(ALPHA, username=ALPHA.only_here)
    assert client.get(f"/api/v1/savings/accounts/{account.pk}/").status_code == 404
    assert _deposit(client, account, "10.00", "fo-1").status_code == 404  # type: ignore[attr-defined]
    own = savings_account_open(
        actor=None, member=make_member("BR1-1", branch=Branch.objects.get(code="BR1")), product=voluntary,
        opened_on=OPENED,
    )  # fmt: skip
    assert _deposit(client, own, "10.00", "fo-2").status_code == 201  # type: ignore[attr-defined]
    listed = client.get("/api/v1/savings/accounts/").json()
    assert [row["number"] for row in listed] == [own.number]


def test_an_auditor_reads_but_cannot_post(account: SavingsAccount) -> None:
    client = workspace_client(ALPHA, username="auditor")
    assert client.get(f"/api/v1/savings/accounts/{account.pk}/statement/").status_code == 200
    response = _deposit(client, account, "10.00", "au-1")
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "read_only_role"  # type: ignore[attr-defined]


def test_a_workspace_token_is_worthless_on_another_workspace(account: SavingsAccount, beta: object) -> None:
    from control_plane.identity.models import User

    token = Token.objects.create(user=User.objects.get(username=ALPHA.admin))
    with_token = Client(HTTP_HOST=ALPHA.host, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert with_token.get(f"/api/v1/savings/accounts/{account.pk}/").status_code == 200
    elsewhere = Client(HTTP_HOST=BETA.host, HTTP_AUTHORIZATION=f"Token {token.key}")
    response = elsewhere.get(f"/api/v1/savings/accounts/{account.pk}/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    with tenant_context(BETA.cooperative()):
        assert not Token.objects.filter(key=token.key).exists()


def test_a_token_is_issued_for_the_workspaces_own_users(in_alpha: object) -> None:
    from tests.conftest import PASSWORD

    client = Client(HTTP_HOST=ALPHA.host)
    issued = client.post("/api/v1/auth/token/", {"username": ALPHA.admin, "password": PASSWORD})
    assert issued.status_code == 200 and len(issued.json()["token"]) == 40
    refused = Client(HTTP_HOST=BETA.host).post(
        "/api/v1/auth/token/", {"username": ALPHA.admin, "password": PASSWORD}
    )
    assert refused.status_code == 400


def test_the_statement_shows_opening_movements_and_closing(account: SavingsAccount) -> None:
    import datetime as dt

    savings_deposit(
        account_id=account.pk, amount_minor=500_00, value_date=dt.date(2026, 10, 30), idempotency_key="a"
    )
    savings_deposit(
        account_id=account.pk, amount_minor=250_00, value_date=dt.date(2026, 11, 3), idempotency_key="b"
    )
    client = workspace_client(ALPHA, username=ALPHA.admin)
    body = client.get(
        f"/api/v1/savings/accounts/{account.pk}/statement/", {"start": "2026-11-01", "end": "2026-11-30"}
    ).json()
    assert (body["opening"], body["deposits"], body["closing"]) == ("500.00", "250.00", "750.00")
    assert [row["idempotency_key"] for row in body["transactions"]] == ["b"]
    bad = client.get(
        f"/api/v1/savings/accounts/{account.pk}/statement/", {"start": "2026-12-01", "end": "2026-11-01"}
    )
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["start"]


@pytest.mark.parametrize("path", ["/api/schema/", "/api/schema/ui/"])
def test_the_api_is_documented_at_api_schema(alpha: object, path: str) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    response = client.get(path)
    assert response.status_code == 200
    if path == "/api/schema/":
        text = response.content.decode()
        assert "/api/v1/savings/accounts/{account_id}/deposits/" in text
        assert "TokenAuth" in text or "tokenAuth" in text


def test_a_deposit_is_corrected_through_the_api_by_an_accountant_only(account: SavingsAccount) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    deposit = _deposit(client, account, "2500.00", "api-dep").json()  # type: ignore[attr-defined]
    url = f"/api/v1/savings/transactions/{deposit['id']}/corrections/"
    body = {"corrected_amount": "250.00", "reason": "Keyed a zero too many", "idempotency_key": "api-fix"}
    teller = workspace_client(ALPHA, username=ALPHA.only_here)
    assert teller.post(url, body, content_type="application/json").status_code == 403
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["movement"]["amount"] == "-2250.00"
    assert response.json()["movement"]["balance_after"] == "250.00"
    again = client.post(url, body, content_type="application/json")
    assert again.json()["movement"]["id"] == response.json()["movement"]["id"]
    missing = client.post(
        "/api/v1/savings/transactions/999999/corrections/", body, content_type="application/json"
    )
    assert missing.status_code == 404
    bad = client.post(
        url, body | {"corrected_amount": "abc", "idempotency_key": "x2"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "corrected_amount" in bad.json()["error"]["fields"]


def test_cash_taken_and_paid_through_the_api_is_held_by_the_staff_member_who_handled_it(
    account: SavingsAccount,
) -> None:
    from control_plane.identity.models import User
    from core_banking.cash.selectors import balance_minor, holder_of
    from core_banking.ledger.models import JournalEntry

    client = workspace_client(ALPHA, username=ALPHA.admin)
    assert _deposit(client, account, "900.00", "till-in").status_code == 201  # type: ignore[attr-defined]
    paid = client.post(
        f"/api/v1/savings/accounts/{account.pk}/withdrawals/",
        {"amount": "150.00", "idempotency_key": "till-out", "value_date": "2026-11-24"},
        content_type="application/json",
    )
    assert paid.status_code == 201, paid.content
    admin = User.objects.get(username=ALPHA.admin)
    holder = holder_of(branch_id=account.branch_id, user_id=admin.pk)
    assert holder is not None and holder.account.code == f"1100-{account.branch.code}-U{admin.pk}"
    assert balance_minor(holder.account_id) == 750_00
    entry = JournalEntry.objects.get(idempotency_key="till-in")
    assert [line.account.code for line in entry.lines.order_by("id")] == [holder.account.code, "2100-VOL"]
