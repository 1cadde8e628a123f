"""Links between rows that state the same item elsewhere in a vendor's documents, and whether they agree.

Evidence that two rows state the same item (an undirected edge):

- Documents declared twins in corpus.toml (the VoicePing EN/JA/KO pages) share their structure: the
  same sections, in the same order, with the same number of bullets. Their sections are aligned by a
  longest-common-subsequence over (row kind, row count), and rows inside aligned sections pair up in
  order; a section only one version has (the EN page's "System Architecture") stays unpaired.
- Inside one document, rows of different languages with the same item number (the Wevox sheet's
  Japanese and English item 43).
- Across documents of a vendor in the same language, rows with the same item name when each document
  has exactly one such row (the JA checksheet's "公的認証取得状況" and the JA page's table row that starts
  with it), and rows whose texts mostly overlap (the JA checksheet's "VP対応: バックエンドでミドルウェアの
  ORMでDBの操作を実施" and the JA page's bullet saying the same).

Each row's links carry a relation - "newer" (the other row is in a newer version of the document, reached
by one edge or two: the JA checksheet row, the JA page bullet, then the EN page bullet), "older", or
"same_version" (another language or another document of the same standing) - and whether the two rows
differ: an opposite answer status (無 against Yes) for any relation, or, towards a newer row, a fact
(number, date, acronym) the newer row states and the older does not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from assistant.corpus.evidence import Facts, align_rows, changed, edges, facts
from assistant.corpus.models import DocumentMeta, Row
from assistant.corpus.statuses import contradict
from assistant.memo import Memo

__all__ = ["Link", "LinkArrays", "LinkLookup", "Links", "Relation", "align_rows", "changed", "facts"]

Relation = Literal["newer", "older", "same_version"]
RELATIONS: tuple[Relation, ...] = ("newer", "older", "same_version")

#: Bump when the links of a vendor's rows change meaning: cached links of the old format are not reused.
LINKS_FORMAT = 2
#: The memo kind of a vendor's links (`LinkArrays.build`).
_MEMO_KIND = "link arrays"


def _newer_documents(metas: dict[str, DocumentMeta]) -> dict[str, set[str]]:
    """Document key -> the keys of the documents that supersede it, directly or through another."""
    newer: dict[str, set[str]] = {}
    for meta in metas.values():
        for older in meta.newer_than:
            newer.setdefault(f"{meta.vendor_id}/{older}", set()).add(meta.key)
    changed_any = True
    while changed_any:
        changed_any = False
        for key, keys in newer.items():
            extra = set().union(*(newer.get(k, set()) for k in keys)) - keys - {key}
            if extra:
                keys |= extra
                changed_any = True
    return newer


@dataclass(frozen=True)
class Link:
    """A row stating the same item as another: its id, how its version relates, and whether it differs."""

    row: str
    relation: Relation
    differs: bool


class LinkLookup(Protocol):
    """What answers need from the links: a row's links, and which documents supersede a document."""

    def of(self, row_id: str) -> tuple[Link, ...]: ...

    def newer(self, row_id: str) -> list[Link]: ...

    def superseded_by(self, document_id: str) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Links:
    """Every row's links (row id -> links, best evidence first), and which documents are superseded.

    >>> links = Links({"v/a#1": (Link("v/b#1", "newer", True),)}, {"v/a": ("v/b",)})
    >>> links.newer("v/a#1"), links.of("v/x#9"), links.superseded_by("v/a")
    ([Link(row='v/b#1', relation='newer', differs=True)], (), ('v/b',))
    """

    by_row: dict[str, tuple[Link, ...]]
    #: Document key -> the documents that supersede it (a newer version), sorted.
    newer_documents: dict[str, tuple[str, ...]]

    def of(self, row_id: str) -> tuple[Link, ...]:
        return self.by_row.get(row_id, ())

    def newer(self, row_id: str) -> list[Link]:
        """The same item in newer documents."""
        return [link for link in self.of(row_id) if link.relation == "newer"]

    def superseded_by(self, document_id: str) -> tuple[str, ...]:
        return self.newer_documents.get(document_id, ())

    @classmethod
    def build(
        cls,
        rows: Iterable[Row],
        documents: Iterable[DocumentMeta],
        *,
        memo: Memo | None = None,
        row_keys: Sequence[bytes] | None = None,
    ) -> Links:
        """Link every row to the rows that state the same item (see the module docstring; `LinkArrays.build`)."""
        rows = list(rows)
        return LinkArrays.build(rows, documents, memo=memo, row_keys=row_keys).links(rows)


