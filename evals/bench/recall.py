"""Recall@10 of the dense index's unscoped searches against exact search over the vectors before indexing.

Two measures: by ids (the share of the exact top 10's rows the index returns) and by scores (the share of
the returned rows that score at least the exact 10th score). They differ where rows tie: a synthetic corpus
repeats passages, whose rows share one vector, and any of the tied rows is as right as another.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from assistant.corpus.language import detect_language
from assistant.index.folder import StoredIndex
from assistant.retrieval import Assistant
from assistant.signals.dense import DenseSignal
from evals.bench.questions import bench_questions

FloatArray = npt.NDArray[np.float32]
#: Rows scored per block of the exact search (bounds its memory).
_BLOCK = 50_000


def dense_signal(index: StoredIndex) -> DenseSignal:
    dense = index.signals["dense"]
    if not isinstance(dense, DenseSignal):
        raise TypeError("the benchmark measures the dense signal's FAISS index")
    return dense


def unscoped_queries(assistant: Assistant, count: int) -> FloatArray:
    """The benchmark questions as the dense signal searches them over the whole corpus: shape (count, 2 * dim)."""
    dense = dense_signal(assistant.index)
    rows = []
    for question in bench_questions(count):
        cleaned = assistant.validate_question(question.question)
        searched = assistant.names.remove_names(cleaned)
        language = detect_language(searched) or detect_language(cleaned)
        rows.append(dense.means.query_vector(assistant.embedder.embed_queries([searched]), language)[0])
    return np.vstack(rows).astype(np.float32)


Block = Callable[[npt.NDArray[np.int64]], FloatArray]


def exact_top(
    count: int, block_of: Block, queries: FloatArray, k: int = 10
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """The ``k`` best scores and rows by inner product with each query (exact, float32) among ``count`` vectors
    that ``block_of(rows)`` gives a block at a time."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, count, _BLOCK):
        rows = np.arange(start, min(start + _BLOCK, count), dtype=np.int64)
        block = np.ascontiguousarray(block_of(rows), dtype=np.float32)
        scores = np.hstack([best_scores, queries @ block.T])
        ids = np.hstack([best_ids, np.broadcast_to(np.arange(start, start + len(block)), (len(queries), len(block)))])
        keep = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        best_scores = np.take_along_axis(scores, keep, axis=1)
        best_ids = np.take_along_axis(ids, keep, axis=1)
    return best_scores, best_ids


def recall_at_10(index: StoredIndex, block_of: Block, queries: FloatArray) -> dict[str, float]:
    """Recall@10 of the index's search against exact search over the vectors ``block_of`` gives (the float32
    vectors the index was built from, or its own), by ids and by scores (see the module docstring)."""
    count = dense_signal(index).vectors.size
    scores, truth = exact_top(count, block_of, queries)
    found = dense_signal(index).vectors.search(queries, 10)[1]
    by_ids = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    true_scores = np.array([block_of(f) @ q for f, q in zip(found, queries, strict=True)])
    by_scores = np.mean(true_scores >= scores[:, -1:] - 1e-6)
    return {"by_ids": round(float(by_ids), 4), "by_scores": round(float(by_scores), 4)}
