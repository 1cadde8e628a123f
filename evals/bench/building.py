"""One build process: build the seed or a synthetic index, and report its throughput and peak memory.

Run by ``python -m evals.bench`` in a fresh process per build (so the peak memory is that build's alone);
prints one JSON object. By hand::

    python -m evals.bench.building --size 10000 --index artifacts/bench/index-10000 --real
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psutil

from assistant.corpus import load_corpus
from assistant.corpus.models import Row
from assistant.embedding import Embedder, load_embedder
from assistant.index import StoredIndex, build_index
from assistant.index.cache import BuildCache
from assistant.memo import Memo
from assistant.passages import passage_text
from assistant.retrieval import Assistant
from assistant.settings import Settings
from evals.bench.recall import FloatArray, dense_signal, recall_at_10, unscoped_queries
from evals.bench.synthetic import build_synthetic, describe, seed_passage_vectors

#: Questions the recall is measured with (as in the serving benchmark).
QUESTIONS = 300


class _Discard:
    """A memo that keeps nothing (the 10^6 build: its mixed vectors are not worth 1.6 GB of cache)."""

    def get_many(self, kind: str, keys: Sequence[bytes]) -> list[bytes | None]:
        return [None] * len(keys)

    def put_many(self, kind: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        return None


def build(size: str, index_dir: Path, settings: Settings, *, real: bool, cache: Path | None) -> dict[str, Any]:
    """Build from an empty cache (``cache``, deleted first; None keeps nothing), so the build computes everything."""
    started = time.perf_counter()
    embedder = load_embedder(settings)
    seed = load_corpus(settings.corpus_dir)
    loaded = time.perf_counter()
    rss_before = psutil.Process().memory_info().rss / 2**20
    recall = None
    with contextlib.ExitStack() as stack:
        memo: Memo = _Discard()
        if cache is not None:
            for path in cache.parent.glob(cache.name + "*"):
                path.unlink()
            memo = stack.enter_context(BuildCache(cache))
        if size == "seed":
            stored = build_index(settings, seed, embedder, memo=memo)
            wall = time.perf_counter() - loaded
        else:
            vectors = None if real else seed_passage_vectors(seed, embedder)
            stored, wall, synthetic, used = build_synthetic(
                settings, seed, int(size), embedder, real=real, memo=memo, seed_vectors=vectors
            )
            if not real:
                recall = _recall(settings, synthetic.corpus.rows, used, embedder, stored)
    manifest = stored.manifest
    return {
        "size": size,
        **describe(stored),
        "real_embeddings": real or size == "seed",
        "backend": settings.backend,
        "faiss_index": manifest.signals["dense"]["faiss_index"],
        "model_load_seconds": round(loaded - started, 2),
        # build_seconds: embedding, language means, FAISS and BM25; wall adds writing and reading the folder back
        "build_seconds": manifest.build_seconds,
        "wall_seconds": round(wall, 2),
        "rows_per_second": round(manifest.rows / manifest.build_seconds, 1),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "recall_at_10_vs_float32": recall,
    }


def _recall(
    settings: Settings, rows: list[Row], fixed: Embedder, model: Embedder, stored: StoredIndex
) -> dict[str, float]:
    """Recall@10 of the built index against exact search over the float32 vectors it was built from."""
    means = dense_signal(stored).means

    def original(positions: npt.NDArray[np.int64]) -> FloatArray:
        chosen = [rows[int(n)] for n in np.atleast_1d(positions)]
        plain = fixed.embed_passages([passage_text(row) for row in chosen])
        vectors = means.index_vectors(plain, [row.language for row in chosen])
        return vectors if np.ndim(positions) else vectors[0]

    queries = unscoped_queries(Assistant(settings, model, stored), QUESTIONS)
    return recall_at_10(stored, original, queries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", required=True, help="'seed' or a row count")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--backend", default="onnx", choices=("onnx", "onnx-int8", "torch"))
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--real", action="store_true", help="embed every row (else mixed seed vectors)")
    parser.add_argument("--cache", type=Path, help="the build cache to start empty and keep (default: none)")
    args = parser.parse_args(argv)
    settings = Settings.from_env(index_dir=args.index, backend=args.backend, threads=args.threads)
    json.dump(build(args.size, args.index, settings, real=args.real, cache=args.cache), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
