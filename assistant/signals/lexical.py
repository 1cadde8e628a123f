"""The lexical signal: BM25 of the question's terms in each row, relative to the best-matching allowed row.

Dense embeddings miss exact identifiers ("ISO 27001", "TLS 1.3", "SSO", "7世代"); this signal catches them.
Its score is 0..1: a row's BM25 over the best BM25 among the rows the filters allow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.passages import PASSAGE_FORMAT
from assistant.signals.base import BuildInput, FloatArray, IdArray, Query, SavedShape, ScoreArray, Signal, register
from assistant.signals.bm25 import BM25, TermCounts, saved_files

PREFIX = "lexical"
VOCABULARY = "lexical_vocabulary.json"

#: The form term counts are kept in (`TermCounts.to_bytes`), in their memo kind: a version that reads only
#: the older form (``.npz``, under the bare kind) never meets the newer one in a shared cache.
COUNTS_FORMAT = 2
#: Only the allowed rows are scored when they are at most this share (1/4) of the corpus (one vendor's rows
#: among many): their cost then does not grow with the corpus.
SUBSET_SHARE = 4


@dataclass(frozen=True)
class LexicalRun:
    """One question's BM25 scores of the rows it scored (in position order; the others score 0), and the best."""

    values: FloatArray  # values[i] scores row scored[i]
    scored: IdArray  # sorted positions
    best: float

    def candidates(self, depth: int) -> IdArray:
        """The ``depth`` best-scoring rows with a score above 0 (ties broken by position), best first."""
        if self.best <= 0:
            return np.zeros(0, dtype=np.int64)
        at = np.flatnonzero(self.values > 0)
        if len(at) > depth:
            # The depth-th best score, then every row above it and the first rows (by position) at it.
            kth = np.partition(-self.values[at], depth - 1)[depth - 1]
            above, level = at[-self.values[at] < kth], at[-self.values[at] == kth]
            at = np.concatenate([above, level[: depth - len(above)]])
        order = np.lexsort((self.scored[at], -self.values[at]))
        return self.scored[at[order]].astype(np.int64)

    def scores(self, positions: IdArray) -> ScoreArray:
        if self.best <= 0 or not len(self.scored):
            return np.zeros(len(positions), dtype=np.float64)
        at = np.minimum(np.searchsorted(self.scored, positions), len(self.scored) - 1)
        found = np.where(self.scored[at] == positions, self.values[at], 0.0)
        return found.astype(np.float64) / self.best


#: In `AllRowsRun.candidates`, rows are first screened against the depth-th best score of every this-many-th
#: row: a lower bound of the depth-th best score of all rows, cheap to find, which few rows reach.
_SCREEN_STRIDE = 64


@dataclass(frozen=True)
class AllRowsRun:
    """One question's BM25 scores of every row (0 where no question term occurs or the row is not allowed), and
    the best: what a question over the whole corpus gets, ranked as `LexicalRun` ranks.

    >>> run = AllRowsRun(np.array([0.0, 2.0, 1.0, 2.0], dtype=np.float32), 2.0)
    >>> run.candidates(2).tolist(), run.scores(np.array([2, 0])).tolist()
    ([1, 3], [0.5, 0.0])
    """

    values: FloatArray  # values[p] scores row p
    best: float

    def candidates(self, depth: int) -> IdArray:
        """The ``depth`` best-scoring rows with a score above 0 (ties broken by position), best first."""
        if self.best <= 0:
            return np.zeros(0, dtype=np.int64)
        values = self.values
        # Any depth rows' lowest score is a lower bound of the depth-th best score of all rows; the depth-th best
        # of a sample is such a bound, so every row of the top `depth` scores at least it. Only rows above 0 count.
        floor = np.float32(0.0)
        sample = values[::_SCREEN_STRIDE]
        if len(sample) > depth:
            floor = max(floor, np.partition(sample, len(sample) - depth)[len(sample) - depth])
        at = np.flatnonzero(values >= floor) if floor > 0 else np.flatnonzero(values > 0)
        return LexicalRun(values[at], at.astype(np.int64), self.best).candidates(depth)

    def scores(self, positions: IdArray) -> ScoreArray:
        if self.best <= 0:
            return np.zeros(len(positions), dtype=np.float64)
        return self.values[positions].astype(np.float64) / self.best


