"""The shares API: amounts in major units, exact postings, replays, exit blockers, roles, walls."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token

from control_plane.identity.models import User
from core_banking.ledger.models import JournalEntry
from core_banking.members.models import Member
from core_banking.savings.models import SavingsAccount, SavingsProduct, SavingsTransaction
from core_banking.savings.services import lien_place, savings_account_open, savings_deposit
from core_banking.shares.exit_rules import register_exit_blocker
from core_banking.shares.models import MemberExit, ShareAccount, ShareSettings, ShareTransaction
from core_banking.shares.services import share_purchase
from notifications.models import OutboxMessage
from tests.conftest import ALPHA, BETA, Workspace, workspace_client
from tests.core_banking.shares.conftest import DAY, OPENED

EXIT_DAY = "2026-11-30"


def _buy(client: Client, member: Member, shares: int, key: str, **extra: Any) -> Any:
    return client.post(
        f"/api/v1/members/{member.pk}/shares/purchases/",
        {"shares": shares, "idempotency_key": key, "value_date": DAY.isoformat(), **extra},
        content_type="application/json",
    )


def _exit(client: Client, member: Member, key: str = "api-exit-1", reason: str = "Moved away") -> Any:
    return client.post(
        f"/api/v1/members/{member.pk}/exit/",
        {"exit_date": EXIT_DAY, "idempotency_key": key, "reason": reason},
        content_type="application/json",
    )


def _error(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def _lines(key: str) -> list[tuple[str, int, int]]:
    entry = JournalEntry.objects.get(idempotency_key=key)
    return [(line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")]


def _savings(product: SavingsProduct, member: Member, amount_minor: int, key: str) -> SavingsAccount:
    account = savings_account_open(actor=None, member=member, product=product, opened_on=OPENED)
    savings_deposit(account_id=account.pk, amount_minor=amount_minor, value_date=DAY, idempotency_key=key)
    return account


# --- Purchases -----------------------------------------------------------------------------------


def test_a_purchase_is_priced_in_major_units_posted_exactly_and_replay_safe(
    terms: ShareSettings, member: Member
) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    first = _buy(client, member, 12, "api-sp-1", memo="First shares")
    assert first.status_code == 201, first.content
    body = first.json()
    movement = body["transaction"]
    assert (movement["kind"], movement["shares"], movement["amount"]) == ("purchase", 12, "1200.00")
    assert (movement["shares_after"], movement["balance_after"]) == (12, "1200.00")
    assert (movement["idempotency_key"], movement["memo"], movement["value_date"]) == (
        "api-sp-1",
        "First shares",
        "2026-11-24",
    )
    assert body["account"] == {
        "member": member.pk,
        "member_number": "HO-000001",
        "shares": 12,
        "balance": "1200.00",
        "nominal_value": "100.00",
        "currency": "BDT",
        "opened_on": "2026-11-24",
        "status": "active",
    }
    # The cash is in the till of the staff member who took it.
    admin = User.objects.get(username=ALPHA.admin)
    assert _lines("api-sp-1") == [(f"1100-HO-U{admin.pk}", 1_200_00, 0), ("3100", 0, 1_200_00)]
    assert ShareAccount.objects.get(member=member).balance_minor == 1_200_00

    again = _buy(client, member, 12, "api-sp-1", memo="First shares")
    assert again.status_code == 201
    assert again.json()["transaction"]["id"] == movement["id"]
    assert (
        ShareTransaction.objects.count(),
        JournalEntry.objects.count(),
        OutboxMessage.objects.count(),
    ) == (
        1,
        1,
        1,
    )
    conflict = _buy(client, member, 13, "api-sp-1")
    assert conflict.status_code == 409
    assert _error(conflict)["code"] == "idempotency_key_reused"
    assert ShareAccount.objects.get(member=member).shares == 12


def test_a_purchase_outside_the_limits_gets_a_stable_code_and_a_field_message(
    terms: ShareSettings, member: Member
) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    below = _buy(client, member, 3, "api-sp-low")
    assert below.status_code == 400
    assert (_error(below)["code"], _error(below)["fields"]) == (
        "shares_below_minimum",
        {"shares": ["At least 5."]},
    )
    assert _buy(client, member, 195, "api-sp-1").status_code == 201
    above = _buy(client, member, 6, "api-sp-2")
    assert above.status_code == 400
    assert (_error(above)["code"], _error(above)["fields"]) == (
        "shares_above_maximum",
        {"shares": ["At most 5."]},
    )
    # Without a value date the purchase is dated on the cooperative's business date.
    last = client.post(
        f"/api/v1/members/{member.pk}/shares/purchases/",
        {"shares": 5, "idempotency_key": "api-sp-3"},
        content_type="application/json",
    ).json()
    assert last["account"]["balance"] == "20000.00"
    assert last["transaction"]["value_date"] == ALPHA.cooperative().business_date().isoformat()
    for shares, key, field in [
        (0, "api-sp-4", "shares"),
        ("two", "api-sp-5", "shares"),
        (1, "k" * 101, "idempotency_key"),
    ]:
        refused = _buy(client, member, shares, key)  # type: ignore[arg-type]
        assert refused.status_code == 400
        assert (_error(refused)["code"], list(_error(refused)["fields"])) == ("validation_error", [field])
    assert ShareAccount.objects.get(member=member).shares == 200


def test_the_holding_and_its_history(terms: ShareSettings, member: Member) -> None:
    client = workspace_client(ALPHA, username="auditor")  # a read-only role reads everything
    url = f"/api/v1/members/{member.pk}/shares/"
    nothing = client.get(url).json()
    assert (nothing["shares"], nothing["balance"], nothing["opened_on"]) == (0, "0.00", None)
    share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="sp-1")
    share_purchase(member_id=member.pk, shares=1, value_date=DAY, idempotency_key="sp-2", memo="top-up")
    share_purchase(member_id=member.pk, shares=7, value_date=DAY, idempotency_key="sp-3")
    held = client.get(url).json()
    assert (held["shares"], held["balance"], held["nominal_value"]) == (13, "1300.00", "100.00")
    history = client.get(f"{url}transactions/").json()
    assert history["count"] == 3 and history["next"] is None
    assert [
        (row["shares"], row["amount"], row["shares_after"], row["balance_after"])
        for row in history["results"]
    ] == [
        (5, "500.00", 5, "500.00"),
        (1, "100.00", 6, "600.00"),
        (7, "700.00", 13, "1300.00"),
    ]
    assert history["results"][1]["memo"] == "top-up"
    page = client.get(f"{url}transactions/", {"limit": 1, "offset": 1}).json()
    assert [row["idempotency_key"] for row in page["results"]] == ["sp-2"]
    assert page["next"] is not None and page["previous"] is not None
    assert client.get("/api/v1/members/999999/shares/").status_code == 404


# --- Settings ------------------------------------------------------------------------------------


def test_staff_read_the_share_terms_and_only_admins_change_them(terms: ShareSettings, member: Member) -> None:
    officer = workspace_client(ALPHA, username=ALPHA.only_here)
    read = officer.get("/api/v1/share-settings/")
    assert read.status_code == 200
    assert {
        key: read.json()[key] for key in ("nominal_value", "minimum_shares", "maximum_shares", "currency")
    } == {
        "nominal_value": "100.00",
        "minimum_shares": 5,
        "maximum_shares": 200,
        "currency": "BDT",
    }
    refused = officer.patch(
        "/api/v1/share-settings/", {"maximum_shares": 300}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert _error(refused)["code"] == "permission_denied"
    auditor = workspace_client(ALPHA, username="auditor")
    read_only = auditor.patch(
        "/api/v1/share-settings/", {"maximum_shares": 300}, content_type="application/json"
    )
    assert (read_only.status_code, _error(read_only)["code"]) == (403, "read_only_role")

    admin = workspace_client(ALPHA, username=ALPHA.admin)
    changed = admin.patch(
        "/api/v1/share-settings/",
        {"nominal_value": "250.50", "maximum_shares": None},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    assert (
        changed.json()["nominal_value"],
        changed.json()["minimum_shares"],
        changed.json()["maximum_shares"],
    ) == (
        "250.50",
        5,
        None,
    )
    terms.refresh_from_db()
    assert (terms.nominal_value_minor, terms.maximum_shares) == (250_50, None)
    bad = admin.patch("/api/v1/share-settings/", {"nominal_value": "1.005"}, content_type="application/json")
    assert (bad.status_code, _error(bad)["code"], list(_error(bad)["fields"])) == (
        400,
        "validation_error",
        ["nominal_value"],
    )
    # Once shares are held, their value is fixed.
    share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="sp-1")
    locked = admin.patch(
        "/api/v1/share-settings/", {"nominal_value": "300.00"}, content_type="application/json"
    )
    assert locked.status_code == 400
    assert (_error(locked)["code"], _error(locked)["fields"]) == (
        "share_value_locked",
        {"nominal_value": ["Stays 250.50 while shares are held."]},
    )


# --- Exit ----------------------------------------------------------------------------------------


def test_the_exit_preview_lists_blockers_and_the_exit_is_refused_while_savings_are_pledged(
    terms: ShareSettings, member: Member, voluntary: SavingsProduct
) -> None:
    share_purchase(member_id=member.pk, shares=12, value_date=DAY, idempotency_key="sp-1")
    free = _savings(voluntary, member, 2_000_00, "d-1")
    lien_place(
        actor=None, account_id=free.pk, amount_minor=800_00, reason="Security for loan", reference="L-1"
    )
    client = workspace_client(ALPHA, username=ALPHA.admin)
    preview = client.get(f"/api/v1/members/{member.pk}/exit/").json()
    assert (preview["allowed"], list(preview["blockers"]), preview["exit"]) == (False, ["savings_lien"], None)
    [reason] = preview["blockers"]["savings_lien"]
    assert free.number in reason and "800.00" in reason
    assert (preview["shares"], preview["share_amount"], preview["savings_total"], preview["total"]) == (
        12,
        "1200.00",
        "2000.00",
        "3200.00",
    )
    assert preview["savings"] == [
        {
            "account": free.pk,
            "number": free.number,
            "product": "Voluntary savings",
            "balance": "2000.00",
            "lien": "800.00",
        }
    ]
    refused = _exit(client, member)
    assert refused.status_code == 409
    assert (_error(refused)["code"], _error(refused)["fields"]) == ("exit_refused", preview["blockers"])
    member.refresh_from_db()
    assert member.status == "active"
    assert not MemberExit.objects.exists() and not ShareTransaction.objects.filter(kind="withdrawal").exists()


def test_a_registered_blocker_refuses_the_exit_through_the_api(
    terms: ShareSettings, member: Member, temporary_blockers: list[str]
) -> None:
    register_exit_blocker(
        "loans_outstanding", lambda candidate: [f"Loan L-7 of {candidate.number} owes 5,000.00."]
    )
    temporary_blockers.append("loans_outstanding")
    client = workspace_client(ALPHA, username=ALPHA.admin)
    preview = client.get(f"/api/v1/members/{member.pk}/exit/").json()
    assert preview["blockers"] == {"loans_outstanding": ["Loan L-7 of HO-000001 owes 5,000.00."]}
    refused = _exit(client, member)
    assert (refused.status_code, _error(refused)["code"]) == (409, "exit_refused")
    assert _error(refused)["fields"] == preview["blockers"]


def test_an_exit_pays_out_exact_amounts_once(
    terms: ShareSettings, member: Member, voluntary: SavingsProduct, compulsory: SavingsProduct
) -> None:
    share_purchase(member_id=member.pk, shares=12, value_date=DAY, idempotency_key="sp-1")
    free = _savings(voluntary, member, 2_000_00, "d-1")
    locked_in = _savings(compulsory, member, 3_000_50, "d-2")
    client = workspace_client(ALPHA, username=ALPHA.admin)
    preview = client.get(f"/api/v1/members/{member.pk}/exit/").json()
    assert (preview["allowed"], preview["blockers"], preview["total"]) == (True, {}, "6200.50")
    too_long = _exit(client, member, key="k" * 81)
    assert (too_long.status_code, list(_error(too_long)["fields"])) == (400, ["idempotency_key"])

    done = _exit(client, member)
    assert done.status_code == 201, done.content
    body = done.json()
    record = body["exit"]
    assert (record["member"], record["exit_date"], record["reason"]) == (member.pk, EXIT_DAY, "Moved away")
    assert (record["shares_paid_out"], record["share_amount"], record["savings_paid_out"]) == (
        12,
        "1200.00",
        "5000.50",
    )
    withdrawal = body["share_withdrawal"]
    assert (withdrawal["kind"], withdrawal["shares"], withdrawal["amount"], withdrawal["balance_after"]) == (
        "withdrawal",
        -12,
        "-1200.00",
        "0.00",
    )
    assert sorted(
        (row["account"], row["amount"], row["balance_after"]) for row in body["savings_payouts"]
    ) == [
        (free.pk, "-2000.00", "0.00"),
        (locked_in.pk, "-3000.50", "0.00"),
    ]
    # The cash is paid out of the till of the staff member who paid it.
    till = f"1100-HO-U{User.objects.get(username=ALPHA.admin).pk}"
    assert _lines("api-exit-1:shares") == [("3100", 1_200_00, 0), (till, 0, 1_200_00)]
    assert _lines(f"api-exit-1:savings:{free.pk}") == [("2100-VOL", 2_000_00, 0), (till, 0, 2_000_00)]
    assert _lines(f"api-exit-1:savings:{locked_in.pk}") == [
        ("2100-CMP", 3_000_50, 0),
        (till, 0, 3_000_50),
    ]
    member.refresh_from_db()
    assert (member.status, member.exit_date) == ("exited", dt.date(2026, 11, 30))

    counts = (JournalEntry.objects.count(), SavingsTransaction.objects.count(), OutboxMessage.objects.count())
    again = _exit(client, member)
    assert again.status_code == 201 and again.json()["exit"]["id"] == record["id"]
    assert counts == (
        JournalEntry.objects.count(),
        SavingsTransaction.objects.count(),
        OutboxMessage.objects.count(),
    )
    assert _error(_exit(client, member, reason="Deceased"))["code"] == "idempotency_key_reused"
    after = client.get(f"/api/v1/members/{member.pk}/exit/").json()
    assert (after["allowed"], after["exit"]["id"], after["total"]) == (False, record["id"], "0.00")
    late = _buy(client, member, 5, "api-sp-late")
    assert (late.status_code, _error(late)["code"]) == (400, "member_exited")


# --- Who may reach what --------------------------------------------------------------------------


def test_a_branch_limited_manager_meets_head_office_members_as_if_absent(
    terms: ShareSettings, member: Member, br1_member: Member, br1_manager: str
) -> None:
    client = workspace_client(ALPHA, username=br1_manager)
    base = f"/api/v1/members/{member.pk}"
    for url in (f"{base}/shares/", f"{base}/shares/transactions/", f"{base}/exit/"):
        response = client.get(url)
        assert (response.status_code, _error(response)["code"]) == (404, "not_found"), url
    assert _buy(client, member, 5, "br1-sp-ho").status_code == 404
    assert _exit(client, member, key="br1-exit-ho").status_code == 404
    assert not ShareTransaction.objects.exists() and not MemberExit.objects.exists()
    own = _buy(client, br1_member, 5, "br1-sp-1")
    assert own.status_code == 201 and own.json()["account"]["balance"] == "500.00"
    assert client.get(f"/api/v1/members/{br1_member.pk}/shares/").json()["shares"] == 5
    # A branch manager does not change the cooperative's share terms.
    refused = client.patch("/api/v1/share-settings/", {"minimum_shares": 1}, content_type="application/json")
    assert (refused.status_code, _error(refused)["code"]) == (403, "permission_denied")


def test_another_workspace_cannot_reach_alphas_member(
    terms: ShareSettings, member: Member, beta: Workspace
) -> None:
    share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="sp-1")
    urls = [f"/api/v1/members/{member.pk}/shares/", f"/api/v1/members/{member.pk}/exit/"]
    # Beta's admin, signed in on beta, asks beta for alpha's member: beta has no such member.
    attacker = workspace_client(BETA, username=BETA.admin)
    for url in urls:
        assert attacker.get(url).status_code == 404
    # Beta's session carried to alpha's host is not a session there.
    carried = Client(HTTP_HOST=ALPHA.host)
    carried.cookies = attacker.cookies
    for url in urls:
        response = carried.get(url)
        assert (response.status_code, _error(response)["code"]) == (401, "not_authenticated"), url
    # Neither is a token of beta's.
    from django_tenants.utils import tenant_context

    with tenant_context(BETA.cooperative()):
        key = Token.objects.create(user=User.objects.get(username=BETA.admin)).key
    with_token = Client(HTTP_HOST=ALPHA.host, HTTP_AUTHORIZATION=f"Token {key}")
    assert with_token.get(urls[0]).status_code == 401
    assert _buy(with_token, member, 5, "beta-sp").status_code == 401
    assert _exit(with_token, member, key="beta-exit").status_code == 401
    assert ShareTransaction.objects.count() == 1 and not MemberExit.objects.exists()


def test_anonymous_callers_are_not_authenticated(terms: ShareSettings, member: Member) -> None:
    anonymous = Client(HTTP_HOST=ALPHA.host)
    for response in (
        anonymous.get("/api/v1/share-settings/"),
        anonymous.get(f"/api/v1/members/{member.pk}/shares/"),
        anonymous.get(f"/api/v1/members/{member.pk}/exit/"),
        _buy(anonymous, member, 5, "anon-sp"),
        _exit(anonymous, member, key="anon-exit"),
    ):
        assert (response.status_code, _error(response)["code"]) == (401, "not_authenticated")
    assert not ShareTransaction.objects.exists()


# --- Documentation -------------------------------------------------------------------------------


def test_the_shares_api_is_described_without_schema_warnings(alpha: Workspace) -> None:
    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=[path("api/v1/", include("core_banking.shares.api_urls"))]).get_schema(
        request=None, public=True
    )
    assert not GENERATOR_STATS, dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)
    assert sorted(schema["paths"]) == [
        "/api/v1/members/{member_id}/exit/",
        "/api/v1/members/{member_id}/shares/",
        "/api/v1/members/{member_id}/shares/purchases/",
        "/api/v1/members/{member_id}/shares/transactions/",
        "/api/v1/share-settings/",
    ]
    components = schema["components"]["schemas"]
    assert components["Purchase"]["properties"]["idempotency_key"]["maxLength"] == 100
    assert components["ExitRequest"]["properties"]["idempotency_key"]["maxLength"] == 80
    assert components["ShareSettings"]["properties"]["nominal_value"]["type"] == "string"
    assert not [
        name
        for component in components.values()
        for name in component.get("properties", {})
        if "_minor" in name
    ]
    served = workspace_client(ALPHA, username=ALPHA.admin).get("/api/schema/")
    assert served.status_code == 200
    assert "/api/v1/members/{member_id}/shares/purchases/" in served.content.decode()
