"""Ranking signals: each scores rows for a question and is saved into the index folder under its name.

The default signals register themselves here: "dense" (embeddings, across languages), "lexical" (BM25 over
words) and "concepts" (BM25 over the EN/JA/KO glossary's concepts, across languages).
A new signal is one module defining a `SignalType` that calls `register` (see `base`).
"""

from __future__ import annotations

# The signals register in import order, which is the order an index lists them in.
# isort: off
from assistant.signals import dense as dense
from assistant.signals import lexical as lexical
from assistant.signals import concepts as concepts

# isort: on
from assistant.signals.base import (
    BuildInput,
    FloatArray,
    IdArray,
    Query,
    SavedShape,
    ScoreArray,
    Signal,
    SignalRun,
    SignalType,
    register,
    registered,
    unregister,
)

__all__ = [
    "BuildInput",
    "FloatArray",
    "IdArray",
    "Query",
    "SavedShape",
    "ScoreArray",
    "Signal",
    "SignalRun",
    "SignalType",
    "register",
    "registered",
    "unregister",
]
