"""Rows from web pages and markdown: table rows and bullets, each with its heading path.

Text extracted from a web page has no heading markers. A line that is not a bullet, a table line or
prose is a heading; a heading followed by another heading or by prose opens a top-level section
("Data Protection", "System Architecture"), one followed by bullets or a table is a sub-section
("Backup"), so bullets get paths like "Availability > Planned Maintenance". Markdown ``#`` headings
keep their level. Prose is a line that reads as a sentence; it is not a row, except in a section
that has no bullets or table rows at all (an FAQ answered in paragraphs). In the ``markdown`` layout
headings are only the ``#`` lines, and consecutive plain lines are one paragraph.

Extraction artefacts handled here: a paragraph glued to the line after it ("...security
measures.SQL Injection Prevention", "...Sheet.pdf| Category | ..."), and a table whose cell
separators were lost ("セキュリティ公的認証取得状況ISMS、Pマーク等の取得ISMS取得予定(準備中)"). For the
latter the category is recovered as the prefix a run of rows shares ("セキュリティ"); the rest of the
row cannot be split reliably (the Korean page has no separated twin in its own language), so it is
kept whole as the row's answer and the row says so in its parse note.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.corpus.columns import assign_roles, column_names
from assistant.corpus.drafts import ParsedDocument, RowDraft
from assistant.corpus.models import DocumentMeta, LineKind

_BULLET = re.compile(r"^\s*(?:[-*+•・●◦▪]|\d{1,3}[.)])\s+(?P<text>\S.*)$")
_MD_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
_TABLE = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_GLUED_TABLE = re.compile(r"^(?P<prose>[^|]*\S)\s*(?P<table>\|(?:[^|]*\|){2,}\s*)$")
_GLUED_SENTENCE = re.compile(r"(?<=[a-z)][.!?])(?=[A-Z])")
_SENTENCE_END = re.compile(r"[。．.!?！？]\s*$|[。．]|[.!?]\s+\S")
_LABEL = re.compile(r"^(?P<label>[^:：。.!?]{1,30}?)(?<!\d)\s*[:：]\s*(?P<value>\S.*)$")  # "21:00" is no label
BOILERPLATE = frozenset({"skip to main content", "skip to content", "メインコンテンツへスキップ", "본문 바로가기"})


@dataclass
class _Block:
    """A piece of a line: what it is, its text, and (for table lines) its cells."""

    line: int
    kind: str  # heading | paragraph | bullet | table | separator | text | boilerplate | blank
    text: str
    raw: str
    level: int = 0  # markdown heading level, 0 when the level must be inferred
    cells: list[str] = field(default_factory=list)
    end: int = 0  # last line of a paragraph that spans lines (markdown); 0 means the same line

    @property
    def last(self) -> int:
        return self.end or self.line


def _split_cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [c.strip() for c in inner.split("|")]


def _is_prose(text: str) -> bool:
    return bool(_SENTENCE_END.search(text)) or len(text) > 90


def _blocks(lines: Sequence[str]) -> list[_Block]:
    blocks: list[_Block] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            blocks.append(_Block(number, "blank", "", raw))
            continue
        if text.casefold() in BOILERPLATE:
            blocks.append(_Block(number, "boilerplate", text, raw))
            continue
        heading = _MD_HEADING.match(text)
        if heading:
            blocks.append(_Block(number, "heading", heading["text"], raw, level=len(heading["hashes"])))
            continue
        bullet = _BULLET.match(raw)
        if bullet:
            blocks.append(_Block(number, "bullet", bullet["text"].strip(), raw))
            continue
        if _TABLE_SEPARATOR.match(text) and "|" in text:
            blocks.append(_Block(number, "separator", text, raw))
            continue
        if _TABLE.match(text):
            blocks.append(_Block(number, "table", text, raw, cells=_split_cells(text)))
            continue
        glued = _GLUED_TABLE.match(text)
        if glued:
            blocks.append(_Block(number, "paragraph", glued["prose"], raw))
            blocks.append(_Block(number, "table", glued["table"], raw, cells=_split_cells(glued["table"])))
            continue
        parts = _GLUED_SENTENCE.split(text)
        for part in parts:
            blocks.append(_Block(number, "paragraph" if _is_prose(part) else "text", part.strip(), raw))
    return blocks


def _join_paragraphs(blocks: list[_Block]) -> list[_Block]:
    """Markdown: plain lines are prose, and consecutive ones are one paragraph (a wrapped line)."""
    joined: list[_Block] = []
    for block in blocks:
        if block.kind in ("text", "paragraph"):
            previous = joined[-1] if joined else None
            if previous is not None and previous.kind == "paragraph" and previous.last == block.line - 1:
                previous.text = f"{previous.text} {block.text}"
                previous.raw = f"{previous.raw}\n{block.raw}"
                previous.end = block.line
                continue
            block.kind = "paragraph"
        joined.append(block)
    return joined


def _infer_heading_levels(blocks: list[_Block]) -> None:
    """Plain text lines become headings (level 1 or 2) or, in runs of three or more, a glued table."""
    content = [b for b in blocks if b.kind not in ("blank", "boilerplate")]
    index = 0
    while index < len(content):
        block = content[index]
        if block.kind != "text":
            index += 1
            continue
        run_end = index
        while (
            run_end + 1 < len(content)
            and content[run_end + 1].kind == "text"
            and _adjacent(content[run_end], content[run_end + 1])
        ):
            run_end += 1
        if run_end - index + 1 >= 3:
            content[index].kind = "glued_header"
            for row in content[index + 1 : run_end + 1]:
                row.kind = "glued_row"
            index = run_end + 1
            continue
        following = content[index + 1] if index + 1 < len(content) else None
        block.kind = "heading"
        if following is None or following.kind in ("text", "heading", "paragraph"):
            block.level = 1
        else:
            block.level = 2
        index += 1


def _adjacent(a: _Block, b: _Block) -> bool:
    """Two text lines with no blank line between them (a run of table lines in a blank-spaced page)."""
    return b.line == a.line + 1


#: Block kinds that only mark their line: (the line kind, whether an earlier reading of the line wins).
_MARKS: dict[str, tuple[LineKind, bool]] = {
    "blank": ("blank", True),
    "boilerplate": ("boilerplate", False),
    "separator": ("table_header", False),
    "glued_header": ("table_header", False),
}


@dataclass
class _PageReader:
    """Reads a page's blocks in order, keeping the heading path, the current table header and glued rows."""

    language: str
    parsed: ParsedDocument = field(default_factory=ParsedDocument)
    path_by_level: dict[int, str] = field(default_factory=dict)
    table_header: list[str] | None = None
    glued: list[_Block] = field(default_factory=list)
    paragraphs: list[tuple[_Block, tuple[str, ...]]] = field(default_factory=list)

    def section(self) -> list[str]:
        return [self.path_by_level[k] for k in sorted(self.path_by_level)]

    def flush_glued(self) -> None:
        if self.glued:
            for draft in _glued_rows(self.glued, self.section(), self.language):
                self.parsed.add(draft)
            self.glued.clear()

    def read(self, block: _Block) -> None:
        if block.kind != "glued_row":
            self.flush_glued()
        if block.kind not in ("table", "separator"):
            self.table_header = None  # a markdown table ends at the first line that is not a table line
        if block.kind in _MARKS:
            kind, weak = _MARKS[block.kind]
            (self.parsed.mark_default if weak else self.parsed.mark)(block.line, kind)
        elif block.kind == "heading":
            level = block.level or 1
            self.path_by_level = {k: v for k, v in self.path_by_level.items() if k < level}
            self.path_by_level[level] = block.text
            self.parsed.mark(block.line, "heading")
        elif block.kind == "paragraph":
            self.paragraphs.append((block, tuple(self.section())))
            for number in range(block.line, block.last + 1):
                self.parsed.mark_default(number, "paragraph")
        elif block.kind == "table":
            self.read_table_line(block)
        elif block.kind == "glued_row":
            self.glued.append(block)
        elif block.kind == "bullet":
            self.parsed.add(_bullet_row(block, self.section(), self.language))

    def read_table_line(self, block: _Block) -> None:
        if self.table_header is None:
            self.table_header = block.cells
            self.parsed.mark(block.line, "table_header")
        else:
            self.parsed.add(_table_row(block, self.table_header, self.section(), self.language))

    def finish(self) -> ParsedDocument:
        self.flush_glued()
        _paragraph_rows(self.paragraphs, self.parsed, self.language)
        self.parsed.rows.sort(key=lambda r: r.line_start)
        return self.parsed


