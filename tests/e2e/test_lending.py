"""Lending in Chromium: a loan officer files an application on a phone, an approver approves it, the
repayment schedule opens as a PDF.

In the demo samity's own language (Bangla). The loan product is made once for the run through the
service and committed, so that the separate server process sees it.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django_tenants.utils import tenant_context
from pypdf import PdfReader

from tenants.demo import DEMO_PASSWORD
from tenants.models import Cooperative
from tests.e2e.conftest import DEMO, DEMO_HOST, log_in, translated

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("browser")]

OFFICER, APPROVER = "loanofficer", "approver1"


@dataclass(frozen=True)
class Setting:
    product_id: int
    member_id: int
    member_name: str


def _cooperative() -> Cooperative:
    return Cooperative.objects.get(slug=DEMO.spec.slug)


@pytest.fixture(scope="module")
def lending_demo(browser_user: str, django_db_blocker: Any) -> Iterator[Setting]:
    """A loan product in the demo samity, a member at the officer's branch, log-ins the server reads."""
    import datetime as dt

    from control_plane.identity.models import User
    from core_banking.lending.models import LoanProduct
    from core_banking.lending.services import loan_product_create
    from core_banking.members.models import Member, MemberStatus

    with django_db_blocker.unblock(), tenant_context(_cooperative()):
        for username in (OFFICER, APPROVER):
            user = User.objects.get(username=username)
            user.password = make_password(DEMO_PASSWORD, hasher="pbkdf2_sha256")
            user.save(update_fields=["password"])
        product = LoanProduct.objects.filter(code="E2E").first() or loan_product_create(
            actor=None,
            code="E2E",
            name="সাধারণ ঋণ (পরীক্ষা)",
            product_type="ordinary",
            annual_rate=Decimal("12"),
            rate_effective_from=dt.date(2020, 1, 1),
            default_installments=6,
            maximum_installments=12,
            interest_method="flat",
            frequency="monthly",
        )
        member = (
            Member.objects.filter(branch__code="MIR", status=MemberStatus.ACTIVE).order_by("number").first()
        )
        assert member is not None, "the demo has active members at Mirpur"
        yield Setting(product.pk, member.pk, member.full_name)


# The PDF's bytes as the page's own session fetches them (through the browser's host rules).
FETCH_PDF = """async (url) => {
  const answer = await fetch(url, {credentials: "same-origin"});
  const bytes = new Uint8Array(await answer.arrayBuffer());
  let text = "";
  for (let at = 0; at < bytes.length; at += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return {id: answer.headers.get("x-document-id"), body: btoa(text)};
}"""


