"""The auditor's checklist of a document: its rows that a newer document or another language states otherwise."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from assistant.corpus.links import LinkLookup
from assistant.corpus.models import Row

#: "outdated": a newer document states the row's item otherwise; "disagrees": a row of the same standing
#: (the other language of the same sheet, another current document) gives the opposite answer.
FindingKind = Literal["outdated", "disagrees"]


@dataclass(frozen=True)
class Finding:
    """One line of the checklist: a row of the audited document and the row that says otherwise.

    >>> from assistant.corpus.links import Link, Links
    >>> links = Links({"v/old#3": (Link("v/new#3", "newer", True), Link("v/new#4", "newer", False))}, {})
    >>> row = Row(id="v/old#3", vendor="V", vendor_id="v", document_id="v/old", language="ja", kind="bullet",
    ...           source_text="x", line_start=3, line_end=3)
    >>> checklist("v/old", [row], links)
    [Finding(kind='outdated', row='v/old#3', other='v/new#3')]
    """

    kind: FindingKind
    #: The row of the audited document.
    row: str
    #: The newer row that replaces it ("outdated"), or the row that disagrees with it ("disagrees").
    other: str


def checklist(document_id: str, rows: Iterable[Row], links: LinkLookup) -> list[Finding]:
    """The rows of ``document_id`` that are outdated by a newer document or disagree with a row of the same
    version, in document order, each with the row that says otherwise (a pair inside the document once)."""
    mine = sorted((row for row in rows if row.document_id == document_id), key=lambda row: row.number)
    ids = {row.id for row in mine}
    findings: list[Finding] = []
    listed: set[frozenset[str]] = set()
    for row in mine:
        for link in links.of(row.id):
            if not link.differs:
                continue
            if link.relation == "newer":
                findings.append(Finding("outdated", row.id, link.row))
            elif link.relation == "same_version" and frozenset((row.id, link.row)) not in listed:
                # Two rows of this document that disagree (JA and EN item 43) are one finding, not two.
                if link.row in ids:
                    listed.add(frozenset((row.id, link.row)))
                findings.append(Finding("disagrees", row.id, link.row))
    return findings


_ITEM_PREFIX = re.compile(r"^(?:no|item|#|番号|項番|번호)\s*[.:：#]?\s*", flags=re.IGNORECASE)


def item_number(text: str) -> str:
    """The item number an auditor typed, as documents write it: "No. 43", "#43", "ｎｏ．４３" -> "43".

    >>> item_number("No. 43"), item_number(" #7 "), item_number("ｎｏ．４３"), item_number("12-3")
    ('43', '7', '43', '12-3')
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    return _ITEM_PREFIX.sub("", folded).strip()


def rows_with_item(rows: Iterable[Row], item: str, document_id: str | None = None) -> list[Row]:
    """The rows whose own item number is ``item`` (see `item_number`), optionally of one document only."""
    number = item_number(item)
    if not number:
        return []
    return [
        row
        for row in rows
        if row.item_no and item_number(row.item_no) == number and document_id in (None, row.document_id)
    ]
