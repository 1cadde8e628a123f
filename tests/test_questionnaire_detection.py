"""Detection: header rows, question and answer columns in EN/JA/KO, skipped sheets, sections and merged cells."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from assistant.errors import QuestionnaireError
from assistant.questionnaire.detection import detect_layout, detect_questionnaire
from assistant.questionnaire.grids import CellRange, Grid, Source
from assistant.questionnaire.questions import find_questions


def grid(rows: Sequence[Sequence[str]], name: str = "Q", merged: Sequence[CellRange] = ()) -> Grid:
    return Grid(name, tuple(tuple(r) for r in rows), merged=tuple(merged))


QUESTIONS = ["Do you support SSO?", "Is data encrypted at rest?", "How often are backups taken?"]


@pytest.mark.parametrize(
    ("header", "question", "answer", "number"),
    [
        (["No", "Questions", "Answer"], "B", "C", "A"),
        (["項番", "分類", "質問", "回答欄"], "C", "D", "A"),
        (["No.", "項目", "確認内容", "回答", "備考"], "C", "D", "A"),  # a strong word beats 項目
        (["#", "확인 사항", "답변"], "B", "C", "A"),
        (["번호", "구분", "질문", "응답"], "C", "D", "A"),
        (["Ref", "Category", "Question / 質問", "Yes/No", "Comments"], "C", "D", "A"),
        (["質問事項（Question）", "回答（はい/いいえ）"], "A", "B", None),
    ],
)
def test_header_words(header: list[str], question: str, answer: str, number: str | None) -> None:
    width = len(header)
    rows = [["Security questionnaire"], [], header]
    q_index = ord(question) - ord("A")
    for n, text in enumerate(QUESTIONS, 1):
        row = [""] * width
        row[q_index] = text
        if number:
            row[0] = str(n)
        if q_index != 1 and width > 3:
            row[1] = "Area"
        rows.append(row)
    layout = detect_layout(grid(rows))
    assert (layout.header_row, layout.question_column, layout.answer_column) == (3, question, answer)
    assert layout.number_column == number
    assert layout.sure
    assert layout.output_column == chr(ord("A") + width)


def test_weak_words_choose_the_longer_text() -> None:
    rows = [["番号", "項目", "内容", "回答"]]
    rows += [[str(n), "パスワード", f"パスワードは{n}文字以上を必須にしていますか？", ""] for n in range(1, 5)]
    layout = detect_layout(grid(rows))
    assert (layout.question_column, layout.sure) == ("C", True)
    assert layout.how == "header '内容' in row 1, longer texts than '項目'"
    close = [["항목", "내용", "답변"], ["백업 주기", "백업 보관", ""], ["암호화 방식", "접근 통제", ""]]
    unsure = detect_layout(grid(close))
    assert unsure.sure is False  # two label-like columns of the same length: the UI asks


def test_no_header_words_takes_the_longest_question_text_and_is_unsure() -> None:
    rows = [["ID", "Text", "Remarks"]] + [[f"S-{n}", q, "see policy"] for n, q in enumerate(QUESTIONS)]
    layout = detect_layout(grid(rows))
    assert (layout.header_row, layout.question_column, layout.sure) == (1, "B", False)
    assert layout.how == "no header word; the column of longest text"


def test_a_sheet_of_prose_is_skipped() -> None:
    rows = [["This workbook collects our supplier's security controls."], ["Fill each sheet by the 30th."]]
    layout = detect_layout(grid(rows, name="Welcome"))
    assert layout.skipped is not None
    assert layout.skipped.startswith("no question column found")
    assert layout.sure is False


@pytest.mark.parametrize("name", ["Instructions", "1.表紙", "記入例", "작성방법", "Revision history", "README"])
def test_cover_and_instruction_sheets_are_skipped_by_name_unless_chosen(name: str) -> None:
    rows = [["No", "Question", "Answer"], ["1", QUESTIONS[0], ""]]
    assert detect_layout(grid(rows, name=name)).skipped == "cover, instructions or example sheet (by its name)"
    assert detect_layout(grid(rows, name=name), chosen=True).question_column == "B"


def test_sections_repeated_headers_and_merged_cells() -> None:
    rows = [
        ["No.", "Category", "Question", "Answer"],
        ["1", "", "Organisation", ""],  # a bare "1" among dotted numbers, no question form: a section
        ["1.1", "Policy", "Do you have a security policy?", ""],
        ["1.2", "", "Is it reviewed every year?", ""],
        ["2. Technical measures", "", "", ""],  # merged across the table
        ["2.1", "Access", "Do you enforce MFA for every account,", ""],  # merged over two rows
        ["", "", "", ""],
        ["No.", "Category", "Question", "Answer"],  # the header again (a printed page)
        ["2.2", "", "Are logs kept?", "Yes"],
        ["", "", "", ""],
        ["2.3", "", "Are backups encrypted?", ""],  # its answer cell is merged with the next row's
        ["2.4", "", "Is there a DR site?", ""],
    ]
    merged = [CellRange(5, 1, 5, 4), CellRange(6, 3, 7, 3), CellRange(3, 2, 4, 2), CellRange(11, 4, 12, 4)]
    sheet = grid(rows, merged=merged)
    layout = detect_layout(sheet)
    found = [
        (q.row, q.item_no, q.category, q.text, q.existing_answer, q.answer_cell_free)
        for q in find_questions(sheet, layout)
    ]
    assert found == [
        (3, "1.1", "Policy", "Do you have a security policy?", "", True),
        (4, "1.2", "Policy", "Is it reviewed every year?", "", True),
        (6, "2.1", "Access", "Do you enforce MFA for every account,", "", True),
        (9, "2.2", "Access", "Are logs kept?", "Yes", False),
        (11, "2.3", "Access", "Are backups encrypted?", "", False),
        (12, "2.4", "Access", "Is there a DR site?", "", False),
    ]


def test_sections_without_numbers_name_the_category() -> None:
    rows = [
        ["Ref", "Question", "Response"],
        ["", "Access control", ""],
        ["AC-1", "Do you support SSO?", ""],
        ["", "Data protection", ""],
        ["DP-1", "Is data encrypted?", ""],
        ["DP-2", "Logging", ""],  # numbered: a question, even without a question mark
    ]
    sheet = grid(rows)
    found = [(q.row, q.item_no, q.category, q.text) for q in find_questions(sheet, detect_layout(sheet))]
    assert found == [
        (3, "AC-1", "Access control", "Do you support SSO?"),
        (5, "DP-1", "Data protection", "Is data encrypted?"),
        (6, "DP-2", "Data protection", "Logging"),
    ]


def test_chosen_column_by_letter_number_or_header() -> None:
    rows = [["No", "Topic", "Detail", "Answer"], ["1", "SSO", "Do you support SAML single sign-on?", ""]]
    for wanted in ("B", "b", "2", "Topic", "topic"):
        assert detect_layout(grid(rows), question_column=wanted).question_column == "B"
    with pytest.raises(QuestionnaireError, match=r"sheet 'Q' has no column 'Colour'; .*A 'No', B 'Topic'"):
        detect_layout(grid(rows), question_column="Colour")


def test_chosen_sheet() -> None:
    rows = [["No", "Question", "Answer"], ["1", QUESTIONS[0], ""]]
    source = Source("q.xlsx", "xlsx", b"", (grid(rows, "A"), grid(rows, "B")))
    questionnaire = detect_questionnaire(source, sheet="B")
    assert [(layout.sheet, layout.skipped) for layout in questionnaire.layouts] == [
        ("A", "not the chosen sheet"),
        ("B", None),
    ]
    assert [q.sheet for q in questionnaire.questions] == ["B"]
    with pytest.raises(QuestionnaireError, match=r"q\.xlsx has no sheet 'C'; its sheets: 'A', 'B'"):
        detect_questionnaire(source, sheet="C")


def test_output_columns_start_right_of_every_merged_range() -> None:
    rows = [["Acme security questionnaire"], ["No", "Question"], ["1", QUESTIONS[0]]]
    layout = detect_layout(grid(rows, merged=[CellRange(1, 1, 1, 6)]))
    assert layout.output_column == "G"


def test_a_heading_merged_from_the_left_names_the_section() -> None:
    rows = [["No", "Question", "Answer"], ["A. Organisation"], ["1", "Do you have a policy?", ""]]
    sheet = grid(rows, merged=[CellRange(2, 1, 2, 3)])
    found = [(q.row, q.category) for q in find_questions(sheet, detect_layout(sheet))]
    assert found == [(3, "A. Organisation")]
