"""Fine-tune the embedding model on labelled questions (the dev split by default) and save it as a model folder.

    python -m evals.tune_model --out ~/tuned-e5      # about 8 minutes on 2 cores for the 454 dev questions
    ASSISTANT_MODEL=~/tuned-e5 assistant eval --questions evals/questions.test.jsonl --index /tmp/tuned-index

The folder is a sentence-transformers model (it runs with torch, not onnxruntime) and holds `tuning.json`: the
questions file and its sha256, the base model's fingerprint, the recipe (`assistant.embedding.tuning.Recipe`),
the number of examples, each step's loss and the time it took. The examples are built by the assistant as it
is configured (`ASSISTANT_*` settings): each answerable question, as it is searched (vendor names taken out),
with the rows that answer it and the best-ranked row that does not. The test split is refused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.embedding.tuning import Example, Recipe, tune
from assistant.evaluation.questions import EvalQuestion, load_questions
from assistant.passages import passage_text
from assistant.retrieval import Assistant
from assistant.settings import Settings

HERE = Path(__file__).resolve().parent
#: Ranked rows the hard negative is looked for among.
DEPTH = 10
TUNING_FILE = "tuning.json"


def examples(assistant: Assistant, questions: Sequence[EvalQuestion]) -> list[Example]:
    """Each answerable question with at least one answer row in the corpus, in file order."""
    rows = [assistant.rows[p] for p in range(len(assistant.rows))]
    prompt = assistant.embedder.query_prompt
    passage = assistant.embedder.passage_prompt
    out = []
    for question in questions:
        if not question.answerable:
            continue
        right = [p for p, row in enumerate(rows) if question.is_relevant(row.id, row.source_text)]
        if not right:
            continue
        asked = assistant._prepare(question.question, question.vendor, question.filter_language, DEPTH)
        vector = assistant.embedder.embed_queries([asked.searched_text])
        hits = assistant._rank(asked.searched_text, vector, asked.question_language, asked.allowed, DEPTH)
        wrong = next((h.position for h in hits if h.position not in right), None)
        out.append(
            Example(
                query=prompt + asked.searched_text,
                positives=tuple(passage + passage_text(rows[p]) for p in right),
                negative=None if wrong is None else passage + passage_text(rows[wrong]),
            )
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=HERE / "questions.dev.jsonl")
    parser.add_argument("--out", type=Path, required=True, help="folder to save the tuned model in (new or empty)")
    args = parser.parse_args(argv)
    if "test" in args.questions.name:
        parser.error("tune on the dev split (or your own questions), never on the test split")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty: choose a new folder")
    logging.basicConfig(level=logging.WARNING)

    settings = Settings.from_env()
    assistant = Assistant.load(settings)
    built = examples(assistant, load_questions(args.questions))
    from sentence_transformers import SentenceTransformer

    from assistant.embedding.conversion import ensure_converted
    from assistant.settings import DEFAULT_MODEL

    base = (
        str(ensure_converted(settings.cache_dir.expanduser()).folder)
        if settings.model == DEFAULT_MODEL
        else settings.model
    )
    model = SentenceTransformer(base, device="cpu", local_files_only=True)
    recipe = Recipe()
    started = time.perf_counter()
    losses = tune(model, built, recipe)
    seconds = time.perf_counter() - started
    model.save(str(args.out))
    # Keep the base's module settings (its model arguments: no pooler, which mean pooling never uses); the
    # saved form lacks them, and loading it would report a pooler "newly initialized".
    settings_file = Path(base) / "sentence_bert_config.json"
    if settings_file.is_file():
        shutil.copyfile(settings_file, args.out / settings_file.name)
    record = {
        "base_model": settings.model,
        "base_fingerprint": assistant.embedder.fingerprint,
        "questions": args.questions.name,
        "sha256": hashlib.sha256(args.questions.read_bytes()).hexdigest(),
        "n_examples": len(built),
        "n_with_negative": sum(e.negative is not None for e in built),
        "recipe": recipe.describe(),
        "losses": [round(x, 4) for x in losses],
        "seconds": round(seconds, 1),
        "script": "evals/tune_model.py",
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    (args.out / TUNING_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(
        f"tuned on {len(built)} questions of {args.questions.name} in {seconds:.0f} s "
        f"(loss {losses[0]:.3f} -> {losses[-1]:.3f}); saved to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
