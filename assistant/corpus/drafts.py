"""What a parser produces before ids are assigned: row drafts and the kind of every line."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.corpus.models import LineKind, RowKind


@dataclass
class RowDraft:
    """A row as a parser read it; the loader turns it into a `Row` with its id and vendor."""

    kind: RowKind
    language: str
    line_start: int
    line_end: int
    source_text: str
    section: list[str] = field(default_factory=list)
    item_no: str = ""
    item: str = ""
    question: str = ""
    answer: str = ""
    detail: str = ""
    notes: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    carried: dict[str, str] = field(default_factory=dict)
    parse_note: str = ""
    sheet: str | None = None


@dataclass
class ParsedDocument:
    """Rows of one document plus what every other line was read as (nothing is dropped unseen)."""

    rows: list[RowDraft] = field(default_factory=list)
    #: (sheet, line) -> kind; sheet is None for text files, the worksheet name for xlsx.
    line_kinds: dict[tuple[str | None, int], LineKind] = field(default_factory=dict)

    def mark(self, line: int, kind: LineKind, sheet: str | None = None) -> None:
        self.line_kinds[(sheet, line)] = kind

    def mark_default(self, line: int, kind: LineKind, sheet: str | None = None) -> None:
        """Mark a line unless another part of it was already read as something else."""
        self.line_kinds.setdefault((sheet, line), kind)

    def add(self, row: RowDraft) -> None:
        self.rows.append(row)
        for line in range(row.line_start, row.line_end + 1):
            self.line_kinds[(row.sheet, line)] = "row"
