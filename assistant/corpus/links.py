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

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant.corpus.models import DocumentMeta, Row
from assistant.corpus.statuses import contradict

Relation = Literal["newer", "older", "same_version"]

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_FACT = re.compile(r"\d{1,2}:\d{2}|\d+(?:\.\d+)+|[A-Z]{2,}|[A-Z]\d+|\d{2,}")
#: Texts whose character bigrams overlap at least this much (over the smaller set) state the same thing.
OVERLAP = 0.75
#: Fewer bigrams than this is too little text to compare ("有", "対応済").
MIN_BIGRAMS = 6
_MARKER = re.compile(r"(?:vp)?(?:対応|説明)\s*[:：]", flags=re.IGNORECASE)
_TAG = re.compile(r"<[^<>]{0,200}>")


def _folded(row: Row) -> str:
    return unicodedata.normalize(
        "NFKC", " ".join((row.item, row.question, row.answer, row.detail, row.notes))
    ).casefold()


def facts(row: Row) -> set[str]:
    """The language-independent facts a row states: dates, times, numbers and acronyms (casefolded).

    >>> sorted(facts(Row(id="v/d#1", vendor="V", vendor_id="v", document_id="v/d", language="ja", kind="bullet",
    ...           answer="TLS1.3のみ、ログは30日で匿名化 (AWS S3) 2025/4/25 9:00〜18:00", source_text="x",
    ...           line_start=1, line_end=1)))
    ['1.3', '18:00', '2025-04-25', '30', '9:00', 'aws', 's3', 'tls']
    """
    text = unicodedata.normalize("NFKC", " ".join((row.item, row.question, row.answer, row.detail, row.notes)))
    dates = {f"{y}-{int(m):02d}-{int(d):02d}" for y, m, d in _DATE.findall(text)}
    rest = _DATE.sub(" ", text)
    return dates | {fact.casefold() for fact in _FACT.findall(rest)}


def changed(newer: Row, older: Row) -> bool:
    """Whether the newer row contradicts the older one's status or states a fact the older one does not.

    Translations keep numbers and acronyms, so a newer row with a number, date or acronym its older
    twin lacks ("ISO/IEC 27001:2022 ... 2025-04-25" against "ISMS取得予定") says something new. A fact the
    older row writes otherwise ("https", "TLS1.3") is not new.
    """
    if contradict(newer.answer_status, older.answer_status):
        return True
    known, text = facts(older), _folded(older)
    return any(fact not in known and fact not in text for fact in facts(newer))


def _sections(rows: Sequence[Row]) -> list[list[Row]]:
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.language, *row.section), []).append(row)
    return list(groups.values())


def _signature(section: list[Row]) -> tuple[str, int]:
    return section[0].kind, len(section)


