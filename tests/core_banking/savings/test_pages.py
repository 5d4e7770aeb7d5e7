"""Savings staff pages: who may see and do what, branch walls, exact amounts, one posting per form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core_banking.members.models import Member
from core_banking.organisation.models import Branch
from core_banking.savings import views
from core_banking.savings.forms import parse_amount
from core_banking.savings.models import SavingsAccount, SavingsProduct, SavingsRate, SavingsTransaction
from core_banking.savings.services import savings_account_open, savings_deposit, savings_product_create
from core_banking.staff.services import staff_user_create
from frontend.formatting import format_money
from tests.conftest import ALPHA, PASSWORD, Workspace, workspace_client
from tests.core_banking.savings.conftest import OPENED, make_member
from tests.core_banking.savings.page_helpers import client_for, form_key


@pytest.fixture
def br1_account(voluntary: SavingsProduct) -> SavingsAccount:
    member = make_member("BR1-000001", phone="+8801711000002", branch=Branch.objects.get(code="BR1"))
    return savings_account_open(actor=None, member=member, product=voluntary, opened_on=OPENED)


@pytest.fixture
def approver(in_alpha: Workspace) -> str:
    staff_user_create(
        actor=None,
        username="approver-one",
        password=PASSWORD,
        roles=["approver"],
        approver_level=1,
        home_branch=Branch.objects.get(is_head_office=True),
    )
    return "approver-one"


@pytest.mark.parametrize(
    ("text", "currency", "language", "minor"),
    [
        ("1,250.75", "BDT", "en", 125_075),
        ("১,০০,০০০.৫০", "BDT", "bn", 10_000_050),
        ("1,00,000.50", "BDT", "bn", 10_000_050),
        ("1.500.000", "VND", "vi", 1_500_000),
        ("1500000", "VND", "vi", 1_500_000),
        ("1250.75", "BDT", "vi", 125_075),
        ("0.01", "THB", "th", 1),
    ],
)
def test_amounts_are_parsed_exactly_as_the_reader_writes_them(
    text: str, currency: str, language: str, minor: int
) -> None:
    assert parse_amount(text, currency=currency, language=language) == minor


@pytest.mark.parametrize(
    ("text", "currency", "language"),
    [
        ("10.005", "BDT", "en"),
        ("1,5", "VND", "vi"),
        ("1e3", "BDT", "en"),
        ("-5", "BDT", "en"),
        ("৳", "BDT", "bn"),
    ],
)
def test_amounts_that_would_need_rounding_or_are_not_figures_are_refused(
    text: str, currency: str, language: str
) -> None:
    with pytest.raises(ValidationError):
        parse_amount(text, currency=currency, language=language)


def test_the_menu_links_to_savings_and_the_list_searches(
    account: SavingsAccount, br1_account: SavingsAccount
) -> None:
    client = client_for(ALPHA.admin)
    assert 'href="/savings/"' in client.get("/").content.decode()
    html = client.get("/savings/").content.decode()
    assert account.number in html and br1_account.number in html and 'hx-get="/savings/"' in html
    partial = client.get("/savings/", {"q": "BR1-000001"}, HTTP_HX_REQUEST="true").content.decode()
    assert br1_account.number in partial and account.number not in partial and "<html" not in partial
    by_account = client.get("/savings/", {"q": account.number.lower()}).content.decode()
    assert account.number in by_account and br1_account.number not in by_account
    other = savings_product_create(
        actor=None,
        code="CMP",
        name="Compulsory",
        kind="compulsory",
        annual_rate=Decimal(5),
        rate_effective_from=OPENED,
    )
    filtered = client.get("/savings/", {"product": other.pk}).content.decode()
    assert account.number not in filtered and "No account matches" in filtered


def test_pages_render_for_allowed_roles_and_refuse_others(account: SavingsAccount, approver: str) -> None:
    reading = [
        "/savings/",
        f"/savings/{account.pk}/",
        f"/savings/{account.pk}/statement/",
        "/savings/products/",
        f"/savings/products/{account.product_id}/",
    ]
    posting = [
        f"/savings/{account.pk}/deposit/",
        f"/savings/{account.pk}/withdraw/",
        f"/savings/{account.pk}/transfer/",
        f"/savings/open/?member={account.member_id}",
    ]
    admin, auditor, accountant = client_for(ALPHA.admin), client_for("auditor"), client_for("clerk0")
    for url in reading + posting + ["/savings/products/new/"]:
        assert admin.get(url).status_code == 200, url
    for url in reading:
        assert auditor.get(url).status_code == 200, url
        assert client_for(approver).get(url).status_code == 200, url
    for url in posting:
        assert auditor.get(url).status_code == 403, url
        assert client_for(approver).get(url).status_code == 403, url
        assert accountant.get(url).status_code == 200, url
    assert accountant.get("/savings/products/new/").status_code == 403
    assert auditor.post(f"/savings/{account.pk}/deposit/", {"amount": "10"}).status_code == 403
    anonymous = workspace_client(ALPHA)
    assert anonymous.get(f"/savings/{account.pk}/").status_code == 302
    assert SavingsTransaction.objects.count() == 0


def test_a_branch_limited_user_cannot_reach_another_branchs_account(
    account: SavingsAccount, br1_account: SavingsAccount
) -> None:
    """alpha-only is a field officer of BR1; the head office's account answers 404, as if absent."""
    officer = client_for(ALPHA.only_here)
    assert officer.get(f"/savings/{br1_account.pk}/").status_code == 200
    for suffix in ("", "statement/", "deposit/", "withdraw/", "transfer/"):
        assert officer.get(f"/savings/{account.pk}/{suffix}").status_code == 404, suffix
    key = form_key(officer, f"/savings/{br1_account.pk}/deposit/")
    guessed = officer.post(f"/savings/{account.pk}/deposit/", {"amount": "100", "idempotency_key": key})
    assert guessed.status_code == 404
    assert officer.get(f"/savings/open/?member={account.member_id}").status_code == 404
    by_number = officer.post(
        "/savings/open/",
        {"member_number": account.member.number, "product": account.product_id, "opened_on": "2026-02-01"},
    )
    assert by_number.status_code == 200 and "No member with this number" in by_number.content.decode()
    listing = officer.get("/savings/").content.decode()
    assert br1_account.number in listing and account.number not in listing
    assert SavingsTransaction.objects.count() == 0
    assert SavingsAccount.objects.count() == 2


