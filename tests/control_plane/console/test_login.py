"""Console log-in: password, then TOTP (enrolled at the first log-in); lockouts; log-out; audit."""

from __future__ import annotations

import re
import time
from base64 import b32decode

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from control_plane.audit.models import AuditEvent
from control_plane.identity.models import User
from tests.conftest import PASSWORD, Workspace
from tests.control_plane.console.conftest import (
    CONSOLE_HOST,
    Operator,
    console_client,
    make_operator,
    totp_code,
)

pytestmark = pytest.mark.django_db

PAGES = ["/console/", "/console/tenants/alpha/", "/console/provision/", "/console/tenants/alpha/export/"]


def _password_step(client: Client, username: str, password: str = PASSWORD) -> str:
    response = client.post("/console/login/", {"username": username, "password": password})
    return response["Location"] if response.status_code == 302 else ""


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_the_console_log_in(operator: Operator, path: str) -> None:
    response = Client(HTTP_HOST=CONSOLE_HOST).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/?next=")


@pytest.mark.parametrize("path", PAGES)
def test_a_password_without_the_second_factor_reaches_no_page(operator: Operator, path: str) -> None:
    client = Client(HTTP_HOST=CONSOLE_HOST)
    assert _password_step(client, operator.username) == "/console/login/verify/"
    assert "_auth_user_id" not in client.session  # nobody is logged in between the two steps
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")


def test_password_and_code_log_in_and_are_audited(operator: Operator) -> None:
    client = Client(HTTP_HOST=CONSOLE_HOST, REMOTE_ADDR="203.0.113.5")
    _password_step(client, operator.username)
    page = client.get("/console/login/verify/")
    assert page.status_code == 200 and b'autocomplete="one-time-code"' in page.content
    response = client.post("/console/login/verify/", {"token": totp_code(operator.device)})
    assert (response.status_code, response["Location"]) == (302, "/console/")
    assert client.session[DEVICE_ID_SESSION_KEY] == operator.device.persistent_id
    assert client.get("/console/").status_code == 200
    login = AuditEvent.objects.filter(action="console.login").latest("id")
    assert (login.actor_label, login.ip_address) == (operator.username, "203.0.113.5")


def test_login_keeps_a_safe_next_page_only(operator: Operator) -> None:
    client = Client(HTTP_HOST=CONSOLE_HOST)
    client.post(
        "/console/login/?next=/console/tenants/alpha/",
        {"username": operator.username, "password": PASSWORD, "next": "/console/tenants/alpha/"},
    )
    response = client.post("/console/login/verify/", {"token": totp_code(operator.device)})
    assert response["Location"] == "/console/tenants/alpha/"
    other = make_operator("ops-ben")
    client = Client(HTTP_HOST=CONSOLE_HOST)
    client.post(
        "/console/login/", {"username": other.username, "password": PASSWORD, "next": "https://evil.example/"}
    )
    response = client.post("/console/login/verify/", {"token": totp_code(other.device)})
    assert response["Location"] == "/console/"


def test_a_code_works_once(operator: Operator) -> None:
    client = console_client(operator)
    operator.device.refresh_from_db()
    used = operator.device.last_t
    generator = TOTP(operator.device.bin_key, step=30, t0=0, digits=6, drift=0)
    generator.time = used * 30
    replay = f"{generator.token():06d}"
    client.post("/console/logout/")
    again = Client(HTTP_HOST=CONSOLE_HOST)
    _password_step(again, operator.username)
    response = again.post("/console/login/verify/", {"token": replay})
    assert response.status_code == 200 and b"That code is not right" in response.content
    assert again.get("/console/").status_code == 302


def test_first_log_in_enrols_a_device_from_the_qr_code_or_secret() -> None:
    newcomer = make_operator("ops-new", with_device=False)
    client = Client(HTTP_HOST=CONSOLE_HOST)
    assert _password_step(client, newcomer.username) == "/console/login/enrol/"
    # Not yet logged in: the enrolment page is all there is.
    assert client.get("/console/").status_code == 302
    page = client.get("/console/login/enrol/").content.decode()
    assert "<svg" in page  # the QR code, inline
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page)
    assert secret is not None
    key = b32decode(secret.group(1).replace(" ", "") + "=" * (-len(secret.group(1).replace(" ", "")) % 8))
    # Reloading shows the same key (one unconfirmed device, not a new one per visit).
    assert client.get("/console/login/enrol/").content.decode().count(secret.group(1)) == 1
    device = TOTPDevice.objects.get(user=newcomer.profile.user)
    assert device.bin_key == key and not device.confirmed
    # The app computes the code from the key it was shown.
    wrong = client.post(
        "/console/login/enrol/", {"token": "000000" if totp_code(device) != "000000" else "111111"}
    )
    assert wrong.status_code == 200 and not TOTPDevice.objects.get(pk=device.pk).confirmed
    time.sleep(1.1)  # django-otp refuses any code for a second after a wrong one (then 2 s, 4 s, ...)
    generator = TOTP(key, step=30, t0=0, digits=6, drift=0)
    response = client.post("/console/login/enrol/", {"token": f"{generator.token():06d}"})
    assert (response.status_code, response["Location"]) == (302, "/console/")
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get("/console/").status_code == 200
    assert AuditEvent.objects.filter(action="console.device_enrolled", actor_label="ops-new").exists()
    # From now on the log-in asks for a code, never shows the key again.
    other = Client(HTTP_HOST=CONSOLE_HOST)
    assert _password_step(other, newcomer.username) == "/console/login/verify/"
    assert other.get("/console/login/enrol/")["Location"] == "/console/login/verify/"


