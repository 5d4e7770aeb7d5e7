"""Share staff pages: a member's holding, buying shares once per form, the share terms."""

from __future__ import annotations

from core_banking.members.models import Member
from core_banking.shares.models import ShareAccount, ShareSettings, ShareTransaction
from core_banking.shares.services import share_purchase
from frontend.formatting import format_money
from tests.conftest import ALPHA
from tests.core_banking.savings.page_helpers import client_for, form_key
from tests.core_banking.shares.conftest import DAY


def test_the_holding_page_for_readers_and_the_purchase_page_for_posters(
    terms: ShareSettings, member: Member
) -> None:
    share_purchase(member_id=member.pk, shares=12, value_date=DAY, idempotency_key="s-1")
    for username in (ALPHA.admin, "auditor", "clerk0"):
        page = client_for(username).get(f"/shares/members/{member.pk}/")
        assert page.status_code == 200, username
        assert format_money(12 * 100_00, "BDT", "en") in page.content.decode()
    assert client_for("auditor").get(f"/shares/members/{member.pk}/buy/").status_code == 403
    assert client_for("clerk0").get(f"/shares/members/{member.pk}/buy/").status_code == 200


def test_a_branch_limited_user_cannot_reach_another_branchs_member(
    terms: ShareSettings, member: Member, br1_member: Member
) -> None:
    officer = client_for(ALPHA.only_here)  # a field officer of BR1
    assert officer.get(f"/shares/members/{br1_member.pk}/").status_code == 200
    assert officer.get(f"/shares/members/{member.pk}/").status_code == 404
    key = form_key(officer, f"/shares/members/{br1_member.pk}/buy/")
    guessed = officer.post(f"/shares/members/{member.pk}/buy/", {"shares": "5", "idempotency_key": key})
    assert guessed.status_code == 404
    assert not ShareTransaction.objects.exists()


def test_a_purchase_through_the_form_is_posted_once(terms: ShareSettings, member: Member) -> None:
    client = client_for(ALPHA.admin)
    url = f"/shares/members/{member.pk}/buy/"
    key = form_key(client, url)
    first = client.post(url, {"shares": "7", "idempotency_key": key})
    assert first.status_code == 302 and first["Location"] == f"/shares/members/{member.pk}/"
    assert client.post(url, {"shares": "7", "idempotency_key": key}).status_code == 302
    holding = ShareAccount.objects.get(member=member)
    assert (holding.shares, holding.balance_minor) == (7, 7 * 100_00)
    assert ShareTransaction.objects.count() == 1
    # Beyond the maximum (200): the form says how many the member holds, nothing is posted.
    refused = client.post(url, {"shares": "194", "idempotency_key": form_key(client, url)})
    assert refused.status_code == 200
    assert "at most 200 shares; this member holds 7" in refused.content.decode()
    below = client.post(url, {"shares": "0", "idempotency_key": form_key(client, url)})
    assert below.status_code == 200 and "shares" in below.context["form"].errors
    assert ShareTransaction.objects.count() == 1


def test_the_share_terms_page(terms: ShareSettings, member: Member) -> None:
    admin = client_for(ALPHA.admin)
    assert client_for("auditor").get("/shares/").status_code == 200
    assert client_for("clerk0").post("/shares/", {"nominal_value": "150"}).status_code == 403
    changed = admin.post("/shares/", {"nominal_value": "150.50", "minimum_shares": "2", "maximum_shares": ""})
    assert changed.status_code == 302
    terms.refresh_from_db()
    assert (terms.nominal_value_minor, terms.minimum_shares, terms.maximum_shares) == (150_50, 2, None)
    share_purchase(member_id=member.pk, shares=2, value_date=DAY, idempotency_key="s-1")
    locked = admin.post("/shares/", {"nominal_value": "200", "minimum_shares": "2", "maximum_shares": ""})
    assert locked.status_code == 200
    assert "cannot change while members hold shares" in locked.content.decode()
    page = admin.get("/shares/").content.decode()
    assert format_money(2 * 150_50, "BDT", "en") in page  # the share capital held
