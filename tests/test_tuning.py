"""Tuning the embedding model on labelled questions: the examples it learns from, what it refuses, and (with the
real model) that it pulls questions towards their rows, the same way each time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.embedding.tuning import Example, Recipe, tune
from assistant.evaluation.questions import EvalQuestion
from assistant.passages import passage_text
from assistant.retrieval import Assistant
from assistant.settings import Settings
from evals import tune_model

QUESTIONS = [
    EvalQuestion(id="en-1", question="Are Acme's backups encrypted?", language="en", relevant=["acme/faq#3"]),
    EvalQuestion(id="ja-1", question="二段階認証は使えますか", language="ja", relevant=["acme/sheet-ja#2"]),
    EvalQuestion(id="na-1", question="Do you have a SOC 2 report?", language="en"),
    EvalQuestion(id="en-2", question="Is there a bug bounty?", language="en", relevant=["acme/faq#99"]),
]


def test_examples_are_the_answerable_questions_as_searched_with_their_rows(hashing_settings: Settings) -> None:
    assistant = Assistant.load(hashing_settings)
    built = tune_model.examples(assistant, QUESTIONS)
    # The unanswerable question and the one whose row is not in the corpus teach nothing.
    assert len(built) == 2
    backups, two_factor = built
    query, passage = assistant.embedder.query_prompt, assistant.embedder.passage_prompt
    assert backups.query == query + "Are backups encrypted?"  # the vendor's name is taken out, as when asked
    assert backups.positives == (passage + passage_text(assistant.row("acme/faq#3")),)
    assert two_factor.positives == (passage + passage_text(assistant.row("acme/sheet-ja#2")),)
    for example in built:
        assert example.negative is not None
        assert example.negative not in example.positives


def test_the_test_split_and_a_used_folder_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        tune_model.main(["--questions", "evals/questions.test.jsonl", "--out", str(tmp_path / "new")])
    assert refused.value.code == 2
    assert "never on the test split" in capsys.readouterr().err
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "model.safetensors").write_bytes(b"x")
    with pytest.raises(SystemExit) as refused:
        tune_model.main(["--out", str(tmp_path / "used")])
    assert refused.value.code == 2
    assert "is not empty" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        tune_model.main(["--out", str(tmp_path / "new"), "--cross-fit", "1"])
    assert refused.value.code == 2
    assert "at least 2 folds" in capsys.readouterr().err
    # The default model is made from the dev split, whole: not from other questions, not per fold.
    for extra in (["--questions", "my-questions.jsonl"], ["--cross-fit", "5"]):
        with pytest.raises(SystemExit) as refused:
            tune_model.main(["--out", str(tmp_path / "new"), "--ship", *extra])
        assert refused.value.code == 2
        assert "--ship makes the default model" in capsys.readouterr().err


def test_no_examples_is_an_error_that_says_why() -> None:
    with pytest.raises(ValueError, match="no answerable question"):
        tune(object(), [])  # type: ignore[arg-type]


def _margins(model: object, examples: list[Example]) -> np.ndarray:
    encode = model.encode  # type: ignore[attr-defined]
    q = encode([e.query for e in examples], normalize_embeddings=True)
    p = encode([e.positives[0] for e in examples], normalize_embeddings=True)
    n = encode([e.negative for e in examples], normalize_embeddings=True)
    margins: np.ndarray = (q * p).sum(axis=1) - (q * n).sum(axis=1)
    return margins


@pytest.mark.model
def test_tuning_pulls_questions_towards_their_rows_the_same_way_each_time(seed_assistant: Assistant) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    from assistant.embedding.conversion import ensure_converted

    questions = [
        EvalQuestion(
            id="q1",
            question="How many backup generations are kept?",
            language="en",
            relevant=["wevox/meti-checksheet#81"],
        ),
        EvalQuestion(
            id="q2",
            question="VoicePing의 세션은 얼마나 유지되나요?",
            language="ko",
            relevant=["voiceping/security-checksheet-ja#38"],
        ),
        EvalQuestion(
            id="q3",
            question="Which email do we write to in an emergency?",
            language="en",
            relevant=["voiceping/security-checksheet-ja#13"],
        ),
        EvalQuestion(
            id="q4",
            question="画面を透明なフレームで重ねる攻撃への対策は?",
            language="ja",
            relevant=["voiceping/security-page-ja#50"],
        ),
    ]
    built = tune_model.examples(seed_assistant, questions)
    assert len(built) == 4
    assert all(e.negative for e in built)
    folder = str(ensure_converted(seed_assistant.settings.cache_dir.expanduser()).folder)
    recipe = Recipe(epochs=3, batch_size=4)

    def tuned() -> tuple[SentenceTransformer, list[float]]:
        model = SentenceTransformer(folder, device="cpu", local_files_only=True, model_kwargs={"dtype": torch.float32})
        return model, tune(model, built, recipe)

    before = _margins(SentenceTransformer(folder, device="cpu", local_files_only=True), built)
    model, losses = tuned()
    after = _margins(model, built)
    assert after.mean() > before.mean() + 0.02
    assert losses[-1] < losses[0]
    assert not model.training  # left ready to embed
    _, again = tuned()
    assert again == losses


@pytest.mark.model
def test_a_tuned_model_is_saved_as_it_would_ship(seed_assistant: Assistant, tmp_path: Path) -> None:
    from safetensors.numpy import load_file
    from sentence_transformers import SentenceTransformer

    from assistant.embedding.adaptation import RANK, apply_change, read_adaptation
    from assistant.embedding.conversion import ensure_converted

    question = EvalQuestion(
        id="q1", question="How many backup generations are kept?", language="en", relevant=["wevox/meti-checksheet#81"]
    )
    built = tune_model.examples(seed_assistant, [question])
    out = tmp_path / "tuned"
    losses, _ = tune_model.tuned_model(seed_assistant.settings, built, out)

    assert len(losses) == 2  # one batch, two epochs
    base = ensure_converted(seed_assistant.settings.cache_dir.expanduser()).folder  # tuned from the untuned weights
    parts, metadata = read_adaptation(out / tune_model.ADAPTATION_FILE)
    assert parts["encoder.layer.0.attention.self.query.weight.a"].shape == (384, RANK)
    assert json.loads(metadata["rank"]) == RANK
    weights = load_file(str(out / "model.safetensors"))
    expected = apply_change(load_file(str(base / "model.safetensors")), parts)
    np.testing.assert_array_equal(
        weights["encoder.layer.5.intermediate.dense.weight"], expected["encoder.layer.5.intermediate.dense.weight"]
    )
    assert not (out / "conversion.json").exists()  # the base's stamp is not the tuned model's
    model = SentenceTransformer(str(out), device="cpu", local_files_only=True)
    assert model.encode(["query: backups"]).shape == (1, 384)


def test_folds_hold_every_question_once_the_same_way_each_time() -> None:
    parts = tune_model.folds(454, 5)
    assert sorted(i for part in parts for i in part) == list(range(454))
    assert [len(part) for part in parts] == [91, 91, 91, 91, 90]
    assert tune_model.folds(454, 5) == parts
    assert parts[0] != list(range(91))  # shuffled: a fold is not a stretch of the file
