"""Nearest rows by cosine: a FAISS index over L2-normalised row vectors, with optional row filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

#: faiss's bundled stubs lack the search-parameter classes (they exist at run time).
_faiss: Any = faiss

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]

#: Up to this many rows, exact search (a flat inner-product index) is fast enough and exact.
EXACT_SEARCH_MAX_ROWS = 200_000


def set_threads(threads: int) -> None:
    """FAISS's OpenMP threads (0 leaves FAISS's default: all cores)."""
    if threads > 0:
        faiss.omp_set_num_threads(threads)


class VectorIndex:
    """A FAISS index whose ids are row positions.

    >>> vectors = np.eye(4, dtype=np.float32)
    >>> index = VectorIndex.build(vectors)
    >>> scores, ids = index.search(np.array([[0, 1, 0, 0]], dtype=np.float32), k=2)
    >>> ids[0].tolist(), scores[0].round(3).tolist()
    ([1, 0], [1.0, 0.0])
    """

    def __init__(self, index: Any) -> None:
        self._index = index

    @classmethod
    def build(cls, vectors: FloatArray) -> VectorIndex:
        """Exact inner product for corpora up to `EXACT_SEARCH_MAX_ROWS`, HNSW above."""
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be a 2-D array, got shape {vectors.shape}")
        count, dimension = vectors.shape
        if count > EXACT_SEARCH_MAX_ROWS:
            index: Any = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = 128
        else:
            index = faiss.IndexFlatIP(dimension)
        if count:
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def kind(self) -> str:
        return type(self._index).__name__

    def search(self, queries: FloatArray, k: int, allowed: IdArray | None = None) -> tuple[FloatArray, IdArray]:
        """Top-``k`` (score, row position) per query, best first; ``allowed`` restricts the rows.

        Fewer than ``k`` results come back when fewer rows exist (or are allowed): the padding FAISS
        returns (id -1) is removed, so every returned id is a real row.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim != 2 or queries.shape[1] != self.dimension:
            raise ValueError(f"queries must have shape (n, {self.dimension}), got {queries.shape}")
        limit = self.size if allowed is None else min(self.size, len(allowed))
        k = min(k, limit)
        if k == 0:
            empty_scores = np.zeros((len(queries), 0), dtype=np.float32)
            return empty_scores, np.zeros((len(queries), 0), dtype=np.int64)
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = (
                _faiss.SearchParametersHNSW(sel=selector, efSearch=max(128, 2 * k))
                if isinstance(self._index, faiss.IndexHNSW)
                else _faiss.SearchParameters(sel=selector)
            )
        scores, ids = self._index.search(queries, k, params=params)
        keep = ids[0] >= 0 if len(ids) == 1 else np.all(ids >= 0, axis=0)
        return scores[:, keep].astype(np.float32), ids[:, keep].astype(np.int64)

    def reconstruct(self, ids: IdArray) -> FloatArray:
        """The stored vectors of the given row positions."""
        if len(ids) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64)), dtype=np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        return cls(faiss.read_index(str(path)))
