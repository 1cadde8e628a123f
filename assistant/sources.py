"""Source views: the cited lines of a document in context, checked against what the index quotes."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from assistant.corpus.models import Row
from assistant.corpus.paths import confined, is_file
from assistant.corpus.reading import read_lines
from assistant.corpus.spreadsheets import sheet_lines
from assistant.errors import CorpusError


class SourceLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: int
    text: str
    cited: bool


class SourceView(BaseModel):
    """Lines around a citation, numbered, the cited ones marked.

    ``matches_index`` is False when the file no longer has the quoted text at the cited lines (the
    document changed after the index was built): the quote cannot be checked until a rebuild.
    """

    model_config = ConfigDict(extra="forbid")

    row_id: str
    file: str
    sheet: str | None = None
    line_start: int
    line_end: int
    total_lines: int
    lines: list[SourceLine]
    matches_index: bool


def source_view(corpus_dir: Path, file: str, row: Row, context: int = 6) -> SourceView:
    """The cited lines of ``row`` in ``corpus_dir/file`` with ``context`` lines either side.

    ``file`` comes from the index folder, which anyone who can write there may edit: it is confined to the
    corpus folder and read within the corpus limits, exactly as the loader does.
    """
    if context < 0:
        raise ValueError(f"context must be >= 0, got {context}")
    path = confined(corpus_dir, file)
    if not is_file(path):
        raise CorpusError(path, "the cited file is missing from the corpus folder")
    lines = sheet_lines(path, row.sheet) if row.sheet else read_lines(path)
    matches = "\n".join(lines[row.line_start - 1 : row.line_end]) == row.source_text
    first = max(1, row.line_start - context)
    last = min(len(lines), row.line_end + context)
    return SourceView(
        row_id=row.id,
        file=file,
        sheet=row.sheet,
        line_start=row.line_start,
        line_end=row.line_end,
        total_lines=len(lines),
        lines=[
            SourceLine(number=n, text=lines[n - 1], cited=row.line_start <= n <= row.line_end)
            for n in range(first, last + 1)
        ],
        matches_index=matches,
    )
