"""A report's outputs: the screen's rows, the PDF (WeasyPrint), the spreadsheet (openpyxl) and the CSV.

The screen and the PDF format amounts and dates for the reader (``frontend.formatting``: Bangla
grouping and digits, VND without decimals, Thai Buddhist-era years). The spreadsheet holds numbers in
major units with the currency's decimals and real dates; the CSV plain values (``1500.75``,
``2026-11-23``) that any program reads back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.dates import format_time
from babel.numbers import get_currency_precision
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from core_banking.reporting import pdf_text
from core_banking.reporting.registry import ReportQuery, ReportSpec, period_label
from core_banking.reporting.tables import CellKind, Column, ReportTable, RowStyle
from frontend.formatting import babel_locale, format_local_date, format_money, to_native_digits


@dataclass(frozen=True)
class Presentation:
    """How the reader expects to see the cooperative's money and dates."""

    cooperative_name: str
    currency: str
    language: str
    native_digits: bool
    time_zone: str

    @classmethod
    def for_cooperative(cls, cooperative: Any, language: str) -> Presentation:
        return cls(
            cooperative_name=cooperative.name,
            currency=cooperative.currency,
            language=language,
            native_digits=bool(cooperative.use_native_digits),
            time_zone=cooperative.time_zone,
        )

    @property
    def exponent(self) -> int:
        return int(get_currency_precision(self.currency))

    def money(self, minor_units: int) -> str:
        return format_money(minor_units, self.currency, self.language, native_digits=self.native_digits)

    def date(self, value: dt.date) -> str:
        return format_local_date(value, self.language, native_digits=self.native_digits)

    def number(self, value: int) -> str:
        text = str(value)
        return to_native_digits(text, self.language) if self.native_digits else text

    def moment(self, value: dt.datetime) -> str:
        local = timezone.localtime(value, timezone=zoneinfo.ZoneInfo(self.time_zone))
        clock = format_time(local, format="short", locale=babel_locale(self.language))
        clock = to_native_digits(clock, self.language) if self.native_digits else clock
        return f"{self.date(local.date())} {clock}"

    def major_units(self, minor_units: int) -> Decimal:
        return Decimal(minor_units).scaleb(-self.exponent)


@dataclass(frozen=True)
class Heading:
    cooperative: str
    title: str
    subtitle: str
    branches: str
    period: str
    produced: str


@dataclass(frozen=True)
class BuiltReport:
    """A report run once and laid out: every output renders from this."""

    spec: ReportSpec[Any]
    query: ReportQuery
    result: Any
    table: ReportTable
    heading: Heading
    presentation: Presentation
    produced_at: dt.datetime


def report_build(
    *, spec: ReportSpec[Any], query: ReportQuery, presentation: Presentation, produced_by: str
) -> BuiltReport:
    result = spec.run(query)
    produced_at = timezone.now()
    heading = Heading(
        cooperative=presentation.cooperative_name,
        title=str(spec.title),
        subtitle=spec.subtitle(result) if spec.subtitle else "",
        branches=query.branch_set.label(),
        period=period_label(query, presentation.date),
        produced=_("Produced %(when)s by %(who)s")
        % {"when": presentation.moment(produced_at), "who": produced_by},
    )
    return BuiltReport(spec, query, result, spec.layout(result), heading, presentation, produced_at)


# --- Screen and PDF -------------------------------------------------------------------------------


def _display(value: Any, column: Column, presentation: Presentation) -> str:
    if value is None:
        return ""
    if column.kind == CellKind.MONEY:
        return presentation.money(int(value))
    if column.kind == CellKind.DATE:
        return presentation.date(value)
    if column.kind == CellKind.NUMBER:
        return presentation.number(int(value))
    return str(value)


def display_rows(report: BuiltReport) -> list[dict[str, Any]]:
    """The table's rows as text for the reader, with what the template needs to style them."""
    columns = report.table.columns
    rows = []
    for row in report.table.rows:
        if row.style == RowStyle.SECTION:
            cells = [{"text": str(row.cells[0] or ""), "kind": "text", "label": "", "colspan": len(columns)}]
        else:
            cells = []
            for column, value in zip(columns, row.cells, strict=True):
                hidden = not column.repeat and not row.group_start
                text = "" if hidden else _display(value, column, report.presentation)
                negative = column.kind == CellKind.MONEY and isinstance(value, int) and value < 0
                cells.append(
                    {"text": text, "kind": str(column.kind), "label": column.label, "negative": negative}
                )
        rows.append({"style": str(row.style), "group_start": row.group_start, "cells": cells})
    return rows


