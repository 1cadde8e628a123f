"""Feedback: entries appended safely by concurrent writers, and exported as valid evaluation questions."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.evaluation.questions import load_questions
from assistant.feedback import FeedbackEntry, FeedbackError, FeedbackLog, shown_rows, to_questions
from assistant.retrieval import Assistant
from assistant.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def assistant(decision_corpus: Path, tmp_path: Path) -> Assistant:
    return Assistant.load(Settings(corpus_dir=decision_corpus, index_dir=tmp_path / "index", model="hashing"))


def test_a_thumbs_down_with_the_right_row_exports_as_an_eval_question(
    assistant: Assistant, decision_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = FeedbackLog(tmp_path / "data")
    result = assistant.ask("How many generations of backups are kept?", vendor="Kumo", language="ja")
    log.append(FeedbackEntry.of("a" * 32, result, "down", ui_language="ja"))  # first the thumbs, then the row
    log.append(FeedbackEntry.of("a" * 32, result, "down", correct_row="kumo/sheet#4", ui_language="ja"))
    good = assistant.ask("Are you ISO 27001 certified?")
    log.append(FeedbackEntry.of("b" * 32, good, "up"))
    overridden = assistant.ask("Does Kumo keep backups?", vendor="Acme")
    log.append(FeedbackEntry.of("c" * 32, overridden, "down", correct_row="kumo/sheet#4"))
    out = tmp_path / "out" / "feedback.jsonl"
    data = ["--data", str(tmp_path / "data"), "--corpus", str(decision_corpus)]
    code = main(["feedback", "export", *data, "--out", str(out)])
    assert code == 0
    assert "2 questions to" in capsys.readouterr().err
    questions = load_questions(out)  # the evals format, validated
    assert [q.id for q in questions] == ["fb-" + "a" * 12, "fb-" + "c" * 12]
    first, second = questions
    assert (first.question, first.language, first.vendor) == (result.question, "en", "Kumo")
    assert (first.relevant, first.kind, first.filter_language, first.status) == (
        ["kumo/sheet#4"],
        "same_language",
        "ja",
        "answered",
    )
    assert first.tags == ["no_vendor_named"]
    assert (second.vendor, second.tags) == ("Acme", ["vendor_named", "vendor_mismatch"])
    lines = out.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["relevant"] == ["kumo/sheet#4"]


def test_the_export_skips_rows_that_left_the_corpus(assistant: Assistant, tmp_path: Path) -> None:
    result = assistant.ask("How many generations of backups are kept?")
    entries = [FeedbackEntry.of("d" * 32, result, "down", correct_row="kumo/sheet#99")]
    questions, skipped = to_questions(entries, {row.id: row for row in assistant.rows})
    assert questions == []
    assert skipped == [f"entry {'d' * 32}: 'kumo/sheet#99' is not a row of the corpus (any more)"]


def test_the_entry_records_what_was_shown(assistant: Assistant) -> None:
    result = assistant.ask("Are you ISO 27001 certified?", vendor="Kumo", k=3)
    entry = FeedbackEntry.of("e" * 32, result, "up")
    assert result.answer is not None
    assert entry.shown == shown_rows(result)
    assert entry.shown[:2] == [result.answer.row_id, "kumo/sheet-v1#1"]  # the answer, then the outdated row
    assert len(entry.shown) == len(set(entry.shown))
    assert (entry.status, entry.vendor, entry.vendor_source) == ("answered", "Kumo", "given")


def test_a_bad_line_is_an_error_naming_the_line(tmp_path: Path, assistant: Assistant) -> None:
    log = FeedbackLog(tmp_path)
    log.append(FeedbackEntry.of("f" * 32, assistant.ask("Backups?"), "up"))
    with log.path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "x"}\n')
    with pytest.raises(FeedbackError, match=r"feedback.jsonl:2: not a feedback entry .*fix or delete that line"):
        log.entries()


def _append_many(data_dir: str, worker: int, count: int, entry_json: str) -> None:
    log = FeedbackLog(Path(data_dir))
    entry = FeedbackEntry.model_validate_json(entry_json)
    for n in range(count):
        log.append(entry.model_copy(update={"id": f"{worker}-{n}", "question": "q" * 2000}))


#: The same loop in another process (a second server on the same data folder).
_WRITER = """
import sys
from tests.test_feedback import _append_many
_append_many(sys.argv[1], int(sys.argv[2]), 20, sys.argv[3])
"""


def test_concurrent_writers_never_interleave_lines(tmp_path: Path, assistant: Assistant) -> None:
    entry = FeedbackEntry.of("g" * 32, assistant.ask("Backups?"), "up").model_dump_json()
    threads = [threading.Thread(target=_append_many, args=(str(tmp_path), w, 20, entry)) for w in range(4)]
    command = [sys.executable, "-c", _WRITER, str(tmp_path)]
    processes = [subprocess.Popen([*command, str(w), entry], cwd=REPO_ROOT) for w in range(4, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [process.wait(timeout=120) for process in processes] == [0, 0]
    entries = FeedbackLog(tmp_path).entries()  # every line parses
    assert sorted(e.id for e in entries) == sorted(f"{w}-{n}" for w in range(6) for n in range(20))


def test_an_unwritable_data_folder_is_a_clear_error(tmp_path: Path, assistant: Assistant) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(FeedbackError, match="ASSISTANT_DATA_DIR"):
        FeedbackLog(blocker / "data").append(FeedbackEntry.of("h" * 32, assistant.ask("Backups?"), "up"))
