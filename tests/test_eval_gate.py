"""The evaluation as a CI gate, and `assistant eval` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.evaluation.questions import load_questions
from assistant.evaluation.report import write_report
from assistant.evaluation.runner import evaluate
from assistant.retrieval import Assistant
from assistant.settings import Settings

from conftest import REPO_ROOT

GATE = json.loads((REPO_ROOT / "evals" / "gate.json").read_text(encoding="utf-8"))


@pytest.mark.model
def test_the_dev_questions_meet_the_gate(seed_assistant: Assistant, tmp_path: Path) -> None:
    path = REPO_ROOT / "evals" / GATE["questions"]
    report = evaluate(
        seed_assistant, load_questions(path), questions_file=str(path), model=seed_assistant.embedder.name
    )
    write_report(report, tmp_path)  # the failures are in report.md when this fails
    numbers = (
        f"hit@1 {report.overall['hit@1']:.3f}, MRR@10 {report.overall['mrr@10']:.3f}, "
        f"false-answer rate {report.abstention['false_answer_rate']:.3f} (report: {tmp_path / 'report.md'})"
    )
    assert report.overall["hit@1"] >= GATE["min_hit@1"], numbers
    assert report.overall["mrr@10"] >= GATE["min_mrr@10"], numbers
    assert report.abstention["false_answer_rate"] <= GATE["max_false_answer_rate"], numbers
    assert report.n_questions == len(load_questions(path))
    assert set(report.by_language) == {"en", "ja", "ko"}


def test_eval_command_on_a_questions_file_given_by_path(
    hashing_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL", "hashing")
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(hashing_settings.cache_dir))
    questions = tmp_path / "mine.jsonl"
    lines = [
        {"id": "q1", "question": "Are backups encrypted with AES-256?", "language": "en", "relevant": ["acme/faq#3"]},
        {"id": "q2", "question": "백업은 며칠간 보관됩니까", "language": "ko", "answer_contains": ["7일간"]},
        {"id": "q3", "question": "Quel temps fait-il?", "language": "fr"},
    ]
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in lines) + "\n", encoding="utf-8")
    out = tmp_path / "report"
    args = ["eval", "--corpus", str(hashing_settings.corpus_dir), "--index", str(hashing_settings.index_dir)]
    assert main([*args, "--questions", str(questions), "--json", "--out", str(out)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {"hit@1", "hit@5", "mrr@10", "ndcg@10", "n"} <= set(payload["overall"])
    assert payload["overall"]["n"] == 2
    assert set(payload["by_language"]) == {"en", "ko", "fr"}
    assert {"auroc", "false_answer_rate", "coverage"} <= set(payload["abstention"])
    assert {"p50", "p95"} <= set(payload["latency_ms"])
    assert sorted(p.name for p in out.iterdir()) == ["chart.png", "report.json", "report.md"]
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## Failures" in markdown
    assert "| fr |" in markdown
    # which calibration decided is recorded (the hashing model's own; no second opinion for it)
    assert payload["calibration"] == "hashing"
    assert "Model `hashing`, calibration `hashing`, threshold " in markdown


def test_eval_command_reports_a_bad_questions_file(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL", "hashing")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "q1", "question": "ok?", "language": "en"}\n{"id": "q1", "question": "dup", "language": "en"}\n'
    )
    assert main(["eval", "--corpus", str(hashing_settings.corpus_dir), "--questions", str(bad)]) == 1
    assert "bad.jsonl:2: id 'q1' already used on line 1" in capsys.readouterr().err
