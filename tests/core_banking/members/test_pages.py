"""Staff pages: list with live search, admission, detail, edit, nominees, status, upload, groups."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.html import escape
from django_tenants.utils import tenant_context

from control_plane.identity.models import User
from core_banking.members.models import Member, MemberDocument, MemberGroup, MemberStatus, MemberType
from core_banking.organisation.models import Branch
from tests.conftest import Workspace
from tests.core_banking.members.helpers import image_bytes, logged_in, new_member


def test_the_menu_links_to_the_member_list(alpha: Workspace) -> None:
    page = logged_in(alpha, alpha.admin).get("/")
    assert 'href="/members/"' in page.content.decode()


def test_list_and_live_search(alpha: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        new_member(full_name="Nguyễn Văn An")
        new_member(full_name="রহিমা বেগম")
    client = logged_in(alpha, alpha.admin)
    page = client.get("/members/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'hx-get="/members/"' in html and 'type="search"' in html
    assert "Nguyễn Văn An" in html and "রহিমা বেগম" in html
    partial = client.get("/members/", {"q": "nguyen van"}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "Nguyễn Văn An" in body and "রহিমা বেগম" not in body
    assert "<html" not in body  # only the results, for htmx to swap in


def test_admission_through_the_form(alpha: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        branch_id = Branch.objects.get(code="BR1").pk
        type_id = MemberType.objects.get(code="ORD").pk
    client = logged_in(alpha, alpha.admin)
    form = client.get("/members/new/")
    assert form.status_code == 200 and 'name="nominees-TOTAL_FORMS"' in form.content.decode()
    data = {
        "branch": branch_id,
        "member_type": type_id,
        "full_name": "সালমা খাতুন",
        "national_id": "১২৩৪৫৬৭৮৯০১২৩",
        "phone": "01711000000",
        "message_language": "bn",
        "join_date": "2024-02-01",
        "nominees-TOTAL_FORMS": "2",
        "nominees-INITIAL_FORMS": "0",
        "nominees-MIN_NUM_FORMS": "0",
        "nominees-MAX_NUM_FORMS": "6",
        "nominees-0-name": "রহিম",
        "nominees-0-relationship": "স্বামী",
        "nominees-0-share_percent": "100",
    }
    response = client.post("/members/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(alpha.cooperative()):
        member = Member.objects.get(full_name="সালমা খাতুন")
        assert member.national_id == "1234567890123"
        assert list(member.nominees.values_list("name", "share_percent")) == [("রহিম", 100)]
    assert response["Location"] == f"/members/{member.pk}/"
    # The same national ID again: the form shows the service's message on the field.
    again = client.post("/members/new/", data | {"full_name": "Another"})
    assert again.status_code == 200
    assert f"already registered to member {member.number}" in again.content.decode()


def test_detail_shows_photo_nominees_status_and_the_accounts_slot(alpha: Workspace) -> None:
    from core_banking.members.services import NomineeData, member_document_upload

    with tenant_context(alpha.cooperative()):
        member = new_member(full_name="Đỗ Thị Đào", nominees=(NomineeData("Đỗ Văn Ba", "cha", 100),))
        photo = member_document_upload(
            actor=None, member=member, kind="photo", content=image_bytes((300, 300))
        )
    client = logged_in(alpha, alpha.admin)
    html = client.get(f"/members/{member.pk}/").content.decode()
    assert f'src="/members/{member.pk}/documents/{photo.pk}/thumbnail/"' in html
    assert "Đỗ Văn Ba" in html
    assert 'value="suspend_from_borrowing"' in html


def test_status_change_edit_and_nominees_pages(alpha: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        member = new_member(full_name="Karim Mia")
    client = logged_in(alpha, alpha.admin)
    response = client.post(
        f"/members/{member.pk}/status/", {"action": "suspend_from_borrowing", "reason": "Overdue twice"}
    )
    assert response.status_code == 302
    edit = client.get(f"/members/{member.pk}/edit/")
    assert edit.status_code == 200 and 'name="branch"' not in edit.content.decode()
    nominees = {
        "nominees-TOTAL_FORMS": "2",
        "nominees-INITIAL_FORMS": "0",
        "nominees-MIN_NUM_FORMS": "0",
        "nominees-MAX_NUM_FORMS": "6",
        "nominees-0-name": "Salma",
        "nominees-0-relationship": "wife",
        "nominees-0-share_percent": "70",
        "nominees-1-name": "Rina",
        "nominees-1-relationship": "daughter",
        "nominees-1-share_percent": "20",
    }
    refused = client.post(f"/members/{member.pk}/nominees/", nominees)
    assert refused.status_code == 200 and "90 %" in refused.content.decode()
    assert (
        client.post(
            f"/members/{member.pk}/nominees/", nominees | {"nominees-1-share_percent": "30"}
        ).status_code
        == 302
    )
    with tenant_context(alpha.cooperative()):
        member.refresh_from_db()
        assert member.status == MemberStatus.SUSPENDED_FROM_BORROWING
        assert sorted(member.nominees.values_list("share_percent", flat=True)) == [30, 70]


def test_the_upload_form_opens_the_camera_and_stores_the_picture(alpha: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        member = new_member()
    client = logged_in(alpha, alpha.admin)
    form = client.get(f"/members/{member.pk}/documents/upload/").content.decode()
    assert 'type="file"' in form and 'accept="image/*"' in form and 'capture="environment"' in form
    assert 'enctype="multipart/form-data"' in form
    upload = SimpleUploadedFile("scan.png", image_bytes((1200, 800)), content_type="image/png")
    response = client.post(f"/members/{member.pk}/documents/upload/", {"kind": "id_front", "file": upload})
    assert response.status_code == 302
    text = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    refused = client.post(f"/members/{member.pk}/documents/upload/", {"kind": "photo", "file": text})
    assert refused.status_code == 200 and "not a JPEG, PNG or WebP picture" in refused.content.decode()
    with tenant_context(alpha.cooperative()):
        assert list(MemberDocument.objects.filter(member=member).values_list("kind", flat=True)) == [
            "id_front"
        ]


def test_groups_pages(alpha: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        leader = new_member(full_name="Leader Lovely")
        branch_id = Branch.objects.get(code="BR1").pk
        officer_id = User.objects.get(username="alpha-only").pk
    client = logged_in(alpha, alpha.admin)
    assert client.get("/members/groups/new/").status_code == 200
    data = {
        "branch": branch_id,
        "code": "G-10",
        "name": "Shapla",
        "meeting_weekday": "2",
        "meeting_place": "School",
        "leader_number": leader.number.lower(),
        "field_officer": officer_id,
        "is_active": "on",
    }
    assert client.post("/members/groups/new/", data).status_code == 302
    unknown_leader = client.post(
        "/members/groups/new/", data | {"code": "G-11", "leader_number": "BR1-999999"}
    )
    with translation.override("bn"):
        refusal = escape(translation.gettext("No member of the group's branch has this number."))
    assert unknown_leader.status_code == 200 and refusal in unknown_leader.content.decode()
    with tenant_context(alpha.cooperative()):
        group = MemberGroup.objects.get(code="G-10")
        assert group.leader == leader and group.field_officer_id == officer_id
    listing = client.get("/members/groups/").content.decode()
    assert "Shapla" in listing and "Leader Lovely" in listing
    edit = client.post(f"/members/groups/{group.pk}/edit/", data | {"name": "Shapla Samity"})
    assert edit.status_code == 302
    # The assigned field officer sees the group (read only); another officer would not.
    officer_page = logged_in(alpha, alpha.only_here).get("/members/groups/").content.decode()
    assert "Shapla Samity" in officer_page and "/edit/" not in officer_page
