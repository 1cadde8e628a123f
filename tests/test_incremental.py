"""Incremental builds (issue 14, item 2): a build embeds only passages it has not embedded before, and gives
the index a build from scratch gives: the same rows, vectors, lexical weights, links and answers."""

from __future__ import annotations

import hashlib
import io
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
import pytest

from assistant.corpus import links as corpus_links
from assistant.corpus import load_corpus
from assistant.corpus.links import Link, LinkArrays, Links
from assistant.corpus.loader import Corpus
from assistant.corpus.models import DocumentMeta, Row
from assistant.embedding import HashingEmbedder
from assistant.errors import QuestionError
from assistant.index import build_index, versions
from assistant.index.cache import BuildCache
from assistant.index.folder import StoredIndex
from assistant.index.linkstore import write_links
from assistant.index.rowstore import serialize
from assistant.memo import DictMemo
from assistant.passages import passage_text
from assistant.retrieval import Assistant
from assistant.settings import Settings
from assistant.signals import BuildInput
from assistant.signals import vectors as index_vectors
from assistant.signals.bm25 import TermCounts
from assistant.signals.dense import DenseSignal
from assistant.signals.lexical import COUNTS_FORMAT, LexicalSignal, term_counts
from assistant.signals.vectors import _trained_ivf

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


def _rebuild(settings: Settings, cache: Path, folder: Path) -> tuple[StoredIndex, _Counting]:
    """A build of the same corpus into another index folder with ``cache``, counting what it embeds."""
    counting = _Counting()
    return _build(settings.model_copy(update={"index_dir": folder}), counting, cache), counting


