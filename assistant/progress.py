"""Progress callbacks: ``progress(done, total)``, called as long work advances (builds, evaluations)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

#: ``progress(done, total)``; ``total`` may grow while work is found.
Progress: TypeAlias = Callable[[int, int], None]
