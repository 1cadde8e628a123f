"""The decision states with the real model on the seed corpus: the cases issue 10 was opened for."""

from __future__ import annotations

import pytest

from assistant.retrieval import Assistant

pytestmark = pytest.mark.model

EN_PAGE = "voiceping/security-page-en#"


@pytest.mark.parametrize(
    ("question", "language", "current", "outdated"),
    [
        ("VoicePingはISMS認証を取得していますか？", "ja", f"{EN_PAGE}1", "voiceping/security-page-ja#1"),
        ("VoicePing는 ISMS 인증을 취득했나요?", "ko", f"{EN_PAGE}1", "voiceping/security-page-ko#1"),
        (
            "VoicePingのアクセスログはどのくらいの期間保存されますか？",
            "ja",
            f"{EN_PAGE}11",
            "voiceping/security-page-ja#11",
        ),
        ("VoicePing 접속 로그는 얼마나 오래 보관되나요?", "ko", f"{EN_PAGE}11", "voiceping/security-page-ko#11"),
    ],
)
def test_a_stale_row_under_a_language_filter_yields_to_the_current_fact(
    seed_assistant: Assistant, question: str, language: str, current: str, outdated: str
) -> None:
    result = seed_assistant.ask(question, language=language)
    assert result.status == "answered", result.reason
    assert result.answer is not None
    assert result.answer.row_id == current
    assert outdated in [m.row_id for m in result.outdated]
    stale = next(m for m in result.outdated if m.row_id == outdated)
    assert stale.outdated_by == current


@pytest.mark.parametrize(
    "question",
    [
        "Does Wevox provide SAS 70 Type 2 or SSAE 18 audit reports?",
        "WevoxはSAS70Type2やSSAE18の監査報告書を提供していますか？",
    ],
)
def test_wevox_item_43_is_a_conflict_between_its_two_languages(seed_assistant: Assistant, question: str) -> None:
    result = seed_assistant.ask(question)
    assert result.status == "conflict", result.reason
    assert sorted(m.row_id for m in result.conflicting) == ["wevox/meti-checksheet#43", "wevox/meti-checksheet#92"]
    assert {m.answer for m in result.conflicting} == {"無", "Yes"}


def test_a_vendor_named_in_the_question_wins_over_the_one_chosen(seed_assistant: Assistant) -> None:
    result = seed_assistant.ask("Is VoicePing ISO 27001 certified?", vendor="Wevox")
    assert (result.vendor, result.vendor_overridden) == ("VoicePing", "Wevox")
    shown = [m for m in [result.answer, *result.conflicting, *result.outdated, *result.alternatives] if m]
    assert shown
    assert all(m.citation.vendor == "VoicePing" for m in shown)
    assert result.answer is not None
    assert result.answer.row_id == f"{EN_PAGE}1"


@pytest.mark.parametrize(
    "question",
    ["Does Slack support SAML SSO?", "SlackはSAML SSOに対応していますか？", "Slack은 SAML SSO를 지원하나요?"],
)
@pytest.mark.parametrize("vendor", [None, "Wevox"])
def test_a_question_about_slack_has_no_answer(seed_assistant: Assistant, question: str, vendor: str | None) -> None:
    result = seed_assistant.ask(question, vendor=vendor)
    assert result.status == "no_answer"
    assert result.reason_code == "no_documents_for_subject"
    assert result.answer is None
    assert result.reason is not None
    assert result.reason.startswith("no documents for Slack")
