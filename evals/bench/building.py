"""One build process: build the seed or a synthetic index, and report its throughput and peak memory.

Run by ``python -m evals.bench`` in a fresh process per build (so the peak memory is that build's alone);
prints one JSON object. By hand::

    python -m evals.bench.building --size 10000 --index artifacts/bench/index-10000 --real
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from assistant.corpus import load_corpus
from assistant.embedding import load_embedder
from assistant.index import build_index
from assistant.settings import Settings
from evals.bench.synthetic import build_synthetic, describe, seed_passage_vectors


def build(size: str, index_dir: Path, settings: Settings, *, real: bool) -> dict[str, Any]:
    started = time.perf_counter()
    embedder = load_embedder(settings)
    seed = load_corpus(settings.corpus_dir)
    loaded = time.perf_counter()
    rss_before = psutil.Process().memory_info().rss / 2**20
    cpu_before = time.process_time()
    if size == "seed":
        stored = build_index(settings, seed, embedder)
        wall = time.perf_counter() - loaded
    else:
        vectors = None if real else seed_passage_vectors(seed, embedder)
        stored, wall = build_synthetic(settings, seed, int(size), embedder, real=real, seed_vectors=vectors)
    manifest = stored.manifest
    cpu_seconds = time.process_time() - cpu_before
    return {
        "size": size,
        **describe(stored.rows),
        "real_embeddings": real or size == "seed",
        "backend": settings.backend,
        "model_fingerprint": manifest.model_fingerprint[:12],
        "faiss_index": manifest.faiss_index,
        "model_load_seconds": round(loaded - started, 2),
        # build_seconds: embedding, language means, FAISS and BM25; wall adds writing and reading the folder back
        "build_seconds": manifest.build_seconds,
        "wall_seconds": round(wall, 2),
        "rows_per_second": round(manifest.rows / manifest.build_seconds, 1),
        # CPU seconds of this process (all threads) over the wall: ~2 on an idle 2-core machine, less when shared.
        "cpu_seconds": round(cpu_seconds, 1),
        "cores_used": round(cpu_seconds / wall, 2),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", required=True, help="'seed' or a row count")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--backend", default="onnx", choices=("onnx", "onnx-int8", "torch"))
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--real", action="store_true", help="embed every row (else mixed seed vectors)")
    args = parser.parse_args(argv)
    settings = Settings.from_env(index_dir=args.index, backend=args.backend, threads=args.threads)
    json.dump(build(args.size, args.index, settings, real=args.real), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
