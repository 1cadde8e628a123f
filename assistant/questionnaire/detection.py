"""Where the questions are: per sheet the header row, the question, answer, number and category columns, and which
sheets (cover, instructions, examples, empty) and rows (sections, headings, repeated headers) hold none."""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl.utils import column_index_from_string, get_column_letter

from assistant.corpus.columns import normalize_header
from assistant.errors import QuestionnaireError
from assistant.questionnaire.models import SheetLayout
from assistant.questionnaire.reading import Grid, Source

#: How far down a sheet the header row is looked for.
HEADER_SEARCH_ROWS = 30

#: Header words, compared after NFKC, lowercasing and removing spaces (`normalize_header`), whole or as a part
#: of a header such as "質問事項 (Question)". A "strong" question word names the question column outright; a
#: "weak" one (項目, 内容, Item) may also name a short label column, so the longer text wins between two of them.
QUESTION_STRONG = frozenset(
    {
        "question", "questions", "questiontext", "controlquestion", "assessmentquestion", "質問", "質問事項",
        "質問内容", "質問項目", "確認事項", "確認内容", "確認項目", "チェック項目", "設問", "질문", "질문내용",
        "질문사항", "확인사항", "확인내용", "점검항목", "점검내용",
    }
)  # fmt: skip
QUESTION_WEAK = frozenset(
    {
        "項目", "内容", "항목", "내용", "item", "items", "description", "requirement", "requirements", "control",
        "要求事項", "評価項目", "要件", "チェックポイント", "checkpoint", "checkitem", "평가항목", "요구사항",
    }
)  # fmt: skip
ANSWER_WORDS = frozenset(
    {
        "answer", "answers", "response", "responses", "vendorresponse", "vendoranswer", "reply", "回答", "回答欄",
        "ご回答", "回答内容", "貴社回答", "回答結果", "ベンダー回答", "답변", "응답", "회신", "답변내용",
        "yes/no", "y/n", "はい/いいえ", "対応状況", "対応有無", "実施状況", "実施有無", "준수여부", "적용여부",
        "이행여부", "○/×", "〇/×", "有/無", "예/아니오", "예/아니요",
    }
)  # fmt: skip
NUMBER_WORDS = frozenset(
    {"no", "no.", "#", "番号", "項番", "通番", "번호", "id", "ref", "ref.", "itemno", "questionno", "質問番号",
     "管理番号", "순번", "項目番号"}
)  # fmt: skip
CATEGORY_WORDS = frozenset(
    {"category", "section", "domain", "分類", "区分", "大分類", "中分類", "カテゴリ", "カテゴリー", "分野",
     "領域", "분류", "구분", "영역", "대분류", "중분류", "카테고리"}
)  # fmt: skip
#: Sheets whose name starts with one of these hold no questions to fill (unless the user picks them).
NON_QUESTION_SHEETS = (
    "表紙", "cover", "instruction", "記入要領", "記入方法", "記入例", "回答例", "説明", "注意事項", "はじめに",
    "readme", "目次", "改訂履歴", "変更履歴", "revision", "history", "changelog", "example", "sample", "안내",
    "작성방법", "작성요령", "작성예시", "표지", "개정이력", "guide", "ガイド", "使い方", "list", "リスト", "master",
)  # fmt: skip

_PARTS = re.compile(r"[()\[\]【】（）「」/・|,、\n:：]+")
_QUESTION_END = re.compile(r"([?？]|か[。.]?|까요?[?.]?|니까[?.]?|ますか|ですか)\s*$")
_QUESTION_START = re.compile(
    r"^(do|does|did|is|are|was|were|can|could|will|would|have|has|how|what|when|where|which|who|why|please|"
    r"describe|explain|provide|list)\b",
    re.IGNORECASE,
)
_DOTTED = re.compile(r"^\s*[A-Za-z]*\d+[.\-]\d+")
_PLAIN_NUMBER = re.compile(r"^\s*[A-Za-z]*\d+[.)]?\s*$")
_LEADING_NUMBER = re.compile(r"^[\d\s._\-()]+")


@dataclass(frozen=True)
class Question:
    """A row to fill: where it is, what it asks, and whether its answer cell may be written."""

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


def header_parts(cell: str) -> list[str]:
    """A header cell normalised, then its parts.

    >>> header_parts("質問事項（Question）")
    ['質問事項(question)', '質問事項', 'question']
    """
    whole = normalize_header(cell)
    return [whole, *(p for p in _PARTS.split(whole) if p and p != whole)]


def header_role(cell: str) -> str | None:
    """The role a header cell names: "question" (strong), "item" (weak question), "answer", "number", "category"."""
    for part in header_parts(cell):
        for role, words in _ROLE_WORDS:
            if part in words:
                return role
    return None


_ROLE_WORDS = (
    ("question", QUESTION_STRONG),
    ("answer", ANSWER_WORDS),
    ("item", QUESTION_WEAK),
    ("number", NUMBER_WORDS),
    ("category", CATEGORY_WORDS),
)


def looks_like_question(text: str) -> bool:
    """Whether a cell reads as a question: ends in ?/か/까, or starts with Do/Is/How/Please...

    >>> looks_like_question("バックアップを取得していますか"), looks_like_question("1. 組織的対策")
    (True, False)
    """
    text = unicodedata.normalize("NFKC", text).strip()
    return bool(_QUESTION_END.search(text) or _QUESTION_START.search(text))


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
            continue  # the lower rows of a merged question cell: the question is its top row
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
