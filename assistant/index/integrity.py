"""Hashes of the index files, recorded in the manifest when an index is built and checked when it is opened.

Every file's size and xxh3-128 hash are recorded; ``rows.jsonl`` is also hashed with SHA-256, which the
manifest keeps as ``rows_sha256`` and which an index that still matches the corpus must equal (the rows
read from the corpus, written the same way, give the same hash); it is checked by that hash. So rows that
were edited in the folder never load, even when their manifest is edited too; the other files are as safe
as their manifest. Files are hashed two at a time (both hashes release the GIL).

Why xxh3 and not SHA-256 for everything: at a million rows the folder holds about 3 GB, which SHA-256
reads at about 0.6-1.5 GB/s on this project's machines (2-5 s at every start) and xxh3 at 5-10 GB/s
(measured in evals/bench/README.md). A cryptographic hash of a file whose expected value sits in a
manifest beside it protects nothing more: whoever can change the file can change the manifest. The
rows, which users quote, are the exception, and get SHA-256 anchored in the corpus.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash
from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)

#: Bytes read at a time when hashing a file (the read never maps the file into the process).
CHUNK = 8 * 2**20
#: Files hashed at once when an index is opened.
HASHING_THREADS = 2
#: A file written less than this long before a verification began is not recorded as verified: a write in the
#: same tick of the file system's clock as the one the record keeps would leave its change time as recorded.
RACY_NS = 2 * 10**9
#: The mode of every file of a published index.
FILE_MODE = 0o644

#: What identifies a file's content without reading it: size, modification and change times (ns), inode, device.
Identity = tuple[int, int, int, int, int]


class FileStamp(BaseModel):
    """One file of an index folder: its size in bytes and its xxh3-128 hash (hex)."""

    model_config = ConfigDict(extra="forbid")

    bytes: int = Field(ge=0)
    xxh3_128: str


class FileMismatch(Exception):
    """A file of an index folder is missing, unreadable, or not what its manifest recorded (internal)."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")


def _digests(path: Path, kinds: tuple[str, ...]) -> tuple[int, list[str]]:
    """The file's size and its hex digests of ``kinds`` ("xxh3_128", "sha256"), in one read."""
    hashers: list[Any] = [xxhash.xxh3_128() if kind == "xxh3_128" else hashlib.sha256() for kind in kinds]
    size = 0
    with path.open("rb", buffering=0) as handle:
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        while count := handle.readinto(buffer):
            size += count
            for hasher in hashers:
                hasher.update(view[:count])
    return size, [hasher.hexdigest() for hasher in hashers]


def hash_file(path: Path, *, sha256: bool = False) -> tuple[FileStamp, str | None]:
    """The file's stamp, and its SHA-256 (hex) when asked for, in one read."""
    size, digests = _digests(path, ("xxh3_128", "sha256") if sha256 else ("xxh3_128",))
    return FileStamp(bytes=size, xxh3_128=digests[0]), (digests[1] if sha256 else None)


def stamp_files(folder: Path, names: Iterable[str]) -> dict[str, FileStamp]:
    """Stamps of the named files of ``folder``, by name (sorted)."""
    return {name: hash_file(folder / name)[0] for name in sorted(names)}


def set_file_mode(path: Path) -> None:
    """Give ``path`` the mode of a published index's files (0644), without a chmod when it has it already: a
    needless chmod changes the file's change time, which voids a record that vouches for the file."""
    if stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
        os.chmod(path, FILE_MODE)


def stamp_written(
    folder: Path, names: Iterable[str], *, sha256_of: str = "", sha256: str = ""
) -> tuple[dict[str, FileStamp], VerifiedFiles]:
    """Stamps of files a build has just written into ``folder``, and the record that vouches for them.

    The build computed these hashes itself, from the files on disk (``sha256``: the SHA-256 of ``sha256_of``,
    computed as it was written), so the first open need not hash them again: the record vouches for every
    file whose identity held while it was hashed and that was written well before (`RACY_NS`; the last files
    written are hashed by the first open as by any other). Modes are set first (0644): changing a file's mode
    changes its change time, which would void the record.
    """
    ordered = sorted(names)
    for name in ordered:
        set_file_mode(folder / name)
    started = time.time_ns()
    before = {name: _identity(folder / name) for name in ordered}
    stamps = stamp_files(folder, ordered)
    digests = {name: (stamp.xxh3_128, sha256 if name == sha256_of else "") for name, stamp in stamps.items()}
    return stamps, VerifiedFiles.of(folder, before, digests, started)


