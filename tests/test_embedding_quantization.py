"""Tests for the int8 copy of the ONNX export: cached, reused, keyed by weights and recipe (tiny model, no e5)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.embedding import ConvertedModel, quantization
from assistant.embedding.quantization import INT8, QuantizationRecipe, ensure_quantized, quantized_fingerprint
from assistant.errors import ModelError

from tiny_onnx import DIMENSION, LINEAR, write_tiny_model

pytest.importorskip("onnxruntime")


@pytest.fixture
def exported(tmp_path: Path) -> tuple[ConvertedModel, Path]:
    """A converted model's stand-in and its 'export' (the tiny model) in a models folder, as on disk."""
    folder = tmp_path / "models" / "converted-onnx"
    write_tiny_model(folder)
    converted = ConvertedModel(tmp_path / "models" / "converted", tmp_path / "source.bin", "a" * 64, 1)
    return converted, folder


def test_the_int8_copy_is_written_beside_the_export_and_reused(
    exported: tuple[ConvertedModel, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    converted, export = exported
    calls: list[Path] = []
    real_quantize = quantization.quantize

    def counting(source: Path, target: Path, recipe: QuantizationRecipe) -> None:
        calls.append(source)
        real_quantize(source, target, recipe)

    monkeypatch.setattr(quantization, "quantize", counting)
    folder = ensure_quantized(converted, export)
    assert folder == export.with_name("converted-onnx-int8")
    assert sorted(p.name for p in folder.iterdir()) == ["model.onnx", "quantization.json", "tokenizer.json"]
    stamp = json.loads((folder / "quantization.json").read_text())
    assert stamp["source_fingerprint"] == converted.fingerprint
    assert stamp["fingerprint"] == quantized_fingerprint(converted.fingerprint)
    assert stamp["recipe"]["keep_float"] == [LINEAR]
    assert stamp["min_probe_cosine"] >= quantization.MIN_COSINE
    assert (folder / "tokenizer.json").read_bytes() == (export / "tokenizer.json").read_bytes()

    assert ensure_quantized(converted, export) == folder
    assert len(calls) == 1  # reused
    ensure_quantized(ConvertedModel(converted.folder, converted.source, "b" * 64, 1), export)
    assert len(calls) == 2  # other weights: quantized again, in the same place
    ensure_quantized(ConvertedModel(converted.folder, converted.source, "b" * 64, 1), export, QuantizationRecipe())
    assert len(calls) == 2
    ensure_quantized(converted, export, QuantizationRecipe(per_channel=False))
    assert len(calls) == 3  # another recipe
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_the_int8_copy_really_is_int8_and_keeps_the_listed_node_in_float(exported: tuple[ConvertedModel, Path]) -> None:
    import onnx

    converted, export = exported
    folder = ensure_quantized(converted, export)
    graph = onnx.load(str(folder / "model.onnx")).graph
    kinds = {node.name: node.op_type for node in graph.node}
    assert kinds[LINEAR] == "MatMul"  # kept in fp32, as the recipe says
    assert "DequantizeLinear" in kinds.values()  # the word-vector table is stored in 8 bits
    stored = {t.name: t.data_type for t in graph.initializer}
    assert "table" not in stored
    assert stored["table_quantized"] in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)

    only_matmuls = ensure_quantized(converted, export, QuantizationRecipe(op_types=("MatMul",), keep_float=()))
    op_types = {node.op_type for node in onnx.load(str(only_matmuls / "model.onnx")).graph.node}
    assert "MatMulInteger" in op_types
    assert "MatMul" not in op_types
    assert "DequantizeLinear" not in op_types  # the table stays fp32 when Gather is not listed


def test_int8_embeddings_stay_close_to_fp32(exported: tuple[ConvertedModel, Path]) -> None:
    from assistant.embedding.onnx_backend import OnnxEmbedder

    converted, export = exported
    folder = ensure_quantized(converted, export, QuantizationRecipe(keep_float=()))
    texts = ["is data encrypted at rest", "データ 暗号化", "백업 데이터 암호화 지원", "sso saml supported"]
    fp32, int8 = (
        OnnxEmbedder(f / "model.onnx", f / "tokenizer.json", name="t", fingerprint=f.name, dimension=DIMENSION)
        for f in (export, folder)
    )
    cosines = np.sum(fp32.embed_passages(texts) * int8.embed_passages(texts), axis=1)
    assert cosines.min() > 0.99
    assert not np.array_equal(fp32.embed_passages(texts), int8.embed_passages(texts))  # it did change the weights


def test_a_recipe_naming_a_missing_node_is_refused_and_leaves_nothing(
    exported: tuple[ConvertedModel, Path],
) -> None:
    converted, export = exported
    with pytest.raises(ModelError, match=r"does not have: /model/nowhere/MatMul.*re-measuring"):
        ensure_quantized(converted, export, QuantizationRecipe(keep_float=("/model/nowhere/MatMul",)))
    assert sorted(p.name for p in export.parent.iterdir()) == ["converted-onnx"]


def test_a_copy_too_far_from_fp32_is_refused(
    exported: tuple[ConvertedModel, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    converted, export = exported
    monkeypatch.setattr(quantization, "probe_cosine", lambda exported, quantized: 0.9)
    with pytest.raises(ModelError, match=r"cosine 0\.9000.*use backend onnx"):
        ensure_quantized(converted, export)
    assert sorted(p.name for p in export.parent.iterdir()) == ["converted-onnx"]


def test_the_int8_fingerprint_differs_from_fp32_and_follows_the_recipe() -> None:
    source = "c" * 64
    fingerprint = quantized_fingerprint(source)
    assert fingerprint != source
    assert fingerprint == quantized_fingerprint(source, INT8)
    assert quantized_fingerprint("d" * 64) != fingerprint
    assert quantized_fingerprint(source, QuantizationRecipe(reduce_range=False)) != fingerprint
    assert quantized_fingerprint(source, QuantizationRecipe(keep_float=())) != fingerprint


def test_settings_accept_the_int8_backend() -> None:
    from assistant.settings import Settings

    assert Settings(backend="onnx-int8").backend == "onnx-int8"
    with pytest.raises(ValueError, match="onnx-int8"):
        Settings(backend="int8")
