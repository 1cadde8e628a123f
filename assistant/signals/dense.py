"""The dense signal: cosine between the question's and each row's embedding, across languages.

Each row is indexed as its plain embedding and its language-centred one (see `language_means`), so the
score is the mean of both cosines. Candidates come from FAISS (`vectors`); rows proposed by another
signal are scored from their stored vectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.errors import IndexStaleError
from assistant.signals.base import BuildInput, FloatArray, IdArray, Query, ScoreArray, Signal, register
from assistant.signals.language_means import LanguageMeans, query_sample
from assistant.signals.vectors import VectorIndex

FAISS = "index.faiss"
MEANS = "language_means.json"


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
        embedder, passages, progress = source.embedder, list(source.passages), source.progress
        languages = [row.language for row in source.rows]
        sample = query_sample(languages)
        total = len(passages) + sum(len(v) for v in sample.values())

        def passage_progress(done: int, _: int) -> None:
            if progress:
                progress(done, total)

        vectors = np.asarray(embedder.embed_passages(passages, progress=passage_progress), dtype=np.float32)
        if vectors.shape != (len(passages), embedder.dimension):
            raise IndexStaleError(f"the embedder returned shape {vectors.shape} for {len(passages)} rows")
        query_vectors = {}
        done = len(passages)
        for language, positions in sample.items():
            query_vectors[language] = np.asarray(embedder.embed_queries([passages[i] for i in positions]), np.float32)
            done += len(positions)
            if progress:
                progress(done, total)
        means = LanguageMeans.estimate(vectors, languages, query_vectors)
        return DenseSignal(VectorIndex.build(means.index_vectors(vectors, languages)), means)

    def load(self, folder: Path) -> DenseSignal:
        return DenseSignal(VectorIndex.load(folder / FAISS), LanguageMeans.load(folder / MEANS))

    def describe(self, signal: Signal) -> dict[str, str | int | float]:
        if not isinstance(signal, DenseSignal):
            raise TypeError(f"not a dense signal: {type(signal).__name__}")
        return {
            "faiss_index": signal.vectors.kind,
            "dimension": signal.vectors.dimension,
            "metric": "inner product of [plain, language-centred] unit vectors / sqrt(2): the mean of both cosines",
        }


register(Dense())
