"""A group leader's sign-in in Chromium, in the demo samity's Bangla: the admin gives the leader of
MIR-01 the field app on the group's page; the leader signs in on a phone, the field app opens,
and the member list answers 403."""

from __future__ import annotations

from typing import Any

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from core_banking.members.models import MemberGroup
from tenants.models import Cooperative
from tests.e2e.conftest import DEMO, DEMO_HOST, chromium_path, log_in, translated

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(chromium_path() is None, reason="no Chromium on this machine"),
]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
LEADER_PASSWORD = "Shapla-Samity-2026!"


def test_an_admin_gives_the_leader_the_field_app_and_the_leader_opens_it(
    browser: Any, server_port: int, browser_user: str
) -> None:
    with tenant_context(Cooperative.objects.get(slug=DEMO.spec.slug)):
        group = MemberGroup.objects.select_related("leader").get(code="MIR-01")
    assert group.leader is not None
    base = f"http://{DEMO_HOST}:{server_port}"

    office = browser.new_context()
    page = office.new_page()
    log_in(page, server_port, browser_user)
    page.goto(f"{base}/members/groups/{group.pk}/edit/")
    form = page.locator("[data-testid=leader-login-form]")
    form.locator("input[name=username]").fill("leader-mir01")
    form.locator("input[name=password]").fill(LEADER_PASSWORD)
    form.locator("input[name=password_again]").fill(LEADER_PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=leader-login-open]")).to_contain_text("leader-mir01")
    office.close()

    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(translated("User name", "bn")).fill("leader-mir01")
    page.get_by_label(translated("Password", "bn")).fill(LEADER_PASSWORD)
    page.get_by_role("button", name=translated("Log in", "bn")).click()
    page.wait_for_url(f"{base}/")
    expect(page.locator('a[href="/field/"]').first).to_be_visible()
    expect(page.locator('a[href="/members/"]')).to_have_count(0)
    page.goto(f"{base}/field/")
    expect(page.locator("#sync-state")).to_be_attached()
    answer = page.goto(f"{base}/members/")
    assert answer is not None and answer.status == 403
    phone.close()
