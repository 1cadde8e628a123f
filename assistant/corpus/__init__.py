"""Rows from the corpus documents: metadata, parsers for each layout, and the loaded corpus."""

from assistant.corpus.loader import (
    Corpus,
    Document,
    load_corpus,
    load_document,
    load_metadata,
    parse_document,
)
from assistant.corpus.models import CorpusMeta, DocumentMeta, DocumentReport, Layout, Row, RowKind

__all__ = [
    "Corpus",
    "CorpusMeta",
    "Document",
    "DocumentMeta",
    "DocumentReport",
    "Layout",
    "Row",
    "RowKind",
    "load_corpus",
    "load_document",
    "load_metadata",
    "parse_document",
]
