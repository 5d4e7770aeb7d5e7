"""Field sync fixtures: a disbursed loan in alpha and a device of alpha's field officer."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from core_banking.lending.models import Loan, LoanProduct
from core_banking.lending.services import loan_disburse
from core_banking.members.models import Member
from tests.conftest import ALPHA, Workspace, workspace_client
from tests.core_banking.lending.conftest import (
    borrower,
    ladder,
    monthly_product,
    staff,
)
from tests.core_banking.lending.test_workflow import _approved

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


__all__ = ["ALPHA", "borrower", "ladder", "monthly_product", "staff"]
