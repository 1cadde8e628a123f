"""Rows from tab-separated checksheets extracted from PDFs (the VoicePing and Wevox sheets).

A file holds one or more tables. A line with two or more known header words starts a table; the same
header again is a page break (its title lines above it repeat too) and continues the table. Lines of a
single cell outside the grid are titles, version lines or footnotes. A title that names the vendor or
product is the document's title; another title ("■ ウェブアプリケーションのセキュリティ実装 チェック項目
(1/3)") is the section of the table below it, with its page counter removed. Each table's language is
read from its header, so a file with a Japanese and an English sheet yields rows in both languages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.corpus.columns import header_score
from assistant.corpus.drafts import ParsedDocument
from assistant.corpus.language import detect_language
from assistant.corpus.models import DocumentMeta
from assistant.corpus.sheets import SheetLine, Table, parse_tables
from assistant.errors import CorpusError

_PAGE_COUNTER = re.compile(r"\s*[(（]\s*\d+\s*/\s*\d+\s*[)）]\s*$")
_VERSION_LINE = re.compile(
    r"(最終更新|更新日|last\s*updated|updated|ver\.?\s*\d|version\s*\d|\d{4}[/.-]\d{1,2}[/.-]\d{1,2})", re.I
)


def clean_title(text: str) -> str:
    """A title without markdown emphasis, escapes, bullets and page counters.

    >>> clean_title("**[Wevox] Security\\\\_Checksheet\\\\_METI**")
    '[Wevox] Security_Checksheet_METI'
    >>> clean_title("■ ウェブアプリケーションのセキュリティ実装 チェック項目 (1/3)")
    'ウェブアプリケーションのセキュリティ実装 チェック項目'
    """
    text = text.strip().replace("\\_", "_").replace("\\*", "*")
    text = re.sub(r"^\*\*(.*)\*\*$", r"\1", text)
    text = text.lstrip("■□●◆◇#").strip()
    return _PAGE_COUNTER.sub("", text).strip()


@dataclass(frozen=True)
class _Names:
    words: tuple[str, ...]

    def mentioned_in(self, text: str) -> bool:
        folded = unicodedata.normalize("NFKC", text).casefold()
        return any(w and w in folded for w in self.words)


def parse_tsv_checksheet(lines: Sequence[str], meta: DocumentMeta, path: str) -> ParsedDocument:
    """Rows of a tab-separated checksheet; see the module docstring for how lines are read."""
    parsed = ParsedDocument()
    names = _Names(tuple(unicodedata.normalize("NFKC", n).casefold() for n in {meta.vendor, meta.product}))
    tables: list[Table] = []
    pending_titles: list[str] = []  # section titles seen since the last table
    headers_seen: set[tuple[str, ...]] = set()
    current: Table | None = None
    for number, raw in enumerate(lines, start=1):
        cells = raw.split("\t")
        filled = [c.strip() for c in cells if c.strip()]
        if not filled:
            parsed.mark(number, "blank")
            continue
        if _is_header(filled, cells):
            header = tuple(c.strip() for c in cells)
            key = Table(header=list(header), language="").key
            if current is not None and key == current.key:
                parsed.mark(number, "repeated_header")
                pending_titles = []
                continue
            language = detect_language(" ".join(filled), meta.languages)
            if language is None:
                raise CorpusError(
                    path,
                    f"cannot tell the language of the header {' | '.join(filled)!r}; "
                    f"the document declares {meta.languages}",
                    line=number,
                )
            parsed.mark(number, "repeated_header" if key in headers_seen else "table_header")
            headers_seen.add(key)
            titles = pending_titles or (current.titles if current is not None and current.key == key else [])
            current = Table(
                header=list(header), language=language, titles=list(titles), realign=True, header_line=number
            )
            tables.append(current)
            pending_titles = []
            continue
        if len(cells) >= 2 and current is not None:
            current.lines.append(SheetLine(number, number, cells, raw))
            continue
        # A single cell outside the grid.
        text = filled[0] if len(filled) == 1 else " ".join(filled)
        if text.startswith(("※", "*", "注")) and not text.startswith("**"):
            parsed.mark(number, "footnote")
        elif (_VERSION_LINE.search(text) and len(text) < 80) or names.mentioned_in(text):
            parsed.mark(number, "title")
        else:
            parsed.mark(number, "section")
            pending_titles = [clean_title(text)]
            current = None  # a new section title closes the table above it
    if not tables:
        raise CorpusError(
            path,
            "no header line found (a line with at least two column names such as 'No', 'Question', 'Answer', "
            "'回答', '内容'); check the layout in corpus.toml",
        )
    for table in tables:
        if not any(any(c.strip() for c in line.cells) for line in table.lines):
            raise CorpusError(
                path, "a header with no rows under it; add the rows or remove the header", line=table.header_line
            )
    parse_tables(tables, parsed, answer_markers=meta.answer_markers)
    return parsed


def _is_header(filled: Sequence[str], cells: Sequence[str]) -> bool:
    """Two or more known column names, and no cell as long as a sentence."""
    return len(filled) >= 2 and header_score(list(cells)) >= 2 and all(len(c) <= 30 for c in filled)
