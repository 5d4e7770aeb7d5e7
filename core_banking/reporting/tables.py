"""A report laid out as one table: what the screen, the PDF, the spreadsheet and the CSV all render.

Cells hold raw values (minor units, dates, ids, text); each output formats them its own way: the
screen and the PDF for the reader's language, the spreadsheet as numbers and dates, the CSV as plain
machine-readable values.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class CellKind(enum.StrEnum):
    TEXT = "text"
    MONEY = "money"  # integer minor units
    DATE = "date"
    NUMBER = "number"  # a count or an entry number


class RowStyle(enum.StrEnum):
    DETAIL = "detail"
    SECTION = "section"  # a heading row: its first cell spans the table
    SUBTOTAL = "subtotal"
    TOTAL = "total"


Cell = str | int | dt.date | None


@dataclass(frozen=True)
class Column:
    label: str
    kind: CellKind = CellKind.TEXT
    # False: on screen and paper the value shows on a group's first row only (an entry's date and
    # memo above its lines); the spreadsheet and the CSV repeat it on every row.
    repeat: bool = True


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    style: RowStyle = RowStyle.DETAIL
    group_start: bool = True


@dataclass
class ReportTable:
    columns: tuple[Column, ...]
    rows: list[Row] = field(default_factory=list)

    def add(self, *cells: Cell, style: RowStyle = RowStyle.DETAIL, group_start: bool = True) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"a row needs {len(self.columns)} cells, got {len(cells)}")
        self.rows.append(Row(tuple(cells), style, group_start))

    def section(self, title: str) -> None:
        self.add(title, *([None] * (len(self.columns) - 1)), style=RowStyle.SECTION)
