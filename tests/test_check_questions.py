"""evals/check_questions.py: the shipped question files pass, and bad decision labels are reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.check_questions import main

WEVOX_43 = ["wevox/meti-checksheet#43", "wevox/meti-checksheet#92"]


def test_the_shipped_question_files_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quiet"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert "ok   questionnaire >= 100" in out
    assert "ok   in_version_conflict >= 10" in out


@pytest.mark.parametrize(
    ("question", "error"),
    [
        (  # a vendor chosen although the text names one, without the vendor_mismatch tag
            {"question": "Is VoicePing ISO certified?", "vendor": "Wevox",
             "relevant": ["voiceping/security-page-en#1"]},
            "use null, or tag vendor_mismatch",
        ),
        (  # a mismatch case labelled with the chosen vendor's row instead of the named vendor's
            {"question": "Is VoicePing ISO certified?", "vendor": "Wevox", "relevant": ["wevox/meti-checksheet#88"],
             "tags": ["vendor_mismatch"]},
            "relevant rows must be the named vendor's (VoicePing) only",
        ),
        (  # rows of two vendors cannot be a conflict
            {"question": "SAS 70?", "expected_status": "conflict", "tags": ["in_version_conflict"],
             "conflicting": ["wevox/meti-checksheet#43", "voiceping/security-page-en#1"]},
            "conflicting rows must all be of one vendor",
        ),
        (  # an older document's row against the newer one is stale, not a conflict
            {"question": "ISMS?", "expected_status": "conflict", "tags": ["in_version_conflict"],
             "conflicting": ["voiceping/security-checksheet-ja#1", "voiceping/security-page-ja#1"]},
            "must be in current documents",
        ),
        (  # the current page cannot be outdated
            {"question": "ISMS?", "language": "ja", "relevant": ["voiceping/security-page-en#1"],
             "outdated": ["voiceping/security-page-en#2"]},
            "outdated rows must be in a document that a newer one supersedes",
        ),
        (  # under a Japanese filter the outdated rows are the Japanese ones
            {"question": "ISMS?", "language": "ja", "relevant": ["voiceping/security-page-en#1"],
             "outdated": ["voiceping/security-page-ko#1"], "filter_language": "ja", "tags": ["stale_language_filter"]},
            "the outdated rows are the ones the filter would pick",
        ),
        (
            {"question": "ISMS?", "language": "ja", "relevant": ["voiceping/security-page-en#1"],
             "filter_language": "fr"},
            "filter_language 'fr': no row is in that language",
        ),
        (
            {"question": "Does Slack support SAML?", "relevant": ["wevox/meti-checksheet#72"],
             "tags": ["other_vendor"]},
            'other_vendor questions expect "no_answer"',
        ),
        (
            {"question": "Backups?", "relevant": ["wevox/meti-checksheet#81"], "tags": ["no_vendor"]},
            "relevant rows of at least two vendors",
        ),
        (
            {"question": "SAS 70?", "expected_status": "conflict", "conflicting": WEVOX_43},
            "tag in_version_conflict and expected_status",
        ),
    ],
)  # fmt: skip
def test_bad_decision_labels_are_errors(
    question: dict[str, object], error: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"id": "q1", "language": "en", **question}, ensure_ascii=False) + "\n", "utf-8")
    assert main([str(path), "--quiet"]) == 1
    errors = [line for line in capsys.readouterr().out.splitlines() if line.startswith("ERROR")]
    assert any(error in line for line in errors), errors


def test_a_good_conflict_and_stale_case_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        {"id": "q1", "question": "SAS 70?", "language": "en", "vendor": "Wevox", "expected_status": "conflict",
         "conflicting": WEVOX_43, "tags": ["in_version_conflict"]},
        {"id": "q2", "question": "ISMS?", "language": "ja", "vendor": "VoicePing",
         "relevant": ["voiceping/security-page-en#1"], "filter_language": "ja",
         "outdated": ["voiceping/security-page-ja#1", "voiceping/security-checksheet-ja#1"],
         "tags": ["stale_language_filter"]},
    ]  # fmt: skip
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in lines), "utf-8")
    assert main([str(path), "--quiet"]) == 0, capsys.readouterr().out
