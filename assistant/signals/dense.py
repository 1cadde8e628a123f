"""The dense signal: cosine between the question's and each row's embedding, across languages.

Each row is indexed as its plain embedding and its language-centred one (see `language_means`), so the
score is the mean of both cosines. Candidates come from FAISS (`vectors`); rows proposed by another
signal are scored from their stored vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.embedding import Embedder
from assistant.errors import IndexStaleError
from assistant.memo import Memo
from assistant.progress import Progress
from assistant.signals.base import BuildInput, FloatArray, IdArray, Query, SavedShape, ScoreArray, Signal, register
from assistant.signals.language_means import LanguageMeans, query_sample
from assistant.signals.vectors import VectorIndex

FAISS = "index.faiss"
MEANS = "language_means.json"
#: Passages embedded per call (and kept in the memo) at a time. Above the seed corpus's 343 rows, so the
#: seed's passages are embedded in one call, as before there was a cache.
_EMBED_BLOCK = 20_000
#: The memo kind of a document's passage vectors (each passage's is also kept by itself, under "vector": an
#: edited document re-embeds only its changed rows), and documents' vectors written to it at a time.
_DOCUMENT_VECTORS = "document vectors"
_KEEP_DOCUMENTS = 64


@dataclass
class DenseRun:
    """One question's dense search: the FAISS candidates, and cosines of any other row on request."""

    signal: DenseSignal
    query: FloatArray  # the question's [plain, centred] vector, shape (1, 2 * dim)
    allowed: IdArray | None
    _found: dict[int, float] = field(default_factory=dict)

    def candidates(self, depth: int) -> IdArray:
        scores, ids = self.signal.vectors.search(self.query, depth, allowed=self.allowed)
        self._found.update(zip(ids[0].tolist(), scores[0].tolist(), strict=True))
        found: IdArray = ids[0].astype(np.int64)
        return found

    def scores(self, positions: IdArray) -> ScoreArray:
        missing = np.array([p for p in positions.tolist() if p not in self._found], dtype=np.int64)
        if len(missing):
            cosines = self.signal.vectors.reconstruct(missing) @ self.query[0]
            self._found.update(zip(missing.tolist(), cosines.tolist(), strict=True))
        return np.array([self._found[p] for p in positions.tolist()], dtype=np.float64)


@dataclass(frozen=True)
class DenseSignal:
    """FAISS over [plain, language-centred] row vectors, with the language means that centre questions."""

    vectors: VectorIndex
    means: LanguageMeans

    @property
    def size(self) -> int:
        return self.vectors.size

    def save(self, folder: Path) -> None:
        self.vectors.save(folder / FAISS)
        self.means.save(folder / MEANS)

    def run(self, query: Query, allowed: IdArray | None) -> DenseRun:
        return DenseRun(self, self.means.query_vector(query.vector, query.language), allowed)


class Dense:
    """The dense signal type (registered as "dense")."""

    name = "dense"
    weight = 1.0
    files: tuple[str, ...] = (FAISS, MEANS)

    def build(self, source: BuildInput) -> DenseSignal:
        embedder = source.embedder
        languages = [row.language for row in source.rows]
        sample = query_sample(languages, source.passage_keys)
        cached = CachedEmbeddings(embedder, source.memo, source.passages, source.passage_keys)
        vectors, unstored = cached.stored_documents(source.spans)
        # As many calls as without a cache (all passages, then each language's sample): the same batches.
        rest = [n for a, b in unstored for n in range(a, b)]
        groups = [("passage", rest), *(("query", p) for p in sample.values())]
        found = cached.embed(groups, source.progress)
        if len(rest) == len(vectors):  # nothing stored by document (the zeros were never touched: no copy)
            vectors = found[0]
        else:
            vectors[rest] = found[0]
        cached.keep_documents(unstored, vectors)
        query_vectors = dict(zip(sample, found[1:], strict=True))
        means = LanguageMeans.estimate(vectors, languages, query_vectors)
        identity = "\0".join((embedder.fingerprint, embedder.passage_prompt, embedder.query_prompt)).encode()

        codes = np.asarray(languages)

        def block(rows: IdArray) -> FloatArray:
            if len(rows) and rows[-1] - rows[0] + 1 == len(rows) and np.all(np.diff(rows) == 1):  # a view, no copy
                return means.index_vectors(vectors[rows[0] : rows[-1] + 1], codes[rows[0] : rows[-1] + 1])
            return means.index_vectors(vectors[rows], codes[rows])

        index = VectorIndex.build_in_blocks(len(vectors), 2 * embedder.dimension, block, source.memo, identity)
        return DenseSignal(index, means)

    def load(self, folder: Path, shape: SavedShape) -> DenseSignal:
        # Every row is indexed as its [plain, language-centred] vector: twice the model's dimension.
        vectors = VectorIndex.load(folder / FAISS, rows=shape.rows, dimension=2 * shape.dimension)
        means = LanguageMeans.load(folder / MEANS)
        if any(len(v) != shape.dimension for v in [*means.passage.values(), *means.query.values()]):
            raise ValueError(f"{MEANS} holds vectors of another dimension than {shape.dimension}")
        return DenseSignal(vectors, means)

    def describe(self, signal: Signal) -> dict[str, str | int | float]:
        if not isinstance(signal, DenseSignal):
            raise TypeError(f"not a dense signal: {type(signal).__name__}")
        return {
            "faiss_index": signal.vectors.kind,
            "dimension": signal.vectors.dimension,
            "metric": "inner product of [plain, language-centred] unit vectors / sqrt(2): the mean of both cosines",
        }


