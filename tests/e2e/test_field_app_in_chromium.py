"""The field app in Chromium, on a 360-px phone: downloaded once online, used offline, uploaded once.

The demo samity's field officer (two groups in Mirpur, their loans and savings) logs in, opens
/field/, downloads the day's sheet and the book, goes offline, records two instalments and a
deposit, reloads the page and restarts the browser while still offline (the app opens from its
service worker; the records are still there), and goes online: the records upload, each posted
once with its exact amount. A reply lost on the way is sent again and posted once; many upload
triggers at once, in two tabs, make one upload.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django_tenants.utils import tenant_context
from playwright.sync_api import Error as PlaywrightError

from tenants.demo import DEMO_PASSWORD
from tenants.models import Cooperative
from tests.e2e.conftest import CHROMIUM_FLAGS, DEMO, DEMO_HOST, chromium_path, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("browser")]

COLLECTOR = "field"  # the demo's field officer, assigned the groups MIR-01 and MIR-02
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
SYNC_PATH = "/api/v1/field/sync/"


@dataclass(frozen=True)
class Book:
    """Two loans and a voluntary savings account of members in the collector's groups."""

    loans: list[tuple[int, str]]  # (loan id, member number)
    account: tuple[int, str]  # (savings account id, member number)


def _cooperative() -> Cooperative:
    return Cooperative.objects.get(slug=DEMO.spec.slug)


@pytest.fixture(scope="module")
def field_book(browser_user: str, django_db_blocker: Any) -> Book:
    from control_plane.identity.models import User
    from core_banking.lending.models import Loan, LoanStatus
    from core_banking.savings.models import SavingsAccount

    with django_db_blocker.unblock(), tenant_context(_cooperative()):
        collector = User.objects.get(username=COLLECTOR)
        collector.password = make_password(DEMO_PASSWORD, hasher="pbkdf2_sha256")
        collector.save(update_fields=["password"])
        loans = list(
            Loan.objects.filter(status=LoanStatus.ACTIVE, member__group__field_officer=collector)
            .select_related("member")
            .order_by("number")[:2]
        )
        account = (
            SavingsAccount.objects.filter(
                member__group__field_officer=collector, status="active", product__kind="voluntary"
            )
            .select_related("member")
            .order_by("number")
            .first()
        )
        assert len(loans) == 2 and account is not None, "the demo's field officer has loans and savings"
        return Book([(loan.pk, loan.member.number) for loan in loans], (account.pk, account.member.number))


def _open_app(page: Any, base: str) -> None:
    page.goto(f"{base}/field/")
    page.wait_for_selector("body[data-ready=true]")


def _download(page: Any) -> None:
    page.click("#download")
    page.wait_for_function(
        "!document.querySelector('#download').hasAttribute('aria-busy')"
        " && document.querySelector('#download-state').textContent.length > 0"
    )
    # The book is on the phone: the collector's members are found without asking the server.
    page.click("[data-tab=book]")
    assert page.locator("#book-results li").count() > 0


def _open_member(page: Any, number: str) -> None:
    page.click("[data-tab=book]")
    page.fill("#book-search", number)
    page.locator("#book-results button").first.click()
    page.wait_for_selector("#view-member:not([hidden])")


def _record(page: Any, number: str, selector: str, amount: str) -> None:
    _open_member(page, number)
    page.locator(selector).click()
    page.wait_for_selector("#view-entry:not([hidden])")
    page.fill("#entry-amount", amount)
    page.select_option("#entry-paid-by", "")
    page.click("#entry-save")
    page.wait_for_selector("#view-entry", state="hidden")


def _records(page: Any) -> list[dict[str, str]]:
    page.click("[data-tab=records]")
    return page.eval_on_selector_all(
        "#records li.record",
        "items => items.map(li => ({uuid: li.dataset.uuid, state: li.dataset.state, kind: li.dataset.kind,"
        " answer: li.dataset.answer || ''}))",
    )


# True once the phone holds at least ``least`` records and none of them waits to upload (read from
# IndexedDB itself, not from the screen, which is redrawn a moment later). The count matters: an
# earlier record may be uploaded before the last one is even written.
NOTHING_PENDING = """(least) => new Promise((resolve) => {
  const open = indexedDB.open("coopcore-field");
  open.onsuccess = () => {
    const all = open.result.transaction("records").objectStore("records").getAll();
    all.onsuccess = () => {
      open.result.close();
      resolve(all.result.length >= least && all.result.every((record) => record.state !== "pending"));
    };
  };
})"""


