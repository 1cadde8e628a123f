"""The parts ranking is built from: lexical scores, language means, twin rows, vendor names, freshness."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from assistant.corpus import load_corpus
from assistant.corpus.links import Link, Links, align_rows, changed, facts
from assistant.corpus.models import Row
from assistant.retrieval import Assistant
from assistant.scoping import VendorNames
from assistant.settings import Settings
from assistant.signals.bm25 import BM25, TermCounts, tokenize
from assistant.signals.language_means import LanguageMeans, query_sample
from assistant.signals.lexical import AllRowsRun, LexicalRun

from conftest import WriteCorpus


def _row(row_id: str, answer: str, *, language: str = "en", section: list[str] | None = None) -> Row:
    return Row(
        id=row_id,
        vendor="V",
        vendor_id="v",
        document_id=row_id.split("#")[0],
        language=language,
        kind="bullet",
        section=section or ["S"],
        answer=answer,
        source_text=answer,
        line_start=1,
        line_end=1,
    )


def test_tokenize_splits_cjk_into_bigrams_and_drops_english_function_words() -> None:
    assert tokenize("Do you support SSO?") == ["support", "sso"]
    assert tokenize("バックアップ世代") == ["バッ", "ック", "クア", "アッ", "ップ", "プ世", "世代"]
    assert tokenize("백업 주기") == ["백업", "주기"]
    assert tokenize("ＴＬＳ１．３") == ["tls", "1", "3"]  # full-width folds to ASCII
    assert tokenize("の") == ["の"]


def test_bm25_prefers_rare_matching_terms_and_round_trips(tmp_path: Path) -> None:
    bm25 = BM25(["backups are encrypted", "backups run nightly", "single sign-on with SAML", "7世代のバックアップ"])
    scores = bm25.scores("Are backups encrypted?")
    assert scores.argmax() == 0
    assert scores[2] == 0.0
    assert bm25.scores("バックアップは何世代?").argmax() == 3
    assert not bm25.scores("zebra").any()
    bm25.save(tmp_path, "lexical", tmp_path / "v.json")
    again = BM25.load(tmp_path, "lexical", tmp_path / "v.json", size=4)
    assert np.allclose(again.scores("SAML backups"), bm25.scores("SAML backups"))
    rows = np.array([3, 0, 2], dtype=np.int64)
    for query in ("SAML backups", "バックアップは何世代?", "zebra", ""):
        np.testing.assert_allclose(again.scores_of(query, rows), bm25.scores(query)[rows], rtol=1e-6)
    assert bm25.scores_of("backups", np.zeros(0, dtype=np.int64)).shape == (0,)


def test_bm25_from_counts_document_by_document_is_the_index_of_all_passages() -> None:
    passages = ["backups are encrypted", "backups run nightly", "single sign-on with SAML", "7世代のバックアップ"]
    whole = BM25(passages)
    pieces = BM25.from_counts(
        [TermCounts.of(passages[:1]), TermCounts.from_bytes(TermCounts.of(passages[1:]).to_bytes())]
    )
    assert pieces._vocabulary == whole._vocabulary
    assert (pieces._matrix != whole._matrix).nnz == 0
    assert pieces.scores("SAML backups").tolist() == whole.scores("SAML backups").tolist()


def test_language_means_remove_the_language_direction() -> None:
    # Two languages that differ by a constant offset: after centring, the same topic lines up.
    topic = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    offset = np.array([0.0, 0.0, 3.0], dtype=np.float32)
    passages = np.vstack([topic, topic + offset]).astype(np.float32)
    languages = ["en", "en", "ja", "ja"]
    means = LanguageMeans.estimate(passages, languages, {"en": topic, "ja": topic + offset})
    vectors = means.index_vectors(passages, languages)
    assert vectors.shape == (4, 6)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    query = means.query_vector(topic[0] + offset, "ja")  # a "Japanese" question on topic 0
    scores = vectors @ query[0]
    assert set(np.argsort(-scores)[:2].tolist()) == {0, 2}  # topic 0 in both languages first
    assert means.query_vector(topic[0], "fr").shape == (1, 6)  # unknown language: the mean of means


def test_language_means_round_trip(tmp_path: Path) -> None:
    means = LanguageMeans({"en": np.ones(3, np.float32)}, {"en": np.zeros(3, np.float32)})
    means.save(tmp_path / "m.json")
    again = LanguageMeans.load(tmp_path / "m.json")
    assert np.array_equal(again.passage["en"], means.passage["en"])
    assert np.array_equal(again.query["en"], means.query["en"])


def test_query_sample_spreads_positions_and_caps_the_size() -> None:
    sample = query_sample(["en"] * 10 + ["ja"] * 3, size=4)
    assert sample == {"en": [0, 3, 6, 9], "ja": [10, 11, 12]}


def test_facts_and_changed_compare_numbers_and_acronyms_across_languages() -> None:
    older = _row("v/ja#1", "ISMS取得予定(準備中)", language="ja")
    newer = _row("v/en#1", "ISO/IEC 27001:2022 certified, valid 2025-04-25 to 2028-04-24")
    assert {"iso", "iec", "27001", "2022", "2025-04-25"} <= facts(newer)
    assert changed(newer, older)
    same_ja = _row("v/ja#2", "TLS1.3のみを使用", language="ja")
    same_en = _row("v/en#2", "TLS 1.3 only")
    assert not changed(same_en, same_ja)


def test_align_rows_pairs_sections_in_order_and_skips_an_extra_section() -> None:
    en = [
        _row("v/en#1", "a", section=["A"]),
        _row("v/en#2", "b", section=["A"]),
        _row("v/en#3", "c", section=["B"]),
        _row("v/en#4", "d", section=["Extra"]),
        _row("v/en#5", "e", section=["Extra"]),
        _row("v/en#6", "e", section=["Extra"]),
        _row("v/en#7", "f", section=["C"]),
    ]
    ja = [
        _row("v/ja#1", "あ", language="ja", section=["甲"]),
        _row("v/ja#2", "い", language="ja", section=["甲"]),
        _row("v/ja#3", "う", language="ja", section=["乙"]),
        _row("v/ja#4", "え", language="ja", section=["丙"]),
    ]
    pairs = [(x.id, y.id) for x, y in align_rows(en, ja)]
    assert pairs == [("v/en#1", "v/ja#1"), ("v/en#2", "v/ja#2"), ("v/en#3", "v/ja#3"), ("v/en#7", "v/ja#4")]


def test_seed_links_join_versions_languages_and_documents_and_say_where_they_differ(seed_dir: Path) -> None:
    corpus = load_corpus(seed_dir)
    links = Links.build(corpus.rows, [d.meta for d in corpus.documents])
    vp, wx = "voiceping/security-", "wevox/meti-checksheet#"
    # The KO page's log retention (kept permanently) against the EN page's (anonymised within 30 days).
    assert links.of(f"{vp}page-ko#11") == (
        Link(f"{vp}page-en#11", "newer", True),
        Link(f"{vp}page-ja#11", "same_version", False),
    )
    # The JA checksheet's certification row reaches the EN page through the JA page's table row.
    assert Link(f"{vp}page-en#1", "newer", True) in links.of(f"{vp}checksheet-ja#1")
    # A checksheet row that mixes the monthly backups (still true) with permanent logs (superseded).
    assert {(link.row, link.differs) for link in links.newer(f"{vp}checksheet-ja#20")} == {
        (f"{vp}page-en#10", False),
        (f"{vp}page-en#11", True),
    }
    # The same facts in a translation: linked, not different.
    assert links.of(f"{vp}checksheet-ja#4")[0] == Link(f"{vp}page-en#4", "newer", False)
    # The Wevox sheet's two languages: item 39 agrees, item 43 says 無 in Japanese and Yes in English.
    assert links.of(f"{wx}39") == (Link(f"{wx}88", "same_version", False),)
    assert links.of(f"{wx}92") == (Link(f"{wx}43", "same_version", True),)
    assert links.of(f"{vp}page-en#67") == ()  # System Architecture exists only in English
    assert links.of(f"{vp}checksheet-ja#8") == ()  # the usage manager is named only in the checksheet
    assert links.superseded_by(f"{vp}checksheet-ja") == (f"{vp}page-en",)
    differing = sorted(
        {row for row, found in links.by_row.items() for link in found if link.differs and link.relation != "older"}
    )
    assert differing == sorted(
        [f"{wx}43", f"{wx}92", f"{vp}checksheet-ja#1", f"{vp}checksheet-ja#2", f"{vp}checksheet-ja#20"]
        + [f"{vp}page-{lang}#{n}" for lang in ("ja", "ko") for n in (1, 2, 11)]
    )


def test_vendor_names_strip_names_with_possessives_and_particles() -> None:
    names = VendorNames({"wevox": "Wevox", "voiceping": "VoicePing"})
    assert names.remove_names("What is Wevox's uptime?") == "What is uptime?"
    assert names.remove_names("VoicePingのバックアップ") == "バックアップ"
    assert names.remove_names("VoicePing는 SSO 되나요?") == "SSO 되나요?"
    assert names.remove_names("voicepinger backups") == "voicepinger backups"  # not a whole word
    assert names.remove_names("Wevox?") == "Wevox?"


def test_vendor_names_scale_to_thousands_of_aliases_and_keep_their_rules() -> None:
    # More aliases than re's pattern cache (512) holds: each is compiled once, and cheap tests skip most.
    aliases = {f"vendor {n:04d}": f"Vendor {n:04d}" for n in range(1500)}
    aliases |= {f"プロダクト{n:04d}": f"Vendor {n:04d}" for n in range(1500)}
    aliases |= {"kakao": "Kakao", "sis": "Sis", "wevox": "Wevox"}
    names = VendorNames(aliases)
    assert names.in_question("Does VENDOR 0042 or プロダクト0007 encrypt?") == ["Vendor 0042", "Vendor 0007"]
    assert names.remove_names("Does Vendor 1499's product encrypt?") == "Does product encrypt?"
    assert names.remove_names("プロダクト0001のバックアップ") == "のバックアップ"
    # Letters that re.IGNORECASE matches to ASCII ones: the Kelvin sign, long s, dotted and dotless i.
    assert names.remove_names("\u212aakao's SSO") == "SSO"
    assert names.remove_names("\u017f\u0131s backups") == "backups"
    assert names.remove_names("S\u0130S logs") == "logs"
    assert names.remove_names("wevoxes") == "wevoxes"


@pytest.fixture
def versions_corpus(write_corpus: WriteCorpus) -> Path:
    """An older Japanese page and a newer English page of one vendor, twins by structure."""
    documents: list[dict[str, object]] = [
        {
            "id": "page-en",
            "vendor": "Acme",
            "product": "Acme",
            "file": "acme/page.en.md",
            "layout": "markdown",
            "languages": ["en"],
            "title": "Acme security",
            "as_of": dt.date(2025, 5, 1),
            "newer_than": ["page-ja"],
            "twins": ["page-ja"],
        },
        {
            "id": "page-ja",
            "vendor": "Acme",
            "product": "Acme",
            "file": "acme/page.ja.md",
            "layout": "markdown",
            "languages": ["ja"],
            "title": "Acme セキュリティ",
            "twins": ["page-en"],
        },
    ]
    files = {
        "acme/page.en.md": "# Security\n- Logs are anonymised within 30 days.\n- Passwords can be changed by users.\n",
        "acme/page.ja.md": "# セキュリティ\n- ログは永久に保存します。\n- パスワードはユーザーが変更できます。\n",
    }
    return write_corpus(documents, files)


def test_an_outdated_row_yields_to_its_newer_twin_and_stays_as_an_alternative(
    versions_corpus: Path, tmp_path: Path
) -> None:
    settings = Settings(corpus_dir=versions_corpus, index_dir=tmp_path / "index", model="hashing")
    assistant = Assistant.load(settings)
    result = assistant.ask("ログは永久に保存しますか", k=4)
    assert result.answer is not None
    assert result.answer.row_id == "acme/page-en#1"  # the newer page states a different fact (30 days)
    assert result.answer.current_version_of == "acme/page-ja#1"
    [stale] = result.outdated
    assert stale.row_id == "acme/page-ja#1"
    assert stale.outdated_by == "acme/page-en#1"
    assert (stale.newer_version, stale.newer_version_differs) == ("acme/page-en#1", True)
    assert stale.score < result.answer.score
    assert stale.citation.superseded_by == ["acme/page-en"]
    assert "acme/page-ja#1" not in [m.row_id for m in result.alternatives]


def test_a_row_whose_newer_twin_says_the_same_keeps_its_place(versions_corpus: Path, tmp_path: Path) -> None:
    settings = Settings(corpus_dir=versions_corpus, index_dir=tmp_path / "index", model="hashing")
    assistant = Assistant.load(settings)
    result = assistant.ask("パスワードはユーザーが変更できますか", k=4)
    assert result.answer is not None
    assert result.answer.row_id == "acme/page-ja#2"
    assert result.answer.current_version_of is None
    assert (result.answer.newer_version, result.answer.newer_version_differs) == ("acme/page-en#2", False)
    # A language filter chooses the language of the text only where the rows agree.
    only_japanese = assistant.ask("パスワードはユーザーが変更できますか", language="ja", k=2)
    assert only_japanese.answer is not None
    assert only_japanese.answer.row_id == "acme/page-ja#2"
    stale_filtered = assistant.ask("ログは永久に保存しますか", language="ja", k=2)
    assert stale_filtered.answer is not None
    assert stale_filtered.answer.row_id == "acme/page-en#1"
    assert [m.row_id for m in stale_filtered.outdated] == ["acme/page-ja#1"]


def _texts(rng: np.random.Generator, count: int) -> list[str]:
    """Passages of a few words drawn from a small vocabulary: many rows share terms, and many tie."""
    words = ["backup", "sso", "saml", "encryption", "tls", "audit", "log", "バックアップ", "세대"]
    return [" ".join(rng.choice(words, size=rng.integers(1, 6))) for _ in range(count)]


def test_bm25_scores_equal_scipy_sums_of_the_question_terms_to_the_bit(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    built = BM25(_texts(rng, 3000))
    built.save(tmp_path, "lexical", tmp_path / "vocabulary.json")
    loaded = BM25.load(tmp_path, "lexical", tmp_path / "vocabulary.json", 3000)
    for question in ["backup SSO", "saml tls audit log", "バックアップの世代", "zebra", "log log encryption"]:
        terms = built._terms(question)
        expected = np.asarray(built._matrix[terms].sum(axis=0), dtype=np.float32).ravel() if terms else None
        for bm25 in (built, loaded):
            scores = bm25.scores(question)
            assert scores.dtype == np.float32
            if expected is None:
                assert not scores.any()
            else:
                assert scores.tobytes() == expected.tobytes()


def test_a_run_over_all_rows_ranks_as_a_run_over_the_rows_with_a_score() -> None:
    rng = np.random.default_rng(3)
    for size, depth in [(5000, 50), (5000, 3), (200, 50), (40, 10)]:
        # Few distinct scores (ties at the depth-th place), zeros, and a few rows far above the rest.
        values = rng.choice(np.array([0, 0, 0, 0.5, 1.0, 1.5, 2.0], dtype=np.float32), size=size)
        values[rng.integers(0, size, 3)] = 9.0
        scored = np.flatnonzero(values).astype(np.int64)
        best = float(values.max())
        sparse_run, all_rows = LexicalRun(values[scored], scored, best), AllRowsRun(values, best)
        assert all_rows.candidates(depth).tolist() == sparse_run.candidates(depth).tolist()
        asked = rng.integers(0, size, 100)
        assert all_rows.scores(asked).tolist() == sparse_run.scores(asked).tolist()
    nothing = np.zeros(100, dtype=np.float32)
    assert AllRowsRun(nothing, 0.0).candidates(10).tolist() == []
    assert AllRowsRun(nothing, 0.0).scores(np.arange(3)).tolist() == [0.0, 0.0, 0.0]
