"""An index version folder a person can open, written in one go and opened only when every file checks out.

A version folder (see `versions` for how versions are published and served) holds:

- ``manifest.json``: what the index was built from, and the size and hash of every other file;
- ``documents.json``: the indexed documents' metadata;
- the rows (`rowstore`): ``rows.jsonl`` and the arrays ``rows.offsets.npy``, ``rows.documents.npy``,
  ``rows.languages.npy``;
- the links between rows (`linkstore`): ``links.offsets.npy``, ``links.targets.npy``, ``links.kinds.npy``,
  ``links.superseded.json``;
- each ranking signal's files under names it chooses (the dense signal's ``index.faiss`` and
  ``language_means.json``, the lexical signal's ``lexical.*.npy`` and ``lexical_vocabulary.json``).

Opening checks every file against the manifest (sizes, then hashes; `integrity`) before reading any:
a missing, extra, changed or unreadable file is an IndexStaleError naming it, never a traceback and never a
silent load.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from assistant import memmaps
from assistant.corpus.links import LinkArrays, Links
from assistant.corpus.models import DocumentMeta, Row
from assistant.errors import IndexStaleError
from assistant.index import linkstore, rowstore, versions
from assistant.index.integrity import FileMismatch, VerifiedFiles, stamp_written, verify_files
from assistant.index.linkstore import StoredLinks
from assistant.index.manifest import IndexManifest
from assistant.index.rowstore import RowStore, WrittenRows
from assistant.signals import SavedShape, Signal, registered

MANIFEST = "manifest.json"
DOCUMENTS = "documents.json"
#: The files every index has; each signal adds its own (`SignalType.files`).
FILES = (DOCUMENTS, *rowstore.FILES, *linkstore.FILES, MANIFEST)
#: A manifest larger than this is not one this program wrote (it is read whole).
MAX_MANIFEST_BYTES = 64 * 2**20


@dataclass(frozen=True)
class StoredIndex:
    """An index as opened from its version folder: the manifest and documents in memory, rows and links on disk."""

    path: Path
    manifest: IndexManifest
    rows: RowStore
    documents: dict[str, DocumentMeta]
    links: StoredLinks
    #: The ranking signals by name, in the order the manifest lists them.
    signals: dict[str, Signal]
    #: The version's readers lock, held while this index is open (a build then keeps the version).
    _readers: IO[str] | None = field(default=None, repr=False, compare=False)

    def release_pages(self) -> int:
        """Unmap the pages of this index's files that searches mapped into the process (`memmaps.release_pages`);
        returns the bytes of the maps let go of."""
        return memmaps.release_pages({(self.path / name).resolve() for name in self.manifest.files})

    def close(self) -> None:
        """Let a build remove this version once no other process serves it."""
        if self._readers is not None:
            self._readers.close()


def read_manifest(index_dir: Path) -> IndexManifest | None:
    """The manifest of the current index in ``index_dir``, or None when there is no index there."""
    for _ in range(5):  # a build may switch to a new version and retire this one meanwhile
        version = versions.current(index_dir)
        if version is None:
            return None
        if (version / MANIFEST).is_file() or versions.current(index_dir) == version:
            return _manifest(version)
    raise IndexStaleError(f"the index in {index_dir} kept changing while it was opened; try again")


def _manifest(version: Path) -> IndexManifest:
    path = version / MANIFEST
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ValueError(f"larger than {MAX_MANIFEST_BYTES} bytes")
        if not versions.manifest_matches(version):
            raise ValueError("its hash does not end the version folder's name: it changed after the build")
        return IndexManifest.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError, OSError) as exc:
        raise IndexStaleError(
            f"{path} is unreadable ({exc.__class__.__name__}: {str(exc)[:200]}); rebuild with 'assistant build'"
        ) from None


def save(
    index_dir: Path,
    manifest: IndexManifest,
    rows: Sequence[Row],
    documents: Sequence[DocumentMeta],
    links: LinkArrays | Links,
    signals: dict[str, Signal],
    lines: Sequence[bytes] | None = None,
) -> Path:
    """Write a new version of the index and make it the current one (the caller holds the build lock)."""
    staging = versions.new_staging(index_dir)
    try:
        written, vouched = write(staging, manifest, rows, documents, links, signals, lines)
        if manifest.rows_sha256 and written.sha256 != manifest.rows_sha256:
            raise ValueError("the rows written differ from the rows the manifest was made for")
        version = versions.publish(index_dir, staging)
        # The hashes just computed: the first open hashes only the files written last (`stamp_written`).
        vouched.write(versions.verified_record(index_dir, version))
        return version
    finally:
        if staging.exists():
            versions.cleanup(index_dir)


def write(
    folder: Path,
    manifest: IndexManifest,
    rows: Sequence[Row],
    documents: Sequence[DocumentMeta],
    links: LinkArrays | Links,
    signals: dict[str, Signal],
    lines: Sequence[bytes] | None = None,
) -> tuple[WrittenRows, VerifiedFiles]:
    """Write every file of an index into ``folder``; the manifest, with the files' stamps, goes last.

    Returns the rows' digest and the record of the files the stamps vouch for (`integrity.stamp_written`).
    """
    docs = [d.model_dump(mode="json") for d in documents]
    (folder / DOCUMENTS).write_text(json.dumps(docs, ensure_ascii=False, indent=2), encoding="utf-8")
    written = rowstore.write_rows(folder, rows, documents, lines)
    linkstore.write_links(folder, links, rows)
    for signal in signals.values():
        signal.save(folder)
    names = [entry.name for entry in folder.iterdir() if entry.name != MANIFEST]
    stamps, vouched = stamp_written(folder, names, sha256_of=rowstore.ROWS, sha256=written.sha256)
    final = manifest.model_copy(update={"rows_sha256": written.sha256, "files": stamps})
    # The manifest goes last: a folder without one is never taken for an index.
    (folder / MANIFEST).write_text(final.model_dump_json(indent=2), encoding="utf-8")
    return written, vouched


def load(index_dir: Path) -> StoredIndex:
    """Open the current index of ``index_dir``; IndexStaleError when it is missing, damaged or changed."""
    for _ in range(5):  # a build may retire the version between following `current` and locking it
        version = versions.current(index_dir)
        if version is None:
            raise IndexStaleError(f"no index in {index_dir}; build it with 'assistant build'")
        readers = versions.hold_readers(index_dir, version)
        if (version / MANIFEST).is_file():
            try:
                return open_version(version, readers, record=versions.verified_record(index_dir, version))
            except BaseException:
                if readers is not None:
                    readers.close()
                raise
        if readers is not None:
            readers.close()
        if not version.exists() and versions.current(index_dir) != version:
            continue
        raise IndexStaleError(f"the index in {index_dir} has no {MANIFEST}; rebuild it with 'assistant build'")
    raise IndexStaleError(f"the index in {index_dir} kept changing while it was opened; try again")


def open_version(version: Path, readers: IO[str] | None = None, *, record: Path | None = None) -> StoredIndex:
    """Open one version folder after checking every file against its manifest (``record``: where the files
    found intact are recorded, and are not hashed again while unchanged; `integrity.VerifiedFiles`)."""
    manifest = _manifest(version)
    try:
        verify_files(
            version,
            manifest.files,
            ignore=(MANIFEST,),
            sha256_of=rowstore.ROWS,
            sha256=manifest.rows_sha256,
            record=record,
        )
    except FileMismatch as exc:
        raise IndexStaleError(
            f"the index in {version} is damaged: {version / exc.name} {exc.problem}; rebuild it with 'assistant build'"
        ) from None
    required = set(FILES) - {MANIFEST}
    for name in manifest.signals:
        kind = registered().get(name)
        if kind is None:
            raise IndexStaleError(
                f"the index in {version} uses signal {name!r}, which this version does not have; rebuild it "
                "with 'assistant build'"
            )
        required |= set(kind.files)
    if not required <= set(manifest.files):
        missing = ", ".join(sorted(required - set(manifest.files)))
        raise IndexStaleError(f"the index in {version} lacks {missing}; rebuild it with 'assistant build'")
    return _open(version, manifest, readers)


def _open(version: Path, manifest: IndexManifest, readers: IO[str] | None) -> StoredIndex:
    reading = DOCUMENTS
    shape = SavedShape(rows=manifest.rows, dimension=manifest.dimension)
    try:
        raw_docs = json.loads((version / DOCUMENTS).read_text(encoding="utf-8"))
        if not isinstance(raw_docs, list):
            raise ValueError("not a list of documents")
        metas = [DocumentMeta.model_validate(d) for d in raw_docs]
        reading = rowstore.ROWS
        rows = RowStore.open(version, metas)
        reading = linkstore.TARGETS
        links = StoredLinks.open(version, rows)
        signals: dict[str, Signal] = {}
        for name in manifest.signals:
            reading = f"the {name} signal's files"
            signals[name] = registered()[name].load(version, shape)
    except Exception as exc:  # any failure to read a verified file means the index cannot be trusted
        raise IndexStaleError(
            f"the index in {version} is damaged ({reading}: {exc.__class__.__name__}: {str(exc)[:200]}); rebuild "
            "it with 'assistant build'"
        ) from None
    sizes = {"rows": len(rows), **{name: signal.size for name, signal in signals.items()}}
    if any(size != manifest.rows for size in sizes.values()):
        counts = ", ".join(f"{name} {size}" for name, size in sizes.items())
        raise IndexStaleError(
            f"the index in {version} is inconsistent ({counts}; the manifest says {manifest.rows} rows); "
            "rebuild it with 'assistant build'"
        )
    return StoredIndex(
        path=version,
        manifest=manifest,
        rows=rows,
        documents={meta.key: meta for meta in metas},
        links=links,
        signals=signals,
        _readers=readers,
    )
