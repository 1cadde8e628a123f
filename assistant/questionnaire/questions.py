"""The question rows of a laid-out sheet: blank, section and repeated header rows left out, merged cells read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl.utils import column_index_from_string

from assistant.corpus.columns import normalize_header
from assistant.questionnaire.grids import Grid
from assistant.questionnaire.headers import looks_like_question
from assistant.questionnaire.models import SheetLayout

_DOTTED = re.compile(r"^\s*[A-Za-z]*\d+[.\-]\d+")
_PLAIN_NUMBER = re.compile(r"^\s*[A-Za-z]*\d+[.)]?\s*$")


@dataclass(frozen=True)
class Question:
    """A row to fill: where it is, what it asks, and whether its answer cell may be written.

    >>> Question("Security", 12, "Do you support SSO?", item_no="3.1", answer_cell_free=True).text
    'Do you support SSO?'
    """

    sheet: str
    row: int
    text: str
    item_no: str = ""
    category: str = ""
    #: What the questionnaire's own answer cell already holds (never overwritten).
    existing_answer: str = ""
    #: Whether the questionnaire has an answer column whose cell in this row is empty and not merged across rows.
    answer_cell_free: bool = False
    #: Why the question cannot be asked (a formula with no saved value), or None.
    error: str | None = None


def _index(letter: str | None) -> int | None:
    return column_index_from_string(letter) if letter else None


def _top_value(grid: Grid, row: int, col: int) -> str:
    """A cell's text, or the text of the merged range it lies in."""
    merged = grid.merge_of(row, col)
    return grid.cell(merged.min_row, merged.min_col) if merged else grid.cell(row, col)


def find_questions(grid: Grid, layout: SheetLayout) -> list[Question]:
    """The question rows of a sheet, in order: blank, section and repeated header rows are left out.

    A question cell merged over several rows is one question (its top row). A row is a section heading when
    its question cell is merged into the number or answer column, or when it has no number (or a bare "3"
    among "3.1"-style numbers), nothing else filled and no question form.
    """
    qcol = _index(layout.question_column)
    if qcol is None or layout.skipped:
        return []
    acol, ncol, ccol = (_index(x) for x in (layout.answer_column, layout.number_column, layout.category_column))
    start = (layout.header_row or 0) + 1
    numbers = [grid.cell(r, ncol) for r in range(start, len(grid.rows) + 1) if ncol and grid.cell(r, ncol)]
    dotted = sum(bool(_DOTTED.match(n)) for n in numbers) >= 0.5 * len(numbers) if numbers else False
    asked = sum(1 for r in range(start, len(grid.rows) + 1) if grid.cell(r, qcol))
    numbered = bool(numbers) and len(numbers) >= 0.6 * asked  # most questions carry a number
    header_text = normalize_header(layout.question_header) if layout.question_header else None
    questions: list[Question] = []
    section = ""
    category = ""
    for r in range(start, len(grid.rows) + 1):
        merged = grid.merge_of(r, qcol)
        if merged and (merged.min_row, merged.min_col) != (r, qcol):
            if merged.min_row == r and grid.cell(r, merged.min_col):
                section = grid.cell(r, merged.min_col)  # a heading merged across the table from the left
            continue  # or the lower rows of a merged question cell: the question is its top row
        text = grid.cell(r, qcol)
        if text and header_text and normalize_header(text) == header_text:
            continue  # the header repeated (a printed page's header)
        if ccol and (value := _top_value(grid, r, ccol)):
            category = value
        item_no = _top_value(grid, r, ncol) if ncol else ""
        if (r, qcol) in grid.formulas:
            questions.append(
                Question(
                    grid.name,
                    r,
                    "",
                    item_no,
                    category or section,
                    error="the question cell holds a formula whose value was never saved; open the file in Excel, "
                    "save it, and fill it again",
                )
            )
            continue
        others = [c for c, cell in enumerate(grid.rows[r - 1], 1) if cell and c != qcol]
        if not text:
            if len(others) == 1 and others[0] != acol:
                section = grid.cell(r, others[0])  # a heading in another column (e.g. "2. 物理的対策" in A)
            continue
        if _is_section(grid, r, qcol, text, item_no, others, {ccol, ncol}, dotted, numbered, acol, ncol):
            section = text
            continue
        answer_cell = _top_value(grid, r, acol) if acol else ""
        answer_merge = grid.merge_of(r, acol) if acol else None
        free = bool(acol) and not answer_cell and (answer_merge is None or answer_merge.min_row == answer_merge.max_row)
        questions.append(Question(grid.name, r, text, item_no, category or section, answer_cell, free))
    return questions


def _is_section(
    grid: Grid,
    row: int,
    qcol: int,
    text: str,
    item_no: str,
    others: Sequence[int],
    label_columns: set[int | None],
    dotted: bool,
    numbered: bool,
    acol: int | None,
    ncol: int | None,
) -> bool:
    merged = grid.merge_of(row, qcol)
    if merged and any(c is not None and merged.min_col <= c <= merged.max_col for c in (acol, ncol)):
        return True
    if looks_like_question(text) or len(text) > 80 or any(c not in label_columns for c in others):
        return False
    if numbered and not item_no:
        return True
    return dotted and bool(_PLAIN_NUMBER.match(item_no))
