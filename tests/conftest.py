"""Shared fixtures: the seed corpus of the repository, a writable copy of it, and tiny corpora built per test."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from assistant.corpus import Corpus, load_corpus
from assistant.retrieval import Assistant
from assistant.settings import Settings

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


# --- a tiny EN/JA/KO corpus of two vendors, and settings that load no model -------------------------------

TINY_DOCUMENTS: list[dict[str, object]] = [
    {
        "id": "faq",
        "vendor": "Acme",
        "product": "Acme Cloud",
        "file": "acme/faq.md",
        "layout": "markdown",
        "languages": ["en"],
        "title": "Acme security FAQ",
        "as_of": dt.date(2025, 6, 1),
        "newer_than": ["sheet-ja"],
    },
    {
        "id": "sheet-ja",
        "vendor": "Acme",
        "product": "Acme Cloud",
        "file": "acme/sheet.ja.csv",
        "layout": "csv_checksheet",
        "languages": ["ja"],
        "title": "Acme チェックシート",
    },
    {
        "id": "page-ko",
        "vendor": "Borealis",
        "product": "Borealis Chat",
        "file": "borealis/page.ko.txt",
        "layout": "web_page",
        "languages": ["ko"],
        "title": "Borealis 보안",
    },
]

TINY_FILES: dict[str, str] = {
    "acme/faq.md": (
        "# Acme security\n"
        "## Certifications\n"
        "- Acme is ISO/IEC 27001 certified since 2024.\n"
        "## Backups\n"
        "- Backups run every night and are kept for 30 days.\n"
        "- Backup data is encrypted with AES-256.\n"
    ),
    "acme/sheet.ja.csv": (
        "No,分類,質問,回答,詳細\n"
        "1,認証,ISMSを取得していますか,有,ISO/IEC 27001認証取得済み\n"
        "2,,二要素認証に対応していますか,有,TOTPに対応\n"
    ),
    "borealis/page.ko.txt": (
        "보안\n\n백업\n\n  • 백업은 매일 수행됩니다\n  • 백업 데이터는 7일간 보관됩니다\n\n"
        "계정 관리\n\n  • SSO(SAML 2.0)를 지원합니다\n"
    ),
}
TINY_ROWS = 8


@pytest.fixture
def tiny_corpus(write_corpus: WriteCorpus) -> Path:
    """Two vendors, three documents (EN markdown, JA CSV, KO web page), eight rows."""
    return write_corpus(TINY_DOCUMENTS, TINY_FILES)


@pytest.fixture
def hashing_settings(tmp_path: Path, tiny_corpus: Path) -> Settings:
    """Settings over the tiny corpus with the model-free hashing embedder and a fresh index folder."""
    return Settings(corpus_dir=tiny_corpus, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", model="hashing")


# --- the real model over the seed corpus (tests marked "model") -------------------------------------------


@pytest.fixture(scope="session")
def model_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The default model (converted into the user's cache once) and a session index folder."""
    return Settings(corpus_dir=REPO_ROOT / "corpus", index_dir=tmp_path_factory.mktemp("model") / "index")


@pytest.fixture(scope="session")
def seed_assistant(model_settings: Settings) -> Assistant:
    """The assistant over the seed corpus with the real model; the index is built once per session."""
    return Assistant.load(model_settings)


# --- fuzz counts ------------------------------------------------------------------------------------------


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the fuzz tests' counts (inputs tried / handled cleanly / crashed) when any fuzz test ran."""
    import fuzzing

    if fuzzing.COUNTS:
        fuzzing.write_counts()
