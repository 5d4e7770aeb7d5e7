"""Log in to the demo samity in Chromium, switch languages, check the shell and its accessibility."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import DEMO, DEMO_HOST, log_in, translated

# django_db: the browser's server process uses the test database, which must exist for it.
pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("browser")]


def test_log_in_switch_language_and_see_the_translated_shell(
    browser: Any, server_port: int, browser_user: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    log_in(page, server_port, browser_user)
    # The samity's default language is Bangla; switch to English, then back to Bangla.
    with page.expect_navigation():
        page.get_by_label(translated("Language", "bn")).select_option("en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"

    with page.expect_navigation():
        page.get_by_label("Language").select_option("bn")
    assert page.locator("html").get_attribute("lang") == "bn"
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == translated("Dashboard", "bn") != "Dashboard"
    nav = page.get_by_role("navigation").inner_text()
    assert translated("Audit trail", "bn") in nav and translated("Staff", "bn") in nav
    header = page.locator("header").inner_text()
    assert DEMO.spec.name in header
    assert translated("Business date", "bn") in header
    context.close()


def test_the_shell_fits_a_360_px_phone(browser: Any, server_port: int, browser_user: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, server_port, browser_user)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    for link in page.get_by_role("navigation").get_by_role("link").all():
        box = link.bounding_box()
        assert box is not None and box["height"] >= 44, "touch targets must be at least 44 px tall"
    context.close()


@pytest.mark.parametrize("path", ["/accounts/login/", "/"])
def test_pages_pass_the_axe_accessibility_check(
    browser: Any, server_port: int, browser_user: str, path: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    if path == "/":
        log_in(page, server_port, browser_user)
    else:
        page.goto(f"http://{DEMO_HOST}:{server_port}{path}")
    results = Axe().run(page)
    serious = [
        violation
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert serious == [], results.generate_report()
    context.close()
