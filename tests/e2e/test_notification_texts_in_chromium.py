"""The SMS text editor in Chromium, on a phone, in the demo samity's Bangla: the sample, encoding,
segments and cost follow the text as typed (htmx); saved as a version; the default restored."""

from __future__ import annotations

from typing import Any

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from notifications.templates_models import MessageTemplate
from tenants.models import Cooperative
from tests.e2e.conftest import DEMO, DEMO_HOST, chromium_path, log_in, translated

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(chromium_path() is None, reason="no Chromium on this machine"),
]


def _cooperative() -> Cooperative:
    return Cooperative.objects.get(slug=DEMO.spec.slug)


def test_an_admin_edits_a_bangla_sms_and_sees_its_segments_and_cost(
    browser: Any,
    server_port: int,
    browser_user: str,
) -> None:
    cooperative = _cooperative()
    native = cooperative.use_native_digits
    assert cooperative.currency == "BDT"
    five_thousand = "৫,০০০.০০৳" if native else "5,000.00৳"
    one_segment_cost = "০.৪৫৳" if native else "0.45৳"
    two_segment_cost = "০.৯০৳" if native else "0.90৳"
    base = f"http://{DEMO_HOST}:{server_port}"
    phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    log_in(page, server_port, browser_user)
    page.goto(f"{base}/notifications/texts/")
    page.locator("a[href='/notifications/texts/savings_deposit/bn/']").click()
    page.wait_for_url(f"{base}/notifications/texts/savings_deposit/bn/")
    with tenant_context(cooperative):
        before = MessageTemplate.objects.filter(kind="savings_deposit", language="bn").count()

    preview = page.locator("#text-preview .sms-preview")
    body = page.locator("textarea[name=body]")
    body.fill("জমা {{ amount }}")
    expect(preview.locator(".sms-sample")).to_have_text(f"জমা {five_thousand}")
    expect(preview).to_have_attribute("data-encoding", "UCS-2")
    expect(preview).to_have_attribute("data-segments", "1")
    expect(preview.locator(".sms-units")).to_have_text("13")
    expect(preview.locator(".sms-cost")).to_have_text(one_segment_cost)

    body.fill("জমা {{ amount }} " + "ক" * 70)
    expect(preview).to_have_attribute("data-segments", "2")
    expect(preview.locator(".sms-units")).to_have_text("84")
    expect(preview.locator(".sms-cost")).to_have_text(two_segment_cost)

    body.fill("{{ amout }}")
    preview.get_by_text("amout").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    body.fill("জমা {{ amount }}, স্থিতি {{ balance }}")
    page.get_by_role("button", name=translated("Save the text", "bn")).click()
    page.wait_for_url(f"{base}/notifications/texts/savings_deposit/bn/")
    page.get_by_role("button", name=translated("Restore the default text", "bn")).click()
    page.wait_for_url(f"{base}/notifications/texts/savings_deposit/bn/")
    with tenant_context(cooperative):
        versions = list(
            MessageTemplate.objects.filter(kind="savings_deposit", language="bn").order_by("-version")[:2]
        )
    assert [row.version for row in versions] == [before + 2, before + 1]
    assert (versions[0].body, versions[1].body) == ("", "জমা {{ amount }}, স্থিতি {{ balance }}")
    phone.close()
