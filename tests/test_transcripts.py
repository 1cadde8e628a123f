"""Conversation exports: Markdown that shows quotes as written, CSV that a spreadsheet cannot run as formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from assistant.citations import citation_line, match_text, result_text
from assistant.retrieval import Assistant
from assistant.settings import Settings
from assistant.transcripts import FORMULA_STARTS, Exchange, csv_text, markdown, safe_cell

from conftest import WriteCorpus

AT = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def assistant(decision_corpus: Path, tmp_path: Path) -> Assistant:
    return Assistant.load(Settings(corpus_dir=decision_corpus, index_dir=tmp_path / "index", model="hashing"))


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_cell_that_would_start_a_formula_gets_an_apostrophe(start: str) -> None:
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"


def test_other_cells_are_kept_as_they_are() -> None:
    for cell in ("Yes", "無", "", " =1", "'quoted", "7世代"):
        assert safe_cell(cell) == cell


def test_csv_has_one_line_per_row_shown_and_reads_back(assistant: Assistant) -> None:
    answered = assistant.ask("Are you ISO 27001 certified?", vendor="Kumo", k=2)
    conflict = assistant.ask("Do you provide SAS 70 or SSAE 18 reports?", vendor="Kumo", k=2)
    exchanges = [
        Exchange(answered.question, result=answered, asked_at=AT),
        Exchange(conflict.question, result=conflict, asked_at=AT),
        Exchange("   ", error="the question is empty", asked_at=AT),
    ]
    table = list(csv.reader(io.StringIO(csv_text(exchanges))))
    header = ["#", "Asked at", "Question", "Status", "Shown as", "Vendor", "Item", "Answer", "Citation", "Row"]
    assert table[0] == [*header, "Note"]
    rows = table[1:]
    assert answered.answer is not None
    first = rows[0]
    assert first[:5] == ["1", "2026-11-27 09:30 UTC", answered.question, "Answered", "answer"]
    assert first[7:10] == [answered.answer.answer_text(), citation_line(answered.answer.citation), "kumo/sheet#6"]
    outdated = [row for row in rows if row[4] == "outdated row"]
    assert [row[9] for row in outdated] == ["kumo/sheet-v1#1"]
    assert outdated[0][10] == "Current row: kumo/sheet#6"
    disagreeing = [row[9] for row in rows if row[0] == "2" and row[4] == "disagreeing row"]
    assert sorted(disagreeing) == ["kumo/sheet#2", "kumo/sheet#5"]
    assert rows[-1][:4] == ["3", "2026-11-27 09:30 UTC", "   ", "Not asked"]
    assert rows[-1][-1] == "the question is empty"
    expected = 1 + 1 + len(answered.alternatives) + len(conflict.conflicting) + len(conflict.alternatives) + 1
    assert len(rows) == expected


def test_csv_labels_follow_the_language_and_quotes_stay_verbatim(assistant: Assistant) -> None:
    result = assistant.ask("バックアップは何世代保持していますか", vendor="Kumo", k=1)
    table = list(csv.reader(io.StringIO(csv_text([Exchange(result.question, result=result, asked_at=AT)], "ja"))))
    assert table[0][:4] == ["#", "質問日時", "質問", "状態"]
    assert table[1][3:5] == ["回答あり", "回答"]
    assert table[1][7] == "右記参照\n7世代"


def test_formula_payloads_in_documents_and_questions_stay_text(write_corpus: WriteCorpus, tmp_path: Path) -> None:
    document: dict[str, object] = {"id": "sheet", "vendor": "Acme", "product": "Acme", "file": "acme/sheet.csv"}
    document |= {"layout": "csv_checksheet", "languages": ["en"], "title": "=Acme sheet"}
    sheet = 'No,Question,Answer,Details\n1,Do you log?,"=HYPERLINK(""http://x.invalid"",""Yes"")",@SUM(A1)\n'
    corpus = write_corpus([document], {"acme/sheet.csv": sheet})
    assistant = Assistant.load(Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="hashing"))
    result = assistant.ask("-Do you log? =1+1", k=1)
    table = list(csv.reader(io.StringIO(csv_text([Exchange(result.question, result=result, asked_at=AT)]))))
    for row in table:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell
    assert table[1][2] == "'-Do you log? =1+1"
    assert table[1][7] == '\'=HYPERLINK("http://x.invalid","Yes")\n@SUM(A1)'
    assert table[1][8].startswith("Acme, =Acme sheet")


def test_markdown_fences_questions_and_answers(assistant: Assistant) -> None:
    result = assistant.ask("Are you ISO 27001 certified?", vendor="Kumo", k=1)
    exchanges = [
        Exchange("```\n# not a heading <script>", result=result, asked_at=AT),
        Exchange("x" * 5, error="the question is empty", asked_at=AT),
    ]
    text = markdown(exchanges, "en", now=AT)
    assert text.startswith("# Checksheet assistant: conversation exported 2026-11-27 09:30 UTC\n")
    assert "## 1. Question (2026-11-27 09:30 UTC)\n\n````text\n```\n# not a heading <script>\n````" in text
    assert f"**Status:** Answered\n\n```text\n{result_text(result)}\n```" in text
    assert "**Status:** Not asked\n\n```text\nthe question is empty\n```" in text
    assert result.answer is not None
    assert match_text(result.answer) in text
    japanese = markdown(exchanges[:1], "ja", now=AT)
    assert "## 1. 質問 (2026-11-27 09:30 UTC)" in japanese
    assert result_text(result, "ja") in japanese
