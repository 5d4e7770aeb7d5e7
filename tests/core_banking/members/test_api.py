"""The REST API: what it does, and the shape and codes of its errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context

from control_plane.identity.models import User
from core_banking.members.models import Member, MemberGroup, MemberStatus, MemberType
from core_banking.organisation.models import Branch
from tests.conftest import Workspace
from tests.core_banking.members.helpers import image_bytes, logged_in, new_member


@pytest.fixture
def ids(alpha: Workspace) -> dict[str, int]:
    with tenant_context(alpha.cooperative()):
        return {
            "br1": Branch.objects.get(code="BR1").pk,
            "ord": MemberType.objects.get(code="ORD").pk,
            "field_officer": User.objects.get(username="alpha-only").pk,
        }


@pytest.fixture
def api(alpha: Workspace) -> Client:
    return logged_in(alpha, alpha.admin)


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def admission(ids: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {
        "branch": ids["br1"],
        "member_type": ids["ord"],
        "full_name": "রহিমা বেগম",
        "join_date": "2024-01-15",
        **extra,
    }


def assert_error(response: Any, status: int, code: str, fields: set[str] | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    if fields is not None:
        assert set(body["error"]["fields"]) == fields
    return dict(body["error"])


def test_admit_read_and_search(api: Client, ids: dict[str, int]) -> None:
    response = post(
        api,
        "/api/v1/members/",
        admission(
            ids,
            national_id="১২৩৪৫৬৭৮৯০",
            phone="01711000000",
            nominees=[{"name": "করিম", "relationship": "স্বামী", "share_percent": 100}],
        ),
    )
    assert response.status_code == 201, response.content
    member = response.json()
    assert (member["number"], member["national_id"], member["phone"]) == (
        "BR1-000001",
        "1234567890",
        "+8801711000000",
    )
    assert member["message_language"] == "bn" and member["status"] == "active"
    assert member["nominees"] == [
        {"name": "করিম", "relationship": "স্বামী", "share_percent": 100, "phone": "", "national_id": ""}
    ]
    fetched = api.get(f"/api/v1/members/{member['id']}/").json()
    assert fetched["full_name"] == "রহিমা বেগম" and fetched["documents"] == []
    found = api.get("/api/v1/members/", {"q": "রহিমা"}).json()
    assert [row["number"] for row in found["results"]] == ["BR1-000001"]
    listed = api.get("/api/v1/members/").json()
    assert listed["count"] == 1 and listed["results"][0]["branch_code"] == "BR1"


def test_validation_errors_name_their_fields(api: Client, ids: dict[str, int]) -> None:
    response = post(api, "/api/v1/members/", {"branch": ids["br1"]})
    error = assert_error(response, 400, "validation_error", {"member_type", "full_name", "join_date"})
    assert len(error["fields"]["full_name"]) == 1  # in the workspace's language (Bangla here)


def test_a_bad_national_id_has_its_own_code(api: Client, ids: dict[str, int]) -> None:
    response = post(api, "/api/v1/members/", admission(ids, national_id="12345"))
    error = assert_error(response, 400, "national_id_invalid", {"national_id"})
    assert error["fields"]["national_id"] == ["Not a valid national ID here: 10, 13 or 17 digits."]


def test_a_duplicate_national_id_is_a_409(api: Client, ids: dict[str, int]) -> None:
    assert post(api, "/api/v1/members/", admission(ids, national_id="1234567890")).status_code == 201
    response = post(api, "/api/v1/members/", admission(ids, full_name="Other", national_id="1234567890"))
    assert_error(response, 409, "national_id_taken", {"national_id"})


def test_a_bad_phone_has_its_own_code(api: Client, ids: dict[str, int]) -> None:
    assert_error(post(api, "/api/v1/members/", admission(ids, phone="12")), 400, "phone_invalid", {"phone"})


def test_update_changes_only_what_is_sent(api: Client, ids: dict[str, int]) -> None:
    member = post(api, "/api/v1/members/", admission(ids, phone="01711000000")).json()
    response = api.patch(
        f"/api/v1/members/{member['id']}/", {"address": "Mirpur 10"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["address"] == "Mirpur 10" and response.json()["phone"] == "+8801711000000"
    moved = api.patch(
        f"/api/v1/members/{member['id']}/", {"branch": ids["br1"] + 999}, content_type="application/json"
    )
    assert_error(moved, 400, "validation_error", {"branch"})


def test_nominees_must_share_100_percent(api: Client, ids: dict[str, int]) -> None:
    member = post(api, "/api/v1/members/", admission(ids)).json()
    url = f"/api/v1/members/{member['id']}/nominees/"
    body = {
        "nominees": [
            {"name": "Karim", "relationship": "husband", "share_percent": 50},
            {"name": "Salma", "relationship": "daughter", "share_percent": 40},
        ]
    }
    response = api.put(url, body, content_type="application/json")
    error = assert_error(response, 400, "nominee_shares_invalid", {"nominees"})
    assert error["fields"]["nominees"] == ["The nominees' shares add up to 90 %, not 100 %."]
    body["nominees"][1]["share_percent"] = 50
    response = api.put(url, body, content_type="application/json")
    assert response.status_code == 200
    assert [n["share_percent"] for n in api.get(url).json()["nominees"]] == [50, 50]


def test_status_changes(api: Client, ids: dict[str, int]) -> None:
    member = post(api, "/api/v1/members/", admission(ids)).json()
    url = f"/api/v1/members/{member['id']}/status/"
    response = post(api, url, {"action": "suspend_from_borrowing", "reason": "Overdue"})
    assert response.status_code == 200 and response.json()["status"] == MemberStatus.SUSPENDED_FROM_BORROWING
    assert_error(
        post(api, url, {"action": "suspend_from_borrowing", "reason": "Again"}),
        409,
        "member_status_change_invalid",
    )
    assert_error(post(api, url, {"action": "exit", "reason": "x"}), 400, "validation_error", {"action"})
    assert post(api, url, {"action": "reinstate", "reason": "Paid"}).json()["status"] == "active"


def test_document_upload_by_multipart(api: Client, ids: dict[str, int]) -> None:
    member = post(api, "/api/v1/members/", admission(ids)).json()
    url = f"/api/v1/members/{member['id']}/documents/"
    photo = SimpleUploadedFile("IMG_0001.png", image_bytes((1000, 800)), content_type="image/png")
    response = api.post(url, {"kind": "photo", "file": photo})
    assert response.status_code == 201, response.content
    document = response.json()
    assert (document["width"], document["height"], document["content_type"]) == (1000, 800, "image/jpeg")
    assert document["url"] == f"/members/{member['id']}/documents/{document['id']}/"
    image = api.get(document["thumbnail_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert api.get(f"/api/v1/members/{member['id']}/").json()["documents"][0]["id"] == document["id"]
    # A file that calls itself a JPEG but is not one.
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 an executable", content_type="image/jpeg")
    assert_error(api.post(url, {"kind": "photo", "file": fake}), 400, "document_not_an_image", {"file"})
    assert_error(api.post(url, {"kind": "photo"}), 400, "validation_error", {"file"})


def test_groups_and_what_a_field_officer_sees(alpha: Workspace, api: Client, ids: dict[str, int]) -> None:
    leader = post(api, "/api/v1/members/", admission(ids)).json()
    body = {
        "branch": ids["br1"],
        "code": "G-01",
        "name": "শাপলা সমিতি",
        "meeting_weekday": 2,
        "leader": leader["id"],
        "field_officer": ids["field_officer"],
    }
    response = post(api, "/api/v1/member-groups/", body)
    assert response.status_code == 201, response.content
    group = response.json()
    assert (group["leader_number"], group["field_officer_username"]) == ("BR1-000001", "alpha-only")
    assert_error(
        post(api, "/api/v1/member-groups/", body | {"leader": None}), 409, "group_code_taken", {"code"}
    )
    post(
        api,
        "/api/v1/member-groups/",
        {"branch": ids["br1"], "code": "G-02", "name": "Other", "meeting_weekday": 3},
    )
    field_officer = logged_in(alpha, alpha.only_here)
    assert [g["code"] for g in field_officer.get("/api/v1/member-groups/").json()] == ["G-01"]
    assert [g["code"] for g in api.get("/api/v1/member-groups/").json()] == ["G-01", "G-02"]
    with tenant_context(alpha.cooperative()):
        other_id = MemberGroup.objects.get(code="G-02").pk
    assert_error(field_officer.get(f"/api/v1/member-groups/{other_id}/"), 404, "not_found")
    patched = api.patch(
        f"/api/v1/member-groups/{group['id']}/", {"meeting_weekday": 4}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["meeting_weekday"] == 4
    assert patched.json()["leader_number"] == "BR1-000001"  # untouched by a partial update


def test_member_types(api: Client) -> None:
    assert [t["code"] for t in api.get("/api/v1/member-types/").json()] == ["ASSOC", "ORD"]
    created = post(api, "/api/v1/member-types/", {"code": "staff", "name": "কর্মী সদস্য"})
    assert created.status_code == 201 and created.json()["code"] == "STAFF"
    assert_error(
        post(api, "/api/v1/member-types/", {"code": "STAFF", "name": "Again"}), 409, "member_type_code_taken"
    )
    renamed = api.patch(
        f"/api/v1/member-types/{created.json()['id']}/", {"name": "Staff"}, content_type="application/json"
    )
    assert renamed.json() == {"id": created.json()["id"], "code": "STAFF", "name": "Staff"}


def test_unknown_ids_answer_in_the_error_shape(api: Client) -> None:
    assert_error(api.get("/api/v1/members/999999/"), 404, "not_found")
    assert_error(api.get("/api/v1/member-groups/999999/"), 404, "not_found")
    assert_error(api.get("/api/v1/member-types/999999/"), 404, "not_found")


def test_the_schema_documents_the_endpoints(api: Client) -> None:
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/members/{member_id}/documents/" in paths
    upload = paths["/api/v1/members/{member_id}/documents/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"201", "400", "413"} <= set(upload["responses"])
    assert paths["/api/v1/members/"]["post"]["operationId"] == "members_create"


def test_a_branch_manager_cannot_admit_into_a_branch_they_cannot_see(
    alpha: Workspace, br1_manager: str, ids: dict[str, int]
) -> None:
    with tenant_context(alpha.cooperative()):
        other = Branch.objects.create(code="BR9", name="Nine")
        stranger = new_member(branch=other)
    client = logged_in(alpha, br1_manager)
    response = post(client, "/api/v1/members/", admission(ids) | {"branch": other.pk})
    assert_error(response, 400, "validation_error", {"branch"})
    assert post(client, "/api/v1/members/", admission(ids)).status_code == 201
    assert_error(client.get(f"/api/v1/members/{stranger.pk}/"), 404, "not_found")
    with tenant_context(alpha.cooperative()):
        assert Member.objects.filter(branch=other).count() == 1
