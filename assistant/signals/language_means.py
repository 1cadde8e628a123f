"""Vectors that match across languages: each embedding also seen with its language's mean removed.

A multilingual embedding carries the language a text is written in; a Korean question lands near
Korean rows about anything before English rows about its topic. Subtracting the mean vector of each
language (passages and questions separately, as their prompts differ) removes most of that. Removing
it entirely costs some same-language precision, so a row is indexed as both its plain and its
centred vector, concatenated and scaled so that the inner product is the mean of the two cosines.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

#: Rows per language embedded as questions to estimate the question-side means.
QUERY_SAMPLE = 256
#: Rows transformed at a time by `LanguageMeans.index_vectors`.
_BLOCK = 4096


def _unit(x: FloatArray) -> FloatArray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    unit: FloatArray = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


@dataclass(frozen=True)
class LanguageMeans:
    """Mean passage and question vectors per language.

    >>> means = LanguageMeans({"en": np.array([1.0, 0.0], np.float32)}, {"en": np.array([0.0, 1.0], np.float32)})
    >>> means.index_vectors(np.array([[1.0, 1.0]], np.float32) / np.sqrt(2), ["en"]).shape
    (1, 4)
    """

    passage: dict[str, FloatArray]
    query: dict[str, FloatArray]

    @classmethod
    def estimate(cls, passages: FloatArray, languages: Sequence[str], queries: dict[str, FloatArray]) -> LanguageMeans:
        """Passage means from all rows; question means from ``queries`` (sample rows embedded as questions)."""
        codes = np.asarray(languages)
        passage = {lang: passages[codes == lang].mean(axis=0).astype(np.float32) for lang in sorted(set(languages))}
        query = {lang: q.mean(axis=0).astype(np.float32) for lang, q in sorted(queries.items()) if len(q)}
        return cls(passage, query)

    def _query_mean(self, language: str | None) -> FloatArray:
        if language in self.query:
            return self.query[language]
        mean: FloatArray = np.mean(np.stack(list(self.query.values())), axis=0).astype(np.float32)
        return mean

    def index_vectors(self, passages: FloatArray, languages: Sequence[str] | npt.NDArray[np.str_]) -> FloatArray:
        """[plain, centred] / sqrt(2) per row: unit vectors whose inner products average both cosines.

        Computed a block of rows at a time into one array (at 100,000 rows, the whole-array temporaries,
        float64 among them, cost more than the arithmetic); the same operations, so the same bits.
        """
        count, dimension = passages.shape
        out = np.empty((count, 2 * dimension), dtype=np.float32)
        if not count:
            return out
        names, codes = np.unique(np.asarray(languages, dtype=str), return_inverse=True)
        table = np.stack([self.passage[str(lang)] for lang in names])
        scale = np.sqrt(2.0)
        for start in range(0, count, _BLOCK):
            end = min(start + _BLOCK, count)
            block = passages[start:end]
            out[start:end, :dimension] = _unit(block) / scale
            out[start:end, dimension:] = _unit(block - table[codes[start:end]]) / scale
        return out

    def query_vector(self, query: FloatArray, language: str | None) -> FloatArray:
        """The same transform for one question (shape (1, 2 * dim))."""
        query = query.reshape(1, -1)
        centred = _unit(query - self._query_mean(language))
        vector: FloatArray = (np.hstack([_unit(query), centred]) / np.sqrt(2.0)).astype(np.float32)
        return vector

    def save(self, path: Path) -> None:
        payload = {
            "note": "mean vectors per language, subtracted to make rows and questions comparable across languages",
            "passage": {k: [round(float(x), 7) for x in v] for k, v in self.passage.items()},
            "query": {k: [round(float(x), 7) for x in v] for k, v in self.query.items()},
        }
        path.write_text(json.dumps(payload), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LanguageMeans:
        payload = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            {k: np.asarray(v, dtype=np.float32) for k, v in payload["passage"].items()},
            {k: np.asarray(v, dtype=np.float32) for k, v in payload["query"].items()},
        )


def query_sample(
    languages: Sequence[str], keys: Sequence[bytes] | None = None, size: int = QUERY_SAMPLE
) -> dict[str, list[int]]:
    """Row positions per language to embed as questions: every row of a language up to ``size`` rows, else
    the ``size`` rows whose ``keys`` (hashes of their passages) are smallest, in position order.

    Chosen by hash, the sample of a large corpus stays the same when documents are added or removed (a few
    rows enter or leave it), so an incremental build embeds few new sample questions. Without ``keys``, rows
    evenly spread over the language's rows.
    """
    positions: dict[str, list[int]] = {}
    for position, lang in enumerate(languages):
        positions.setdefault(lang, []).append(position)
    sample: dict[str, list[int]] = {}
    for lang, items in positions.items():
        if len(items) <= size:
            sample[lang] = items
        elif keys is not None:
            sample[lang] = sorted(heapq.nsmallest(size, items, key=lambda p: (keys[p], p)))
        else:
            sample[lang] = [items[int(i)] for i in np.linspace(0, len(items) - 1, num=size)]
    return sample
