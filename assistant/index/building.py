"""Build the index from the corpus, or open the saved one when it still matches and checks out.

Builds are incremental without being different: every build computes the whole index from the corpus, but
takes from the build cache (`cache`) whatever an earlier build computed from the same inputs - embeddings by
passage text and by document, term counts and passage hashes by document, links by vendor (as arrays over its
rows), trained IVF lists by model and list count. Adding a document embeds only its rows; the result is the
index a build from scratch gives. What every build still computes over all rows is done in arrays, not per row
in Python: the language-centred vectors (which move with the language means) and the FAISS lists they go to.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import logging
import time
from collections.abc import Iterator, Sequence
from typing import overload

from assistant.corpus.links import LinkArrays
from assistant.corpus.loader import METADATA_FILE, Corpus
from assistant.corpus.models import Row
from assistant.embedding import Embedder
from assistant.errors import IndexStaleError
from assistant.index import folder, versions
from assistant.index.cache import BuildCache
from assistant.index.folder import StoredIndex
from assistant.index.manifest import DocumentStamp, IndexManifest, differences
from assistant.index.rowstore import rows_digest, serialize
from assistant.memo import Memo
from assistant.passages import PASSAGE_FORMAT, passage_text
from assistant.progress import Progress
from assistant.settings import Settings
from assistant.signals import BuildInput, Signal, SignalType, registered
from assistant.signals.base import document_spans

logger = logging.getLogger(__name__)

_VERSIONED = ("checksheet-assistant", "faiss-cpu", "sentence-transformers", "transformers", "torch", "numpy")


def _versions() -> dict[str, str]:
    found = {}
    for name in _VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _version(kind: SignalType) -> dict[str, str | int | float]:
    """A signal type's data version (e.g. its glossary's hash), for those that have one."""
    version = getattr(kind, "version", None)
    return {"version": str(version)} if version else {}


def current_manifest(corpus: Corpus, embedder: Embedder, rows_sha256: str | None = None) -> IndexManifest:
    """The manifest an index built now from ``corpus`` with ``embedder`` would have (before its files)."""
    rows = corpus.rows
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
        rows_sha256=rows_sha256 if rows_sha256 is not None else rows_digest(rows),
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
    settings: Settings,
    corpus: Corpus,
    embedder: Embedder,
    progress: Progress | None = None,
    *,
    force: bool = False,
    memo: Memo | None = None,
) -> StoredIndex:
    """The index of ``corpus``: the current one when it matches (unless ``force``), else a new build.

    Builders wait for each other; one that waited finds the index the other built and uses it (with
    ``force``, when it was built after this call began). ``memo`` is where computed values are kept
    between builds: the build cache of ``settings.cache_dir`` unless given.
    """
    asked_at = dt.datetime.now(dt.UTC)
    lines = list(serialize(corpus.rows))
    expected = current_manifest(corpus, embedder, _digest(lines))
    with versions.build_lock(settings.index_dir):
        versions.adopt(settings.index_dir)
        index, _ = _open_matching(settings, expected)
        if index is not None and (not force or index.manifest.built_at >= asked_at):
            return index
        if index is not None:
            index.close()
        return _build(settings, corpus, embedder, progress, memo, expected, lines)


def open_index(
    settings: Settings,
    corpus: Corpus,
    embedder: Embedder,
    *,
    rebuild: bool = True,
    progress: Progress | None = None,
    memo: Memo | None = None,
) -> StoredIndex:
    """The current index if it matches ``corpus`` and ``embedder`` and its files check out; otherwise
    rebuild it (or, with ``rebuild=False``, raise IndexStaleError saying why).

    Opening never waits for a build in progress: the index being replaced is served until the new one is
    in place.
    """
    expected = current_manifest(corpus, embedder)
    versions.try_adopt(settings.index_dir)
    index, reasons = _open_matching(settings, expected)
    if index is not None:
        return index
    if not rebuild:
        running = " (a build is running now)" if versions.building_now(settings.index_dir) else ""
        raise IndexStaleError(
            f"the index in {settings.index_dir} is out of date{running}: {'; '.join(reasons)}. "
            "Rebuild it with 'assistant build'."
        )
    with versions.build_lock(settings.index_dir):
        versions.adopt(settings.index_dir)
        index, reasons = _open_matching(settings, expected)  # another process may have built it meanwhile
        if index is not None:
            return index
        logger.info("building the index: %s", "; ".join(reasons))
        return _build(settings, corpus, embedder, progress, memo, expected)


def stale_reasons(settings: Settings, corpus: Corpus, embedder: Embedder) -> list[str]:
    """Why the current index cannot be served for ``corpus`` (empty when it can): changes, or damage."""
    index, reasons = _open_matching(settings, current_manifest(corpus, embedder))
    if index is not None:
        index.close()
    return reasons


def _open_matching(settings: Settings, expected: IndexManifest) -> tuple[StoredIndex | None, list[str]]:
    """The current index when it matches ``expected`` and opens cleanly, else None and why not."""
    try:
        saved = folder.read_manifest(settings.index_dir)
    except IndexStaleError as exc:
        return None, [str(exc)]
    if saved is None:
        return None, [f"no index in {settings.index_dir}"]
    reasons = differences(saved, expected)
    if reasons:
        return None, reasons
    try:
        index = folder.load(settings.index_dir)
    except IndexStaleError as exc:
        logger.warning("%s", exc)
        return None, [str(exc)]
    reasons = differences(index.manifest, expected)  # a build may have switched versions meanwhile
    if reasons:
        index.close()
        return None, reasons
    return index, []


class _Passages(Sequence[str]):
    """The rows' passage texts, made when first asked for (a cached build needs few of them)."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self._rows = rows
        self._made: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index not in self._made:
            self._made[index] = passage_text(self._rows[index])
        return self._made[index]

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))


