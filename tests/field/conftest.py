"""Field sync fixtures: a disbursed loan in alpha and a device of alpha's field officer."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from core_banking.lending.models import Loan, LoanProduct
from core_banking.lending.services import loan_disburse
from core_banking.members.models import Member, MemberGroup
from core_banking.members.services import GroupData, group_create
from core_banking.organisation.models import Branch
from core_banking.savings.models import SavingsAccount, SavingsProduct
from core_banking.savings.services import savings_account_open
from core_banking.staff.roles import Role
from core_banking.staff.services import staff_user_create
from tests.conftest import ALPHA, PASSWORD, Workspace, workspace_client
from tests.core_banking.lending.conftest import (
    borrower,
    ladder,
    monthly_product,
    staff,
)
from tests.core_banking.lending.test_workflow import _approved
from tests.core_banking.savings.conftest import OPENED, voluntary

EMI = 10_661_85  # Tk 1,20,000 at 1 % a month over 12 months
FIRST_INTEREST = 1_200_00  # 1 % of Tk 1,20,000: the first instalment's interest
SECOND_INTEREST = 1_105_38  # 1 % of the Tk 1,10,538.15 left after the first instalment


@pytest.fixture
def loan(staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member) -> Loan:
    application = _approved(staff, borrower, monthly_product)
    return loan_disburse(
        actor=None, application_id=application.pk, disbursed_on=dt.date(2026, 2, 5), idempotency_key="disb"
    )


def register_device(workspace: Workspace, username: str) -> tuple[int, str]:
    """Register a device through the API as ``username``; its id and token."""
    answer = workspace_client(workspace, username=username).post(
        "/api/v1/field/devices/", {"name": "phone"}, content_type="application/json"
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    return body["id"], body["token"]


def device_client(workspace: Workspace, token: str) -> Client:
    return Client(HTTP_HOST=workspace.host, HTTP_AUTHORIZATION=f"Device {token}")


def business_date() -> dt.date:
    return connection.tenant.business_date()  # type: ignore[attr-defined]


def instalment(
    loan_id: int,
    *,
    sequence: int,
    amount: int = EMI,
    value_date: dt.date | None = None,
    device_time: dt.datetime | None = None,
    client_uuid: str | None = None,
) -> dict[str, Any]:
    return {
        "client_uuid": client_uuid or str(uuid.uuid4()),
        "device_sequence": sequence,
        "device_time": (device_time or dt.datetime.now(dt.UTC)).isoformat(),
        "kind": "instalment",
        "loan": loan_id,
        "amount_minor": amount,
        "value_date": (value_date or business_date()).isoformat(),
    }


def sync(client: Client, *items: dict[str, Any]) -> Any:
    return client.post("/api/v1/field/sync/", {"items": list(items)}, content_type="application/json")


__all__ = ["ALPHA", "borrower", "ladder", "monthly_product", "staff", "voluntary"]


# --- Kinds beyond instalments, and the staff pages ------------------------------------------------


def item(kind: str, *, sequence: int, client_uuid: str | None = None, **fields: Any) -> dict[str, Any]:
    """An item of any kind: the common fields and the kind's own."""
    return {
        "client_uuid": client_uuid or str(uuid.uuid4()),
        "device_sequence": sequence,
        "device_time": dt.datetime.now(dt.UTC).isoformat(),
        "kind": kind,
        **fields,
    }


def png_data_uri(size: tuple[int, int] = (64, 48)) -> str:
    """A real (small) PNG picture as a phone sends it."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@dataclass
class FieldDesk:
    """Collectors A and B (field officers at the head office), each with a group; a branch manager
    and an accountant of the head office; a manager of branch one; the borrower's savings account."""

    officer_a: Any
    officer_b: Any
    manager: Any
    accountant: Any
    manager_one: Any
    group_a: MemberGroup
    group_b: MemberGroup
    account: SavingsAccount


@pytest.fixture
def desk(in_alpha: object, loan: Loan, voluntary: SavingsProduct) -> FieldDesk:
    head_office = Branch.objects.get(is_head_office=True)
    people = {
        name: staff_user_create(
            actor=None, username=name, password=PASSWORD, roles=[role], home_branch=branch
        )
        for name, role, branch in (
            ("officer-a", Role.FIELD_OFFICER.value, head_office),
            ("officer-b", Role.FIELD_OFFICER.value, head_office),
            ("manager-ho", Role.BRANCH_MANAGER.value, head_office),
            ("accountant-ho", Role.ACCOUNTANT.value, head_office),
            ("manager-one", Role.BRANCH_MANAGER.value, Branch.objects.get(code="BR1")),
        )
    }
    group_a = group_create(
        actor=None,
        branch=head_office,
        data=GroupData(code="FA-1", name="Shapla", meeting_weekday=1, field_officer=people["officer-a"]),
    )
    group_b = group_create(
        actor=None,
        branch=head_office,
        data=GroupData(code="FB-1", name="Padma", meeting_weekday=2, field_officer=people["officer-b"]),
    )
    borrower = loan.member
    borrower.group = group_a  # membership is the members service's business, tested there
    borrower.save(update_fields=["group"])
    account = savings_account_open(actor=None, member=borrower, product=voluntary, opened_on=OPENED)
    return FieldDesk(
        officer_a=people["officer-a"],
        officer_b=people["officer-b"],
        manager=people["manager-ho"],
        accountant=people["accountant-ho"],
        manager_one=people["manager-one"],
        group_a=group_a,
        group_b=group_b,
        account=account,
    )


def trial_balance_balanced() -> bool:
    from core_banking.reporting.selectors import trial_balance

    result = trial_balance(end=dt.date(2100, 1, 1), branch_ids=None)
    return result.balanced and result.closing_debit_minor == result.closing_credit_minor
