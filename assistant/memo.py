"""Memo: where a build keeps what it computed (embeddings, token counts, links), by kind and content hash.

The next build looks each value up by the hash of everything it was computed from, so an unchanged input
is never computed twice and a changed one never reuses a stale value (`assistant.index.cache` keeps them
in the cache folder; `DictMemo` in memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Memo(Protocol):
    """Values by (kind, key): ``key`` is a hash of everything the value was computed from."""

    def get_many(self, kind: str, keys: Sequence[bytes]) -> list[bytes | None]:
        """The value of each key (None where there is none)."""
        ...

    def put_many(self, kind: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        """Keep (key, value) pairs."""
        ...


class DictMemo:
    """A `Memo` in memory (tests, and builds that keep nothing).

    >>> memo = DictMemo()
    >>> memo.put_many("vector", [(b"k", b"v")])
    >>> memo.get_many("vector", [b"k", b"x"])
    [b'v', None]
    """

    def __init__(self) -> None:
        self.values: dict[tuple[str, bytes], bytes] = {}

    def get_many(self, kind: str, keys: Sequence[bytes]) -> list[bytes | None]:
        return [self.values.get((kind, key)) for key in keys]

    def put_many(self, kind: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        for key, value in items:
            self.values[(kind, key)] = value
