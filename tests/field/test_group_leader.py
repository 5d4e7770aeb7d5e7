"""A group leader collects at their group's meetings with the field app: a member's sign-in, given
and closed by a manager on the group's page, scoped to the groups they lead, their cash in a till
of their own that they hand to the field officer. Seen from the leader's side as an attacker too:
no other group, no member pages, no one else's cash."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django_tenants.utils import tenant_context

from control_plane.errors import BusinessRuleViolation
from core_banking.cash.models import CashHolder
from core_banking.cash.services import cash_handover_confirm, cash_handover_send
from core_banking.ledger.models import JournalLine
from core_banking.members.services import group_data_of, group_update
from core_banking.organisation.models import Branch
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Role
from core_banking.staff.services import group_leader_login_grant, staff_user_create
from tests.conftest import ALPHA, PASSWORD, workspace_client
from tests.field.conftest import EMI, device_client, instalment, item, register_device, sync
from tests.field.test_sheet_api import MEETING, _get, _members, book

pytestmark = pytest.mark.django_db

__all__ = ["book"]

LEADER = "leader-rahima"


def _give_login(book: dict[str, Any], username: str = LEADER) -> Any:
    manager = workspace_client(ALPHA, username=ALPHA.admin)
    group = book["groups"]["tuesday"]
    answer = manager.post(
        f"/members/groups/{group.pk}/leader-login/",
        {"username": username, "password": PASSWORD, "password_again": PASSWORD},
    )
    assert answer.status_code == 302, answer.content.decode()[:800]
    return manager


def _till_balance(user: Any) -> int:
    holder = CashHolder.objects.get(user=user)
    sums = JournalLine.objects.filter(account=holder.account).aggregate(
        d=Sum("debit_minor"), c=Sum("credit_minor")
    )
    return int(sums["d"] or 0) - int(sums["c"] or 0)


def test_a_leader_collects_for_the_group_they_lead_and_sees_no_one_else(book: dict[str, Any]) -> None:
    manager = _give_login(book)
    user = get_user_model().objects.get(username=LEADER)
    profile = StaffProfile.objects.get(user=user)
    assert (profile.roles, profile.member_id) == ([Role.GROUP_LEADER.value], book["borrower"].pk)
    assert profile.home_branch_id == book["groups"]["tuesday"].branch_id
    page = manager.get(f"/members/groups/{book['groups']['tuesday'].pk}/edit/").content.decode()
    assert 'data-testid="leader-login-open"' in page and LEADER in page

    _, token = register_device(ALPHA, LEADER)
    # Their group only: not collector A's Friday group, not collector B's, not another branch's.
    assert [group["code"] for group in _get(token, "/api/v1/field/book/")["groups"]] == ["HO-T1"]
    sheet = _get(token, f"/api/v1/field/sheet/?date={MEETING.isoformat()}")
    assert [group["code"] for group in sheet["groups"]] == ["HO-T1"]
    assert book["stranger"].pk not in _members(sheet)

    # An instalment collected at the meeting lands in the leader's own till.
    answer = sync(device_client(ALPHA, token), instalment(book["loan"].pk, sequence=1))
    assert answer.status_code == 200, answer.content
    assert answer.json()["items"][0]["status"] == "created"
    assert _till_balance(user) == EMI

    # They hand the cash to their field officer, who confirms it: the leader's till is empty again.
    officer = get_user_model().objects.get(username="collector-a")
    handover = cash_handover_send(
        actor=user,
        branch=Branch.objects.get(pk=profile.home_branch_id),
        giver_user=user,
        receiver_user=officer,
        amount_minor=EMI,
        idempotency_key="leader-handover-1",
    )
    cash_handover_confirm(actor=officer, handover_id=handover.pk)
    assert (_till_balance(user), _till_balance(officer)) == (0, EMI)


def test_the_leader_s_pages_show_their_own_records_and_cash_only(book: dict[str, Any]) -> None:
    _give_login(book)
    _, token = register_device(ALPHA, LEADER)
    sync(device_client(ALPHA, token), instalment(book["loan"].pk, sequence=1))
    # Collector B takes attendance at their own group's meeting: a record the leader must not see.
    _, token_b = register_device(ALPHA, "collector-b")
    others = book["groups"]["others"].pk
    day = MEETING.isoformat()
    attendance = item("attendance", sequence=1, group=others, meeting_date=day, present=[], absent=[])
    assert sync(device_client(ALPHA, token_b), attendance).json()["items"][0]["status"] == "created"

    leader = workspace_client(ALPHA, username=LEADER)
    for path in (
        "/members/",
        f"/members/{book['borrower'].pk}/",
        "/savings/",
        "/reports/",
        "/lending/loans/",
        "/api/v1/members/",
        "/staff/",
    ):
        assert leader.get(path).status_code == 403, path
    # Nor an API token that would reach the staff APIs past the session's limits.
    token = workspace_client(ALPHA).post("/api/v1/auth/token/", {"username": LEADER, "password": PASSWORD})
    assert token.status_code == 403
    assert leader.get("/").status_code == 200 and leader.get("/field/").status_code == 200
    # The menu offers what the sign-in opens, and nothing else.
    menu = leader.get("/").content.decode()
    assert 'href="/field/"' in menu and 'href="/cash/"' in menu
    assert 'href="/members/"' not in menu and 'href="/reports/"' not in menu
    cash = leader.get("/cash/")
    assert cash.status_code == 200
    rows = cash.context["rows"]
    user = get_user_model().objects.get(username=LEADER)
    assert [row.user_id for row, _closable in rows] == [user.pk]
    assert all(
        user.pk in (handover.giver.user_id, handover.receiver.user_id) for handover in cash.context["recent"]
    )
    records = leader.get("/field/collections/")
    assert records.status_code == 200
    collectors = {row.collector_id for row in records.context["rows"]}
    assert user.pk in collectors
    assert get_user_model().objects.get(username="collector-b").pk not in collectors


def test_closing_the_sign_in_refuses_the_leader_and_their_phone(book: dict[str, Any]) -> None:
    manager = _give_login(book)
    _, token = register_device(ALPHA, LEADER)
    group = book["groups"]["tuesday"]

    closed = manager.post(f"/members/groups/{group.pk}/leader-login/close/")
    assert closed.status_code == 302
    refused = sync(device_client(ALPHA, token), instalment(book["loan"].pk, sequence=1))
    assert refused.status_code in (401, 403)
    assert refused.json()["error"]["code"] in ("field_device_token_invalid", "field_device_revoked")
    login = workspace_client(ALPHA).post("/accounts/login/", {"username": LEADER, "password": PASSWORD})
    assert login.status_code == 200  # the form again: an inactive user cannot sign in

    # Opened again with a new password: the same user, active, new devices accepted.
    _give_login(book)
    user = get_user_model().objects.get(username=LEADER)
    assert user.is_active and StaffProfile.objects.filter(member=book["borrower"]).count() == 1


def test_a_leader_replaced_at_the_head_of_the_group_collects_for_it_no_more(book: dict[str, Any]) -> None:
    _give_login(book)
    _, token = register_device(ALPHA, LEADER)
    group = book["groups"]["tuesday"]
    group_update(actor=None, group=group, data=replace(group_data_of(group), leader=book["neighbour"]))
    assert _get(token, "/api/v1/field/book/")["groups"] == []


def test_the_rules_of_a_leader_s_sign_in(book: dict[str, Any], alpha: Any) -> None:
    group = book["groups"]["friday"]  # no leader
    with pytest.raises(BusinessRuleViolation) as raised:
        group_leader_login_grant(actor=None, group=group, username="nobody", password=PASSWORD)
    assert "leader" in raised.value.fields
    head_office = Branch.objects.get(is_head_office=True)
    with pytest.raises(BusinessRuleViolation) as raised:
        staff_user_create(
            actor=None,
            username="leader-and-teller",
            password=PASSWORD,
            roles=[Role.GROUP_LEADER.value, Role.FIELD_OFFICER.value],
            home_branch=head_office,
            member=book["neighbour"],
        )
    assert "roles" in raised.value.fields
    with pytest.raises(BusinessRuleViolation) as raised:
        staff_user_create(
            actor=None,
            username="officer-as-member",
            password=PASSWORD,
            roles=[Role.FIELD_OFFICER.value],
            home_branch=head_office,
            member=book["neighbour"],
        )
    assert "member" in raised.value.fields
    # A weak password is refused on the page with the field named, nothing made.
    manager = workspace_client(ALPHA, username=ALPHA.admin)
    weak = manager.post(
        f"/members/groups/{book['groups']['tuesday'].pk}/leader-login/",
        {"username": LEADER, "password": "1234", "password_again": "1234"},
    )
    assert weak.status_code == 400
    with tenant_context(alpha.cooperative()):
        assert not get_user_model().objects.filter(username=LEADER).exists()