def test_a_deposit_through_the_form_posts_exact_minor_units_once(account: SavingsAccount) -> None:
    client = client_for(ALPHA.admin)
    url = f"/savings/{account.pk}/deposit/"
    key = form_key(client, url)
    assert form_key(client, url) != key  # each rendering of the form gets its own key
    first = client.post(url, {"amount": "1,250.75", "memo": "weekly", "idempotency_key": key})
    assert first.status_code == 302 and first["Location"] == f"/savings/{account.pk}/"
    again = client.post(url, {"amount": "1,250.75", "memo": "weekly", "idempotency_key": key})
    assert again.status_code == 302
    account.refresh_from_db()
    assert account.balance_minor == 125_075
    movement = SavingsTransaction.objects.get()
    assert (movement.amount_minor, movement.idempotency_key, movement.memo) == (125_075, key, "weekly")
    detail = client.get(f"/savings/{account.pk}/").content.decode()
    assert format_money(125_075, "BDT", "en") in detail
    # The same form sent back with another amount (back button, edit, send): refused, new key.
    edited = client.post(url, {"amount": "1,300", "idempotency_key": key})
    assert edited.status_code == 200, edited.context["form"].errors
    assert "already sent with other content" in edited.content.decode(), edited.context["form"].errors
    assert edited.context["form"]["idempotency_key"].value() != key
    # Too many decimals is refused on the form, nothing posted.
    refused = client.post(url, {"amount": "10.005", "idempotency_key": form_key(client, url)})
    assert refused.status_code == 200 and "at most 2 decimal places" in refused.content.decode()
    assert SavingsTransaction.objects.count() == 1


def test_a_deposit_in_bangla_digits_and_grouping(account: SavingsAccount) -> None:
    client = client_for(ALPHA.admin, language="bn")
    url = f"/savings/{account.pk}/deposit/"
    response = client.post(url, {"amount": "১,০০,০০০.৫০", "idempotency_key": form_key(client, url)})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.balance_minor == 10_000_050
    page = client.get(f"/savings/{account.pk}/").content.decode()
    native = ALPHA.cooperative().use_native_digits
    assert (
        format_money(10_000_050, "BDT", "bn", native_digits=native) in page
    )  # 1,00,000.50৳: Bangla grouping


def test_a_withdrawal_beyond_what_is_available_shows_the_error(account: SavingsAccount) -> None:
    savings_deposit(account_id=account.pk, amount_minor=1_000_00, value_date=OPENED, idempotency_key="d-1")
    client = client_for(ALPHA.admin)
    url = f"/savings/{account.pk}/withdraw/"
    key = form_key(client, url)
    refused = client.post(url, {"amount": "600", "idempotency_key": key})
    html = refused.content.decode()
    assert refused.status_code == 200
    # Tk 1,000 in, Tk 500 must stay (the product's minimum balance): Tk 500 can go.
    assert f"At most {format_money(500_00, 'BDT', 'en')} can be withdrawn now" in html
    assert f'value="{key}"' in html  # nothing was posted with it: the same key stays
    account.refresh_from_db()
    assert account.balance_minor == 1_000_00
    taken = client.post(url, {"amount": "500", "idempotency_key": key})
    assert taken.status_code == 302
    account.refresh_from_db()
    assert account.balance_minor == 500_00


