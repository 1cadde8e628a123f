"""Recall@10 of the dense index's unscoped searches against exact search over the vectors before indexing.

Three measures: by ids (the share of the exact top 10's rows the index returns); by vectors (the same, a
returned row counting for an exact top-10 row whose vector is identical, byte for byte); and by scores (the
share of the returned rows that score at least the exact 10th score). By ids counts a tie as a miss: a synthetic
corpus repeats passages (a row's question with another row's answer, 343 seed rows recombined into 10^6), whose
rows share one vector, and the exact search keeps the first rows of such a group while FAISS keeps any of them;
a real corpus repeats passages too (a newer version restates most of its rows). Rows with identical vectors
cannot be told apart by any dense index, so by vectors is the measure of the index's recall; by ids is kept so
that the gap stays visible.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

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


def recalls(
    truth: npt.NDArray[np.int64],
    found: Sequence[npt.NDArray[np.int64]],
    block_of: Block,
    queries: FloatArray,
    threshold: FloatArray,
    k: int = 10,
) -> dict[str, float]:
    """Recall@k by ids, by vectors and by scores (see the module docstring) of ``found`` (rows returned per query)
    against ``truth`` (the exact top k per query), whose k-th score per query is ``threshold``.

    >>> vectors = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)  # rows 0 and 1 tie
    >>> truth, found = np.array([[0, 2]]), [np.array([1, 2])]
    >>> recalls(truth, found, lambda rows: vectors[rows], np.array([[1, 1]], np.float32), np.array([1.0]), k=2)
    {'by_ids': 0.5, 'by_vectors': 1.0, 'by_scores': 1.0}
    """
    by_ids, by_vectors, by_scores = [], [], []
    for exact, returned, query, lowest in zip(truth, found, queries, threshold, strict=True):
        by_ids.append(len(set(exact.tolist()) & set(returned.tolist())) / k)
        wanted = Counter(row.tobytes() for row in np.ascontiguousarray(block_of(exact), dtype=np.float32))
        got = Counter(row.tobytes() for row in np.ascontiguousarray(block_of(returned), dtype=np.float32))
        by_vectors.append(sum((wanted & got).values()) / k)
        by_scores.append(float(np.mean(block_of(returned) @ query >= lowest - 1e-6)) if len(returned) else 0.0)
    return {name: round(float(np.mean(values)), 4) for name, values in
            (("by_ids", by_ids), ("by_vectors", by_vectors), ("by_scores", by_scores))}  # fmt: skip


def recall_at_10(index: StoredIndex, block_of: Block, queries: FloatArray) -> dict[str, float]:
    """Recall@10 of the index's search against exact search over the vectors ``block_of`` gives (the float32
    vectors the index was built from, or its own), by ids and by scores (see the module docstring)."""
    count = dense_signal(index).vectors.size
    scores, truth = exact_top(count, block_of, queries)
    found = dense_signal(index).vectors.search(queries, 10)[1]
    return recalls(truth, list(found), block_of, queries, scores[:, -1])
