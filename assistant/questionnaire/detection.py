"""Sheet layouts: each sheet's header row and question, answer, number and category columns, or why it is skipped."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from openpyxl.utils import column_index_from_string, get_column_letter

from assistant.corpus.columns import normalize_header
from assistant.errors import QuestionnaireError
from assistant.questionnaire.grids import Grid, Source
from assistant.questionnaire.headers import NON_QUESTION_SHEETS, header_role, looks_like_question
from assistant.questionnaire.models import SheetLayout
from assistant.questionnaire.questions import Question, find_questions

#: How far down a sheet the header row is looked for.
HEADER_SEARCH_ROWS = 30

_LEADING_NUMBER = re.compile(r"^[\d\s._\-()]+")


@dataclass(frozen=True)
class Questionnaire:
    """A questionnaire as read and understood: the source, each sheet's layout, and the questions in order.

    >>> grid = Grid("Q", (("No", "Question", "Answer"), ("1", "Do you support SSO?", ""), ("2", "MFA?", "Yes")))
    >>> q = detect_questionnaire(Source("q.csv", "csv", b"", (grid,)))
    >>> [(x.row, x.item_no, x.text, x.answer_cell_free) for x in q.questions]
    [(2, '1', 'Do you support SSO?', True), (3, '2', 'MFA?', False)]
    >>> q.layouts[0].question_column, q.layouts[0].answer_column, q.layouts[0].output_column
    ('B', 'C', 'D')
    """

    source: Source
    layouts: tuple[SheetLayout, ...]
    questions: tuple[Question, ...]

    @property
    def sure(self) -> bool:
        """Whether every filled sheet's question column was named by its header (and there are questions)."""
        return bool(self.questions) and all(layout.sure for layout in self.layouts if not layout.skipped)

    def layout(self, sheet: str) -> SheetLayout:
        return next(layout for layout in self.layouts if layout.sheet == sheet)


def _column(index: int) -> str:
    letter: str = get_column_letter(index)
    return letter


def _body_lengths(grid: Grid, start: int, col: int) -> list[int]:
    return [len(grid.cell(r, col)) for r in range(start, len(grid.rows) + 1) if grid.cell(r, col)]


def _mean_length(grid: Grid, start: int, col: int) -> float:
    lengths = _body_lengths(grid, start, col)
    return statistics.fmean(lengths) if lengths else 0.0


@dataclass(frozen=True)
class _Header:
    row: int
    roles: dict[int, str]


def find_header(grid: Grid) -> _Header | None:
    """The header row: among the first rows, the one naming a question column with the most known words."""
    best: _Header | None = None
    best_score = 0
    for r in range(1, min(len(grid.rows), HEADER_SEARCH_ROWS) + 1):
        roles = {c: role for c, cell in enumerate(grid.rows[r - 1], 1) if cell and (role := header_role(cell))}
        if not {"question", "item"} & set(roles.values()):
            continue
        score = sum(3 if role == "question" else 1 for role in roles.values())
        if score > best_score:
            best, best_score = _Header(r, roles), score
    return best


def _guess_header_row(grid: Grid) -> int | None:
    """Without header words: the first row of two or more short cells with rows under it."""
    for r in range(1, min(len(grid.rows), HEADER_SEARCH_ROWS) + 1):
        cells = [c for c in grid.rows[r - 1] if c]
        if len(cells) >= 2 and all(len(c) <= 40 for c in cells) and r < len(grid.rows):
            return r
    return None


def resolve_column(grid: Grid, wanted: str, header_row: int | None) -> int:
    """A column given as a letter ("C"), a number ("3") or a header text ("質問"); QuestionnaireError otherwise."""
    text = wanted.strip()
    if text.isdigit() and 1 <= int(text) <= 16384:
        return int(text)
    if re.fullmatch(r"[A-Za-z]{1,3}", text):
        try:
            index: int = column_index_from_string(text.upper())
            return index
        except ValueError:
            pass
    rows = [header_row] if header_row else []
    rows += [r for r in range(1, min(len(grid.rows), HEADER_SEARCH_ROWS) + 1) if r != header_row]
    for r in rows:
        for c, cell in enumerate(grid.rows[r - 1], 1):
            if cell and normalize_header(cell) == normalize_header(text):
                return c
    header = grid.rows[header_row - 1] if header_row else ()
    named = ", ".join(f"{_column(c)} {cell!r}" for c, cell in enumerate(header, 1) if cell) or "none named"
    raise QuestionnaireError(
        f"sheet {grid.name!r} has no column {wanted!r}; give a letter (C), a number (3) or a header text "
        f"(columns: {named})"
    )


def _pick_question_column(grid: Grid, header: _Header) -> tuple[int, bool, str] | None:
    """The question column named by the header, whether that is sure, and how it was chosen."""
    strong = [c for c, role in header.roles.items() if role == "question"]
    weak = [c for c, role in header.roles.items() if role == "item"]
    body = header.row + 1
    for group in (strong, weak):
        candidates = [c for c in group if _body_lengths(grid, body, c)]
        if not candidates:
            continue
        ranked = sorted(candidates, key=lambda c: -_mean_length(grid, body, c))
        col = ranked[0]
        name = grid.cell(header.row, col)
        if len(ranked) == 1:
            return col, True, f"header {name!r} in row {header.row}"
        second = _mean_length(grid, body, ranked[1])
        sure = _mean_length(grid, body, col) >= 1.5 * second
        others = ", ".join(repr(grid.cell(header.row, c)) for c in ranked[1:])
        return col, sure, f"header {name!r} in row {header.row}, longer texts than {others}"
    return None


