"""One sheet as text (`Grid`) and a questionnaire as read (`Source`): what reading produces and detection reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, NamedTuple

Kind = Literal["xlsx", "xlsm", "csv"]


class CellRange(NamedTuple):
    """A merged range, 1-based and inclusive.

    >>> CellRange(5, 2, 7, 2).covers(6, 2), CellRange(5, 2, 7, 2).covers(8, 2)
    (True, False)
    """

    min_row: int
    min_col: int
    max_row: int
    max_col: int

    def covers(self, row: int, col: int) -> bool:
        return self.min_row <= row <= self.max_row and self.min_col <= col <= self.max_col


@dataclass(frozen=True)
class Grid:
    """One sheet as text: ``rows[r - 1][c - 1]`` is the cell at row r, column c ("" when empty).

    >>> grid = Grid("Sheet1", (("No", "Question"), ("1", "SSO?")))
    >>> grid.cell(2, 2), grid.cell(9, 9), grid.width
    ('SSO?', '', 2)
    """

    name: str
    rows: tuple[tuple[str, ...], ...]
    merged: tuple[CellRange, ...] = ()
    #: Cells holding a formula whose value was never saved (the text cannot be known without Excel).
    formulas: frozenset[tuple[int, int]] = frozenset()
    #: Columns with a drop-down list: the values it allows ("" entries dropped); () when the list cannot be read.
    choices: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    hidden: bool = False

    def cell(self, row: int, col: int) -> str:
        if 1 <= row <= len(self.rows):
            cells = self.rows[row - 1]
            if 1 <= col <= len(cells):
                return cells[col - 1]
        return ""

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def merge_of(self, row: int, col: int) -> CellRange | None:
        """The merged range a cell lies in, or None."""
        return next((m for m in self._merges_by_row.get(row, ()) if m.covers(row, col)), None)

    @cached_property
    def _merges_by_row(self) -> dict[int, list[CellRange]]:
        """The merged ranges over each row (a sheet may have thousands: a look-up per cell must not scan them)."""
        by_row: dict[int, list[CellRange]] = {}
        for merged in self.merged:
            for row in range(merged.min_row, merged.max_row + 1):
                by_row.setdefault(row, []).append(merged)
        return by_row


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file was written, so the filled copy is written the same way (but always as UTF-8).

    >>> CsvFormat("cp932", ",", "\\r\\n").encoding
    'cp932'
    """

    encoding: str
    delimiter: str
    line_terminator: str


@dataclass(frozen=True)
class Source:
    """A questionnaire as read: its bytes (the filled copy starts from them) and one grid per sheet.

    >>> source = Source("q.csv", "csv", b"Question\\nSSO?\\n", (Grid("q", (("Question",), ("SSO?",))),))
    >>> source.grids[0].cell(2, 1)
    'SSO?'
    """

    name: str
    kind: Kind
    data: bytes
    grids: tuple[Grid, ...]
    csv_format: CsvFormat | None = None
    #: What the filled copy of a workbook will not keep, as openpyxl warned while reading it ("Shapes and
    #: drawings will be lost", "Data Validation extension is not supported and will be removed").
    losses: tuple[str, ...] = ()


def cell_text(value: Any) -> str:
    """A cell's value as the text a person sees (numbers without a trailing .0, dates as ISO).

    >>> cell_text(3.0), cell_text(None), cell_text(dt.datetime(2025, 4, 1)), cell_text("  SSO?  ")
    ('3', '', '2025-04-01', 'SSO?')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()
