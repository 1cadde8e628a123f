"""The index folder's versions: every build is a folder of its own, and the symlink ``current`` names the one served.

::

    index/
      current -> v-20261127T041500Z-3fa9c2d41e07b85a   the index served (one symlink, switched atomically)
      v-20261127T041500Z-3fa9c2d41e07b85a/             a complete index: manifest.json and the files it lists
      .build.lock                                      held by the one process building
      .readers-v-20261127T041500Z-3fa9c2d41e07b85a     held (shared) by every process serving that version
      .verified-v-20261127T041500Z-3fa9c2d41e07b85a    the version's files found intact (`integrity.VerifiedFiles`)

A version's name ends with the first 16 hex digits of its manifest's SHA-256 (so a changed manifest is
noticed like any other changed file). A build writes into ``.staging-<token>/``, renames it to
``v-<time>-<manifest hash>/`` and then points ``current``
at it with one rename (a new symlink over the old). A process killed at any step leaves ``current`` on
the previous complete version (or, on a first build killed after its version was complete, no ``current``:
the next opener adopts that version). Readers never take the build lock: they follow ``current`` and hold
the version's readers lock while serving it, and the builder removes an old version only when no reader
holds its lock (otherwise the next build removes it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from assistant.errors import IndexStaleError
from assistant.index.integrity import set_file_mode

logger = logging.getLogger(__name__)

CURRENT = "current"
BUILD_LOCK = ".build.lock"
_STAGING = ".staging-"
_LINK = ".current-"
_TRASH = ".trash-"
_READERS = ".readers-"
_VERIFIED = ".verified-"
_VERSION = re.compile(r"v-\d{8}T\d{6}Z-(?P<manifest>[0-9a-f]{16})")
MANIFEST = "manifest.json"
#: The files an index of format 4 (before versions) kept straight in the index folder; removed on the first build.
LEGACY_FILES = (
    "manifest.json",
    "rows.jsonl",
    "documents.json",
    "links.jsonl",
    "index.faiss",
    "language_means.json",
    "lexical.npz",
    "lexical_vocabulary.json",
    "concepts.npz",
    "concepts_vocabulary.json",
)
#: The steps of publishing a version, in order; `crash_hook` is called after each (tests stop the process there).
STEPS = ("written", "placed", "linked", "switched", "cleaned")
crash_hook: Callable[[str], None] | None = None


def _reached(step: str) -> None:
    if crash_hook is not None:
        crash_hook(step)


def manifest_hash(version: Path) -> str:
    """The first 16 hex digits of the SHA-256 of the version's manifest (its folder name ends with them)."""
    return hashlib.sha256((version / MANIFEST).read_bytes()).hexdigest()[:16]


def manifest_matches(version: Path) -> bool:
    """Whether the version's manifest is the one it was published with (its hash ends the folder's name)."""
    found = _VERSION.fullmatch(version.name)
    try:
        return found is not None and manifest_hash(version) == found["manifest"]
    except OSError:
        return False


def current(index_dir: Path) -> Path | None:
    """The version ``current`` names, or None when there is none yet.

    IndexStaleError when ``current`` is not a symlink to a version folder inside ``index_dir`` (someone
    replaced it): nothing outside the index folder is ever read as an index.
    """
    link = index_dir / CURRENT
    try:
        target = os.readlink(link)
    except FileNotFoundError:
        return None
    except OSError:
        if link.exists() or link.is_symlink():
            raise IndexStaleError(
                f"{link} is not the link to an index version this program writes; remove it and rebuild with "
                "'assistant build'"
            ) from None
        return None
    if not _VERSION.fullmatch(target):
        raise IndexStaleError(
            f"{link} points at {target!r}, not at a version folder inside {index_dir}; remove it and rebuild "
            "with 'assistant build'"
        )
    return index_dir / target


def versions(index_dir: Path) -> list[Path]:
    """The version folders of ``index_dir``, oldest first."""
    if not index_dir.is_dir():
        return []
    found = [entry for entry in index_dir.iterdir() if _VERSION.fullmatch(entry.name) and entry.is_dir()]
    return sorted(found, key=lambda path: path.name)


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the exclusive lock for building into ``index_dir`` (other builders wait; readers never do)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / BUILD_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def building_now(index_dir: Path) -> bool:
    """Whether another process holds the build lock of ``index_dir`` at this moment."""
    path = index_dir / BUILD_LOCK
    if not path.is_file():
        return False
    with path.open("r") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def verified_record(index_dir: Path, version: Path) -> Path:
    """Where the files of ``version`` found intact when it was opened are recorded (removed with the version)."""
    return index_dir / f"{_VERIFIED}{version.name}"


