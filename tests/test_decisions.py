"""The decision states on tiny corpora: current facts, disagreements, whose question it is, calibration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assistant.calibration import Calibration, calibration_path, load_calibration
from assistant.corpus.statuses import answer_status
from assistant.errors import ModelError, QuestionError
from assistant.retrieval import Assistant
from assistant.settings import Settings
from assistant.subjects import Subjects

from conftest import KUMO_SHEET, WriteCorpus, hashing_over

SHEET = (
    "No.\tサービスレベル項目\t規定内容\t回答\n"
    "1\t監査報告書\tSAS70Type2やSSAE18の監査報告書を提供する\t無\n"
    "2\tバックアップ世代数\t保証する世代数\t7世代\n"
    "No.\tSubcategory\tCheck Details\tOur Answer\n"
    "1\tAudit reports\tDo you provide SAS 70 Type 2 or SSAE 18 reports?\tYes\n"
    "2\tBackup generations\tHow many generations of backups are kept?\tSeven generations\n"
)


@pytest.fixture
def two_vendors(write_corpus: WriteCorpus, tmp_path: Path) -> Settings:
    documents: list[dict[str, object]] = [
        {**KUMO_SHEET, "title": "Kumo sheet Ver.2", "version": "2", "as_of": dt.date(2025, 2, 1)},
        {
            "id": "faq",
            "vendor": "Acme",
            "product": "Acme Cloud",
            "file": "acme/faq.md",
            "layout": "markdown",
            "languages": ["en"],
            "title": "Acme FAQ",
        },
    ]
    files = {
        "kumo/sheet.tsv": SHEET,
        "acme/faq.md": "# Acme\n## Certifications\n- Acme is ISO/IEC 27001 certified.\n"
        "- Backups are kept for 30 days.\n",
    }
    corpus = write_corpus(documents, files)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", model="hashing")


def test_answer_statuses_read_the_common_spellings() -> None:
    cells = {"有": "yes", "Yes": "yes", "○対応済": "yes", "예": "yes", "無": "no", "No": "no", "○ 未対策": "no"}
    cells |= {"아니오": "no", "一部有": "partial", "N/A": "not_applicable", "非公開": "not_disclosed"}
    cells |= {"右記参照": "see_detail", "Refer to the right": "see_detail"}
    assert {cell: answer_status(cell) for cell in cells} == cells
    assert [answer_status(c) for c in ("上限無", "7世代", "Seven generations", "")] == [None, None, None, None]


def test_rows_of_one_version_that_disagree_give_a_conflict_with_both_rows(two_vendors: Settings) -> None:
    assistant = Assistant.load(two_vendors)
    for question in (
        "Do you provide SAS 70 Type 2 or SSAE 18 reports?",
        "SAS70Type2やSSAE18の監査報告書を提供しますか",
    ):
        result = assistant.ask(question, vendor="Kumo", k=4)
        assert result.status == "conflict", question
        assert result.answer is None
        assert result.reason_code == "conflict"
        assert sorted(m.row_id for m in result.conflicting) == ["kumo/sheet#1", "kumo/sheet#3"]
        assert {m.answer_status for m in result.conflicting} == {"yes", "no"}
        first, second = result.conflicting
        assert first.disagrees_with == [second.row_id]
        assert second.disagrees_with == [first.row_id]
        assert not {m.row_id for m in result.alternatives} & {"kumo/sheet#1", "kumo/sheet#3"}


def test_below_the_threshold_the_closest_rows_still_say_which_ones_disagree(two_vendors: Settings) -> None:
    """No reliable answer, but the rows shown disagree with each other: each names the other."""
    unsure = Assistant.load(two_vendors.model_copy(update={"answer_threshold": 1.0}))
    result = unsure.ask("Do you provide SAS 70 Type 2 or SSAE 18 reports?", vendor="Kumo", k=4)
    assert (result.status, result.reason_code) == ("no_answer", "low_confidence")
    shown = {m.row_id: m.disagrees_with for m in result.alternatives}
    assert shown["kumo/sheet#1"] == ["kumo/sheet#3"]
    assert shown["kumo/sheet#3"] == ["kumo/sheet#1"]
    assert all(not others for row, others in shown.items() if row not in {"kumo/sheet#1", "kumo/sheet#3"})


def test_rows_that_agree_give_an_answer_not_a_conflict(two_vendors: Settings) -> None:
    result = Assistant.load(two_vendors).ask("How many generations of backups are kept?", vendor="Kumo")
    assert result.status == "answered"
    assert result.answer is not None
    assert result.answer.row_id == "kumo/sheet#4"
    assert result.conflicting == []


def test_the_other_language_part_saying_the_same_is_named_on_the_answer_not_listed_again(
    two_vendors: Settings,
) -> None:
    assistant = Assistant.load(two_vendors)
    result = assistant.ask("How many generations of backups are kept?", vendor="Kumo", k=3)
    assert result.answer is not None
    assert result.answer.row_id == "kumo/sheet#4"
    assert [(t.row_id, t.language) for t in result.answer.same_as] == [("kumo/sheet#2", "ja")]
    # The room it leaves goes to rows that say something else: both parts of item 1, which disagree.
    assert sorted(m.row_id for m in result.alternatives) == ["kumo/sheet#1", "kumo/sheet#3"]
    assert assistant.same_as("kumo/sheet#1") == []
    assert assistant.same_as("kumo/sheet#2") == ["kumo/sheet#4"]
    with pytest.raises(QuestionError, match="no row 'kumo/sheet#99'"):
        assistant.same_as("kumo/sheet#99")


def test_the_two_language_parts_say_the_same_hours_on_either_clock(write_corpus: WriteCorpus, tmp_path: Path) -> None:
    """The Japanese part writes 17:00, the English part 5:00 PM: the same hours (a later hour is not)."""
    sheet = (
        "No.\tサービスレベル項目\t規定内容\t回答\n"
        "1\t問い合わせ受付時間\t通常時の受付時間\t平日11:00～17:00 (JST)\n"
        "2\tバックアップ時刻\t取得時刻\t毎日11:30\n"
        "No.\tSubcategory\tCheck Details\tOur Answer\n"
        "1\tInquiry hours\tHours for inquiries\tWeekdays from 11:00 AM to 5:00 PM (JST)\n"
        "2\tBackup time\tWhen are backups taken?\tDaily at 11:30 PM\n"
    )
    assistant = Assistant.load(hashing_over(write_corpus([KUMO_SHEET], {"kumo/sheet.tsv": sheet}), tmp_path))
    assert assistant.same_as("kumo/sheet#3") == ["kumo/sheet#1"]
    assert assistant.same_as("kumo/sheet#4") == []  # 11:30 PM is 23:30, not 11:30


def test_the_answer_is_shown_in_the_askers_language_where_a_twin_says_the_same(
    two_vendors: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Japanese question that ranks the English part first is answered with the Japanese part, which says the
    same; the English part is named on it. A language filter still chooses the language."""
    assistant = Assistant.load(two_vendors)
    question = "Backup generations: how many generations of backups are kept? 世代数は?"
    ranked_first = assistant.ask(question, vendor="Kumo", language="en")
    assert ranked_first.answer is not None
    assert ranked_first.answer.row_id == "kumo/sheet#4"
    result = assistant.ask(question, vendor="Kumo", k=3)
    assert result.question_language == "ja"
    assert result.status == "answered"
    assert result.answer is not None
    assert result.answer.row_id == "kumo/sheet#2"
    assert [(t.row_id, t.language) for t in result.answer.same_as] == [("kumo/sheet#4", "en")]
    assert "kumo/sheet#4" not in {m.row_id for m in result.alternatives}
    # The confidence is that of the row the ranking put first (the calibration was fitted on it).
    monkeypatch.setattr(Assistant, "_in_asker_language", lambda self, candidate, *rest: candidate)
    unswapped = assistant.ask(question, vendor="Kumo", k=3)
    assert unswapped.answer is not None
    assert unswapped.answer.row_id == "kumo/sheet#4"
    assert result.confidence == unswapped.confidence


