"""Cells put back under their columns when a text-extracted sheet row lost or gained a cell.

Sheets extracted from PDFs to tab-separated text have ragged rows: a row that misses its empty
category cell is shifted left (the Wevox sheet's item 49), a sub-heading cell pushes the rest right
(the VoicePing sheet's XSS rows). Each column has a profile learned from the table itself: how often
it is empty and what its cells look like (a recurring value such as "有" or "根本的解決", or a kind and
length of text). A row is aligned to the columns by dynamic programming, maximising how well each cell
fits its column minus a cost for every cell moved away from its position, so well-formed rows stay
exactly where they are. A row is scored against the profile of the *other* rows (leave-one-out), and
the profiles are relearned once from the aligned rows, so a shifted row does not vouch for itself.
When a row has more cells than the table has columns, a surplus cell is kept as a sub-value of the
column before it ("XSS / when HTML input is not allowed").
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

#: Cost (in log-likelihood units) of moving one cell away from the column it was written in.
MOVE_COST = 0.7
#: Extra cost of keeping a surplus cell as a sub-value of the previous column.
SURPLUS_COST = 1.0
_VOCAB_MAX_LEN = 12
_MARK = re.compile(r"^\s*(?:[○●◯×✓✔※△▲■□-]|<\w)")
_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s*$")


def _recurring_candidate(text: str) -> bool:
    return len(text) <= _VOCAB_MAX_LEN and not _NUMBER.match(text)


def _shape(text: str, vocabulary: Counter[str]) -> str:
    """A coarse description of a cell: a recurring value itself, else its kind and length band."""
    if vocabulary[text] >= 2:
        return "v:" + text
    if _NUMBER.match(text):
        return "number"
    kind = "mark" if _MARK.match(text) else "text"
    length = len(text)
    band = 0 if length <= 2 else 1 if length <= 6 else 2 if length <= 15 else 3 if length <= 40 else 4
    return f"{kind}{band}"


@dataclass(frozen=True)
class TableProfile:
    """Cell counts of a table's lines, by column: what column fits are computed from."""

    values: Counter[str]  # recurring-candidate cell values, over all columns
    columns: tuple[tuple[int, int, Counter[str]], ...]  # (lines, filled cells, shape counts) per column

    @property
    def width(self) -> int:
        return len(self.columns)

    def without(self, row: Sequence[str]) -> _ProfileView:
        """The profile minus one of its own lines (leave-one-out)."""
        own = [c.strip() for c in row]
        values = self.values.copy()
        values.subtract(c for c in own if c and _recurring_candidate(c))
        columns = []
        for j, (total, filled, shapes) in enumerate(self.columns):
            cell = own[j] if j < len(own) else ""
            if cell:
                shapes = shapes.copy()
                shapes[_shape(cell, self.values)] -= 1
                columns.append((total - 1, filled - 1, shapes))
            else:
                columns.append((total - 1, filled, shapes))
        return _ProfileView(values, columns)

    def view(self) -> _ProfileView:
        return _ProfileView(self.values, list(self.columns))


@dataclass(frozen=True)
class _ProfileView:
    values: Counter[str]
    columns: list[tuple[int, int, Counter[str]]]

    def fit(self, cell: str, column: int) -> float:
        total, filled, shapes = self.columns[column]
        if not cell:
            return math.log((total - filled + 1) / (total + 2))
        n_shapes = sum(1 for n in shapes.values() if n > 0) + 1
        count = max(shapes.get(_shape(cell, self.values), 0), 0)
        return math.log((filled + 1) / (total + 2)) + math.log((count + 0.5) / (filled + 0.5 * n_shapes))


def learn_profile(rows: Sequence[Sequence[str]], width: int) -> TableProfile:
    """A profile from the table's lines as they stand."""
    stripped = [[c.strip() for c in r] for r in rows]
    values: Counter[str] = Counter(c for r in stripped for c in r if c and _recurring_candidate(c))
    columns = []
    for j in range(width):
        filled = [r[j] for r in stripped if j < len(r) and r[j]]
        columns.append((len(stripped), len(filled), Counter(_shape(c, values) for c in filled)))
    return TableProfile(values=values, columns=tuple(columns))


