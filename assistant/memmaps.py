"""Memory-mapped index files read here and there: tell the kernel so, or each page read maps its neighbours too."""

from __future__ import annotations

import mmap
from typing import Any

import numpy.typing as npt


def random_access(array: npt.NDArray[Any]) -> None:
    """Mark a memory-mapped array (``np.load(..., mmap_mode="r")``) as read at random places.

    Without it, each page read maps up to 64 KB around it: at a million rows, reading a few dozen rows and
    links per question made the serving process hundreds of MB larger.
    """
    mapped = getattr(array, "_mmap", None)  # numpy's memmap keeps its mmap there
    if isinstance(mapped, mmap.mmap):
        mapped.madvise(mmap.MADV_RANDOM)
