"""Quantization: an int8 copy of the ONNX export (onnxruntime's dynamic quantizer), cached beside it.

Backend ``onnx-int8`` (`Settings.backend`) runs this copy. Its weights are int8 and its activations are
quantized per call (``DynamicQuantizeLinear`` + ``MatMulInteger``, the quantizer's QOperator form, which is what
onnxruntime's CPU provider runs fastest); embeddings are close to fp32's, not equal, so the copy has its own
model fingerprint and an index built with one backend is rebuilt for the other.

The recipe was chosen by the embeddings' cosine to the fp32 export on EN/JA/KO passages and dev questions
(evals/bench/README.md has the numbers): per-channel weights in 7 bits (``reduce_range``: this machine's
AVX2 without VNNI multiplies u8 x s8 pairs into saturating 16-bit sums, which 8-bit weights overflow), the
word-embedding table (``Gather``) quantized too (the file shrinks from 470 to 120 MB at no measurable cost),
and the FFN output of layer 4 left in fp32 (of the 72 weight matrices, the one whose quantization costs the
most: mean cosine 0.9961 with it, 0.9978 without). onnxruntime's ``quant_pre_process`` was tried and left
out: its symbolic shape inference fails on this graph, and with the rest of it the embeddings were identical.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embedding.conversion import ConvertedModel, replace_folder
from assistant.errors import ModelError

logger = logging.getLogger(__name__)

#: Bump when the quantized file this module writes changes for the same recipe; cached copies are redone once.
QUANTIZER_VERSION = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
STAMP_FILE = "quantization.json"
#: Below this cosine to the fp32 export on the probe texts, a quantized copy is refused.
MIN_COSINE = 0.99
PROBE_TEXTS = (
    "query: Is customer data encrypted at rest?",
    "passage: バックアップは7世代保持しています（ＡＷＳ　Ｓ３）",
    "query: SSO(SAML 2.0)를 지원합니까?",
    "passage: Access Control > Passwords | Minimum length | 12 characters, checked against breached lists",
    "passage: 개인정보 처리방침 | 암호화 | 저장 데이터는 AES-256으로 암호화합니다",
)


@dataclass(frozen=True)
class QuantizationRecipe:
    """The settings given to ``onnxruntime.quantization.quantize_dynamic``; part of the cache key and fingerprint.

    >>> recipe = QuantizationRecipe(keep_float=())
    >>> recipe.per_channel, recipe.reduce_range, recipe.op_types
    (True, True, ('MatMul', 'Gather'))
    >>> recipe.digest == QuantizationRecipe(keep_float=()).digest != QuantizationRecipe(per_channel=False).digest
    True
    """

    weight_type: str = "QInt8"
    per_channel: bool = True
    reduce_range: bool = True
    op_types: tuple[str, ...] = ("MatMul", "Gather")
    #: Nodes of the exported graph left in fp32 (their names must exist in it; see the module docstring).
    keep_float: tuple[str, ...] = ("/model/encoder/layer.4/output/dense/MatMul",)

    def describe(self) -> dict[str, Any]:
        """The recipe as plain JSON values."""
        return {**asdict(self), "op_types": list(self.op_types), "keep_float": list(self.keep_float)}

    @property
    def digest(self) -> str:
        """Hex sha256 of the recipe."""
        return hashlib.sha256(json.dumps(self.describe(), sort_keys=True).encode()).hexdigest()


INT8 = QuantizationRecipe()


def quantized_folder(exported: Path) -> Path:
    """Where the int8 copy of the export in ``exported`` is cached: beside it."""
    return exported.with_name(f"{exported.name}-int8")


def quantized_fingerprint(source_fingerprint: str, recipe: QuantizationRecipe = INT8) -> str:
    """The int8 model's fingerprint: the fp32 model's, the recipe, the quantizer's version and onnxruntime's.

    onnxruntime's version is included because its quantizer writes the weights: another version may write
    other ones, and vectors from the two must not share an index.
    """
    import onnxruntime

    text = (
        f"int8 of {source_fingerprint} recipe={recipe.digest} quantizer={QUANTIZER_VERSION} "
        f"onnxruntime={onnxruntime.__version__}"
    )
    return hashlib.sha256(text.encode()).hexdigest()


def ensure_quantized(converted: ConvertedModel, exported: Path, recipe: QuantizationRecipe = INT8) -> Path:
    """The folder holding the int8 ``model.onnx`` and ``tokenizer.json``, quantizing the export first if needed.

    ``exported`` is the folder of the fp32 export of ``converted`` (`ensure_exported`).
    """
    folder = quantized_folder(exported)
    fingerprint = quantized_fingerprint(converted.fingerprint, recipe)
    if _is_current(folder, fingerprint):
        return folder
    logger.info("quantizing %s to int8 in %s (first run only; about 30 s)", exported, folder)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        started = time.perf_counter()
        quantize(exported / MODEL_FILE, staging / MODEL_FILE, recipe)
        cosine = probe_cosine(exported, staging / MODEL_FILE)
        if cosine < MIN_COSINE:
            raise ModelError(
                f"the int8 copy of {exported} differs from it too much (cosine {cosine:.4f} on the probe texts, "
                f"below {MIN_COSINE}); use backend onnx"
            )
        shutil.copyfile(exported / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        stamp = {
            "quantizer_version": QUANTIZER_VERSION,
            "source_fingerprint": converted.fingerprint,
            "fingerprint": fingerprint,
            "recipe": recipe.describe(),
            "min_probe_cosine": round(cosine, 5),
            "quantized_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "quantize_seconds": round(time.perf_counter() - started, 2),
        }
        (staging / STAMP_FILE).write_text(json.dumps(stamp, indent=2), encoding="utf-8")
        for path in [staging, *staging.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        replace_folder(staging, folder, lambda: _is_current(folder, fingerprint))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def quantize(source: Path, target: Path, recipe: QuantizationRecipe) -> None:
    """Write the int8 copy of the ONNX model ``source`` to ``target``."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    missing = sorted(set(recipe.keep_float) - {node.name for node in graph.node})
    if missing:
        raise ModelError(
            f"the quantization recipe keeps nodes in fp32 that {source} does not have: {', '.join(missing)}; "
            "the export changed, so the recipe needs re-measuring (or use backend onnx)"
        )
    with _quiet_preprocessing_advice():
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType[recipe.weight_type],
            per_channel=recipe.per_channel,
            reduce_range=recipe.reduce_range,
            op_types_to_quantize=list(recipe.op_types),
            nodes_to_exclude=list(recipe.keep_float),
        )


def probe_cosine(exported: Path, quantized: Path) -> float:
    """The smallest cosine between the fp32 export's and the int8 copy's embeddings of the probe texts."""
    import onnxruntime
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(exported / TOKENIZER_FILE))
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id("<pad>") or 1)
    encodings = tokenizer.encode_batch(list(PROBE_TEXTS))
    feeds = {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
    }
    outputs = []
    for path in (exported / MODEL_FILE, quantized):
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        outputs.append(np.asarray(session.run(None, feeds)[0], dtype=np.float64))
    return float(np.min(np.sum(outputs[0] * outputs[1], axis=1)))


def _is_current(folder: Path, fingerprint: str) -> bool:
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(stamp, dict) or stamp.get("fingerprint") != fingerprint:
        return False
    return (folder / MODEL_FILE).is_file() and (folder / TOKENIZER_FILE).is_file()


class _DropAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


@contextmanager
def _quiet_preprocessing_advice() -> Iterator[None]:
    """The quantizer logs advice to run ``quant_pre_process`` on the root logger; we measured it (docstring)."""
    root = logging.getLogger()
    advice = _DropAdvice()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)
