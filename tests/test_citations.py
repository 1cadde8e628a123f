"""The one formatter of copied text: the item, the verbatim answer with its detail, and a one-line citation."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.citations import citation_line, headline, match_text, reason_text, result_text
from assistant.retrieval import Assistant
from assistant.settings import Settings


@pytest.fixture
def assistant(decision_corpus: Path, tmp_path: Path) -> Assistant:
    return Assistant.load(Settings(corpus_dir=decision_corpus, index_dir=tmp_path / "index", model="hashing"))


def test_a_refer_to_the_right_answer_is_copied_with_its_detail_in_each_language(assistant: Assistant) -> None:
    result = assistant.ask("バックアップは何世代保持していますか", vendor="Kumo", k=1)
    assert result.answer is not None
    assert result.answer.row_id == "kumo/sheet#1"
    assert match_text(result.answer, "ja") == (
        "項目: バックアップ世代数 / 保証するバックアップの世代数\n"
        "右記参照\n7世代\n"
        "出典: Kumo, Kumo security sheet, 版 2.0, 2025-02-01 時点, No. 42, 行ID kumo/sheet#1, kumo/sheet.tsv 2行目"
    )
    english_result = assistant.ask("How many generations of backups are kept?", vendor="Kumo")
    assert english_result.answer is not None
    english = match_text(english_result.answer)
    assert english == (
        "Item: Backup generations / How many generations of backups are kept?\n"
        "Refer to the right\nSeven generations\n"
        "Source: Kumo, Kumo security sheet, version 2.0, as of 2025-02-01, No. 42, row kumo/sheet#4, "
        "kumo/sheet.tsv line 6"  # line 5 is the EN part's header
    )
    korean = match_text(result.answer, "ko")
    assert korean.startswith("항목: バックアップ世代数")  # labels translated, quotes never
    assert korean.endswith("No. 42, 행 ID kumo/sheet#1, kumo/sheet.tsv 2행")


def test_the_copied_answer_lists_an_outdated_row_with_both_rows(assistant: Assistant) -> None:
    result = assistant.ask("Are you ISO 27001 certified?", vendor="Kumo", k=1)
    assert result.answer is not None
    [old] = result.outdated
    assert result_text(result) == "\n\n".join(
        [
            match_text(result.answer),
            "Outdated (a newer document says otherwise): No\nPlanned for next year\n"
            f"Source: {citation_line(old.citation)}\nCurrent row: kumo/sheet#6",
        ]
    )
    assert "version 1.0, as of 2024-01-10" in citation_line(old.citation)


def test_a_conflict_quotes_every_row_and_a_no_answer_the_closest_rows(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    conflict = assistant.ask("SAS70やSSAE18の監査報告書を提供していますか", vendor="Kumo")
    text = result_text(conflict, "ja")
    assert text.startswith("文書間で回答が食い違っています。両方の行を引用します:\n\n")
    for match in conflict.conflicting:
        assert match_text(match, "ja") in text
    assert reason_text(conflict, "ko") == (
        "이 항목에 대해 문서 간 답변이 서로 다릅니다. 각 행을 인용하며 어느 쪽도 선택하지 않았습니다"
    )
    assistant.threshold = 0.99
    unsure = assistant.ask("What is the capital of France?", k=2)
    assert unsure.status == "no_answer"
    text = result_text(unsure)
    assert text.startswith(
        f"No reliable answer: none of the rows found is a reliable answer (confidence {unsure.confidence:.2f}"
    )
    assert "Closest rows (check before you use them):" in text
    assert all(match_text(match) in text for match in unsure.alternatives)


def test_a_foreign_company_is_named_in_the_reason(assistant: Assistant) -> None:
    result = assistant.ask("Does Slack support SAML?")
    assert result.reason_code == "no_documents_for_subject"
    assert reason_text(result, "ja").startswith("Slack の文書はありません")
    assert result_text(result).startswith("No reliable answer: no documents for Slack: the question is about Slack")


def test_the_headline_says_whose_document_and_which_version(assistant: Assistant) -> None:
    assert headline(assistant.citation("kumo/sheet#5"), "en") == (
        "Kumo · Kumo security sheet, version 2.0, as of 2025-02-01 · No. 43 · English"
    )
    assert headline(assistant.citation("acme/faq#1"), "ko") == "Acme · Acme security FAQ, 2025-06-01 기준 · English"
