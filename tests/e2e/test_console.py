"""The operations console in Chromium: an operator logs in with a TOTP code (enrolling the app on
the first log-in), suspends a workspace, sees it suspended from the staff side, and reactivates it;
backs a workspace up and watches the result appear, and changes its plan."""

from __future__ import annotations

import re
import tempfile
import threading
import time
from base64 import b32decode
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection, connections
from django.test import override_settings
from django_otp.oath import TOTP

from tests.control_plane.backups.conftest import local_storage
from tests.e2e.conftest import DEMO, DEMO_HOST, OPERATOR_PASSWORD, log_in, translated

# django_db: the browser's server process uses the test database, which must exist for it.
pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("browser")]


@pytest.fixture
def demo_state_restored(console_operator: str) -> Iterator[None]:
    """Put the demo cooperative back in its state afterwards, committed, even if the test fails half-way."""
    settings = connection.settings_dict

    def committed(statement: str, params: list[Any]) -> Any:
        with psycopg.connect(
            dbname=settings["NAME"],
            user=settings.get("USER") or "postgres",
            password=settings.get("PASSWORD") or None,
            host=settings.get("HOST") or "127.0.0.1",
            port=settings.get("PORT") or 5432,
            autocommit=True,
        ) as direct:
            cursor = direct.execute(statement, params)
            return cursor.fetchone() if cursor.description else None

    row = committed("SELECT lifecycle FROM public.tenants_cooperative WHERE slug = %s", [DEMO.spec.slug])
    yield
    committed(
        "UPDATE public.tenants_cooperative SET lifecycle = %s WHERE slug = %s", [row[0], DEMO.spec.slug]
    )


def _committed_sql(statement: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """A statement on its own autocommit connection: the server process sees it at once."""
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings.get("USER") or "postgres",
        password=settings.get("PASSWORD") or None,
        host=settings.get("HOST") or "127.0.0.1",
        port=settings.get("PORT") or 5432,
        autocommit=True,
    ) as direct:
        cursor = direct.execute(statement, params)
        return list(cursor.fetchall()) if cursor.description else []


@pytest.fixture
def demo_billing_and_backups_restored(browser_user: str, console_operator: str) -> Iterator[None]:
    """Remove the backups and the billing account the test gives the demo cooperative (committed)."""
    coop = "(SELECT id FROM public.tenants_cooperative WHERE slug = %s)"
    before = _committed_sql(
        f"SELECT id FROM public.backups_backup WHERE cooperative_id = {coop}", [DEMO.spec.slug]
    )
    had_account = _committed_sql(
        f"SELECT plan_id FROM public.billing_billingaccount WHERE cooperative_id = {coop}", [DEMO.spec.slug]
    )
    yield
    _committed_sql(
        f"DELETE FROM public.backups_backup WHERE cooperative_id = {coop} AND NOT (id = ANY(%s))",
        [DEMO.spec.slug, [row[0] for row in before]],
    )
    if not had_account:
        _committed_sql(
            f"DELETE FROM public.billing_billingaccount WHERE cooperative_id = {coop}", [DEMO.spec.slug]
        )
    else:
        _committed_sql(
            f"UPDATE public.billing_billingaccount SET plan_id = %s WHERE cooperative_id = {coop}",
            [had_account[0][0], DEMO.spec.slug],
        )


def _run_backup_as_the_worker_does(backup_id: int, folder: str) -> str:
    """``backup_run`` on the queued record, on a connection of its own (committed, as in a worker)."""
    from control_plane.backups.services import backup_run

    outcome: dict[str, str] = {}

    def body() -> None:
        try:
            connection.set_schema_to_public()
            with override_settings(STORAGES=local_storage(folder)):
                outcome["status"] = str(backup_run(backup_id=backup_id).status)
        finally:
            connections.close_all()

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    return outcome.get("status", "not run")


# The key the app was set up with on the first log-in, and the last time step used (codes work once).
_AUTHENTICATOR: dict[str, Any] = {}


