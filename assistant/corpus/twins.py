"""Twin rows: the same row in another language, version or document of a vendor.

Three kinds of evidence, joined transitively (a twin of a twin is a twin):

- Documents declared twins in corpus.toml (the VoicePing EN/JA/KO pages) share their structure: the
  same sections, in the same order, with the same number of bullets. Their sections are aligned by a
  longest-common-subsequence over (row kind, row count), and rows inside aligned sections pair up in
  order; a section only one version has (the EN page's "System Architecture") stays unpaired.
- Inside one document, rows of different languages with the same item number are twins (the Wevox
  sheet's Japanese and English item 39).
- Across documents of a vendor in the same language, rows with the same item name are twins when
  each document has exactly one such row (the JA checksheet's "公的認証取得状況" and the JA page's
  table row that starts with it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from assistant.corpus.models import DocumentMeta, Row

_FACT = re.compile(r"[A-Z]{2,}|[A-Z]\d+|\d+(?:[.:/-]\d+)+|\d{2,}")


def facts(row: Row) -> set[str]:
    """The language-independent facts a row states: numbers, dates, times and acronyms (casefolded).

    >>> sorted(facts(Row(id="v/d#1", vendor="V", vendor_id="v", document_id="v/d", language="ja", kind="bullet",
    ...           answer="TLS1.3のみ、ログは30日で匿名化 (AWS S3)", source_text="x", line_start=1, line_end=1)))
    ['1.3', '30', 'aws', 's3', 'tls']
    """
    text = unicodedata.normalize("NFKC", " ".join((row.item, row.question, row.answer, row.detail, row.notes)))
    return {fact.casefold() for fact in _FACT.findall(text)}


def changed(newer: Row, older: Row) -> bool:
    """Whether the newer twin states a fact the older one does not: then the older row is outdated.

    Translations keep numbers and acronyms, so a newer row with a number, date or acronym its older
    twin lacks ("ISO/IEC 27001:2022 ... 2025-04-25" against "ISMS取得予定") says something new.
    """
    return bool(facts(newer) - facts(older))


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


def twin_rows(rows: Iterable[Row], documents: Iterable[DocumentMeta]) -> dict[str, set[str]]:
    """Row id -> ids of its twins (symmetric and transitive)."""
    rows = list(rows)
    by_document: dict[str, list[Row]] = {}
    for row in rows:
        by_document.setdefault(row.document_id, []).append(row)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def pair(x: Row, y: Row) -> None:
        parent[find(x.id)] = find(y.id)

    metas = {meta.key: meta for meta in documents}
    done: set[tuple[str, str]] = set()
    for key, meta in metas.items():
        for other in meta.twins:
            other_key = f"{meta.vendor_id}/{other}"
            if other_key not in by_document or key not in by_document or (other_key, key) in done:
                continue
            done.add((key, other_key))
            for x, y in align_rows(by_document[key], by_document[other_key]):
                pair(x, y)
    for document_rows in by_document.values():
        numbered: dict[str, list[Row]] = {}
        for row in document_rows:
            if row.item_no:
                numbered.setdefault(row.item_no, []).append(row)
        for group in numbered.values():
            languages = {row.language for row in group}
            if len(languages) > 1 and len(group) == len(languages):  # one row per language: a real twin
                for twin in group[1:]:
                    pair(group[0], twin)
    for x, y in _same_items(rows):
        pair(x, y)
    components: dict[str, set[str]] = {}
    for row_id in list(parent):
        components.setdefault(find(row_id), set()).add(row_id)
    return {row_id: components[find(row_id)] - {row_id} for row_id in parent}
