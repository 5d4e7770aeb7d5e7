"""Staff who may resend are e-mailed about dead messages they can see, at most once a workspace day."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from core_banking.members.models import Member
from core_banking.organisation.models import Branch
from core_banking.staff.roles import Role
from core_banking.staff.services import staff_user_create
from notifications.models import MessageKind, OutboxMessage, OutboxStatus, StaffAlert
from notifications.selectors import visible_messages
from notifications.staff_alerts import staff_dead_letter_alerts_send
from tests.conftest import Workspace
from tests.core_banking.savings.conftest import make_member
from tests.notifications.mail_backends import ScriptedBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def scripted(settings: Any) -> type[ScriptedBackend]:
    settings.EMAIL_BACKEND = "tests.notifications.mail_backends.ScriptedBackend"
    ScriptedBackend.reset([])
    return ScriptedBackend


def _dead(ref: str, member: Member) -> OutboxMessage:
    return OutboxMessage.objects.create(
        kind=MessageKind.SAVINGS_DEPOSIT, source_ref=ref, member_id=member.pk, phone=member.phone,
        language="bn", created_at=timezone.now(), status=OutboxStatus.DEAD, attempts=8,
        last_error="HTTP 503 Try again later", dead_at=timezone.now(),
    )  # fmt: skip


def _staff(username: str, roles: list[str], *, email: str, branch: Branch, **extra: Any) -> Any:
    # Without an address the user cannot be invited: they get a password instead.
    password = None if email else "staff-alert-secret-1"
    return staff_user_create(
        actor=None,
        username=username,
        password=password,
        roles=roles,
        home_branch=branch,
        email=email,
        **extra,
    )


def _mail_to(address: str) -> list[Any]:
    return [message for message in mail.outbox if address in message.to]


def test_a_branch_manager_is_told_of_the_dead_messages_of_their_branch_once_a_day(
    alpha: Workspace, scripted: type[ScriptedBackend]
) -> None:
    with tenant_context(alpha.cooperative()):
        branch = Branch.objects.get(code="BR1")
        manager = _staff(
            "br1-manager",
            [Role.BRANCH_MANAGER.value],
            email="manager@br1.example",
            branch=branch,
            language="en",
        )
        # Dead messages the manager may already see (committed by other tests), then three of ours:
        # two to members of the manager's branch, one to a head-office member they cannot see.
        before = visible_messages(manager.staff_profile, OutboxMessage.objects.filter(status="dead")).count()
        _dead("alert-br1-a", make_member("AL-1", phone="+8801711000101", branch=branch))
        _dead("alert-br1-b", make_member("AL-2", phone="+8801711000102", branch=branch))
        _dead("alert-ho", make_member("AL-3", phone="+8801711000103"))

        report = staff_dead_letter_alerts_send()

        assert report.sent >= 1
        (message,) = _mail_to("manager@br1.example")
        count = before + 2
        assert message.subject == f"Alpha Cooperative: {count} messages to members could not be sent"
        assert "+8801711000101" in message.body and "+8801711000102" in message.body
        assert "+8801711000103" not in message.body
        assert "http://alpha." in message.body and "/notifications/?status=dead" in message.body
        alert = StaffAlert.objects.get(user=manager)
        assert (alert.kind, alert.count, alert.email) == ("dead_letters", count, "manager@br1.example")

        # However often the job runs that day: no second e-mail.
        again = staff_dead_letter_alerts_send()
        assert again.sent == 0 and again.already_today >= 1
        assert len(_mail_to("manager@br1.example")) == 1
        assert StaffAlert.objects.filter(user=manager).count() == 1


def test_staff_without_an_address_without_the_right_or_inactive_get_nothing(
    alpha: Workspace, scripted: type[ScriptedBackend]
) -> None:
    with tenant_context(alpha.cooperative()):
        head_office = Branch.objects.get(is_head_office=True)
        no_address = _staff("no-address", [Role.COOPERATIVE_ADMIN.value], email="", branch=head_office)
        accountant = _staff(
            "accountant-x", [Role.ACCOUNTANT.value], email="acc@x.example", branch=head_office
        )
        gone = _staff(
            "gone-admin", [Role.COOPERATIVE_ADMIN.value], email="gone@x.example", branch=head_office
        )
        gone.is_active = False
        gone.save(update_fields=["is_active"])
        _dead("alert-nobody", make_member("AL-9", phone="+8801711000109"))

        staff_dead_letter_alerts_send()

        assert _mail_to("acc@x.example") == [] and _mail_to("gone@x.example") == []
        assert not StaffAlert.objects.filter(user__in=[no_address, accountant, gone]).exists()


def test_a_refusing_mail_server_leaves_no_record_and_the_next_run_sends(
    alpha: Workspace, scripted: type[ScriptedBackend]
) -> None:
    with tenant_context(alpha.cooperative()):
        head_office = Branch.objects.get(is_head_office=True)
        admin = _staff(
            "alerted-admin", [Role.COOPERATIVE_ADMIN.value], email="admin2@x.example", branch=head_office
        )
        _dead("alert-refused", make_member("AL-5", phone="+8801711000105"))
        # Every recipient before ours may take a send: refuse them all, ours included.
        scripted.reset([smtplib.SMTPServerDisconnected("refused")] * 50)

        refused = staff_dead_letter_alerts_send()

        assert refused.failed >= 1
        assert not StaffAlert.objects.filter(user=admin).exists()
        scripted.reset([])
        staff_dead_letter_alerts_send()
        assert len(_mail_to("admin2@x.example")) == 1
        assert StaffAlert.objects.filter(user=admin).count() == 1


def test_a_bangla_speaking_manager_reads_the_alert_in_bangla(
    alpha: Workspace, scripted: type[ScriptedBackend]
) -> None:
    with tenant_context(alpha.cooperative()):
        branch = Branch.objects.get(code="BR1")
        _staff(
            "bn-manager", [Role.BRANCH_MANAGER.value], email="bn@br1.example", branch=branch, language="bn"
        )
        _dead("alert-bn", make_member("AL-6", phone="+8801711000106", branch=branch))

        staff_dead_letter_alerts_send()

        (message,) = _mail_to("bn@br1.example")
        assert "পাঠানো যায়নি" in message.subject
        assert "/notifications/?status=dead" in message.body


def test_another_cooperatives_dead_messages_never_reach_this_one(
    alpha: Workspace, beta: Workspace, scripted: type[ScriptedBackend]
) -> None:
    with tenant_context(beta.cooperative()):
        _dead("beta-secret", make_member("BETA-1", phone="+84912000777"))
    with tenant_context(alpha.cooperative()):
        head_office = Branch.objects.get(is_head_office=True)
        admin = _staff(
            "iso-admin", [Role.COOPERATIVE_ADMIN.value], email="iso@alpha.example", branch=head_office
        )
        own = OutboxMessage.objects.filter(status="dead").count()
        _dead("alpha-own", make_member("AL-7", phone="+8801711000107"))

        staff_dead_letter_alerts_send()

        (message,) = _mail_to("iso@alpha.example")
        assert "+84912000777" not in message.body
        assert StaffAlert.objects.get(user=admin).count == own + 1
