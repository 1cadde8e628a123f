"""Nearest rows by cosine: a FAISS index over L2-normalised row vectors, with optional row filters."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from assistant.memo import Memo

#: faiss's bundled stubs lack the search-parameter classes (they exist at run time).
_faiss: Any = faiss

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]

#: Up to this many rows, exact search (a flat inner-product index) is fast enough and exact. With one search
#: thread (Settings.search_threads), a question scans 10,000 384-d rows in about 1.8 ms and 100,000 in 18 ms,
#: more than embedding the question takes. Above it, an inverted-file index (IVF) scans the lists nearest the
#: question. The same limit applies to a row filter: up to this many allowed rows are scored exactly in any
#: index. Measurements: evals/bench/README.md.
EXACT_SEARCH_MAX_ROWS = 20_000
#: Lists an IVF index probes per question: recall@10 against exact search 0.99 at a million rows (4,096 lists).
IVF_NPROBE = 64
#: k-means iterations when training the IVF lists, on at most 40 sample rows per list.
IVF_TRAIN_ITERATIONS = 10
IVF_TRAIN_ROWS_PER_LIST = 40
#: Allowed rows scored per block in a filtered search of an approximate index (bounds the memory it takes).
_SUBSET_BLOCK = 20_000
#: Rows added to an index at a time (bounds the memory a build takes).
_ADD_BLOCK = 100_000
#: Bytes of a saved index beyond its vectors, ids and lists (headers): what `check_file` allows on top.
_HEADER_BYTES = 4096


def ivf_lists(count: int) -> int:
    """IVF lists for ``count`` rows: the power of two nearest 4 * sqrt(count) (4,096 for a million rows)."""
    return int(2 ** round(math.log2(4 * math.sqrt(max(count, 1)))))


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
        self._exact = isinstance(index, faiss.IndexFlat)
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = IVF_NPROBE
            if index.direct_map.no():  # reconstructing rows by position needs it
                index.make_direct_map()

    @classmethod
    def build(cls, vectors: FloatArray, *, memo: Memo | None = None, identity: bytes = b"") -> VectorIndex:
        """Exact inner product for corpora up to `EXACT_SEARCH_MAX_ROWS`; above, an IVF index (`ivf_lists`
        lists) storing each vector in float16, whose trained lists are kept in ``memo`` (under ``identity``,
        which names where the vectors come from: model, prompts) and reused while the list count stays."""
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be a 2-D array, got shape {vectors.shape}")
        return cls.build_in_blocks(len(vectors), vectors.shape[1], lambda rows: vectors[rows], memo, identity)

    @classmethod
    def build_in_blocks(
        cls,
        count: int,
        dimension: int,
        block: Callable[[IdArray], FloatArray],
        memo: Memo | None = None,
        identity: bytes = b"",
    ) -> VectorIndex:
        """`build` over ``count`` vectors that ``block(positions)`` makes a block at a time (at a million rows,
        all of them at once would take gigabytes more than the index itself)."""
        if count > EXACT_SEARCH_MAX_ROWS:
            index: Any = _trained_ivf(count, dimension, block, memo, identity)
        else:
            index = faiss.IndexFlatIP(dimension)
        for start in range(0, count, _ADD_BLOCK):
            rows = np.arange(start, min(start + _ADD_BLOCK, count), dtype=np.int64)
            vectors = np.ascontiguousarray(block(rows), dtype=np.float32)
            if vectors.shape != (len(rows), dimension):
                raise ValueError(f"a block of {len(rows)} vectors has shape {vectors.shape}, not (n, {dimension})")
            index.add(vectors)
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
        returns (id -1) is removed, so every returned id is a real row. Up to `EXACT_SEARCH_MAX_ROWS` allowed
        rows are scored exactly even in an approximate index: one vendor's few hundred rows among a million are
        mostly outside the lists an IVF search probes.
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
            if not self._exact and len(allowed) <= EXACT_SEARCH_MAX_ROWS:
                return self._search_subset(queries, k, np.asarray(allowed, dtype=np.int64))
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            if isinstance(self._index, faiss.IndexIVF):
                params = _faiss.SearchParametersIVF(sel=selector, nprobe=self._index.nprobe)
            else:
                params = _faiss.SearchParameters(sel=selector)
        scores, ids = self._index.search(queries, k, params=params)
        keep = ids[0] >= 0 if len(ids) == 1 else np.all(ids >= 0, axis=0)
        return scores[:, keep].astype(np.float32), ids[:, keep].astype(np.int64)

    def _search_subset(self, queries: FloatArray, k: int, allowed: IdArray) -> tuple[FloatArray, IdArray]:
        """Exact top-``k`` among the allowed rows, from their stored vectors (best first, ties by position)."""
        blocks_scores, blocks_ids = [], []
        for start in range(0, len(allowed), _SUBSET_BLOCK):
            ids = allowed[start : start + _SUBSET_BLOCK]
            blocks_scores.append(queries @ self.reconstruct(ids).T)
            blocks_ids.append(ids)
        scores = np.concatenate(blocks_scores, axis=1)
        positions = np.concatenate(blocks_ids)
        out_scores = np.zeros((len(queries), k), dtype=np.float32)
        out_ids = np.zeros((len(queries), k), dtype=np.int64)
        for row in range(len(queries)):
            top = np.argpartition(-scores[row], k - 1)[:k] if k < len(positions) else np.arange(len(positions))
            order = top[np.lexsort((positions[top], -scores[row, top]))]
            out_scores[row], out_ids[row] = scores[row, order], positions[order]
        return out_scores, out_ids

    def reconstruct(self, ids: IdArray) -> FloatArray:
        """The stored vectors of the given row positions."""
        if len(ids) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64)), dtype=np.float32)

    def save(self, path: Path) -> None:
        # An IVF index keeps its direct map (row -> list, offset): making it when loading reads every list's ids,
        # which maps hundreds of MB of a memory-mapped file into the process at a million rows.
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, *, rows: int | None = None, dimension: int | None = None) -> VectorIndex:
        """The index saved at ``path``, memory-mapped; with ``rows`` and ``dimension``, its file size is checked
        against what such an index takes first (`check_file`)."""
        if rows is not None and dimension is not None:
            check_file(path, rows, dimension)
        index = cls(faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC))
        if rows is not None and dimension is not None and (index.size, index.dimension) != (rows, dimension):
            raise ValueError(
                f"{path.name} holds {index.size} vectors of {index.dimension} dimensions, not {rows} of {dimension}"
            )
        return index


def max_file_bytes(rows: int, dimension: int) -> int:
    """The most bytes a saved index of ``rows`` vectors of ``dimension`` floats takes (exact or IVF float16)."""
    flat = rows * dimension * 4
    lists = ivf_lists(rows)
    ivf = lists * dimension * 4 + rows * (dimension * 2 + 16) + lists * 16 + dimension * 8  # + ids, direct map
    return max(flat, ivf if rows > EXACT_SEARCH_MAX_ROWS else 0) + _HEADER_BYTES


def check_file(path: Path, rows: int, dimension: int) -> None:
    """ValueError unless ``path`` is as large as an index of ``rows`` vectors of ``dimension`` floats can be.

    Read before FAISS reads the file: a file whose header claims more than that (8 GiB in a 1 MB file) would
    make FAISS allocate what it claims before finding out.
    """
    size = path.stat().st_size
    low = rows * dimension * (4 if rows <= EXACT_SEARCH_MAX_ROWS else 2)
    high = max_file_bytes(rows, dimension)
    if not low <= size <= high:
        raise ValueError(
            f"{path.name} has {size} bytes; an index of {rows} vectors of {dimension} dimensions takes {low}..{high}"
        )


def _trained_ivf(
    count: int, dimension: int, block: Callable[[IdArray], FloatArray], memo: Memo | None, identity: bytes
) -> Any:
    """An empty IVF index (float16 vectors) with its lists trained, from ``memo`` when it holds one."""
    lists = ivf_lists(count)
    recipe = f"ivf-sq-fp16 d={dimension} lists={lists} iterations={IVF_TRAIN_ITERATIONS} rows/list="
    key = hashlib.sha256(identity + b"\0" + (recipe + str(IVF_TRAIN_ROWS_PER_LIST)).encode()).digest()
    if memo is not None:
        cached = memo.get_many("ivf", [key])[0]
        if cached is not None:
            try:
                index = faiss.deserialize_index(np.frombuffer(cached, dtype=np.uint8))
            except RuntimeError:  # a damaged cache value: trained again below, and kept anew
                index = None
            if isinstance(index, faiss.IndexIVF) and index.is_trained and (index.d, index.nlist) == (dimension, lists):
                return index
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dimension, lists, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    index.by_residual = False  # float16 keeps each vector itself; residuals would only cost time
    index.cp.niter = IVF_TRAIN_ITERATIONS
    sample = min(count, IVF_TRAIN_ROWS_PER_LIST * lists)
    rows = np.sort(np.random.default_rng(0).choice(count, size=sample, replace=False))
    index.train(np.ascontiguousarray(block(rows), dtype=np.float32))
    if memo is not None:
        memo.put_many("ivf", [(key, faiss.serialize_index(index).tobytes())])
    return index
