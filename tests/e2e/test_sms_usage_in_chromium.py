"""The SMS page in Chromium: the demo samity's admin reads this month against the plan, in Bangla.

The sent messages are written once, committed, so that the separate server process sees them;
they are removed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from frontend.formatting import format_count
from notifications.metering import sms_this_month
from notifications.models import MessageKind, OutboxMessage, OutboxStatus
from tenants.models import Cooperative
from tests.e2e.conftest import DEMO, DEMO_HOST, log_in, translated

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("browser")]
REF = "e2e-metering-"


@pytest.fixture(scope="module")
def sent_messages(browser_user: str, django_db_blocker: Any) -> Iterator[Cooperative]:
    with django_db_blocker.unblock():
        cooperative = Cooperative.objects.get(slug=DEMO.spec.slug)
    with django_db_blocker.unblock(), tenant_context(cooperative):
        OutboxMessage.objects.filter(source_ref__startswith=REF).delete()
        now = timezone.now()
        OutboxMessage.objects.bulk_create(
            OutboxMessage(
                kind=MessageKind.SAVINGS_DEPOSIT, source_ref=f"{REF}{number}", phone="+8801711000099",
                language="bn", created_at=now, status=OutboxStatus.SENT, sent_at=now, segments=2,
                provider="twilio", body="E2E",
            )
            for number in range(1234)
        )  # fmt: skip
    yield cooperative
    with django_db_blocker.unblock(), tenant_context(cooperative):
        OutboxMessage.objects.filter(source_ref__startswith=REF).delete()


def test_the_admin_reads_sms_this_month_and_the_last_twelve_months(
    browser: Any, server_port: int, browser_user: str, sent_messages: Cooperative, django_db_blocker: Any
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    cooperative = sent_messages
    with django_db_blocker.unblock(), tenant_context(cooperative):
        expected = sms_this_month(zone=cooperative.zone, today=cooperative.business_date())
    assert expected.sent >= 1234 and expected.segments >= 2468

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, server_port, browser_user)
    page.goto(f"http://{DEMO_HOST}:{server_port}/notifications/")
    page.get_by_role("link", name=translated("SMS this month", "bn")).click()
    page.wait_for_url(f"http://{DEMO_HOST}:{server_port}/notifications/usage/")

    section = page.locator('[data-testid="sms-this-month"]')
    assert section.get_attribute("data-sent") == str(expected.sent)
    assert section.get_attribute("data-segments") == str(expected.segments)
    native = cooperative.use_native_digits
    assert section.locator('[data-figure="sent"]').inner_text() == format_count(
        expected.sent, "bn", native_digits=native
    )
    assert section.locator('[data-figure="segments"]').inner_text() == format_count(
        expected.segments, "bn", native_digits=native
    )
    assert page.locator(".sms-months svg g").count() == 12
    assert page.locator("table[data-testid='sms-months'] tbody tr").count() == 12
    box = page.locator(".sms-months svg").bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 100

    serious = [v for v in Axe().run(page).response["violations"] if v["impact"] in {"serious", "critical"}]
    assert serious == [], serious
    context.close()
