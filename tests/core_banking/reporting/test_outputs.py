"""The report as a PDF (real Noto fonts, Bangla and Thai text that extracts back), a spreadsheet with
numbers in it, a CSV that reads back, and the screen, amounts formatted for the reader."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from core_banking.ledger.services import LineSpec, journal_post
from core_banking.organisation.models import Branch
from core_banking.reporting import outputs, pdf_text
from core_banking.reporting.access import BranchSet
from core_banking.reporting.registry import REPORTS, ReportQuery
from tests.conftest import ALPHA, BETA, Workspace, workspace_client
from tests.core_banking.reporting.conftest import Books

ENGLISH = {"coopcore_language": "en"}


def _pdf_fonts(reader: PdfReader) -> set[str]:
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return fonts


def _pdf_text(content: bytes) -> tuple[str, set[str]]:
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages), _pdf_fonts(reader)


def test_a_bangla_pdf_embeds_a_bengali_font_and_extracts_bangla_amounts(books: Books) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)  # the samity's own language: Bangla
    response = client.get("/reports/cash-book/pdf/?start=2026-03-01&end=2026-04-30&branch=all")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="cash-book-2026-03-01_2026-04-30.pdf"'
    text, fonts = _pdf_text(response.content)
    assert {"Noto-Sans", "Noto-Sans-Bengali"} <= fonts
    # Bangla digits with the Indian grouping: 1,00,000.00 and the closing 1,16,575.25.
    assert "১,০০,০০০.০০৳" in text
    assert "১,১৬,৫৭৫.২৫৳" in text
    assert "৩,০০০.০০৳" in text  # the opening balance
    assert "শেয়ার মূলধন" in text  # share capital, the counter-account of the share purchases
    assert "Passbook fee" in text


def test_bangla_words_drawn_as_glyph_clusters_extract_in_full(books: Books) -> None:
    """ "মার্চ" (March, in every date) draws চ inside a cluster; "পরিচালন" needs it as a letter."""
    client = workspace_client(ALPHA, username=ALPHA.admin)
    response = client.get("/reports/cash-book/pdf/?start=2026-03-01&end=2026-04-30&branch=all")
    text, _fonts = _pdf_text(response.content)
    assert "মার্চ" in text
    assert "5300 পরিচালন ব্যয়" in text  # operating expenses
    assert "হাতে নগদ" not in text  # (the cash accounts are the book's own, not counter-accounts)


def test_a_pdf_in_one_text_per_glyph_is_left_as_drawn() -> None:
    from weasyprint import HTML

    with pdf_text.recording() as recorder:
        drawn = bytes(HTML(string="<p style='font-family: Noto Sans'>Sổ quỹ tiền mặt</p>").write_pdf())
    assert pdf_text.exact_text(drawn, recorder) is drawn
    assert "Sổ quỹ tiền mặt" in _pdf_text(drawn)[0]


def test_a_text_layer_that_does_not_match_the_drawing_is_left_alone() -> None:
    from weasyprint import HTML

    def bangla(words: str) -> tuple[bytes, pdf_text.TextRecorder]:
        with pdf_text.recording() as recorder:
            drawn = bytes(HTML(string=f"<p style='font-family: Noto Sans Bengali'>{words}</p>").write_pdf())
        return drawn, recorder

    march, march_recorder = bangla("মার্চ পরিচালন")
    fixed = _pdf_text(pdf_text.exact_text(march, march_recorder))[0]
    assert "মার্চ" in fixed and "পরিচালন" in fixed
    other, _recorder = bangla("হাতে নগদ")
    # Another document's record does not fit this drawing: the PDF comes back as WeasyPrint wrote it.
    assert pdf_text.exact_text(other, march_recorder) is other


def test_a_thai_pdf_embeds_a_thai_font_with_buddhist_era_dates_and_baht(in_alpha: Workspace) -> None:
    journal_post(
        idempotency_key="th-1",
        value_date=dt.date(2026, 5, 4),
        branch=Branch.objects.get(is_head_office=True),
        memo="ค่าธรรมเนียมแรกเข้า",  # entrance fee
        lines=[LineSpec("1100-HO", debit_minor=123_456_78), LineSpec("4300", credit_minor=123_456_78)],
    )
    presentation = outputs.Presentation(
        cooperative_name="สหกรณ์ออมทรัพย์ครู",
        currency="THB",
        language="th",
        native_digits=False,
        time_zone="Asia/Bangkok",
    )
    with translation.override("th"):
        built = outputs.report_build(
            spec=REPORTS["day-journal"],
            query=ReportQuery(branch_set=BranchSet(branch_ids=None, branches=()), day=dt.date(2026, 5, 4)),
            presentation=presentation,
            produced_by="auditor",
        )
        text, fonts = _pdf_text(outputs.pdf_bytes(built))
    assert "Noto-Sans-Thai" in fonts
    assert "สหกรณ์ออมทรัพย์ครู" in text
    assert "ค่าธรรมเนียมแรกเข้า" in text
    assert "฿123,456.78" in text
    assert "4 พ.ค. 2569" in text  # 2026 in the Buddhist era


def _sheet_rows(content: bytes) -> list[tuple[object, ...]]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_the_spreadsheet_holds_numbers_with_the_currencys_decimals(books: Books) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    client.cookies.load(ENGLISH)
    response = client.get("/reports/trial-balance/xlsx/?end=2026-03-31&branch=all")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="trial-balance-2026-03-31.xlsx"'
    rows = _sheet_rows(response.content)
    assert rows[0][0] == "Alpha Cooperative"
    header = rows.index(("Code", "Account", "Debit", "Credit"))
    body = rows[header + 1 :]
    assert [(code, debit, credit) for code, _name, debit, credit in body] == [
        ("1100-BR1", 3150.5, None),
        ("1100-HO", 13224.75, None),
        ("2100-CMP", None, 1800),
        ("2100-VOL", None, 13000.25),
        ("3100", None, 1500),
        ("4300", None, 150),
        ("5300", 75, None),
        (None, 16450.25, 16450.25),
    ]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet.cell(row=header + 2, column=3).number_format == "#,##0.00"


def test_the_csv_reads_back_as_plain_values(books: Books) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    client.cookies.load(ENGLISH)
    response = client.get(
        f"/reports/general-ledger/csv/?account=2100-VOL&start=2026-03-01&end=2026-03-31&branch={books.br1.pk}"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == [
        "Date",
        "Entry",
        "Branch",
        "Particulars",
        "Counter-accounts",
        "Debit",
        "Credit",
        "Balance",
    ]
    assert [(row[0], row[2], row[5], row[6], row[7]) for row in rows[1:]] == [
        ("2026-03-01", "", "", "", "0.00"),
        ("2026-03-02", "BR1", "", "2500.50", "2500.50"),
        ("2026-03-31", "", "0.00", "2500.50", "2500.50"),
    ]
    assert rows[2][4] == "1100-BR1 হাতে নগদ — Branch one"


def test_the_screen_formats_amounts_for_the_reader(books: Books) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    response = client.get("/reports/balance-sheet/?as_of=2026-04-30&branch=all")
    assert response.status_code == 200
    page = response.content.decode()
    assert "১,১৬,৫৭৫.২৫৳" in page  # total assets, Bangla digits and grouping
    assert "১,০৩,১৫০.৫০৳" in page  # cash at BR1
    for kind in ("pdf", "xlsx", "csv"):
        assert f"/reports/balance-sheet/{kind}/?as_of=2026-04-30&amp;branch=all" in page
    client.cookies.load(ENGLISH)
    english = client.get("/reports/balance-sheet/?as_of=2026-04-30&branch=all").content.decode()
    assert "BDT116,575.25" in english  # an English page: Western digits and grouping


def test_dong_has_no_decimals_on_screen_or_in_the_spreadsheet(in_beta: Workspace) -> None:
    head_office = Branch.objects.get(is_head_office=True)
    journal_post(
        idempotency_key="vn-1",
        value_date=dt.date(2026, 3, 2),
        branch=head_office,
        memo="Góp vốn",
        lines=[
            LineSpec(f"1100-{head_office.code}", debit_minor=1_500_000),
            LineSpec("3100", credit_minor=1_500_000),
        ],
    )
    client = workspace_client(BETA, username=BETA.admin)
    page = client.get("/reports/trial-balance/?end=2026-03-31&branch=all").content.decode()
    assert "1.500.000\xa0₫" in page
    workbook = client.get("/reports/trial-balance/xlsx/?end=2026-03-31&branch=all").content
    rows = _sheet_rows(workbook)
    assert (f"1100-{head_office.code}", 1500000) == (rows[-3][0], rows[-3][2])
    sheet = load_workbook(io.BytesIO(workbook)).active
    assert sheet is not None
    assert sheet.cell(row=len(rows), column=3).number_format == "#,##0"
    assert outputs.Presentation.for_cooperative(BETA.cooperative(), "vi").major_units(1_500_000) == Decimal(
        1_500_000
    )
