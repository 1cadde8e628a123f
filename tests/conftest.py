"""Shared fixtures: the seed corpus of the repository, a writable copy of it, and tiny corpora built per test."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from assistant.corpus import Corpus, load_corpus

REPO_ROOT = Path(__file__).resolve().parent.parent

#: write_corpus(documents, files) -> corpus folder; see the fixture below.
WriteCorpus = Callable[[Sequence[Mapping[str, object]], Mapping[str, str | bytes]], Path]


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    """The repository's ``corpus/`` folder (byte-for-byte copies of the seed documents)."""
    return REPO_ROOT / "corpus"


@pytest.fixture(scope="session")
def seed_corpus(seed_dir: Path) -> Corpus:
    """The seed corpus, loaded once: parsing is pure, so tests can share it."""
    return load_corpus(seed_dir)


@pytest.fixture
def seed_copy(tmp_path: Path, seed_dir: Path) -> Path:
    """A copy of the seed corpus folder that a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(seed_dir, target)
    return target


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | int):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML in this fixture")


def toml_documents(documents: Sequence[Mapping[str, object]]) -> str:
    """``corpus.toml`` text with one ``[[documents]]`` table per mapping."""
    parts = []
    for document in documents:
        body = "\n".join(f"{key} = {_toml_value(value)}" for key, value in document.items())
        parts.append(f"[[documents]]\n{body}\n")
    return "\n".join(parts)


@pytest.fixture
def write_corpus(tmp_path: Path) -> WriteCorpus:
    """A function writing a corpus folder: ``corpus.toml`` from ``documents`` plus ``files`` (path -> content).

    Text content is written as UTF-8; bytes are written as they are (for binary and wrongly encoded files).
    """

    def write(documents: Sequence[Mapping[str, object]], files: Mapping[str, str | bytes]) -> Path:
        root = tmp_path / "corpus"
        root.mkdir(exist_ok=True)
        (root / "corpus.toml").write_text(toml_documents(documents), encoding="utf-8")
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", newline="")
        return root

    return write