def parse_page(lines: Sequence[str], meta: DocumentMeta, path: str) -> ParsedDocument:
    """Rows of a web page or markdown document (see the module docstring)."""
    blocks = _blocks(lines)
    if meta.layout == "markdown":
        blocks = _join_paragraphs(blocks)  # real markdown marks its headings with '#'
    else:
        _infer_heading_levels(blocks)
    reader = _PageReader(meta.languages[0])
    for block in blocks:
        reader.read(block)
    return reader.finish()


def _table_row(block: _Block, header: list[str], section: list[str], language: str) -> RowDraft:
    names = column_names(header)
    roles = assign_roles(header)
    cells = (block.cells + [""] * len(header))[: len(header)]
    by_role = {role: cells[i] for i, role in enumerate(roles) if role != "other"}
    category = by_role.get("category", "")
    return RowDraft(
        kind="table_row",
        language=language,
        line_start=block.line,
        line_end=block.line,
        source_text=block.raw,
        section=[*section, category] if category else list(section),
        item_no=by_role.get("item_no", ""),
        item=by_role.get("item", ""),
        question=by_role.get("question", ""),
        answer=by_role.get("answer", ""),
        detail=by_role.get("detail", ""),
        notes=by_role.get("notes", ""),
        fields={names[i]: c for i, c in enumerate(cells) if c},
    )


