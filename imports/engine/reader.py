"""Rows out of a CSV or XLSX file, keyed by template field. Plain Python: no Django.

A reader looks at the header row first: each column is matched to a field of the entity's
template (by any of the field's headers in any language, or by an explicit saved mapping
profile), and the result — unknown columns, required fields with no column, two columns for one
field — is reported before a single row is read. Rows then stream: ``rows()`` yields
``(row_number, {field: raw cell})`` one at a time, with the row number a person sees in the
spreadsheet (the header is row 1 unless the file has title lines above it). Empty rows are skipped.

CSV is decoded as a whole (``text.decode_bytes``: BOM, UTF-16 without BOM, UTF-8, code pages) and
split lazily; XLSX is read with calamine (or openpyxl in read-only mode), values only.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from imports.engine.i18n import gettext_noop
from imports.engine.templates import FORBIDDEN_HEADERS, TEMPLATES, EntityTemplate
from imports.engine.text import Decoded, EncodingUnknown, decode_bytes, header_key

DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 20  # title lines an export may put above its header row


class ReadError(ValueError):
    """The file cannot be read at all (not CSV/XLSX, unknown encoding, no header row)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.code = code
        self.message = message
        self.params = params


@dataclass(frozen=True)
class MappingProfile:
    """A saved way to read one cooperative's export: which column is which field, and how it is
    written. ``columns`` maps a file header to a field key; a header mapped to "" is ignored on
    purpose (and not reported as unknown)."""

    columns: Mapping[str, str]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None  # 1-based; found automatically when None


@dataclass(frozen=True)
class ColumnMatch:
    index: int  # 0-based position in the row
    header: str
    field: str | None  # None: the column is not read


@dataclass
class HeaderReport:
    header_row: int
    columns: list[ColumnMatch]
    unknown: list[str] = field(default_factory=list)  # headers that match no field
    missing_required: list[str] = field(default_factory=list)  # field keys
    duplicated: list[str] = field(default_factory=list)  # fields that two columns claim
    forbidden: list[str] = field(default_factory=list)  # headers never read (passwords)

    @property
    def ok(self) -> bool:
        return not self.missing_required and not self.duplicated

    @property
    def mapped(self) -> dict[str, str]:
        """{header → field} as applied: a mapping profile can be saved from this."""
        return {column.header: column.field for column in self.columns if column.field}


def match_headers(
    headers: Sequence[object],
    template: EntityTemplate,
    profile: MappingProfile | None = None,
    *,
    row: int = 1,
) -> HeaderReport:
    """Which column is which field: by the template's headers and aliases, or by ``profile``."""
    auto_index = template.header_index()
    profile_index = (
        {header_key(header): key for header, key in profile.columns.items()} if profile is not None else None
    )
    known_fields = {item.key for item in template.fields}
    report = HeaderReport(header_row=row, columns=[])
    seen: dict[str, str] = {}
    for index, raw in enumerate(headers):
        header = "" if raw is None else str(raw).strip()
        key = header_key(header)
        if not key:
            continue
        if key in FORBIDDEN_HEADERS:
            report.forbidden.append(header)
            report.columns.append(ColumnMatch(index, header, None))
            continue
        if profile_index is not None:
            target = profile_index.get(key)
            if target is None:
                report.unknown.append(header)
                target = ""
            elif target and target not in known_fields:
                raise ReadError(
                    "profile_field_unknown",
                    gettext_noop(
                        "The mapping profile sends %(header)s to %(field)s, "
                        "which this template does not have."
                    ),
                    header=header,
                    field=target,
                )
        else:
            target = auto_index.get(key, "")
            if not target:
                report.unknown.append(header)
        if target and target in seen:
            report.duplicated.append(target)
            target = ""
        if target:
            seen[target] = header
        report.columns.append(ColumnMatch(index, header, target or None))
    report.missing_required = [key for key in template.required_keys if key not in seen]
    return report


def _header_score(cells: Sequence[object], index: Mapping[str, str]) -> int:
    return sum(1 for cell in cells if cell is not None and header_key(str(cell)) in index)


def _find_header_row(
    rows: Sequence[Sequence[object]], template: EntityTemplate, profile: MappingProfile | None
) -> int:
    """0-based index of the header row among the first rows: the one naming the most fields."""
    if profile is not None and profile.header_row:
        return profile.header_row - 1
    index = (
        {header_key(header): key for header, key in profile.columns.items()}
        if profile is not None
        else template.header_index()
    )
    best, best_score = 0, 0
    for position, cells in enumerate(rows):
        score = _header_score(cells, index)
        if score > best_score:
            best, best_score = position, score
    return best


