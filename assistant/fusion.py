"""Fusion: the rows every signal proposes, scored by every signal, ranked by the weighted sum of the scores.

The weights and the candidate depth come from a file fitted on the dev split by ``python -m evals.tune_fusion``
(``assistant/calibrations/fusion-<model>.json``); without one, each signal's default weight applies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from assistant.calibration import FOLDER, calibration_path, load_fitted
from assistant.signals import SignalRun

#: Candidates taken from each signal before fusing, when no fitted depth is stored.
DEPTH = 50


class FusionSettings(BaseModel):
    """Fusion weights per signal and the candidate depth, as fitted for one model.

    >>> settings = FusionSettings(model="m", weights={"dense": 1.0, "lexical": 0.02}, depth=50)
    >>> settings.weights_for(["dense", "lexical", "concepts"], {"concepts": 0.2})
    {'dense': 1.0, 'lexical': 0.02, 'concepts': 0.2}
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    weights: dict[str, float]
    depth: int = Field(ge=1, le=10_000)
    #: Where and how it was chosen: the questions file, its hash, the grid, the script.
    fitted_on: dict[str, str | int | float] = Field(default_factory=dict)
    created_at: dt.datetime | None = None

    def weights_for(self, signals: Iterable[str], defaults: Mapping[str, float]) -> dict[str, float]:
        """The weight of each signal: the fitted one, or the signal's default when it was not fitted."""
        return {name: self.weights.get(name, defaults.get(name, 0.0)) for name in signals}


def fusion_path(model: str, folder: Path = FOLDER) -> Path:
    """Where the fusion settings of ``model`` are kept: beside its calibration, named fusion-<slug>.json."""
    path = calibration_path(model, folder)
    return path.with_name("fusion-" + path.name)


def load_fusion(model: str, folder: Path = FOLDER) -> FusionSettings | None:
    """The fusion settings fitted for ``model``, or None when there are none."""
    return load_fitted(fusion_path(model, folder), FusionSettings, model, "fusion settings", "evals.tune_fusion")


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
