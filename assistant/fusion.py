"""Fusion: the rows every signal proposes, scored by every signal, ranked by the weighted sum of the scores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from assistant.signals import SignalRun


@dataclass(frozen=True)
class Hit:
    """A ranked row: its position, fused score, each signal's own score, and the stale row it stands in for."""

    position: int
    score: float
    parts: Mapping[str, float]
    current_version_of: str | None = None


def fuse(runs: Mapping[str, SignalRun], weights: Mapping[str, float], depth: int) -> list[Hit]:
    """Every row among the top ``depth`` of any signal, best first by sum(weight * score); ties by position.

    >>> class Fixed:
    ...     def __init__(self, scores): self.s = scores
    ...     def candidates(self, depth): return np.array(sorted(self.s, key=lambda p: -self.s[p])[:depth])
    ...     def scores(self, positions): return np.array([self.s.get(p, 0.0) for p in positions.tolist()])
    >>> hits = fuse({"a": Fixed({0: 0.9, 1: 0.8}), "b": Fixed({1: 1.0})}, {"a": 1.0, "b": 0.5}, depth=5)
    >>> [(h.position, round(h.score, 2)) for h in hits]
    [(1, 1.3), (0, 0.9)]
    """
    missing = sorted(set(runs) - set(weights))
    if missing:
        raise ValueError(f"no fusion weight for signal(s) {', '.join(missing)}")
    order: dict[int, None] = {}
    for run in runs.values():
        order.update(dict.fromkeys(run.candidates(depth).tolist()))
    if not order:
        return []
    positions = np.fromiter(order, dtype=np.int64, count=len(order))
    parts = {name: run.scores(positions) for name, run in runs.items()}
    total = np.zeros(len(positions), dtype=np.float64)
    for name, values in parts.items():
        total += weights[name] * values
    ranked = sorted(range(len(positions)), key=lambda i: (-total[i], int(positions[i])))
    return [
        Hit(int(positions[i]), float(total[i]), {name: float(values[i]) for name, values in parts.items()})
        for i in ranked
    ]