def test_a_build_reads_a_documents_vectors_as_one_value_and_falls_back_to_each_passages(
    hashing_settings: Settings, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.sqlite3"
    built = _build(hashing_settings, _Counting(), cache)
    with sqlite3.connect(cache) as db:  # only the vectors kept by document remain
        assert db.execute("DELETE FROM memo WHERE kind = 'vector'").rowcount == 2 * TINY_ROWS  # passages, questions
    by_document, counting = _rebuild(hashing_settings, cache, tmp_path / "by-document")
    assert counting.passages == []
    np.testing.assert_array_equal(_vectors(by_document), _vectors(built))
    with sqlite3.connect(cache) as db:  # now the other way round: damaged document values, passages kept
        db.execute("DELETE FROM memo")
    _build(hashing_settings.model_copy(update={"index_dir": tmp_path / "refill"}), _Counting(), cache)
    with sqlite3.connect(cache) as db:
        assert db.execute("UPDATE memo SET value = x'00' WHERE kind = 'document vectors'").rowcount == 3
    by_passage, counting = _rebuild(hashing_settings, cache, tmp_path / "by-passage")
    assert counting.passages == []
    np.testing.assert_array_equal(_vectors(by_passage), _vectors(built))


def _old_links(rows: Sequence[Row], documents: Sequence[DocumentMeta]) -> Links:
    """The links by row id, vendor by vendor, as they were kept before they were kept as arrays."""
    metas = {meta.key: meta for meta in documents}
    newer = corpus_links._newer_documents(metas)
    by_row: dict[str, tuple[Link, ...]] = {}
    for vendor in dict.fromkeys(row.vendor_id for row in rows):
        vendor_rows = [row for row in rows if row.vendor_id == vendor]
        vendor_metas = {key: meta for key, meta in metas.items() if meta.vendor_id == vendor}
        by_row.update(corpus_links._vendor_links(vendor_rows, vendor_metas, newer))
    return Links(by_row, {key: tuple(sorted(keys)) for key, keys in newer.items()})


def test_links_kept_as_arrays_by_vendor_are_the_links_computed_again(seed_corpus: Corpus, tmp_path: Path) -> None:
    rows = list(seed_corpus.rows)
    documents = [document.meta for document in seed_corpus.documents]
    row_keys = [hashlib.sha256(line).digest() for line in serialize(rows)]
    expected = _old_links(rows, documents)
    assert sum(len(links) for links in expected.by_row.values()) > 100  # the seed corpus links many rows
    memo = DictMemo()
    computed = LinkArrays.build(rows, documents, memo=memo, row_keys=row_keys)
    kept = LinkArrays.build(rows, documents, memo=memo, row_keys=row_keys)
    for key in [key for key in memo.values if key[0] == "link arrays"]:
        memo.values[key] = memo.values[key][:-1]  # damaged: computed again
    damaged = LinkArrays.build(rows, documents, memo=memo, row_keys=row_keys)
    for found in (computed, kept, damaged):
        assert found.links(rows) == expected
        for folder, links in ((tmp_path / "arrays", found), (tmp_path / "by-id", expected)):
            folder.mkdir(exist_ok=True)
            write_links(folder, links, rows)
        for name in ("links.offsets.npy", "links.targets.npy", "links.kinds.npy", "links.superseded.json"):
            assert (tmp_path / "arrays" / name).read_bytes() == (tmp_path / "by-id" / name).read_bytes()


def _npz(counts: TermCounts) -> bytes:
    """``counts`` as an earlier version kept them."""
    legacy = io.BytesIO()
    terms = np.frombuffer("\0".join(counts.terms).encode(), dtype=np.uint8)
    np.savez(legacy, terms=terms, indptr=counts.indptr, indices=counts.indices, counts=counts.counts)
    return legacy.getvalue()


def test_term_counts_read_back_from_either_form_and_are_counted_again_when_damaged() -> None:
    counts = TermCounts.of(["backup backup 世代数", "sso", ""])
    for data in (counts.to_bytes(), _npz(counts)):
        back = TermCounts.from_bytes(data)
        assert back.terms == counts.terms == ["backup", "世代", "代数", "sso"]
        for part in ("indptr", "indices", "counts"):
            np.testing.assert_array_equal(getattr(back, part), getattr(counts, part))
    for damaged in (counts.to_bytes()[:-1], b"PK\x03\x04 not a zip", b""):
        with pytest.raises(ValueError, match="term counts"):
            TermCounts.from_bytes(damaged)


def test_term_counts_an_earlier_version_kept_are_read_and_kept_in_the_newer_form(seed_corpus: Corpus) -> None:
    rows = list(seed_corpus.rows)
    memo = DictMemo()
    source = BuildInput(rows, [passage_text(row) for row in rows], HashingEmbedder(), memo=memo)
    counted = term_counts(source)
    kept = dict(memo.values)
    assert {kind for kind, _ in kept} == {f"terms {COUNTS_FORMAT}"}
    memo.values = {("terms", key): _npz(TermCounts.from_bytes(value)) for (_, key), value in kept.items()}

    def never(text: str) -> list[str]:
        raise AssertionError(f"counted again: {text}")

    for _ in range(2):  # from the older form, then from the newer one it was kept in
        again = term_counts(source, never)
        assert [(block.terms, block.counts.tolist()) for block in again] == [
            (block.terms, block.counts.tolist()) for block in counted
        ]
    assert {key: value for key, value in memo.values.items() if key[0] != "terms"} == kept


def test_a_damaged_trained_ivf_in_the_cache_is_trained_again_and_kept_anew() -> None:
    vectors = np.random.default_rng(1).standard_normal((2_000, 8)).astype(np.float32)
    memo = DictMemo()
    first = _trained_ivf(len(vectors), 8, lambda rows: vectors[rows], memo, b"model")
    ((kind, key),) = memo.values.keys()
    memo.values[(kind, key)] = b"not a faiss index"
    again = _trained_ivf(len(vectors), 8, lambda rows: vectors[rows], memo, b"model")
    assert again.is_trained
    assert again.nlist == first.nlist
    assert faiss.deserialize_index(np.frombuffer(memo.values[(kind, key)], dtype=np.uint8)).is_trained