def hold_readers(index_dir: Path, version: Path) -> IO[str] | None:
    """Take the shared readers lock of ``version`` (kept until the returned file is closed).

    None when the lock file cannot be created (a read-only copy of the index, which no build changes).
    """
    path = index_dir / f"{_READERS}{version.name}"
    try:
        handle = path.open("a")
    except OSError:
        try:
            handle = path.open("r")
        except OSError:
            return None
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def new_staging(index_dir: Path) -> Path:
    """An empty folder inside ``index_dir`` to write a new version into."""
    index_dir.mkdir(parents=True, exist_ok=True)
    while True:
        staging = index_dir / f"{_STAGING}{secrets.token_hex(3)}"
        try:
            staging.mkdir()
        except FileExistsError:
            continue
        return staging


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def publish(index_dir: Path, staging: Path) -> Path:
    """Make the complete folder ``staging`` the version ``current`` names (the caller holds the build lock)."""
    for entry in staging.iterdir():
        set_file_mode(entry)
        _fsync(entry)
    os.chmod(staging, 0o755)
    _fsync(staging)
    _reached("written")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    version = index_dir / f"v-{stamp}-{manifest_hash(staging)}"
    staging.rename(version)
    _fsync(index_dir)
    _reached("placed")
    link = index_dir / f"{_LINK}{secrets.token_hex(3)}"
    link.symlink_to(version.name)
    _reached("linked")
    _move_aside(index_dir / CURRENT)
    os.replace(link, index_dir / CURRENT)
    _fsync(index_dir)
    _reached("switched")
    cleanup(index_dir)
    _reached("cleaned")
    return version


def _current_or_foreign(index_dir: Path) -> tuple[Path | None, bool]:
    """`current`, and whether ``current`` exists but is not a link this program made (then None)."""
    try:
        return current(index_dir), False
    except IndexStaleError:
        return None, True


def try_adopt(index_dir: Path) -> None:
    """`adopt` when no build holds the lock now (a reader never waits for one)."""
    found, foreign = _current_or_foreign(index_dir)
    if found is not None or foreign or not versions(index_dir):
        return
    with (index_dir / BUILD_LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        try:
            adopt(index_dir)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def adopt(index_dir: Path) -> Path | None:
    """Point a missing ``current`` at the newest complete version (a first build stopped after placing it)."""
    found, foreign = _current_or_foreign(index_dir)
    if found is not None or foreign:
        return found
    complete = [version for version in versions(index_dir) if manifest_matches(version)]
    if not complete:
        return None
    link = index_dir / f"{_LINK}{secrets.token_hex(3)}"
    link.symlink_to(complete[-1].name)
    os.replace(link, index_dir / CURRENT)
    _fsync(index_dir)
    logger.warning("recovered %s: the build that wrote it stopped before switching to it", complete[-1])
    return complete[-1]


def cleanup(index_dir: Path) -> None:
    """Remove what stopped builds left and the versions no reader holds (the caller holds the build lock)."""
    keep, foreign = _current_or_foreign(index_dir)
    link = index_dir / CURRENT
    if foreign:
        _move_aside(link)
    legacy = _holds_legacy_index(index_dir)
    for entry in list(index_dir.iterdir()):
        name = entry.name
        if name.startswith((_STAGING, _TRASH)):
            shutil.rmtree(entry, ignore_errors=True)
        elif name.startswith(_LINK) and entry.is_symlink():
            entry.unlink(missing_ok=True)
        elif _VERSION.fullmatch(name) and entry.is_dir() and entry != keep:
            _retire(index_dir, entry)
        elif name.startswith(_READERS) and not (index_dir / name.removeprefix(_READERS)).exists():
            _retire(index_dir, index_dir / name.removeprefix(_READERS))
        elif name.startswith(_VERIFIED) and not (index_dir / name.removeprefix(_VERIFIED)).exists():
            entry.unlink(missing_ok=True)  # the record of a version that is gone
        elif legacy and name in LEGACY_FILES and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)
    # What builds of format 4 left beside the folder when they were stopped.
    for pattern in (f".{index_dir.name}.building-*", f".{index_dir.name}.old-*"):
        for debris in index_dir.parent.glob(pattern):
            shutil.rmtree(debris, ignore_errors=True)


def _move_aside(link: Path) -> None:
    """A ``current`` that is a file or folder, not a link (someone put it there): renamed out of the way and
    kept, never deleted."""
    if link.is_symlink() or not link.exists():
        return
    aside = link.with_name(f"{CURRENT}.moved-{secrets.token_hex(3)}")
    link.rename(aside)
    logger.warning("moved %s to %s: it is not the link to an index version", link, aside)


def _holds_legacy_index(index_dir: Path) -> bool:
    """Whether ``index_dir`` holds an index of format 4 straight in it (its manifest.json says so): only then
    are the files of that format removed, never files of the same names that something else put there."""
    try:
        manifest = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and {"model_fingerprint", "rows_sha256", "passage_format"} <= manifest.keys()


def _retire(index_dir: Path, version: Path) -> None:
    """Remove ``version`` unless a reader holds it; then its readers lock file too."""
    lock_path = index_dir / f"{_READERS}{version.name}"
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("keeping %s: a process still serves it", version.name)
            return
        if version.exists():
            trash = index_dir / f"{_TRASH}{version.name}"
            version.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
        verified_record(index_dir, version).unlink(missing_ok=True)
        lock_path.unlink(missing_ok=True)