def _wait_uploaded(page: Any, records: int = 1) -> None:
    page.wait_for_function(NOTHING_PENDING, arg=records, timeout=20_000)
    page.wait_for_function("document.querySelector('#sync-state').dataset.pending === '0'", timeout=20_000)
    # The screen follows the store a moment later: wait until its list shows nothing pending too.
    page.wait_for_function(
        "(least) => document.querySelectorAll('#records li.record').length >= least"
        " && document.querySelectorAll('#records li.record[data-state=pending]').length === 0",
        arg=records,
        timeout=20_000,
    )


def _posted(client_uuid: str) -> dict[str, Any]:
    """What the server made of one record: its status, and the loan payment it posted."""
    from core_banking.ledger.models import JournalEntry
    from core_banking.lending.models import LoanTransaction
    from field.models import FieldRecord

    with tenant_context(_cooperative()):
        record = FieldRecord.objects.filter(client_uuid=client_uuid).first()
        if record is None:
            return {"status": None}
        payments = LoanTransaction.objects.filter(idempotency_key=f"field:{client_uuid}")
        return {
            "status": record.status,
            "payload": record.payload,
            "payments": [(payment.loan_id, payment.amount_minor) for payment in payments],
            "entry": record.entry_id is not None and JournalEntry.objects.filter(pk=record.entry_id).exists(),
        }


def _field_records() -> int:
    from field.models import FieldRecord

    with tenant_context(_cooperative()):
        return FieldRecord.objects.count()


