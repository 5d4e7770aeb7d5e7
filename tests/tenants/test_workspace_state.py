"""A workspace's subscription state: past due warns, read-only refuses every change, suspended shows why.

The state lives on the cooperative in the public schema; each request reads it afresh, so a
webhook that moves a cooperative takes effect on its next request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from control_plane.errors import BusinessRuleViolation
from core_banking.ledger.services import LineSpec, PostingRequest, journal_post_batch
from core_banking.lending.tasks import close_of_business_daily
from core_banking.members.models import Member, MemberType
from core_banking.organisation.models import Branch
from core_banking.savings.models import SavingsAccount
from core_banking.savings.services import savings_account_open, savings_deposit, savings_product_create
from core_banking.savings.tasks import savings_interest_daily
from tenants.models import Cooperative, Lifecycle
from tests.conftest import ALPHA, BETA, PASSWORD, workspace_client

pytestmark = pytest.mark.django_db
OPENED = dt.date(2026, 1, 5)


def _set_state(slug: str, state: str) -> Cooperative:
    connection.set_schema_to_public()
    cooperative = Cooperative.objects.get(slug=slug)
    cooperative.lifecycle = state
    cooperative.save(update_fields=["lifecycle"])
    return cooperative


@pytest.fixture
def account() -> SavingsAccount:
    with tenant_context(Cooperative.objects.get(slug=ALPHA.slug)):
        product = savings_product_create(
            actor=None,
            code="VOL",
            name="Voluntary savings",
            kind="voluntary",
            annual_rate=Decimal("6"),
            rate_effective_from=OPENED,
        )
        member_type, _created = MemberType.objects.get_or_create(code="ORD", defaults={"name": "Ordinary"})
        member = Member.objects.create(
            number="HO-900001",
            branch=Branch.objects.get(is_head_office=True),
            member_type=member_type,
            full_name="Rahima Begum",
            phone="+8801711000009",
            message_language="bn",
            join_date=OPENED,
        )
        return savings_account_open(actor=None, member=member, product=product, opened_on=OPENED)


def _deposit_through_api(account: SavingsAccount, key: str) -> tuple[int, str]:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    response = client.post(
        f"/api/v1/savings/accounts/{account.pk}/deposits/",
        {"amount": "100.00", "idempotency_key": key, "value_date": OPENED.isoformat()},
        content_type="application/json",
    )
    body = response.json()
    return response.status_code, body.get("error", {}).get("code", "")


def _balance(account: SavingsAccount) -> int:
    with tenant_context(Cooperative.objects.get(slug=ALPHA.slug)):
        return SavingsAccount.objects.get(pk=account.pk).balance_minor


def test_past_due_warns_on_every_page_and_still_posts(account: SavingsAccount) -> None:
    _set_state(ALPHA.slug, Lifecycle.PAST_DUE)
    page = workspace_client(ALPHA, username=ALPHA.admin).get("/").content.decode()
    assert 'data-state="past_due"' in page
    assert _deposit_through_api(account, "due-1") == (201, "")
    assert _balance(account) == 100_00


def test_read_only_refuses_changes_through_the_api_and_the_pages(account: SavingsAccount) -> None:
    _set_state(ALPHA.slug, Lifecycle.READ_ONLY)
    assert _deposit_through_api(account, "ro-1") == (403, "workspace_read_only")
    assert _balance(account) == 0
    client = workspace_client(ALPHA, username=ALPHA.admin)  # logging in is still allowed
    page = client.post("/members/new/", {"full_name": "Someone"})
    assert page.status_code == 403
    assert 'data-state="read_only"' in page.content.decode()
    # Reading and exporting go on: the member list, a report as a spreadsheet.
    assert client.get("/members/").status_code == 200
    assert 'data-state="read_only"' in client.get("/").content.decode()
    assert client.post("/language/", {"language": "bn"}).status_code == 302
    assert client.post("/accounts/logout/").status_code == 302


def test_read_only_refuses_postings_from_services_and_batches(account: SavingsAccount) -> None:
    cooperative = _set_state(ALPHA.slug, Lifecycle.READ_ONLY)
    with tenant_context(cooperative):
        with pytest.raises(BusinessRuleViolation) as refused:
            savings_deposit(account_id=account.pk, amount_minor=100, value_date=OPENED, idempotency_key="s-1")
        assert refused.value.code == "workspace_read_only"
        branch = Branch.objects.get(is_head_office=True)
        with pytest.raises(BusinessRuleViolation) as batch_refused:
            journal_post_batch(
                postings=[
                    PostingRequest(
                        idempotency_key="b-1",
                        value_date=OPENED,
                        branch=branch,
                        memo="",
                        lines=[LineSpec("1100-HO", debit_minor=5), LineSpec("3100", credit_minor=5)],
                    )
                ]
            )
        assert batch_refused.value.code == "workspace_read_only"
        # The daily jobs post nothing while the workspace is read-only (they catch up after payment).
        assert close_of_business_daily() == {"skipped": "read_only"}
        assert savings_interest_daily() == {"skipped": "read_only"}
    assert _balance(account) == 0


def test_suspended_shows_why_and_lets_nobody_in(account: SavingsAccount) -> None:
    _set_state(ALPHA.slug, Lifecycle.SUSPENDED)
    client = workspace_client(ALPHA)
    page = client.get("/")
    assert page.status_code == 403 and 'data-state="suspended"' in page.content.decode()
    login = client.post("/accounts/login/", {"username": ALPHA.admin, "password": PASSWORD})
    assert login.status_code == 403 and "_auth_user_id" not in client.session
    api = client.get("/api/v1/savings/accounts/", HTTP_ACCEPT="application/json")
    assert (api.status_code, api.json()["error"]["code"]) == (403, "workspace_suspended")


@pytest.fixture
def beta_active() -> Iterator[None]:
    yield
    _set_state(BETA.slug, Lifecycle.ACTIVE)


def test_one_workspace_read_only_leaves_the_others_alone(account: SavingsAccount, beta_active: None) -> None:
    """Another cooperative's state never leaks: alpha posts while beta is read-only."""
    _set_state(BETA.slug, Lifecycle.READ_ONLY)
    assert _deposit_through_api(account, "other-1") == (201, "")
    beta_page = workspace_client(BETA, username=BETA.admin).get("/").content.decode()
    assert 'data-state="read_only"' in beta_page
    alpha_page = workspace_client(ALPHA, username=ALPHA.admin).get("/").content.decode()
    assert "data-state=" not in alpha_page


def test_paying_restores_access_at_once(account: SavingsAccount) -> None:
    _set_state(ALPHA.slug, Lifecycle.READ_ONLY)
    assert _deposit_through_api(account, "pay-1") == (403, "workspace_read_only")
    _set_state(ALPHA.slug, Lifecycle.ACTIVE)
    assert _deposit_through_api(account, "pay-1") == (201, "")
    assert _balance(account) == 100_00
