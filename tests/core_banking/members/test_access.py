"""From the attacker's side: another workspace, a logged-out visitor, a user limited to another branch."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from core_banking.members.models import Member, MemberDocument
from core_banking.members.services import member_document_upload
from core_banking.organisation.models import Branch
from core_banking.organisation.services import branch_create
from tests.conftest import Workspace, workspace_client
from tests.core_banking.members.helpers import image_bytes, logged_in, new_member


@dataclass(frozen=True)
class AlphaRecords:
    member_id: int
    photo_id: int
    other_branch_member_id: int
    other_branch_photo_id: int


@pytest.fixture
def records(alpha: Workspace) -> AlphaRecords:
    """In alpha: a BR1 member and a BR2 member, each with a photo. Beta has no members at all."""
    with tenant_context(alpha.cooperative()):
        branch_two = branch_create(actor=None, code="BR2", name="Branch two")
        member = new_member(full_name="Alpha Secret Person")
        photo = member_document_upload(
            actor=None, member=member, kind="photo", content=image_bytes((300, 200))
        )
        other = new_member(branch=branch_two, full_name="Branch Two Person")
        other_photo = member_document_upload(
            actor=None, member=other, kind="photo", content=image_bytes((300, 200))
        )
        return AlphaRecords(member.pk, photo.pk, other.pk, other_photo.pk)


def member_urls(member_id: int, photo_id: int) -> list[str]:
    return [
        f"/members/{member_id}/",
        f"/members/{member_id}/documents/{photo_id}/",
        f"/members/{member_id}/documents/{photo_id}/thumbnail/",
    ]


def test_the_owner_sees_the_member_and_the_photo(alpha: Workspace, records: AlphaRecords) -> None:
    client = logged_in(alpha, alpha.admin)
    page, photo, thumbnail = (client.get(url) for url in member_urls(records.member_id, records.photo_id))
    assert page.status_code == 200 and "Alpha Secret Person" in page.content.decode()
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert photo["Cache-Control"] == "private, max-age=3600"
    assert b"".join(photo.streaming_content)[:3] == b"\xff\xd8\xff"  # type: ignore[attr-defined]
    assert thumbnail.status_code == 200


def test_another_workspace_cannot_read_alphas_member_or_photo_by_id(
    alpha: Workspace, beta: Workspace, records: AlphaRecords
) -> None:
    with tenant_context(beta.cooperative()):
        assert not Member.objects.exists()  # so any answer with content would be alpha's
    client = logged_in(beta, beta.admin)
    for url in member_urls(records.member_id, records.photo_id):
        assert client.get(url).status_code == 404, url
    api = client.get(f"/api/v1/members/{records.member_id}/")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/members/{records.member_id}/documents/").status_code == 404
    assert client.get("/api/v1/members/?q=Alpha").json()["results"] == []


def test_alphas_session_is_worthless_on_betas_host(
    alpha: Workspace, beta: Workspace, records: AlphaRecords
) -> None:
    alpha_client = logged_in(alpha, alpha.admin)
    stolen = Client(HTTP_HOST=beta.host)
    stolen.cookies = alpha_client.cookies
    response = stolen.get(f"/members/{records.member_id}/documents/{records.photo_id}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_logged_out_visitor_is_sent_to_log_in(alpha: Workspace, records: AlphaRecords) -> None:
    client = workspace_client(alpha)
    for url in [*member_urls(records.member_id, records.photo_id), "/members/", "/members/groups/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    api = client.get(f"/api/v1/members/{records.member_id}/")
    assert api.status_code == 401 and api.json()["error"]["code"] == "not_authenticated"


def test_a_user_limited_to_one_branch_cannot_see_another(alpha: Workspace, records: AlphaRecords) -> None:
    client = logged_in(alpha, alpha.only_here)  # field officer limited to BR1
    for url in member_urls(records.other_branch_member_id, records.other_branch_photo_id):
        assert client.get(url).status_code == 404, url
    # Their own branch's photo reached through another branch's member id does not work either.
    assert (
        client.get(f"/members/{records.other_branch_member_id}/documents/{records.photo_id}/").status_code
        == 404
    )
    assert client.get(f"/api/v1/members/{records.other_branch_member_id}/").status_code == 404
    listed = client.get("/api/v1/members/").json()["results"]
    assert [row["full_name"] for row in listed] == ["Alpha Secret Person"]
    assert client.get("/api/v1/members/?q=Branch Two").json()["results"] == []
    assert "Branch Two Person" not in client.get("/members/?q=Person").content.decode()
    # Their own branch is open to them.
    assert client.get(f"/members/{records.member_id}/").status_code == 200


def test_reading_is_not_writing(alpha: Workspace, records: AlphaRecords) -> None:
    field_officer = logged_in(alpha, alpha.only_here)
    response = field_officer.post(
        f"/api/v1/members/{records.member_id}/status/",
        {"action": "suspend_from_borrowing", "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert field_officer.get(f"/members/{records.member_id}/edit/").status_code == 403
    auditor = logged_in(alpha, "auditor")
    assert auditor.get(f"/members/{records.member_id}/").status_code == 200
    response = auditor.post(
        f"/api/v1/members/{records.member_id}/status/",
        {"action": "suspend_from_borrowing", "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["error"]["code"] in {
        "read_only_role",
        "permission_denied",
    }


def test_a_row_pointing_outside_the_workspace_prefix_is_not_served(
    alpha: Workspace, records: AlphaRecords
) -> None:
    with tenant_context(alpha.cooperative()):
        MemberDocument.objects.filter(pk=records.photo_id).update(
            storage_path=f"workspaces/coop_beta/members/{records.member_id}/x.jpg"
        )
    client = logged_in(alpha, alpha.admin)
    assert client.get(f"/members/{records.member_id}/documents/{records.photo_id}/").status_code == 404


def test_files_are_not_under_a_public_media_url(alpha: Workspace, records: AlphaRecords) -> None:
    from django.conf import settings

    assert not settings.MEDIA_URL or settings.MEDIA_URL == "/"
    with tenant_context(alpha.cooperative()):
        path = MemberDocument.objects.get(pk=records.photo_id).storage_path
        assert Branch.objects.filter(code="BR2").exists()
    client = logged_in(alpha, alpha.admin)
    assert client.get("/" + path).status_code == 404
