"""Rows from checksheet tables: carry-down of category cells, group lines as sections, realignment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.corpus.alignment import Alignment, align_all
from assistant.corpus.columns import CARRY_ROLES, CONTENT_ROLES, Role, assign_roles, column_names
from assistant.corpus.drafts import ParsedDocument, RowDraft


@dataclass
class SheetLine:
    """One table line: its cells as read, where it is in the file, and its exact text."""

    line_start: int
    line_end: int
    cells: list[str]
    text: str


@dataclass
class Table:
    """A header and the lines under it, up to the next header or the end of the sheet."""

    header: list[str]
    language: str
    titles: list[str] = field(default_factory=list)
    lines: list[SheetLine] = field(default_factory=list)
    sheet: str | None = None
    header_line: int | None = None
    #: Re-place cells of ragged rows under their columns (text extractions); spreadsheets keep positions.
    realign: bool = False

    @property
    def key(self) -> tuple[str, ...]:
        """The header's column names: tables under the same header share column profiles and state."""
        return tuple(Columns.from_header(self.header).names)


@dataclass(frozen=True)
class Columns:
    """A table's columns: names, roles and which of them carry down."""

    names: list[str]
    roles: list[Role]

    @classmethod
    def from_header(cls, header: Sequence[str]) -> Columns:
        roles = assign_roles(list(header))
        width = len(header)
        while width > 0 and not header[width - 1].strip() and roles[width - 1] == "other":
            width -= 1  # a trailing tab, not a column
        return cls(names=column_names(list(header[:width])), roles=roles[:width])

    @property
    def width(self) -> int:
        return len(self.roles)

    @property
    def first_content(self) -> int:
        return next((i for i, r in enumerate(self.roles) if r in CONTENT_ROLES), self.width)

    def carries(self, index: int) -> bool:
        role = self.roles[index]
        return role in CARRY_ROLES or (role == "other" and index < self.first_content)

    def index_of(self, role: Role) -> int | None:
        return self.roles.index(role) if role in self.roles else None


def _is_group(cells: Sequence[str], columns: Columns) -> bool:
    """A section or group line: one or two short cells, all in the leading (carry) columns.

    ("アプリケーション運用", "セキュリティ | クラウド提供者"). A shifted data row can also have text only
    in the leading columns, but it has more cells or a long one.
    """
    filled = [i for i, c in enumerate(cells) if c.strip()]
    return (
        0 < len(filled) <= 2
        and all(i < columns.first_content and columns.carries(i) for i in filled)
        and all(len(cells[i].strip()) <= 40 for i in filled)
    )


def _split_marker(text: str, markers: Sequence[str]) -> tuple[str, str]:
    """Split a cell at the first answer marker ("VP対応:"): (the check item, the vendor's reply)."""
    hits = [(text.find(m), m) for m in markers if m and m in text]
    if not hits:
        return text, ""
    at = min(hits)[0]
    return text[:at].strip(), text[at:].strip()


class _State:
    """What carries down from line to line within a document's tables."""

    def __init__(self) -> None:
        self.levels: dict[int, list[str]] = {}  # carry column -> value levels (a sub-item adds a level)
        self.sections: dict[int, str] = {}  # column index -> section text from group lines and categories

    def set_section(self, index: int, text: str) -> None:
        self.sections = {i: t for i, t in self.sections.items() if i < index}
        self.sections[index] = text

    def clear_carry_from(self, index: int, keep: frozenset[int] = frozenset()) -> None:
        self.levels = {i: v for i, v in self.levels.items() if i < index or i in keep}


def parse_tables(
    tables: Sequence[Table],
    parsed: ParsedDocument,
    *,
    answer_markers: Sequence[str] = (),
) -> None:
    """Append the rows of ``tables`` (in order) to ``parsed`` and mark their lines."""
    alignments = _alignments(tables)
    state = _State()
    previous_key: tuple[str, ...] | None = None
    for t, table in enumerate(tables):
        columns = Columns.from_header(table.header)
        if table.key != previous_key:
            state = _State()
        previous_key = table.key
        for n, line in enumerate(table.lines):
            cells = [c.strip() for c in line.cells]
            if not any(cells):
                for number in range(line.line_start, line.line_end + 1):
                    parsed.mark(number, "blank", table.sheet)
                continue
            alignment = alignments.get((t, n))
            if _is_group(cells, columns):
                _apply_group(cells, columns, state)
                for number in range(line.line_start, line.line_end + 1):
                    parsed.mark(number, "section", table.sheet)
                continue
            parsed.add(_row(table, columns, line, cells, alignment, state, answer_markers))


