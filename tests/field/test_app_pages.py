"""The field app's page, service worker and manifest as the workspace serves them (the browser tests
in tests/e2e/test_field_app_in_chromium.py drive the app itself)."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils import translation

from tests.conftest import ALPHA, workspace_client

pytestmark = pytest.mark.django_db


def _config(html: str) -> dict[str, object]:
    found = re.search(r'<script id="field-config" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    return dict(json.loads(found.group(1)))


def test_the_page_needs_a_signed_in_collector(alpha: object) -> None:
    anonymous = workspace_client(ALPHA).get("/field/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    # An accountant does not collect in the field.
    assert workspace_client(ALPHA, username="clerk0").get("/field/").status_code == 403
    page = workspace_client(ALPHA, username=ALPHA.only_here).get("/field/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    config = _config(html)
    assert config["currency"] == {"code": "BDT", "exponent": 2}
    assert config["urls"] == {
        "devices": "/api/v1/field/devices/",
        "sync": "/api/v1/field/sync/",
        "sheet": "/api/v1/field/sheet/",
        "book": "/api/v1/field/book/",
        "serviceWorker": "/field/sw.js",
        "scope": "/field/",
    }
    # The scripts' strings come from the page, in the page's language.
    strings = config["strings"]
    assert isinstance(strings, dict) and strings["state_pending"]
    language = str(config["language"])
    with translation.override(language):
        assert strings["state_pending"] == translation.gettext("Waiting to upload")
    assert '<link rel="manifest" href="/field/manifest.webmanifest">' in html
    imports = re.search(r'<script type="importmap">(.*?)</script>', html, re.S)
    assert imports is not None
    assert json.loads(imports.group(1))["imports"]["field/sync.js"] == "/static/field/sync.js"


def test_the_service_worker_keeps_the_app_shell_and_no_data(alpha: object) -> None:
    worker = workspace_client(ALPHA).get("/field/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("text/javascript")
    assert worker["Service-Worker-Allowed"] == "/field/"
    assert worker["Cache-Control"] == "no-cache"
    body = worker.content.decode()
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))  # type: ignore[union-attr]
    assert precache[:2] == ["/field/", "/field/manifest.webmanifest"]
    assert {"/static/field/app.js", "/static/field/store.js", "/static/field/icon-512.png"} <= set(precache)
    assert not [url for url in precache if url.startswith("/api/")]
    version = re.search(r'const CACHE = PREFIX \+ "([0-9a-f]{16})";', body)
    assert version is not None
    # Every static file it keeps exists (a missing one would fail the worker's installation).
    for url in precache[2:]:
        assert url.startswith(settings.STATIC_URL) and finders.find(url.removeprefix(settings.STATIC_URL)), (
            url
        )


def test_the_manifest_installs_the_app_at_field(alpha: object) -> None:
    answer = workspace_client(ALPHA).get("/field/manifest.webmanifest")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/manifest+json"
    manifest = answer.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/field/",
        "/field/",
        "standalone",
    )
    assert [icon["sizes"] for icon in manifest["icons"]] == ["192x192", "512x512"]
    assert manifest["name"].endswith("Alpha Cooperative")