def _longest_text_column(grid: Grid, start: int) -> int | None:
    """Without a header word: the column of longest text, if its cells read as questions."""
    best, best_mean = None, 0.0
    for col in range(1, grid.width + 1):
        lengths = _body_lengths(grid, start, col)
        if len(lengths) >= 2 and (mean := statistics.fmean(lengths)) > best_mean:
            best, best_mean = col, mean
    if best is None:
        return None
    cells = [grid.cell(r, best) for r in range(start, len(grid.rows) + 1) if grid.cell(r, best)]
    asks = sum(looks_like_question(c) for c in cells)
    return best if asks >= 2 and asks >= 0.3 * len(cells) else None


def _non_question_sheet(name: str) -> bool:
    stripped = _LEADING_NUMBER.sub("", normalize_header(name))
    return stripped.startswith(NON_QUESTION_SHEETS)


def detect_layout(grid: Grid, *, question_column: str | None = None, chosen: bool = False) -> SheetLayout:
    """How a sheet is laid out: its header row and columns, or why it is skipped.

    ``question_column`` overrides the detected column; ``chosen`` (the user picked this sheet) reads a sheet whose
    name says cover or instructions anyway.
    """
    layout = SheetLayout(sheet=grid.name)
    if not any(grid.rows):
        return layout.model_copy(update={"skipped": "empty sheet"})
    if grid.hidden and not chosen:
        return layout.model_copy(update={"skipped": "hidden sheet"})
    if _non_question_sheet(grid.name) and not chosen:
        return layout.model_copy(update={"skipped": "cover, instructions or example sheet (by its name)"})
    header = find_header(grid)
    header_row = header.row if header else _guess_header_row(grid)
    picked: tuple[int, bool, str] | None
    if question_column:
        col = resolve_column(grid, question_column, header_row)
        picked = col, True, f"column {_column(col)} as chosen"
    elif header is not None and (picked := _pick_question_column(grid, header)) is not None:
        pass
    else:
        col_or_none = _longest_text_column(grid, (header_row or 0) + 1)
        if col_or_none is None:
            return layout.model_copy(
                update={
                    "skipped": "no question column found: no header such as Question, 質問 or 질문, and no column "
                    "of questions; choose the sheet and its question column",
                    "sure": False,
                }
            )
        picked = col_or_none, False, "no header word; the column of longest text"
    col, sure, how = picked
    roles = header.roles if header and header.row == header_row else {}
    answer = _answer_column(roles, col)
    number = next((c for c, role in sorted(roles.items()) if role == "number" and c != col), None)
    category = next((c for c, role in sorted(roles.items()) if role == "category" and c != col), None)
    return layout.model_copy(
        update={
            "header_row": header_row,
            "question_column": _column(col),
            "question_header": grid.cell(header_row, col) if header_row else "",
            "answer_column": _column(answer) if answer else None,
            "answer_header": grid.cell(header_row, answer) if header_row and answer else "",
            "answer_choices": list(grid.choices.get(answer, ())) if answer else [],
            "number_column": _column(number) if number else None,
            "category_column": _column(category) if category else None,
            "sure": sure,
            "how": how,
            # Right of every cell and merged range of the sheet, so nothing of the questionnaire is overwritten.
            "output_column": _column(max([grid.width, *(m.max_col for m in grid.merged)]) + 1),
        }
    )


def _answer_column(roles: dict[int, str], question: int) -> int | None:
    """The questionnaire's own answer column: the first named so right of the question, else the first one."""
    answers = sorted(c for c, role in roles.items() if role == "answer" and c != question)
    right = [c for c in answers if c > question]
    chosen = right or answers
    return chosen[0] if chosen else None


def detect_questionnaire(
    source: Source, *, sheet: str | None = None, question_column: str | None = None
) -> Questionnaire:
    """Lay out every sheet and list the questions; ``sheet`` fills only that sheet, ``question_column`` overrides
    the detected column (a letter, a number or a header text)."""
    names = [grid.name for grid in source.grids]
    if sheet is not None and sheet not in names:
        raise QuestionnaireError(f"{source.name} has no sheet {sheet!r}; its sheets: {', '.join(map(repr, names))}")
    layouts: list[SheetLayout] = []
    questions: list[Question] = []
    for grid in source.grids:
        if sheet is not None and grid.name != sheet:
            layouts.append(SheetLayout(sheet=grid.name, skipped="not the chosen sheet"))
            continue
        layout = detect_layout(grid, question_column=question_column, chosen=sheet is not None)
        found = find_questions(grid, layout)
        if not layout.skipped and not found:
            layout = layout.model_copy(update={"skipped": "no question rows under the header"})
        layout = layout.model_copy(update={"questions": len(found)})
        layouts.append(layout)
        questions += found
    return Questionnaire(source, tuple(layouts), tuple(questions))
