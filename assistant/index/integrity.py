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

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import xxhash
from pydantic import BaseModel, ConfigDict, Field

#: Bytes read at a time when hashing a file (the read never maps the file into the process).
CHUNK = 8 * 2**20
#: Files hashed at once when an index is opened.
HASHING_THREADS = 2


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


def verify_files(
    folder: Path, expected: dict[str, FileStamp], *, ignore: Iterable[str] = (), sha256_of: str = "", sha256: str = ""
) -> None:
    """Raise FileMismatch unless ``folder`` holds exactly the ``expected`` files (besides ``ignore``), each with
    its recorded size and hash; ``sha256_of`` names a file whose SHA-256 must also equal ``sha256``.

    Sizes are compared first (no file is read when one is off), then the hashes.
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
    # Largest first, two at a time: both hashes release the GIL, and the rows' SHA-256 takes longest.
    order = sorted(expected, key=lambda name: -expected[name].bytes)
    with ThreadPoolExecutor(max_workers=HASHING_THREADS) as pool:
        checks = [pool.submit(_check, folder / name, expected[name], sha256 if name == sha256_of else None)
                  for name in order]  # fmt: skip
        for check in checks:
            check.result()


def _check(path: Path, stamp: FileStamp, sha256: str | None) -> None:
    """FileMismatch unless the file hashes as recorded (a file anchored by its SHA-256 is hashed by that only)."""
    try:
        size, (digest,) = _digests(path, ("sha256",) if sha256 is not None else ("xxh3_128",))
    except OSError as exc:
        raise FileMismatch(path.name, f"cannot be read ({exc.strerror or exc})") from None
    if size != stamp.bytes:
        raise FileMismatch(path.name, f"has {size} bytes; the manifest recorded {stamp.bytes}")
    if sha256 is not None and digest != sha256:
        raise FileMismatch(path.name, "does not hash to the rows digest its manifest recorded (it changed after the build)")
    if sha256 is None and digest != stamp.xxh3_128:
        raise FileMismatch(path.name, "does not match the hash its manifest recorded (it changed after the build)")
