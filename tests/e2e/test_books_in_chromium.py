"""The books in Chromium: open a member, upload a photo, deposit, see the statement and the trial balance.

Works in the demo samity's own language (Bangla, with Bangla digits where the cooperative chose
them); amounts are read back from the pages and compared as numbers.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django_tenants.utils import tenant_context
from PIL import Image

from tenants.models import Cooperative
from tests.e2e.conftest import DEMO, DEMO_HOST, log_in, translated

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("browser")]

LATIN_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")


def _amount(text: str) -> Decimal:
    """An amount as the page writes it (৳১,২৩৪.৫০, BDT 1,234.50, −…) as a number."""
    plain = text.translate(LATIN_DIGITS)
    digits = re.sub(r"[^\d.]", "", plain)
    value = Decimal(digits or "0")
    return -value if "−" in plain or plain.strip().startswith("-") else value


def _a_member_with_voluntary_savings() -> tuple[int, int, str, str]:
    from core_banking.savings.models import SavingsAccount

    with tenant_context(Cooperative.objects.get(slug=DEMO.spec.slug)):
        account = (
            SavingsAccount.objects.select_related("member", "product__control_account")
            .filter(product__code="VOL", status="active")
            .order_by("id")
            .first()
        )
        assert account is not None, "the demo has voluntary savings accounts"
        return account.member_id, account.pk, account.member.full_name, account.product.control_account.code


def _png() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (480, 640), (180, 40, 40)).save(picture, format="PNG")
    return picture.getvalue()


def _trial_balance_credit(page: Any, base: str, account_code: str) -> Decimal:
    page.goto(f"{base}/reports/trial-balance/")  # this month to the business date, all branches
    row = page.locator("table.report-table tr", has_text=account_code)
    cells = row.first.locator("td").all_inner_texts()
    return _amount(cells[-1])  # the closing credit: members' savings are a liability


def test_a_member_photo_a_deposit_the_statement_and_the_trial_balance(
    browser: Any, server_port: int, browser_user: str
) -> None:
    member_id, account_id, member_name, control_code = _a_member_with_voluntary_savings()
    base = f"http://{DEMO_HOST}:{server_port}"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, server_port, browser_user)

    # A photo from a phone camera or a file: stored, re-encoded, shown as a thumbnail to staff.
    page.goto(f"{base}/members/{member_id}/documents/upload/")
    page.get_by_label(translated("What is it?", "bn")).select_option("photo")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": _png()}]
    )
    page.get_by_role("button", name=translated("Upload", "bn")).click()
    page.wait_for_url(f"{base}/members/{member_id}/")
    photo = page.locator("img.member-photo, .member-photo img").first
    photo.wait_for()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", photo.element_handle())

    before = _trial_balance_credit(page, base, control_code)

    # The deposit, from the member's page through the account.
    page.goto(f"{base}/members/{member_id}/")
    page.locator(f"a[href='/savings/{account_id}/']").first.click()
    page.wait_for_url(f"{base}/savings/{account_id}/")
    page.get_by_role("button", name=translated("Deposit", "bn"), exact=True).first.click()
    page.get_by_label(translated("Amount", "bn")).fill("1,234.50")
    page.get_by_role("button", name=translated("Record the deposit", "bn")).click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/savings/{account_id}/.*"))
    assert page.get_by_role("status").count() == 1

    # The statement shows the deposit and the running balance after it.
    page.goto(f"{base}/savings/{account_id}/statement/")
    last = page.locator("table tbody tr").last.locator("td").all_inner_texts()
    assert _amount(last[1]) == Decimal("1234.50")
    balance_shown = _amount(last[2])
    from core_banking.savings.models import SavingsAccount

    with tenant_context(Cooperative.objects.get(slug=DEMO.spec.slug)):
        assert Decimal(SavingsAccount.objects.get(pk=account_id).balance_minor) / 100 == balance_shown

    # The trial balance moved by exactly the deposit, the moment it committed.
    assert _trial_balance_credit(page, base, control_code) - before == Decimal("1234.50")
    assert member_name  # the page was the member's own
    context.close()