def _bullet_row(block: _Block, section: list[str], language: str) -> RowDraft:
    label = _LABEL.match(block.text)
    item = label["label"].strip() if label and label["label"].count("(") == label["label"].count(")") else ""
    return RowDraft(
        kind="bullet",
        language=language,
        line_start=block.line,
        line_end=block.line,
        source_text=block.raw,
        section=list(section),
        item=item,
        answer=block.text,
    )


def _glued_rows(rows: list[_Block], section: list[str], language: str) -> list[RowDraft]:
    """Rows of a table that lost its cell separators: category from the shared prefix, the rest whole."""
    categories = _shared_prefixes([r.text for r in rows])
    drafts = []
    for row, category in zip(rows, categories, strict=True):
        rest = row.text[len(category) :].strip()
        note = (
            f"the text extraction lost this table's cell separators; the category {category!r} is the prefix "
            "this row shares with its neighbours and the rest is kept whole"
            if category
            else "the text extraction lost this table's cell separators; the row is kept whole"
        )
        drafts.append(
            RowDraft(
                kind="table_row",
                language=language,
                line_start=row.line,
                line_end=row.line,
                source_text=row.raw,
                section=[*section, category] if category else list(section),
                answer=rest,
                parse_note=note,
            )
        )
    return drafts


def _shared_prefixes(texts: Sequence[str]) -> list[str]:
    """For each text, the prefix it shares with the run of neighbours that share one.

    >>> _shared_prefixes(["AB1", "AB2", "AB3", "CD1", "CD2", "E"])
    ['AB', 'AB', 'AB', 'CD', 'CD', '']
    """
    result = [""] * len(texts)
    start = 0
    while start < len(texts):
        end = start
        prefix = texts[start]
        while end + 1 < len(texts):
            candidate = os.path.commonprefix([prefix, texts[end + 1]])  # noqa: RUF071 - characters are wanted
            if not candidate.strip():
                break
            prefix, end = candidate, end + 1
        if end > start:
            for i in range(start, end + 1):
                result[i] = prefix.rstrip()
        start = end + 1
    return result


def _paragraph_rows(paragraphs: list[tuple[_Block, tuple[str, ...]]], parsed: ParsedDocument, language: str) -> None:
    """Prose becomes rows only in a section (and its sub-sections) that has no other rows."""
    covered = {tuple(r.section[:n]) for r in parsed.rows for n in range(1, len(r.section) + 1)}
    for block, section in paragraphs:
        if not section or section in covered:
            continue
        parsed.add(
            RowDraft(
                kind="paragraph",
                language=language,
                line_start=block.line,
                line_end=block.last,
                source_text=block.raw,
                section=list(section),
                item=section[-1],
                answer=block.text,
            )
        )
