"""Ranking signals: what a signal is, what it is given, and the registry of signals an index is built with.

A signal scores rows for a question. It is built once from the rows (and their passage texts and
embeddings), saved into the index folder under its own name, loaded back, and, per question, proposes
candidate rows and scores any row it is asked about. The fusion step (`assistant.fusion`) adds the
weighted scores of every signal. Adding a signal is one module that defines a `SignalType` and calls
`register` - nothing else in the index or the ranking changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from assistant.corpus.models import Row
from assistant.embedding import Embedder
from assistant.memo import Memo
from assistant.progress import Progress

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]
#: Scores are float64: fusion adds weighted scores of several signals, and ties must break the same way.
ScoreArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BuildInput:
    """What a signal is built from: the rows in index order, the text each is embedded as, and the model.

    ``passage_keys`` are the SHA-256 of each passage; with a ``memo``, a signal keeps what it computes under
    them for the next build, and looks up a passage's text only when it has nothing for it (``passages`` may
    compute texts as they are asked for).
    """

    rows: Sequence[Row]
    passages: Sequence[str]
    embedder: Embedder
    progress: Progress | None = None
    memo: Memo | None = None
    passage_keys: Sequence[bytes] = ()
    #: (start, end) of each document's rows (`document_spans`), computed when not given.
    spans: Sequence[tuple[int, int]] = ()

    def __post_init__(self) -> None:
        if not self.passage_keys:
            keys = [hashlib.sha256(text.encode()).digest() for text in self.passages]
            object.__setattr__(self, "passage_keys", keys)
        if not self.spans:
            object.__setattr__(self, "spans", document_spans(self.rows))
        if not len(self.rows) == len(self.passages) == len(self.passage_keys):
            raise ValueError("a build needs one passage and one passage key per row")


def document_spans(rows: Sequence[Row]) -> list[tuple[int, int]]:
    """(start, end) of each document's rows: the rows come document by document."""
    spans: list[tuple[int, int]] = []
    start = 0
    for n in range(1, len(rows) + 1):
        if n == len(rows) or rows[n].document_id != rows[start].document_id:
            spans.append((start, n))
            start = n
    return spans


@dataclass(frozen=True)
class SavedShape:
    """What the manifest says a saved index holds: a signal checks its files against it before reading them."""

    rows: int
    dimension: int  # of the model's embeddings


@dataclass(frozen=True)
class Query:
    """One question as the signals see it: its searched text, its embedding and the language it is in."""

    text: str
    vector: FloatArray  # shape (1, model dimension), unit length
    language: str | None


class SignalRun(Protocol):
    """A signal applied to one question (and the rows allowed by the filters)."""

    def candidates(self, depth: int) -> IdArray:
        """Up to ``depth`` allowed row positions this signal ranks highest (best first)."""
        ...

    def scores(self, positions: IdArray) -> ScoreArray:
        """This signal's score of each of the given (allowed) row positions, in their order."""
        ...


class Signal(Protocol):
    """A built signal: it can be saved into an index folder and applied to questions."""

    @property
    def size(self) -> int:
        """How many rows it scores (the index's row count)."""
        ...

    def save(self, folder: Path) -> None:
        """Write the signal's files (named in its `SignalType.files`) into ``folder``."""
        ...

    def run(self, query: Query, allowed: IdArray | None) -> SignalRun:
        """Prepare scoring one question; ``allowed`` (sorted positions) restricts the rows, None allows all."""
        ...


class SignalType(Protocol):
    """How a signal is made: its name, its default fusion weight, its files, and how to build or load it."""

    name: str
    weight: float
    files: tuple[str, ...]

    def build(self, source: BuildInput) -> Signal: ...

    def load(self, folder: Path, shape: SavedShape) -> Signal:
        """The signal saved in ``folder``; any exception means its files are damaged."""
        ...

    def describe(self, signal: Signal) -> dict[str, str | int | float]:
        """What the manifest records about a built signal (its kind, sizes, parameters)."""
        ...


_REGISTRY: dict[str, SignalType] = {}


def register(signal_type: SignalType) -> SignalType:
    """Add a signal type to those every index is built with (a second one of the same name replaces it)."""
    if not signal_type.name.isidentifier():
        raise ValueError(f"a signal name must be a Python identifier, got {signal_type.name!r}")
    _REGISTRY[signal_type.name] = signal_type
    return signal_type


def unregister(name: str) -> None:
    """Remove a signal type (tests that add a toy signal take it away again)."""
    _REGISTRY.pop(name, None)


def registered() -> dict[str, SignalType]:
    """The registered signal types by name, in registration order."""
    return dict(_REGISTRY)
