"""The ONNX backend: the converted model exported once to ONNX and run with onnxruntime (``Settings.backend``).

Same weights, same tokenizer, same pooling as the sentence-transformers path: embeddings agree to a cosine of
0.99999 or better on EN/JA/KO text (checked at export and in the tests), so indexes built with either backend
are interchangeable and share the model fingerprint. A question embeds 2-3x faster on a 2-core CPU, and a
serving process needs neither torch nor sentence-transformers at run time (torch only exports, once).

The export lives beside the converted folder in the model cache (never in git), stamped with the converted
model's fingerprint and rebuilt when that changes. It is written to a temporary folder and renamed into place.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.embedding.conversion import ConvertedModel, replace_folder
from assistant.embedding.embedder import ModelIdentity, Progress, check_texts, token_batches
from assistant.errors import ModelError
from assistant.passages import PASSAGE_PROMPT, QUERY_PROMPT

logger = logging.getLogger(__name__)

#: Bump when the exported graph changes; every cached export is then redone once.
EXPORTER_VERSION = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
STAMP_FILE = "export.json"
#: Below this cosine to the torch model on the probe texts, an export is refused.
MIN_COSINE = 0.999
PROBES = (
    "query: Is customer data encrypted at rest?",
    "passage: バックアップは7世代保持しています（ＡＷＳ　Ｓ３）",
    "query: SSO(SAML 2.0)를 지원합니까?",
    "passage: ﾃﾞｰﾀは30日で匿名化 ①② 【重要】\ttabs  and  spaces",
)
#: Texts per batch at most, and padded tokens per batch at most (texts x the longest). Small batches run
#: fastest on this 2-core CPU (their activations stay in cache): passages/s is flat from 256 to 1024 tokens
#: and drops by 10-25 % at 4096-8192 (evals/bench/README.md, "batching").
BATCH_TEXTS = 64
TOKEN_BUDGET = 512
#: onnxruntime and onnx are required dependencies of the package: missing, the install is incomplete.
_INSTALL_HINT = (
    "the install is incomplete; reinstall the package (`pip install checksheet-assistant`, or `make run` in a "
    "checkout), or set ASSISTANT_BACKEND=torch"
)


class OnnxEmbedder(ModelIdentity):
    """An `Embedder` running an exported model with onnxruntime; the prompts are prepended to every text.

    Usually built by `load_embedder(Settings(backend="onnx"))`, which exports the default model on first use.

    >>> embedder = OnnxEmbedder(folder / "model.onnx", folder / "tokenizer.json", name="e5",
    ...                         fingerprint="abc", dimension=384)  # doctest: +SKIP
    >>> embedder.embed_queries(["パスワードの最小文字数は？"]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        *,
        name: str,
        fingerprint: str,
        dimension: int,
        query_prompt: str = QUERY_PROMPT,
        passage_prompt: str = PASSAGE_PROMPT,
        threads: int = 0,
        max_length: int = 512,
        token_budget: int = TOKEN_BUDGET,
    ) -> None:
        if threads < 0:
            raise ValueError(f"threads must be 0 (all cores) or more, got {threads}")
        if token_budget < 1:
            raise ValueError(f"token_budget must be at least 1, got {token_budget}")
        self._token_budget = token_budget
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelError(f"backend 'onnx' needs onnxruntime: {_INSTALL_HINT}") from exc
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: onnxruntime's default, one per physical core
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads sleep instead of spinning: spinning steals the cores FAISS and the other requests need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"cannot load the ONNX model {model_path}: {exc}; delete the folder to re-export") from exc
        tokenizer.enable_truncation(max_length)
        tokenizer.no_padding()
        # transformers' split_special_tokens=True (the converted folder's setting): "<s>" typed in a text is text.
        tokenizer.encode_special_tokens = True
        self._tokenizer = tokenizer
        self._pad_id = tokenizer.token_to_id("<pad>")
        if self._pad_id is None:
            raise ModelError(f"{tokenizer_path} has no <pad> token")
        super().__init__(
            name=name,
            fingerprint=fingerprint,
            dimension=dimension,
            query_prompt=query_prompt,
            passage_prompt=passage_prompt,
        )

    def with_token_budget(self, token_budget: int) -> OnnxEmbedder:
        """This embedder batching by another token budget; shares the loaded session (for measurements)."""
        if token_budget < 1:
            raise ValueError(f"token_budget must be at least 1, got {token_budget}")
        other = copy.copy(self)
        other._token_budget = token_budget
        return other

    def token_ids(self, text: str) -> list[int]:
        """The ids the model is fed for ``text`` (prompts are not added here; for tests and measurements)."""
        ids: list[int] = self._tokenizer.encode(text).ids
        return ids

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text, each embedded as ``query_prompt + text``."""
        return self._embed(check_texts(texts), self._query_prompt, BATCH_TEXTS, None)

    def embed_passages(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = BATCH_TEXTS,
        progress: Progress | None = None,
    ) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text, each embedded as ``passage_prompt + text``.

        Texts are tokenized once and batched by token count, longest first (`token_batches`: at most
        ``batch_size`` texts and `TOKEN_BUDGET` padded tokens a batch); ``progress(done, total)`` runs after
        each batch.
        """
        return self._embed(check_texts(texts), self._passage_prompt, batch_size, progress)

    def _embed(
        self, texts: Sequence[str], prefix: str, batch_size: int, progress: Progress | None
    ) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch([prefix + text for text in texts]) if texts else []
        done = 0
        for batch in token_batches(
            [len(e.ids) for e in encodings], max_texts=batch_size, token_budget=self._token_budget
        ):
            out[batch] = self._run([encodings[i].ids for i in batch])
            done += len(batch)
            if progress is not None:
                progress(done, len(texts))
        return out

    def _run(self, token_ids: list[list[int]]) -> npt.NDArray[np.float32]:
        width = max(len(ids) for ids in token_ids)
        ids = np.full((len(token_ids), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, row_ids in enumerate(token_ids):
            ids[row, : len(row_ids)] = row_ids
            mask[row, : len(row_ids)] = 1
        (vectors,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        return np.ascontiguousarray(vectors, dtype=np.float32)


def export_folder(converted: ConvertedModel) -> Path:
    """Where the export of ``converted`` is cached: beside the converted folder."""
    return converted.folder.with_name(f"{converted.folder.name}-onnx")


def ensure_exported(converted: ConvertedModel) -> Path:
    """The folder holding ``model.onnx`` and ``tokenizer.json`` for ``converted``, exporting it first if needed."""
    folder = export_folder(converted)
    if _is_current(folder, converted.fingerprint):
        return folder
    try:
        import onnxruntime  # noqa: F401  (checked before seconds of exporting)
    except ImportError as exc:
        raise ModelError(f"backend 'onnx' needs onnxruntime: {_INSTALL_HINT}") from exc
    logger.info("exporting %s to ONNX in %s (first run only; about 15 s)", converted.folder, folder)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        started = time.perf_counter()
        cosine = _export(converted.folder, staging / MODEL_FILE)
        shutil.copyfile(converted.folder / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        stamp = {
            "exporter_version": EXPORTER_VERSION,
            "source_fingerprint": converted.fingerprint,
            "min_probe_cosine": cosine,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "export_seconds": round(time.perf_counter() - started, 2),
        }
        (staging / STAMP_FILE).write_text(json.dumps(stamp, indent=2), encoding="utf-8")
        for path in [staging, *staging.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        replace_folder(staging, folder, lambda: _is_current(folder, converted.fingerprint))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _is_current(folder: Path, fingerprint: str) -> bool:
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(stamp, dict):
        return False
    current = stamp.get("source_fingerprint") == fingerprint and stamp.get("exporter_version") == EXPORTER_VERSION
    return current and (folder / MODEL_FILE).is_file() and (folder / TOKENIZER_FILE).is_file()


def _export(model_folder: Path, target: Path) -> float:
    """Export the transformer with mean pooling and normalisation built in; returns the probes' min cosine."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(
        str(model_folder), dtype=torch.float32, local_files_only=True, add_pooling_layer=False
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_folder), local_files_only=True)
    pooled = _pooled(model).eval()
    sample = torch.ones((2, 8), dtype=torch.int64)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and indexing notes
        torch.onnx.export(
            pooled,
            (sample, sample),
            str(target),
            dynamo=False,
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=18,
        )
        encoded = tokenizer(list(PROBES), padding=True, truncation=True, max_length=512, return_tensors="pt")
        expected = pooled(encoded["input_ids"], encoded["attention_mask"]).numpy()
    import onnxruntime

    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    feeds = {"input_ids": encoded["input_ids"].numpy(), "attention_mask": encoded["attention_mask"].numpy()}
    (got,) = session.run(None, feeds)
    cosine = float(np.min(np.sum(np.asarray(got) * expected, axis=1)))
    if cosine < MIN_COSINE:
        raise ModelError(f"the ONNX export of {model_folder} differs from the model (cosine {cosine:.5f}); use torch")
    return round(cosine, 7)


def _pooled(model: Any) -> Any:
    """The transformer with sentence-transformers' mean pooling and normalisation (torch imported only here)."""
    import torch

    class Pooled(torch.nn.Module):
        """The transformer, mean pooling over the attention mask, and L2 normalisation (sentence-transformers')."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    return Pooled(model)
