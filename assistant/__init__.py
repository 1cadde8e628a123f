"""Answers security questions with the vendor's own checksheet rows, verbatim and cited.

>>> from assistant import Assistant, Settings
>>> assistant = Assistant.load(Settings(model="hashing", index_dir=getfixture("tmp_path") / "index"))
>>> result = assistant.ask("Is VoicePing ISO 27001 certified?")
>>> result.vendor, result.answer.citation.row_id
('VoicePing', 'voiceping/security-page-en#1')
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.answers import AskResult, Citation, Match
    from assistant.errors import AssistantError, CorpusError, IndexStaleError, ModelError, QuestionError
    from assistant.retrieval import Assistant
    from assistant.settings import Settings

try:
    __version__ = importlib.metadata.version("checksheet-assistant")
except importlib.metadata.PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0+unknown"

# Loaded on first use, so that `import assistant` (and `assistant --version`) stays fast.
_EXPORTS = {
    "Assistant": "assistant.retrieval",
    "AskResult": "assistant.answers",
    "Match": "assistant.answers",
    "Citation": "assistant.answers",
    "Settings": "assistant.settings",
    "AssistantError": "assistant.errors",
    "CorpusError": "assistant.errors",
    "IndexStaleError": "assistant.errors",
    "ModelError": "assistant.errors",
    "QuestionError": "assistant.errors",
}

__all__ = [
    "AskResult",
    "Assistant",
    "AssistantError",
    "Citation",
    "CorpusError",
    "IndexStaleError",
    "Match",
    "ModelError",
    "QuestionError",
    "Settings",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
