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
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from assistant.corpus.evidence import Facts, align_rows, changed, edges, facts
from assistant.corpus.models import DocumentMeta, Row
from assistant.corpus.statuses import contradict
from assistant.memo import Memo

__all__ = ["Link", "LinkLookup", "Links", "Relation", "align_rows", "changed", "facts"]

Relation = Literal["newer", "older", "same_version"]
RELATIONS: tuple[Relation, ...] = ("newer", "older", "same_version")

#: Bump when the links of a vendor's rows change meaning: cached links of the old format are not reused.
LINKS_FORMAT = 1


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
        """Link every row to the rows that state the same item (see the module docstring).

        Links never cross vendors, so they are computed vendor by vendor; with a ``memo`` (and ``row_keys``,
        a content hash per row) a vendor whose rows and documents did not change reuses its links.
        """
        rows = list(rows)
        metas = {meta.key: meta for meta in documents}
        newer_docs = _newer_documents(metas)
        vendors: dict[str, list[int]] = {}
        for position, row in enumerate(rows):
            vendors.setdefault(row.vendor_id, []).append(position)
        by_row: dict[str, tuple[Link, ...]] = {}
        for vendor_id, positions in vendors.items():
            vendor_rows = [rows[p] for p in positions]
            vendor_metas = {key: meta for key, meta in metas.items() if meta.vendor_id == vendor_id}
            key = None
            if memo is not None and row_keys is not None:
                key = _vendor_key(vendor_metas, [row_keys[p] for p in positions])
                cached = memo.get_many("links", [key])[0]
                if cached is not None:
                    by_row.update(_decode(cached))
                    continue
            found = _vendor_links(vendor_rows, vendor_metas, newer_docs)
            if memo is not None and key is not None:
                memo.put_many("links", [(key, _encode(found))])
            by_row.update(found)
        superseded = {key: tuple(sorted(keys)) for key, keys in newer_docs.items()}
        return cls(by_row, superseded)


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


def _encode(by_row: dict[str, tuple[Link, ...]]) -> bytes:
    payload = {row: [[link.row, link.relation, link.differs] for link in links] for row, links in by_row.items()}
    return json.dumps(payload, ensure_ascii=False).encode()


def _decode(data: bytes) -> dict[str, tuple[Link, ...]]:
    payload = json.loads(data)
    return {row: tuple(Link(str(o), relation(r), bool(d)) for o, r, d in links) for row, links in payload.items()}


def relation(value: object) -> Relation:
    """A relation read back from a file, checked."""
    if value not in RELATIONS:
        raise ValueError(f"unknown link relation {value!r}")
    return value
