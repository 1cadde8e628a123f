"""bm25s against our BM25 (`assistant.signals.bm25`): build time, query time, memory and disk, same tokens.

    python -m evals.bench.bm25_compare                       # 10^5 and 10^6 synthetic rows
    python -m evals.bench.bm25_compare --sizes 100000 --questions 100

Each (implementation, size) runs in a fresh process (so its peak memory is its own) on the synthetic corpus of
the benchmark (`evals.bench.synthetic`, the rows' passage texts). Both get the same tokens (our tokenizer: words
and CJK bigrams) and the same ranking function (Lucene's BM25, k1 1.2, b 0.75); the script checks that their
top 10 agree. Query time is measured over the labelled questions of evals/ for the two ways `ask` scores rows:
every row (no vendor chosen, then the top 10) and one vendor's rows (a vendor named; bm25s masks the others).
Prints a Markdown table and writes JSON (``--json``). bm25s is only needed for this script (``pip install
'bm25s==0.3.16'``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
IMPLEMENTATIONS = ("ours", "bm25s")
K1, B, TOP = 1.2, 0.75, 10
ALL, VENDOR = "all rows, top 10", "one vendor's rows"


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def _questions(count: int) -> list[str]:
    texts = []
    for name in ("questions.dev.jsonl", "questions.test.jsonl"):
        for line in (REPO_ROOT / "evals" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["question"])
    return texts[:count]


def _percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(values, 50)), 3), "p95": round(float(np.percentile(values, 95)), 3)}


def worker(implementation: str, size: int, questions: int) -> dict[str, Any]:
    """Build, save, load and query one implementation on ``size`` synthetic rows; the numbers as a dict."""
    from assistant.corpus import load_corpus
    from assistant.passages import passage_text
    from assistant.settings import Settings
    from assistant.signals.bm25 import BM25, tokenize
    from evals.bench.synthetic import synthetic_corpus

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = synthetic_corpus(load_corpus(Settings.from_env().corpus_dir), size, root / "corpus").corpus
        passages = [passage_text(row) for row in corpus.rows]
        vendor_rows = np.flatnonzero(np.array([row.vendor == corpus.rows[-1].vendor for row in corpus.rows]))
        del corpus
        texts = _questions(questions)
        before = _rss_mb()
        started = time.perf_counter()
        if implementation == "ours":
            index: Any = BM25(passages, k1=K1, b=B)
            built = time.perf_counter() - started
            index.save(root, "bm25", root / "vocabulary.json")
            del index
            started = time.perf_counter()
            index = BM25.load(root, "bm25", root / "vocabulary.json", len(passages))
            loaded = time.perf_counter() - started
            disk = sum(p.stat().st_size for p in root.iterdir() if p.name.startswith(("bm25.", "vocabulary"))) / 2**20

            def everything(text: str) -> np.ndarray:
                scores = index.scores(text)
                top = np.argpartition(-scores, TOP)[:TOP]
                return top[np.argsort(-scores[top], kind="stable")]

            def scoped(text: str) -> np.ndarray:
                return np.asarray(index.scores_of(text, vendor_rows))
        else:
            import bm25s  # type: ignore[import-untyped]

            tokens = [tokenize(text) for text in passages]
            index = bm25s.BM25(k1=K1, b=B, method="lucene")
            index.index(tokens, show_progress=False)
            built = time.perf_counter() - started
            del tokens
            index.save(str(root / "bm25s"))
            del index
            started = time.perf_counter()
            index = bm25s.BM25.load(str(root / "bm25s"))
            loaded = time.perf_counter() - started
            disk = _folder_mb(root / "bm25s")
            mask = np.zeros(len(passages), dtype=np.float32)
            mask[vendor_rows] = 1.0

            def everything(text: str) -> np.ndarray:
                query = [t for t in tokenize(text) if t in index.vocab_dict]
                if not query:
                    return np.zeros(0, dtype=np.int64)
                ids, _ = index.retrieve([query], k=TOP, show_progress=False, n_threads=1)
                return np.asarray(ids[0])

            def scoped(text: str) -> np.ndarray:
                query = [t for t in tokenize(text) if t in index.vocab_dict]
                scores = index.get_scores(query, weight_mask=mask) if query else np.zeros(len(passages))
                return np.asarray(scores)[vendor_rows]

        after = _rss_mb()
        timings: dict[str, list[float]] = {ALL: [], VENDOR: []}
        tops = []
        for text in texts:
            started = time.perf_counter()
            tops.append(everything(text).tolist())
            timings[ALL].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            scoped(text)
            timings[VENDOR].append((time.perf_counter() - started) * 1000)
        return {
            "implementation": implementation,
            "rows": size,
            "build_s": round(built, 2),
            "load_s": round(loaded, 3),
            "index_rss_mb": round(after - before, 1),
            "peak_rss_mb": round(_peak_mb(), 1),
            "disk_mb": round(disk, 1),
            "query_ms": {name: _percentiles(values) for name, values in timings.items()},
            "vendor_rows": len(vendor_rows),
            "tops": tops,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench.bm25_compare", description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--questions", type=int, default=300, help="labelled questions to time")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", nargs=2, metavar=("IMPLEMENTATION", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.questions)))
        return 0
    results = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        for implementation in IMPLEMENTATIONS:
            command = [sys.executable, "-m", "evals.bench.bm25_compare", "--questions", str(args.questions)]
            command += ["--worker", implementation, str(size)]
            print(f"  $ {' '.join(command[1:])}", file=sys.stderr, flush=True)
            done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
            if done.returncode != 0:
                raise SystemExit(f"{implementation} at {size} rows failed:\n{done.stderr[-3000:]}")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    lines = [
        "| rows | implementation | build s | load s | index RSS MB | peak RSS MB | disk MB "
        f"| {ALL}: p50 / p95 ms | {VENDOR}: p50 / p95 ms | top 10 same as ours |",
        "|---:|---|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for result in results:
        ours = next(r for r in results if r["rows"] == result["rows"] and r["implementation"] == "ours")
        same = np.mean(
            [len(set(a) & set(b)) / max(len(a), 1) for a, b in zip(ours["tops"], result["tops"], strict=True)]
        )
        q = result["query_ms"]
        lines.append(
            f"| {result['rows']:,} | {result['implementation']} | {result['build_s']} | {result['load_s']} | "
            f"{result['index_rss_mb']} | {result['peak_rss_mb']} | {result['disk_mb']} | "
            f"{q[ALL]['p50']} / {q[ALL]['p95']} | {q[VENDOR]['p50']} / {q[VENDOR]['p95']} | "
            f"{same:.3f} |"
        )
    print("\n".join(lines))
    if args.json:
        args.json.write_text(
            json.dumps([{k: v for k, v in r.items() if k != "tops"} for r in results], indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
