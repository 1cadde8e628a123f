"""Filling: each ask status (answered, conflict, no_answer) and each question error becomes the right row."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answers import AskResult
from assistant.citations import citation_line
from assistant.errors import QuestionError, QuestionnaireError
from assistant.questionnaire import detect_questionnaire, fill, read_file, read_source
from assistant.questionnaire.filling import BATCH, CONFLICT_SEPARATOR
from assistant.questionnaire.models import FillReport

from questionnaire_files import (
    EN_QUESTIONS,
    JA_QUESTIONS,
    SSO,
    FakeAsker,
    match,
    result,
    security_answers,
    security_workbook,
)


@pytest.fixture
def filled(tmp_path: Path) -> tuple[FillReport, FakeAsker]:
    asker = FakeAsker(security_answers())
    questionnaire = detect_questionnaire(read_file(security_workbook(tmp_path / "checks.xlsx")))
    return fill(questionnaire, asker, vendor="Acme", language="ja"), asker


def test_every_question_asked_once_with_the_vendor_and_language(filled: tuple[FillReport, FakeAsker]) -> None:
    report, asker = filled
    asked = [q for q, *_ in asker.calls]
    expected = [JA_QUESTIONS[r] for r in (5, 6, 7, 9, 10, 11)]
    expected += [EN_QUESTIONS[r] for r in (4, 5, 7, 9, 10, 11)]  # row 8: a formula without a value is not asked
    assert asked == expected
    assert {(vendor, language, k) for _, vendor, language, k in asker.calls} == {("Acme", "ja", None)}
    assert [(r.sheet, r.row) for r in report.rows] == [("基本事項", r) for r in (5, 6, 7, 9, 10, 11)] + [
        ("Technical", r) for r in (4, 5, 7, 8, 9, 10, 11)
    ]


def test_answered_row(filled: tuple[FillReport, FakeAsker]) -> None:
    row = filled[0].rows[0]
    assert (row.item_no, row.category, row.question) == ("1", "組織", JA_QUESTIONS[5])
    assert (row.status, row.review, row.answer_status) == ("answered", False, "yes")
    assert row.answer == "有\n基本方針を策定し公開"
    assert (row.confidence, row.level, row.normalised, row.note) == (0.91, "high", "Yes", "")
    assert [s.row_id for s in row.sources] == ["acme/sheet#1"]
    cited = "Acme, Acme sheet, as of 2025-06-01, row acme/sheet#1, acme/sheet.csv line 2"
    assert citation_line(row.sources[0]) == cited
    assert row.answer_cell == "はい"  # the drop-down's value for "yes"


def test_outdated_rows_are_noted_and_flagged(filled: tuple[FillReport, FakeAsker]) -> None:
    row = filled[0].rows[1]
    assert (row.status, row.review) == ("answered", True)
    assert row.note == "Outdated: acme/old-sheet#2 (Acme old-sheet, undated) says: 無 取得予定(準備中)"
    assert row.answer_cell == ""  # the questionnaire already answered "はい" here


def test_no_answer_row_names_the_reason_and_the_closest_row(filled: tuple[FillReport, FakeAsker]) -> None:
    row = filled[0].rows[2]
    assert (row.status, row.review, row.answer, row.sources, row.answer_cell) == ("no_answer", True, "", [], "")
    assert row.note == (
        "No reliable answer: the closest row scores 0.42\nClosest row (not a match): acme/sheet#5: 年1回実施"
    )
    assert (row.confidence, row.level) == (0.42, "low")


def test_answer_without_a_yes_no_value_leaves_the_drop_down_to_a_person(filled: tuple[FillReport, FakeAsker]) -> None:
    row = filled[0].rows[3]
    assert (row.status, row.answer, row.answer_cell, row.review) == ("answered", "7世代\n日次取得", "", True)
    assert row.note == (
        "The answer column takes はい/いいえ/該当なし; the cited row gives no such value: fill it by hand."
    )


def test_conflict_cites_both_rows_and_is_flagged(filled: tuple[FillReport, FakeAsker]) -> None:
    row = filled[0].rows[4]
    assert (row.status, row.review, row.answer_cell, row.answer_status) == ("conflict", True, "", None)
    assert row.answer == f"有\nTLS1.2以上{CONFLICT_SEPARATOR}一部\n管理画面のみ暗号化"
    assert [s.row_id for s in row.sources] == ["acme/sheet#10", "acme/page#4"]
    assert row.note == "The vendor's current documents disagree: acme/sheet#10, acme/page#4; choose one."


def test_no_goes_into_the_drop_down(filled: tuple[FillReport, FakeAsker]) -> None:
    row = filled[0].rows[5]
    assert (row.status, row.answer_cell, row.normalised, row.review) == ("answered", "いいえ", "No", False)


def test_english_sheet_rows(filled: tuple[FillReport, FakeAsker]) -> None:
    sso, mfa, encrypt, formula, generations, delete, sso_all = filled[0].rows[6:]
    assert (sso.item_no, sso.category, sso.answer_cell) == ("AC-1", "Access", SSO.answer_text())  # free text: verbatim
    assert (mfa.status, mfa.review, mfa.answer, mfa.sources) == ("error", True, "", [])
    assert mfa.note == "This question cannot be asked: the question is 1200 characters; the limit is 1000"
    assert (encrypt.question, encrypt.answer_cell) == ("Do you encrypt backups?", "Yes\nAES-256")
    assert (formula.status, formula.question, formula.item_no) == ("error", "", "DP-2")
    assert "formula whose value was never saved" in formula.note
    assert generations.answer_cell == "+7 generations"  # neutralised when written, not in the report
    assert (delete.answer_cell, delete.review) == ("", False)  # "Yes (see contract §12)" stays
    assert sso_all.review
    assert sso_all.note == (
        "A newer document of this vendor exists: acme/newer-sheet.\n"
        "The answer cell is merged over several rows: not written."
    )


def test_counts_and_review(filled: tuple[FillReport, FakeAsker]) -> None:
    report = filled[0]
    assert report.counts == {"answered": 9, "conflict": 1, "no_answer": 1, "error": 2}
    assert report.review == 7
    assert [(r.sheet, r.row) for r in report.to_review] == [
        ("基本事項", 6),
        ("基本事項", 7),
        ("基本事項", 9),
        ("基本事項", 10),
        ("Technical", 5),
        ("Technical", 8),
        ("Technical", 11),
    ]
    assert report.vendor == "Acme"
    assert [s.sheet for s in report.sheets] == ["表紙", "記入方法", "基本事項", "Technical", "空白", "Lists"]


def test_identical_questions_are_asked_once_and_progress_is_reported_per_batch() -> None:
    lines = ["No,Question,Answer"] + [f"{n},Do you support SSO? ({n % 7}),," for n in range(1, 2 * BATCH + 6)]
    questionnaire = detect_questionnaire(read_source("\n".join(lines).encode(), "q.csv"))
    asker = FakeAsker({})
    calls: list[tuple[int, int]] = []
    report = fill(questionnaire, asker, vendor="Acme", progress=lambda done, total: calls.append((done, total)))
    total = 2 * BATCH + 5
    assert len(report.rows) == total
    assert len(asker.calls) == 7
    assert calls == [(BATCH, total), (2 * BATCH, total), (total, total)]
    assert {r.status for r in report.rows} == {"no_answer"}


def test_a_question_naming_another_vendor_is_flagged() -> None:
    questionnaire = detect_questionnaire(read_source(b"Question,Answer\nIs Borealis ISO certified?,\n", "q.csv"))
    other = match("borealis/page#1", "Yes", vendor="Borealis", answer_status="yes")
    asked = result("Is Borealis ISO certified?", "answered", answer=other, vendor="Borealis", vendor_overridden="Acme")
    row = fill(questionnaire, FakeAsker({asked.question: asked}), vendor="Acme").rows[0]
    assert row.review
    assert row.note == "The question names Borealis: the answer is from Borealis's documents."


def test_other_errors_stop_the_run() -> None:
    questionnaire = detect_questionnaire(read_source(b"Question\nDo you support SSO?\nMFA?\n", "q.csv"))
    with pytest.raises(RuntimeError, match="index broke"):
        fill(questionnaire, FakeAsker({"Do you support SSO?": RuntimeError("index broke")}), vendor="Acme")


def test_no_questions_is_an_error_naming_each_sheet(tmp_path: Path) -> None:
    questionnaire = detect_questionnaire(read_source(b"Just a note\nthat says hello\n", "notes.csv"))
    with pytest.raises(QuestionnaireError, match=r"no questions found in notes\.csv \('notes': no question column"):
        fill(questionnaire, FakeAsker({}), vendor="Acme")


def test_an_asker_with_ask_many_gets_each_batch_of_new_questions_at_once() -> None:
    lines = ["No,Question,Answer"] + [f"{n},Do you support SSO? ({n % 7}),," for n in range(1, 2 * BATCH + 6)]

    class Batched(FakeAsker):
        def __init__(self) -> None:
            super().__init__({"Do you support SSO? (3)": QuestionError("too long")})
            self.batches: list[list[str]] = []

        def ask_many(
            self, questions: list[str], *, vendor: str | None = None, language: str | None = None, k: int | None = None
        ) -> list[AskResult | QuestionError]:
            self.batches.append(list(questions))
            answers: list[AskResult | QuestionError] = []
            for question in questions:
                try:
                    answers.append(self.ask(question, vendor=vendor, language=language, k=k))
                except QuestionError as error:
                    answers.append(error)
            return answers

    asker = Batched()
    report = fill(detect_questionnaire(read_source("\n".join(lines).encode(), "q.csv")), asker, vendor="Acme")
    assert asker.batches == [[f"Do you support SSO? ({n % 7})" for n in range(1, 8)]]
    statuses = [row.status for row in report.rows]
    assert statuses.count("error") == sum(1 for n in range(1, 2 * BATCH + 6) if n % 7 == 3)
    assert statuses.count("no_answer") == len(statuses) - statuses.count("error")
