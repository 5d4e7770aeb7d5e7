"""Staff see the messages that were not sent or not delivered, by role and branch, and resend dead ones."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from control_plane.audit.models import AuditEvent
from core_banking.members.models import Member
from core_banking.organisation.models import Branch
from notifications.models import DeliveryStatus, MessageKind, OutboxMessage, OutboxStatus
from tests.conftest import ALPHA, Workspace, workspace_client
from tests.core_banking.savings.conftest import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def messages(alpha: Workspace) -> dict[str, OutboxMessage]:
    with tenant_context(alpha.cooperative()):
        head_office_member = make_member("MSG-1", phone="+8801711000001")
        branch_member = make_member("MSG-2", phone="", branch=Branch.objects.get(code="BR1"))

        def row(ref: str, member: Member, **fields: Any) -> OutboxMessage:
            return OutboxMessage.objects.create(
                kind=MessageKind.SAVINGS_DEPOSIT, source_ref=ref, member_id=member.pk, phone=member.phone,
                language="bn", created_at=timezone.now(), **fields,
            )  # fmt: skip

        return {
            "dead": row(
                "dead-1",
                head_office_member,
                status=OutboxStatus.DEAD,
                attempts=8,
                body="Tk 500 received",
                last_error="HTTP 503 Try again later",
                dead_at=timezone.now(),
            ),
            "no_recipient": row("none-1", branch_member, status=OutboxStatus.NO_RECIPIENT),
            "undelivered": row(
                "undelivered-1",
                head_office_member,
                status=OutboxStatus.SENT,
                provider_message_id="SM" + "d" * 32,
                delivery_status=DeliveryStatus.UNDELIVERED,
                delivery_error_code="30003",
            ),
            "sent": row(
                "sent-1", head_office_member, status=OutboxStatus.SENT, provider_message_id="SM" + "e" * 32
            ),
        }


def _listed(content: bytes) -> set[int]:
    import re

    return {int(found) for found in re.findall(rb'data-message="(\d+)"', content)}


def test_the_admin_sees_every_message_needing_attention_and_resends_a_dead_one(
    messages: dict[str, OutboxMessage],
) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    page = client.get("/notifications/")
    assert page.status_code == 200
    assert _listed(page.content) == {messages[k].pk for k in ("dead", "no_recipient", "undelivered")}
    assert page.content.count(b"/resend/") == 1
    only_dead = client.get("/notifications/?status=dead")
    assert _listed(only_dead.content) == {messages["dead"].pk}

    response = client.post(f"/notifications/{messages['dead'].pk}/resend/")
    assert response.status_code == 302
    with tenant_context(ALPHA.cooperative()):
        resent = OutboxMessage.objects.get(pk=messages["dead"].pk)
        assert (resent.status, resent.attempts, resent.dead_at, resent.body) == (
            "pending",
            0,
            None,
            "Tk 500 received",
        )
        event = AuditEvent.objects.get(action="notifications.message_resend")
        assert (event.actor_label, event.object_id) == (ALPHA.admin, str(resent.pk))

    # Not dead any more: a second resend is refused and changes nothing.
    client.post(f"/notifications/{messages['dead'].pk}/resend/")
    with tenant_context(ALPHA.cooperative()):
        assert AuditEvent.objects.filter(action="notifications.message_resend").count() == 1


def test_a_branch_officer_sees_their_branch_only_and_cannot_resend(
    messages: dict[str, OutboxMessage],
) -> None:
    client = workspace_client(ALPHA, username=ALPHA.only_here)  # field officer of BR1
    page = client.get("/notifications/")
    assert page.status_code == 200
    assert _listed(page.content) == {messages["no_recipient"].pk}
    assert b"/resend/" not in page.content
    assert client.post(f"/notifications/{messages['dead'].pk}/resend/").status_code in (403, 404)
    with tenant_context(ALPHA.cooperative()):
        assert OutboxMessage.objects.get(pk=messages["dead"].pk).status == "dead"


def test_an_auditor_has_no_message_page(messages: dict[str, OutboxMessage]) -> None:
    assert workspace_client(ALPHA, username="auditor").get("/notifications/").status_code == 403


def test_the_api_lists_and_resends(messages: dict[str, OutboxMessage]) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    listed = client.get("/api/v1/messages/attention/?status=no_recipient").json()
    assert listed["count"] == 1
    assert [(m["id"], m["status"], m["phone"]) for m in listed["results"]] == [
        (messages["no_recipient"].pk, "no_recipient", "")
    ]
    everything = client.get("/api/v1/messages/attention/").json()
    assert {m["id"] for m in everything["results"]} == {
        messages[k].pk for k in ("dead", "no_recipient", "undelivered")
    }

    response = client.post(f"/api/v1/messages/{messages['dead'].pk}/resend/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    again = client.post(f"/api/v1/messages/{messages['dead'].pk}/resend/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "message_not_dead"
    assert client.post("/api/v1/messages/999999/resend/").status_code == 404

    officer = workspace_client(ALPHA, username=ALPHA.only_here)
    refused = officer.post(f"/api/v1/messages/{messages['no_recipient'].pk}/resend/")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_staff_record_and_lift_an_opt_out_through_the_api(alpha: Workspace) -> None:
    from notifications.models import SmsOptOut

    client = workspace_client(ALPHA, username=ALPHA.admin)
    created = client.post(
        "/api/v1/messages/opt-outs/", {"phone": "+8801711000055", "reason": "asked at the branch"}
    )
    assert created.status_code == 201
    assert created.json()["phone"] == "+8801711000055"
    assert client.post("/api/v1/messages/opt-outs/", {"phone": "01711"}).json()["error"]["code"] == (
        "phone_invalid"
    )
    listed = client.get("/api/v1/messages/opt-outs/").json()
    assert [(o["phone"], o["reason"]) for o in listed["results"]] == [
        ("+8801711000055", "asked at the branch")
    ]
    officer = workspace_client(ALPHA, username=ALPHA.only_here)
    assert officer.delete("/api/v1/messages/opt-outs/+8801711000055/").status_code == 403

    assert client.delete("/api/v1/messages/opt-outs/+8801711000055/").status_code == 204
    assert client.delete("/api/v1/messages/opt-outs/+8801711000055/").status_code == 404
    with tenant_context(ALPHA.cooperative()):
        assert not SmsOptOut.objects.exists()
        actions = list(
            AuditEvent.objects.filter(action__startswith="notifications.opt_out").values_list(
                "action", flat=True
            )
        )
        assert sorted(actions) == ["notifications.opt_out_record", "notifications.opt_out_remove"]