@dataclass
class OfflineRound:
    instalments: dict[str, tuple[int, int]] = field(default_factory=dict)  # uuid → (loan id, minor units)
    deposit: tuple[str, int, int] | None = None  # uuid, account id, minor units
    states: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def offline_round(
    browser: Any,
    server_port: int,
    field_book: Book,
    tmp_path_factory: pytest.TempPathFactory,
    django_db_blocker: Any,
) -> Iterator[OfflineRound]:
    """The whole offline round in a browser profile kept on disk (what a phone keeps between uses)."""
    base = f"http://{DEMO_HOST}:{server_port}"
    profile = tmp_path_factory.mktemp("phone-profile")
    launch = {"executable_path": chromium_path(), "args": CHROMIUM_FLAGS, **PHONE}
    phone = browser.browser_type.launch_persistent_context(str(profile), **launch)
    page = phone.pages[0] if phone.pages else phone.new_page()
    log_in(page, server_port, COLLECTOR)
    _open_app(page, base)
    # The service worker controls the page: the app shell is kept for offline use.
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
    assert page.locator("#notice-device").count() == 0, page.inner_text("#notices")
    _download(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the app is {overflow}px wider than the phone"

    phone.set_offline(True)
    (first_loan, first_member), (second_loan, second_member) = field_book.loans
    account_id, account_member = field_book.account
    _record(page, first_member, f"[data-loan='{first_loan}'] [data-action=instalment]", "100")
    _record(page, second_member, f"[data-loan='{second_loan}'] [data-action=instalment]", "150.50")
    _record(page, account_member, f"[data-account='{account_id}'] [data-action=deposit]", "250")
    records = _records(page)
    assert [item["state"] for item in records] == ["pending"] * 3
    assert page.get_attribute("#sync-state", "data-pending") == "3"
    # Cash to hand over: Tk 100.00 + Tk 150.50 + Tk 250.00, from the integers, in Bangla digits.
    assert page.get_attribute("#cash-total", "data-minor") == "50050"
    assert "৫০০.৫০" in page.inner_text("#cash-total")
    kinds = {item["uuid"]: item["kind"] for item in records}

    # Reloaded offline: the service worker opens the app, IndexedDB still has the three records.
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.get_attribute("#connection", "data-state") == "offline"
    assert sorted(item["uuid"] for item in _records(page)) == sorted(kinds)
    assert page.get_attribute("#sync-state", "data-pending") == "3"
    phone.close()
    with django_db_blocker.unblock():
        assert _field_records_for(kinds) == 0, "nothing reached the server while offline"

    # The browser closed and started again, still offline: the same three records, still pending.
    phone = browser.browser_type.launch_persistent_context(str(profile), offline=True, **launch)
    page = phone.pages[0] if phone.pages else phone.new_page()
    _open_app(page, base)
    again = _records(page)
    assert {item["uuid"]: item["state"] for item in again} == {uuid_: "pending" for uuid_ in kinds}

    # Online: the `online` event uploads them.
    phone.set_offline(False)
    _wait_uploaded(page)
    round_ = OfflineRound(states={item["uuid"]: item["state"] for item in _records(page)})
    bodies = page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("coopcore-field");
          open.onsuccess = () => {
            const all = open.result.transaction("records").objectStore("records").getAll();
            all.onsuccess = () => resolve(
              all.result.map(r => ({uuid: r.client_uuid, kind: r.kind, body: r.body})));
          };
        })"""
    )
    for body in bodies:
        if body["kind"] == "instalment":
            round_.instalments[body["uuid"]] = (body["body"]["loan"], body["body"]["amount_minor"])
        else:
            round_.deposit = (body["uuid"], body["body"]["account"], body["body"]["amount_minor"])
    phone.close()
    yield round_


def _field_records_for(uuids: Any) -> int:
    from field.models import FieldRecord

    with tenant_context(_cooperative()):
        return FieldRecord.objects.filter(client_uuid__in=list(uuids)).count()


def test_recorded_offline_kept_through_a_reload_and_a_restart_then_posted_once(
    offline_round: OfflineRound, field_book: Book
) -> None:
    (first_loan, _), (second_loan, _) = field_book.loans
    assert sorted(offline_round.instalments.values()) == sorted([(first_loan, 100_00), (second_loan, 150_50)])
    for client_uuid, (loan_id, amount) in offline_round.instalments.items():
        assert offline_round.states[client_uuid] == "confirmed"
        posted = _posted(client_uuid)
        assert posted["status"] == "created"
        assert posted["payments"] == [(loan_id, amount)]  # exactly one posting, the exact amount
        assert posted["entry"], "the posting's ledger entry exists"


def test_the_offline_deposit_is_posted_once(offline_round: OfflineRound, field_book: Book) -> None:
    from core_banking.savings.models import SavingsTransaction

    assert offline_round.deposit is not None
    client_uuid, account_id, amount = offline_round.deposit
    assert (account_id, amount) == (field_book.account[0], 250_00)
    with tenant_context(_cooperative()):
        deposits = list(
            SavingsTransaction.objects.filter(idempotency_key__contains=client_uuid).values_list(
                "account_id", "amount_minor"
            )
        )
    assert offline_round.states[client_uuid] == "confirmed", "the server posts field deposits"
    assert _posted(client_uuid)["status"] == "created"
    assert deposits == [(account_id, amount)]


def test_a_lost_reply_is_sent_again_and_posted_once(browser: Any, server_port: int, field_book: Book) -> None:
    base = f"http://{DEMO_HOST}:{server_port}"
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    log_in(page, server_port, COLLECTOR)
    _open_app(page, base)
    _download(page)
    lost: list[dict[str, Any]] = []

    def lose_the_reply(route: Any) -> None:
        if lost:
            route.continue_()
            return
        # The request reaches the server and is answered; the answer never reaches the phone.
        # (Sent from here: Playwright's own fetch would not resolve the workspace's host name.)
        request = route.request
        headers = {name: value for name, value in request.headers.items() if name.lower() != "host"}
        sent = urllib.request.Request(
            f"http://127.0.0.1:{server_port}{SYNC_PATH}",
            data=request.post_data_buffer,
            headers={**headers, "Host": f"{DEMO_HOST}:{server_port}"},
            method="POST",
        )
        with urllib.request.urlopen(sent, timeout=30) as answer:  # noqa: S310 - our own local server
            lost.append(json.loads(answer.read()))
        route.abort()

    page.route(f"**{SYNC_PATH}", lose_the_reply)
    loan_id, member = field_book.loans[0]
    _record(page, member, f"[data-loan='{loan_id}'] [data-action=instalment]", "75.25")
    page.wait_for_function("() => document.querySelector('#notice-sync') !== null", timeout=20_000)
    (answer,) = lost[0]["items"]
    assert answer["status"] == "created"
    (item,) = _records(page)
    assert item["state"] == "pending"  # no answer stored: still waiting
    page.click("#sync-now")
    _wait_uploaded(page)
    (item,) = _records(page)
    assert (item["uuid"], item["state"], item["answer"]) == (answer["client_uuid"], "confirmed", "duplicate")
    posted = _posted(item["uuid"])
    assert posted["payments"] == [(loan_id, 75_25)]
    phone.close()


def test_many_upload_triggers_in_two_tabs_make_one_upload(
    browser: Any, server_port: int, field_book: Book
) -> None:
    base = f"http://{DEMO_HOST}:{server_port}"
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    log_in(page, server_port, COLLECTOR)
    _open_app(page, base)
    _download(page)
    other_tab = phone.new_page()
    _open_app(other_tab, base)
    uploads: list[str] = []
    in_flight = {"now": 0, "most": 0}

    def started(request: Any) -> None:
        if request.method == "POST" and request.url.endswith(SYNC_PATH):
            uploads.append(request.url)
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])

    def ended(request: Any) -> None:
        if request.method == "POST" and request.url.endswith(SYNC_PATH):
            in_flight["now"] -= 1

    phone.on("request", started)
    phone.on("requestfinished", ended)
    phone.on("requestfailed", ended)
    phone.set_offline(True)
    (first_loan, first_member), (second_loan, second_member) = field_book.loans
    _record(page, first_member, f"[data-loan='{first_loan}'] [data-action=instalment]", "20")
    _record(page, second_member, f"[data-loan='{second_loan}'] [data-action=instalment]", "30")
    before = _field_records()
    # Back online (an `online` event in both tabs), the button pressed five times and another
    # `online` event, all at once.
    phone.set_offline(False)
    page.evaluate(
        "() => { for (let i = 0; i < 5; i++) document.querySelector('#sync-now').click();"
        " window.dispatchEvent(new Event('online')); }"
    )
    other_tab.evaluate("() => document.querySelector('#sync-now').click()")
    _wait_uploaded(page)
    page.wait_for_timeout(1000)  # anything else would have started by now
    assert len(uploads) == 1 and in_flight["most"] == 1
    assert _field_records() - before == 2
    for item in _records(page):
        assert item["state"] == "confirmed"
        assert len(_posted(item["uuid"])["payments"]) == 1
    phone.close()


def test_a_revoked_phone_says_so_and_stops_uploading(
    browser: Any, server_port: int, field_book: Book
) -> None:
    from field.models import FieldDevice

    base = f"http://{DEMO_HOST}:{server_port}"
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    log_in(page, server_port, COLLECTOR)
    _open_app(page, base)
    _download(page)
    device_id = page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("coopcore-field");
          open.onsuccess = () => {
            const all = open.result.transaction("meta").objectStore("meta").getAll();
            all.onsuccess = () => resolve(all.result.find(m => m.key.startsWith("device:")).id);
          };
        })"""
    )
    # The cooperative's admin revokes it, through the API with their own session.
    desk = browser.new_context()
    admin_page = desk.new_page()
    log_in(admin_page, server_port, "admin")
    revoked = admin_page.evaluate(
        """async (path) => {
          const csrf = document.cookie.split("; ").find(c => c.startsWith("csrftoken=")).split("=")[1];
          const answer = await fetch(path, {method: "POST", headers: {"X-CSRFToken": csrf}});
          return answer.status;
        }""",
        f"/api/v1/field/devices/{device_id}/revoke/",
    )
    desk.close()
    assert revoked == 200
    with tenant_context(_cooperative()):
        assert FieldDevice.objects.get(pk=device_id).revoked_at is not None
    loan_id, member = field_book.loans[0]
    _record(page, member, f"[data-loan='{loan_id}'] [data-action=instalment]", "10")
    page.wait_for_selector("#notice-device.notice-danger")
    assert page.is_disabled("#sync-now")
    (item,) = _records(page)
    assert item["state"] == "pending"  # kept on the phone, not uploaded
    assert _field_records_for([item["uuid"]]) == 0
    phone.close()


