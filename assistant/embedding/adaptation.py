"""Adaptation: a tuned model shipped as a small low-rank change to the base weights, and applied to them.

Tuning (`assistant.embedding.tuning`) changes the 72 matrices and the 120 vectors of the encoder's 12 layers:
21 M numbers, 85 MB, too much to keep in git and too slow (8 minutes, 7 GB) to redo on every first run. The
change of each matrix is close to low-rank, so it is stored as two thin factors (change ~ A @ B, A of
``out x rank``, B of ``rank x in``, from its singular value decomposition) and the vectors' changes as they
are, all in float16: about 2.8 MB at rank 16. `assistant/data/` holds the one the default model uses, made by
``python -m evals.tune_model --ship``; the conversion adds it to the base weights
(`assistant.embedding.conversion`).

The file is a safetensors file: ``<parameter>.a`` and ``<parameter>.b`` per matrix, ``<parameter>.delta``
per vector, and metadata saying how it was made (the recipe, the questions, the rank).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assistant.errors import ModelError

#: The shipped adaptation of the default model (`Settings.model` = DEFAULT_MODEL).
SHIPPED = Path(__file__).resolve().parent.parent / "data" / "e5-small-tuning.safetensors"
#: Singular vectors kept per matrix. Chosen on dev by cross-fitting (README, "The tuned default model").
RANK = 16
FORMAT = "checksheet-assistant low-rank adaptation v1"

Weights = Mapping[str, npt.NDArray[np.floating]]


def low_rank_change(base: Weights, tuned: Weights, rank: int = RANK) -> dict[str, npt.NDArray[np.float16]]:
    """The tensors of an adaptation file: each changed matrix as its best rank-``rank`` factors, each changed
    vector as it is; unchanged parameters are left out.

    >>> rng = np.random.default_rng(0)
    >>> base = {"w": np.zeros((6, 4), np.float32), "b": np.zeros(4, np.float32), "frozen": np.ones(3, np.float32)}
    >>> change = np.outer(rng.normal(size=6), rng.normal(size=4)).astype(np.float32)  # rank 1
    >>> tuned = {"w": change, "b": np.full(4, 0.5, np.float32), "frozen": np.ones(3, np.float32)}
    >>> parts = low_rank_change(base, tuned, rank=1)
    >>> sorted(parts), parts["w.a"].shape, parts["w.b"].shape
    (['b.delta', 'w.a', 'w.b'], (6, 1), (1, 4))
    >>> bool(np.allclose(apply_change(base, parts)["w"], change, atol=1e-2))
    True
    """
    if set(base) != set(tuned):
        raise ValueError(f"the tuned model's parameters differ from the base's: {sorted(set(base) ^ set(tuned))[:5]}")
    parts: dict[str, npt.NDArray[np.float16]] = {}
    for name in sorted(base):
        change = tuned[name].astype(np.float64) - base[name].astype(np.float64)
        if not change.any():
            continue
        if change.ndim == 2:
            u, s, vh = np.linalg.svd(change, full_matrices=False)
            parts[f"{name}.a"] = (u[:, :rank] * s[:rank]).astype(np.float16)
            parts[f"{name}.b"] = vh[:rank].astype(np.float16)
        else:
            parts[f"{name}.delta"] = change.astype(np.float16)
    return parts


def apply_change(base: Weights, parts: Mapping[str, npt.NDArray[np.floating]]) -> dict[str, npt.NDArray[np.float32]]:
    """``base`` with an adaptation's changes added; changed parameters become float32, the others stay as they are."""
    changed = {key.rsplit(".", 1)[0] for key in parts}
    unknown = sorted(changed - set(base))
    if unknown:
        raise ModelError(f"the adaptation changes parameters the model does not have: {unknown[:3]}")
    weights: dict[str, npt.NDArray[np.float32]] = dict(base)
    for name in sorted(changed):
        if f"{name}.delta" in parts:
            change = parts[f"{name}.delta"].astype(np.float32)
        else:
            change = parts[f"{name}.a"].astype(np.float32) @ parts[f"{name}.b"].astype(np.float32)
        if change.shape != base[name].shape:
            raise ModelError(f"the adaptation of {name} has shape {change.shape}, the model's is {base[name].shape}")
        weights[name] = (base[name].astype(np.float32) + change).astype(np.float32)
    return weights


def write_adaptation(path: Path, parts: Mapping[str, npt.NDArray[np.float16]], about: Mapping[str, object]) -> None:
    """Save an adaptation with ``about`` (how it was made) in its metadata."""
    from safetensors.numpy import save_file

    metadata = {"format": FORMAT, **{key: json.dumps(value, ensure_ascii=False) for key, value in about.items()}}
    save_file(dict(parts), str(path), metadata=metadata)
    path.chmod(0o644)  # safetensors writes 0600; the file ships in the package


def read_adaptation(path: Path) -> tuple[dict[str, npt.NDArray[np.float16]], dict[str, str]]:
    """An adaptation's tensors and metadata; ModelError when the file is missing or not one."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as handle:
            metadata = dict(handle.metadata() or {})
            parts = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 (not a dict)
    except (OSError, ValueError, SafetensorError) as exc:
        raise ModelError(f"cannot read the model adaptation {path}: {exc}; reinstall the package") from exc
    if metadata.get("format") != FORMAT:
        raise ModelError(f"{path} is not a model adaptation ({FORMAT!r}); reinstall the package")
    return parts, metadata


def adapt_folder(folder: Path, adaptation: Path) -> None:
    """Add ``adaptation`` to the weights of the sentence-transformers folder ``folder``, in place."""
    from safetensors.numpy import load_file, save_file

    parts, _ = read_adaptation(adaptation)
    weights_file = folder / "model.safetensors"
    save_file(apply_change(load_file(str(weights_file)), parts), str(weights_file))
