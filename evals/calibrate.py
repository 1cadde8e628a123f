"""Fit the calibrated confidence on the dev questions and choose its operating point; record how.

    python -m evals.calibrate                      # the default model, evals/questions.dev.jsonl
    ASSISTANT_MODEL=hashing python -m evals.calibrate

Runs every dev question through the assistant, reads the features each answer's confidence is computed
from (AskResult.features), and fits a logistic regression of "the first row answers the question" on them.
The operating point is the lowest probability at which the out-of-fold false-answer rate (wrong answers /
answers) stays within the target at that probability and every higher one with at least 1 / target answers,
so the choice is not fitted to the same predictions it is judged on. Writes the calibration to
assistant/calibrations/<model>.json and what was fitted, on what, and the dev curve to
evals/calibration/<model>.json and .md. Only the dev split is read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from assistant.calibration import FOLDER, Calibration, calibration_path
from assistant.evaluation.questions import load_questions
from assistant.evaluation.runner import Outcome, evaluate
from assistant.retrieval import Assistant
from assistant.settings import Settings

HERE = Path(__file__).resolve().parent
#: The features of the model, in this order (AskResult.features holds them and some more).
FEATURES = (
    "score",
    "dense",
    "lexical",
    "concepts",
    "margin",
    "support",
    "promoted",
    "question_chars",
    "cross_lingual",
    "vendor_named",
    "vendor_given",
)
TARGET_FALSE_ANSWER_RATE = 0.05
#: Inverse regularisation strengths tried (chosen by the cross-validated log-loss on dev).
STRENGTHS = (0.03, 0.1, 0.3, 1.0, 3.0)
FOLDS = 5
SEED = 0

FloatArray = npt.NDArray[np.float64]


def first_row_answers(outcome: Outcome) -> bool:
    """The label: the first row shown answers the question (for a conflict: it is one of the disagreeing rows)."""
    if outcome.expected_status == "conflict":
        return bool(outcome.ranked) and outcome.ranked[0] in outcome.expected_conflicting
    return outcome.expected_status == "answered" and outcome.correct


def decided_elsewhere(outcome: Outcome) -> bool:
    """Questions the confidence never decides: about a company without documents, or with no rows to search."""
    return outcome.reason_code in ("no_documents_for_subject", "no_rows")


def _matrix(outcomes: Sequence[Outcome]) -> FloatArray:
    return np.array([[o.features.get(name, 0.0) for name in FEATURES] for o in outcomes], dtype=np.float64)


def _model(strength: float) -> LogisticRegression:
    return LogisticRegression(C=strength, max_iter=1000)


def _out_of_fold(x: FloatArray, y: npt.NDArray[np.bool_], strength: float) -> FloatArray:
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    predicted = np.zeros(len(y), dtype=np.float64)
    for train, held in folds.split(x, y):
        mean, scale = x[train].mean(axis=0), x[train].std(axis=0) + 1e-9
        model = _model(strength).fit((x[train] - mean) / scale, y[train])
        predicted[held] = model.predict_proba((x[held] - mean) / scale)[:, 1]
    return predicted


def _log_loss(p: FloatArray, y: npt.NDArray[np.bool_]) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(np.where(y, np.log(p), np.log(1 - p))))


def operating_curve(
    probabilities: FloatArray, correct: npt.NDArray[np.bool_], answerable: int, total: int
) -> list[dict[str, float]]:
    """Answers, false-answer rate and coverage at every distinct probability, highest first."""
    order = np.argsort(-probabilities, kind="stable")
    curve = []
    for count in range(1, len(order) + 1):
        threshold = float(probabilities[order[count - 1]])
        if count < len(order) and probabilities[order[count]] == threshold:
            continue  # ties answer together
        wrong = int((~correct[order[:count]]).sum())
        curve.append(
            {
                "threshold": threshold,
                "answers": count,
                "false_answer_rate": wrong / count,
                "answered_correct_share": (count - wrong) / max(answerable, 1),
                "coverage": count / total,
            }
        )
    return curve


def choose_threshold(curve: list[dict[str, float]], target: float) -> float:
    """The lowest threshold whose false-answer rate, and that of every higher threshold, is within target.

    Only thresholds with at least 1 / target answers are judged: among fewer answers a single wrong one
    exceeds the target by itself (1 of 9 is 11 %), so one near miss among the most confident answers would
    otherwise set the operating point for all of them.

    >>> curve = [{"threshold": t, "answers": n, "false_answer_rate": r}
    ...          for t, n, r in [(0.99, 8, 0.0), (0.98, 9, 0.11), (0.9, 40, 0.05), (0.8, 60, 0.1)]]
    >>> choose_threshold(curve, 0.05), choose_threshold(curve, 0.2)
    (0.9, 0.8)
    """
    least = math.ceil(1 / target) if target > 0 else 1
    chosen = 1.0
    for point in curve:  # highest threshold first
        if point["false_answer_rate"] > target:
            if point["answers"] >= least:
                break
            continue
        chosen = point["threshold"]
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=HERE / "questions.dev.jsonl")
    parser.add_argument("--target", type=float, default=TARGET_FALSE_ANSWER_RATE)
    parser.add_argument("--out", type=Path, default=FOLDER, help="folder of the calibration files")
    parser.add_argument("--report", type=Path, default=HERE / "calibration", help="folder of the fit reports")
    args = parser.parse_args(argv)
    if "test" in args.questions.name:
        parser.error("calibrate on the dev split (or your own questions), never on the test split")
    logging.basicConfig(level=logging.WARNING)

    settings = Settings.from_env()
    assistant = Assistant.load(settings)
    model = assistant.embedder.name
    questions = load_questions(args.questions)
    report = evaluate(assistant, questions, questions_file=str(args.questions), model=model)
    fitted = [o for o in report.outcomes if not decided_elsewhere(o) and o.features]
    x = _matrix(fitted)
    y = np.array([first_row_answers(o) for o in fitted])

    losses = {strength: _log_loss(_out_of_fold(x, y, strength), y) for strength in STRENGTHS}
    strength = min(losses, key=lambda s: (losses[s], s))
    out_of_fold = _out_of_fold(x, y, strength)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    final = _model(strength).fit((x - mean) / scale, y)

    answerable = sum(o.expected_status == "answered" for o in report.outcomes)
    # Rows that disagree are shown as a conflict, not as an answer, whatever their confidence.
    decides = np.array([o.features.get("disagreement", 0.0) == 0.0 for o in fitted])
    curve = operating_curve(out_of_fold[decides], y[decides], answerable, len(report.outcomes))
    threshold = choose_threshold(curve, args.target)
    digest = hashlib.sha256(args.questions.read_bytes()).hexdigest()
    calibration = Calibration(
        model=model,
        features=list(FEATURES),
        means=[round(float(v), 6) for v in mean],
        scales=[round(float(v), 6) for v in scale],
        coefficients=[round(float(v), 6) for v in final.coef_[0]],
        intercept=round(float(final.intercept_[0]), 6),
        threshold=round(threshold, 6),
        target_false_answer_rate=args.target,
        fitted_on={
            "questions": args.questions.name,
            "sha256": digest,
            "n_questions": len(report.outcomes),
            "n_fitted": len(fitted),
            "n_positive": int(y.sum()),
            "regularisation_C": strength,
            "script": "evals/calibrate.py",
        },
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    path = calibration_path(model, args.out)
    path.write_text(calibration.model_dump_json(indent=2) + "\n", encoding="utf-8")

    at_threshold = next((p for p in reversed(curve) if p["threshold"] >= threshold), None)
    record = {
        "calibration": calibration.model_dump(mode="json"),
        "cross_validated_log_loss": {str(k): round(v, 4) for k, v in losses.items()},
        "out_of_fold_at_threshold": at_threshold,
        "out_of_fold_curve": [{k: round(v, 4) for k, v in p.items()} for p in curve],
    }
    args.report.mkdir(parents=True, exist_ok=True)
    stem = path.stem
    (args.report / f"{stem}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# Calibration of {model}",
        "",
        f"Fitted by `python -m evals.calibrate` on {args.questions.name} (sha256 {digest[:12]}), "
        f"{len(fitted)} of {len(report.outcomes)} questions ({int(y.sum())} whose first row answers); "
        f"logistic regression, C={strength} chosen by {FOLDS}-fold cross-validated log-loss.",
        "",
        f"Operating point: probability {threshold:.3f}, the lowest at which the out-of-fold false-answer rate "
        f"stays within {args.target:.0%}.",
        "",
        "| feature | coefficient (standardised) |",
        "|---|---:|",
        *(f"| {name} | {coef:+.3f} |" for name, coef in zip(FEATURES, final.coef_[0], strict=True)),
        "",
        "Out of fold at the operating point: "
        + (
            f"{at_threshold['answers']:.0f} answers, false-answer rate {at_threshold['false_answer_rate']:.3f}, "
            f"{at_threshold['answered_correct_share']:.1%} of the answerable questions answered correctly."
            if at_threshold
            else "no answers."
        ),
    ]
    (args.report / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path} (threshold {threshold:.3f}) and {args.report / (stem + '.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