def test_wrong_password_and_non_operators_are_refused(operator: Operator, alpha: Workspace) -> None:
    client = Client(HTTP_HOST=CONSOLE_HOST)
    response = client.post("/console/login/", {"username": operator.username, "password": "wrong-password"})
    assert response.status_code == 200 and b"did not match" in response.content
    # A public-schema user with the right password but no console profile.
    User.objects.create_user(username="public-person", password=PASSWORD)
    assert _password_step(client, "public-person") == ""
    # A workspace's admin does not exist on the bare domain.
    assert _password_step(client, alpha.admin) == ""
    assert client.get("/console/").status_code == 302


def test_repeated_wrong_passwords_lock_the_console_account(operator: Operator) -> None:
    client = Client(HTTP_HOST=CONSOLE_HOST, REMOTE_ADDR="198.51.100.20")
    for _attempt in range(5):
        response = client.post(
            "/console/login/", {"username": operator.username, "password": "wrong-password"}
        )
    assert response.status_code == 429
    assert b"This console account is locked" in response.content
    # Locked: even the right password is refused.
    response = client.post("/console/login/", {"username": operator.username, "password": PASSWORD})
    assert response.status_code == 429


def test_repeated_wrong_codes_lock_the_account_too(operator: Operator) -> None:
    client = Client(HTTP_HOST=CONSOLE_HOST, REMOTE_ADDR="198.51.100.21")
    _password_step(client, operator.username)
    right = totp_code(operator.device)
    wrong = "123456" if right != "123456" else "654321"
    statuses = [client.post("/console/login/verify/", {"token": wrong}).status_code for _attempt in range(5)]
    assert statuses[:4] == [200, 200, 200, 200] and statuses[4] == 429
    # The half-finished log-in is gone, and the password step is locked as well.
    assert client.post("/console/login/verify/", {"token": right}).status_code == 302
    assert client.get("/console/").status_code == 302
    response = client.post("/console/login/", {"username": operator.username, "password": PASSWORD})
    assert response.status_code == 429


def test_the_pending_log_in_expires(operator: Operator, settings: pytest.FixtureRequest) -> None:
    client = Client(HTTP_HOST=CONSOLE_HOST)
    _password_step(client, operator.username)
    settings.CONSOLE_PENDING_LOGIN_SECONDS = -1  # type: ignore[attr-defined]
    response = client.post("/console/login/verify/", {"token": totp_code(operator.device)})
    assert (response.status_code, response["Location"]) == (302, "/console/login/")
    assert client.get("/console/").status_code == 302


def test_log_out_ends_the_session_and_is_audited(operator: Operator) -> None:
    client = console_client(operator)
    response = client.post("/console/logout/")
    assert (response.status_code, response["Location"]) == (302, "/console/login/")
    assert client.get("/console/").status_code == 302
    assert AuditEvent.objects.filter(action="console.logout", actor_label=operator.username).exists()


def test_a_deactivated_operator_or_removed_device_loses_the_session(operator: Operator) -> None:
    client = console_client(operator)
    operator.profile.is_active = False
    operator.profile.save(update_fields=["is_active"])
    assert client.get("/console/").status_code == 302
    operator.profile.is_active = True
    operator.profile.save(update_fields=["is_active"])
    assert client.get("/console/").status_code == 200
    operator.device.delete()
    assert client.get("/console/").status_code == 302


def test_an_htmx_request_without_a_session_is_redirected_by_header(operator: Operator) -> None:
    response = Client(HTTP_HOST=CONSOLE_HOST).get("/console/?q=al", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"].startswith("/console/login/")


def test_console_pages_are_not_cached(console: Client) -> None:
    assert "no-store" in console.get("/console/")["Cache-Control"]
