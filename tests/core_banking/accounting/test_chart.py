"""The chart of accounts after provisioning: adding, renaming and deactivating accounts, with its walls."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.ledger.models import Account
from core_banking.ledger.services import LineSpec, account_create, account_update, journal_post
from core_banking.organisation.models import Branch
from tests.conftest import ALPHA, BETA
from tests.core_banking.accounting.conftest import DAY, english_client, entry_lines, payment


def _refused(code: ErrorCode) -> Any:
    return pytest.raises(BusinessRuleViolation, check=lambda error: error.code == code)


def _api(client: Client, method: str, path: str = "", body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(
        f"/api/v1/accounting/accounts/{path}", body, content_type="application/json"
    )


def test_an_accountant_adds_an_account_and_the_trail_records_it(maker: User) -> None:
    account = account_create(actor=maker, code=" 5400 ", name=" Office rent ", kind="expense")
    assert (account.code, account.name, account.kind, account.branch, account.is_active) == (
        "5400", "Office rent", "expense", None, True,
    )  # fmt: skip
    event = AuditEvent.objects.get(action="ledger.account.create")
    assert (event.actor_id, event.object_id) == (maker.pk, str(account.pk))
    assert event.changes == {
        "code": "5400", "name": "Office rent", "kind": "expense", "branch": None, "is_active": True,
    }  # fmt: skip


def test_a_taken_or_malformed_code_is_refused(maker: User, branch_one: Branch) -> None:
    with _refused(ErrorCode.ACCOUNT_CODE_TAKEN) as taken:
        account_create(actor=maker, code="4300", name="Another fee income", kind="income")
    assert taken.value.fields == {"code": ["Account 4300 already exists."]}
    for code in ("", "12", "ABCD", "5300 01", "5300-", "5300-01-", "5" * 7, "1234-" + "x" * 16):
        with _refused(ErrorCode.ACCOUNT_CODE_INVALID):
            account_create(actor=maker, code=code, name="Bad", kind="expense")
    with _refused(ErrorCode.ACCOUNT_CODE_INVALID):  # the product makes branch cash accounts itself
        account_create(actor=maker, code="1100-BR9", name="Cash", kind="asset")
    with _refused(ErrorCode.VALIDATION_ERROR):
        account_create(actor=maker, code="5400", name="Rent", kind="overhead")
    own = account_create(
        actor=maker, code="5300-BR1", name="Branch one expenses", kind="expense", branch=branch_one
    )
    assert own.branch == branch_one
    assert not Account.objects.filter(code__in=["12", "1100-BR9", "5400"]).exists()


def test_rename_deactivate_and_reactivate_are_audited_as_diffs(maker: User) -> None:
    account = account_create(actor=maker, code="5400", name="Office rent", kind="expense")
    renamed = account_update(actor=maker, account_id=account.pk, name="Rent of the office")
    assert Account.objects.get(pk=account.pk).name == renamed.name == "Rent of the office"
    account_update(actor=maker, account_id=account.pk, is_active=False)
    assert not Account.objects.get(pk=account.pk).is_active
    account_update(actor=maker, account_id=account.pk, is_active=True, name="Rent of the office")
    updates = AuditEvent.objects.filter(action="ledger.account.update").order_by("id")
    assert [event.changes for event in updates] == [
        {"name": ["Office rent", "Rent of the office"]},
        {"is_active": [True, False]},
        {"is_active": [False, True]},
    ]
    account_update(actor=maker, account_id=account.pk, name="Rent of the office")  # nothing changes
    assert updates.count() == 3


def test_control_accounts_stay_active_and_keep_their_code_kind_and_branch(
    maker: User, head_office: Branch, branch_one: Branch
) -> None:
    for code in ("3100", "2300", "2200", "5100", "1450", "2310", "3900", "1100-HO"):
        account = Account.objects.get(code=code)
        with _refused(ErrorCode.ACCOUNT_IS_CONTROL) as refused:
            account_update(actor=maker, account_id=account.pk, is_active=False)
        assert refused.value.fields == {"is_active": ["A control account stays active."]}
    share_capital = Account.objects.get(code="3100")
    with _refused(ErrorCode.ACCOUNT_IS_CONTROL):
        account_update(actor=maker, account_id=share_capital.pk, code="3150")
    with _refused(ErrorCode.ACCOUNT_IS_CONTROL):
        account_update(actor=maker, account_id=share_capital.pk, kind="liability")
    cash = Account.objects.get(code="1100-HO")
    with _refused(ErrorCode.ACCOUNT_IS_CONTROL):
        account_update(actor=maker, account_id=cash.pk, branch=branch_one)
    account_update(actor=maker, account_id=share_capital.pk, name="Members' share capital")
    share_capital.refresh_from_db()
    assert (share_capital.code, share_capital.kind, share_capital.name, share_capital.is_active) == (
        "3100", "equity", "Members' share capital", True,
    )  # fmt: skip
    assert Account.objects.get(code="1100-HO").branch == head_office


def test_code_and_kind_are_fixed_once_an_account_has_postings(maker: User, head_office: Branch) -> None:
    account = account_create(actor=maker, code="5400", name="Office rent", kind="income")
    account_update(actor=maker, account_id=account.pk, code="5410", kind="expense")  # no postings yet
    voucher = payment(head_office, "pv-rent", ("5410", 2_500_00))
    assert entry_lines(voucher) == [("5410", 2_500_00, 0), ("1100-HO", 0, 2_500_00)]
    with _refused(ErrorCode.ACCOUNT_HAS_POSTINGS) as refused:
        account_update(actor=maker, account_id=account.pk, kind="asset")
    assert refused.value.fields == {"kind": ["The kind cannot change."]}
    with _refused(ErrorCode.ACCOUNT_HAS_POSTINGS):
        account_update(actor=maker, account_id=account.pk, code="5420")
    with _refused(ErrorCode.ACCOUNT_CODE_TAKEN):  # no postings: only the code's uniqueness stops it
        account_update(actor=maker, account_id=Account.objects.get(code="5300").pk, code="4300")
    account_update(actor=maker, account_id=account.pk, name="Rent", is_active=False)
    account.refresh_from_db()
    assert (account.code, account.kind, account.name, account.is_active) == ("5410", "expense", "Rent", False)


def test_a_deactivated_account_takes_no_postings(maker: User, head_office: Branch) -> None:
    account = account_create(actor=maker, code="5400", name="Office rent", kind="expense")
    account_update(actor=maker, account_id=account.pk, is_active=False)
    lines = [LineSpec("5400", debit_minor=1_000_00), LineSpec("1100-HO", credit_minor=1_000_00)]
    with _refused(ErrorCode.ACCOUNT_UNKNOWN) as refused:
        journal_post(idempotency_key="rent-1", value_date=DAY, branch=head_office, lines=lines)
    assert refused.value.fields == {"lines": ["No active account 5400."]}
    account_update(actor=maker, account_id=account.pk, is_active=True)
    entry = journal_post(idempotency_key="rent-1", value_date=DAY, branch=head_office, lines=lines)
    assert [
        (line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")
    ] == [
        ("5400", 1_000_00, 0),
        ("1100-HO", 0, 1_000_00),
    ]


def test_the_chart_through_the_api(head_office: Branch, br1_accountant: User) -> None:
    clerk = english_client(ALPHA, "clerk0")
    listed = _api(clerk, "get").json()
    assert {"code": "3100", "kind": "equity", "is_control": True, "is_active": True}.items() <= next(
        row for row in listed if row["code"] == "3100"
    ).items()
    assert next(row for row in listed if row["code"] == "1100-HO")["branch"] == head_office.pk
    created = _api(clerk, "post", body={"code": "5400", "name": "Office rent", "kind": "expense"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {
        "id": body["id"], "code": "5400", "name": "Office rent", "kind": "expense", "branch": None,
        "branch_code": None, "is_active": True, "is_control": False,
    }  # fmt: skip
    again = _api(clerk, "post", body={"code": "5400", "name": "Rent", "kind": "expense"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "account_code_taken")
    bad = _api(clerk, "post", body={"code": "54", "name": "Rent", "kind": "expense"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "account_code_invalid")
    renamed = _api(clerk, "patch", f"{body['id']}/", {"name": "Rent", "branch": head_office.pk})
    assert renamed.status_code == 200, renamed.content
    assert (renamed.json()["name"], renamed.json()["branch_code"]) == ("Rent", "HO")
    off = _api(clerk, "patch", f"{body['id']}/", {"is_active": False})
    assert (off.status_code, off.json()["is_active"], off.json()["branch"]) == (200, False, head_office.pk)
    share_capital = Account.objects.get(code="3100")
    control = _api(clerk, "patch", f"{share_capital.pk}/", {"is_active": False})
    assert (control.status_code, control.json()["error"]["code"]) == (409, "account_is_control")
    assert _api(clerk, "get", f"{share_capital.pk}/").json()["is_active"] is True
    assert _api(clerk, "get", "999999/").status_code == 404

    field_officer = english_client(ALPHA, ALPHA.only_here)
    assert _api(field_officer, "get").status_code == 403
    refused = _api(field_officer, "post", body={"code": "5500", "name": "Travel", "kind": "expense"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    assert _api(field_officer, "patch", f"{body['id']}/", {"name": "Mine"}).status_code == 403
    auditor = english_client(ALPHA, "auditor")
    assert _api(auditor, "get", f"{body['id']}/").json()["name"] == "Rent"
    read_only = _api(auditor, "patch", f"{body['id']}/", {"name": "Audited"})
    assert (read_only.status_code, read_only.json()["error"]["code"]) == (403, "read_only_role")
    branch_only = english_client(ALPHA, "br1-accountant")
    assert _api(branch_only, "get").status_code == 200
    outside = _api(branch_only, "post", body={"code": "5500", "name": "Travel", "kind": "expense"})
    assert (outside.status_code, outside.json()["error"]["code"]) == (403, "permission_denied")
    assert Account.objects.get(pk=body["id"]).name == "Rent"
    assert not Account.objects.filter(code="5500").exists()


def test_another_workspace_cannot_see_or_change_the_chart(in_alpha: Any) -> None:
    made = [
        account_create(actor=None, code=f"54{n:02d}", name=f"Expense {n}", kind="expense") for n in range(3)
    ]
    ours = made[-1]
    with tenant_context(BETA.cooperative()):
        assert not Account.objects.filter(pk=ours.pk).exists()
        attacker = english_client(BETA, BETA.admin)
        assert "5402" not in {row["code"] for row in _api(attacker, "get").json()}
        assert _api(attacker, "get", f"{ours.pk}/").status_code == 404
        assert _api(attacker, "patch", f"{ours.pk}/", {"name": "Taken"}).status_code == 404
        assert attacker.get(f"/accounting/accounts/{ours.pk}/edit/").status_code == 404
    alpha_session = english_client(ALPHA, ALPHA.admin)
    alpha_session.defaults["HTTP_HOST"] = BETA.host
    assert _api(alpha_session, "patch", f"{ours.pk}/", {"name": "Taken"}).status_code in (401, 403)
    with tenant_context(ALPHA.cooperative()):
        assert Account.objects.get(pk=ours.pk).name == "Expense 2"


def test_the_chart_pages(head_office: Branch) -> None:
    clerk = english_client(ALPHA, "clerk0")
    assert "/accounting/accounts/" in clerk.get("/accounting/").content.decode()
    page = clerk.get("/accounting/accounts/")
    shown = page.content.decode()
    assert page.status_code == 200
    assert "Chart of accounts" in shown and "শেয়ার মূলধন" in shown and "1100-HO" in shown  # a Bangla preset
    assert shown.index(">Asset<") < shown.index(">Liability<") < shown.index(">Expense<")
    assert "/accounting/accounts/new/" in shown

    added = clerk.post(
        "/accounting/accounts/new/", {"code": "5400", "name": "Office rent", "kind": "expense", "branch": ""}
    )
    assert (added.status_code, added["Location"]) == (302, "/accounting/accounts/")
    account = Account.objects.get(code="5400")
    taken = clerk.post("/accounting/accounts/new/", {"code": "4300", "name": "Fees", "kind": "income"})
    assert taken.status_code == 200 and "Account 4300 already exists." in taken.content.decode()

    edit = f"/accounting/accounts/{account.pk}/edit/"
    assert clerk.get(edit).status_code == 200
    saved = clerk.post(
        edit, {"code": "5400", "name": "Rent", "kind": "expense", "branch": str(head_office.pk)}
    )
    assert saved.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.branch, account.is_active) == ("Rent", head_office, False)

    share_capital = Account.objects.get(code="3100")
    control_page = clerk.get(f"/accounting/accounts/{share_capital.pk}/edit/").content.decode()
    assert "only its name can change" in control_page
    # Disabled fields keep their values whatever is sent: only the name changes.
    clerk.post(
        f"/accounting/accounts/{share_capital.pk}/edit/",
        {"code": "3150", "name": "Member shares", "kind": "liability"},
    )
    share_capital.refresh_from_db()
    assert (share_capital.code, share_capital.name, share_capital.kind, share_capital.is_active) == (
        "3100", "Member shares", "equity", True,
    )  # fmt: skip

    auditor = english_client(ALPHA, "auditor")
    read = auditor.get("/accounting/accounts/")
    assert read.status_code == 200 and "/accounting/accounts/new/" not in read.content.decode()
    assert auditor.get(edit).status_code == 403
    field_officer = english_client(ALPHA, ALPHA.only_here)
    assert field_officer.get("/accounting/accounts/").status_code == 403
