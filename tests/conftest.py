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


def hashing_over(corpus: Path, tmp_path: Path) -> Settings:
    """Settings over ``corpus`` with the model-free hashing embedder and a fresh index folder."""
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", model="hashing")


#: One checksheet of the vendor Kumo, its Japanese part above its English part, at ``kumo/sheet.tsv``.
KUMO_SHEET: dict[str, object] = {
    "id": "sheet",
    "vendor": "Kumo",
    "product": "Kumo",
    "file": "kumo/sheet.tsv",
    "layout": "tsv_checksheet",
    "languages": ["ja", "en"],
    "title": "Kumo sheet",
}


@pytest.fixture
def hashing_settings(tmp_path: Path, tiny_corpus: Path) -> Settings:
    """Settings over the tiny corpus with the model-free hashing embedder and a fresh index folder."""
    return hashing_over(tiny_corpus, tmp_path)


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


# --- a tiny corpus with every decision state: a stale row, an in-version conflict, a foreign company ----------

#: Kumo's sheet Ver.2 (JA and EN parts, the sheet's own item numbers 42-44): item 43 disagrees (無 / Yes),
#: item 42 answers "Refer to the right" with the fact in the detail cell; its EN item 44 outdates Ver.1's row.
KUMO_SHEET_V2 = (
    "No.\tサービスレベル項目\t規定内容\t回答\t詳細\n"
    "42\tバックアップ世代数\t保証するバックアップの世代数\t右記参照\t7世代\n"
    "43\t監査報告書\tSAS70Type2やSSAE18の監査報告書を提供する\t無\t\n"
    "44\t公的認証\tISMS認証を取得している\t有\tISO/IEC 27001認証取得済み (IS 123456)\n"
    "No.\tSubcategory\tCheck Details\tOur Answer\tAnswer Details\n"
    "42\tBackup generations\tHow many generations of backups are kept?\tRefer to the right\tSeven generations\n"
    "43\tAudit reports\tDo you provide SAS 70 Type 2 or SSAE 18 reports?\tYes\t\n"
    "44\tCertification\tAre you ISO 27001 certified?\tYes\tISO/IEC 27001 certified since 2025 (IS 123456)\n"
)
KUMO_SHEET_V1 = (
    "No.\tSubcategory\tCheck Details\tOur Answer\tAnswer Details\n"
    "44\tCertification\tAre you ISO 27001 certified?\tNo\tPlanned for next year\n"
)
DECISION_DOCUMENTS: list[dict[str, object]] = [
    {
        **KUMO_SHEET,
        "title": "Kumo security sheet",
        "version": "2.0",
        "as_of": dt.date(2025, 2, 1),
        "newer_than": ["sheet-v1"],
    },
    {
        "id": "sheet-v1",
        "vendor": "Kumo",
        "product": "Kumo",
        "file": "kumo/sheet-v1.tsv",
        "layout": "tsv_checksheet",
        "languages": ["en"],
        "title": "Kumo security sheet",
        "version": "1.0",
        "as_of": dt.date(2024, 1, 10),
    },
    {
        "id": "faq",
        "vendor": "Acme",
        "product": "Acme Cloud",
        "file": "acme/faq.md",
        "layout": "markdown",
        "languages": ["en"],
        "title": "Acme security FAQ",
        "as_of": dt.date(2025, 6, 1),
    },
]
DECISION_FILES: dict[str, str] = {
    "kumo/sheet.tsv": KUMO_SHEET_V2,
    "kumo/sheet-v1.tsv": KUMO_SHEET_V1,
    "acme/faq.md": (
        "# Acme security\n"
        "## Backups\n"
        "- Backups are kept for 30 days, in three generations.\n"
        "## Integrations\n"
        "- Acme sends alerts to Slack channels.\n"
    ),
}


@pytest.fixture
def decision_corpus(write_corpus: WriteCorpus) -> Path:
    """Two vendors, every decision state: Kumo's sheet Ver.2 (JA + EN, item 43 disagrees, item 44 outdates
    Ver.1's row) and Ver.1, and Acme's FAQ (a row that mentions Slack)."""
    return write_corpus(DECISION_DOCUMENTS, DECISION_FILES)
