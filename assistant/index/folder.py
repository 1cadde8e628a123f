"""The index folder a person can open: rows.jsonl, documents.json, links.jsonl (rows stating the same item in
other languages and versions), manifest.json, and each ranking signal's
files under names it chooses (the dense signal's index.faiss and language_means.json, the lexical signal's
lexical.npz and lexical_vocabulary.json).

Writes are atomic: a new index is written to a temporary folder beside the target and swapped in
by renames, so an interrupted build leaves the previous index untouched and usable. A lock file
beside the folder keeps two processes from building at the same time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from assistant.corpus.links import Links
from assistant.corpus.models import DocumentMeta, Row
from assistant.errors import IndexStaleError
from assistant.index.manifest import IndexManifest
from assistant.signals import Signal, registered

MANIFEST = "manifest.json"
ROWS = "rows.jsonl"
DOCUMENTS = "documents.json"
LINKS = "links.jsonl"
#: The files every index has; each signal adds its own (`SignalType.files`).
FILES = (ROWS, DOCUMENTS, LINKS, MANIFEST)


@dataclass(frozen=True)
class StoredIndex:
    """An index as loaded from its folder."""

    path: Path
    manifest: IndexManifest
    rows: tuple[Row, ...]
    documents: dict[str, DocumentMeta]
    links: Links
    #: The ranking signals by name, in the order the manifest lists them.
    signals: dict[str, Signal]


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock for building ``index_dir`` (other builders wait)."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = index_dir.parent / f".{index_dir.name}.lock"
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(index_dir: Path) -> IndexManifest | None:
    """The manifest of the index in ``index_dir``, or None when there is no index there."""
    path = index_dir / MANIFEST
    if not path.is_file():
        return None
    try:
        return IndexManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        raise IndexStaleError(
            f"{path} is unreadable ({exc.__class__.__name__}); rebuild with 'assistant build'"
        ) from None


def save(
    index_dir: Path,
    manifest: IndexManifest,
    rows: Sequence[Row],
    documents: Sequence[DocumentMeta],
    links: Links,
    signals: dict[str, Signal],
) -> None:
    """Write the index to a temporary folder, then swap it in place of ``index_dir``."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.building-", dir=index_dir.parent))
    try:
        with (staging / ROWS).open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(row.model_dump_json() + "\n")
        docs = [d.model_dump(mode="json") for d in documents]
        (staging / DOCUMENTS).write_text(json.dumps(docs, ensure_ascii=False, indent=2), encoding="utf-8")
        links.save(staging / LINKS)
        for signal in signals.values():
            signal.save(staging)
        # The manifest goes last: a folder without one is never taken for an index.
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        for path in staging.iterdir():
            os.chmod(path, 0o644)
        os.chmod(staging, 0o755)
        _swap(staging, index_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _swap(staging: Path, index_dir: Path) -> None:
    if not index_dir.exists():
        staging.rename(index_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.old-", dir=index_dir.parent))
    retired.rmdir()
    index_dir.rename(retired)
    try:
        staging.rename(index_dir)
    except OSError:
        retired.rename(index_dir)  # put the previous index back
        raise
    shutil.rmtree(retired, ignore_errors=True)


def load(index_dir: Path) -> StoredIndex:
    """Load the index in ``index_dir``; raises IndexStaleError when it is missing or damaged."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexStaleError(f"no index in {index_dir}; build it with 'assistant build'")
    try:
        rows = tuple(
            Row.model_validate_json(line)
            for line in (index_dir / ROWS).read_text(encoding="utf-8").splitlines()
            if line.strip()
        )
        raw_docs = json.loads((index_dir / DOCUMENTS).read_text(encoding="utf-8"))
        documents = {meta.key: meta for meta in (DocumentMeta.model_validate(d) for d in raw_docs)}
        links = Links.load(index_dir / LINKS)
        signals = _load_signals(index_dir, list(manifest.signals))
    except (OSError, ValidationError, ValueError, RuntimeError, KeyError) as exc:
        raise IndexStaleError(
            f"the index in {index_dir} is damaged ({exc}); rebuild it with 'assistant build'"
        ) from None
    sizes = {"rows": len(rows), **{name: signal.size for name, signal in signals.items()}}
    if any(size != manifest.rows for size in sizes.values()):
        counts = ", ".join(f"{name} {size}" for name, size in sizes.items())
        raise IndexStaleError(
            f"the index in {index_dir} is inconsistent ({counts}; the manifest says {manifest.rows} rows); "
            "rebuild it with 'assistant build'"
        )
    return StoredIndex(
        path=index_dir, manifest=manifest, rows=rows, documents=documents, links=links, signals=signals
    )


def _load_signals(index_dir: Path, names: list[str]) -> dict[str, Signal]:
    types = registered()
    unknown = [name for name in names if name not in types]
    if unknown:
        raise IndexStaleError(
            f"the index in {index_dir} uses signal(s) {', '.join(unknown)}, which this version does not have; "
            "rebuild it with 'assistant build'"
        )
    return {name: types[name].load(index_dir) for name in names}
