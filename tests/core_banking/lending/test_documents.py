"""Loan documents as PDF: text that extracts back (Bangla too), exact amounts, stored and reprinted as
stored, one guarantee per guarantor. A workspace's own wording: test_document_templates.py."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from control_plane.audit.models import AuditEvent
from core_banking.lending import documents
from core_banking.lending.models import Loan, LoanInstallment, LoanTransaction
from core_banking.lending.services import loan_payoff_quote, loan_repay, loan_repayment_reverse
from frontend.formatting import format_local_date, format_money
from tests.conftest import ALPHA
from tests.core_banking.lending.page_fixtures import (  # noqa: F401 - fixtures
    EMI,
    PRINCIPAL,
    Book,
    _media_in_tmp,
    approved_application,
    book_fixture,
)
from tests.core_banking.savings.page_helpers import client_for

pytestmark = pytest.mark.django_db


def bdt(minor: int) -> str:
    return format_money(minor, "BDT", "en")


def pdf_text(content: bytes) -> tuple[str, set[str]]:
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return "\n".join(page.extract_text() for page in reader.pages), fonts


def _open(url: str, *, user: str = ALPHA.admin) -> Any:
    response = client_for(user).get(url)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline; filename=")
    return response


def test_the_repayment_schedule_carries_the_loan_number_and_exact_amounts(book: Book) -> None:
    loan = book.loan
    response = _open(f"/lending/loans/{loan.pk}/documents/schedule/?lang=en")
    text, fonts = pdf_text(response.content)
    assert "Noto-Sans" in fonts
    rows = list(LoanInstallment.objects.filter(loan=loan).order_by("number"))
    interest = sum(row.interest_minor for row in rows)
    assert loan.number in text and book.borrower.number in text
    assert bdt(EMI) in text  # the equal instalment, to the paisa
    assert bdt(PRINCIPAL) in text
    assert bdt(interest) in text and bdt(PRINCIPAL + interest) in text  # total interest, total to repay
    assert (
        bdt(rows[-1].principal_minor + rows[-1].interest_minor) in text
    )  # the last one absorbs the rounding
    assert format_local_date(rows[0].due_date, "en") in text
    assert "Repayment schedule" in text


def test_a_document_is_stored_once_and_reprinted_byte_for_byte(book: Book) -> None:
    loan = book.loan
    first = _open(f"/lending/loans/{loan.pk}/documents/schedule/?lang=en")
    name = first["X-Document-Id"]
    stored = f"workspaces/{ALPHA.schema_name}/lending/documents/loan-{loan.pk}/{name}.pdf"
    assert default_storage.exists(stored)
    with default_storage.open(stored, "rb") as handle:
        assert handle.read() == first.content
    # Opened again with nothing changed: the same stored copy, not another one.
    again = _open(f"/lending/loans/{loan.pk}/documents/schedule/?lang=en")
    assert again["X-Document-Id"] == name and again.content == first.content
    assert [record.name for record in documents.documents_for(loan)] == [name]
    # A payment changes the schedule: a new copy; the old one is still there, as issued.
    loan_repay(
        actor=None, loan_id=loan.pk, amount_minor=EMI, value_date=dt.date(2026, 3, 5), idempotency_key="p1"
    )
    after = _open(f"/lending/loans/{loan.pk}/documents/schedule/?lang=en")
    assert after["X-Document-Id"] != name
    reprint = _open(f"/lending/documents/loan-{loan.pk}/{name}.pdf")
    assert reprint.content == first.content
    page = client_for(ALPHA.admin).get(f"/lending/loans/{loan.pk}/").content.decode()
    assert f"/lending/documents/loan-{loan.pk}/{name}.pdf" in page  # listed for reprinting
    issued = AuditEvent.objects.filter(action="lending.document.issue", object_id=str(loan.pk))
    assert issued.count() == 2
    assert client_for(ALPHA.admin).get(f"/lending/documents/loan-{loan.pk}/../../x.pdf").status_code == 404
    # A later row that took the same id (a workspace restored from a backup) shows none of them.
    book.application.created_at += dt.timedelta(seconds=1)
    book.application.save(update_fields=["created_at"])
    assert documents.documents_for(Loan.objects.get(pk=loan.pk)) == []
    assert client_for(ALPHA.admin).get(f"/lending/documents/loan-{loan.pk}/{name}.pdf").status_code == 404


def test_a_bangla_schedule_extracts_bangla_names_digits_and_dates(book: Book) -> None:
    borrower = book.borrower
    borrower.full_name = "রহিমা খাতুন"
    borrower.save(update_fields=["full_name"])
    response = _open(f"/lending/loans/{book.loan.pk}/documents/schedule/")  # the member's language: Bangla
    text, fonts = pdf_text(response.content)
    assert "Noto-Sans-Bengali" in fonts
    native = ALPHA.cooperative().use_native_digits
    assert "রহিমা খাতুন" in text
    assert format_money(EMI, "BDT", "bn", native_digits=native) in text
    second_due = LoanInstallment.objects.get(loan=book.loan, number=2).due_date
    assert format_local_date(second_due, "bn", native_digits=native) in text  # ৫ এপ্রি, ২০২৬
    assert "মার্চ" in text  # the first due month, drawn as a glyph cluster, extracts whole
    record = documents.documents_for(book.loan)[0]
    assert record.language == "bn"


def test_the_contract_and_one_guarantee_per_guarantor(book: Book) -> None:
    loan = book.loan
    contract, _fonts = pdf_text(_open(f"/lending/loans/{loan.pk}/documents/contract/?lang=en").content)
    assert loan.number in contract and "Loan contract" in contract
    assert bdt(PRINCIPAL) in contract and bdt(EMI) in contract
    assert bdt(2_400_00) in contract  # the 2 % disbursement fee
    assert bdt(50_00) in contract  # the late penalty per instalment
    assert book.guarantor.full_name in contract
    guarantor = book.application.guarantors.get()
    guarantee, _fonts = pdf_text(
        _open(f"/lending/loans/{loan.pk}/documents/guarantee/?guarantor={guarantor.pk}&lang=en").content
    )
    assert "Guarantee contract" in guarantee and loan.number in guarantee
    assert f"Amount guaranteed: {bdt(50_000_00)}" in guarantee
    assert book.guarantor.full_name in guarantee and book.borrower.full_name in guarantee
    assert (
        client_for(ALPHA.admin)
        .get(f"/lending/loans/{loan.pk}/documents/guarantee/?guarantor=999")
        .status_code
        == 404
    )
    assert client_for(ALPHA.admin).get(f"/lending/loans/{loan.pk}/documents/nonsense/").status_code == 404


def test_the_payoff_statement_for_a_date_states_the_service_figures(book: Book) -> None:
    loan = book.loan
    loan_repay(
        actor=None, loan_id=loan.pk, amount_minor=EMI, value_date=dt.date(2026, 3, 5), idempotency_key="p1"
    )
    quote = loan_payoff_quote(loan_id=loan.pk, on_date=dt.date(2026, 4, 20))
    text, _fonts = pdf_text(
        _open(f"/lending/loans/{loan.pk}/documents/payoff/?on=2026-04-20&lang=en").content
    )
    assert loan.number in text and format_local_date(dt.date(2026, 4, 20), "en") in text
    assert bdt(quote.principal_minor) in text and bdt(quote.interest_minor) in text
    assert bdt(quote.total_minor) in text
    assert bdt(quote.interest_accrued_minor) in text and bdt(1_200_00) in text  # earned less paid
    # Settled, the loan has nothing to quote: said on a page, no PDF.
    loan_repay(
        actor=None,
        loan_id=loan.pk,
        amount_minor=quote.total_minor,
        value_date=dt.date(2026, 4, 20),
        idempotency_key="p2",
    )
    refused = client_for(ALPHA.admin).get(f"/lending/loans/{loan.pk}/documents/payoff/?on=2026-04-21")
    assert refused.status_code == 409 and "not active" in refused.content.decode()


def test_a_receipt_per_repayment_and_the_yearly_interest_certificate(book: Book) -> None:
    loan = book.loan
    first = loan_repay(
        actor=None, loan_id=loan.pk, amount_minor=EMI, value_date=dt.date(2026, 3, 5), idempotency_key="p1"
    )
    second = loan_repay(
        actor=None, loan_id=loan.pk, amount_minor=500_00, value_date=dt.date(2026, 4, 6), idempotency_key="p2"
    )
    receipt, _fonts = pdf_text(
        _open(f"/lending/loans/{loan.pk}/documents/receipt/?transaction={first.pk}&lang=en").content
    )
    assert f"{loan.number}-R{first.pk}" in receipt
    assert f"Amount received: {bdt(EMI)}" in receipt
    assert bdt(1_200_00) in receipt and bdt(EMI - 1_200_00) in receipt  # interest, then principal
    assert bdt(PRINCIPAL - (EMI - 1_200_00)) in receipt  # principal still owed after it
    # A reversed payment leaves the certificate; interest counts in the year it was paid.
    loan_repayment_reverse(
        actor=None,
        transaction_id=second.pk,
        reason="Cheque bounced",
        idempotency_key="rv1",
        value_date=dt.date(2026, 4, 7),
    )
    paid = sum(
        t.interest_minor
        for t in LoanTransaction.objects.filter(loan=loan, kind="repayment", reversed_by__isnull=True)
    )
    assert paid == 1_200_00
    certificate, _fonts = pdf_text(
        _open(f"/lending/members/{book.borrower.pk}/interest-certificate/2026/?lang=en").content
    )
    assert "Interest certificate" in certificate and loan.number in certificate
    assert f"Total interest paid {bdt(1_200_00)}" in certificate.replace("\n", " ")
    empty, _fonts = pdf_text(
        _open(f"/lending/members/{book.borrower.pk}/interest-certificate/2025/?lang=en").content
    )
    assert "No interest was paid in this year." in empty
    assert documents.documents_for(book.borrower)[0].params["year"] == 2025


def test_an_application_prints_its_projected_schedule_and_contract(
    staff: dict[str, Any], ladder: None, monthly_product: Any, borrower: Any
) -> None:
    application = approved_application(staff, borrower, monthly_product)
    text, _fonts = pdf_text(
        _open(f"/lending/applications/{application.pk}/documents/schedule/?lang=en").content
    )
    assert application.number in text and "Projected" in text and bdt(EMI) in text
    contract, _fonts = pdf_text(
        _open(f"/lending/applications/{application.pk}/documents/contract/?lang=en").content
    )
    assert application.number in contract and bdt(PRINCIPAL) in contract
    assert documents.documents_for(application)[0].kind == "contract"
    assert (
        client_for(ALPHA.admin).get(f"/lending/applications/{application.pk}/documents/receipt/").status_code
        == 404
    )