@dataclass(frozen=True)
class LinkArrays:
    """The links of rows by position, as an index folder keeps them: row ``n``'s links are
    ``targets[offsets[n]:offsets[n + 1]]`` (positions), best evidence first, with ``kinds`` (relation * 2 +
    differs, one byte each); and which documents are superseded.

    >>> from assistant.corpus.models import DocumentMeta
    >>> meta = DocumentMeta(id="a", vendor="V", product="P", file="a.md", layout="markdown", languages=["en", "ja"],
    ...                     title="A")
    >>> rows = [Row(id=f"v/a#{n}", vendor="V", vendor_id="v", document_id="v/a", language=lang, kind="sheet_row",
    ...             answer=text, source_text=text, item_no="7", line_start=n, line_end=n)
    ...         for n, lang, text in ((1, "en", "Yes"), (2, "ja", "無"))]
    >>> found = LinkArrays.build(rows, [meta])
    >>> found.offsets.tolist(), found.targets.tolist(), found.links(rows).of("v/a#1")
    ([0, 1, 2], [1, 0], (Link(row='v/a#2', relation='same_version', differs=False),))
    """

    offsets: npt.NDArray[np.int64]
    targets: npt.NDArray[np.int64]
    kinds: npt.NDArray[np.uint8]
    #: Document key -> the documents that supersede it (a newer version), sorted.
    newer_documents: dict[str, tuple[str, ...]]

    @classmethod
    def build(
        cls,
        rows: Sequence[Row],
        documents: Iterable[DocumentMeta],
        *,
        memo: Memo | None = None,
        row_keys: Sequence[bytes] | None = None,
    ) -> LinkArrays:
        """Link every row to the rows that state the same item (see the module docstring).

        Links never cross vendors, so they are computed vendor by vendor; with a ``memo`` (and ``row_keys``,
        a content hash per row) a vendor whose rows and documents did not change reuses its links, kept as
        arrays over the vendor's rows (no per-link objects: a cached build of 10^5 rows links in a blink).
        """
        metas = {meta.key: meta for meta in documents}
        newer_docs = _newer_documents(metas)
        vendor_positions: dict[str, list[int]] = {}
        for position, row in enumerate(rows):
            vendor_positions.setdefault(row.vendor_id, []).append(position)
        vendor_metas: dict[str, dict[str, DocumentMeta]] = {}
        for key, meta in metas.items():
            vendor_metas.setdefault(meta.vendor_id, {})[key] = meta
        vendors = list(vendor_positions)
        keys: list[bytes] = []
        cached: list[bytes | None] = [None] * len(vendors)
        if memo is not None and row_keys is not None:
            keys = [_vendor_key(vendor_metas.get(v, {}), [row_keys[p] for p in vendor_positions[v]]) for v in vendors]
            cached = memo.get_many(_MEMO_KIND, keys)
        sources, targets, kinds = [], [], []
        new: list[tuple[bytes, bytes]] = []
        for n, vendor_id in enumerate(vendors):
            positions = np.asarray(vendor_positions[vendor_id], dtype=np.int64)
            local = _decode(cached[n], len(positions))
            if local is None:
                vendor_rows = [rows[p] for p in vendor_positions[vendor_id]]
                local = _local_arrays(
                    vendor_rows, _vendor_links(vendor_rows, vendor_metas.get(vendor_id, {}), newer_docs)
                )
                if keys:
                    new.append((keys[n], _encode(*local)))
            sources.append(positions[local[0]])
            targets.append(positions[local[1]])
            kinds.append(local[2])
        if memo is not None and new:
            memo.put_many(_MEMO_KIND, new)
        source = np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64)
        order = np.argsort(source, kind="stable")  # by row; a row's links keep their order
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(np.bincount(source, minlength=len(rows)), out=offsets[1:])
        superseded = {key: tuple(sorted(keys)) for key, keys in newer_docs.items()}
        return cls(
            offsets,
            (np.concatenate(targets) if targets else np.zeros(0, dtype=np.int64))[order],
            (np.concatenate(kinds) if kinds else np.zeros(0, dtype=np.uint8))[order],
            superseded,
        )

    def links(self, rows: Sequence[Row]) -> Links:
        """The same links by row id (``rows``: the rows these arrays were built from)."""
        by_row: dict[str, tuple[Link, ...]] = {}
        targets, kinds = self.targets.tolist(), self.kinds.tolist()
        for n in np.flatnonzero(np.diff(self.offsets)).tolist():
            span = range(int(self.offsets[n]), int(self.offsets[n + 1]))
            by_row[rows[n].id] = tuple(
                Link(rows[targets[i]].id, RELATIONS[kinds[i] >> 1], bool(kinds[i] & 1)) for i in span
            )
        return Links(by_row, self.newer_documents)