def _alignments(tables: Sequence[Table]) -> dict[tuple[int, int], Alignment]:
    """Aligned cells of every data line of the tables that ask for it, keyed (table, line).

    Tables under the same header are aligned together: their column profiles pool all their lines.
    """
    grouped: dict[tuple[str, ...], list[tuple[int, int, list[str]]]] = {}
    for t, table in enumerate(tables):
        if not table.realign:
            continue
        for n, line in enumerate(table.lines):
            cells = [c.strip() for c in line.cells]
            if any(cells) and not _is_group(cells, Columns.from_header(table.header)):
                grouped.setdefault(table.key, []).append((t, n, cells))
    result: dict[tuple[int, int], Alignment] = {}
    for key, lines in grouped.items():
        aligned = align_all([cells for _, _, cells in lines], len(key))
        for (t, n, _), alignment in zip(lines, aligned, strict=True):
            result[(t, n)] = alignment
    return result


def _apply_group(cells: Sequence[str], columns: Columns, state: _State) -> None:
    filled = [i for i, c in enumerate(cells) if c.strip()]
    state.clear_carry_from(filled[0])
    for index in filled:
        state.set_section(index, cells[index])
        if columns.roles[index] == "category":
            state.levels[index] = [cells[index]]


def _carry_new_value(
    state: _State, columns: Columns, index: int, cell: str, subs: tuple[str, ...], same_item: bool
) -> str:
    """A filled cell of a carried column: it becomes the value carried down, and starts afresh what depends on it."""
    levels = state.levels.get(index, [])
    # A new item number resets the item, but not the category, which is above items whatever its column.
    is_category = columns.roles[index] == "category"
    categories = frozenset(i for i, r in enumerate(columns.roles) if r == "category")
    state.clear_carry_from(index + 1, keep=frozenset() if is_category else categories)
    if subs:
        state.levels[index] = [cell, *subs]
    elif same_item and len(levels) > 1:
        state.levels[index] = [*levels[:-1], cell]  # a new sub-item of the same numbered item
    else:
        state.levels[index] = [cell]
    if is_category:
        state.set_section(index, cell)
    return " / ".join(state.levels[index])


def _row(
    table: Table,
    columns: Columns,
    line: SheetLine,
    cells: list[str],
    alignment: Alignment | None,
    state: _State,
    answer_markers: Sequence[str],
) -> RowDraft:
    width = columns.width
    notes: list[str] = []
    subvalues: list[tuple[str, ...]] = [() for _ in range(width)]
    if alignment is not None:
        if alignment.changed:
            placed = ", ".join(f"{columns.names[j]}={v!r}" for j, v in enumerate(alignment.cells) if v)
            notes.append(f"cells realigned to the columns ({placed})")
        cells = list(alignment.cells)
        subvalues = list(alignment.subvalues)
    cells = (cells + [""] * width)[:width]

    item_no_index = columns.index_of("item_no")
    continues_item = item_no_index is not None and not cells[item_no_index]
    values: list[str] = []
    carried: dict[str, str] = {}
    for index, cell in enumerate(cells):
        subs = subvalues[index]
        if columns.carries(index):
            if cell:
                same_item = continues_item and index != item_no_index
                values.append(_carry_new_value(state, columns, index, cell, subs, same_item))
            else:
                value = " / ".join(state.levels.get(index, []))
                if value:
                    carried[columns.names[index]] = value
                values.append(value)
        else:
            values.append(" / ".join([cell, *subs]) if cell else " / ".join(subs))

    def pick(role: Role) -> str:
        index = columns.index_of(role)
        return values[index] if index is not None else ""

    question, reply = _split_marker(pick("question"), answer_markers)
    detail = pick("detail")
    if reply:
        detail = f"{reply} {detail}".strip() if detail else reply
    section = [*table.titles]
    for index in sorted(state.sections):
        text = state.sections[index]
        if not section or section[-1] != text:
            section.append(text)
    fields = {columns.names[i]: cells[i] for i in range(width) if cells[i]}
    for index, subs in enumerate(subvalues):
        if subs:
            fields[columns.names[index]] = " / ".join([cells[index], *subs]).strip(" /")
    return RowDraft(
        kind="sheet_row",
        language=table.language,
        line_start=line.line_start,
        line_end=line.line_end,
        source_text=line.text,
        section=section,
        item_no=pick("item_no"),
        item=pick("item"),
        question=question,
        answer=pick("answer"),
        detail=detail,
        notes=pick("notes"),
        fields=fields,
        carried=carried,
        parse_note="; ".join(notes),
        sheet=table.sheet,
    )
