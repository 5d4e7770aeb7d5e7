"""manage.py create_console_operator: a one-time enrolment link, a password from stdin, 2FA reset."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from control_plane.audit.models import AuditEvent
from control_plane.console.models import ConsoleOperator
from tests.conftest import PASSWORD
from tests.control_plane.console.conftest import CONSOLE_HOST, Operator, console_client

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "night-shift-lantern-42"


def _run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    options: dict[str, object] = {"stdout": out}
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command("create_console_operator", *args, **options)
    return out.getvalue()


def test_the_enrolment_link_sets_a_password_once_then_enrols_the_device(db: None) -> None:
    output = _run("ops-night", "--email", "night@coopcore.test")
    link = re.search(r"http://localhost:8000(/console/enrol/\S+/)", output)
    assert link is not None, output
    operator = ConsoleOperator.objects.get(user__username="ops-night")
    assert not operator.user.has_usable_password()

    client = Client(HTTP_HOST=CONSOLE_HOST)
    moved = client.get(link.group(1))
    assert moved.status_code == 302 and moved["Location"].endswith("/set-password/")  # token out of the URL
    form = client.get(moved["Location"])
    assert form.status_code == 200 and b"new_password1" in form.content
    weak = client.post(moved["Location"], {"new_password1": "short", "new_password2": "short"})
    assert weak.status_code == 200
    done = client.post(moved["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert (done.status_code, done["Location"]) == (302, "/console/login/enrol/")
    # Straight on to the authenticator app, then in.
    client.get("/console/login/enrol/")
    device = TOTPDevice.objects.get(user=operator.user)
    response = client.post("/console/login/enrol/", {"token": f"{TOTP(device.bin_key).token():06d}"})
    assert (response.status_code, response["Location"]) == (302, "/console/")
    assert client.get("/console/").status_code == 200
    assert AuditEvent.objects.filter(action="console.password_set", actor_label="ops-night").exists()

    # The link is spent.
    again = Client(HTTP_HOST=CONSOLE_HOST).get(link.group(1))
    assert again.status_code == 400


def test_password_from_stdin_then_the_first_log_in_enrols(db: None) -> None:
    output = _run("ops-day", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    assert "created" in output and "/console/enrol/" not in output
    client = Client(HTTP_HOST=CONSOLE_HOST)
    response = client.post("/console/login/", {"username": "ops-day", "password": NEW_PASSWORD})
    assert response["Location"] == "/console/login/enrol/"
    assert AuditEvent.objects.filter(action="console.operator_create", object_label="ops-day").exists()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["ops-x", "--password-stdin"], "", "No password on standard input"),
        (["ops-x", "--password-stdin"], "12345\n", "too short"),
        (["ops-x", "--email", "not-an-address"], None, "Not an e-mail address"),
        (["ops-dup"], None, "is taken"),
        (["   "], None, "A user name is required"),
        (["nobody-here", "--reset-2fa"], None, "No console operator"),
    ],
)
def test_bad_input_exits_non_zero_with_a_message(
    db: None, args: list[str], stdin: str | None, message: str
) -> None:
    _run("ops-dup", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    with pytest.raises(CommandError, match=message):
        _run(*args, stdin=stdin)


def test_reset_2fa_makes_the_next_log_in_enrol_a_new_device(operator: Operator) -> None:
    client = console_client(operator)
    output = _run(operator.username, "--reset-2fa")
    assert "Removed 1 device(s)" in output
    assert client.get("/console/").status_code == 302  # the session's device is gone
    fresh = Client(HTTP_HOST=CONSOLE_HOST)
    response = fresh.post("/console/login/", {"username": operator.username, "password": PASSWORD})
    assert response["Location"] == "/console/login/enrol/"
    assert AuditEvent.objects.filter(action="console.devices_reset").exists()