def test_the_closest_row_of_no_reliable_answer_is_shown_in_the_askers_language_too(two_vendors: Settings) -> None:
    """Without an answer, the first of the closest rows is the Japanese part where it says what the English part
    the ranking put first says; the English part is named on it, not listed again."""
    question = "Backup generations: how many generations of backups are kept? 世代数は?"
    unsure = Assistant.load(two_vendors.model_copy(update={"answer_threshold": 1.0}))
    result = unsure.ask(question, vendor="Kumo", k=3)
    assert (result.status, result.reason_code, result.question_language) == ("no_answer", "low_confidence", "ja")
    first = result.alternatives[0]
    assert (first.rank, first.row_id) == (1, "kumo/sheet#2")
    assert [(t.row_id, t.language) for t in first.same_as] == [("kumo/sheet#4", "en")]
    assert "kumo/sheet#4" not in {m.row_id for m in result.alternatives}
    # A language filter still chooses: the English part, as ranked.
    filtered = unsure.ask(question, vendor="Kumo", language="en", k=3)
    assert (filtered.status, filtered.alternatives[0].row_id) == ("no_answer", "kumo/sheet#4")


def test_the_vendor_named_in_the_question_wins_and_the_result_says_so(two_vendors: Settings) -> None:
    result = Assistant.load(two_vendors).ask("Is Acme ISO 27001 certified?", vendor="Kumo")
    assert (result.vendor, result.vendor_source, result.vendor_overridden) == ("Acme", "question", "Kumo")
    shown = [m for m in [result.answer, *result.alternatives] if m is not None]
    assert shown
    assert {m.citation.vendor for m in shown} == {"Acme"}


