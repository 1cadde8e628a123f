"""The text each row is embedded as, and the cleaned form of a question."""

from __future__ import annotations

import re
import unicodedata

from assistant.corpus.columns import role_of
from assistant.corpus.models import Row

#: Bump when `passage_text` or the lexical tokenizer (`assistant.signals.bm25.tokenize`) changes: the index
#: records it and is rebuilt when it differs.
PASSAGE_FORMAT = 3
#: The e5 prompts: what a question and a passage are prefixed with before they are embedded (the default
#: model's; a model chosen by name takes them from the settings).
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "

_TAG = re.compile(r"<[^<>]{0,200}>")
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    return _SPACE.sub(" ", _TAG.sub(" ", text)).strip()


def passage_text(row: Row) -> str:
    """What a row is embedded as: its section path, item, question, unit, answer, detail and notes.

    HTML left in cells by the PDF extraction (``<ul style=...>``, ``<input type="radio"/>``) is dropped
    here; the row itself keeps its text verbatim.
    """
    unit = next((value for column, value in row.fields.items() if role_of(column) == "unit"), "")
    parts = [" > ".join(row.section), row.item, row.question, unit, row.answer, row.detail, row.notes]
    seen: list[str] = []
    for part in parts:
        cleaned = _clean(part)
        if cleaned and cleaned not in seen:
            seen.append(cleaned)
    return " | ".join(seen)


def clean_question(question: str) -> str:
    """A question with control characters removed and whitespace collapsed (NFC, not NFKC: the
    tokenizer applies the model's own normalisation)."""
    text = unicodedata.normalize("NFC", question)
    return _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()
