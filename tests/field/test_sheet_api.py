"""The collector's downloads: the day's collection sheet and the whole book, with the device's token.

Seen from the other side too: another officer's group is not in them, a branch manager sees only
their branches, and a token of another cooperative is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core_banking.lending.models import Loan
from core_banking.lending.page_selectors import loan_schedule, schedule_totals
from core_banking.lending.services import loan_repay
from core_banking.members.models import Member, MemberGroup
from core_banking.members.services import GroupData, group_create, group_data_of, group_update
from core_banking.organisation.models import Branch
from core_banking.savings.models import SavingsProduct
from core_banking.savings.services import savings_account_open, savings_deposit
from core_banking.staff.roles import Role
from core_banking.staff.services import staff_user_create
from tests.conftest import ALPHA, BETA, PASSWORD
from tests.core_banking.savings.conftest import OPENED, make_member, voluntary
from tests.field.conftest import EMI, device_client, register_device

pytestmark = pytest.mark.django_db

MEETING = dt.date(2026, 5, 5)  # a Tuesday; the loan's third monthly instalment falls due on it
DEPOSITED = 2_500_00

__all__ = ["voluntary"]


def _join(member: Member, group: MemberGroup) -> None:
    # Group membership is the members service's business, tested there.
    member.group = group
    member.save(update_fields=["group"])


@pytest.fixture
def book(in_alpha: object, loan: Loan, voluntary: SavingsProduct) -> dict[str, Any]:
    """Collector A works a Tuesday group (the borrower leads it) and a Friday one; collector B a
    Tuesday group of their own; a group at branch one has no collector."""
    head_office = Branch.objects.get(is_head_office=True)
    branch_one = Branch.objects.get(code="BR1")
    people = {
        name: staff_user_create(
            actor=None, username=name, password=PASSWORD, roles=[role], home_branch=branch
        )
        for name, role, branch in (
            ("collector-a", Role.FIELD_OFFICER.value, head_office),
            ("collector-b", Role.FIELD_OFFICER.value, head_office),
            ("manager-one", Role.BRANCH_MANAGER.value, branch_one),
        )
    }
    borrower = loan.member
    tuesday = group_create(
        actor=None,
        branch=head_office,
        data=GroupData(
            code="HO-T1",
            name="Shapla",
            meeting_weekday=1,
            leader=borrower,
            field_officer=people["collector-a"],
        ),
    )
    friday = group_create(
        actor=None,
        branch=head_office,
        data=GroupData(code="HO-F1", name="Padma", meeting_weekday=4, field_officer=people["collector-a"]),
    )
    others = group_create(
        actor=None,
        branch=head_office,
        data=GroupData(code="HO-T2", name="Jamuna", meeting_weekday=1, field_officer=people["collector-b"]),
    )
    branch_group = group_create(
        actor=None, branch=branch_one, data=GroupData(code="B1-T1", name="Meghna", meeting_weekday=1)
    )
    _join(borrower, tuesday)
    neighbour = make_member("HO-000201", phone="+8801711000201")
    _join(neighbour, tuesday)
    _join(make_member("HO-000202", phone="+8801711000202"), friday)
    stranger = make_member("HO-000203", phone="+8801711000203")
    _join(stranger, others)
    _join(make_member("B1-000001", phone="+8801711000204", branch=branch_one), branch_group)
    account = savings_account_open(actor=None, member=borrower, product=voluntary, opened_on=OPENED)
    savings_deposit(
        account_id=account.pk, amount_minor=DEPOSITED, value_date=OPENED, idempotency_key="sheet-dep"
    )
    # The first instalment paid on its day: the second is overdue at the meeting, the third due on it.
    loan_repay(
        actor=None,
        loan_id=loan.pk,
        amount_minor=EMI,
        value_date=dt.date(2026, 3, 5),
        idempotency_key="sheet-1",
    )
    return {
        "loan": loan,
        "borrower": borrower,
        "neighbour": neighbour,
        "stranger": stranger,
        "account": account,
        "groups": {"tuesday": tuesday, "friday": friday, "others": others, "branch": branch_group},
    }


def _get(token: str, path: str) -> Any:
    answer = device_client(ALPHA, token).get(path)
    assert answer.status_code == 200, answer.content
    return answer.json()


def _members(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {member["id"]: member for group in body["groups"] for member in group["members"]}


def test_the_sheet_shows_each_member_of_the_days_groups_with_exact_amounts(book: dict[str, Any]) -> None:
    _, token = register_device(ALPHA, "collector-a")
    body = _get(token, f"/api/v1/field/sheet/?date={MEETING.isoformat()}")
    assert body["date"] == "2026-05-05"
    assert body["currency"] == {"code": "BDT", "exponent": 2}
    assert body["business_date"] == connection.tenant.business_date().isoformat()  # type: ignore[attr-defined]
    # Only collector A's group meeting on Tuesdays; not their Friday group, not collector B's.
    (group,) = body["groups"]
    borrower, neighbour, loan = book["borrower"], book["neighbour"], book["loan"]
    assert (group["id"], group["code"], group["name"], group["meeting_weekday"]) == (
        book["groups"]["tuesday"].pk,
        "HO-T1",
        "Shapla",
        1,
    )
    assert group["leader"] == {"id": borrower.pk, "number": borrower.number, "name": borrower.full_name}
    assert [member["id"] for member in group["members"]] == [borrower.pk, neighbour.pk]
    line = group["members"][0]
    assert (line["number"], line["name"], line["phone"]) == (
        borrower.number,
        borrower.full_name,
        borrower.phone,
    )
    (loan_line,) = line["loans"]
    totals = schedule_totals(loan_schedule(loan, MEETING))
    assert loan_line == {
        "id": loan.pk,
        "number": loan.number,
        "due_today_minor": EMI,  # the third instalment
        "overdue_minor": EMI,  # the second, unpaid
        "instalment_minor": EMI,
        # Everything still owed on the schedule: what the loan's own page shows.
        "outstanding_minor": totals.outstanding_minor,
    }
    assert totals.outstanding_minor > 10 * EMI
    assert line["savings"] == [
        {
            "id": book["account"].pk,
            "number": book["account"].number,
            "product": "Voluntary savings",
            "balance_minor": DEPOSITED,
            "available_minor": DEPOSITED,
            "savings_instalment_minor": None,
        }
    ]
    assert group["members"][1]["loans"] == [] and group["members"][1]["savings"] == []


def test_the_book_has_every_member_of_the_collectors_groups_and_nobody_elses(book: dict[str, Any]) -> None:
    _, token = register_device(ALPHA, "collector-a")
    body = _get(token, "/api/v1/field/book/")
    assert [group["code"] for group in body["groups"]] == ["HO-F1", "HO-T1"]
    members = _members(body)
    assert book["stranger"].pk not in members
    assert {members[member_id]["number"] for member_id in members} == {"HO-000101", "HO-000201", "HO-000202"}
    # The book is as of the business date: the loan's instalments since March are overdue by now.
    (loan_line,) = members[book["borrower"].pk]["loans"]
    totals = schedule_totals(loan_schedule(book["loan"], connection.tenant.business_date()))  # type: ignore[attr-defined]
    assert (loan_line["overdue_minor"], loan_line["outstanding_minor"]) == (
        totals.overdue_minor,
        totals.outstanding_minor,
    )

    # Collector B, the attacker here: their own group only, nothing of collector A's members.
    _, token_b = register_device(ALPHA, "collector-b")
    theirs = _get(token_b, "/api/v1/field/book/")
    assert [group["code"] for group in theirs["groups"]] == ["HO-T2"]
    assert set(_members(theirs)) == {book["stranger"].pk}
    sheet = _get(token_b, f"/api/v1/field/sheet/?date={MEETING.isoformat()}")
    assert [group["code"] for group in sheet["groups"]] == ["HO-T2"]

    # Reassigned to collector B, the group moves out of collector A's book.
    tuesday = book["groups"]["tuesday"]
    group_update(
        actor=None,
        group=tuesday,
        data=replace(group_data_of(tuesday), field_officer=book["groups"]["others"].field_officer),
    )
    assert [group["code"] for group in _get(token, "/api/v1/field/book/")["groups"]] == ["HO-F1"]


def test_a_branch_manager_collects_for_the_groups_of_their_branch_only(book: dict[str, Any]) -> None:
    _, token = register_device(ALPHA, "manager-one")
    body = _get(token, "/api/v1/field/book/")
    assert [group["code"] for group in body["groups"]] == ["B1-T1"]
    # The cooperative's admin sees every branch.
    _, admin_token = register_device(ALPHA, ALPHA.admin)
    codes = [group["code"] for group in _get(admin_token, "/api/v1/field/book/")["groups"]]
    assert {"B1-T1", "HO-F1", "HO-T1", "HO-T2"} <= set(codes)


def test_a_token_of_another_cooperative_or_a_revoked_one_or_a_session_is_refused(
    book: dict[str, Any],
) -> None:
    from tests.conftest import workspace_client

    with tenant_context(BETA.cooperative()):
        _, beta_token = register_device(BETA, BETA.only_here)
    for path in ("/api/v1/field/book/", f"/api/v1/field/sheet/?date={MEETING.isoformat()}"):
        refused = device_client(ALPHA, beta_token).get(path)
        assert refused.status_code == 401, refused.content
        assert refused.json()["error"]["code"] == "field_device_token_invalid"
        # A signed-in session is no device: the phone downloads with its token only.
        session = workspace_client(ALPHA, username="collector-a").get(path)
        assert session.status_code in (401, 403)
    device_id, token = register_device(ALPHA, "collector-a")
    revoked = workspace_client(ALPHA, username=ALPHA.admin).post(f"/api/v1/field/devices/{device_id}/revoke/")
    assert revoked.status_code == 200, revoked.content
    answer = device_client(ALPHA, token).get("/api/v1/field/book/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "field_device_revoked"


def test_a_malformed_date_is_a_validation_error(book: dict[str, Any]) -> None:
    _, token = register_device(ALPHA, "collector-a")
    answer = device_client(ALPHA, token).get("/api/v1/field/sheet/?date=25-11-2026")
    assert answer.status_code == 400
    body = answer.json()["error"]
    assert body["code"] == "validation_error" and "date" in body["fields"]


def test_a_bigger_book_takes_no_more_queries(book: dict[str, Any], voluntary: SavingsProduct) -> None:
    _, token = register_device(ALPHA, "collector-a")
    client = device_client(ALPHA, token)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/api/v1/field/book/").status_code == 200
    friday = book["groups"]["friday"]
    for number in range(300, 340):
        member = make_member(f"HO-000{number}", phone=f"+8801711000{number}")
        _join(member, friday)
        savings_account_open(actor=None, member=member, product=voluntary, opened_on=OPENED)
    with CaptureQueriesContext(connection) as big:
        body = client.get("/api/v1/field/book/").json()
    assert len(_members(body)) == 43
    assert len(big.captured_queries) == len(small.captured_queries) <= 12