def _is_empty(cells: Sequence[object]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


class TableReader:
    """Rows of one sheet of a file, matched to ``template``. Use ``open_table``."""

    def __init__(
        self,
        raw_rows: Iterator[Sequence[object]],
        template: EntityTemplate,
        profile: MappingProfile | None,
        *,
        encoding: str | None = None,
        sheet: str | None = None,
    ) -> None:
        self.template = template
        self.encoding = encoding
        self.sheet = sheet
        self._rows = raw_rows
        head: list[Sequence[object]] = []
        for cells in raw_rows:
            head.append(cells)
            if len(head) >= HEADER_SEARCH_ROWS:
                break
        if not head or all(_is_empty(cells) for cells in head):
            raise ReadError("file_empty", gettext_noop("The file has no rows."))
        header_at = _find_header_row(head, template, profile)
        if header_at >= len(head):
            raise ReadError(
                "header_row_missing", gettext_noop("The file has no row %(row)s."), row=header_at + 1
            )
        self.headers = match_headers(head[header_at], template, profile, row=header_at + 1)
        self._buffered = head[header_at + 1 :]
        self._first_data_row = header_at + 2
        self._read = [(column.index, column.field) for column in self.headers.columns if column.field]

    def rows(self) -> Iterator[tuple[int, dict[str, object]]]:
        """(spreadsheet row number, {field: raw cell}) for every non-empty row after the header."""
        read = self._read
        number = self._first_data_row - 1
        for source in (iter(self._buffered), self._rows):
            for cells in source:
                number += 1
                if _is_empty(cells):
                    continue
                width = len(cells)
                yield number, {key: cells[index] if index < width else None for index, key in read}


# --- Files ---------------------------------------------------------------------------------------


def _sniff_delimiter(text: str) -> str:
    """The separator of the first line that has one: the one that occurs most outside quotes."""
    for line in text[:65536].splitlines()[:HEADER_SEARCH_ROWS]:
        unquoted = "".join(part for number, part in enumerate(line.split('"')) if number % 2 == 0)
        counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
        best = max(counts, key=lambda delimiter: counts[delimiter])
        if counts[best]:
            return best
    return ","


def csv_rows(decoded: Decoded, delimiter: str | None = None) -> tuple[Iterator[list[str]], str]:
    delimiter = delimiter or _sniff_delimiter(decoded.text)
    return csv.reader(io.StringIO(decoded.text, newline=""), delimiter=delimiter), delimiter


class XlsxWorkbook:
    """An XLSX file opened once for reading several of its sheets.

    Read with calamine (python-calamine, a Rust reader) by default: on the generated legacy
    workbook it reads cells about 80 times faster than openpyxl's read-only mode, which parses every
    cell through its object model. ``engine="openpyxl"`` reads the same values the slow way; the
    tests hold both to the same rows. Either gives str, int/float, date/datetime, or empty cells.
    """

    def __init__(self, data: bytes, *, engine: str = "calamine") -> None:
        self.engine = engine
        if engine == "calamine":
            from python_calamine import CalamineWorkbook

            self._calamine = CalamineWorkbook.from_filelike(io.BytesIO(data))
            self._names = list(self._calamine.sheet_names)
        elif engine == "openpyxl":
            from openpyxl import load_workbook

            self._openpyxl = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            self._names = list(self._openpyxl.sheetnames)
        else:
            raise ValueError(f"unknown XLSX engine {engine!r}")

    @property
    def sheet_names(self) -> list[str]:
        return list(self._names)

    def sheet_for(self, template: EntityTemplate) -> str | None:
        """The sheet named after the entity (its key or title, in any case and spacing)."""
        by_key = {header_key(name): name for name in self._names}
        return by_key.get(header_key(template.key)) or by_key.get(header_key(template.title))

    def rows(self, sheet: str) -> Iterator[Sequence[object]]:
        if self.engine == "calamine":
            return iter(self._calamine.get_sheet_by_name(sheet).iter_rows())
        return self._openpyxl[sheet].iter_rows(values_only=True)

    def table(
        self,
        template: EntityTemplate | str,
        *,
        profile: MappingProfile | None = None,
        sheet: str | None = None,
    ) -> TableReader:
        if isinstance(template, str):
            template = TEMPLATES[template]
        chosen = (profile.sheet if profile else None) or sheet or self.sheet_for(template) or self._names[0]
        if chosen not in self._names:
            raise ReadError(
                "sheet_missing", gettext_noop("The workbook has no sheet named %(sheet)s."), sheet=chosen
            )
        return TableReader(self.rows(chosen), template, profile, sheet=chosen)

    def close(self) -> None:
        if self.engine == "calamine":
            self._calamine.close()
        else:
            self._openpyxl.close()


def is_xlsx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def open_table(
    source: bytes | str | Path | IO[bytes],
    template: EntityTemplate | str,
    *,
    profile: MappingProfile | None = None,
    locale: str | None = None,
    sheet: str | None = None,
    xlsx_engine: str = "calamine",
) -> TableReader:
    """A reader over a CSV or XLSX file (told apart by content, not by name) for ``template``.

    ``locale`` (en, bn, vi, th) helps tell legacy code pages apart; a profile's encoding,
    delimiter, sheet and header row win over anything detected.
    """
    if isinstance(template, str):
        template = TEMPLATES[template]
    if isinstance(source, str | Path):
        data = Path(source).read_bytes()
    elif isinstance(source, bytes):
        data = source
    else:
        data = source.read()
    if is_xlsx(data):
        return XlsxWorkbook(data, engine=xlsx_engine).table(template, profile=profile, sheet=sheet)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(
            "file_kind", gettext_noop("Only CSV and XLSX files can be read; save the file as XLSX.")
        )
    try:
        decoded = decode_bytes(data, encoding=profile.encoding if profile else None, locale=locale)
    except EncodingUnknown as error:
        raise ReadError(
            "encoding_unknown",
            gettext_noop("The file's text encoding is not known: %(detail)s"),
            detail=str(error),
        ) from error
    rows_iter, _delimiter = csv_rows(decoded, profile.delimiter if profile else None)
    return TableReader(rows_iter, template, profile, encoding=decoded.encoding)


def detect_template(headers: Sequence[object]) -> str | None:
    """The entity whose template names the most of these headers (for a workbook of many sheets)."""
    best, best_score = None, 0
    for key, template in TEMPLATES.items():
        index = template.header_index()
        score = _header_score(headers, index)
        required = sum(
            1
            for cell in headers
            if cell is not None and index.get(header_key(str(cell))) in template.required_keys
        )
        score = score * 10 + required
        if score > best_score:
            best, best_score = key, score
    return best


@dataclass(frozen=True)
class SampledHeaders:
    """The header row of another system's export, for a person to map to fields once."""

    headers: list[str]
    encoding: str | None  # CSV only
    delimiter: str | None  # CSV only
    sheet: str | None = None  # XLSX only: the sheet read
    sheet_names: tuple[str, ...] = ()  # XLSX only: every sheet of the workbook


def sample_headers(
    data: bytes,
    *,
    locale: str | None = None,
    sheet: str | None = None,
    template: EntityTemplate | None = None,
) -> SampledHeaders:
    """The first row with text in it, of a CSV or of an XLSX file's sheet, as strings.

    In a workbook: the sheet named ``sheet`` (a ``ReadError`` naming the sheets when there is none),
    else the one named after ``template``'s entity, else the first."""
    if is_xlsx(data):
        book = XlsxWorkbook(data)
        try:
            names = book.sheet_names
            wanted = sheet.strip() if sheet else ""
            chosen = next((name for name in names if header_key(name) == header_key(wanted)), None)
            if wanted and chosen is None:
                raise ReadError(
                    "sheet_missing",
                    gettext_noop("The workbook has no sheet named %(sheet)s; its sheets: %(sheets)s."),
                    sheet=wanted,
                    sheets=", ".join(names),
                )
            chosen = (
                chosen or (book.sheet_for(template) if template else None) or (names[0] if names else None)
            )
            rows: Iterator[Sequence[object]] = book.rows(chosen) if chosen else iter(())
            first = next((row for row in rows if not _is_empty(row)), ())
        finally:
            book.close()
        return SampledHeaders([_header_text(cell) for cell in first], None, None, chosen, tuple(names))
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(
            "file_kind", gettext_noop("Only CSV and XLSX files can be read; save the file as XLSX.")
        )
    try:
        decoded = decode_bytes(data, locale=locale)
    except EncodingUnknown as error:
        raise ReadError(
            "encoding_unknown",
            gettext_noop("The file's text encoding is not known: %(detail)s"),
            detail=str(error),
        ) from error
    lines, delimiter = csv_rows(decoded)
    first = next((row for row in lines if not _is_empty(row)), [])
    return SampledHeaders([_header_text(cell) for cell in first], decoded.encoding, delimiter)


def _header_text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()