def test_money_is_formatted_from_integers_in_each_language(browser: Any, server_port: int) -> None:
    """The app's formatter on its own page: exact digits, the language's grouping, no float."""
    base = f"http://{DEMO_HOST}:{server_port}"
    page = browser.new_page()
    page.goto(f"{base}/livez")
    shown = page.evaluate(
        """async (url) => {
          const { formatMinor, parseAmount } = await import(url);
          return [
            formatMinor(10000000, {code: "BDT", exponent: 2, language: "bn"}),
            formatMinor(10000000, {code: "BDT", exponent: 2, language: "bn", native: true}),
            formatMinor(1500000, {code: "VND", exponent: 0, language: "vi"}),
            formatMinor(900719925474099, {code: "THB", exponent: 2, language: "th"}),
            formatMinor(-50, {code: "BDT", exponent: 2, language: "en"}),
            parseAmount("1066.85", 2), parseAmount("১০৬৬.৮৫", 2),
            parseAmount("1.005", 2), parseAmount("50.000", 0),
          ];
        }""",
        f"{base}/static/field/money.js",
    )
    page.close()
    assert shown[0] == "1,00,000.00৳"
    assert shown[1] == "১,০০,০০০.০০৳"
    assert shown[2] == "1.500.000\u00a0₫"
    assert shown[3] == "฿9,007,199,254,740.99"
    assert shown[4] == "-BDT\u00a00.50"
    assert shown[5:] == [106685, 106685, None, None]