@dataclass(frozen=True)
class LexicalSignal:
    """BM25 over the rows' passage texts, saved under the given file names."""

    bm25: BM25
    prefix: str = PREFIX
    vocabulary: str = VOCABULARY

    @property
    def size(self) -> int:
        return int(self.bm25.size)

    def save(self, folder: Path) -> None:
        self.bm25.save(folder, self.prefix, folder / self.vocabulary)

    def run(self, query: Query, allowed: IdArray | None) -> LexicalRun | AllRowsRun:
        if allowed is not None and len(allowed) * SUBSET_SHARE <= self.size:
            values = self.bm25.scores_of(query.text, allowed)
            return LexicalRun(values, allowed, float(values.max()) if len(values) else 0.0)
        values = self.bm25.scores(query.text)
        if allowed is not None:
            permitted = np.zeros(len(values), dtype=bool)
            permitted[allowed] = True
            values = np.where(permitted, values, 0.0).astype(np.float32)
        return AllRowsRun(values, float(values.max()) if len(values) else 0.0)


class Lexical:
    """The lexical signal type (registered as "lexical")."""

    name = "lexical"
    weight = 0.05
    files: tuple[str, ...] = (*saved_files(PREFIX), VOCABULARY)

    def build(self, source: BuildInput) -> LexicalSignal:
        return LexicalSignal(BM25.from_counts(term_counts(source)))

    def load(self, folder: Path, shape: SavedShape) -> LexicalSignal:
        return LexicalSignal(BM25.load(folder, PREFIX, folder / VOCABULARY, shape.rows))

    def describe(self, signal: Signal) -> dict[str, str | int | float]:
        return {"kind": "BM25 (k1 1.2, b 0.75) over words and CJK character bigrams"}


def term_counts(
    source: BuildInput, tokenizer: Callable[[str], list[str]] | None = None, kind: str = "terms"
) -> list[TermCounts]:
    """The term counts of the passages, document by document; a document whose passages are unchanged takes
    its counts from ``source.memo`` (under ``kind``: one kind per tokenizer)."""
    spans = source.spans
    keys = [_block_key(source.passage_keys[start:end], kind) for start, end in spans]
    found: list[bytes | None] = [None] * len(spans)
    older: set[int] = set()
    if source.memo is not None:
        found = source.memo.get_many(f"{kind} {COUNTS_FORMAT}", keys)
        older = {n for n, value in enumerate(found) if value is None}
        if older:  # counts an earlier version kept (as .npz, under the bare kind): read, then kept anew
            places = sorted(older)
            for n, value in zip(places, source.memo.get_many(kind, [keys[n] for n in places]), strict=True):
                found[n] = value
    blocks: list[TermCounts] = []
    new: list[tuple[bytes, bytes]] = []
    for at, ((start, end), key, cached) in enumerate(zip(spans, keys, found, strict=True)):
        block = _cached_counts(cached, end - start)
        fresh = block is None or at in older
        if block is None:
            block = TermCounts.of([source.passages[n] for n in range(start, end)], tokenizer)
        blocks.append(block)
        if fresh:  # counted now, or kept in an older form
            new.append((key, block.to_bytes()))
    if source.memo is not None and new:
        source.memo.put_many(f"{kind} {COUNTS_FORMAT}", new)
    return blocks


def _cached_counts(data: bytes | None, passages: int) -> TermCounts | None:
    """The counts kept in ``data`` when they are readable counts of ``passages`` passages (else None: counted
    again)."""
    if data is None:
        return None
    try:
        block = TermCounts.from_bytes(data)
    except ValueError:
        return None
    return block if len(block.indptr) == passages + 1 else None


def _block_key(passage_keys: Sequence[bytes], kind: str) -> bytes:
    digest = hashlib.sha256(f"{kind} counts {PASSAGE_FORMAT}\n".encode())
    for key in passage_keys:
        digest.update(key)
    return digest.digest()


register(Lexical())
