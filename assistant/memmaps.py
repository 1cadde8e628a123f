"""Memory-mapped index files read here and there: how they are read, and their pages let go of again."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import mmap
import sys
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Any

import numpy.typing as npt

logger = logging.getLogger(__name__)

#: Linux's MADV_DONTNEED (the mmap module has it only where the platform defines it).
_MADV_DONTNEED = getattr(mmap, "MADV_DONTNEED", 4)


def random_access(array: npt.NDArray[Any]) -> None:
    """Mark a memory-mapped array (``np.load(..., mmap_mode="r")``) as read at random places.

    It stops the kernel reading ahead from disk around each page read. (It does not stop a page fault from
    mapping the neighbouring pages already in the page cache into the process: see `release_pages`.)
    """
    mapped = getattr(array, "_mmap", None)  # numpy's memmap keeps its mmap there
    if isinstance(mapped, mmap.mmap):
        mapped.madvise(mmap.MADV_RANDOM)


@cache
def _madvise() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    madvise = libc.madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    madvise.restype = ctypes.c_int
    return madvise


def release_pages(paths: Collection[Path]) -> int:
    """Unmap from this process the pages of read-only memory maps of ``paths`` it has read; returns their bytes.

    A page of a memory-mapped file that a search read stays mapped, and counts in the process's resident memory
    (RSS), until the process unmaps it; at a million rows, the lists a few hundred questions scan make that
    gigabytes. The pages stay in the kernel's page cache (shared, and reclaimable when memory runs short), so
    the next read of one maps it again without reading the disk. Linux only; elsewhere nothing is done.
    """
    madvise = _madvise()
    if madvise is None or not paths:
        return 0
    wanted = {str(path) for path in paths}
    released = 0
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return 0
    for line in maps:
        fields = line.split(maxsplit=5)
        # address perms offset device inode path; only read-only maps of the files (never a writable one).
        if len(fields) < 6 or fields[5] not in wanted or "w" in fields[1]:
            continue
        start, end = (int(part, 16) for part in fields[0].split("-"))
        if madvise(start, end - start, _MADV_DONTNEED) == 0:
            released += end - start
        else:
            logger.debug("madvise of %s failed: errno %d", fields[5], ctypes.get_errno())
    return released


def mapped_file_bytes() -> int:
    """Bytes of files (and shared memory) mapped into this process and resident: its RSS beyond its own memory.

    0 where ``/proc/self/statm`` does not exist (not Linux).
    """
    try:
        fields = Path("/proc/self/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[2]) * mmap.PAGESIZE
