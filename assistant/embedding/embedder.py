"""Embedder: the interface the library embeds text through, and its sentence-transformers implementation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from assistant.passages import PASSAGE_PROMPT, QUERY_PROMPT

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

#: ``progress(done, total)``, called after each batch of passages.
Progress = Callable[[int, int], None]


class Embedder(Protocol):
    """Turns texts into float32, L2-normalised rows of shape ``(len(texts), dimension)``.

    ``fingerprint`` identifies the exact weights and tokenizer: vectors from embedders with different
    fingerprints must not be mixed in one index.

    >>> from assistant.embedding import HashingEmbedder
    >>> embedder: Embedder = HashingEmbedder()
    >>> embedder.embed_queries(["How are passwords stored?"]).shape
    (1, 256)
    """

    @property
    def name(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def query_prompt(self) -> str: ...

    @property
    def passage_prompt(self) -> str: ...

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...

    def embed_passages(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> npt.NDArray[np.float32]: ...


class ModelIdentity:
    """What an `Embedder` over a model reports about itself: name, fingerprint, dimension and prompts."""

    def __init__(self, *, name: str, fingerprint: str, dimension: int, query_prompt: str, passage_prompt: str) -> None:
        self._name = name
        self._fingerprint = fingerprint
        self._dimension = dimension
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt

    @property
    def name(self) -> str:
        return self._name

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def query_prompt(self) -> str:
        return self._query_prompt

    @property
    def passage_prompt(self) -> str:
        return self._passage_prompt


class SentenceTransformerEmbedder(ModelIdentity):
    """An `Embedder` over a loaded `SentenceTransformer`; the prompts are prepended to every text.

    Usually built by `load_embedder(settings)`, which also converts and caches the default model.

    >>> from sentence_transformers import SentenceTransformer  # doctest: +SKIP
    >>> model = SentenceTransformer("path/to/folder", device="cpu")  # doctest: +SKIP
    >>> embedder = SentenceTransformerEmbedder(model, name="e5", fingerprint="e5@abc")  # doctest: +SKIP
    >>> embedder.embed_queries(["パスワードの最小文字数は？"]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(
        self,
        model: SentenceTransformer,
        *,
        name: str,
        fingerprint: str,
        query_prompt: str = QUERY_PROMPT,
        passage_prompt: str = PASSAGE_PROMPT,
    ) -> None:
        # sentence-transformers 6 renamed the method; 5.x only has the old name.
        get_dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dimension = get_dimension()
        if not dimension:
            raise ValueError(f"model {name!r} does not report its embedding dimension")
        super().__init__(
            name=name,
            fingerprint=fingerprint,
            dimension=int(dimension),
            query_prompt=query_prompt,
            passage_prompt=passage_prompt,
        )
        self._model = model

    @property
    def model(self) -> SentenceTransformer:
        """The wrapped model (for measurements and tests)."""
        return self._model

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text, each embedded as ``query_prompt + text``."""
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return self._encode(texts, self._query_prompt, batch_size=32)

    def embed_passages(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text, each embedded as ``passage_prompt + text``.

        Texts are batched longest first (less padding); ``progress(done, total)`` runs after each batch.
        """
        return embed_longest_first(
            check_texts(texts),
            self._dimension,
            lambda batch: self._encode(batch, self._passage_prompt, batch_size=len(batch)),
            batch_size=batch_size,
            progress=progress,
        )

    def _encode(self, texts: Sequence[str], prompt: str, *, batch_size: int) -> npt.NDArray[np.float32]:
        vectors = self._model.encode(
            list(texts),
            prompt=prompt or None,
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def check_texts(texts: Sequence[str]) -> Sequence[str]:
    """``texts`` itself, after refusing a bare string (which would embed each of its characters)."""
    if isinstance(texts, str):
        raise TypeError("pass a list of texts, not a single string")
    return texts


def embed_longest_first(
    texts: Sequence[str],
    dimension: int,
    encode: Callable[[list[str]], npt.NDArray[np.float32]],
    *,
    batch_size: int,
    progress: Progress | None = None,
) -> npt.NDArray[np.float32]:
    """``encode`` over batches of ``texts`` taken longest first (less padding), rows back in the texts' order.

    ``progress(done, total)`` runs after each batch.

    >>> embed_longest_first(["a", "ccc", "bb"], 1, lambda b: np.array([[len(t)] for t in b], np.float32),
    ...                     batch_size=2).ravel().tolist()
    [1.0, 3.0, 2.0]
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    out = np.zeros((len(texts), dimension), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        out[batch] = encode([texts[i] for i in batch])
        if progress is not None:
            progress(start + len(batch), len(texts))
    return out


def token_batches(lengths: Sequence[int], *, max_texts: int, token_budget: int) -> list[list[int]]:
    """Positions of texts grouped for batched inference: longest first, each batch at most ``max_texts`` texts and
    ``token_budget`` padded tokens (its size times its longest text), so short texts share big batches and
    texts of similar length share a batch (little padding). A text longer than the budget gets a batch alone.

    >>> token_batches([3, 10, 2, 9, 3], max_texts=4, token_budget=20)
    [[1, 3], [0, 4, 2]]
    """
    if max_texts < 1:
        raise ValueError(f"batch_size must be at least 1, got {max_texts}")
    if token_budget < 1:
        raise ValueError(f"token_budget must be at least 1, got {token_budget}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])  # stable: equal lengths keep their order
    batches: list[list[int]] = []
    for position in order:
        batch = batches[-1] if batches else None
        # Sorted longest first, so a batch's first text is its longest: adding one costs that many tokens.
        if batch is not None and len(batch) < max_texts and (len(batch) + 1) * lengths[batch[0]] <= token_budget:
            batch.append(position)
        else:
            batches.append([position])
    return batches