def verify_files(
    folder: Path,
    expected: dict[str, FileStamp],
    *,
    ignore: Iterable[str] = (),
    sha256_of: str = "",
    sha256: str = "",
    record: Path | None = None,
) -> None:
    """Raise FileMismatch unless ``folder`` holds exactly the ``expected`` files (besides ``ignore``), each with
    its recorded size and hash; ``sha256_of`` names a file whose SHA-256 must also equal ``sha256``.

    Sizes are compared first (no file is read when one is off), then the hashes. With ``record``, a file that
    an earlier verification found as expected and that has not been written to since (`VerifiedFiles`) is not
    hashed again, and the files found as expected are recorded there.
    """
    present = {entry.name for entry in os.scandir(folder)} - set(ignore)
    for name in sorted(present - set(expected)):
        raise FileMismatch(name, "is not part of this index (the manifest does not list it)")
    for name in sorted(set(expected) - present):
        raise FileMismatch(name, "is missing")
    for name, stamp in sorted(expected.items()):
        path = folder / name
        if not path.is_file() or path.is_symlink():
            raise FileMismatch(name, "is not a regular file")
        size = path.stat().st_size
        if size != stamp.bytes:
            raise FileMismatch(name, f"has {size} bytes; the manifest recorded {stamp.bytes}")
    started = time.time_ns()
    before = {name: _identity(folder / name) for name in expected}
    known = VerifiedFiles.read(record) if record is not None else VerifiedFiles({})
    digests = {name: (stamp.xxh3_128, sha256 if name == sha256_of else "") for name, stamp in expected.items()}
    # Largest first, two at a time: both hashes release the GIL, and the rows' SHA-256 takes longest.
    order = sorted(
        (name for name in expected if not known.vouches(name, before[name], digests[name])),
        key=lambda name: -expected[name].bytes,
    )
    with ThreadPoolExecutor(max_workers=HASHING_THREADS) as pool:
        checks = [pool.submit(_check, folder / name, expected[name], sha256 if name == sha256_of else None)
                  for name in order]  # fmt: skip
        for check in checks:
            check.result()
    if record is not None and order:
        VerifiedFiles.of(folder, before, digests, started).write(record)


def _check(path: Path, stamp: FileStamp, sha256: str | None) -> None:
    """FileMismatch unless the file hashes as recorded (a file anchored by its SHA-256 is hashed by that only)."""
    try:
        size, (digest,) = _digests(path, ("sha256",) if sha256 is not None else ("xxh3_128",))
    except OSError as exc:
        raise FileMismatch(path.name, f"cannot be read ({exc.strerror or exc})") from None
    if size != stamp.bytes:
        raise FileMismatch(path.name, f"has {size} bytes; the manifest recorded {stamp.bytes}")
    if sha256 is not None and digest != sha256:
        raise FileMismatch(
            path.name, "does not hash to the rows digest its manifest recorded (it changed after the build)"
        )
    if sha256 is None and digest != stamp.xxh3_128:
        raise FileMismatch(path.name, "does not match the hash its manifest recorded (it changed after the build)")


def _identity(path: Path) -> Identity:
    info = path.stat(follow_symlinks=False)
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


@dataclass(frozen=True)
class VerifiedFiles:
    """The files an earlier verification hashed and found as their manifest records, each with the file's identity
    then (`Identity`) and the digests it was checked against.

    A file whose identity is unchanged has not been written to since: any write sets its change time, which no
    program can set back (only changing the system clock could). So opening an index a second time reads only
    what changed, not the 3 GB of a million-row index. A copied, restored or edited file has a new identity and
    is hashed again. What the record vouches for is as safe as the manifest beside it: whoever can write one can
    write the other.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()); _ = (folder / "a").write_bytes(b"x")
    >>> identity = (1, 0, 0, 0, 0)
    >>> VerifiedFiles({"a": (list(identity), ["h", ""])}).vouches("a", identity, ("h", ""))
    True
    """

    files: dict[str, tuple[list[int], list[str]]]

    def vouches(self, name: str, identity: Identity, digests: tuple[str, str]) -> bool:
        """Whether ``name`` was verified with these digests and has this identity still."""
        found = self.files.get(name)
        return found is not None and tuple(found[0]) == identity and tuple(found[1]) == digests

    @classmethod
    def read(cls, path: Path) -> VerifiedFiles:
        """The record at ``path``; an empty one when there is none or it is unreadable (everything is hashed)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            files = {
                str(name): ([int(n) for n in entry[0]], [str(d) for d in entry[1]])
                for name, entry in raw["files"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return cls({})
        return cls(files)

    @classmethod
    def of(
        cls, folder: Path, before: dict[str, Identity], digests: dict[str, tuple[str, str]], started: int
    ) -> VerifiedFiles:
        """The files just verified whose identity held during the verification and that were written well
        before it began (`RACY_NS`)."""
        files: dict[str, tuple[list[int], list[str]]] = {}
        for name, identity in before.items():
            try:
                unchanged = _identity(folder / name) == identity
            except OSError:
                continue
            if unchanged and identity[2] < started - RACY_NS and identity[1] < started - RACY_NS:
                files[name] = (list(identity), list(digests[name]))
        return cls(files)

    def write(self, path: Path) -> None:
        """Keep the record at ``path`` (replaced in one rename); nothing happens where it cannot be written."""
        staging = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            staging.write_text(json.dumps({"files": self.files}), encoding="utf-8")
            os.replace(staging, path)
        except OSError as exc:
            logger.debug("could not record the verified files in %s: %s", path, exc)
            with contextlib.suppress(OSError):
                staging.unlink(missing_ok=True)
