"""Incremental builds (issue 14, item 2): a build embeds only passages it has not embedded before, and gives
the index a build from scratch gives: the same rows, vectors, lexical weights, links and answers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from assistant.corpus import load_corpus
from assistant.embedding import HashingEmbedder
from assistant.errors import QuestionError
from assistant.index import build_index, versions
from assistant.index.cache import BuildCache
from assistant.index.folder import StoredIndex
from assistant.retrieval import Assistant
from assistant.settings import Settings
from assistant.signals import vectors as index_vectors
from assistant.signals.dense import DenseSignal
from assistant.signals.lexical import LexicalSignal

from conftest import TINY_DOCUMENTS, TINY_ROWS, toml_documents

QUESTIONS = [
    ("Are backups encrypted?", None),
    ("How long are backups kept?", "Acme"),
    ("ISMSを取得していますか", None),
    ("SSO를 지원합니까?", "Borealis"),
    ("Do you test restores?", None),
    ("二要素認証", "Acme"),
]
NEW_DOCUMENT = {
    "id": "dr",
    "vendor": "Acme",
    "product": "Acme Cloud",
    "file": "acme/dr.md",
    "layout": "markdown",
    "languages": ["en"],
    "title": "Acme disaster recovery",
}
NEW_TEXT = "# Acme DR\n## Restores\n- Restores are tested every quarter.\n- The recovery time objective is 4 hours.\n"


class _Counting(HashingEmbedder):
    """The hashing embedder, counting the passages and questions it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.passages: list[str] = []
        self.queries: list[str] = []

    def embed_passages(self, texts: Sequence[str], **kwargs: Any) -> npt.NDArray[np.float32]:
        self.passages.extend(texts)
        return super().embed_passages(texts, **kwargs)

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.queries.extend(texts)
        return super().embed_queries(texts)


def _build(settings: Settings, embedder: HashingEmbedder, cache: Path) -> StoredIndex:
    with BuildCache(cache) as memo:
        return build_index(settings, load_corpus(settings.corpus_dir), embedder, memo=memo)


def _add_document(corpus_dir: Path) -> None:
    (corpus_dir / "acme" / "dr.md").write_text(NEW_TEXT, encoding="utf-8")
    (corpus_dir / "corpus.toml").write_text(toml_documents([*TINY_DOCUMENTS, NEW_DOCUMENT]), encoding="utf-8")


def _vectors(index: StoredIndex) -> npt.NDArray[np.float32]:
    dense = index.signals["dense"]
    assert isinstance(dense, DenseSignal)
    return dense.vectors.reconstruct(np.arange(len(index.rows), dtype=np.int64))


def _answers(settings: Settings, index: StoredIndex) -> list[dict[str, Any]]:
    assistant = Assistant(settings, HashingEmbedder(), index)
    found = []
    for question, vendor in QUESTIONS:
        try:
            result = assistant.ask(question, vendor=vendor, k=5).model_dump(mode="json")
        except QuestionError as error:  # a vendor whose documents were removed
            found.append({"error": str(error)})
            continue
        found.append({k: v for k, v in result.items() if k not in ("timings_ms", "index_built_at")})
    return found


def _assert_same_index(a: StoredIndex, b: StoredIndex, settings: Settings) -> None:
    assert list(a.rows) == list(b.rows)
    assert a.manifest.rows_sha256 == b.manifest.rows_sha256
    np.testing.assert_array_equal(_vectors(a), _vectors(b))
    dense_a, dense_b = a.signals["dense"], b.signals["dense"]
    assert isinstance(dense_a, DenseSignal)
    assert isinstance(dense_b, DenseSignal)
    for side in ("passage", "query"):
        means_a, means_b = getattr(dense_a.means, side), getattr(dense_b.means, side)
        assert means_a.keys() == means_b.keys()
        for language in means_a:
            np.testing.assert_array_equal(means_a[language], means_b[language])
    lexical_a, lexical_b = a.signals["lexical"], b.signals["lexical"]
    assert isinstance(lexical_a, LexicalSignal)
    assert isinstance(lexical_b, LexicalSignal)
    assert lexical_a.bm25._vocabulary == lexical_b.bm25._vocabulary
    assert (lexical_a.bm25._matrix != lexical_b.bm25._matrix).nnz == 0
    assert [a.links.of(row.id) for row in a.rows] == [b.links.of(row.id) for row in b.rows]
    assert _answers(settings, a) == _answers(settings, b)