def test_attendance_and_a_payment_brought_by_another_member_from_a_meeting_day_sheet(
    browser: Any, server_port: int, field_book: Book
) -> None:
    """On a Tuesday (the phone's clock set to one), the sheet lists the Tuesday group MIR-01: its
    attendance is taken, and one member's instalment is brought by another member."""
    from field.models import FieldRecord

    base = f"http://{DEMO_HOST}:{server_port}"
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.clock.install(time="2026-11-24T10:00:00+06:00")  # a Tuesday
    log_in(page, server_port, COLLECTOR)
    _open_app(page, base)
    _download(page)
    page.click("[data-tab=today]")
    group = page.locator("#sheet [data-group]").first
    assert "MIR-01" in group.inner_text()
    members = group.locator("button.member-row").count()
    group.locator("button.secondary").click()
    page.locator("#attendance-members input[type=checkbox]").nth(1).uncheck()
    page.click("#attendance-form button[type=submit]")
    loan_id, member = field_book.loans[0]
    _open_member(page, member)
    page.locator(f"[data-loan='{loan_id}'] [data-action=instalment]").click()
    page.fill("#entry-amount", "5")
    page.select_option("#entry-paid-by", index=1)
    payer = int(page.eval_on_selector("#entry-paid-by", "select => select.value"))
    page.click("#entry-save")
    _wait_uploaded(page, records=2)  # the attendance may be up before the instalment is saved
    records = {item["kind"]: item for item in _records(page)}
    assert records["attendance"]["state"] == records["instalment"]["state"] == "confirmed"
    with tenant_context(_cooperative()):
        attendance = FieldRecord.objects.get(client_uuid=records["attendance"]["uuid"])
        assert attendance.payload["meeting_date"] == "2026-11-24"
        assert (len(attendance.payload["present"]), len(attendance.payload["absent"])) == (members - 1, 1)
        brought = FieldRecord.objects.get(client_uuid=records["instalment"]["uuid"])
        assert (brought.payload["loan"], brought.payload["amount_minor"]) == (loan_id, 5_00)
        assert brought.payload["paid_by_member"] == payer
    phone.close()


def test_after_logging_out_the_app_does_not_open_offline_for_the_next_person(
    browser: Any, server_port: int, field_book: Book
) -> None:
    base = f"http://{DEMO_HOST}:{server_port}"
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    log_in(page, server_port, COLLECTOR)
    _open_app(page, base)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
    page.goto(f"{base}/")
    page.locator(".logout-form button").click()
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    # Online, the app sends a logged-out person to the log-in page, and forgets the kept page.
    page.goto(f"{base}/field/")
    assert "/accounts/login/" in page.url
    phone.set_offline(True)
    with pytest.raises(PlaywrightError):
        page.goto(f"{base}/field/")
    phone.close()
