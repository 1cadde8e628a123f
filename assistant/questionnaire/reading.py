"""Grids of cell texts from a customer's questionnaire: .xlsx/.xlsm workbooks and CSV files in any common encoding."""

from __future__ import annotations

import csv
import io
import logging
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from assistant.errors import QuestionnaireError
from assistant.questionnaire.decoding import decode_csv
from assistant.questionnaire.grids import CellRange, CsvFormat, Grid, Kind, Source, cell_text

logger = logging.getLogger(__name__)


#: The first bytes of an OLE compound file: a legacy .xls, or an .xlsx encrypted with a password.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The stream an encrypted OOXML file keeps its key data in (stream names are UTF-16 in the OLE directory).
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
MAX_FILE_BYTES = 100 * 1024 * 1024
#: What the parts of an .xlsx may add up to once unzipped (a zip bomb is refused before openpyxl reads it).
MAX_UNZIPPED_BYTES = 2 * 1024 * 1024 * 1024
#: Rows with content per sheet; a larger questionnaire is split by the person who sends it.
MAX_ROWS = 100_000
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def read_source(data: bytes, name: str) -> Source:
    """Read a questionnaire from its bytes; ``name`` (the file name) tells CSV from Excel.

    Raises QuestionnaireError saying how to fix a file that cannot be read: encrypted, legacy .xls, corrupt,
    too large, not a spreadsheet, or a CSV in an unknown encoding.
    """
    suffix = Path(name).suffix.lower()
    if not data.strip():
        raise QuestionnaireError(f"{name} is empty; send the questionnaire as .xlsx or .csv with its questions")
    if len(data) > MAX_FILE_BYTES:
        raise QuestionnaireError(
            f"{name} is {len(data) / 2**20:.0f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB: split it into parts"
        )
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTION_INFO in data:
            raise QuestionnaireError(
                f"{name} is protected with a password; open it in Excel, remove the password "
                "(File > Info > Protect Workbook) and save it as .xlsx"
            )
        raise QuestionnaireError(
            f"{name} is a legacy Excel 97-2003 workbook (.xls); open it in Excel or LibreOffice and save it as "
            ".xlsx (Excel Workbook), then fill that file"
        )
    if suffix == ".xls":
        raise QuestionnaireError(
            f"{name} is not an Excel 97-2003 workbook despite its name; save it as .xlsx or .csv and fill that file"
        )
    if suffix in CSV_SUFFIXES:
        return _read_csv(data, name, suffix)
    if zipfile.is_zipfile(io.BytesIO(data)):
        return _read_workbook(data, name, suffix)
    if suffix in (".xlsx", ".xlsm"):
        raise QuestionnaireError(
            f"{name} is not a valid {suffix} file (it is not a zip archive: damaged or cut short); "
            "open it in Excel and save it again, or ask the sender for a new copy"
        )
    raise QuestionnaireError(f"{name}: unsupported file type {suffix or '(none)'}; use .xlsx, .xlsm or .csv")


