"""The links between rows (`assistant.corpus.links`) as saved in an index folder, read per row as needed.

``links.offsets.npy`` says where each row's links start in ``links.targets.npy`` (the linked rows'
positions) and ``links.kinds.npy`` (relation and whether the rows differ, one byte per link);
``links.superseded.json`` lists the documents that supersede each document.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assistant.corpus.links import RELATIONS, Link, LinkArrays, Links
from assistant.corpus.models import Row
from assistant.errors import IndexStaleError
from assistant.index.rowstore import RowStore
from assistant.memmaps import random_access

OFFSETS = "links.offsets.npy"
TARGETS = "links.targets.npy"
KINDS = "links.kinds.npy"
SUPERSEDED = "links.superseded.json"
FILES = (OFFSETS, TARGETS, KINDS, SUPERSEDED)
_NEWER = RELATIONS.index("newer")


def write_links(folder: Path, links: LinkArrays | Links, rows: Sequence[Row]) -> None:
    """Write ``links`` (arrays over the positions of ``rows``, or by row id) into ``folder``."""
    arrays = links if isinstance(links, LinkArrays) else _arrays(links, rows)
    if arrays.offsets.shape != (len(rows) + 1,):
        raise ValueError(f"links of {len(arrays.offsets) - 1} rows cannot be written for {len(rows)} rows")
    np.save(folder / OFFSETS, arrays.offsets.astype(np.int64), allow_pickle=False)
    np.save(folder / TARGETS, arrays.targets.astype(np.int64), allow_pickle=False)
    np.save(folder / KINDS, arrays.kinds.astype(np.uint8), allow_pickle=False)
    superseded = {key: list(value) for key, value in sorted(arrays.newer_documents.items())}
    (folder / SUPERSEDED).write_text(json.dumps(superseded, ensure_ascii=False, indent=1), encoding="utf-8")


def _arrays(links: Links, rows: Sequence[Row]) -> LinkArrays:
    """``links`` (by row id) as arrays over the positions of ``rows``."""
    position = {row.id: n for n, row in enumerate(rows)}
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    targets: list[int] = []
    kinds: list[int] = []
    for n, row in enumerate(rows):
        for link in links.of(row.id):
            targets.append(position[link.row])
            kinds.append(RELATIONS.index(link.relation) * 2 + int(link.differs))
        offsets[n + 1] = len(targets)
    unknown = sorted(set(links.by_row) - set(position))
    if unknown:
        raise ValueError(f"links of rows that are not indexed: {', '.join(unknown[:3])}")
    found_targets = np.array(targets, dtype=np.int64)
    return LinkArrays(offsets, found_targets, np.array(kinds, dtype=np.uint8), links.newer_documents)


class StoredLinks:
    """The links of an index folder, answering the same questions as `Links` without loading them all.

    >>> import tempfile
    >>> from assistant.corpus.models import DocumentMeta
    >>> from assistant.index.rowstore import write_rows
    >>> meta = DocumentMeta(id="a", vendor="V", product="P", file="a.md", layout="markdown", languages=["en"],
    ...                     title="A")
    >>> rows = [Row(id=f"v/a#{n}", vendor="V", vendor_id="v", document_id="v/a", language="en", kind="bullet",
    ...             answer=str(n), source_text=str(n), line_start=n, line_end=n) for n in (1, 2)]
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = write_rows(folder, rows, [meta])
    >>> write_links(folder, Links({"v/a#1": (Link("v/a#2", "same_version", True),)}, {}), rows)
    >>> StoredLinks.open(folder, RowStore.open(folder, [meta])).of("v/a#1")
    (Link(row='v/a#2', relation='same_version', differs=True),)
    """

    def __init__(
        self,
        rows: RowStore,
        offsets: npt.NDArray[np.int64],
        targets: npt.NDArray[np.int64],
        kinds: npt.NDArray[np.uint8],
        superseded: dict[str, tuple[str, ...]],
    ) -> None:
        if offsets.shape != (len(rows) + 1,) or targets.shape != kinds.shape or offsets[-1] != len(targets):
            raise ValueError("the link arrays disagree with each other or with the rows")
        if offsets[0] != 0:
            raise ValueError("the link offsets do not start at 0")
        self._rows = rows
        self._count = len(rows)
        # Plain views of the memory maps: numpy's memmap class indexes an element ten times slower.
        self._offsets = offsets.view(np.ndarray)
        self._targets = targets.view(np.ndarray)
        self._kinds = kinds.view(np.ndarray)
        self._superseded = superseded

    @classmethod
    def open(cls, folder: Path, rows: RowStore) -> StoredLinks:
        arrays = [np.load(folder / name, mmap_mode="r", allow_pickle=False) for name in (OFFSETS, TARGETS, KINDS)]
        for name, array in zip((OFFSETS, TARGETS, KINDS), arrays, strict=True):
            if array.ndim != 1 or array.dtype.kind not in "iu":
                raise ValueError(f"{name} holds {array.dtype} of shape {array.shape}, not a list of integers")
            random_access(array)
        raw = json.loads((folder / SUPERSEDED).read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
            raise ValueError(f"{SUPERSEDED} is not a mapping of document ids to lists")
        superseded = {str(key): tuple(str(v) for v in value) for key, value in raw.items()}
        return cls(rows, arrays[0], arrays[1], arrays[2], superseded)

    def of(self, row_id: str) -> tuple[Link, ...]:
        try:
            position = self._rows.position_of(row_id)
        except KeyError:
            return ()
        return self._links(position, None)

    def newer(self, row_id: str) -> list[Link]:
        """The same item in newer documents."""
        try:
            position = self._rows.position_of(row_id)
        except KeyError:
            return []
        return list(self._links(position, _NEWER))

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one store per index, kept while it is served
    def _links(self, position: int, relation: int | None) -> tuple[Link, ...]:
        start, end = int(self._offsets[position]), int(self._offsets[position + 1])
        if start == end:
            return ()
        targets, kinds = self._targets[start:end].tolist(), self._kinds[start:end].tolist()
        # Checked here, per row read, rather than over the whole arrays when opening (which would read them all).
        if not 0 <= start < end <= len(self._targets) or min(targets) < 0 or max(targets) >= self._count:
            raise IndexStaleError(f"the links of row {position} point outside the index; rebuild it")
        if max(kinds) >= 2 * len(RELATIONS):
            raise IndexStaleError(f"a link of row {position} has an unknown kind; rebuild the index")
        id_of = self._rows.id_of
        return tuple(
            [
                Link(id_of(target), RELATIONS[kind >> 1], bool(kind & 1))
                for target, kind in zip(targets, kinds, strict=True)
                if relation is None or kind >> 1 == relation
            ]
        )

    def superseded_by(self, document_id: str) -> tuple[str, ...]:
        return self._superseded.get(document_id, ())
