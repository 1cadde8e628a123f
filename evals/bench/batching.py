"""Build throughput by batch layout: passages/s of the ONNX embedder on the 10^4 corpus's passages.

Layouts, all on the same random passages in each round (layouts take turns, in reverse order every other round,
so a slow spell on the shared machine hits them alike):

- ``chars/32``: the layout before token batching - sorted by characters, 32 texts a batch;
- ``tokens/32``: sorted by token count, 32 texts a batch (sorting alone);
- ``tokens/64/<budget>``: `token_batches` - up to 64 texts and ``budget`` padded tokens a batch;
- ``1 thread``, ``2 x 1 thread``: the default layout on a one-thread session, alone and as two concurrent halves.

Runs in its own process (``python -m evals.bench.batching --backend onnx``); prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from assistant.corpus import load_corpus
from assistant.embedding import load_embedder
from assistant.embedding.embedder import embed_longest_first
from assistant.embedding.onnx_backend import BATCH_TEXTS, TOKEN_BUDGET, OnnxEmbedder
from assistant.passages import passage_text
from assistant.settings import Settings
from evals.bench.synthetic import synthetic_corpus

BUDGETS = (256, 512, 2048, 8192)
Embed = Callable[[Sequence[str]], object]


def _chars_first(embedder: OnnxEmbedder) -> Embed:
    """The layout before token batching: longest first by characters, 32 texts a batch."""
    prefix = embedder.passage_prompt

    def encode(batch: list[str]) -> Any:
        return embedder._run([e.ids for e in embedder._tokenizer.encode_batch([prefix + t for t in batch])])

    return lambda texts: embed_longest_first(texts, embedder.dimension, encode, batch_size=32)


def _halves(embedder: OnnxEmbedder, pool: ThreadPoolExecutor) -> Embed:
    return lambda texts: list(pool.map(embedder.embed_passages, [texts[0::2], texts[1::2]]))


def layouts(settings: Settings) -> dict[str, Embed]:
    """Each layout's embed function over passages."""
    default = load_embedder(settings)
    single = load_embedder(settings.model_copy(update={"threads": 1}))
    if not isinstance(default, OnnxEmbedder) or not isinstance(single, OnnxEmbedder):
        raise SystemExit(f"backend {settings.backend} does not run with onnxruntime")
    unbounded = default.with_token_budget(1 << 30)
    found: dict[str, Embed] = {
        "chars/32": _chars_first(default),
        "tokens/32": lambda texts: unbounded.embed_passages(texts, batch_size=32),
    }
    for budget in BUDGETS:
        found[f"tokens/{BATCH_TEXTS}/{budget}"] = default.with_token_budget(budget).embed_passages
    found["1 thread"] = single.embed_passages
    found["2 x 1 thread"] = _halves(single, ThreadPoolExecutor(2))
    return found


def measure(backend: str, rows: int, rounds: int) -> dict[str, Any]:
    settings = Settings.from_env(backend=backend)
    seed = load_corpus(settings.corpus_dir)
    corpus = synthetic_corpus(seed, 10_000, settings.corpus_dir.parent / "synthetic-corpus").corpus
    passages = [passage_text(row) for row in corpus.rows]
    embeds = layouts(settings)
    rng = np.random.default_rng(7)
    for embed in embeds.values():  # warm-up: first runs allocate
        embed(passages[:64])
    rates: dict[str, list[float]] = {name: [] for name in embeds}
    cpu: dict[str, list[float]] = {name: [] for name in embeds}
    for round_number in range(rounds):
        sample = [passages[i] for i in rng.choice(len(passages), rows, replace=False)]
        names = list(embeds) if round_number % 2 == 0 else list(embeds)[::-1]
        for name in names:
            begin, begin_cpu = time.perf_counter(), time.process_time()
            embeds[name](sample)
            rates[name].append(round(rows / (time.perf_counter() - begin), 1))
            cpu[name].append(round(rows / (time.process_time() - begin_cpu), 1))
    return {
        "backend": backend,
        "rows_per_round": rows,
        "default_layout": f"tokens/{BATCH_TEXTS}/{TOKEN_BUDGET}",
        "passages_per_second": {
            name: {"median": float(np.median(r)), "min": min(r), "max": max(r), "rounds": r}
            for name, r in rates.items()
        },
        # Passages per CPU-second of this process (all its threads): less sensitive to other processes on the cores.
        "passages_per_cpu_second": {name: float(np.median(r)) for name, r in cpu.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="onnx", choices=("onnx", "onnx-int8"))
    parser.add_argument("--rows", type=int, default=512, help="passages per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    json.dump(measure(args.backend, args.rows, args.rounds), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
