"""The corpus: metadata from ``corpus.toml`` and the rows of every document it lists."""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from assistant.corpus.drafts import ParsedDocument, RowDraft
from assistant.corpus.limits import MAX_ROW_CHARS
from assistant.corpus.models import CorpusMeta, DocumentMeta, DocumentReport, Layout, Row
from assistant.corpus.pages import parse_page
from assistant.corpus.paths import confined, is_file
from assistant.corpus.reading import read_document, read_lines
from assistant.corpus.spreadsheets import parse_csv_checksheet, parse_xlsx_checksheet
from assistant.corpus.statuses import answer_status
from assistant.corpus.tsv import parse_tsv_checksheet
from assistant.errors import CorpusError

logger = logging.getLogger(__name__)

METADATA_FILE = "corpus.toml"

TextParser = Callable[[Sequence[str], DocumentMeta, str], ParsedDocument]
_TEXT_PARSERS: dict[Layout, TextParser] = {
    "markdown_page": parse_page,
    "web_page": parse_page,
    "markdown": parse_page,
    "tsv_checksheet": parse_tsv_checksheet,
    "csv_checksheet": parse_csv_checksheet,
}


@dataclass(frozen=True)
class Document:
    """A document that loaded: its metadata, the hash of its bytes, its rows and line accounting."""

    meta: DocumentMeta
    path: Path
    sha256: str
    rows: tuple[Row, ...]
    #: (sheet, line) -> what the line was read as; sheet is None except in xlsx workbooks
    line_kinds: dict[tuple[str | None, int], str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.meta.key


@dataclass(frozen=True)
class Corpus:
    """All documents of a corpus folder, the rows in document order, and the documents that failed.

    >>> corpus = load_corpus(Path("corpus"))
    >>> corpus.rows[0].id, len(corpus.rows), sorted(corpus.errors)
    ('voiceping/security-page-en#1', 343, [])
    """

    root: Path
    documents: tuple[Document, ...]
    errors: dict[str, CorpusError]  # document key -> why it did not load
    metas: tuple[DocumentMeta, ...]

    @property
    def rows(self) -> list[Row]:
        return [row for doc in self.documents for row in doc.rows]

    @property
    def vendors(self) -> list[str]:
        """Vendor display names, in first-seen order."""
        seen: dict[str, None] = {}
        for meta in self.metas:
            seen.setdefault(meta.vendor, None)
        return list(seen)

    def document(self, key: str) -> Document:
        for doc in self.documents:
            if doc.key == key:
                return doc
        raise KeyError(f"no document {key!r}; known: {', '.join(d.key for d in self.documents)}")

    def reports(self) -> list[DocumentReport]:
        """One report per document in corpus.toml, loaded or not."""
        loaded = {doc.key: doc for doc in self.documents}
        reports = []
        for meta in self.metas:
            doc = loaded.get(meta.key)
            if doc is not None:
                by_language: dict[str, int] = {}
                for row in doc.rows:
                    by_language[row.language] = by_language.get(row.language, 0) + 1
                lines: dict[str, int] = {}
                for kind in doc.line_kinds.values():
                    lines[kind] = lines.get(kind, 0) + 1
                reports.append(
                    DocumentReport(
                        key=meta.key,
                        meta=meta,
                        sha256=doc.sha256,
                        rows=len(doc.rows),
                        rows_by_language=by_language,
                        lines=dict(sorted(lines.items())),
                    )
                )
            else:
                error = self.errors.get(meta.key)
                reports.append(DocumentReport(key=meta.key, meta=meta, error=str(error) if error else "not loaded"))
        return reports


def load_metadata(root: Path) -> CorpusMeta:
    """Read and validate ``<root>/corpus.toml``; errors name the file (and the line, for TOML syntax)."""
    path = confined(root, METADATA_FILE)
    if not is_file(path):
        raise CorpusError(path, f"missing; a corpus folder needs {METADATA_FILE} listing its documents")
    try:
        raw = tomllib.loads(read_document(path).decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+)", str(exc))  # Python < 3.14 has no exc.lineno
        raise CorpusError(path, f"invalid TOML: {exc}", line=int(found[1]) if found else None) from None
    except UnicodeDecodeError:
        raise CorpusError(path, "not valid UTF-8; re-save it as UTF-8") from None
    try:
        return CorpusMeta.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise CorpusError(path, f"invalid metadata: {problems}") from None


def parse_document(meta: DocumentMeta, path: Path) -> ParsedDocument:
    """Parse one document file by its layout; raises CorpusError naming the file and line."""
    if meta.layout == "xlsx_checksheet":
        parsed = parse_xlsx_checksheet(path, meta)
    else:
        parsed = _TEXT_PARSERS[meta.layout](read_lines(path), meta, str(path))
    if not parsed.rows:
        raise CorpusError(path, f"no rows found for layout {meta.layout!r}; check the layout in {METADATA_FILE}")
    for draft in parsed.rows:
        if len(draft.source_text) > MAX_ROW_CHARS:
            raise CorpusError(
                path,
                f"the row at lines {draft.line_start}-{draft.line_end} is {len(draft.source_text):,} characters; "
                f"the limit is {MAX_ROW_CHARS:,}: close the quote or cell that runs on, or split the row",
                line=draft.line_start,
            )
        if draft.language not in meta.languages:
            raise CorpusError(
                path,
                f"a row reads as language {draft.language!r} but the document declares {meta.languages}",
                line=draft.line_start,
            )
    return parsed


def _row(meta: DocumentMeta, number: int, draft: RowDraft) -> Row:
    return Row(
        id=f"{meta.key}#{number}",
        vendor=meta.vendor,
        vendor_id=meta.vendor_id,
        document_id=meta.key,
        language=draft.language,
        kind=draft.kind,
        section=draft.section,
        item_no=draft.item_no,
        item=draft.item,
        question=draft.question,
        answer=draft.answer,
        answer_status=answer_status(draft.answer) if draft.kind in ("sheet_row", "table_row") else None,
        detail=draft.detail,
        notes=draft.notes,
        fields=draft.fields,
        carried=draft.carried,
        parse_note=draft.parse_note,
        source_text=draft.source_text,
        line_start=draft.line_start,
        line_end=draft.line_end,
        sheet=draft.sheet,
    )


def load_document(meta: DocumentMeta, root: Path) -> Document:
    """Load one document of the corpus folder ``root``; its file must be inside the folder (see `confined`)."""
    path = confined(root, meta.file)
    if not is_file(path):
        raise CorpusError(path, f"file not found; fix the 'file' of document {meta.key!r} in {METADATA_FILE}")
    parsed = parse_document(meta, path)
    rows = tuple(_row(meta, n, draft) for n, draft in enumerate(parsed.rows, start=1))
    digest = hashlib.sha256(read_document(path)).hexdigest()
    return Document(meta=meta, path=path, sha256=digest, rows=rows, line_kinds=dict(parsed.line_kinds))


def load_corpus(root: Path) -> Corpus:
    """Load every document listed in ``root/corpus.toml``.

    A document that fails is reported in ``Corpus.errors`` (with its file and line) and the others
    still load. An invalid ``corpus.toml`` raises CorpusError: without it nothing can be trusted.
    """
    meta = load_metadata(root)
    documents: list[Document] = []
    errors: dict[str, CorpusError] = {}
    for doc_meta in meta.documents:
        try:
            documents.append(load_document(doc_meta, root))
        except CorpusError as exc:
            logger.warning("%s", exc)
            errors[doc_meta.key] = exc
    return Corpus(root=root, documents=tuple(documents), errors=errors, metas=tuple(meta.documents))