def _vendor_links(
    rows: Sequence[Row], metas: dict[str, DocumentMeta], newer_docs: dict[str, set[str]]
) -> dict[str, tuple[Link, ...]]:
    """The links of one vendor's rows."""
    by_id = {row.id: row for row in rows}
    facts = {row.id: Facts.of(row) for row in rows}
    found_edges = edges(rows, metas)
    by_row: dict[str, tuple[Link, ...]] = {}
    for row in rows:
        near = found_edges.get(row.id)
        if not near:
            continue
        newer_here = newer_docs.get(row.document_id, set())
        # Two edges away only for a newer version: the JA checksheet row -> JA page bullet -> EN page bullet.
        far = set()
        if newer_here:
            far = {far for n in near for far in found_edges[n] if by_id[far].document_id in newer_here}
        links = []
        for other_id in sorted((near | far) - {row.id}):
            other = by_id[other_id]
            if other.document_id in newer_here:
                links.append(Link(other_id, "newer", facts[other_id].new_against(facts[row.id])))
            elif row.document_id in newer_docs.get(other.document_id, ()):
                if other_id in near:
                    links.append(Link(other_id, "older", facts[row.id].new_against(facts[other_id])))
            else:
                links.append(Link(other_id, "same_version", contradict(row.answer_status, other.answer_status)))
        if links:
            by_row[row.id] = tuple(links)
    return by_row


def _vendor_key(metas: dict[str, DocumentMeta], row_keys: Sequence[bytes]) -> bytes:
    digest = hashlib.sha256(f"links {LINKS_FORMAT}\n".encode())
    for key in sorted(metas):
        digest.update(metas[key].model_dump_json().encode())
    for row_key in row_keys:
        digest.update(row_key)
    return digest.digest()


def _local_arrays(
    rows: Sequence[Row], by_row: dict[str, tuple[Link, ...]]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint8]]:
    """One vendor's links as (source, target, kind) arrays over the places of its ``rows``, by source."""
    place = {row.id: n for n, row in enumerate(rows)}
    sources, targets, kinds = [], [], []
    for n, row in enumerate(rows):
        for link in by_row.get(row.id, ()):
            sources.append(n)
            targets.append(place[link.row])
            kinds.append(RELATIONS.index(link.relation) * 2 + int(link.differs))
    return np.array(sources, dtype=np.int64), np.array(targets, dtype=np.int64), np.array(kinds, dtype=np.uint8)


def _encode(sources: npt.NDArray[np.int64], targets: npt.NDArray[np.int64], kinds: npt.NDArray[np.uint8]) -> bytes:
    """The arrays as bytes: the link count (8 bytes, little-endian), sources and targets (int32), kinds."""
    return b"".join(
        (len(sources).to_bytes(8, "little"), sources.astype("<i4").tobytes(), targets.astype("<i4").tobytes(),
         kinds.astype(np.uint8).tobytes())
    )  # fmt: skip


def _decode(
    data: bytes | None, rows: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint8]] | None:
    """The arrays `_encode` wrote, or None when ``data`` is not such arrays over ``rows`` rows (then they are
    computed again)."""
    if data is None or len(data) < 8:
        return None
    count = int.from_bytes(data[:8], "little")
    if len(data) != 8 + 9 * count:
        return None
    sources = np.frombuffer(data, dtype="<i4", count=count, offset=8).astype(np.int64)
    targets = np.frombuffer(data, dtype="<i4", count=count, offset=8 + 4 * count).astype(np.int64)
    kinds = np.frombuffer(data, dtype=np.uint8, count=count, offset=8 + 8 * count).copy()
    if count and (
        min(sources.min(), targets.min()) < 0
        or max(sources.max(), targets.max()) >= rows
        or kinds.max() >= 2 * len(RELATIONS)
        or np.any(np.diff(sources) < 0)
    ):
        return None
    return sources, targets, kinds
