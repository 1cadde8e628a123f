"""Hashing: a deterministic, model-free embedder for tests and UI checks (character n-gram feature hashing)."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from assistant.embedding.embedder import Progress, check_texts

HASHING_MODEL = "hashing"


class HashingEmbedder:
    """Embeds text as signed, hashed counts of its character n-grams (after NFKC and lowercasing).

    No model, no download, identical vectors on every machine; texts sharing n-grams score higher.

    >>> embedder = HashingEmbedder()
    >>> a, b, c = embedder.embed_passages(["password length", "Password length!", "data centre"])
    >>> round(float(a @ a), 4), bool(a @ b > a @ c)
    (1.0, True)
    """

    name = HASHING_MODEL
    # Prompts would add the same n-grams to every query (or passage) and blur the scores.
    query_prompt = ""
    passage_prompt = ""

    def __init__(self, dimension: int = 256, ngram_range: tuple[int, int] = (1, 3)) -> None:
        low, high = ngram_range
        if dimension < 8:
            raise ValueError(f"dimension must be at least 8, got {dimension}")
        if not 1 <= low <= high:
            raise ValueError(f"ngram_range must be (low, high) with 1 <= low <= high, got {ngram_range}")
        self._dimension = dimension
        self._ngram_range = (low, high)

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def fingerprint(self) -> str:
        """Hex sha256 of the recipe: changes with the dimension, the n-gram range or the feature scheme."""
        low, high = self._ngram_range
        recipe = f"hashing-v1 blake2b-signed nfkc-lower char-{low}-{high} dim-{self._dimension}"
        return hashlib.sha256(recipe.encode()).hexdigest()

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text."""
        return self._embed(check_texts(texts))

    def embed_passages(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text; ``progress(done, total)`` after each batch."""
        texts = check_texts(texts)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        rows = []
        for start in range(0, len(texts), batch_size):
            rows.append(self._embed(texts[start : start + batch_size]))
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
        return np.concatenate(rows) if rows else np.zeros((0, self._dimension), dtype=np.float32)

    def _embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        low, high = self._ngram_range
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            # Spaces mark the text's edges, so even "" has a feature and a unit-length vector.
            padded = f" {unicodedata.normalize('NFKC', text).lower()} "
            for n in range(low, high + 1):
                for start in range(len(padded) - n + 1):
                    index, sign = _bucket(padded[start : start + n], self._dimension)
                    vectors[row, index] += sign
            norm = float(np.linalg.norm(vectors[row]))
            if norm == 0.0:  # every feature cancelled out: fall back to the edge marker alone
                index, sign = _bucket(" ", self._dimension)
                vectors[row, index], norm = sign, 1.0
            vectors[row] /= norm
        return vectors


@lru_cache(maxsize=1 << 16)
def _bucket(ngram: str, dimension: int) -> tuple[int, float]:
    """A stable (index, sign) for an n-gram; Python's own hash() changes between processes."""
    value = int.from_bytes(hashlib.blake2b(ngram.encode("utf-8"), digest_size=8).digest(), "little")
    return value % dimension, 1.0 if value >> 63 else -1.0
