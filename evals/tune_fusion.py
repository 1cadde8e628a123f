"""Choose the fusion weights and the candidate depth on the dev questions; record how.

    python -m evals.tune_fusion                     # the default model, evals/questions.dev.jsonl
    ASSISTANT_MODEL=hashing python -m evals.tune_fusion

The dense signal's weight stays 1 (the scale the other weights are relative to). Every combination of the other
signals' weights on `GRID` is tried at the default depth, then each of `DEPTHS` with the best weights; each try
runs every dev question through the assistant. The choice maximises hit@1 over the answerable questions, then
MRR@10; ties go to the smaller sum of weights (a signal that does not help stays small), then the depth
nearest the default (50).
Writes the choice to assistant/calibrations/fusion-<model>.json (the library reads it) and every try to
evals/fusion/<model>.json and .md. Only the dev split is read. Refit the calibration afterwards
(``python -m evals.calibrate``): the confidence is computed from the fused scores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assistant.calibration import FOLDER
from assistant.embedding import Embedder
from assistant.evaluation.questions import EvalQuestion, load_questions
from assistant.evaluation.runner import evaluate
from assistant.fusion import DEPTH, FusionSettings, fusion_path
from assistant.retrieval import Assistant
from assistant.settings import Settings
from assistant.signals import registered

HERE = Path(__file__).resolve().parent
#: Weights tried for each signal other than "dense" (whose weight is 1).
GRID = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
#: Candidate depths tried with the best weights. The evaluation asks for 10 rows, and fusion takes at least
#: 5 * k candidates, so depths below 50 rank the same there; they are not tried.
DEPTHS = (50, 100, 200)
ANCHOR = "dense"


@dataclass(frozen=True)
class Trial:
    """One try: the weights, the depth, and what they scored on the questions."""

    weights: dict[str, float]
    depth: int
    hit_at_1: float
    mrr_at_10: float

    def key(self) -> tuple[float, float, float, int]:
        """Larger is better: hit@1, MRR@10, then smaller weights, then the depth nearest the default."""
        weights = -round(sum(self.weights.values()), 9)
        return (round(self.hit_at_1, 9), round(self.mrr_at_10, 9), weights, -abs(self.depth - DEPTH))


class CachedEmbedder:
    """An embedder that embeds each question once, however many trials ask it (passages pass through)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.fingerprint, self.dimension = inner.name, inner.fingerprint, inner.dimension
        self.query_prompt, self.passage_prompt = inner.query_prompt, inner.passage_prompt
        self._cache: dict[str, npt.NDArray[np.float32]] = {}

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self.inner.embed_queries(missing), strict=True))
        return np.stack([self._cache[t] for t in texts]).astype(np.float32)

    def embed_passages(self, texts: Sequence[str], **kwargs: object) -> npt.NDArray[np.float32]:
        return self.inner.embed_passages(texts, **kwargs)  # type: ignore[arg-type]


def trial(assistant: Assistant, questions: Sequence[EvalQuestion], weights: dict[str, float], depth: int) -> Trial:
    """Rank every question with these weights and depth; hit@1 and MRR@10 over the answerable ones."""
    assistant.weights, assistant.depth = dict(weights), depth
    report = evaluate(assistant, questions, questions_file="", model=assistant.embedder.name)
    return Trial(
        dict(weights), depth, float(report.overall.get("hit@1", 0.0)), float(report.overall.get("mrr@10", 0.0))
    )


def tune(
    assistant: Assistant,
    questions: Sequence[EvalQuestion],
    grid: Sequence[float] = GRID,
    depths: Sequence[int] = DEPTHS,
) -> tuple[Trial, list[Trial]]:
    """The best trial and every trial: the weights on ``grid`` at the default depth, then each depth."""
    others = [name for name in assistant.index.signals if name != ANCHOR]
    anchor = {ANCHOR: 1.0} if ANCHOR in assistant.index.signals else {}
    trials = []
    for values in itertools.product(grid, repeat=len(others)):
        trials.append(trial(assistant, questions, {**anchor, **dict(zip(others, values, strict=True))}, DEPTH))
    best = max(trials, key=Trial.key)
    for depth in depths:
        if depth != DEPTH:
            trials.append(trial(assistant, questions, best.weights, depth))
    return max(trials, key=Trial.key), trials


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=HERE / "questions.dev.jsonl")
    parser.add_argument("--out", type=Path, default=FOLDER, help="folder of the fusion settings files")
    parser.add_argument("--report", type=Path, default=HERE / "fusion", help="folder of the tuning reports")
    args = parser.parse_args(argv)
    if "test" in args.questions.name:
        parser.error("tune on the dev split (or your own questions), never on the test split")
    logging.basicConfig(level=logging.WARNING)

    assistant = Assistant.load(Settings.from_env())
    assistant.embedder = CachedEmbedder(assistant.embedder)
    model = assistant.embedder.name
    questions = load_questions(args.questions)
    defaults = {name: registered()[name].weight for name in assistant.index.signals}
    before = trial(assistant, questions, defaults, DEPTH)
    best, trials = tune(assistant, questions, GRID, DEPTHS)
    digest = hashlib.sha256(args.questions.read_bytes()).hexdigest()
    settings = FusionSettings(
        model=model,
        weights=best.weights,
        depth=best.depth,
        fitted_on={
            "questions": args.questions.name,
            "sha256": digest,
            "n_questions": len(questions),
            "n_answerable": sum(q.answerable for q in questions),
            "hit@1": round(best.hit_at_1, 4),
            "mrr@10": round(best.mrr_at_10, 4),
            "grid": " ".join(str(v) for v in GRID),
            "depths": " ".join(str(v) for v in DEPTHS),
            "script": "evals/tune_fusion.py",
        },
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    path = fusion_path(model, args.out)
    path.write_text(settings.model_dump_json(indent=2) + "\n", encoding="utf-8")

    ranked = sorted(trials, key=Trial.key, reverse=True)
    args.report.mkdir(parents=True, exist_ok=True)
    stem = path.stem
    record = {
        "settings": settings.model_dump(mode="json"),
        "before": before.__dict__,
        "trials": [t.__dict__ for t in ranked],
    }
    (args.report / f"{stem}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    names = list(best.weights)
    lines = [
        f"# Fusion settings of {model}",
        "",
        f"Chosen by `python -m evals.tune_fusion` on {args.questions.name} (sha256 {digest[:12]}), "
        f"{len(questions)} questions: {len(trials)} trials, weights of the signals other than dense on {list(GRID)} "
        f"at depth {DEPTH}, then depths {list(DEPTHS)}.",
        "",
        f"Before (the signals' default weights {before.weights}, depth {before.depth}): "
        f"hit@1 {before.hit_at_1:.3f}, MRR@10 {before.mrr_at_10:.3f}.",
        f"Chosen: {best.weights}, depth {best.depth}: hit@1 {best.hit_at_1:.3f}, MRR@10 {best.mrr_at_10:.3f}.",
        "",
        "| " + " | ".join(names) + " | depth | hit@1 | MRR@10 |",
        "|" + "---:|" * (len(names) + 3),
        *(
            "| " + " | ".join(f"{t.weights.get(n, 0.0):g}" for n in names) + f" | {t.depth} | {t.hit_at_1:.3f} | "
            f"{t.mrr_at_10:.3f} |"
            for t in ranked[:15]
        ),
        "",
        f"(the best 15 of {len(trials)}; all in {stem}.json)",
    ]
    (args.report / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(
        f"wrote {path}: weights {best.weights}, depth {best.depth} (hit@1 {best.hit_at_1:.3f} on {args.questions.name})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
