"""A workspace's own SMS texts: saved from the page or the API as audited versions, checked on save
(400 ``message_template_invalid`` with the reasons), previewed live with encoding, segments and
cost, used by the relay's rendering, restorable, never edited, and never seen by another workspace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django_tenants.utils import tenant_context

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from notifications import texts
from notifications.models import MessageKind, OutboxMessage, OutboxStatus
from notifications.rendering import outbox_message_render
from notifications.template_services import (
    message_template_restore_default,
    message_template_save,
    notification_settings_save,
)
from notifications.templates_models import MessageTemplate
from tests.conftest import ALPHA, BETA, workspace_client

UNKNOWN = "Unknown placeholder: %(names)s. Use only those listed for this message."


def _bangla(message: str, **values: str) -> str:
    """``message`` as alpha's staff read it: the samity works in Bangla."""
    from django.utils import translation

    with translation.override("bn"):
        return translation.gettext(message) % values


pytestmark = pytest.mark.django_db

API = "/api/v1/notifications/message-templates/"
OWN_BN = "{{ member_name }}, সঞ্চয় জমা {{ amount }}। স্থিতি {{ balance }}"


def _outbox(
    kind: str, language: str, context: dict[str, Any], *, member_id: int | None = None
) -> OutboxMessage:
    return OutboxMessage.objects.create(
        kind=kind,
        source_ref=f"test:{kind}:{language}:{OutboxMessage.objects.count()}",
        member_id=member_id,
        phone="+8801711000101",
        language=language,
        context=context,
        status=OutboxStatus.PENDING,
        created_at="2026-11-25T00:00:00Z",
    )


DEPOSIT = {
    "amount_minor": 5_000_00,
    "balance_minor": 125_000_00,
    "currency": "BDT",
    "account": "HO-000101-VOL-1",
    "value_date": "2026-12-05",
}


def test_the_relay_renders_the_default_then_the_saved_text_then_the_default_again(in_alpha: Any) -> None:
    from tests.core_banking.savings.conftest import make_member

    member = make_member("HO-000101", phone="+8801711000101")
    message = _outbox(MessageKind.SAVINGS_DEPOSIT, "bn", DEPOSIT, member_id=member.pk)
    # Alpha writes Bangla digits (Cooperative.use_native_digits).
    assert outbox_message_render(message).body == "সঞ্চয় জমা ৫,০০০.০০৳, হিসাব VOL-1, ৫/১২/২৬। স্থিতি ১,২৫,০০০.০০৳"

    saved = message_template_save(actor=None, kind="savings_deposit", language="bn", body=OWN_BN)
    assert saved.version == 1
    rendered = outbox_message_render(message)
    assert rendered.body == "Member HO-000101, সঞ্চয় জমা ৫,০০০.০০৳। স্থিতি ১,২৫,০০০.০০৳"
    assert (rendered.encoding, rendered.segments) == ("UCS-2", 1)
    # Other languages and kinds keep their defaults.
    english = _outbox(MessageKind.SAVINGS_DEPOSIT, "en", DEPOSIT)
    assert outbox_message_render(english).body == (
        "Savings deposit of BDT 5,000.00 to account HO-000101-VOL-1 on 5 Dec 2026. Balance: BDT 125,000.00."
    )

    restored = message_template_restore_default(actor=None, kind="savings_deposit", language="bn")
    assert (restored.version, restored.body, restored.is_default) == (2, "", True)
    assert outbox_message_render(message).body.startswith("সঞ্চয় জমা ৫,০০০.০০৳")


def test_a_member_without_a_language_of_ours_gets_the_cooperative_language(in_alpha: Any) -> None:
    message = _outbox(MessageKind.SAVINGS_DEPOSIT, "fr", DEPOSIT)
    assert outbox_message_render(message).body.startswith("সঞ্চয় জমা")  # alpha's default language


def test_saving_the_default_text_unchanged_keeps_the_default(in_alpha: Any) -> None:
    saved = message_template_save(
        actor=None,
        kind="savings_deposit",
        language="en",
        body="  " + texts.default_template("savings_deposit", "en") + "\r\n",
    )
    assert (saved.version, saved.is_default) == (1, True)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("Paid {{ amout }}", "Unknown placeholder: amout. Use only those listed for this message."),
        ("Paid {{ code }}", "Unknown placeholder: code. Use only those listed for this message."),
        (
            "Paid {{ amount",
            "The placeholders cannot be read on line 1: "
            "unexpected end of template, expected 'end of print statement'.",
        ),
        (
            "{% for x in amount %}{{ x }}{% endfor %}",
            "Only placeholders such as {{ amount }}, conditions (if, else, endif) and the filters upper, "
            "lower, capitalize, trim, default may be used.",
        ),
        (
            "{{ amount.__class__ }}",
            "Only placeholders such as {{ amount }}, conditions (if, else, endif) and the filters upper, "
            "lower, capitalize, trim, default may be used.",
        ),
        ("x" * 481, "At most 480 characters; this has 481."),
    ],
)
def test_refused_texts_name_the_reason(in_alpha: Any, body: str, problem: str) -> None:
    with pytest.raises(BusinessRuleViolation) as refused:
        message_template_save(actor=None, kind="savings_deposit", language="en", body=body)
    assert refused.value.code == ErrorCode.MESSAGE_TEMPLATE_INVALID
    assert refused.value.fields == {"body": [problem]}
    assert refused.value.http_status == 400
    assert not MessageTemplate.objects.exists()


