"""Rows from CSV and XLSX checksheets: header row detected, merged cells filled, values not formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.corpus.columns import header_score
from assistant.corpus.drafts import ParsedDocument
from assistant.corpus.language import detect_language
from assistant.corpus.models import DocumentMeta
from assistant.corpus.sheets import SheetLine, Table, parse_tables
from assistant.corpus.workbooks import check_sheet_size, open_workbooks
from assistant.errors import CorpusError

#: How far down a sheet the header row is looked for.
HEADER_SEARCH_ROWS = 30


def find_header(rows: Sequence[Sequence[str]]) -> int | None:
    """Index of the header row: the first with two known column names, else the first with two cells.

    >>> find_header([["Acme security sheet"], [], ["No", "Question", "Answer"], ["1", "SSO?", "Yes"]])
    2
    """
    candidates = list(rows[:HEADER_SEARCH_ROWS])
    for index, row in enumerate(candidates):
        if header_score(list(row)) >= 2:
            return index
    for index, row in enumerate(candidates):
        if sum(1 for c in row if c.strip()) >= 2:
            return index
    return None


def _table_language(header: Sequence[str], rows: Sequence[Sequence[str]], meta: DocumentMeta) -> str:
    if len(meta.languages) == 1:
        return meta.languages[0]
    sample = " ".join([*header, *(c for r in rows[:20] for c in r)])
    return detect_language(sample, meta.languages) or meta.languages[0]


def _build_table(
    records: list[tuple[int, int, list[str], str]],
    meta: DocumentMeta,
    path: Path,
    parsed: ParsedDocument,
    sheet: str | None = None,
) -> Table | None:
    """A table from (first line, last line, cells, text) records; lines above the header are titles."""
    cells_only = [cells for _, _, cells, _ in records]
    header_index = find_header(cells_only)
    where = f"sheet {sheet!r}: " if sheet else ""
    if header_index is None:
        return None
    header_start, _, header, _ = records[header_index]
    width = len(header)
    while width > 0 and not header[width - 1].strip():
        width -= 1
    for start, end, _, _ in records[:header_index]:
        for number in range(start, end + 1):
            parsed.mark(number, "title", sheet)
    parsed.mark(header_start, "table_header", sheet)
    body = records[header_index + 1 :]
    if not any(any(c.strip() for c in cells) for _, _, cells, _ in body):
        raise CorpusError(
            path, f"{where}the header has no rows under it; add the rows or remove the file", header_start
        )
    lines = []
    for start, end, cells, text in body:
        if any(c.strip() for c in cells[width:]):
            used = max(i for i, c in enumerate(cells) if c.strip()) + 1
            raise CorpusError(
                path,
                f"{where}this row has {used} cells but the header (line {header_start}) has {width} columns; "
                "quote cells that contain the delimiter, or name the extra column",
                start,
            )
        lines.append(SheetLine(start, end, cells[:width], text))
    body_cells = [cells for _, _, cells, _ in body]
    return Table(
        header_line=header_start,
        header=[c.strip() for c in header[:width]],
        language=_table_language(header, body_cells, meta),
        lines=lines,
        sheet=sheet,
    )


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def parse_csv_checksheet(lines: Sequence[str], meta: DocumentMeta, path: str) -> ParsedDocument:
    """Rows of a CSV checksheet (comma, semicolon or tab separated; quoted cells may span lines)."""
    text = "\n".join(lines)
    reader = csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(text[:8192]))
    records: list[tuple[int, int, list[str], str]] = []
    end = 0
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num
            records.append((start, end, cells, "\n".join(lines[start - 1 : end])))
    except csv.Error as exc:
        raise CorpusError(path, f"malformed CSV: {exc}", reader.line_num) from None
    parsed = ParsedDocument()
    table = _build_table(records, meta, Path(path), parsed)
    if table is None:
        raise CorpusError(path, "no header row found (a row with at least two column names)")
    parse_tables([table], parsed, answer_markers=meta.answer_markers)
    return parsed


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_xlsx_checksheet(path: Path, meta: DocumentMeta) -> ParsedDocument:
    """Rows of every worksheet with a header; line numbers are sheet row numbers."""
    values_book, formula_book = open_workbooks(path)
    parsed = ParsedDocument()
    tables: list[Table] = []
    for sheet in values_book.worksheets:
        if sheet.sheet_state != "visible":
            continue
        formulas = formula_book[sheet.title]
        grid = _sheet_grid(sheet, formulas, path)
        records = [(n, n, cells, "\t".join(cells).rstrip("\t")) for n, cells in grid]
        if not any(any(c for c in cells) for _, cells in grid):
            continue
        table = _build_table(records, meta, path, parsed, sheet=sheet.title)
        if table is not None:
            tables.append(table)
    if not tables:
        raise CorpusError(path, "no worksheet has a header row (a row with at least two column names)")
    parse_tables(tables, parsed, answer_markers=meta.answer_markers)
    return parsed


def sheet_lines(path: Path, sheet: str) -> list[str]:
    """The rows of one worksheet as the parser reads them (cells joined by tabs), for source views."""
    values_book, formula_book = open_workbooks(path)
    if sheet not in values_book.sheetnames:
        raise CorpusError(path, f"no worksheet {sheet!r}; the workbook changed since the index was built")
    grid = _sheet_grid(values_book[sheet], formula_book[sheet], path)
    return ["\t".join(cells).rstrip("\t") for _, cells in grid]


def _sheet_grid(sheet: Any, formulas: Any, path: Path) -> list[tuple[int, list[str]]]:
    """Cell texts row by row; a vertically merged cell's value is repeated in every row it spans."""
    check_sheet_size(sheet, path)
    max_row, max_col = sheet.max_row, sheet.max_column
    values: dict[tuple[int, int], str] = {}
    for row in sheet.iter_rows(min_row=1, max_row=max_row, max_col=max_col):
        for cell in row:
            text = _cell_text(cell.value)
            if cell.value is None:
                raw = formulas.cell(row=cell.row, column=cell.column).value
                if isinstance(raw, str) and raw.startswith("="):
                    raise CorpusError(
                        path,
                        f"sheet {sheet.title!r} cell {cell.coordinate} holds the formula {raw!r} with no saved value; "
                        "open and save the workbook in Excel or LibreOffice (or paste values) so results are stored",
                        cell.row,
                    )
            if text:
                values[(cell.row, cell.column)] = text
    for merged in sheet.merged_cells.ranges:
        top = values.get((merged.min_row, merged.min_col), "")
        for r in range(merged.min_row + 1, merged.max_row + 1):
            if top:
                values[(r, merged.min_col)] = top
    return [(r, [values.get((r, c), "") for c in range(1, max_col + 1)]) for r in range(1, max_row + 1)]
