"""Build the index from the corpus, or open the saved one when it still matches."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import logging
import time

from assistant.corpus.links import Links
from assistant.corpus.loader import METADATA_FILE, Corpus
from assistant.embedding import Embedder
from assistant.errors import IndexStaleError
from assistant.index import folder
from assistant.index.folder import StoredIndex
from assistant.index.manifest import DocumentStamp, IndexManifest, differences, rows_digest
from assistant.passages import PASSAGE_FORMAT, passage_text
from assistant.progress import Progress
from assistant.settings import Settings
from assistant.signals import BuildInput, Signal, SignalType, registered

logger = logging.getLogger(__name__)

_VERSIONED = ("checksheet-assistant", "faiss-cpu", "sentence-transformers", "transformers", "torch", "numpy")


def _versions() -> dict[str, str]:
    versions = {}
    for name in _VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _version(kind: SignalType) -> dict[str, str | int | float]:
    """A signal type's data version (e.g. its glossary's hash), for those that have one."""
    version = getattr(kind, "version", None)
    return {"version": str(version)} if version else {}


def current_manifest(corpus: Corpus, embedder: Embedder, passages: list[str] | None = None) -> IndexManifest:
    """The manifest an index built now from ``corpus`` with ``embedder`` would have."""
    rows = corpus.rows
    passages = passages if passages is not None else [passage_text(r) for r in rows]
    metadata = corpus.root / METADATA_FILE
    return IndexManifest(
        model=embedder.name,
        model_fingerprint=embedder.fingerprint,
        query_prompt=embedder.query_prompt,
        passage_prompt=embedder.passage_prompt,
        passage_format=PASSAGE_FORMAT,
        dimension=embedder.dimension,
        signals={name: _version(kind) for name, kind in registered().items()},
        rows=len(rows),
        rows_sha256=rows_digest(rows, passages),
        corpus_metadata_sha256=hashlib.sha256(metadata.read_bytes()).hexdigest() if metadata.is_file() else "",
        documents={
            doc.key: DocumentStamp(file=doc.meta.file, sha256=doc.sha256, rows=len(doc.rows))
            for doc in corpus.documents
        },
        skipped={key: str(error) for key, error in corpus.errors.items()},
        versions=_versions(),
        built_at=dt.datetime.now(dt.UTC),
        build_seconds=0.0,
    )


def build_index(
    settings: Settings, corpus: Corpus, embedder: Embedder, progress: Progress | None = None
) -> StoredIndex:
    """Embed every row of ``corpus`` and save the index to ``settings.index_dir`` (atomically)."""
    with folder.build_lock(settings.index_dir):
        return _build(settings, corpus, embedder, progress)


def _build(settings: Settings, corpus: Corpus, embedder: Embedder, progress: Progress | None) -> StoredIndex:
    started = time.perf_counter()
    rows = corpus.rows
    if not rows:
        raise IndexStaleError(f"the corpus in {corpus.root} has no rows to index; check corpus.toml and its files")
    passages = [passage_text(r) for r in rows]
    source = BuildInput(rows=rows, passages=passages, embedder=embedder, progress=progress)
    signals: dict[str, Signal] = {name: kind.build(source) for name, kind in registered().items()}
    manifest = current_manifest(corpus, embedder, passages).model_copy(
        update={
            "signals": {
                name: {**registered()[name].describe(signal), **_version(registered()[name])}
                for name, signal in signals.items()
            },
            "built_at": dt.datetime.now(dt.UTC),
            "build_seconds": round(time.perf_counter() - started, 3),
        }
    )
    documents = [doc.meta for doc in corpus.documents]
    links = Links.build(rows, documents)
    folder.save(settings.index_dir, manifest, rows, documents, links, signals)
    logger.info("built %s: %d rows in %.1fs", settings.index_dir, len(rows), manifest.build_seconds)
    del signals, passages, source  # before the saved copy loads: at a million rows, gigabytes
    return folder.load(settings.index_dir)


def open_index(
    settings: Settings,
    corpus: Corpus,
    embedder: Embedder,
    *,
    rebuild: bool = True,
    progress: Progress | None = None,
) -> StoredIndex:
    """The saved index if it matches ``corpus`` and ``embedder``; otherwise rebuild it (or refuse).

    With ``rebuild=False`` a missing or stale index raises IndexStaleError listing what changed.
    """
    expected = current_manifest(corpus, embedder)
    with folder.build_lock(settings.index_dir):
        saved = _readable_manifest(settings)
        if saved is not None:
            reasons = differences(saved, expected)
            if not reasons:
                try:
                    return folder.load(settings.index_dir)
                except IndexStaleError as exc:
                    reasons = [str(exc)]
        else:
            reasons = [f"no index in {settings.index_dir}"]
        if not rebuild:
            raise IndexStaleError(
                f"the index in {settings.index_dir} is out of date: {'; '.join(reasons)}. "
                "Rebuild it with 'assistant build'."
            )
        logger.info("building the index: %s", "; ".join(reasons))
        return _build(settings, corpus, embedder, progress)


def _readable_manifest(settings: Settings) -> IndexManifest | None:
    try:
        return folder.read_manifest(settings.index_dir)
    except IndexStaleError as exc:
        logger.warning("%s", exc)
        return None


def stale_reasons(settings: Settings, corpus: Corpus, embedder: Embedder) -> list[str]:
    """Why the saved index does not match (empty when it does)."""
    saved = _readable_manifest(settings)
    if saved is None:
        return [f"no index in {settings.index_dir}"]
    return differences(saved, current_manifest(corpus, embedder))
