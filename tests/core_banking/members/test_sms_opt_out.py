"""A member's "no SMS" choice: set on the form and through the API, shown, and audited."""

from __future__ import annotations

from django.utils.html import escape
from django_tenants.utils import tenant_context

from control_plane.audit.models import AuditEvent
from core_banking.members.models import Member, MemberType
from core_banking.organisation.models import Branch
from tests.conftest import Workspace
from tests.core_banking.members.helpers import logged_in, new_member


def _events(member: Member, action: str) -> list[dict[str, object]]:
    return [
        event.changes
        for event in AuditEvent.objects.filter(action=action, object_id=str(member.pk)).order_by("id")
    ]


def _bangla(message: str) -> str:
    from django.utils import translation

    with translation.override("bn"):
        return translation.gettext(message)


def test_the_edit_form_turns_sms_off_and_on_again_and_each_change_is_audited(alpha: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        member = new_member(full_name="Karim Mia", phone="01711000000")
        member_type = MemberType.objects.get(code="ORD").pk
    assert member.sms_opt_out is False
    client = logged_in(alpha, alpha.admin)
    edit = client.get(f"/members/{member.pk}/edit/")
    assert edit.status_code == 200 and 'name="sms_opt_out"' in edit.content.decode()
    data = {
        "member_type": member_type,
        "full_name": "Karim Mia",
        "phone": "+8801711000000",
        "message_language": "bn",
        "join_date": "2024-01-15",
    }
    assert client.post(f"/members/{member.pk}/edit/", data | {"sms_opt_out": "on"}).status_code == 302
    with tenant_context(alpha.cooperative()):
        member.refresh_from_db()
        assert member.sms_opt_out is True
    detail = client.get(f"/members/{member.pk}/").content.decode()
    opted_out = escape(_bangla("No: the member opted out"))  # alpha's staff read Bangla
    assert opted_out in detail
    # An unticked box is not sent by the browser: the member receives SMS again.
    assert client.post(f"/members/{member.pk}/edit/", data).status_code == 302
    assert opted_out not in client.get(f"/members/{member.pk}/").content.decode()
    with tenant_context(alpha.cooperative()):
        member.refresh_from_db()
        assert member.sms_opt_out is False
        assert _events(member, "member.update") == [
            {"sms_opt_out": [False, True]},
            {"sms_opt_out": [True, False]},
        ]


def test_the_api_admits_with_sms_off_and_patches_it_back_on(alpha: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        branch = Branch.objects.get(code="BR1").pk
        member_type = MemberType.objects.get(code="ORD").pk
    api = logged_in(alpha, alpha.admin)
    admitted = api.post(
        "/api/v1/members/",
        {
            "branch": branch,
            "member_type": member_type,
            "full_name": "Rahima Begum",
            "join_date": "2024-01-15",
            "phone": "01711000001",
            "sms_opt_out": True,
        },
        content_type="application/json",
    )
    assert admitted.status_code == 201, admitted.content
    assert admitted.json()["sms_opt_out"] is True
    member_id = admitted.json()["id"]
    untouched = api.patch(
        f"/api/v1/members/{member_id}/", {"address": "Mirpur"}, content_type="application/json"
    )
    assert untouched.json()["sms_opt_out"] is True  # a PATCH without it leaves it as it was
    patched = api.patch(
        f"/api/v1/members/{member_id}/", {"sms_opt_out": False}, content_type="application/json"
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["sms_opt_out"] is False
    with tenant_context(alpha.cooperative()):
        member = Member.objects.get(pk=member_id)
        assert member.sms_opt_out is False
        assert _events(member, "member.create")[0]["sms_opt_out"] is True
        assert _events(member, "member.update") == [
            {"address": ["", "Mirpur"]},
            {"sms_opt_out": [True, False]},
        ]
