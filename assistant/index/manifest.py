"""The index manifest: what an index was built from, and what changed since."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from assistant.index.integrity import FileStamp

#: Bump when the folder layout or the manifest's meaning changes, or what a build derives from the rows (6: the
#: links read 12-hour times as 24-hour ones, `assistant.corpus.evidence`).
INDEX_FORMAT = 6


class DocumentStamp(BaseModel):
    """One indexed document: the hash of its file and how many rows it gave."""

    model_config = ConfigDict(extra="forbid")

    file: str
    sha256: str
    rows: int


class IndexManifest(BaseModel):
    """``manifest.json``: enough to tell whether an index still matches the corpus and the model."""

    model_config = ConfigDict(extra="forbid")

    format: int = INDEX_FORMAT
    model: str
    model_fingerprint: str
    query_prompt: str
    passage_prompt: str
    passage_format: int
    dimension: int  # of the model's embeddings
    #: The ranking signals the index holds, by name, with what each records about itself (kind, parameters).
    signals: dict[str, dict[str, str | int | float]] = Field(default_factory=dict)
    rows: int
    #: SHA-256 of rows.jsonl: every row as read from the corpus, so any parser or corpus change shows here, and
    #: rows edited in the index folder never match it.
    rows_sha256: str
    corpus_metadata_sha256: str
    documents: dict[str, DocumentStamp] = Field(default_factory=dict)
    skipped: dict[str, str] = Field(default_factory=dict)  # documents that failed to load, and why
    versions: dict[str, str] = Field(default_factory=dict)
    built_at: dt.datetime
    build_seconds: float
    #: Every other file of the index folder: its size and hash, checked when the index is opened.
    files: dict[str, FileStamp] = Field(default_factory=dict)


def differences(saved: IndexManifest, current: IndexManifest) -> list[str]:
    """Human-readable reasons a saved index no longer matches (empty when it does).

    ``current`` is the manifest the index would have if built now (its build fields are ignored).
    """
    reasons: list[str] = []
    if saved.format != current.format:
        reasons.append(f"index format {saved.format} -> {current.format}")
    if saved.model != current.model:
        reasons.append(f"model {saved.model!r} -> {current.model!r}")
    elif saved.model_fingerprint != current.model_fingerprint:
        reasons.append(
            f"model weights changed (fingerprint {saved.model_fingerprint[:12]} -> {current.model_fingerprint[:12]})"
        )
    if (saved.query_prompt, saved.passage_prompt) != (current.query_prompt, current.passage_prompt):
        reasons.append("prompts changed")
    if list(saved.signals) != list(current.signals):
        reasons.append(f"signals {', '.join(saved.signals) or 'none'} -> {', '.join(current.signals)}")
    for name in [n for n in current.signals if n in saved.signals]:
        before, after = saved.signals[name].get("version"), current.signals[name].get("version")
        if after is not None and before != after:
            reasons.append(f"signal {name} changed (version {before} -> {after})")
    if saved.passage_format != current.passage_format:
        reasons.append(f"passage format {saved.passage_format} -> {current.passage_format}")
    reasons.extend(_document_differences(saved, current))
    for key in sorted(set(saved.skipped) ^ set(current.skipped)):
        reasons.append(f"document {key} {'now loads' if key in saved.skipped else 'no longer loads'}")
    if saved.corpus_metadata_sha256 != current.corpus_metadata_sha256:
        reasons.append("corpus.toml changed")
    if not reasons and saved.rows_sha256 != current.rows_sha256:
        reasons.append("rows changed (the parser now reads the documents differently)")
    return reasons


def _document_differences(saved: IndexManifest, current: IndexManifest) -> list[str]:
    """The documents added, removed or changed since ``saved``, sorted by key."""
    reasons: list[str] = []
    for key in sorted(set(saved.documents) | set(current.documents)):
        old, new = saved.documents.get(key), current.documents.get(key)
        if old is None:
            reasons.append(f"document added: {key}")
        elif new is None:
            reasons.append(f"document removed: {key}")
        elif old.sha256 != new.sha256:
            reasons.append(f"document changed: {key} ({new.file})")
    return reasons