def test_versions_are_audited_and_never_edited(in_alpha: Any) -> None:
    from control_plane.identity.models import User

    admin = User.objects.get(username=ALPHA.admin)
    message_template_save(
        actor=admin, kind="overdue_reminder", language="th", body="ค้างชำระ {{ due_amount }}"
    )
    row = MessageTemplate.objects.get()
    event = AuditEvent.objects.filter(action="notifications.message_template.save").get()
    assert event.changes == {
        "kind": "overdue_reminder",
        "language": "th",
        "version": 1,
        "default": False,
        "changed": {"body": ["", "ค้างชำระ {{ due_amount }}"]},
    }
    for statement in (
        lambda: MessageTemplate.objects.filter(pk=row.pk).update(body="changed"),
        lambda: MessageTemplate.objects.filter(pk=row.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()


def test_unaccented_vietnamese_setting_applies_to_vietnamese_messages(in_beta: Any) -> None:
    context = {
        "amount_minor": 2_000_000,
        "balance_minor": 15_000_000,
        "currency": "VND",
        "account": "HO-000001-TK-1",
        "value_date": "2026-12-05",
    }
    message = _outbox(MessageKind.SAVINGS_DEPOSIT, "vi", context)
    accented = outbox_message_render(message)
    assert accented.body == "Gửi tiết kiệm 2.000.000 ₫ TK TK-1 ngày 5/12/26. Số dư 15.000.000 ₫"
    assert (accented.encoding, accented.segments) == ("UCS-2", 1)
    notification_settings_save(
        actor=None, upcoming_reminder_days=2, overdue_reminder_days=3, send_hour=9, unaccented_vietnamese=True
    )
    plain = outbox_message_render(message)
    assert plain.body == "Gui tiet kiem 2.000.000 VND TK TK-1 ngay 5/12/26. So du 15.000.000 VND"
    assert (plain.encoding, plain.segments) == ("GSM-7", 1)
    # English messages of the same workspace are untouched by it.
    english = outbox_message_render(_outbox(MessageKind.SAVINGS_DEPOSIT, "en", context))
    assert english.body == (
        "Savings deposit of VND 2,000,000 to account HO-000001-TK-1 on 5 Dec 2026. Balance: VND 15,000,000."
    )


# --- Pages ------------------------------------------------------------------------------------------


def test_the_page_lists_every_kind_and_language(alpha: Any) -> None:
    page = workspace_client(ALPHA, username=ALPHA.admin).get("/notifications/texts/")
    assert page.status_code == 200
    html = page.content.decode()
    for kind in MessageKind:
        for language in texts.LANGUAGES:
            assert f'href="/notifications/texts/{kind.value}/{language}/"' in html
    assert 'action="/notifications/texts/settings/"' in html


def test_the_editor_previews_encoding_segments_and_cost_live(alpha: Any) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    page = client.get("/notifications/texts/savings_deposit/bn/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'hx-post="/notifications/texts/savings_deposit/bn/preview/"' in html
    assert texts.default_template("savings_deposit", "bn") in html

    one = client.post("/notifications/texts/savings_deposit/bn/preview/", {"body": "জমা {{ amount }}"})
    assert one.status_code == 200
    body = one.content.decode()
    assert 'data-encoding="UCS-2" data-segments="1"' in body
    assert "জমা ৫,০০০.০০৳" in body
    assert '<dd class="sms-cost">০.৪৫৳</dd>' in body  # alpha is priced in BDT, 0.45 a segment

    long_text = "জমা {{ amount }} " + "ক" * 70
    two = client.post(
        "/notifications/texts/savings_deposit/bn/preview/", {"body": long_text}
    ).content.decode()
    assert 'data-encoding="UCS-2" data-segments="2"' in two
    assert '<dd class="sms-units">84</dd>' in two
    assert '<dd class="sms-cost">০.৯০৳</dd>' in two

    english = client.post("/notifications/texts/savings_deposit/en/preview/", {"body": "Paid {{ amount }}"})
    assert 'data-encoding="GSM-7" data-segments="1"' in english.content.decode()
    assert "Paid BDT 5,000.00" in english.content.decode()

    wrong = client.post(
        "/notifications/texts/savings_deposit/bn/preview/", {"body": "{{ nope }}"}
    ).content.decode()
    assert _bangla(UNKNOWN, names="nope") in wrong


def test_saving_from_the_page_and_refusals_with_400(alpha: Any) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    refused = client.post("/notifications/texts/savings_deposit/bn/", {"body": "{{ amout }}"})
    assert refused.status_code == 400
    assert _bangla(UNKNOWN, names="amout") in refused.content.decode()
    saved = client.post("/notifications/texts/savings_deposit/bn/", {"body": OWN_BN})
    assert saved.status_code == 302
    restored = client.post("/notifications/texts/savings_deposit/bn/restore/")
    assert restored.status_code == 302
    with tenant_context(ALPHA.cooperative()):
        assert list(MessageTemplate.objects.order_by("version").values_list("version", "body")) == [
            (1, OWN_BN),
            (2, ""),
        ]
    # The field officer reads the texts but may not change them.
    officer = workspace_client(ALPHA, username=ALPHA.only_here)
    assert officer.get("/notifications/texts/savings_deposit/bn/").status_code == 200
    assert officer.post("/notifications/texts/savings_deposit/bn/", {"body": OWN_BN}).status_code == 403


def test_reminder_settings_from_the_page(alpha: Any) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    bad = client.post(
        "/notifications/texts/settings/",
        {"upcoming_reminder_days": "15", "overdue_reminder_days": "2", "send_hour": "24"},
    )
    assert bad.status_code == 400
    ok = client.post(
        "/notifications/texts/settings/",
        {
            "upcoming_reminder_days": "3",
            "overdue_reminder_days": "2",
            "send_hour": "8",
            "unaccented_vietnamese": "on",
        },
    )
    assert ok.status_code == 302
    with tenant_context(ALPHA.cooperative()):
        from notifications.templates_models import notification_settings_current

        chosen = notification_settings_current()
        assert (chosen.upcoming_reminder_days, chosen.overdue_reminder_days, chosen.send_hour) == (3, 2, 8)
        assert chosen.unaccented_vietnamese is True


# --- API ----------------------------------------------------------------------------------------------


def _put(client: Any, url: str, body: Any) -> Any:
    return client.put(url, json.dumps(body), content_type="application/json")


def test_api_reads_saves_and_refuses_with_a_stable_code(alpha: Any, beta: Any) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    listed = client.get(API)
    assert listed.status_code == 200
    assert len(listed.json()) == len(MessageKind) * 4

    refused = _put(client, f"{API}upcoming_reminder/en/", {"body": "Due {{ due_amount }} on {{ duedate }}"})
    assert refused.status_code == 400
    assert refused.json() == {
        "error": {
            "code": "message_template_invalid",
            "message": "The message text cannot be used.",
            "fields": {"body": [_bangla(UNKNOWN, names="duedate")]},
        }
    }

    saved = _put(client, f"{API}upcoming_reminder/en/", {"body": "Due: {{ due_amount }} on {{ due_date }}."})
    assert saved.status_code == 200, saved.content
    state = saved.json()
    assert (state["custom"], state["version"], state["body"]) == (
        True,
        1,
        "Due: {{ due_amount }} on {{ due_date }}.",
    )
    assert state["sample"]["encoding"] == "GSM-7"
    assert state["sample"]["segments"] == 1
    assert state["sample"]["body"].startswith("Due: BDT 1,250.00 on ")
    assert [version["version"] for version in state["history"]] == [1]

    # Beta (another workspace) still has the default.
    beta_state = workspace_client(BETA, username=BETA.admin).get(f"{API}upcoming_reminder/en/").json()
    assert (beta_state["custom"], beta_state["version"]) == (False, None)
    assert beta_state["sample"]["body"].startswith(
        "Reminder: instalment 3 of loan BR1-L-000045, VND 1,850,000"
    )

    settings_url = "/api/v1/notifications/reminder-settings/"
    assert client.get(settings_url).json() == {
        "upcoming_reminder_days": 2,
        "overdue_reminder_days": 3,
        "send_hour": 9,
        "unaccented_vietnamese": False,
    }
    changed = _put(
        client,
        settings_url,
        {
            "upcoming_reminder_days": 1,
            "overdue_reminder_days": 5,
            "send_hour": 7,
            "unaccented_vietnamese": False,
        },
    )
    assert changed.status_code == 200
    assert changed.json()["overdue_reminder_days"] == 5
    assert _put(client, settings_url, {"upcoming_reminder_days": -1}).status_code == 400


def test_api_saving_needs_the_settings_capability(alpha: Any) -> None:
    officer = workspace_client(ALPHA, username=ALPHA.only_here)
    response = _put(officer, f"{API}savings_deposit/bn/", {"body": OWN_BN})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
