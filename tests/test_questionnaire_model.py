"""Filling small questionnaires with the real model: known answer rows land in the right cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from assistant.questionnaire import detect_questionnaire, fill, filled_bytes, read_file, read_source, write_atomic
from assistant.retrieval import Assistant

from questionnaire_files import simple_workbook

pytestmark = pytest.mark.model

#: Questions written for this test (not from the evaluation files), with the rows that answer them.
WEVOX = [
    (
        "1",
        "データ保護",
        "バックアップは何世代保持していますか？",
        {"wevox/meti-checksheet#32", "wevox/meti-checksheet#81"},
    ),
    ("2", "データ保護", "Is data encrypted in transit?", set()),
    ("3", "その他", "Do you run a public bug bounty programme with cash rewards?", set()),
]


def test_wevox_questionnaire(seed_assistant: Assistant, tmp_path: Path) -> None:
    rows: list[list[Any]] = [["Wevox セキュリティチェックシート"], [], ["No.", "分類", "質問", "回答", "備考"]]
    rows += [[n, area, question, None, None] for n, area, question, _ in WEVOX]
    source = simple_workbook(tmp_path / "wevox.xlsx", rows, title="チェックシート")
    questionnaire = detect_questionnaire(read_file(source))
    report = fill(questionnaire, seed_assistant, vendor="Wevox")
    out = tmp_path / "wevox.filled.xlsx"
    write_atomic(out, filled_bytes(questionnaire, report))
    backup, transit, bounty = report.rows
    assert backup.status == "answered"
    assert {s.row_id for s in backup.sources} <= WEVOX[0][3]
    assert "7世代" in backup.answer
    # The tuned model ranks the at-rest row (#82) above the TLS rows (#86, #91) and is not sure of it (0.46
    # against 0.57): the cell stays empty for review, and the note names the closest Wevox row, marked.
    assert (transit.status, transit.review, transit.answer) == ("no_answer", True, "")
    assert "Closest row (not a match): wevox/meti-checksheet#" in transit.note
    assert (bounty.status, bounty.review, bounty.answer) == ("no_answer", True, "")
    ws = openpyxl.load_workbook(out)["チェックシート"]
    assert "7世代" in ws["D4"].value  # the questionnaire's own empty answer column
    assert ws["F4"].value == backup.answer
    assert ws["G4"].value == "answered"
    assert ws["D6"].value is None
    assert ws["G6"].value == "no answer"


def test_voiceping_csv(seed_assistant: Assistant) -> None:
    text = "Ref,Question,Response\nV-1,Does the service hold ISO/IEC 27001 certification?,\n"
    questionnaire = detect_questionnaire(read_source(text.encode(), "voiceping.csv"))
    row = fill(questionnaire, seed_assistant, vendor="VoicePing").rows[0]
    assert row.status == "answered"
    assert [s.row_id for s in row.sources] == ["voiceping/security-page-en#1"]
    assert row.answer_cell == row.answer
