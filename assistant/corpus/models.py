"""Pydantic models at the corpus boundary: document metadata and the rows parsed from documents."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assistant.corpus.statuses import AnswerStatus

Layout = Literal["markdown_page", "web_page", "markdown", "tsv_checksheet", "csv_checksheet", "xlsx_checksheet"]
RowKind = Literal["sheet_row", "table_row", "bullet", "paragraph"]
LineKind = Literal[
    "row",  # the line is (part of) a row
    "heading",
    "paragraph",  # prose that is not a row (an intro above bullets or a table)
    "table_header",
    "repeated_header",  # a page header or column-header line repeated at a page break
    "title",  # document title or version line
    "section",  # a section line ("アプリケーション運用", "■ ...") or a group row
    "footnote",
    "boilerplate",  # navigation text of a web page ("Skip to main content")
    "blank",
]

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LANG = re.compile(r"^[a-z]{2}$")


def slugify(name: str) -> str:
    """Lowercase-with-dashes form of a name: ``slugify("Acme Cloud, Inc.") == "acme-cloud-inc"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug


class DocumentMeta(BaseModel):
    """One entry of ``corpus/corpus.toml``: what we know about a document file.

    >>> meta = DocumentMeta(id="sheet", vendor="Acme", product="Acme Cloud", file="acme/sheet.csv",
    ...                     layout="csv_checksheet", languages=["en"], title="Acme checksheet")
    >>> meta.vendor_id, meta.key
    ('acme', 'acme/sheet')
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    vendor: str = Field(min_length=1)
    vendor_id: str = ""
    product: str = Field(min_length=1)
    file: str = Field(min_length=1)
    layout: Layout
    languages: list[str] = Field(min_length=1)
    title: str = Field(min_length=1)
    as_of: dt.date | None = None
    version: str | None = None
    dated_by: str = "unknown"
    newer_than: list[str] = Field(default_factory=list)
    twins: list[str] = Field(default_factory=list)
    answer_markers: list[str] = Field(default_factory=list)
    source: str = ""

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(
                f"document id {value!r} must be lowercase letters, digits and dashes, e.g. 'security-sheet-en'"
            )
        return value

    @field_validator("languages")
    @classmethod
    def _languages_are_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not _LANG.match(code):
                raise ValueError(f"language {code!r} must be a two-letter ISO 639-1 code such as 'en', 'ja', 'ko'")
        return value

    @model_validator(mode="after")
    def _fill_vendor_id(self) -> DocumentMeta:
        vendor_id = self.vendor_id or slugify(self.vendor)
        if not _SLUG.match(vendor_id):
            raise ValueError(f"vendor_id {vendor_id!r} must be lowercase letters, digits and dashes")
        object.__setattr__(self, "vendor_id", vendor_id)
        return self

    @property
    def key(self) -> str:
        """The document's corpus-wide id: ``<vendor_id>/<id>``."""
        return f"{self.vendor_id}/{self.id}"


class CorpusMeta(BaseModel):
    """The whole ``corpus.toml``: a list of documents with unique ids and consistent relations."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    documents: list[DocumentMeta] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_relations(self) -> CorpusMeta:
        keys = [d.key for d in self.documents]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"duplicate document ids: {', '.join(duplicates)}")
        files = [d.file for d in self.documents]
        dup_files = sorted({f for f in files if files.count(f) > 1})
        if dup_files:
            raise ValueError(f"the same file is described twice: {', '.join(dup_files)}")
        for doc in self.documents:
            same_vendor = {d.id for d in self.documents if d.vendor_id == doc.vendor_id}
            for related in [*doc.newer_than, *doc.twins]:
                if related not in same_vendor:
                    raise ValueError(
                        f"document {doc.key!r} refers to {related!r}, which is not a document of vendor "
                        f"{doc.vendor!r}; known: {', '.join(sorted(same_vendor))}"
                    )
        return self


class Row(BaseModel):
    """One checksheet row (or table row, or bullet): the unit the assistant retrieves and cites.

    ``source_text`` is exactly the text of lines ``line_start``..``line_end`` of the document file
    (for xlsx: the cells of that sheet row joined by tabs), so a citation can be checked by opening
    the file at those lines.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str  # "<vendor_id>/<document id>#<n>", n counting rows from 1 in file order
    vendor: str
    vendor_id: str
    document_id: str  # "<vendor_id>/<document id>"
    language: str
    kind: RowKind
    section: list[str] = Field(default_factory=list)
    item_no: str = ""
    item: str = ""  # the evaluation item, sub-category or label
    question: str = ""  # what the item asks or checks ("Check Details", "内容", "規定内容")
    answer: str = ""  # the vendor's answer or status cell ("Yes", "有", "○対応済", a bullet's statement)
    #: The answer cell read as one status ("有" and "Yes" are both "yes"), None when it states none.
    answer_status: AnswerStatus | None = None
    detail: str = ""
    notes: str = ""
    fields: dict[str, str] = Field(default_factory=dict)  # every cell of the row by column name, as written
    carried: dict[str, str] = Field(default_factory=dict)  # empty cells filled from rows above, by column name
    parse_note: str = ""  # how the parser read an irregular row (realigned cells, unsplit cells)
    source_text: str
    line_start: int = Field(ge=1)
    line_end: int = Field(ge=1)
    sheet: str | None = None  # xlsx worksheet name; line numbers are then sheet row numbers

    @property
    def number(self) -> int:
        """The row's position in its document (the ``n`` of its id)."""
        return int(self.id.rsplit("#", 1)[1])


class DocumentReport(BaseModel):
    """A loaded document: its metadata, file hash, row count and line accounting, or its error."""

    model_config = ConfigDict(extra="forbid")

    key: str
    meta: DocumentMeta
    sha256: str = ""
    rows: int = 0
    rows_by_language: dict[str, int] = Field(default_factory=dict)
    lines: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