def _code() -> str:
    """The code the app shows now, or the next one if this one was used already (codes work once)."""
    secret = str(_AUTHENTICATOR["secret"])
    step = max(int(time.time() // 30), int(_AUTHENTICATOR.get("last_step", -1)) + 1)
    while step > int(time.time() // 30) + 1:  # more than one step ahead is refused: wait for the clock
        time.sleep(1)
    generator = TOTP(b32decode(secret + "=" * (-len(secret) % 8)))
    generator.time = step * 30
    _AUTHENTICATOR["last_step"] = step
    return f"{generator.token():06d}"


def console_log_in(page: Any, port: int, username: str) -> None:
    """Password, then the code; on the very first log-in the app is set up from the key on the page."""
    page.goto(f"http://localhost:{port}/console/")  # not logged in: off to the console's own log-in
    assert "/console/login/" in page.url
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(OPERATOR_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/console/login/(enrol|verify)/$"))
    if page.url.endswith("/enrol/"):
        assert page.locator(".console-qr svg").count() == 1
        _AUTHENTICATOR["secret"] = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
        _AUTHENTICATOR.pop("last_step", None)
        button = "Confirm and log in"
    else:
        button = "Log in"
    page.get_by_label("Code from your authenticator app").fill(_code())
    page.get_by_role("button", name=button).click()
    page.wait_for_url(f"http://localhost:{port}/console/")


def test_operator_suspends_a_workspace_and_reactivates_it(
    browser: Any, server_port: int, browser_user: str, console_operator: str, demo_state_restored: None
) -> None:
    workspace_home = f"http://{DEMO_HOST}:{server_port}/"

    staff = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in(staff, server_port, browser_user)
    assert staff.get_by_role("heading", level=1).inner_text() == translated("Dashboard", "bn")

    ops = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    console_log_in(ops, server_port, console_operator)

    # Find the cooperative (htmx search), open it, suspend it.
    ops.get_by_label("Search").fill(DEMO.spec.slug)
    ops.wait_for_function("document.querySelectorAll('tr[data-slug]').length === 1")
    ops.locator(f'tr[data-slug="{DEMO.spec.slug}"] a').click()
    ops.wait_for_url(f"**/console/tenants/{DEMO.spec.slug}/")
    ops.get_by_role("button", name="Suspend…").click()
    ops.get_by_label("Reason").fill("E2E-1 unpaid for three months")
    ops.get_by_label("Type the subdomain to confirm").fill(DEMO.spec.slug)
    ops.get_by_role("button", name="Suspend the workspace").click()
    ops.wait_for_url(f"**/console/tenants/{DEMO.spec.slug}/")
    assert ops.locator(".console-title [data-state]").get_attribute("data-state") == "suspended"
    assert "E2E-1 unpaid for three months" in ops.get_by_test_id("history").inner_text()

    # The cooperative's staff: the suspended page, and nothing else.
    staff.goto(workspace_home)
    assert staff.locator('article[data-state="suspended"]').is_visible()
    assert staff.get_by_role("heading", level=1).inner_text() == translated(
        "This workspace is suspended", "bn"
    )
    staff.goto(workspace_home + "members/")
    assert staff.locator('article[data-state="suspended"]').is_visible()

    # Reactivate; the workspace is back as it was, for the same signed-in staff.
    ops.get_by_role("button", name="Reactivate…").click()
    ops.get_by_label("Reason").fill("E2E-1 paid")
    ops.get_by_role("button", name="Reactivate the workspace").click()
    ops.wait_for_url(f"**/console/tenants/{DEMO.spec.slug}/")
    assert ops.locator(".console-title [data-state]").get_attribute("data-state") == "active"

    staff.goto(workspace_home)
    assert staff.locator('article[data-state="suspended"]').count() == 0
    assert staff.get_by_role("heading", level=1).inner_text() == translated("Dashboard", "bn")

    # The console's session cookie opens nothing in the workspace, even in the same browser.
    ops.goto(workspace_home)
    assert "/accounts/login/" in ops.url
    ops.context.close()
    staff.context.close()


def test_the_console_fits_a_360_px_phone_and_passes_the_axe_check(
    browser: Any, server_port: int, browser_user: str, console_operator: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    def serious(page: Any) -> list[Any]:
        results = Axe().run(page)
        found = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
        assert found == [], results.generate_report()
        return found

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"http://localhost:{server_port}/console/login/")
    serious(page)
    console_log_in(page, server_port, console_operator)
    slug = DEMO.spec.slug
    for path in [
        "", f"tenants/{slug}/", f"tenants/{slug}/suspend/", "provision/",
        f"tenants/{slug}/plan/", f"tenants/{slug}/charges/", f"tenants/{slug}/backup/", "fleet/",
    ]:  # fmt: skip
        page.goto(f"http://localhost:{server_port}/console/{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"/console/{path} is {overflow}px wider than the phone"
        serious(page)
    context.close()


def test_operator_backs_up_a_workspace_watches_it_finish_and_changes_its_plan(
    browser: Any, server_port: int, console_operator: str, demo_billing_and_backups_restored: None
) -> None:
    ops = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    console_log_in(ops, server_port, console_operator)
    ops.goto(f"http://localhost:{server_port}/console/tenants/{DEMO.spec.slug}/")

    # Back up now: the queued run appears with its progress bar, and the section polls.
    backup_form = ops.get_by_test_id("backup-now")
    backup_form.get_by_label("Reason").fill("E2E-2 before the data import")
    backup_form.get_by_role("button", name="Back up now").click()
    ops.wait_for_url(f"**/console/tenants/{DEMO.spec.slug}/#backups")
    panel = ops.get_by_test_id("backups-panel")
    assert panel.get_attribute("data-busy") == "true"
    assert panel.locator("[data-operation] progress").count() == 1
    backup_id = int(panel.locator("[data-operation]").first.get_attribute("data-operation"))

    # The worker's part, done here; the page shows the result by itself (htmx polling, no reload).
    with tempfile.TemporaryDirectory(prefix="coopcore-e2e-backups-") as folder:
        assert _run_backup_as_the_worker_does(backup_id, folder) == "succeeded"
    ops.wait_for_selector('[data-testid="backups-panel"][data-busy="false"]', timeout=10_000)
    row = ops.locator(f'[data-testid="backups"] tr[data-backup="{backup_id}"]')
    assert row.get_attribute("data-status") == "succeeded"
    assert row.get_by_role("link", name="Restore…").is_visible()
    assert ops.locator("[data-operation]").count() == 0

    # Change the plan.
    ops.get_by_role("button", name="Change the plan…").click()
    ops.wait_for_url(f"**/console/tenants/{DEMO.spec.slug}/plan/")
    ops.get_by_label("New plan").select_option(label="Network (network)")
    ops.get_by_label("Reason").fill("E2E-3 more branches")
    ops.get_by_role("button", name="Change the plan").click()
    ops.wait_for_url(f"**/console/tenants/{DEMO.spec.slug}/#billing")
    assert ops.locator('[data-testid="billing"] [data-plan]').get_attribute("data-plan") == "network"
    history = ops.get_by_test_id("history").inner_text()
    assert "E2E-3 more branches" in history and "E2E-2 before the data import" in history
    ops.context.close()
