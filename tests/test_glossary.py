"""The EN/JA/KO glossary: loading (and its errors), matching terms to concepts, and the concepts signal."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from assistant.glossary import Glossary, GlossaryError, default_glossary
from assistant.retrieval import Assistant
from assistant.settings import Settings
from assistant.signals import Query
from assistant.signals.bm25 import BM25
from assistant.signals.concepts import Concepts

HEADER = "concept\ten\tja\tko\n"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "glossary.tsv"
    path.write_text("# a comment line\n" + HEADER + body, encoding="utf-8")
    return path


def test_the_shipped_glossary_maps_the_same_question_in_three_languages_to_the_same_concepts() -> None:
    glossary = default_glossary()
    english = glossary.concepts("How many generations of backups are kept?")
    japanese = glossary.concepts("バックアップは何世代保持していますか?")
    korean = glossary.concepts("백업은 몇 세대까지 보관하나요?")
    assert {"backup", "generation"} <= set(english) & set(japanese) & set(korean)


@pytest.mark.parametrize(
    ("text", "unlike", "concept"),
    [
        # Ending the service is not a customer ending its contract (the rows about each differ).
        ("サービスを廃止する場合の通知", "解約後のデータの扱い", "service_end"),
        ("서비스를 폐지하는 경우", "계약 해지 후 데이터", "service_end"),
        ("If the vendor discontinues the product", "after the customer cancels the contract", "service_end"),
        # An attacker's site is not a third-party assessor.
        ("外部サイトからの攻撃", "外部の専門事業者による診断", "external_site"),
        ("제3자 사이트의 요청", "제3자 기관의 점검", "external_site"),
        # A certification body's audit is not login authentication (認証 is both in Japanese).
        ("認証機関による維持審査", "多要素認証を利用できる", "certification"),
        # Inquiries outside incidents are not incident inquiries.
        ("障害以外の通常の問い合わせ", "障害対応時の問合せ", "general_inquiry"),
        ("routine (non-incident) enquiries", "enquiries during an outage", "general_inquiry"),
        # Fallback measures after a failure are not the recovery time objective.
        ("重大障害時の代替手段", "目標復旧時間", "alternative_measure"),
    ],
)
def test_the_shipped_glossary_keeps_apart_what_reads_alike(text: str, unlike: str, concept: str) -> None:
    glossary = default_glossary()
    assert concept in glossary.concepts(text)
    assert concept not in glossary.concepts(unlike)
    assert not set(glossary.concepts(text)) >= set(glossary.concepts(unlike))


@pytest.mark.parametrize(
    "text",
    [
        "Is VoicePing ISO 27001 certified?",  # a vendor's name is not "voice" (audio)
        "Response time: Not disclosed",  # "not disclosed" is not a data leak
        "What is the time frame for recovery?",  # a time frame is not a frame (clickjacking)
        "Please state the maximum session lifetime",  # a maximum is not a capacity
        "Web画面の操作",  # a screen is not video
        "HTTP requests from the browser",  # an HTTP request is not a support inquiry
    ],
)
def test_the_shipped_glossary_does_not_read_common_words_as_concepts(text: str) -> None:
    unwanted = {"audio", "leak", "clickjacking", "capacity", "video", "inquiry"}
    assert not unwanted & set(default_glossary().concepts(text))


def test_the_japanese_middle_dot_is_ignored() -> None:
    glossary = default_glossary()
    assert "xss" in glossary.concepts("クロスサイト・スクリプティングの対策")
    assert "csrf" in glossary.concepts("(クロスサイト・リクエスト・フォージェリ)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Encrypted at rest; ENCRYPTION keys rotate", ["encryption", "encryption"]),  # prefix term, any case
        ("ﾊﾞｯｸｱｯﾌﾟ", ["backup"]),  # half-width katakana folded by NFKC
        ("logged", []),  # "log" is a whole word; "logged" is not "log"
        ("Log-in with two factor", ["login", "mfa"]),  # hyphen or space between the words of a term
        ("로그인 로그", ["login", "log"]),  # the longest Korean term first, no overlap
        ("IPアドレス", ["ip"]),  # the Japanese term is matched, not the ASCII word inside it again
    ],
)
def test_terms_match_as_documented(tmp_path: Path, text: str, expected: list[str]) -> None:
    body = (
        "encryption\tencrypt*\t暗号化\t암호화\n"
        "backup\tbackup*\tバックアップ\t백업\n"
        "log\tlog\tログ\t로그\n"
        "login\tlog in ; login\tログイン\t로그인\n"
        "mfa\ttwo-factor\t二要素認証\t2단계 인증\n"
        "ip\tip\tIPアドレス\tIP 주소\n"
    )
    assert Glossary.load(_write(tmp_path, body)).concepts(text) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("backup\tbackup\n", "expected 4 tab-separated columns"),
        ("Backup\tbackup\tバックアップ\t백업\n", "must be lower_snake_case"),
        ("backup\tbackup\t\t\n", "at least two languages"),
        ("backup\tback*up\tバックアップ\t백업\n", "a * may only end a term"),
        ("backup\tbackup\tバックアップ\t백업\nbackup\tbackups\tバックアップ\t백업\n", "defined twice"),
    ],
)
def test_a_malformed_glossary_says_which_line_and_why(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(GlossaryError, match=re.escape(message)) as raised:
        Glossary.load(path)
    assert f"{path}:3" in str(raised.value) or f"{path}:4" in str(raised.value)


def test_a_glossary_without_the_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "glossary.tsv"
    path.write_text("backup\tbackup\tバックアップ\t백업\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match="expected the header"):
        Glossary.load(path)


def test_bm25_over_concepts_finds_the_row_in_another_language() -> None:
    rows = ["バックアップ: 7世代", "SSO: SAML対応", "Backups are encrypted"]
    bm25 = BM25(rows, tokenizer=default_glossary().concepts)
    scores = bm25.scores("백업은 몇 세대까지 보관하나요?")
    assert int(np.argmax(scores)) == 0
    assert scores[1] == 0.0


def test_the_concepts_signal_is_built_saved_and_scores_across_languages(hashing_settings: Settings) -> None:
    assistant = Assistant.load(hashing_settings)
    assert "concepts" in assistant.index.signals
    assert (assistant.index.path / "concepts.terms.weights.npy").is_file()
    signal = assistant.index.signals["concepts"]
    query = Query(text="SSO를 지원합니까?", vector=np.zeros((1, 256), np.float32), language="ko")
    run = signal.run(query, None)
    best = [assistant.rows[int(p)].id for p in run.candidates(3)]
    assert best[0] == "borealis/page-ko#3"  # "SSO(SAML 2.0)를 지원합니다"
    # Korean question, English row: 백업 (backup) and 암호화 (encrypt*) meet "Backup data is encrypted".
    english = signal.run(Query(text="백업 암호화", vector=np.zeros((1, 256), np.float32), language="ko"), None)
    ranked = [assistant.rows[int(p)].id for p in english.candidates(5)]
    assert ranked[0] == "acme/faq#3"


def test_a_changed_glossary_makes_the_index_stale(hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.corpus import load_corpus
    from assistant.index import stale_reasons

    assistant = Assistant.load(hashing_settings)
    corpus = load_corpus(hashing_settings.corpus_dir)
    assert stale_reasons(hashing_settings, corpus, assistant.embedder) == []
    monkeypatch.setattr(Concepts, "version", property(lambda self: "another-glossary"))
    reasons = stale_reasons(hashing_settings, corpus, assistant.embedder)
    assert len(reasons) == 1
    assert reasons[0].startswith("signal concepts changed (version ")
