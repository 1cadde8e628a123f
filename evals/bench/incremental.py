"""Incremental builds of a synthetic index: rebuilding the unchanged corpus, adding a 100-row document, removing
it again, and whether the index with the document equals one built from scratch (into an empty folder) with the
same cache.

Run by ``python -m evals.bench`` after the synthetic index of that size was built with its cache (the vectors
of its rows are mixed, not embedded: the cache holds them, and only the new document's rows are embedded by
the model). Prints one JSON object. By hand::

    python -m evals.bench.incremental --size 100000 --index artifacts/bench/index-100000 \\
        --cache artifacts/bench/cache-100000.sqlite3
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.corpus import load_corpus
from assistant.corpus.loader import Corpus, Document
from assistant.embedding import Embedder, load_embedder
from assistant.embedding.embedder import ModelIdentity, Progress
from assistant.index import StoredIndex, build_index
from assistant.index.cache import BuildCache
from assistant.retrieval import Assistant
from assistant.settings import Settings
from evals.bench.questions import bench_questions
from evals.bench.recall import dense_signal
from evals.bench.synthetic import synthetic_corpus

ADDED_ROWS = 100


class CountingEmbedder(ModelIdentity):
    """The model, counting the passages and questions a build embeds."""

    def __init__(self, model: Embedder) -> None:
        super().__init__(
            name=model.name,
            fingerprint=model.fingerprint,
            dimension=model.dimension,
            query_prompt=model.query_prompt,
            passage_prompt=model.passage_prompt,
        )
        self.model = model
        self.passages = 0
        self.queries = 0

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.queries += len(texts)
        return self.model.embed_queries(texts)

    def embed_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None
    ) -> npt.NDArray[np.float32]:
        self.passages += len(texts)
        return self.model.embed_passages(texts, batch_size=batch_size, progress=progress)


def with_document(seed: Corpus, corpus: Corpus, rows: int) -> Corpus:
    """``corpus`` with one more document of ``rows`` rows (a new vendor's, recombined like the others)."""
    extra = synthetic_corpus(seed, len(seed.rows) + rows, corpus.root, rng_seed=7).corpus.documents[-1]
    meta = extra.meta.model_copy(
        update={"vendor": "Vendor added", "vendor_id": "vendor-added", "file": "vendor-added/sheet-0.tsv"}
    )
    renamed = tuple(
        row.model_copy(
            update={
                "id": row.id.replace(extra.meta.key, meta.key),
                "vendor": meta.vendor,
                "vendor_id": meta.vendor_id,
                "document_id": meta.key,
            }
        )
        for row in extra.rows
    )
    added = Document(meta=meta, path=extra.path, sha256="added-" + extra.sha256, rows=renamed)
    documents = (*corpus.documents, added)
    return dataclasses.replace(corpus, documents=documents, metas=tuple(d.meta for d in documents))


def _answers(settings: Settings, embedder: Embedder, index: StoredIndex, count: int) -> list[dict[str, Any]]:
    assistant = Assistant(settings, embedder, index)
    found = []
    for question in bench_questions(count):
        result = assistant.ask(question.question, vendor=question.vendor).model_dump(mode="json")
        found.append({k: v for k, v in result.items() if k not in ("timings_ms", "index_built_at")})
    return found


def _timed_build(settings: Settings, corpus: Corpus, embedder: Embedder, memo: BuildCache) -> tuple[StoredIndex, float]:
    begin = time.perf_counter()
    index = build_index(settings, corpus, embedder, memo=memo)
    return index, round(time.perf_counter() - begin, 2)


def measure(size: int, index_dir: Path, cache: Path, settings: Settings, questions: int) -> dict[str, Any]:
    model = load_embedder(settings)
    seed = load_corpus(settings.corpus_dir)
    corpus = synthetic_corpus(seed, size, index_dir.parent / "synthetic-corpus").corpus
    counting = CountingEmbedder(model)
    out: dict[str, Any] = {"size": size, "added_rows": ADDED_ROWS}
    with BuildCache(cache) as memo:
        before, out["unchanged_seconds"] = _timed_build(settings, corpus, counting, memo)
        out["unchanged_embedded"] = {"passages": counting.passages, "questions": counting.queries}
        added_corpus = with_document(seed, corpus, ADDED_ROWS)
        added, out["add_seconds"] = _timed_build(settings, added_corpus, counting, memo)
        out["add_embedded"] = {"passages": counting.passages, "questions": counting.queries}
        out["add_build_seconds"] = added.manifest.build_seconds
        out["rows_after_add"] = len(added.rows)
        scratch_dir = index_dir.with_name(index_dir.name + "-scratch")
        # Emptied first: a scratch folder left by an earlier run holds an index that matches, which would be
        # opened instead of built (then "scratch_seconds" timed an open, and the comparison an old build).
        shutil.rmtree(scratch_dir, ignore_errors=True)
        scratch_settings = settings.model_copy(update={"index_dir": scratch_dir})
        scratch, out["scratch_seconds"] = _timed_build(scratch_settings, added_corpus, model, memo)
        everything = np.arange(len(added.rows), dtype=np.int64)
        same = np.array_equal(
            dense_signal(added).vectors.reconstruct(everything), dense_signal(scratch).vectors.reconstruct(everything)
        )
        out["same_vectors_as_scratch"] = bool(same)
        answers = _answers(settings, model, added, questions)
        out["same_answers_as_scratch"] = answers == _answers(scratch_settings, model, scratch, questions)
        out["answers_compared"] = len(answers)
        counting.passages = counting.queries = 0
        restored, out["remove_seconds"] = _timed_build(settings, corpus, counting, memo)
        out["remove_embedded"] = {"passages": counting.passages, "questions": counting.queries}
        out["rows_after_remove"] = len(restored.rows)
        out["restored_rows_sha256_equal"] = restored.manifest.rows_sha256 == before.manifest.rows_sha256
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=300, help="questions whose answers are compared")
    parser.add_argument("--backend", default="onnx", choices=("onnx", "torch"))
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.cache.is_file():
        parser.error(f"{args.cache} is missing: build the index of {args.size} rows with it first")
    settings = Settings.from_env(index_dir=args.index, backend=args.backend, threads=args.threads)
    json.dump(measure(args.size, args.index, args.cache, settings, args.questions), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
