"""Messages needing attention in Chromium: the admin of the demo samity sends a dead SMS again.

The dead message is written once, committed, so that the separate server process sees it; it is
removed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from notifications.models import MessageKind, OutboxMessage, OutboxStatus
from tenants.models import Cooperative
from tests.e2e.conftest import DEMO, DEMO_HOST, log_in, translated

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("browser")]
REF = "e2e-dead-message"


@pytest.fixture(scope="module")
def dead_message(browser_user: str, django_db_blocker: Any) -> Iterator[int]:
    with django_db_blocker.unblock():
        cooperative = Cooperative.objects.get(slug=DEMO.spec.slug)
    with django_db_blocker.unblock(), tenant_context(cooperative):
        OutboxMessage.objects.filter(source_ref=REF).delete()
        message = OutboxMessage.objects.create(
            kind=MessageKind.SAVINGS_DEPOSIT, source_ref=REF, phone="+8801711000099", language="bn",
            created_at=timezone.now(), status=OutboxStatus.DEAD, attempts=8, dead_at=timezone.now(),
            body="E2E: Tk 500 received", last_error="HTTP 503 20503 Try again later",
        )  # fmt: skip
    yield message.pk
    with django_db_blocker.unblock(), tenant_context(cooperative):
        OutboxMessage.objects.filter(source_ref=REF).delete()


def test_the_admin_sends_a_dead_message_again(
    browser: Any, server_port: int, browser_user: str, dead_message: int, django_db_blocker: Any
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    log_in(page, server_port, browser_user)
    page.goto(f"http://{DEMO_HOST}:{server_port}/notifications/?status=dead")
    row = page.locator(f'tr[data-message="{dead_message}"]')
    assert "E2E: Tk 500 received" in row.inner_text()
    assert "HTTP 503" in row.inner_text()

    serious = [v for v in Axe().run(page).response["violations"] if v["impact"] in {"serious", "critical"}]
    assert serious == [], serious

    with page.expect_navigation():
        row.get_by_role("button", name=translated("Send again", "bn")).click()
    assert translated("The message will be sent again.", "bn") in page.content()
    assert page.locator(f'tr[data-message="{dead_message}"]').count() == 0
    with django_db_blocker.unblock(), tenant_context(Cooperative.objects.get(slug=DEMO.spec.slug)):
        message = OutboxMessage.objects.get(pk=dead_message)
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
    context.close()
