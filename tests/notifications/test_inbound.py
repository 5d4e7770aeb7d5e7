"""Balance by SMS: a member texts BAL (or the word in their language) to the cooperative's number and
gets the savings balance and next instalment back, from the number on file only, rate-limited,
every message logged.

The webhook requests are signed by the twilio library's own ``RequestValidator`` (through the
local fake's ``inbound``) over the URL Twilio requested, as Twilio does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from core_banking.members.models import Member, MemberType
from core_banking.organisation.models import Branch
from core_banking.savings.models import SavingsProduct
from core_banking.savings.services import savings_account_open, savings_deposit, savings_product_create
from notifications.inbound import KEYWORDS, inbound_sms_receive, is_balance_request, keyword_normalise
from notifications.inbound_views import EMPTY_TWIML
from notifications.models import InboundMessage, InboundOutcome, MessageKind, OutboxMessage
from notifications.rendering import outbox_message_render
from notifications.twilio_fake import FakeTwilio
from tests.conftest import ALPHA, Workspace, workspace_client
from tests.core_banking.lending.conftest import (  # noqa: F401 - fixtures
    borrower,
    guarantor,
    ladder,
    monthly_product,
    staff,
)
from tests.core_banking.lending.page_fixtures import (  # noqa: F401 - fixtures
    EMI,
    Book,
    book_fixture,
    voluntary_savings_fixture,
)
from tests.core_banking.savings.conftest import OPENED, make_member
from tests.notifications.conftest import committed, relay

pytestmark = pytest.mark.django_db
PATH = "/hooks/twilio/sms/"
BORROWER_PHONE = "+8801711000101"  # the lending fixtures' borrower


@pytest.fixture
def signer() -> FakeTwilio:
    """The fake only signs here (nothing is served): the form Twilio would post and its signature."""
    return FakeTwilio(auth_token=settings.TWILIO_AUTH_TOKEN)


def _post(
    workspace: Workspace,
    signer: FakeTwilio,
    *,
    from_: str,
    body: str,
    sid: str = "",
    signed_url: str | None = None,
    **headers: Any,
) -> Any:
    url = signed_url or f"http://{workspace.host}{PATH}"
    form, signature = signer.inbound(url, from_=from_, body=body, sid=sid)
    return Client(HTTP_HOST=workspace.host).post(PATH, form, HTTP_X_TWILIO_SIGNATURE=signature, **headers)


def _inbound(workspace: Workspace) -> list[InboundMessage]:
    with tenant_context(workspace.cooperative()):
        return list(InboundMessage.objects.order_by("id"))


def _replies(workspace: Workspace) -> list[OutboxMessage]:
    with tenant_context(workspace.cooperative()):
        return list(OutboxMessage.objects.filter(kind=MessageKind.BALANCE_REPLY).order_by("id"))


def _text(workspace: Workspace, message: OutboxMessage) -> str:
    with tenant_context(workspace.cooperative()):
        return outbox_message_render(message).body


@pytest.fixture
def saver(book: Book, voluntary_savings: SavingsProduct) -> Member:
    """The borrower of the Tk 1,20,000 loan, with Tk 1,25,000 in two savings accounts."""
    member = book.borrower
    first = savings_account_open(actor=None, member=member, product=voluntary_savings, opened_on=OPENED)
    second = savings_account_open(actor=None, member=member, product=voluntary_savings, opened_on=OPENED)
    savings_deposit(account_id=first.pk, amount_minor=100_000_00, value_date=OPENED, idempotency_key="bal-1")
    savings_deposit(account_id=second.pk, amount_minor=25_000_00, value_date=OPENED, idempotency_key="bal-2")
    return member


# --- Keywords -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "typed"),
    [
        ("en", "BAL"),
        ("en", "bal"),
        ("en", " Bal. "),
        ("en", "Balance?"),
        ("bn", "ব্যালেন্স"),
        ("bn", "স্থিতি"),
        ("bn", "জমা?"),
        ("bn", "স্থিতি।"),
        ("vi", "SD"),
        ("vi", "sd"),
        ("vi", "SO DU"),
        ("vi", "số dư"),
        ("vi", "Số Dư?"),
        ("vi", "SỐ DƯ"),
        ("vi", "sodu"),
        ("th", "ยอด"),
        ("th", "ยอดเงิน"),
        ("th", " คงเหลือ "),
    ],
)
def test_the_balance_keywords_in_every_language(language: str, typed: str) -> None:
    assert keyword_normalise(typed) in {keyword_normalise(word) for word in KEYWORDS[language]}
    assert is_balance_request(typed)


@pytest.mark.parametrize("typed", ["", "  ", "hello", "BAL 123", "BALL", "stop", "ยอดขาย", "số", "?"])
def test_other_texts_are_not_balance_requests(typed: str) -> None:
    assert not is_balance_request(typed)


def test_a_decomposed_vietnamese_keyword_matches() -> None:
    import unicodedata

    assert is_balance_request(unicodedata.normalize("NFD", "Số dư"))


# --- The webhook ----------------------------------------------------------------------------------


def test_bal_from_the_number_on_file_queues_the_balance_and_next_instalment(
    alpha: Workspace, signer: FakeTwilio, saver: Member
) -> None:
    sid = "SM" + "1" * 32
    response = _post(alpha, signer, from_=BORROWER_PHONE, body="bal", sid=sid)
    assert (response.status_code, response.content.decode()) == (200, EMPTY_TWIML)
    assert response["Content-Type"].startswith("text/xml")

    [received] = _inbound(alpha)
    assert (received.provider_message_id, received.from_phone, received.body, received.outcome) == (
        sid,
        BORROWER_PHONE,
        "bal",
        InboundOutcome.REPLIED,
    )
    assert received.member_ids == [saver.pk]
    [reply] = _replies(alpha)
    assert (reply.source_ref, reply.member_id, reply.phone, reply.language, reply.status) == (
        f"inbound:{sid}:{saver.pk}",
        saver.pk,
        BORROWER_PHONE,
        "bn",
        "pending",
    )
    assert reply.context["balance_minor"] == 125_000_00
    # The first instalment of the loan (due 5 March 2026) is still unpaid: it is the next one owed.
    assert (reply.context["next_due_date"], reply.context["next_due_minor"]) == ("2026-03-05", EMI)
    # Alpha writes Bangla digits.
    assert _text(alpha, reply) == "সঞ্চয় স্থিতি ১,২৫,০০০.০০৳। পরবর্তী কিস্তি ১০,৬৬১.৮৫৳, ৫/৩/২৬"


def test_a_member_without_a_loan_gets_the_balance_only(alpha: Workspace, signer: FakeTwilio) -> None:
    with tenant_context(alpha.cooperative()):
        member = make_member("HO-000301", phone="+8801711000301")
        member.message_language = "en"
        member.save(update_fields=["message_language"])
    assert _post(alpha, signer, from_="+8801711000301", body="BALANCE").status_code == 200
    [reply] = _replies(alpha)
    assert reply.context == {"balance_minor": 0, "currency": "BDT"}
    assert _text(alpha, reply) == "Savings balance: BDT 0.00."


@pytest.mark.parametrize("how", ["wrong token", "other url", "changed body", "no signature"])
def test_a_wrongly_signed_request_is_refused_and_nothing_is_logged(
    alpha: Workspace, signer: FakeTwilio, saver: Member, how: str
) -> None:
    url = f"http://{alpha.host}{PATH}"
    client = Client(HTTP_HOST=alpha.host)
    if how == "wrong token":
        form, signature = FakeTwilio(auth_token="not-the-token").inbound(
            url, from_=BORROWER_PHONE, body="BAL"
        )
        response = client.post(PATH, form, HTTP_X_TWILIO_SIGNATURE=signature)
    elif how == "other url":
        response = _post(
            alpha, signer, from_=BORROWER_PHONE, body="BAL", signed_url="http://beta.localhost" + PATH
        )
    elif how == "changed body":
        form, signature = signer.inbound(url, from_=BORROWER_PHONE, body="hello")
        response = client.post(PATH, {**form, "Body": "BAL"}, HTTP_X_TWILIO_SIGNATURE=signature)
    else:
        form, _signature = signer.inbound(url, from_=BORROWER_PHONE, body="BAL")
        response = client.post(PATH, form)
    assert response.status_code == 403
    assert _inbound(alpha) == []
    assert _replies(alpha) == []


def test_behind_the_tls_proxy_the_https_url_twilio_signed_is_checked(
    alpha: Workspace, signer: FakeTwilio, saver: Member, settings: Any
) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    public = f"https://{alpha.host}{PATH}"
    response = _post(
        alpha, signer, from_=BORROWER_PHONE, body="BAL", signed_url=public, HTTP_X_FORWARDED_PROTO="https"
    )
    assert response.status_code == 200
    # Without the proxy's header the request looks like plain http, which is not what was signed.
    assert _post(alpha, signer, from_=BORROWER_PHONE, body="BAL", signed_url=public).status_code == 403
    assert [m.outcome for m in _inbound(alpha)] == [InboundOutcome.REPLIED]


def test_an_unknown_number_gets_no_reply_and_is_logged(
    alpha: Workspace, signer: FakeTwilio, saver: Member
) -> None:
    response = _post(alpha, signer, from_="+8801799999999", body="BAL")
    assert (response.status_code, response.content.decode()) == (200, EMPTY_TWIML)
    [received] = _inbound(alpha)
    assert (received.from_phone, received.outcome, received.member_ids) == (
        "+8801799999999",
        InboundOutcome.UNKNOWN_NUMBER,
        [],
    )
    assert _replies(alpha) == []


def test_an_exited_member_is_not_on_file(alpha: Workspace, signer: FakeTwilio, saver: Member) -> None:
    with tenant_context(alpha.cooperative()):
        Member.objects.filter(pk=saver.pk).update(status="exited")
    _post(alpha, signer, from_=BORROWER_PHONE, body="BAL")
    assert [m.outcome for m in _inbound(alpha)] == [InboundOutcome.UNKNOWN_NUMBER]
    assert _replies(alpha) == []


def test_another_text_from_a_known_number_is_logged_without_a_reply(
    alpha: Workspace, signer: FakeTwilio, saver: Member
) -> None:
    _post(alpha, signer, from_=BORROWER_PHONE, body="When is the meeting?")
    [received] = _inbound(alpha)
    assert (received.outcome, received.member_ids) == (InboundOutcome.NOT_KEYWORD, [saver.pk])
    assert _replies(alpha) == []


def test_the_same_message_delivered_twice_is_answered_once(
    alpha: Workspace, signer: FakeTwilio, saver: Member
) -> None:
    sid = "SM" + "2" * 32
    for _attempt in range(3):
        response = _post(alpha, signer, from_=BORROWER_PHONE, body="BAL", sid=sid)
        assert (response.status_code, response.content.decode()) == (200, EMPTY_TWIML)
    assert [(m.provider_message_id, m.outcome) for m in _inbound(alpha)] == [(sid, InboundOutcome.REPLIED)]
    assert [r.source_ref for r in _replies(alpha)] == [f"inbound:{sid}:{saver.pk}"]


def test_at_most_three_answers_an_hour_per_number(
    alpha: Workspace, signer: FakeTwilio, saver: Member
) -> None:
    for _attempt in range(5):
        assert _post(alpha, signer, from_=BORROWER_PHONE, body="BAL").status_code == 200
    assert [m.outcome for m in _inbound(alpha)] == [InboundOutcome.REPLIED] * 3 + [
        InboundOutcome.RATE_LIMITED
    ] * 2
    assert len(_replies(alpha)) == 3

    # An hour after the answers, the number is answered again.
    with tenant_context(alpha.cooperative()):
        InboundMessage.objects.update(received_at=timezone.now() - dt.timedelta(minutes=61))
    _post(alpha, signer, from_=BORROWER_PHONE, body="BAL")
    assert _inbound(alpha)[-1].outcome == InboundOutcome.REPLIED
    assert len(_replies(alpha)) == 4


def test_the_rate_limit_is_a_setting(
    alpha: Workspace, signer: FakeTwilio, saver: Member, settings: Any
) -> None:
    settings.NOTIFICATIONS_BALANCE_REQUESTS_PER_HOUR = 1
    _post(alpha, signer, from_=BORROWER_PHONE, body="BAL")
    _post(alpha, signer, from_=BORROWER_PHONE, body="BAL")
    assert [m.outcome for m in _inbound(alpha)] == [InboundOutcome.REPLIED, InboundOutcome.RATE_LIMITED]


def test_members_sharing_a_phone_each_get_their_own_answer(alpha: Workspace, signer: FakeTwilio) -> None:
    with tenant_context(alpha.cooperative()):
        first = make_member("HO-000401", phone="+8801711000401")
        second = make_member("HO-000402", phone="+8801711000401", branch=Branch.objects.get(code="BR1"))
    _post(alpha, signer, from_="+8801711000401", body="স্থিতি")
    [received] = _inbound(alpha)
    assert (received.outcome, received.member_ids) == (InboundOutcome.REPLIED, [first.pk, second.pk])
    assert sorted(received.branch_ids) == sorted({first.branch_id, second.branch_id})
    assert [r.member_id for r in _replies(alpha)] == [first.pk, second.pk]


def test_another_workspaces_host_cannot_see_this_workspaces_members(
    alpha: Workspace, beta: Workspace, signer: FakeTwilio, saver: Member
) -> None:
    # Correctly signed for beta's URL, from alpha's member: beta has no member with that number.
    response = _post(beta, signer, from_=BORROWER_PHONE, body="BAL")
    assert (response.status_code, response.content.decode()) == (200, EMPTY_TWIML)
    assert [(m.from_phone, m.outcome) for m in _inbound(beta)] == [
        (BORROWER_PHONE, InboundOutcome.UNKNOWN_NUMBER)
    ]
    assert _replies(beta) == []
    assert _inbound(alpha) == []
    assert _replies(alpha) == []


def test_a_request_is_answered_while_the_workspace_is_read_only(
    alpha: Workspace, signer: FakeTwilio, saver: Member
) -> None:
    from tenants.models import Cooperative

    Cooperative.objects.filter(slug=ALPHA.slug).update(lifecycle="read_only")
    assert _post(alpha, signer, from_=BORROWER_PHONE, body="BAL").status_code == 200
    assert len(_replies(alpha)) == 1


def test_get_is_not_allowed(alpha: Workspace) -> None:
    assert Client(HTTP_HOST=alpha.host).get(PATH).status_code == 405


# --- Staff ----------------------------------------------------------------------------------------


def test_staff_see_the_messages_received(alpha: Workspace, signer: FakeTwilio, saver: Member) -> None:
    _post(alpha, signer, from_=BORROWER_PHONE, body="BAL")
    _post(alpha, signer, from_="+8801799999999", body="BAL")
    page = workspace_client(ALPHA, username=ALPHA.admin).get("/notifications/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("data-inbound=") == 2
    with translation.override("bn"):  # the admin's language
        unknown, replied = str(InboundOutcome.UNKNOWN_NUMBER.label), str(InboundOutcome.REPLIED.label)
    rows = text[text.index('id="inbound"') :].split("data-inbound=")[1:]
    assert "+8801799999999" in rows[0] and unknown in rows[0]
    assert BORROWER_PHONE in rows[1] and saver.full_name in rows[1] and replied in rows[1]

    # A field officer of BR1 sees neither: the borrower is a head-office member, the other number
    # belongs to no branch.
    branch_page = workspace_client(ALPHA, username=ALPHA.only_here).get("/notifications/")
    assert branch_page.content.decode().count("data-inbound=") == 0


# --- Sent once, through the relay -----------------------------------------------------------------


def test_the_reply_is_sent_once_by_the_relay_however_often_the_webhook_comes(
    workspace: Any, twilio: FakeTwilio
) -> None:
    phone = f"+88017{uuid.uuid4().int % 10**8:08d}"
    sid = "SM" + uuid.uuid4().hex

    def member_with_savings() -> int:
        member_type, _created = MemberType.objects.get_or_create(code="ORD", defaults={"name": "Ordinary"})
        member = Member.objects.create(
            number=f"IN-{uuid.uuid4().hex[:8]}",
            branch=Branch.objects.get(is_head_office=True),
            member_type=member_type,
            full_name="Inbound Member",
            phone=phone,
            message_language="en",
            join_date=OPENED,
        )
        product = SavingsProduct.objects.filter(code="INB").first() or savings_product_create(
            actor=None,
            code="INB",
            name="Inbound savings",
            kind="voluntary",
            annual_rate=Decimal("0"),
            rate_effective_from=OPENED,
        )
        account = savings_account_open(actor=None, member=member, product=product, opened_on=OPENED)
        savings_deposit(
            account_id=account.pk, amount_minor=5_000_00, value_date=OPENED, idempotency_key=f"inb-{sid}"
        )
        return member.pk

    member_id = committed(workspace, member_with_savings)

    def receive() -> Any:
        return inbound_sms_receive(
            provider_message_id=sid, from_phone=phone, to_phone="+15005550006", body="Bal"
        )

    first = committed(workspace, receive)
    again = committed(workspace, receive)
    assert (first.repeated, first.replies, again.repeated, again.replies) == (False, [member_id], True, [])
    relay(workspace)
    relay(workspace)
    sent = twilio.bodies_to(phone)
    # The deposit's own message, and the one answer (sent by the relay's threads, in either order).
    assert len(sent) == 2
    assert [body for body in sent if body.startswith("Savings balance")] == ["Savings balance: BDT 5,000.00."]
    assert sum(body.startswith("Savings deposit of BDT 5,000.00 to account") for body in sent) == 1

    def cleanup() -> None:
        InboundMessage.objects.filter(provider_message_id=sid).delete()

    committed(workspace, cleanup)


def test_the_rate_limit_holds_when_requests_arrive_at_once(workspace: Any) -> None:
    """Five requests from one number on five connections at the same moment: three answers."""
    from tests.core_banking.threads import in_threads

    phone = f"+88017{uuid.uuid4().int % 10**8:08d}"

    def member_on_file() -> None:
        member_type, _created = MemberType.objects.get_or_create(code="ORD", defaults={"name": "Ordinary"})
        Member.objects.create(
            number=f"RL-{uuid.uuid4().hex[:8]}", branch=Branch.objects.get(is_head_office=True),
            member_type=member_type, full_name="Rate Limited", phone=phone, message_language="en",
            join_date=OPENED,
        )  # fmt: skip

    committed(workspace, member_on_file)
    results = in_threads(
        5,
        lambda number: inbound_sms_receive(
            provider_message_id=f"SM{uuid.uuid4().hex}", from_phone=phone, to_phone="", body="BAL"
        ),
        workspace,
    )
    outcomes = sorted(result.message.outcome for result in results)
    assert outcomes == [InboundOutcome.RATE_LIMITED] * 2 + [InboundOutcome.REPLIED] * 3

    def logged() -> list[str]:
        return sorted(InboundMessage.objects.filter(from_phone=phone).values_list("outcome", flat=True))

    assert committed(workspace, logged) == ["rate_limited"] * 2 + ["replied"] * 3
    committed(workspace, lambda: InboundMessage.objects.filter(from_phone=phone).delete())