def read_file(path: Path) -> Source:
    """`read_source` on a file, with a clear error when it cannot be opened."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QuestionnaireError(f"cannot read {path}: {exc.strerror}; check the path") from None
    return read_source(data, path.name)


# --- CSV ---------------------------------------------------------------------------------------------------


def _read_csv(data: bytes, name: str, suffix: str) -> Source:
    text, encoding = decode_csv(data, name)
    if "\x00" in text:
        raise QuestionnaireError(f"{name} holds binary data, not text; save the questionnaire as .csv or .xlsx")
    terminator = "\r\n" if "\r\n" in text[:65536] else "\n"
    delimiter = "\t" if suffix == ".tsv" else _sniff_delimiter(text[:65536])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[str, ...]] = []
    try:
        for cells in reader:
            rows.append(tuple(c.strip() for c in _trimmed(cells)))
            if len(rows) > MAX_ROWS:
                raise QuestionnaireError(f"{name} has more than {MAX_ROWS:,} rows; split it into parts")
    except csv.Error as exc:
        raise QuestionnaireError(
            f"{name}: malformed CSV at line {reader.line_num} ({exc}); check the quotes on that line"
        ) from None
    grid = Grid(Path(name).stem or "CSV", tuple(rows))
    return Source(name, "csv", data, (grid,), CsvFormat(encoding, delimiter, terminator))


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _trimmed(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


# --- Excel -------------------------------------------------------------------------------------------------


def _read_workbook(data: bytes, name: str, suffix: str) -> Source:
    import openpyxl

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        unzipped = sum(info.file_size for info in archive.infolist())
    if "xl/workbook.xml" not in names:
        raise QuestionnaireError(
            f"{name} is a zip archive but not an Excel workbook (no xl/workbook.xml); "
            "open it in its program and save it as .xlsx"
        )
    if unzipped > MAX_UNZIPPED_BYTES:
        raise QuestionnaireError(f"{name} unpacks to {unzipped / 2**30:.1f} GB; split it into smaller workbooks")
    kind: Kind = "xlsm" if suffix == ".xlsm" or "xl/vbaProject.bin" in names else "xlsx"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            book = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # any failure to parse the parts means a damaged file; openpyxl raises many types
        raise QuestionnaireError(
            f"{name} cannot be read as a workbook ({type(exc).__name__}: {exc}); it may be damaged: open it in "
            "Excel and save it again, or ask the sender for a new copy"
        ) from None
    grids: list[Grid] = []
    cached: dict[str, dict[tuple[int, int], str | None]] = {}
    sheets = [ws for ws in book.worksheets if hasattr(ws, "merged_cells")]
    formula_cells = {ws.title: _formula_cells(ws) for ws in sheets}
    if any(formula_cells.values()):
        cached = _cached_values(data, formula_cells)
    for ws in sheets:
        grids.append(_grid(ws, book, cached.get(ws.title, {}), name))
    book.close()
    losses = tuple(sorted({str(w.message) for w in caught}))
    for loss in losses:
        logger.warning("%s: %s", name, loss)
    return Source(name, kind, data, tuple(grids), losses=losses)


def _formula_cells(ws: Any) -> set[tuple[int, int]]:
    return {(c.row, c.column) for row in ws.iter_rows() for c in row if c.data_type == "f"}


def _cached_values(data: bytes, formula_cells: Mapping[str, set[tuple[int, int]]]) -> dict[str, dict[Any, Any]]:
    """The values Excel saved for formula cells (a second, streaming read of the file)."""
    import openpyxl

    values: dict[str, dict[tuple[int, int], str | None]] = {}
    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=True)
    try:
        for title, cells in formula_cells.items():
            if not cells:
                continue
            wanted = values.setdefault(title, {})
            last = max(r for r, _ in cells)
            for row in book[title].iter_rows(min_row=1, max_row=last):
                for c in row:
                    position = (getattr(c, "row", 0), getattr(c, "column", 0))
                    if position in cells:
                        wanted[position] = None if c.value is None else cell_text(c.value)
    finally:
        book.close()
    return values


def _grid(ws: Any, book: Any, cached: Mapping[tuple[int, int], str | None], name: str) -> Grid:
    rows: list[tuple[str, ...]] = []
    pending_empty = 0
    formulas: set[tuple[int, int]] = set()
    for row in ws.iter_rows():
        cells: list[str] = []
        for c in row:
            if c.data_type == "f":
                value = cached.get((c.row, c.column))
                if value is None:
                    formulas.add((c.row, c.column))
                cells.append(value or "")
            else:
                cells.append(cell_text(c.value))
        cells = _trimmed(cells)
        if not cells:
            pending_empty += 1
            continue
        rows.extend([()] * pending_empty)
        pending_empty = 0
        rows.append(tuple(cells))
        if len(rows) > MAX_ROWS:
            raise QuestionnaireError(f"{name}: sheet {ws.title!r} has more than {MAX_ROWS:,} rows; split it into parts")
    merged = tuple(CellRange(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges)
    return Grid(
        name=ws.title,
        rows=tuple(rows),
        merged=merged,
        formulas=frozenset(formulas),
        choices=_choices(ws, book),
        hidden=ws.sheet_state != "visible",
    )


_RANGE = re.compile(
    r"^=?(?:(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^!'\"]+))!)?(?P<cells>\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)$"
)


def _choices(ws: Any, book: Any) -> dict[int, tuple[str, ...]]:
    """Columns restricted to a drop-down list, and the list's values where they can be read."""
    choices: dict[int, tuple[str, ...]] = {}
    for validation in ws.data_validations.dataValidation:
        if validation.type != "list" or not validation.formula1:
            continue
        values = list_values(str(validation.formula1), ws, book)
        for cells in validation.sqref.ranges:
            if cells.max_row > cells.min_row or cells.max_row >= 2:
                for col in range(cells.min_col, cells.max_col + 1):
                    choices.setdefault(col, values)
    return choices


def list_values(formula: str, ws: Any, book: Any) -> tuple[str, ...]:
    """The values a list validation allows: a quoted list, or a range of cells; () when it cannot be read."""
    formula = formula.strip()
    if formula.startswith('"') and formula.endswith('"'):
        return tuple(v.strip() for v in formula[1:-1].split(",") if v.strip())
    found = _RANGE.match(formula)
    if found is None:
        return ()  # a defined name or a formula: unknown values
    title = found["quoted"].replace("''", "'") if found["quoted"] else found["plain"]
    sheet = book[title] if title and title in book.sheetnames else ws if not title else None
    if sheet is None or not hasattr(sheet, "merged_cells"):
        return ()
    cells = sheet[found["cells"].replace("$", "")]
    rows = cells if isinstance(cells, tuple) else ((cells,),)
    flat: Iterable[Any] = (c for row in rows for c in (row if isinstance(row, tuple) else (row,)))
    return tuple(text for c in flat if (text := cell_text(c.value)))