def align_rows(a: Sequence[Row], b: Sequence[Row]) -> list[tuple[Row, Row]]:
    """Pairs of rows of two twin documents, by aligning their sections (see the module docstring)."""
    left, right = _sections(a), _sections(b)
    n, m = len(left), len(right)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if _signature(left[i]) == _signature(right[j]):
                best[i][j] = best[i + 1][j + 1] + 1
            else:
                best[i][j] = max(best[i + 1][j], best[i][j + 1])
    pairs: list[tuple[Row, Row]] = []
    i = j = 0
    while i < n and j < m:
        if _signature(left[i]) == _signature(right[j]) and best[i][j] == best[i + 1][j + 1] + 1:
            pairs.extend(zip(left[i], right[j], strict=True))
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _item_key(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def _same_items(rows: Sequence[Row]) -> list[tuple[Row, Row]]:
    """Rows of different documents (same vendor and language) naming the same item, once per document."""
    items = {_item_key(r.item) for r in rows if len(_item_key(r.item)) >= 3}
    ordered = sorted(items, key=len, reverse=True)
    keyed: dict[tuple[str, str, str], dict[str, list[Row]]] = {}
    for row in rows:
        key = _item_key(row.item)
        if len(key) < 3:  # a row without an item (a glued table row) may start with one
            text = _item_key(row.answer)
            key = next((item for item in ordered if text.startswith(item)), "")
        if key:
            keyed.setdefault((row.vendor_id, row.language, key), {}).setdefault(row.document_id, []).append(row)
    pairs: list[tuple[Row, Row]] = []
    for documents in keyed.values():
        unique = [found[0] for found in documents.values() if len(found) == 1]
        if len(unique) == len(documents) > 1:
            pairs.extend((unique[0], other) for other in unique[1:])
    return pairs


def _bigrams(row: Row) -> frozenset[str]:
    text = unicodedata.normalize("NFKC", " ".join((row.answer, row.detail))).casefold()
    text = re.sub(r"[\W_]+", "", _MARKER.sub(" ", _TAG.sub(" ", text)))
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def _overlapping(rows: Sequence[Row]) -> list[tuple[Row, Row]]:
    """Rows of different documents (same vendor and language) whose answer texts mostly overlap."""
    groups: dict[tuple[str, str], list[tuple[Row, frozenset[str]]]] = {}
    for row in rows:
        grams = _bigrams(row)
        if len(grams) >= MIN_BIGRAMS:
            groups.setdefault((row.vendor_id, row.language), []).append((row, grams))
    pairs: list[tuple[Row, Row]] = []
    for members in groups.values():
        if len({row.document_id for row, _ in members}) < 2:
            continue
        postings: dict[str, list[int]] = {}
        for number, (_, grams) in enumerate(members):
            for gram in grams:
                postings.setdefault(gram, []).append(number)
        for number, (row, grams) in enumerate(members):
            shared: dict[int, int] = {}
            for gram in grams:
                for other in postings[gram]:
                    if other > number:
                        shared[other] = shared.get(other, 0) + 1
            for other, count in shared.items():
                other_row, other_grams = members[other]
                if other_row.document_id != row.document_id and count >= OVERLAP * min(len(grams), len(other_grams)):
                    pairs.append((row, other_row))
    return pairs


def _edges(rows: Sequence[Row], metas: dict[str, DocumentMeta]) -> dict[str, set[str]]:
    """Row id -> the ids of the rows it states the same item as (undirected)."""
    by_document: dict[str, list[Row]] = {}
    for row in rows:
        by_document.setdefault(row.document_id, []).append(row)
    pairs: list[tuple[Row, Row]] = []
    done: set[tuple[str, str]] = set()
    for key, meta in metas.items():
        for other in meta.twins:
            other_key = f"{meta.vendor_id}/{other}"
            if other_key in by_document and key in by_document and (other_key, key) not in done:
                done.add((key, other_key))
                pairs.extend(align_rows(by_document[key], by_document[other_key]))
    for document_rows in by_document.values():
        numbered: dict[str, list[Row]] = {}
        for row in document_rows:
            if row.item_no:
                numbered.setdefault(row.item_no, []).append(row)
        for group in numbered.values():
            if len({row.language for row in group}) == len(group) > 1:  # one row per language: a real twin
                pairs.extend((group[0], twin) for twin in group[1:])
    pairs += _same_items(rows)
    pairs += _overlapping(rows)
    edges: dict[str, set[str]] = {}
    for x, y in pairs:
        edges.setdefault(x.id, set()).add(y.id)
        edges.setdefault(y.id, set()).add(x.id)
    return edges


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
    def build(cls, rows: Iterable[Row], documents: Iterable[DocumentMeta]) -> Links:
        """Link every row to the rows that state the same item (see the module docstring)."""
        rows = list(rows)
        metas = {meta.key: meta for meta in documents}
        by_id = {row.id: row for row in rows}
        newer_docs = _newer_documents(metas)
        edges = _edges(rows, metas)
        by_row: dict[str, tuple[Link, ...]] = {}
        for row in rows:
            near = edges.get(row.id, set())
            newer_here = newer_docs.get(row.document_id, set())
            # Two edges away only for a newer version: the JA checksheet row -> JA page bullet -> EN page bullet.
            far = {far for n in near for far in edges.get(n, ()) if by_id[far].document_id in newer_here}
            links = []
            for other_id in sorted((near | far) - {row.id}):
                other = by_id[other_id]
                if other.document_id in newer_here:
                    links.append(Link(other_id, "newer", changed(other, row)))
                elif row.document_id in newer_docs.get(other.document_id, set()):
                    if other_id in near:
                        links.append(Link(other_id, "older", changed(row, other)))
                else:
                    links.append(Link(other_id, "same_version", contradict(row.answer_status, other.answer_status)))
            if links:
                by_row[row.id] = tuple(links)
        superseded = {key: tuple(sorted(keys)) for key, keys in newer_docs.items()}
        return cls(by_row, superseded)

    def save(self, path: Path) -> None:
        """One JSON line per row with links: ``{"row": id, "links": [[id, relation, differs], ...]}``."""
        with path.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps({"newer_documents": self.newer_documents}, ensure_ascii=False) + "\n")
            for row_id, links in self.by_row.items():
                entry = {"row": row_id, "links": [[link.row, link.relation, link.differs] for link in links]}
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: Path) -> Links:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not lines:
            raise ValueError(f"{path.name} is empty")
        header = json.loads(lines[0])
        newer = {key: tuple(value) for key, value in header["newer_documents"].items()}
        by_row: dict[str, tuple[Link, ...]] = {}
        for line in lines[1:]:
            entry = json.loads(line)
            by_row[entry["row"]] = tuple(Link(str(o), _relation(r), bool(d)) for o, r, d in entry["links"])
        return cls(by_row, newer)


def _relation(value: object) -> Relation:
    if value not in ("newer", "older", "same_version"):
        raise ValueError(f"unknown link relation {value!r}")
    return value