def _schedule_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_an_officer_applies_an_approver_approves_and_the_schedule_pdf_opens(
    browser: Any, server_port: int, lending_demo: Setting
) -> None:
    from core_banking.lending.models import LoanApplication

    base = f"http://{DEMO_HOST}:{server_port}"

    # The loan officer, on a phone: the member's new application, checked, then filed.
    phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    log_in(page, server_port, OFFICER)
    page.goto(f"{base}/lending/applications/new/?member={lending_demo.member_id}")
    page.get_by_label(translated("Loan product", "bn")).select_option(str(lending_demo.product_id))
    page.get_by_label(translated("Amount applied for", "bn")).fill("12000")
    page.locator("input[name=installments]").fill("6")
    page.locator("input[name=purpose]").fill("সেলাই মেশিন")
    page.get_by_role("button", name=translated("Check eligibility", "bn")).click()
    verdict = page.locator("#check .verdict")
    verdict.wait_for()
    assert translated("Eligible: every check passes.", "bn") in verdict.inner_text()
    assert page.locator("#check table.schedule tbody tr").count() == 6  # the schedule preview
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the form is {overflow}px wider than the phone"
    page.get_by_role("button", name=translated("File the application", "bn")).click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/lending/applications/\d+/$"))
    application_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    with tenant_context(_cooperative()):
        application = LoanApplication.objects.get(pk=application_id)
        assert (application.amount_minor, application.installments, application.status) == (
            12_000_00,
            6,
            "submitted",
        )
        number = application.number
    # The maker has no approval buttons on their own application.
    assert page.get_by_role("button", name=translated("Approve", "bn"), exact=True).count() == 0
    phone.close()

    # The approver: the queue shows it at level 1; approve it.
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    log_in(page, server_port, APPROVER)
    page.goto(f"{base}/lending/approvals/")
    page.locator(f"a[href='/lending/applications/{application_id}/']").click()
    page.wait_for_url(f"{base}/lending/applications/{application_id}/")
    page.get_by_role("button", name=translated("Approve", "bn"), exact=True).click()
    page.wait_for_url(f"{base}/lending/applications/{application_id}/")
    assert page.get_by_role("status").count() == 1
    with tenant_context(_cooperative()):
        application = LoanApplication.objects.get(pk=application_id)
        assert application.status == "approved"
        assert list(application.decisions.values_list("level", "decision")) == [(1, "approved")]

    # The repayment schedule opens as a PDF from the application's documents.
    link = page.get_by_role(
        "button", name=re.compile(re.escape(translated("Repayment schedule", "bn")))
    ).first
    assert link.get_attribute("href").startswith(
        f"/lending/applications/{application_id}/documents/schedule/"
    )
    with (
        desk.expect_event(
            "response", predicate=lambda response: "/documents/schedule/" in response.url
        ) as opened,
        desk.expect_page() as tab,
    ):
        link.click()
    response = opened.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "/documents/schedule/" in tab.value.url  # Chromium's PDF viewer shows it in a new tab
    # The bytes it showed, read again with the approver's session: the same stored copy.
    again = page.evaluate(FETCH_PDF, response.url)
    assert again["id"] == response.headers["x-document-id"]
    text = _schedule_text(base64.b64decode(again["body"]))
    assert number in text and lending_demo.member_name in text
    desk.close()


def test_an_admin_words_a_document_on_a_phone_previews_and_restores_the_default(
    browser: Any, server_port: int, browser_user: str
) -> None:
    from core_banking.lending.models import DocumentTemplate

    base = f"http://{DEMO_HOST}:{server_port}"
    phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    log_in(page, server_port, browser_user)
    page.goto(f"{base}/lending/products/")
    page.get_by_role("button", name=translated("Document wording", "bn")).click()
    page.wait_for_url(f"{base}/lending/document-templates/")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.locator("a[href='/lending/document-templates/guarantee/bn/']").click()
    page.wait_for_url(f"{base}/lending/document-templates/guarantee/bn/")
    with tenant_context(_cooperative()):
        before = DocumentTemplate.objects.filter(kind="guarantee", language="bn").count()

    # Checked as typed (htmx): an unknown placeholder is named, a known one passes.
    opening = page.locator("textarea[name=opening]")
    opening.fill("{{ borower }} জামিন দিলেন।")
    check = page.locator("#wording-check")
    check.get_by_text("borower").wait_for()
    opening.fill("{{ guarantor_name }} ({{ guarantor_number }}) জামিন দিলেন।")
    check.get_by_text(translated("The wording can be used.", "bn")).wait_for()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    # The preview opens as a PDF in a new tab and stores nothing.
    with (
        phone.expect_event("response", predicate=lambda response: "/preview/" in response.url) as drawn,
        phone.expect_page(),
    ):
        page.get_by_role("button", name=translated("Preview PDF", "bn")).click()
    assert drawn.value.status == 200 and drawn.value.headers["content-type"] == "application/pdf"
    with tenant_context(_cooperative()):
        assert DocumentTemplate.objects.filter(kind="guarantee", language="bn").count() == before

    # Saved: a new version; then the default again, as one more version.
    page.get_by_role("button", name=translated("Save the wording", "bn")).click()
    page.wait_for_url(f"{base}/lending/document-templates/guarantee/bn/")
    page.get_by_role("button", name=translated("Restore the default wording", "bn")).click()
    page.wait_for_url(f"{base}/lending/document-templates/guarantee/bn/")
    with tenant_context(_cooperative()):
        versions = list(
            DocumentTemplate.objects.filter(kind="guarantee", language="bn").order_by("-version")[:2]
        )
        assert versions[0].is_default and "{{ guarantor_name }}" in versions[1].opening
        assert versions[0].version == before + 2
    phone.close()