def test_a_question_about_a_company_without_documents_has_no_answer(two_vendors: Settings) -> None:
    assistant = Assistant.load(two_vendors)
    for question in (
        "Does Slack support SAML SSO?",
        "SlackはSAML SSOに対応していますか？",
        "Slack은 SAML SSO를 지원하나요?",
    ):
        for vendor in (None, "Kumo"):
            result = assistant.ask(question, vendor=vendor)
            assert result.status == "no_answer", (question, vendor)
            assert result.reason_code == "no_documents_for_subject"
            assert result.unknown_subject == "Slack"
            assert result.reason is not None
            assert result.reason.startswith("no documents for Slack")
    # An integration named as an object is not the question's subject.
    assert assistant.ask("Can Kumo send notifications to Slack?").unknown_subject is None


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        # A Korean question that starts with the name and goes on with Latin words, then nouns without a particle.
        ("Slack SAML SSO 설정 방법 알려주세요", "Slack"),
        ("Zoom E2EE 지원 여부", "Zoom"),
        ("Box 파일 버전 몇 개까지 보관돼요?", "Box"),
        # The name as the thing integrated with, also after Latin words, is not the subject.
        ("Slack API 연동은 되나요?", None),
        ("Slack 알림을 받을 수 있나요?", None),
        ("SAML SSO 설정 방법 알려주세요", None),
    ],
)
def test_a_korean_subject_is_found_after_latin_words(question: str, subject: str | None) -> None:
    assert Subjects(own_names=["Kumo"]).unknown_subject(question) == subject


def test_with_no_vendor_named_or_chosen_the_other_vendors_are_offered(two_vendors: Settings) -> None:
    result = Assistant.load(two_vendors).ask("How long are backups kept?", k=3)
    assert result.status == "answered"
    assert result.answer is not None
    assert result.vendor is None
    others = {m.citation.vendor for m in result.other_vendors}
    assert others == {"Acme", "Kumo"} - {result.answer.citation.vendor}


def test_an_uncalibrated_model_answers_with_a_warning(two_vendors: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.retrieval as retrieval

    calibrated = Assistant.load(two_vendors).ask("How many generations of backups are kept?", vendor="Kumo")
    assert calibrated.warnings == []  # the hashing model ships a calibration (evals/calibrate.py)
    monkeypatch.setattr(retrieval, "load_calibration", lambda model: None)
    result = Assistant.load(two_vendors).ask("How many generations of backups are kept?", vendor="Kumo")
    assert len(result.warnings) == 1
    assert "no calibration for model 'hashing'" in result.warnings[0]
    assert result.confidence == result.score  # the raw score, said to be one


def test_a_calibration_file_that_names_another_model_is_refused(tmp_path: Path) -> None:
    calibration = Calibration(
        model="other",
        features=["score"],
        means=[0.0],
        scales=[1.0],
        coefficients=[1.0],
        intercept=0.0,
        threshold=0.5,
        target_false_answer_rate=0.05,
    )
    calibration_path("mine", tmp_path).write_text(calibration.model_dump_json(), encoding="utf-8")
    with pytest.raises(ModelError, match="calibration of 'other', not 'mine'"):
        load_calibration("mine", tmp_path)
    calibration_path("broken", tmp_path).write_text("{", encoding="utf-8")
    with pytest.raises(ModelError, match="not a valid calibration"):
        load_calibration("broken", tmp_path)