def test_open_an_account_and_transfer_between_the_members_accounts(
    account: SavingsAccount, member: Member
) -> None:
    savings_deposit(account_id=account.pk, amount_minor=2_000_00, value_date=OPENED, idempotency_key="d-1")
    compulsory = savings_product_create(
        actor=None,
        code="CMP",
        name="Compulsory",
        kind="compulsory",
        annual_rate=Decimal(5),
        rate_effective_from=OPENED,
    )
    client = client_for(ALPHA.admin)
    opened = client.post(
        f"/savings/open/?member={member.pk}", {"product": compulsory.pk, "opened_on": "2026-02-01"}
    )
    assert opened.status_code == 302
    target = SavingsAccount.objects.get(product=compulsory)
    assert (target.member_id, str(target.opened_on)) == (member.pk, "2026-02-01")
    url = f"/savings/{account.pk}/transfer/"
    key = form_key(client, url)
    data = {"to_account": target.pk, "amount": "750.25", "idempotency_key": key}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # sent twice, moved once
    account.refresh_from_db()
    target.refresh_from_db()
    assert (account.balance_minor, target.balance_minor) == (1_249_75, 750_25)
    # Another member's account is not a choice.
    stranger = savings_account_open(
        actor=None, member=make_member("HO-000002"), product=compulsory, opened_on=OPENED
    )
    refused = client.post(
        url, {"to_account": stranger.pk, "amount": "1", "idempotency_key": form_key(client, url)}
    )
    assert refused.status_code == 200 and "to_account" in refused.context["form"].errors


def test_the_statement_pages_carry_the_running_balance(
    account: SavingsAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "STATEMENT_PAGE_SIZE", 2)
    for number, amount in enumerate((100_00, 250_50, 300_00), start=1):
        savings_deposit(
            account_id=account.pk, amount_minor=amount, value_date=OPENED, idempotency_key=f"d-{number}"
        )
    client = client_for(ALPHA.admin)
    latest = client.get(f"/savings/{account.pk}/statement/")
    assert latest.context["page"].number == 2
    assert [row.running_minor for row in latest.context["rows"]] == [650_50]
    assert latest.context["carried_minor"] == 350_50
    first = client.get(f"/savings/{account.pk}/statement/", {"page": 1})
    assert [row.running_minor for row in first.context["rows"]] == [100_00, 350_50]
    assert first.context["carried_minor"] == 0
    assert format_money(350_50, "BDT", "en") in first.content.decode()
    later = client.get(f"/savings/{account.pk}/statement/", {"start": "2026-02-01"})
    assert later.context["statement"].opening_minor == 650_50 and later.context["rows"] == []


def test_products_are_created_and_rates_scheduled_through_the_pages(in_alpha: Workspace) -> None:
    client = client_for(ALPHA.admin)
    data = {
        "code": "dps",
        "name": "Monthly deposit scheme",
        "kind": "recurring",
        "annual_rate": "7.5",
        "rate_effective_from": "2026-01-01",
        "minimum_balance": "0",
        "withdrawals_allowed": "",
        "interest_method": "daily_balance",
        "day_count": "actual_365",
        "accrual_period": "monthly",
        "posting_period": "yearly",
        "rounding": "half_even",
        "installment": "500",
        "premature_rate_reduction": "1.5",
    }
    missing_term = client.post("/savings/products/new/", data)
    assert missing_term.status_code == 200 and "term_months" in missing_term.context["form"].errors
    created = client.post("/savings/products/new/", data | {"term_months": "36"})
    assert created.status_code == 302
    product = SavingsProduct.objects.get(code="DPS")
    assert (product.installment_minor, product.term_months, product.withdrawals_allowed) == (
        500_00,
        36,
        False,
    )
    assert created["Location"] == f"/savings/products/{product.pk}/"
    scheduled = client.post(
        f"/savings/products/{product.pk}/", {"effective_from": "2027-01-01", "annual_rate": "8"}
    )
    assert scheduled.status_code == 302
    assert list(SavingsRate.objects.filter(product=product).values_list("annual_rate", flat=True)) == [
        Decimal("7.5"),
        Decimal("8"),
    ]
    assert "Scheduled" in client.get(f"/savings/products/{product.pk}/").content.decode()
    refused = client_for("clerk0").post(
        f"/savings/products/{product.pk}/", {"effective_from": "2027-02-01", "annual_rate": "9"}
    )
    assert refused.status_code == 403


def test_the_member_page_shows_savings_and_shares(account: SavingsAccount) -> None:
    savings_deposit(account_id=account.pk, amount_minor=300_00, value_date=OPENED, idempotency_key="d-1")
    html = client_for(ALPHA.admin).get(f"/members/{account.member_id}/").content.decode()
    assert f'href="/savings/{account.pk}/"' in html
    assert format_money(300_00, "BDT", "en") in html
    assert f'href="/savings/open/?member={account.member_id}"' in html
    assert f'href="/shares/members/{account.member_id}/buy/"' in html
    readonly = client_for("auditor").get(f"/members/{account.member_id}/").content.decode()
    assert f'href="/savings/{account.pk}/"' in readonly and "/buy/" not in readonly
