"""The fusion tuning script: what it chooses on a tiny fixture, how it breaks ties, and the file it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation.questions import EvalQuestion
from assistant.fusion import FusionSettings, fusion_path, load_fusion
from assistant.retrieval import Assistant
from assistant.settings import Settings
from evals import tune_fusion
from evals.tune_fusion import Trial, tune

#: Korean questions about English and Japanese rows: with the hashing embedder only the concepts signal
#: (백업 = backup, 암호화 = encrypt*, 인증 = certif...) can bring those rows up.
QUESTIONS = [
    EvalQuestion(id="q1", question="백업 데이터는 암호화되어 있나요?", language="ko", relevant=["acme/faq#3"]),
    EvalQuestion(id="q2", question="Acme 이중 인증 지원?", language="ko", relevant=["acme/sheet-ja#2"]),
]


def test_the_tuning_chooses_the_weights_that_rank_best(hashing_settings: Settings) -> None:
    assistant = Assistant.load(hashing_settings)
    best, trials = tune(assistant, QUESTIONS, grid=(0.0, 1.0), depths=(50,))
    assert len(trials) == 4  # lexical x concepts on the grid, at the default depth
    without = next(t for t in trials if t.weights == {"dense": 1.0, "lexical": 0.0, "concepts": 0.0})
    assert without.hit_at_1 < 1.0
    assert best.hit_at_1 == 1.0
    assert best.weights["concepts"] == 1.0
    assert best.hit_at_1 == max(t.hit_at_1 for t in trials)


def test_ties_go_to_smaller_weights_then_the_default_depth() -> None:
    small = Trial({"dense": 1.0, "lexical": 0.0}, 50, 0.9, 0.95)
    large = Trial({"dense": 1.0, "lexical": 0.3}, 50, 0.9, 0.95)
    deep = Trial({"dense": 1.0, "lexical": 0.0}, 200, 0.9, 0.95)
    better = Trial({"dense": 1.0, "lexical": 0.3}, 200, 0.91, 0.90)
    assert max([large, deep, small], key=Trial.key) is small
    assert max([large, deep, small, better], key=Trial.key) is better


def test_the_script_writes_settings_the_library_reads(
    hashing_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = tmp_path / "mine.jsonl"
    questions.write_text("\n".join(q.model_dump_json() for q in QUESTIONS) + "\n", encoding="utf-8")
    for name, value in hashing_settings.model_dump().items():
        if value is not None:
            monkeypatch.setenv(f"ASSISTANT_{name.upper()}", str(value))
    monkeypatch.setattr(tune_fusion, "GRID", (0.0, 1.0))
    monkeypatch.setattr(tune_fusion, "DEPTHS", (50,))
    out, report = tmp_path / "calibrations", tmp_path / "report"
    assert tune_fusion.main(["--questions", str(questions), "--out", str(out), "--report", str(report)]) == 0
    settings = load_fusion("hashing", out)
    assert isinstance(settings, FusionSettings)
    assert settings.weights["concepts"] == 1.0
    assert settings.fitted_on["questions"] == "mine.jsonl"
    record = json.loads((report / (fusion_path("hashing", out).stem + ".json")).read_text(encoding="utf-8"))
    assert len(record["trials"]) == 4


def test_the_test_split_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        tune_fusion.main(["--questions", "evals/questions.test.jsonl"])
    assert "never on the test split" in capsys.readouterr().err
