"""Errors the assistant raises: each says what went wrong and how to fix it."""

from __future__ import annotations

from pathlib import Path


class AssistantError(Exception):
    """Base class: every error the library raises on purpose."""


class CorpusError(AssistantError):
    """A corpus document or the metadata file cannot be read; names the file and line.

    >>> str(CorpusError("corpus/acme/sheet.csv", "row has 7 cells, header has 5", line=12))
    'corpus/acme/sheet.csv:12: row has 7 cells, header has 5'
    """

    def __init__(self, file: str | Path, message: str, line: int | None = None) -> None:
        self.file = str(file)
        self.line = line
        self.message = message
        where = f"{self.file}:{line}" if line is not None else self.file
        super().__init__(f"{where}: {message}")


class ModelError(AssistantError):
    """The embedding model cannot be loaded or converted."""


class IndexStaleError(AssistantError):
    """The saved index does not match the corpus or the model; the message lists what changed."""


class QuestionError(AssistantError, ValueError):
    """A question (or its options) cannot be answered as given: empty, too long, unknown vendor."""


class SettingsError(AssistantError):
    """A setting (an ``ASSISTANT_*`` variable or a command-line option) has a value it cannot take; names it."""


class QuestionnaireError(AssistantError):
    """A questionnaire file cannot be read or filled as given (encrypted, legacy .xls, corrupt, no questions)."""
