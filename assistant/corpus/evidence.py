"""Evidence that two rows of a vendor state the same item, and whether a newer row says something new.

All evidence stays inside one vendor (twin documents, item numbers, item names, overlapping texts), so the
links of a vendor can be computed, and cached, from that vendor's rows alone (see `assistant.corpus.links`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse

from assistant.corpus.models import DocumentMeta, Row
from assistant.corpus.statuses import AnswerStatus, contradict

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_FACT = re.compile(r"\d{1,2}:\d{2}|\d+(?:\.\d+)+|[A-Z]{2,}|[A-Z]\d+|\d{2,}")
#: A time on the 12-hour clock ("5:00 PM", "11:30 a.m."): read as the 24-hour time a translation writes (17:00).
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})\s*([AaPp])\.?\s?[Mm]\.?(?![A-Za-z])")
#: Texts whose character bigrams overlap at least this much (over the smaller set) state the same thing.
OVERLAP = 0.75
#: Fewer bigrams than this is too little text to compare ("有", "対応済").
MIN_BIGRAMS = 6
_MARKER = re.compile(r"(?:vp)?(?:対応|説明)\s*[:：]", flags=re.IGNORECASE)
_TAG = re.compile(r"<[^<>]{0,200}>")
_NON_WORD = re.compile(r"[\W_]+")
#: Rows of one group compared at a time when counting shared bigrams (bounds the memory of the product).
_BLOCK = 512


def _texts(row: Row) -> str:
    return " ".join((row.item, row.question, row.answer, row.detail, row.notes))


@lru_cache(maxsize=65536)
def _folded_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=65536)
def _facts_of(text: str) -> frozenset[str]:
    text = unicodedata.normalize("NFKC", text)
    dates = {f"{y}-{int(m):02d}-{int(d):02d}" for y, m, d in _DATE.findall(text)}
    rest = _CLOCK.sub(_twenty_four_hours, _DATE.sub(" ", text))
    return frozenset(dates | {fact.casefold() for fact in _FACT.findall(rest)})


def _twenty_four_hours(time: re.Match[str]) -> str:
    hours, minutes, half = time.groups()
    return f"{int(hours) % 12 + (12 if half in 'Pp' else 0)}:{minutes}"


def facts(row: Row) -> set[str]:
    """The language-independent facts a row states: dates, times, numbers and acronyms (casefolded).

    >>> sorted(facts(Row(id="v/d#1", vendor="V", vendor_id="v", document_id="v/d", language="ja", kind="bullet",
    ...           answer="TLS1.3のみ、ログは30日で匿名化 (AWS S3) 2025/4/25 9:00〜18:00", source_text="x",
    ...           line_start=1, line_end=1)))
    ['1.3', '18:00', '2025-04-25', '30', '9:00', 'aws', 's3', 'tls']

    A time on the 12-hour clock is the 24-hour time a translation writes ("平日11:00～17:00" in the other part):

    >>> sorted(facts(Row(id="v/d#2", vendor="V", vendor_id="v", document_id="v/d", language="en", kind="sheet_row",
    ...           detail="Weekdays from 11:00 AM to 5:00 PM (JST); backups at 12:30 a.m.", source_text="x",
    ...           line_start=2, line_end=2)))
    ['0:30', '11:00', '17:00', 'jst']
    """
    return set(_facts_of(_texts(row)))


def changed(newer: Row, older: Row) -> bool:
    """Whether the newer row contradicts the older one's status or states a fact the older one does not.

    Translations keep numbers and acronyms, so a newer row with a number, date or acronym its older
    twin lacks ("ISO/IEC 27001:2022 ... 2025-04-25" against "ISMS取得予定") says something new. A fact the
    older row writes otherwise ("https", "TLS1.3") is not new.
    """
    return Facts.of(newer).new_against(Facts.of(older))


#: Rows of two documents in one language whose answer texts share at least this part of their bigrams (Jaccard)
#: are copies: the JA page's bullet made from the JA checksheet's row.
COPY = 0.8


def same_statement(row: Row, other: Row, metas: dict[str, DocumentMeta]) -> bool:
    """Whether ``other``, a row linked to ``row`` as the same item, says what ``row`` says.

    In another language it must be in the same document (the other language part of a sheet) or in a declared
    twin (the JA page of the EN page); in the same language, in another document with an answer text sharing
    `COPY` of its bigrams (a copy). Either way neither row may state a status or fact (number, date, acronym)
    the other does not: the English part of a sheet whose item 7 answers with another item's text is not a
    translation.

    >>> row = lambda n, lang, answer: Row(id=f"v/d#{n}", vendor="V", vendor_id="v", document_id="v/d",
    ...     language=lang, kind="sheet_row", answer=answer, source_text="x", line_start=n, line_end=n)
    >>> same_statement(row(1, "ja", "TLS1.2で暗号化"), row(2, "en", "Encrypted with TLS1.2"), {})
    True
    >>> same_statement(row(1, "ja", "29参照"), row(2, "en", "Article 10 of the Terms"), {})
    False
    """
    if row.vendor_id != other.vendor_id:
        return False
    if row.language != other.language:
        related = row.document_id == other.document_id or _twins(row.document_id, other.document_id, metas)
    else:
        related = row.document_id != other.document_id and _copied(row, other)
    if not related:
        return False
    mine, theirs = Facts.of(row), Facts.of(other)
    return not mine.new_against(theirs) and not theirs.new_against(mine)


#: Characters per unit of content in each language, against English: the median length ratio of the answer texts
#: of rows that say the same in the seeds (ja/en 0.43, ko/en 0.53, 93 and 51 pairs; 2026-11-28). Others count as 1.
DENSITY = {"en": 1.0, "ja": 0.43, "ko": 0.53}
#: A row whose answer text is under this part of the usual length of a translation of another is abridged, when it
#: also lacks at least `MISSING` characters of it (in English terms: about a clause; "7世代" / "Seven generations"
#: differ in length, not in content).
ABRIDGED = 0.5
MISSING = 30


def abridged(row: Row, other: Row) -> bool:
    """Whether ``other``, which says what ``row`` says, carries clearly less of it: its answer, detail and notes
    are under `ABRIDGED` of the length a translation of ``row``'s usually has, and `MISSING` characters shorter
    (the English part of a sheet item whose Japanese part adds a sentence).

    >>> row = lambda n, lang, detail: Row(id=f"v/d#{n}", vendor="V", vendor_id="v", document_id="v/d",
    ...     language=lang, kind="sheet_row", detail=detail, source_text="x", line_start=n, line_end=n)
    >>> ja = row(1, "ja", "ビルドのたびにスキャンを実施。サーバー自体にはウイルス対策ソフトを導入していない。")
    >>> abridged(ja, row(2, "en", "A scan is performed on every build.")), abridged(ja, row(3, "en", "A scan is "
    ...     "performed on every build. No antivirus software is installed on the servers themselves."))
    (True, False)
    >>> abridged(row(4, "en", "Seven generations"), row(5, "ja", "7世代"))
    False
    """

    def size(r: Row) -> float:
        return len(" ".join((r.answer, r.detail, r.notes)).strip()) / DENSITY.get(r.language, 1.0)

    mine, theirs = size(row), size(other)
    return theirs < ABRIDGED * mine and mine - theirs >= MISSING


def _twins(key: str, other_key: str, metas: dict[str, DocumentMeta]) -> bool:
    meta, other = metas.get(key), metas.get(other_key)
    return meta is not None and other is not None and (other.id in meta.twins or meta.id in other.twins)


def _copied(row: Row, other: Row) -> bool:
    mine, theirs = _bigrams(row), _bigrams(other)
    return bool(mine and theirs) and len(mine & theirs) >= COPY * len(mine | theirs)


@dataclass(frozen=True)
class Facts:
    """What `changed` compares of a row, computed once per row: its status, facts and folded text."""

    status: AnswerStatus | None
    facts: frozenset[str]
    folded: str

    @classmethod
    def of(cls, row: Row) -> Facts:
        text = _texts(row)
        return cls(row.answer_status, _facts_of(text), _folded_text(text))

    def new_against(self, older: Facts) -> bool:
        """`changed` (this row the newer one)."""
        if contradict(self.status, older.status):
            return True
        return any(fact not in older.facts and fact not in older.folded for fact in self.facts)


def _sections(rows: Sequence[Row]) -> list[list[Row]]:
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.language, *row.section), []).append(row)
    return list(groups.values())


def _signature(section: list[Row]) -> tuple[str, int]:
    return section[0].kind, len(section)


def align_rows(a: Sequence[Row], b: Sequence[Row]) -> list[tuple[Row, Row]]:
    """Pairs of rows of two twin documents, by aligning their sections (see `assistant.corpus.links`)."""
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


def same_items(rows: Sequence[Row]) -> list[tuple[Row, Row]]:
    """Rows of different documents (same vendor and language) naming the same item, once per document.

    A row without an item (a glued table row) takes the longest item of the vendor's rows its answer
    starts with.
    """
    items = {_item_key(r.item) for r in rows if len(_item_key(r.item)) >= 3}
    lengths = sorted({len(item) for item in items}, reverse=True)
    keyed: dict[tuple[str, str, str], dict[str, list[Row]]] = {}
    for row in rows:
        key = _item_key(row.item)
        if len(key) < 3:  # a row without an item (a glued table row) may start with one
            text = _item_key(row.answer)
            key = next((text[:n] for n in lengths if n <= len(text) and text[:n] in items), "")
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
    text = _NON_WORD.sub("", _MARKER.sub(" ", _TAG.sub(" ", text)))
    return frozenset({text[i : i + 2] for i in range(len(text) - 1)})


def overlapping(rows: Sequence[Row]) -> list[tuple[Row, Row]]:
    """Rows of different documents (same vendor and language) whose answer texts mostly overlap.

    The bigrams two rows share are counted for every pair of a group at once, as a sparse product of the
    rows' bigram sets (row x bigram) with itself, a block of rows at a time.
    """
    groups: dict[tuple[str, str], list[tuple[Row, frozenset[str]]]] = {}
    for row in rows:
        grams = _bigrams(row)
        if len(grams) >= MIN_BIGRAMS:
            groups.setdefault((row.vendor_id, row.language), []).append((row, grams))
    pairs: list[tuple[Row, Row]] = []
    for members in groups.values():
        documents = {row.document_id: None for row, _ in members}
        if len(documents) < 2:
            continue
        document_of = dict(zip(documents, range(len(documents)), strict=True))
        vocabulary: dict[str, int] = {}
        indices = [vocabulary.setdefault(gram, len(vocabulary)) for _, grams in members for gram in grams]
        sizes = np.array([len(grams) for _, grams in members], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(sizes)])
        ones = np.ones(len(indices), dtype=np.int32)
        grams_of = sparse.csr_matrix((ones, indices, indptr), shape=(len(members), len(vocabulary)))
        transposed = grams_of.T.tocsr()
        docs = np.array([document_of[row.document_id] for row, _ in members], dtype=np.int64)
        for start in range(0, len(members), _BLOCK):
            shared = (grams_of[start : start + _BLOCK] @ transposed).tocoo()
            first, second, count = shared.row.astype(np.int64) + start, shared.col.astype(np.int64), shared.data
            keep = (second > first) & (docs[first] != docs[second])
            keep &= count >= OVERLAP * np.minimum(sizes[first], sizes[second])
            pairs.extend((members[a][0], members[b][0]) for a, b in zip(first[keep], second[keep], strict=True))
    return pairs


def edges(rows: Sequence[Row], metas: dict[str, DocumentMeta]) -> dict[str, set[str]]:
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
    pairs += same_items(rows)
    pairs += overlapping(rows)
    found: dict[str, set[str]] = {}
    for x, y in pairs:
        found.setdefault(x.id, set()).add(y.id)
        found.setdefault(y.id, set()).add(x.id)
    return found
