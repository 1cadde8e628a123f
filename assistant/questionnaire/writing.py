"""The filled copy of a questionnaire: the customer's file with the answers added, written atomically."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
import tempfile
from collections.abc import Sequence
from copy import copy
from pathlib import Path
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter

from assistant.citations import citation_line
from assistant.errors import QuestionnaireError
from assistant.questionnaire.decoding import decode_csv
from assistant.questionnaire.detection import Questionnaire
from assistant.questionnaire.models import FilledRow, FillReport, SheetLayout
from assistant.questionnaire.reading import CSV_SUFFIXES

#: The columns added right of each question sheet (and of a CSV), in this order.
OUTPUT_HEADERS = (
    "Assistant: answer",
    "Assistant: status",
    "Assistant: Yes/No",
    "Assistant: confidence",
    "Assistant: level",
    "Assistant: source",
    "Assistant: row id",
    "Assistant: review",
    "Assistant: note",
)
OUTPUT_WIDTHS = (60, 12, 11, 12, 9, 50, 30, 10, 60)
STATUS_WORDS = {"answered": "answered", "conflict": "conflict", "no_answer": "no answer", "error": "error"}
#: Rows that need a person: the added cells are filled with this colour (the UI's highlight).
REVIEW_FILL = "FFF3B0"
SUMMARY_SHEET = "Assistant summary"

#: A cell beginning with one of these is read as a formula by Excel, LibreOffice or Sheets (CSV/formula
#: injection, OWASP); the full-width forms become formulas when typed through a Japanese input method.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)*$")
#: The process's umask (read once at import: os.umask can only be read by setting it), so a filled copy gets the
#: permissions any new file would, not mkstemp's owner-only 0600.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters an .xlsx cannot hold


def neutralise(text: str) -> str:
    """The text prefixed with ' when a spreadsheet would run it as a formula; numbers and a lone "-" are kept.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("@SUM(A1)"), neutralise("-5"), neutralise("-")
    ('\\'=HYPERLINK("http://x")', "'@SUM(A1)", '-5', '-')
    """
    if not text.startswith(FORMULA_STARTS) or text in ("-", "－") or _NUMBER.match(text):
        return text
    return "'" + text


def output_values(row: FilledRow) -> list[str | float]:
    """The added cells of a row, in OUTPUT_HEADERS order (texts neutralised)."""
    values: list[str | float] = [
        neutralise(row.answer),
        STATUS_WORDS[row.status],
        row.normalised,
        row.confidence if row.confidence is not None else "",
        row.level or "",
        neutralise("\n".join(citation_line(source) for source in row.sources)),
        neutralise("\n".join(source.row_id for source in row.sources)),
        "yes" if row.review else "",
        neutralise(row.note),
    ]
    return values


def default_output(path: Path) -> Path:
    """``<name>.filled.<suffix>`` next to the input.

    >>> default_output(Path("in/checks.xlsx"))
    PosixPath('in/checks.filled.xlsx')
    """
    return path.with_name(f"{path.stem}.filled{path.suffix}")


def check_output(questionnaire: Questionnaire, source_path: Path | None, out: Path) -> None:
    """QuestionnaireError when ``out`` is the input itself or a file type that cannot hold the filled copy."""
    kind = questionnaire.source.kind
    suffix = out.suffix.lower()
    if source_path is not None and (
        out.resolve() == source_path.resolve() or (out.exists() and os.path.samefile(out, source_path))
    ):
        raise QuestionnaireError(
            f"{out} is the questionnaire itself; the filled copy never overwrites it: give another --out"
        )
    expected = {"xlsx": (".xlsx",), "xlsm": (".xlsm",), "csv": CSV_SUFFIXES}[kind]
    if suffix not in expected:
        why = " (an .xlsx cannot hold the workbook's macros)" if kind == "xlsm" else ""
        raise QuestionnaireError(f"--out must end in {' or '.join(expected)} for this {kind} questionnaire{why}")
    if not out.parent.is_dir():
        raise QuestionnaireError(f"the folder {out.parent} does not exist; create it or choose another --out")


def filled_bytes(questionnaire: Questionnaire, report: FillReport) -> bytes:
    """The filled copy: an .xlsx/.xlsm workbook or a CSV (UTF-8 with a byte-order mark, for Excel)."""
    if questionnaire.source.kind == "csv":
        return _filled_csv(questionnaire, report)
    return _filled_workbook(questionnaire, report)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it: never a half-written file."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise QuestionnaireError(f"cannot write into {path.parent} ({exc.strerror}); choose another --out") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise QuestionnaireError(f"cannot write {path} ({exc.strerror}); choose another --out") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- CSV ---------------------------------------------------------------------------------------------------


def _filled_csv(questionnaire: Questionnaire, report: FillReport) -> bytes:
    source = questionnaire.source
    fmt = source.csv_format
    if fmt is None:
        raise QuestionnaireError(f"{source.name} was not read as CSV")
    text, _ = decode_csv(source.data, source.name)
    layout = report.sheets[0]
    width = column_index_from_string(layout.output_column) - 1 if layout.output_column else 0
    answer_col = column_index_from_string(layout.answer_column) - 1 if layout.answer_column else None
    by_row = {row.row: row for row in report.rows}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=fmt.delimiter, lineterminator=fmt.line_terminator)
    for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter), 1):
        cells = [neutralise(c) for c in cells]
        row = by_row.get(number)
        if width:
            cells = (cells + [""] * width)[: max(width, len(cells))]
        if number == layout.header_row:
            cells += OUTPUT_HEADERS
        elif row is not None:
            if row.answer_cell and answer_col is not None:
                cells[answer_col] = neutralise(row.answer_cell)
            cells += [str(v) for v in output_values(row)]
        writer.writerow(cells)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


# --- Excel -------------------------------------------------------------------------------------------------


def _cell(ws: Any, row: int, col: int, value: str | float) -> Any:
    cell = ws.cell(row=row, column=col)
    cell.value = _ILLEGAL.sub("", value) if isinstance(value, str) else value
    if isinstance(value, str):
        cell.data_type = "s"  # never "f": a neutralised text stays text
    return cell


def _filled_workbook(questionnaire: Questionnaire, report: FillReport) -> bytes:
    import openpyxl

    source = questionnaire.source
    book = openpyxl.load_workbook(io.BytesIO(source.data), keep_vba=source.kind == "xlsm", keep_links=True)
    rows: dict[str, list[FilledRow]] = {}
    for row in report.rows:
        rows.setdefault(row.sheet, []).append(row)
    for layout in report.sheets:
        if layout.sheet in rows and layout.output_column:
            first = column_index_from_string(layout.output_column)
            _fill_sheet(book[layout.sheet], layout, rows[layout.sheet], first)
    _summary(book, report)
    out = io.BytesIO()
    book.save(out)
    book.close()
    return out.getvalue()


def _fill_sheet(ws: Any, layout: SheetLayout, rows: Sequence[FilledRow], first: int) -> None:
    """The added columns (headers in the header row), their widths, and each row's cells; review rows coloured."""
    from openpyxl.styles import Alignment, Font, PatternFill

    wrap = Alignment(wrap_text=True, vertical="top")
    review = PatternFill("solid", fgColor=REVIEW_FILL)
    if layout.header_row:
        model = ws.cell(row=layout.header_row, column=column_index_from_string(layout.question_column or "A"))
        for offset, header in enumerate(OUTPUT_HEADERS):
            cell = _cell(ws, layout.header_row, first + offset, header)
            if model.has_style:
                cell.fill, cell.border = copy(model.fill), copy(model.border)
                cell.alignment = copy(model.alignment)
            font = copy(model.font) if model.has_style else Font()
            font.b = True
            cell.font = font
    for offset, width in enumerate(OUTPUT_WIDTHS):
        ws.column_dimensions[get_column_letter(first + offset)].width = width
    answer_col = column_index_from_string(layout.answer_column) if layout.answer_column else None
    # One style per added column and review flag, copied into each cell: assigning styles cell by cell through
    # openpyxl's descriptors costs more than the rest of the writing together on a 20,000-row sheet.
    styles: dict[tuple[int, bool], Any] = {}
    for offset in range(len(OUTPUT_HEADERS)):
        for flagged in (False, True):
            model = ws.cell(row=1, column=first + offset)
            saved = copy(model._style)
            model.alignment = wrap
            if offset == 3:
                model.number_format = "0.000"
            if flagged:
                model.fill = review
            styles[(offset, flagged)] = copy(model._style)
            model._style = saved
    for row in rows:
        for offset, value in enumerate(output_values(row)):
            if value == "" and not row.review:
                continue  # no empty cells: a 20,000-row sheet writes a third fewer cells
            cell = _cell(ws, row.row, first + offset, value)
            cell._style = copy(styles[(offset, row.review)])
        if row.answer_cell and answer_col is not None:
            _cell(ws, row.row, answer_col, neutralise(row.answer_cell))


def _summary(book: Any, report: FillReport) -> None:
    from openpyxl.styles import Font
    from openpyxl.worksheet.hyperlink import Hyperlink

    title = SUMMARY_SHEET
    while title in book.sheetnames:
        title = f"{title[:27]} {len(book.sheetnames)}"
    ws = book.create_sheet(title)
    bold = Font(b=True)
    _cell(ws, 1, 1, "Filled by the checksheet assistant").font = Font(b=True, size=14)
    facts = [
        ("Questionnaire", report.input),
        ("Vendor", report.vendor or "(all vendors)"),
        ("Language", report.language or "(any)"),
        ("Filled at (UTC)", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")),
    ]
    for r, (name, value) in enumerate(facts, start=2):
        _cell(ws, r, 1, name).font = bold
        _cell(ws, r, 2, neutralise(value))
    r = len(facts) + 3
    _cell(ws, r, 1, "Status").font = bold
    _cell(ws, r, 2, "Rows").font = bold
    for status, count in report.counts.items():
        r += 1
        _cell(ws, r, 1, STATUS_WORDS[status])
        _cell(ws, r, 2, count)
    r += 1
    _cell(ws, r, 1, "needs review").font = bold
    _cell(ws, r, 2, report.review).font = bold
    r += 2
    _cell(ws, r, 1, "Rows to review").font = Font(b=True, size=12)
    r += 1
    for col, header in enumerate(("Sheet", "Row", "No.", "Question", "Status", "Note"), start=1):
        _cell(ws, r, col, header).font = bold
    for row in report.to_review:
        r += 1
        _cell(ws, r, 1, neutralise(row.sheet))
        link = _cell(ws, r, 2, row.row)
        quoted = row.sheet.replace("'", "''")
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{quoted}'!A{row.row}")
        link.style = "Hyperlink"
        _cell(ws, r, 3, neutralise(row.item_no))
        _cell(ws, r, 4, neutralise(row.question))
        _cell(ws, r, 5, STATUS_WORDS[row.status])
        _cell(ws, r, 6, neutralise(row.note))
    for letter, width in zip("ABCDEF", (24, 16, 10, 60, 12, 80), strict=True):
        ws.column_dimensions[letter].width = width