class CachedEmbeddings:
    """Passages embedded as passages or as questions, each looked up first in a memo by (model fingerprint,
    prompt, passage hash), so a build embeds only the passages it has not embedded before."""

    def __init__(
        self, embedder: Embedder, memo: Memo | None, passages: Sequence[str], passage_keys: Sequence[bytes]
    ) -> None:
        self.embedder = embedder
        self.memo = memo
        self.passages = passages
        self.passage_keys = passage_keys

    def _keys(self, kind: str, positions: Sequence[int]) -> list[bytes]:
        """The memo keys of the passages at ``positions`` embedded as ``kind``."""
        prompt = self.embedder.passage_prompt if kind == "passage" else self.embedder.query_prompt
        identity = f"{kind}\0{self.embedder.fingerprint}\0{prompt}\0".encode()
        return [hashlib.sha256(identity + self.passage_keys[n]).digest() for n in positions]

    def _document_keys(self, spans: Sequence[tuple[int, int]]) -> list[bytes]:
        identity = f"passages\0{self.embedder.fingerprint}\0{self.embedder.passage_prompt}\0".encode()
        return [hashlib.sha256(identity + b"".join(self.passage_keys[a:b])).digest() for a, b in spans]

    def stored_documents(self, spans: Sequence[tuple[int, int]]) -> tuple[FloatArray, list[tuple[int, int]]]:
        """Every row's passage vector that the memo holds by document (``spans``: each document's rows), and
        the spans it holds none for (their rows are zeros).

        A document's vectors are one memo value: reading 10^5 rows' vectors by passage takes 10^5 lookups.
        """
        dimension = self.embedder.dimension
        out = np.zeros((len(self.passage_keys), dimension), dtype=np.float32)
        if self.memo is None:
            return out, list(spans)
        stored = self.memo.get_many(_DOCUMENT_VECTORS, self._document_keys(spans))
        unstored = []
        for (a, b), value in zip(spans, stored, strict=True):
            if value is not None and len(value) == 4 * dimension * (b - a):
                out[a:b] = np.frombuffer(value, dtype=np.float32).reshape(b - a, dimension)
            else:
                unstored.append((a, b))
        return out, unstored

    def keep_documents(self, spans: Sequence[tuple[int, int]], vectors: FloatArray) -> None:
        """Keep the passage vectors of the documents at ``spans`` in the memo, one value per document."""
        if self.memo is None or not spans:
            return
        keys = self._document_keys(spans)
        for start in range(0, len(spans), _KEEP_DOCUMENTS):  # bounds the bytes held at once
            chunk = range(start, min(start + _KEEP_DOCUMENTS, len(spans)))
            self.memo.put_many(
                _DOCUMENT_VECTORS, [(keys[i], vectors[spans[i][0] : spans[i][1]].tobytes()) for i in chunk]
            )

    def embed(self, groups: list[tuple[str, list[int]]], progress: Progress | None) -> list[FloatArray]:
        """Per group (kind "passage" or "query", row positions): the vectors, shape (len(positions), dimension).

        What the memo lacks is embedded group by group, each passage once, and kept in the memo.
        """
        dimension = self.embedder.dimension
        plans = []
        total = 0
        for kind, positions in groups:
            keys = self._keys(kind, positions)
            out = np.zeros((len(positions), dimension), dtype=np.float32)
            stored = self.memo.get_many("vector", keys) if self.memo is not None else [None] * len(keys)
            size = 4 * dimension
            present = [(i, value) for i, value in enumerate(stored) if value is not None and len(value) == size]
            found = [i for i, _ in present]
            if found:  # one copy of every stored vector, not one array per row
                joined = b"".join(value for _, value in present)
                out[found] = np.frombuffer(joined, dtype=np.float32).reshape(len(found), dimension)
            missing: dict[bytes, list[int]] = {}
            if len(found) < len(keys):
                for i in sorted(set(range(len(keys))) - set(found)):
                    missing.setdefault(keys[i], []).append(i)
            plans.append((kind, positions, out, missing))
            total += len(missing)
        done = 0

        def report(count: int, _: int) -> None:
            if progress is not None:
                progress(done + count, total)

        for kind, positions, out, missing in plans:
            items = list(missing.items())
            # In blocks: at a million rows, the vectors of one call and their bytes for the memo take gigabytes.
            for start in range(0, len(items), _EMBED_BLOCK):
                chunk = items[start : start + _EMBED_BLOCK]
                texts = [self.passages[positions[places[0]]] for _, places in chunk]
                if kind == "passage":
                    vectors = self.embedder.embed_passages(texts, progress=report)
                else:
                    vectors = self.embedder.embed_queries(texts)
                vectors = np.asarray(vectors, dtype=np.float32)
                if vectors.shape != (len(texts), dimension):
                    raise IndexStaleError(f"the embedder returned shape {vectors.shape} for {len(texts)} {kind} texts")
                for (_, places), vector in zip(chunk, vectors, strict=True):
                    out[places] = vector
                if self.memo is not None:
                    kept = [(key, vector.tobytes()) for (key, _), vector in zip(chunk, vectors, strict=True)]
                    self.memo.put_many("vector", kept)
                done += len(chunk)
                report(0, total)
        return [out for _, _, out, _ in plans]


register(Dense())
