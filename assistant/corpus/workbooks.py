"""XLSX workbooks opened within limits: file size, unpacked size and merged cells checked before loading."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from assistant.corpus.limits import MAX_SHEET_CELLS, MAX_XLSX_UNPACKED_BYTES
from assistant.corpus.reading import read_document
from assistant.errors import CorpusError

_WORKSHEET = re.compile(r"xl/worksheets/[^/]+\.xml")
_UNREADABLE = "save it as .xlsx from Excel or LibreOffice"


def open_workbooks(path: Path) -> tuple[Any, Any]:
    """The workbook at ``path`` twice: with the values Excel saved, and with the formulas.

    openpyxl creates one object per cell of a merged range, so a 5 KB file merging A1:XFD1048576 would take
    hundreds of gigabytes: merged ranges and the unpacked size are checked on the raw file first.
    """
    import openpyxl

    data = read_document(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_parts(archive, path)
        values = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except CorpusError:
        raise
    except Exception as exc:  # openpyxl and zipfile raise a dozen types on a damaged file
        raise CorpusError(path, f"not a readable XLSX workbook ({type(exc).__name__}: {exc}); {_UNREADABLE}") from None
    return values, formulas


def _check_parts(archive: zipfile.ZipFile, path: Path) -> None:
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise CorpusError(
            path,
            f"the workbook unpacks to {unpacked:,} bytes; the limit is {MAX_XLSX_UNPACKED_BYTES:,}: "
            "remove images and unused sheets, or split the workbook",
        )
    for name in archive.namelist():
        if _WORKSHEET.fullmatch(name):
            merged = _merged_cells(archive, name)
            if merged > MAX_SHEET_CELLS:
                raise CorpusError(
                    path,
                    f"{name} merges {merged:,} cells; the limit is {MAX_SHEET_CELLS:,}: unmerge the ranges that "
                    "reach far beyond the table",
                )


def _merged_cells(archive: zipfile.ZipFile, name: str) -> int:
    """How many cells the merged ranges of one worksheet part cover (streamed: the part is never held whole)."""
    from openpyxl.utils.cell import range_boundaries

    total = 0
    with archive.open(name) as part:
        for _, element in ElementTree.iterparse(part):
            if element.tag.rpartition("}")[2] == "mergeCell":
                try:
                    min_col, min_row, max_col, max_row = range_boundaries(element.get("ref", ""))
                except (TypeError, ValueError):
                    continue  # openpyxl refuses it when it loads the workbook
                total += (max_col - min_col + 1) * (max_row - min_row + 1)
            element.clear()
    return total


def check_sheet_size(sheet: Any, path: Path) -> None:
    """CorpusError when a worksheet's used range spans more than `MAX_SHEET_CELLS` (a stray far-away cell)."""
    cells = sheet.max_row * sheet.max_column
    if cells > MAX_SHEET_CELLS:
        raise CorpusError(
            path,
            f"sheet {sheet.title!r} spans {sheet.dimensions} ({cells:,} cells); the limit is {MAX_SHEET_CELLS:,}: "
            "delete the cells far from the table (Ctrl+End in Excel goes to the last used one)",
        )
