"""The review of a field admission in Chromium: the queue, the record with its pictures, the approval.

Runs against the demo samity (in Bangla) with a real server process; the application is synced
through the services and committed first, as the phone would have sent it.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from core_banking.members.models import MemberDocument, MemberGroup
from field.models import FieldRecord
from field.services import SyncItem, field_device_register, field_sync
from tenants.models import Cooperative
from tests.e2e.conftest import DEMO, DEMO_HOST, log_in, translated
from tests.field.conftest import png_data_uri

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def application(browser_user: str, django_db_blocker: Any) -> dict[str, Any]:
    """An admission synced by the demo's field officer for one of their groups (committed)."""
    with django_db_blocker.unblock(), tenant_context(Cooperative.objects.get(slug=DEMO.spec.slug)):
        officer = get_user_model().objects.get(username="field")
        group = MemberGroup.objects.filter(field_officer=officer, is_active=True).order_by("id").first()
        assert group is not None, "the demo's field officer works a group"
        device, _token = field_device_register(actor=officer, label="e2e phone")
        name = f"Rahima Begum {uuid.uuid4().hex[:6]}"
        national_id = "".join(random.choice("0123456789") for _ in range(17))
        item = SyncItem(
            client_uuid=uuid.uuid4(),
            device_sequence=1,
            device_time=dt.datetime.now(dt.UTC),
            kind="admission",
            payload={
                "group": group.pk,
                "full_name": name,
                "phone": f"0171{random.randint(1_000_000, 9_999_999)}",
                "national_id": national_id,
                "date_of_birth": "1990-04-01",
                "language": "bn",
                "photo": png_data_uri((120, 160)),
                "id_scan": png_data_uri((320, 200)),
            },
        )
        (answer,) = field_sync(device=device, items=[item])
        assert (answer.status, answer.reason_code) == ("needs_review", "admission_pending_approval")
        record = FieldRecord.objects.get(client_uuid=item.client_uuid)
        return {"record": record.pk, "name": name, "group": group.pk}


def test_a_manager_approves_a_field_admission_and_the_member_is_admitted_with_the_pictures(
    browser: Any, server_port: int, browser_user: str, application: dict[str, Any]
) -> None:
    base = f"http://{DEMO_HOST}:{server_port}"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, server_port, browser_user)

    page.goto(f"{base}/field/collections/review/")
    page.get_by_role("link", name=f"#{application['record']}").first.click()
    page.wait_for_url(f"{base}/field/collections/records/{application['record']}/")
    assert application["name"] in page.content()
    photo = page.get_by_role("img", name=translated("Photo", "bn"))
    photo.wait_for()
    assert page.evaluate("(img) => img.complete && img.naturalWidth === 120", photo.element_handle())

    admit = page.locator("section.field-action", has=page.locator("input[value=approve_admission]"))
    admit.get_by_label(translated("Member type", "bn")).select_option(index=1)
    assert admit.get_by_label(translated("Group", "bn")).input_value() == str(application["group"])
    admit.get_by_label(translated("Note", "bn")).fill("Met her at the meeting")
    admit.get_by_role("button").click()
    page.wait_for_url(f"{base}/field/collections/records/{application['record']}/")
    member_link = page.locator("a[href^='/members/']", has_text=application["name"])
    member_link.wait_for()
    assert page.locator("section.field-action").count() == 0  # nothing left to decide

    with tenant_context(Cooperative.objects.get(slug=DEMO.spec.slug)):
        record = FieldRecord.objects.select_related("admitted_member").get(pk=application["record"])
        member = record.admitted_member
        assert member is not None and member.full_name == application["name"]
        assert record.review_note == "Met her at the meeting"
        kinds = sorted(
            MemberDocument.objects.filter(member=member, is_current=True).values_list("kind", flat=True)
        )
        assert kinds == ["id_front", "photo"]
    context.close()