def _passage_keys(
    spans: Sequence[tuple[int, int]], row_keys: Sequence[bytes], passages: _Passages, memo: Memo
) -> list[bytes]:
    """SHA-256 of each row's passage text, by document (``spans``: each document's rows) from ``memo`` when the
    document's rows are unchanged."""
    header = f"passage keys {PASSAGE_FORMAT}\n".encode()
    keys = [hashlib.sha256(header + b"".join(row_keys[a:b])).digest() for a, b in spans]
    found = memo.get_many("passage keys", keys)
    out: list[bytes] = []
    new: list[tuple[bytes, bytes]] = []
    for (a, b), key, cached in zip(spans, keys, found, strict=True):
        if cached is not None and len(cached) == 32 * (b - a):
            out.extend(cached[i : i + 32] for i in range(0, len(cached), 32))
            continue
        made = [hashlib.sha256(passages[n].encode()).digest() for n in range(a, b)]
        out.extend(made)
        new.append((key, b"".join(made)))
    memo.put_many("passage keys", new)
    return out


def _digest(lines: Sequence[bytes]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line)
    return digest.hexdigest()


def _build(
    settings: Settings,
    corpus: Corpus,
    embedder: Embedder,
    progress: Progress | None,
    memo: Memo | None,
    expected: IndexManifest,
    lines: list[bytes] | None = None,
) -> StoredIndex:
    started = time.perf_counter()
    rows = corpus.rows
    if not rows:
        raise IndexStaleError(f"the corpus in {corpus.root} has no rows to index; check corpus.toml and its files")
    with contextlib.ExitStack() as stack:
        if memo is None:
            memo = stack.enter_context(BuildCache.in_folder(settings.cache_dir))
        lines = lines if lines is not None else list(serialize(rows))
        row_keys = [hashlib.sha256(line).digest() for line in lines]
        passages = _Passages(rows)
        spans = document_spans(rows)
        keys = _passage_keys(spans, row_keys, passages, memo)
        source = BuildInput(rows, passages, embedder, progress, memo, keys, spans)
        signals: dict[str, Signal] = {name: kind.build(source) for name, kind in registered().items()}
        documents = [doc.meta for doc in corpus.documents]
        links = LinkArrays.build(rows, documents, memo=memo, row_keys=row_keys)
    manifest = expected.model_copy(
        update={
            "signals": {
                name: {**registered()[name].describe(signal), **_version(registered()[name])}
                for name, signal in signals.items()
            },
            "built_at": dt.datetime.now(dt.UTC),
            "build_seconds": round(time.perf_counter() - started, 3),
        }
    )
    version = folder.save(settings.index_dir, manifest, rows, documents, links, signals, lines)
    logger.info("built %s: %d rows in %.1fs", version, len(rows), manifest.build_seconds)
    del signals, source, lines  # before the saved copy opens: at a million rows, gigabytes
    return folder.load(settings.index_dir)
