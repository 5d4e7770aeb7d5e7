"""Closing a fixed deposit before maturity through the API and the confirm page: exact figures, the
cash out of the paying staff member's till, replays, branch walls. The arithmetic itself is tested in
test_interest_posting.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.ledger.models import JournalEntry
from core_banking.organisation.models import Branch
from core_banking.savings.interest import add_months
from core_banking.savings.interest_posting import savings_deposit_close_early_preview
from core_banking.savings.models import InterestPosting, SavingsAccount, SavingsProduct, SavingsTransaction
from core_banking.savings.services import savings_account_open, savings_deposit
from frontend.formatting import format_money
from tests.conftest import ALPHA, workspace_client
from tests.core_banking.savings.conftest import make_member
from tests.core_banking.savings.page_helpers import client_for, form_key

# 50 000.00 for 7 whole months at 8 % - 2 points, credited quarterly (test_interest_posting.py works
# it out): 176 881. At the contract's 8 %: 100 000 + 102 000 + 5 202 000 x 8 / 1200 (34 680) =
# 236 680, so the penalty cost 236 680 - 176 881 = 59 799.
PRINCIPAL, INTEREST, PENALTY = 50_000_00, 176_881, 59_799


def _today() -> dt.date:
    return ALPHA.cooperative().business_date()


def _fixed_deposit(product: SavingsProduct, number: str, *, branch: Branch | None = None) -> SavingsAccount:
    """A deposit opened on the first of the month seven months ago: seven whole months by today."""
    opened = add_months(_today().replace(day=1), -7)
    account = savings_account_open(
        actor=None, member=make_member(number, branch=branch), product=product, opened_on=opened
    )
    savings_deposit(account_id=account.pk, amount_minor=PRINCIPAL, value_date=opened, idempotency_key=number)
    return account


def _lines(key: str) -> list[tuple[str, int, int]]:
    entry = JournalEntry.objects.get(idempotency_key=key)
    return [(line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")]


def _close(client: Any, account: SavingsAccount, key: str, reason: str = "School fees") -> Any:
    return client.post(
        f"/api/v1/savings/accounts/{account.pk}/close-early/",
        {"idempotency_key": key, "reason": reason},
        content_type="application/json",
    )


def _written() -> tuple[int, int, int]:
    return JournalEntry.objects.count(), SavingsTransaction.objects.count(), InterestPosting.objects.count()


def test_the_preview_computes_what_the_closure_pays_and_writes_nothing(fdr: SavingsProduct) -> None:
    account = _fixed_deposit(fdr, "HO-000201")
    before = _written()

    preview = savings_deposit_close_early_preview(account_id=account.pk, on=_today())

    assert (
        preview.principal_minor,
        preview.interest_minor,
        preview.penalty_minor,
        preview.paid_out_minor,
        preview.months_completed,
        preview.contract_rate,
        preview.applied_rate,
    ) == (PRINCIPAL, INTEREST, PENALTY, PRINCIPAL + INTEREST, 7, 8, 6)
    assert _written() == before
    account.refresh_from_db()
    assert (account.status, account.balance_minor) == ("active", PRINCIPAL)
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_deposit_close_early_preview(account_id=account.pk, on=account.maturity_date)  # type: ignore[arg-type]
    assert raised.value.code == ErrorCode.VALIDATION_ERROR


def test_the_api_closes_a_deposit_pays_it_out_of_the_callers_till_and_is_replay_safe(
    fdr: SavingsProduct, voluntary: SavingsProduct
) -> None:
    account = _fixed_deposit(fdr, "HO-000211")
    client = workspace_client(ALPHA, username=ALPHA.admin)
    no_reason = client.post(
        f"/api/v1/savings/accounts/{account.pk}/close-early/", {"idempotency_key": "no-reason"}
    )
    assert (no_reason.status_code, list(no_reason.json()["error"]["fields"])) == (400, ["reason"])

    closed = _close(client, account, "api-close-1")

    assert closed.status_code == 201, closed.content
    body = closed.json()
    assert (body["account"], body["closed_on"]) == (account.pk, _today().isoformat())
    assert (body["principal"], body["interest"], body["penalty"], body["paid_out"]) == (
        "50000.00",
        "1768.81",
        "597.99",
        "51768.81",
    )
    assert (body["interest_transaction"]["amount"], body["payout_transaction"]["amount"]) == (
        "1768.81",
        "-51768.81",
    )
    assert body["payout_transaction"]["balance_after"] == "0.00"
    admin = User.objects.get(username=ALPHA.admin)
    assert _lines("api-close-1:interest") == [("5100", INTEREST, 0), ("2100-FDR", 0, INTEREST)]
    assert _lines("api-close-1:payout") == [
        ("2100-FDR", PRINCIPAL + INTEREST, 0),
        (f"1100-HO-U{admin.pk}", 0, PRINCIPAL + INTEREST),
    ]
    account.refresh_from_db()
    assert (account.status, account.balance_minor, account.closed_on) == ("closed", 0, _today())
    event = AuditEvent.objects.get(action="savings.deposit.close_early", object_id=str(account.pk))
    assert (event.changes["reason"], event.changes["penalty_minor"]) == ("School fees", PENALTY)

    written = _written()
    again = _close(client, account, "api-close-1")
    assert again.status_code == 201 and again.json() == body
    assert _written() == written
    other = _close(client, account, "api-close-2")
    assert (other.status_code, other.json()["error"]["code"]) == (409, "savings_account_not_active")

    savings = savings_account_open(
        actor=None, member=account.member, product=voluntary, opened_on=account.opened_on
    )
    not_a_deposit = _close(client, savings, "api-close-3")
    assert (not_a_deposit.status_code, not_a_deposit.json()["error"]["code"]) == (400, "validation_error")
    assert _written() == written


def test_other_branches_and_read_only_roles_cannot_close_a_deposit(fdr: SavingsProduct) -> None:
    head_office = _fixed_deposit(fdr, "HO-000221")
    branch_one = _fixed_deposit(fdr, "BR1-000221", branch=Branch.objects.get(code="BR1"))
    written = _written()
    officer = workspace_client(ALPHA, username=ALPHA.only_here)  # a field officer of BR1
    hidden = _close(officer, head_office, "br1-close-ho")
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "not_found")
    auditor = _close(workspace_client(ALPHA, username="auditor"), branch_one, "auditor-close")
    assert auditor.status_code == 403
    assert _written() == written

    own = _close(officer, branch_one, "br1-close-1")
    assert own.status_code == 201 and own.json()["paid_out"] == "51768.81"
    officer_user = User.objects.get(username=ALPHA.only_here)
    assert _lines("br1-close-1:payout")[1] == (f"1100-BR1-U{officer_user.pk}", 0, PRINCIPAL + INTEREST)


def test_the_confirm_page_shows_the_payout_then_closes_once(
    fdr: SavingsProduct, account: SavingsAccount
) -> None:
    deposit = _fixed_deposit(fdr, "HO-000231")
    client = client_for(ALPHA.admin)
    url = f"/savings/{deposit.pk}/close-early/"
    assert f'href="{url}"' in client.get(f"/savings/{deposit.pk}/").content.decode()
    assert "close-early" not in client.get(f"/savings/{account.pk}/").content.decode()  # not a deposit
    written = _written()

    page = client.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    for amount in (PRINCIPAL, INTEREST, PENALTY, PRINCIPAL + INTEREST):
        assert format_money(amount, "BDT", "en") in html
    assert _written() == written  # looking does not close anything
    key = form_key(client, url)
    missing_reason = client.post(url, {"idempotency_key": key, "reason": ""})
    assert missing_reason.status_code == 200 and "reason" in missing_reason.context["form"].errors

    closed = client.post(url, {"idempotency_key": key, "reason": "Medical bills"})

    assert closed.status_code == 302 and closed["Location"] == f"/savings/{deposit.pk}/"
    admin = User.objects.get(username=ALPHA.admin)
    assert _lines(f"{key}:payout") == [
        ("2100-FDR", PRINCIPAL + INTEREST, 0),
        (f"1100-HO-U{admin.pk}", 0, PRINCIPAL + INTEREST),
    ]
    written = _written()
    again = client.post(url, {"idempotency_key": key, "reason": "Medical bills"})  # a double tap
    assert again.status_code == 302 and _written() == written
    deposit.refresh_from_db()
    assert (deposit.status, deposit.balance_minor) == ("closed", 0)
    after = client.get(url)
    assert after.status_code == 200 and "This account is not active" in after.content.decode()
    assert f'href="{url}"' not in client.get(f"/savings/{deposit.pk}/").content.decode()


def test_the_confirm_page_keeps_to_the_callers_branches_and_role(fdr: SavingsProduct) -> None:
    deposit = _fixed_deposit(fdr, "HO-000241")
    url = f"/savings/{deposit.pk}/close-early/"
    officer = client_for(ALPHA.only_here)
    assert officer.get(url).status_code == 404
    assert officer.post(url, {"idempotency_key": "web-guessed-key", "reason": "x"}).status_code == 404
    assert client_for("auditor").get(url).status_code == 403
    deposit.refresh_from_db()
    assert deposit.status == "active" and not InterestPosting.objects.exists()
