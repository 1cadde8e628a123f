"""The index folder: save/load, stale detection, atomic rebuilds, and the FAISS wrapper."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant import retrieval
from assistant.corpus import load_corpus
from assistant.embedding import HashingEmbedder, load_embedder
from assistant.errors import IndexStaleError
from assistant.index import build_index, open_index, stale_reasons
from assistant.index import folder as index_folder
from assistant.memmaps import mapped_file_bytes, release_pages
from assistant.retrieval import Assistant
from assistant.settings import Settings
from assistant.signals import vectors as index_vectors
from assistant.signals.dense import DenseSignal
from assistant.signals.lexical import LexicalSignal
from assistant.signals.vectors import VectorIndex

from conftest import TINY_ROWS


def _build(settings: Settings) -> index_folder.StoredIndex:
    return build_index(settings, load_corpus(settings.corpus_dir), load_embedder(settings))


def _dense(index: index_folder.StoredIndex) -> DenseSignal:
    dense = index.signals["dense"]
    assert isinstance(dense, DenseSignal)
    return dense


def _lexical(index: index_folder.StoredIndex) -> LexicalSignal:
    lexical = index.signals["lexical"]
    assert isinstance(lexical, LexicalSignal)
    return lexical


def test_build_writes_a_folder_a_person_can_open(hashing_settings: Settings) -> None:
    stored = _build(hashing_settings)
    folder = hashing_settings.index_dir / "current"
    assert folder.is_symlink()
    assert folder.resolve() == stored.path
    assert sorted(p.name for p in folder.iterdir()) == [
        "concepts.rows.indices.npy",
        "concepts.rows.indptr.npy",
        "concepts.rows.weights.npy",
        "concepts.terms.indices.npy",
        "concepts.terms.indptr.npy",
        "concepts.terms.weights.npy",
        "concepts_vocabulary.json",
        "documents.json",
        "index.faiss",
        "language_means.json",
        "lexical.rows.indices.npy",
        "lexical.rows.indptr.npy",
        "lexical.rows.weights.npy",
        "lexical.terms.indices.npy",
        "lexical.terms.indptr.npy",
        "lexical.terms.weights.npy",
        "lexical_vocabulary.json",
        "links.kinds.npy",
        "links.offsets.npy",
        "links.superseded.json",
        "links.targets.npy",
        "manifest.json",
        "rows.documents.npy",
        "rows.jsonl",
        "rows.languages.npy",
        "rows.offsets.npy",
    ]
    means = json.loads((folder / "language_means.json").read_text(encoding="utf-8"))
    assert sorted(means["passage"]) == sorted(means["query"]) == ["en", "ja", "ko"]
    assert len(means["passage"]["ja"]) == 256
    assert _dense(stored).vectors.dimension == 2 * 256  # [plain, language-centred]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == "hashing"
    assert manifest["dimension"] == 256
    assert manifest["rows"] == TINY_ROWS
    assert list(manifest["signals"]) == ["dense", "lexical", "concepts"]
    assert manifest["signals"]["concepts"]["version"] == manifest["signals"]["concepts"]["glossary_sha256"]
    assert manifest["signals"]["dense"]["faiss_index"] == "IndexFlatIP"
    assert set(manifest["documents"]) == {"acme/faq", "acme/sheet-ja", "borealis/page-ko"}
    assert manifest["documents"]["acme/faq"]["rows"] == 3
    assert {"faiss-cpu", "sentence-transformers", "numpy"} <= set(manifest["versions"])
    assert sorted(manifest["files"]) == sorted(p.name for p in folder.iterdir() if p.name != "manifest.json")
    raw = (folder / "rows.jsonl").read_bytes()
    assert manifest["rows_sha256"] == hashlib.sha256(raw).hexdigest()
    lines = raw.decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [row.id for row in stored.rows]
    offsets = np.load(folder / "rows.offsets.npy")
    assert offsets.tolist() == [0, *np.cumsum([len(line.encode()) + 1 for line in lines]).tolist()]
    assert json.loads(lines[0])["source_text"] == "- Acme is ISO/IEC 27001 certified since 2024."


def test_saved_index_loads_back_identically(hashing_settings: Settings) -> None:
    built = _build(hashing_settings)
    loaded = index_folder.load(hashing_settings.index_dir)
    assert list(loaded.rows) == list(built.rows) == load_corpus(hashing_settings.corpus_dir).rows
    assert loaded.manifest == built.manifest
    assert _dense(loaded).vectors.size == TINY_ROWS
    query = _dense(loaded).means.query_vector(HashingEmbedder().embed_queries(["backups every night"]), "en")
    assert np.array_equal(_dense(loaded).vectors.search(query, 3)[1], _dense(built).vectors.search(query, 3)[1])
    assert _lexical(loaded).bm25.scores("backups").tolist() == _lexical(built).bm25.scores("backups").tolist()


def test_up_to_date_index_is_opened_not_rebuilt(hashing_settings: Settings) -> None:
    corpus, embedder = load_corpus(hashing_settings.corpus_dir), load_embedder(hashing_settings)
    first = open_index(hashing_settings, corpus, embedder)
    assert stale_reasons(hashing_settings, corpus, embedder) == []
    second = open_index(hashing_settings, corpus, embedder, rebuild=False)
    assert second.manifest.built_at == first.manifest.built_at


def test_a_changed_document_is_detected_and_named(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    faq = hashing_settings.corpus_dir / "acme" / "faq.md"
    faq.write_text(faq.read_text(encoding="utf-8") + "- Restores are tested every quarter.\n", encoding="utf-8")
    corpus, embedder = load_corpus(hashing_settings.corpus_dir), load_embedder(hashing_settings)
    assert stale_reasons(hashing_settings, corpus, embedder) == ["document changed: acme/faq (acme/faq.md)"]
    with pytest.raises(IndexStaleError, match=r"out of date: document changed: acme/faq.*assistant build"):
        open_index(hashing_settings, corpus, embedder, rebuild=False)
    rebuilt = open_index(hashing_settings, corpus, embedder)
    assert rebuilt.manifest.rows == TINY_ROWS + 1
    assert rebuilt.rows[3].answer == "Restores are tested every quarter."


def test_added_and_removed_documents_and_metadata_changes_are_named(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    toml = hashing_settings.corpus_dir / "corpus.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.split('[[documents]]\nid = "page-ko"')[0], encoding="utf-8")
    corpus, embedder = load_corpus(hashing_settings.corpus_dir), load_embedder(hashing_settings)
    assert stale_reasons(hashing_settings, corpus, embedder) == [
        "document removed: borealis/page-ko",
        "corpus.toml changed",
    ]


def test_a_different_model_makes_the_index_stale(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    corpus = load_corpus(hashing_settings.corpus_dir)
    reasons = stale_reasons(hashing_settings, corpus, HashingEmbedder(dimension=128))
    assert len(reasons) == 1
    assert reasons[0].startswith("model weights changed (fingerprint ")


def test_a_parser_change_is_detected_through_the_rows(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(hashing_settings)
    monkeypatch.setattr("assistant.corpus.loader.answer_status", lambda answer: None)  # reads statuses otherwise
    corpus, embedder = load_corpus(hashing_settings.corpus_dir), load_embedder(hashing_settings)
    assert stale_reasons(hashing_settings, corpus, embedder) == [
        "rows changed (the parser now reads the documents differently)"
    ]


def test_a_missing_index_is_refused_with_the_command_to_build_it(hashing_settings: Settings) -> None:
    corpus, embedder = load_corpus(hashing_settings.corpus_dir), load_embedder(hashing_settings)
    with pytest.raises(IndexStaleError, match=r"no index in .*assistant build"):
        open_index(hashing_settings, corpus, embedder, rebuild=False)


def test_a_damaged_index_is_reported_and_rebuilt(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    (hashing_settings.index_dir / "current" / "rows.jsonl").write_text('{"id": "broken"}\n', encoding="utf-8")
    with pytest.raises(IndexStaleError, match=r"damaged: .*rows\.jsonl has 17 bytes"):
        index_folder.load(hashing_settings.index_dir)
    corpus, embedder = load_corpus(hashing_settings.corpus_dir), load_embedder(hashing_settings)
    assert open_index(hashing_settings, corpus, embedder).manifest.rows == TINY_ROWS


def test_an_unreadable_manifest_is_an_error_that_says_how_to_fix(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    (hashing_settings.index_dir / "current" / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexStaleError, match=r"unreadable.*assistant build"):
        index_folder.read_manifest(hashing_settings.index_dir)


def test_an_interrupted_build_leaves_the_previous_index_usable(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _build(hashing_settings)
    faq = hashing_settings.corpus_dir / "acme" / "faq.md"
    faq.write_text(faq.read_text(encoding="utf-8") + "- A new bullet.\n", encoding="utf-8")

    def crash(self: VectorIndex, path: Path) -> None:
        path.write_bytes(b"half a file")
        raise KeyboardInterrupt  # the process is stopped while writing the new index

    monkeypatch.setattr(VectorIndex, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        _build(hashing_settings)
    monkeypatch.undo()
    after = index_folder.load(hashing_settings.index_dir)
    assert after.manifest == before.manifest
    assert list(after.rows) == list(before.rows)
    # Besides, when the files were older than 2 s when opened, the record of their verification (`VerifiedFiles`).
    left = sorted(p.name for p in hashing_settings.index_dir.iterdir() if p.name != f".verified-{before.path.name}")
    assert left == [".build.lock", f".readers-{before.path.name}", "current", before.path.name]


def test_an_interrupted_embedding_leaves_the_previous_index_usable(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _build(hashing_settings)
    faq = hashing_settings.corpus_dir / "acme" / "faq.md"
    faq.write_text(faq.read_text(encoding="utf-8") + "- A new bullet.\n", encoding="utf-8")

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(HashingEmbedder, "embed_passages", fail)
    with pytest.raises(RuntimeError, match="out of memory"):
        _build(hashing_settings)
    assert index_folder.load(hashing_settings.index_dir).manifest == before.manifest


def test_vector_index_search_is_exact_and_filtered() -> None:
    vectors = np.eye(5, dtype=np.float32)
    index = VectorIndex.build(vectors)
    query = np.array([[0.1, 0.9, 0.0, 0.4, 0.0]], dtype=np.float32)
    scores, ids = index.search(query, k=3)
    assert ids[0].tolist() == [1, 3, 0]
    assert np.allclose(scores[0], [0.9, 0.4, 0.1])
    scores, ids = index.search(query, k=3, allowed=np.array([0, 4], dtype=np.int64))
    assert ids[0].tolist() == [0, 4]  # k is cut to the rows allowed; no -1 padding
    scores, ids = index.search(query, k=50)
    assert sorted(ids[0].tolist()) == [0, 1, 2, 3, 4]


def test_vector_index_rejects_bad_queries() -> None:
    index = VectorIndex.build(np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match="k must be at least 1"):
        index.search(np.ones((1, 3), dtype=np.float32), k=0)
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        index.search(np.ones((1, 4), dtype=np.float32), k=1)


def test_large_corpora_use_ivf_with_high_recall_and_exact_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((2000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[:50] + 0.1 * rng.standard_normal((50, 32)).astype(np.float32)
    exact = VectorIndex.build(vectors)
    monkeypatch.setattr(index_vectors, "EXACT_SEARCH_MAX_ROWS", 1000)
    approximate = VectorIndex.build(vectors)
    assert (exact.kind, approximate.kind) == ("IndexFlatIP", "IndexIVFScalarQuantizer")
    assert index_vectors.ivf_lists(1_000_000) == 4096
    truth = exact.search(queries, 10)[1]
    found = approximate.search(queries, 10)[1]
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.95
    np.testing.assert_allclose(approximate.reconstruct(np.array([5, 7])), vectors[[5, 7]], atol=1e-3)  # float16
    # Up to EXACT_SEARCH_MAX_ROWS allowed rows are scored exactly, from the index's own vectors.
    allowed = np.arange(0, 2000, 2, dtype=np.int64)
    exact_scores, exact_ids = exact.search(queries[:5], 10, allowed=allowed)
    scores, ids = approximate.search(queries[:5], 10, allowed=allowed)
    np.testing.assert_array_equal(ids, exact_ids)
    np.testing.assert_allclose(scores, exact_scores, atol=2e-3)
    assert approximate.search(queries[:1], 50, allowed=allowed[:3])[1].tolist() == [
        exact.search(queries[:1], 50, allowed=allowed[:3])[1][0].tolist()
    ]
    # More allowed rows than that: the approximate index, filtered.
    filtered = approximate.search(queries[:1], 5, allowed=np.arange(1500, dtype=np.int64))[1]
    assert len(filtered[0]) == 5
    assert all(i < 1500 for i in filtered[0])


def test_an_approximate_index_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((600, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    monkeypatch.setattr(index_vectors, "EXACT_SEARCH_MAX_ROWS", 100)
    built = VectorIndex.build(vectors)
    built.save(tmp_path / "index.faiss")
    loaded = VectorIndex.load(tmp_path / "index.faiss", rows=600, dimension=16)
    assert loaded.kind == "IndexIVFScalarQuantizer"
    np.testing.assert_array_equal(loaded.search(vectors[:3], 5)[1], built.search(vectors[:3], 5)[1])
    np.testing.assert_array_equal(loaded.reconstruct(np.array([42])), built.reconstruct(np.array([42])))
    np.testing.assert_allclose(loaded.reconstruct(np.array([42])), vectors[[42]], atol=1e-3)
    with pytest.raises(ValueError, match="600 vectors of 8 dimensions takes"):
        VectorIndex.load(tmp_path / "index.faiss", rows=600, dimension=8)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="unmapping pages is done on Linux only")
def test_released_pages_leave_the_process_and_read_back_the_same(tmp_path: Path) -> None:
    values = np.arange(4 * 2**20, dtype=np.int64)  # 32 MB
    np.save(tmp_path / "values.npy", values)
    mapped = np.load(tmp_path / "values.npy", mmap_mode="r")
    total = int(mapped.sum())  # reads, so maps, every page
    before = mapped_file_bytes()
    assert release_pages({(tmp_path / "values.npy").resolve()}) >= values.nbytes
    assert mapped_file_bytes() <= before - values.nbytes // 2
    assert release_pages({tmp_path / "other.npy"}) == 0
    assert int(mapped.sum()) == total


def test_a_served_index_keeps_its_mapped_pages_within_the_budget(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assistant = Assistant(hashing_settings, load_embedder(hashing_settings), _build(hashing_settings))
    released: list[int] = []

    def release(self: index_folder.StoredIndex) -> int:
        released.append(1)
        return 0

    monkeypatch.setattr(index_folder.StoredIndex, "release_pages", release)
    monkeypatch.setattr(retrieval, "MAPPED_BUDGET", mapped_file_bytes() + 2**30)
    assistant.ask("Are backups encrypted?")
    assert released == []  # within the budget: nothing let go of
    monkeypatch.setattr(retrieval, "MAPPED_BUDGET", 0)
    first = assistant.ask("Are backups encrypted?")
    assert released == [1]
    assert first.status == assistant.ask("Are backups encrypted?").status