def test_an_added_document_embeds_only_its_rows_and_equals_a_build_from_scratch(
    hashing_settings: Settings, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.sqlite3"
    first = _Counting()
    _build(hashing_settings, first, cache)
    assert len(first.passages) == TINY_ROWS
    _add_document(hashing_settings.corpus_dir)
    again = _Counting()
    incremental = _build(hashing_settings, again, cache)
    assert again.passages == ["Acme DR > Restores | Restores are tested every quarter.",
                              "Acme DR > Restores | The recovery time objective is 4 hours."]  # fmt: skip
    assert again.queries == again.passages  # the new rows join the English question sample
    scratch_settings = hashing_settings.model_copy(update={"index_dir": tmp_path / "scratch"})
    scratch = _build(scratch_settings, _Counting(), tmp_path / "empty-cache.sqlite3")
    _assert_same_index(incremental, scratch, hashing_settings)


def test_a_changed_row_is_embedded_again_and_a_removed_document_disappears(
    hashing_settings: Settings, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.sqlite3"
    _build(hashing_settings, _Counting(), cache)
    faq = hashing_settings.corpus_dir / "acme" / "faq.md"
    faq.write_text(faq.read_text(encoding="utf-8").replace("30 days", "90 days"), encoding="utf-8")
    toml = hashing_settings.corpus_dir / "corpus.toml"
    toml.write_text(toml_documents(TINY_DOCUMENTS[:2]), encoding="utf-8")  # Borealis's page removed
    again = _Counting()
    incremental = _build(hashing_settings, again, cache)
    assert again.passages == ["Acme security > Backups | Backups run every night and are kept for 90 days."]
    assert {meta.vendor for meta in incremental.documents.values()} == {"Acme"}
    assert not [row for row in incremental.rows if row.vendor == "Borealis"]
    scratch_settings = hashing_settings.model_copy(update={"index_dir": tmp_path / "scratch"})
    scratch = _build(scratch_settings, _Counting(), tmp_path / "empty-cache.sqlite3")
    _assert_same_index(incremental, scratch, hashing_settings)


def test_an_unchanged_corpus_is_not_built_again(hashing_settings: Settings, tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    built = _build(hashing_settings, _Counting(), cache)
    again = _Counting()
    reused = _build(hashing_settings, again, cache)
    assert reused.path == built.path
    assert again.passages == again.queries == []
    assert len(versions.versions(hashing_settings.index_dir)) == 1


def test_an_ivf_index_built_incrementally_equals_one_built_from_scratch_with_the_same_trained_lists(
    hashing_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_vectors, "EXACT_SEARCH_MAX_ROWS", 4)
    monkeypatch.setattr(index_vectors, "ivf_lists", lambda count: 2)
    cache = tmp_path / "cache.sqlite3"
    _build(hashing_settings, _Counting(), cache)
    _add_document(hashing_settings.corpus_dir)
    incremental = _build(hashing_settings, _Counting(), cache)
    assert incremental.manifest.signals["dense"]["faiss_index"] == "IndexIVFScalarQuantizer"
    scratch_settings = hashing_settings.model_copy(update={"index_dir": tmp_path / "scratch"})
    scratch = _build(scratch_settings, _Counting(), cache)  # embeddings are reused too: the lists decide
    _assert_same_index(incremental, scratch, hashing_settings)
