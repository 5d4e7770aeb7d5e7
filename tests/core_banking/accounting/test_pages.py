"""The staff pages of the books: vouchers with dynamic lines, entries, corrections, closings."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_tenants.utils import tenant_context

from core_banking.accounting.models import BranchDayClose, CorrectionRequest, Voucher
from core_banking.organisation.models import Branch
from tests.conftest import ALPHA, BETA
from tests.core_banking.accounting.conftest import english_client, entry_lines, receipt


def _lines(rows: list[dict[str, str]], total: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "lines-TOTAL_FORMS": str(total or len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "60",
    }
    for number, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{number}-{name}"] = value
    return data


def test_an_accountant_posts_a_receipt_from_the_page(head_office: Branch) -> None:
    client = english_client(ALPHA, "clerk0")
    page = client.get("/accounting/vouchers/new/receipt/")
    assert page.status_code == 200
    assert b'id="line-template"' in page.content and b"lines-__prefix__-account" in page.content
    form = {
        "branch": str(head_office.pk),
        "value_date": "2026-10-05",
        "narration": "Admission fees",
        "idempotency_key": "page-rv-1",
        **_lines(
            [{"account": "4300", "amount": "1,250.75"}, {"account": "4200", "amount": "20"}, {}], total=3
        ),
    }
    response = client.post("/accounting/vouchers/new/receipt/", form)
    voucher = Voucher.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/accounting/entries/{voucher.entry_id}/"
    assert entry_lines(voucher) == [("1100-HO", 1_270_75, 0), ("4300", 0, 1_250_75), ("4200", 0, 20_00)]
    again = client.post("/accounting/vouchers/new/receipt/", form)  # a double click posts nothing new
    assert again.status_code == 302 and Voucher.objects.count() == 1
    shown = client.get(response["Location"]).content.decode()
    assert "RV-HO-2026-27-00001" in shown and "Admission fees" in shown
    assert f"/accounting/entries/{voucher.entry_id}/correct/" in shown
    listing = client.get("/accounting/").content.decode()
    assert "RV-HO-2026-27-00001" in listing


def test_an_unbalanced_journal_voucher_shows_the_difference(head_office: Branch) -> None:
    client = english_client(ALPHA, "clerk0")
    form = {
        "branch": str(head_office.pk),
        "value_date": "2026-10-05",
        "narration": "Transfer",
        "idempotency_key": "page-jv-1",
        **_lines([{"account": "1200", "debit": "100"}, {"account": "1100-HO", "credit": "90"}]),
    }
    response = client.post("/accounting/vouchers/new/journal/", form)
    assert response.status_code == 200
    assert "Debits 100.00 ≠ credits 90.00." in response.content.decode()
    assert not Voucher.objects.exists()
    form.update(_lines([{"account": "", "debit": "100"}, {"account": "1100-HO", "credit": "100"}]))
    missing = client.post("/accounting/vouchers/new/journal/", form).content.decode()
    assert "Choose an account." in missing


def test_the_correction_form_is_reached_from_the_entry_and_the_general_ledger(head_office: Branch) -> None:
    original = receipt(head_office, "rv-1", ("4300", 5_000_00))
    client = english_client(ALPHA, "clerk0")
    ledger = client.get(
        "/accounting/ledger/", {"account": "4300", "start": "2026-10-01", "end": "2026-10-31"}
    )
    assert f"/accounting/entries/{original.entry_id}/correct/" in ledger.content.decode()
    form_page = client.get(f"/accounting/entries/{original.entry_id}/correct/")
    assert b'value="5000.00"' in form_page.content  # the posted lines, ready to edit
    response = client.post(
        f"/accounting/entries/{original.entry_id}/correct/",
        {
            "reason": "Keyed 5,000 instead of 500",
            "value_date": "2026-10-06",
            "narration": "",
            "idempotency_key": "page-fix-1",
            **_lines([{"account": "1100-HO", "debit": "500"}, {"account": "4300", "credit": "500"}]),
        },
    )
    assert response.status_code == 302
    correction = CorrectionRequest.objects.get()
    assert (correction.status, correction.reason) == ("posted", "Keyed 5,000 instead of 500")
    corrected = Voucher.objects.get(entry=correction.corrected)
    assert entry_lines(corrected) == [("1100-HO", 500_00, 0), ("4300", 0, 500_00)]
    shown = client.get(f"/accounting/entries/{original.entry_id}/").content.decode()
    assert "Keyed 5,000 instead of 500" in shown and "Correct this entry" not in shown


def test_maker_checker_on_the_pages(head_office: Branch) -> None:
    admin = english_client(ALPHA, ALPHA.admin)
    saved = admin.post(
        "/accounting/settings/", {"fiscal_year_start_month": "7", "corrections_need_approval": "on"}
    )
    assert saved.status_code == 302
    original = receipt(head_office, "rv-1", ("4300", 5_000_00))
    maker = english_client(ALPHA, "clerk0")
    maker.post(
        f"/accounting/entries/{original.entry_id}/correct/",
        {"reason": "Wrong fee", "value_date": "2026-10-06", "idempotency_key": "k", **_lines([])},
    )
    correction = CorrectionRequest.objects.get()
    assert correction.status == "pending" and correction.reversal is None
    assert "Approve and post" not in maker.get("/accounting/corrections/").content.decode()
    maker.post(f"/accounting/corrections/{correction.pk}/approve/")
    correction.refresh_from_db()
    assert correction.status == "pending"
    checker = english_client(ALPHA, "clerk1")
    assert "Approve and post" in checker.get("/accounting/corrections/").content.decode()
    checker.post(f"/accounting/corrections/{correction.pk}/approve/")
    correction.refresh_from_db()
    assert (correction.status, correction.checker.username) == ("posted", "clerk1")  # type: ignore[union-attr]


def test_closing_a_day_and_a_month_from_the_page(head_office: Branch) -> None:
    receipt(head_office, "rv-1", ("4300", 100_00))
    client = english_client(ALPHA, "clerk0")
    assert client.get("/accounting/closings/").status_code == 200
    day = client.post("/accounting/closings/day/", {"branch": str(head_office.pk), "day": "2026-10-05"})
    assert day.status_code == 302
    assert BranchDayClose.objects.get().debit_minor == 100_00
    refused = client.post("/accounting/closings/period/", {"period_end": "2026-10-30"})
    assert refused.status_code == 400 and "Not a month&#x27;s last day." in refused.content.decode()
    assert client.post("/accounting/closings/period/", {"period_end": "2026-10-31"}).status_code == 302


def test_pages_answer_404_outside_the_users_branches_and_workspace(
    head_office: Branch, br1_accountant: object
) -> None:
    voucher = receipt(head_office, "rv-1", ("4300", 5))
    limited = english_client(ALPHA, "br1-accountant")
    assert limited.get(f"/accounting/entries/{voucher.entry_id}/").status_code == 404
    assert "RV-HO" not in limited.get("/accounting/").content.decode()
    assert limited.post("/accounting/closings/period/", {"period_end": "2026-09-30"}).status_code == 403
    with tenant_context(BETA.cooperative()):
        attacker: Client = english_client(BETA, BETA.admin)
        assert attacker.get(f"/accounting/entries/{voucher.entry_id}/").status_code == 404
        assert attacker.get(f"/accounting/entries/{voucher.entry_id}/correct/").status_code == 404
        assert "RV-HO" not in attacker.get("/accounting/").content.decode()


def test_the_auditor_reads_the_books_without_buttons(head_office: Branch) -> None:
    receipt(head_office, "rv-1", ("4300", 5))
    auditor = english_client(ALPHA, "auditor")
    page = auditor.get("/accounting/").content.decode()
    assert "RV-HO-2026-27-00001" in page and "/accounting/vouchers/new/" not in page
    assert auditor.get("/accounting/vouchers/new/receipt/").status_code == 403