def template_context(report: BuiltReport) -> dict[str, Any]:
    return {
        "report": report,
        "heading": report.heading,
        "columns": report.table.columns,
        "rows": display_rows(report),
        "language": report.presentation.language,
    }


# Fonts by family name through fontconfig: the Noto families cover Latin and Vietnamese, Bangla and
# Thai; Pango (HarfBuzz) shapes the complex scripts and WeasyPrint embeds the subsets it used.
PDF_FONT_FAMILIES = '"Noto Sans", "Noto Sans Bengali", "Noto Sans Thai", sans-serif'


def pdf_bytes(report: BuiltReport) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "reporting/print.html",
        {**template_context(report), "font_families": PDF_FONT_FAMILIES, "landscape": report.spec.landscape},
    )
    with pdf_text.recording() as recorder:
        drawn = bytes(HTML(string=html).write_pdf())
    return pdf_text.exact_text(drawn, recorder)


# --- Spreadsheet and CSV -------------------------------------------------------------------------


def _number_format(exponent: int) -> str:
    return "#,##0" + ("." + "0" * exponent if exponent else "")


def _machine_value(value: Any, column: Column, presentation: Presentation) -> Any:
    if value is None:
        return None
    if column.kind == CellKind.MONEY:
        return presentation.major_units(int(value))
    return value


def xlsx_bytes(report: BuiltReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    presentation = report.presentation
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", report.heading.title)[:31]
    heading = report.heading
    for text in (heading.cooperative, heading.title, heading.subtitle, heading.branches, heading.period):
        if text:
            sheet.append([text])
    sheet.append([heading.produced])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"].font = Font(bold=True)
    sheet.append([])
    columns = report.table.columns
    sheet.append([column.label for column in columns])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    money_format = _number_format(presentation.exponent)
    for row in report.table.rows:
        sheet.append(
            [
                _machine_value(value, column, presentation)
                for column, value in zip(columns, row.cells, strict=True)
            ]
        )
        for column, cell in zip(columns, sheet[sheet.max_row], strict=True):
            if column.kind == CellKind.MONEY:
                cell.number_format = money_format
            elif column.kind == CellKind.DATE:
                cell.number_format = "yyyy-mm-dd"
            if row.style != RowStyle.DETAIL:
                cell.font = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        wide = column.kind == CellKind.TEXT and column.label not in {_("Code"), _("Branch")}
        sheet.column_dimensions[get_column_letter(index)].width = 40 if wide else 16
        if column.kind == CellKind.TEXT:
            for (cell,) in sheet.iter_rows(min_row=header_row + 1, min_col=index, max_col=index):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_value(value: Any, column: Column, presentation: Presentation) -> str:
    if value is None:
        return ""
    if column.kind == CellKind.MONEY:
        return f"{presentation.major_units(int(value)):.{presentation.exponent}f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def csv_text(report: BuiltReport) -> str:
    """One header row and the table's rows; amounts in major units with a dot, dates in ISO form."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = report.table.columns
    writer.writerow([column.label for column in columns])
    for row in report.table.rows:
        writer.writerow(
            [
                _csv_value(value, column, report.presentation)
                for column, value in zip(columns, row.cells, strict=True)
            ]
        )
    return buffer.getvalue()


def download_name(report: BuiltReport, extension: str) -> str:
    query = report.query
    dates = [value for value in (query.start, query.end, query.as_of, query.day) if value is not None]
    stamp = "_".join(value.isoformat() for value in dates)
    subject = "".join(f"-{value}" for value in (query.account, query.member, query.group) if value)
    # The member number is typed by the reader: keep the file name to safe characters.
    subject = re.sub(r"[^A-Za-z0-9._-]", "_", subject)
    return f"{report.spec.slug}{subject}-{stamp}.{extension}"
