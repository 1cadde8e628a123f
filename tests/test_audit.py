"""The auditor's checklist and the item-number search, on a tiny corpus with a stale row and a disagreement."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.audit import Finding, checklist, item_number, rows_with_item
from assistant.retrieval import Assistant
from assistant.settings import Settings


@pytest.fixture
def assistant(decision_corpus: Path, tmp_path: Path) -> Assistant:
    return Assistant.load(Settings(corpus_dir=decision_corpus, index_dir=tmp_path / "index", model="hashing"))


def test_the_checklist_lists_a_disagreement_inside_a_document_once(assistant: Assistant) -> None:
    findings = checklist("kumo/sheet", assistant.rows, assistant.index.links)
    # Item 43: the JA part says 無 (row 2), the EN part says Yes (row 5); items 42 and 44 agree.
    assert findings == [Finding("disagrees", "kumo/sheet#2", "kumo/sheet#5")]
    assert (assistant.row("kumo/sheet#2").answer, assistant.row("kumo/sheet#5").answer) == ("無", "Yes")


def test_the_checklist_lists_rows_a_newer_document_states_otherwise(assistant: Assistant) -> None:
    findings = checklist("kumo/sheet-v1", assistant.rows, assistant.index.links)
    # Ver.1's item 44 ("No, planned") against Ver.2's item 44 in both of its languages.
    assert findings == [
        Finding("outdated", "kumo/sheet-v1#1", "kumo/sheet#3"),
        Finding("outdated", "kumo/sheet-v1#1", "kumo/sheet#6"),
    ]
    assert checklist("acme/faq", assistant.rows, assistant.index.links) == []
    # The newer document is not outdated by its older version.
    assert all(f.kind != "outdated" for f in checklist("kumo/sheet", assistant.rows, assistant.index.links))


@pytest.mark.parametrize("typed", ["43", "No. 43", "no.43", "#43", " No 43 ", "ｎｏ．４３", "項番43"])
def test_item_numbers_are_found_however_they_are_typed(assistant: Assistant, typed: str) -> None:
    assert [row.id for row in rows_with_item(assistant.rows, typed)] == ["kumo/sheet#2", "kumo/sheet#5"]


def test_an_item_number_in_several_documents_can_be_narrowed_to_one(assistant: Assistant) -> None:
    assert {row.document_id for row in rows_with_item(assistant.rows, "44")} == {"kumo/sheet", "kumo/sheet-v1"}
    assert [row.id for row in rows_with_item(assistant.rows, "44", "kumo/sheet-v1")] == ["kumo/sheet-v1#1"]
    assert rows_with_item(assistant.rows, "99") == []
    assert rows_with_item(assistant.rows, "No.") == []
    assert item_number("No. 12-3") == "12-3"