@dataclass(frozen=True)
class Alignment:
    """A row's cells under the table's columns; ``subvalues[j]`` holds surplus cells kept under column j."""

    cells: tuple[str, ...]
    subvalues: tuple[tuple[str, ...], ...]
    moved: int

    @property
    def changed(self) -> bool:
        return self.moved > 0 or any(self.subvalues)


def align_all(rows: Sequence[Sequence[str]], width: int) -> list[Alignment]:
    """Align every row of a table: leave-one-out against the others, then once more against the aligned."""
    profile = learn_profile(rows, width)
    first = [align(row, profile, exclude=row) for row in rows]
    relearned = learn_profile([a.cells for a in first], width)
    return [align(row, relearned, exclude=a.cells) for row, a in zip(rows, first, strict=True)]


def align(row: Sequence[str], profile: TableProfile, exclude: Sequence[str] | None = None) -> Alignment:
    """Place the non-empty cells of ``row`` under the profile's columns (their order is kept).

    ``exclude`` is the row as the profile counted it, left out so the row is judged by the others.

    >>> rows = [["1", "Backups kept", "Yes"], ["2", "Single sign-on", "No"], ["3", "MFA for admins", "Yes"],
    ...         ["4", "Data residency", "No"], ["5", "No"]]
    >>> align(rows[4], learn_profile(rows, 3), exclude=rows[4]).cells
    ('5', '', 'No')
    """
    view = profile.without(exclude) if exclude is not None else profile.view()
    width = profile.width
    filled = [(pos, cell.strip()) for pos, cell in enumerate(row) if cell.strip()]
    m = len(filled)
    empty = [view.fit("", j) for j in range(width)]
    neg = -math.inf
    allow_surplus = m > width
    # best[i][j]: best score with the i-th filled cell (1-based) placed in column j, as the
    # column's value or as a surplus sub-value; back[i][j] = (column of cell i-1, "take" | "sub").
    best = [[neg] * width for _ in range(m + 1)]
    back: list[list[tuple[int, str]]] = [[(-1, "")] * width for _ in range(m + 1)]

    def shift_cost(i: int, j: int, prev: int) -> float:
        offset = j - filled[i - 1][0]
        prev_offset = 0 if i == 1 else prev - filled[i - 2][0]
        return MOVE_COST if offset != prev_offset else 0.0  # one cost per shift, not per shifted cell

    for i in range(1, m + 1):
        cell = filled[i - 1][1]
        for j in range(width):
            fit = view.fit(cell, j)
            if i == 1:
                best[i][j] = sum(empty[:j]) + fit - shift_cost(i, j, -1)
                back[i][j] = (-1, "take")
                continue
            for prev in range(j):
                if best[i - 1][prev] == neg:
                    continue
                score = best[i - 1][prev] + sum(empty[prev + 1 : j]) + fit - shift_cost(i, j, prev)
                if score > best[i][j]:
                    best[i][j], back[i][j] = score, (prev, "take")
            if allow_surplus and best[i - 1][j] > neg:
                score = best[i - 1][j] + fit - SURPLUS_COST - shift_cost(i, j, j)
                if score > best[i][j]:
                    best[i][j], back[i][j] = score, (j, "sub")
    cells = [""] * width
    subs: list[list[str]] = [[] for _ in range(width)]
    if m == 0:
        return Alignment(cells=tuple(cells), subvalues=tuple(() for _ in range(width)), moved=0)
    finals = [best[m][j] + sum(empty[j + 1 :]) for j in range(width)]
    j = max(range(width), key=lambda k: finals[k])
    if finals[j] == neg:
        raise ValueError(f"a row of {m} cells cannot be placed under {width} columns")
    moved = 0
    for i in range(m, 0, -1):
        pos, cell = filled[i - 1]
        prev, op = back[i][j]
        if op == "sub":
            subs[j].insert(0, cell)
        else:
            cells[j] = cell
        moved += pos != j
        j = prev
    return Alignment(cells=tuple(cells), subvalues=tuple(tuple(s) for s in subs), moved=moved)
