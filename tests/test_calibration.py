"""The calibrated confidence's inputs: the features the decision records and the examples the fit is given."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.calibration import Calibration
from assistant.decision import SETTING_CONCEPTS, Placed, features, question_features
from assistant.evaluation.questions import EvalQuestion
from assistant.fusion import Hit
from assistant.glossary import default_glossary
from assistant.retrieval import Assistant
from assistant.settings import Settings
from evals.calibrate import answer_rows, first_row_answers, without_answers

from conftest import KUMO_SHEET, WriteCorpus, hashing_over

SHEET = (
    "No.\tサービスレベル項目\t規定内容\t回答\n"
    "1\tバックアップ世代数\t保証する世代数\t7世代\n"
    "2\t暗号化\t通信を暗号化している\t有\n"
    "No.\tSubcategory\tCheck Details\tOur Answer\n"
    "1\tBackup generations\tHow many generations of backups are kept?\tSeven generations\n"
    "2\tEncryption\tIs data encrypted in transit?\tYes, TLS 1.2 or later\n"
)


@pytest.fixture
def sheet(write_corpus: WriteCorpus, tmp_path: Path) -> Settings:
    return hashing_over(write_corpus([KUMO_SHEET], {"kumo/sheet.tsv": SHEET}), tmp_path)


def _placed(position: int, score: float, dense: float, concepts: float) -> Placed:
    return Placed(Hit(position, score, {"dense": dense, "concepts": concepts}))


def test_the_features_say_by_how_much_the_first_row_leads_in_each_signal() -> None:
    placed = [_placed(0, 0.9, 0.80, 0.5), _placed(1, 0.7, 0.85, 0.2), _placed(2, 0.6, 0.95, 1.0)]
    # Row 2 is the first row's translation: a copy does not compete with it.
    found = features(placed, placed[0], {"r2"}, lambda position: f"r{position}")
    assert found["dense_gap"] == pytest.approx(-0.05)
    assert found["concepts_gap"] == pytest.approx(0.3)
    assert (found["dense_first"], found["concepts_first"], found["signals_first"]) == (0.0, 1.0, 1.0)
    assert found["margin"] == pytest.approx(0.2)
    alone = features(placed[:1], placed[0], set(), lambda position: f"r{position}")
    assert (alone["dense_gap"], alone["signals_first"]) == (0.8, 2.0)  # nothing to lead: the row's own score


def test_the_question_features_read_its_concepts_and_its_length_per_language() -> None:
    half = question_features("Are backups encrypted?", "en", "Backups are kept for 30 days")
    assert half["question_concepts"] == 2.0
    assert half["concept_coverage"] == 0.5
    weather = question_features("What is the weather today?", "en", "Backups")
    assert (weather["question_concepts"], weather["concept_coverage"]) == (0.0, 0.0)
    assert question_features("2FA?", "en", "")["short_question"] == 1.0
    japanese = "バックアップは何世代保持していますか"  # 18 characters: short in English, not in Japanese
    assert question_features(japanese, "ja", "")["short_question"] == 0.0
    assert question_features(japanese, "en", "")["short_question"] == 1.0
    assert question_features("x" * 60, "ko", "")["long_question"] == 1.0
    assert question_features("x" * 60, "en", "")["long_question"] == 0.0


def test_a_number_or_code_the_question_names_and_the_row_lacks_is_a_mismatch() -> None:
    row = "公的認証 | 有 | 認証基準：ISO/IEC 27001:2013 / JIS Q 27001:2014 認証登録番号：JQA-IM2024"

    def mismatch(question: str) -> float:
        return question_features(question, None, row)["code_mismatch"]

    assert mismatch("Is Wevox certified for ISO 27701?") == 1.0
    assert mismatch("Is Wevox ISO 27001 certified?") == 0.0
    assert mismatch("ＩＳＯ２７００１を取得していますか") == 0.0  # full-width digits read as digits
    assert mismatch("ISMS-P 인증 있어요?") == 1.0  # ISMS-P is not the ISMS the row names
    assert mismatch("ISMS 인증 있어요?") == 0.0  # no code: left to the other features
    assert mismatch("Has your ISO 27001 certificate been renewed since 2023?") == 0.0  # years are not codes
    assert mismatch("PCI\u2212DSS?") == mismatch("ISMS\uff0dP?") == 1.0  # a minus sign or full-width hyphen
    assert mismatch("Do you encrypt with AES-256?") == 1.0
    assert mismatch("Is TLS 1.2 supported on the front-end?") == 0.0  # short versions and words are not codes


def test_a_kind_of_fact_the_question_asks_for_and_the_answer_lacks_is_missing() -> None:
    row = "ウィルススキャン有無 (頻度) | 有"  # the row's own question names the frequency; its answer does not

    def missing(question: str, answer: str) -> float:
        return question_features(question, "en", row, answer)["kind_missing"]

    assert missing("How often do you scan for viruses?", "有") == 1.0
    assert missing("How often do you scan for viruses?", "毎日 (daily)") == 0.0
    assert question_features("How often do you scan for viruses?", "en", row)["kind_missing"] == 1.0
    assert missing("ウイルススキャンの頻度は？", "コンテナイメージをビルドするたびにスキャン") == 0.0
    assert missing("로그는 얼마나 오래 보관하나요?", "永続的にS3に保存") == 0.0
    assert missing("로그는 얼마나 오래 보관하나요?", "S3에 보관") == 1.0
    assert missing("What is the support email address?", "Contact form or in-app chat") == 1.0
    assert missing("What is the support email address?", "support@example.co.jp") == 0.0
    assert missing("How many generations of backups are kept?", "Not disclosed") == 0.0  # the vendor's answer
    assert missing("Do you scan for viruses?", "有") == 0.0  # a yes/no question asks for no kind


def test_a_question_of_only_when_where_and_who_with_no_vendor_has_no_subject(sheet: Settings) -> None:
    assistant = Assistant.load(sheet)

    def subject(question: str, vendor: str | None = None) -> tuple[float, float]:
        features = assistant.ask(question, vendor=vendor).features
        return features["settings_only"], features["no_subject"]

    assert subject("What's the weather in Tokyo this weekend?") == (1.0, 1.0)  # japan, weekend: settings only
    assert subject("Kumoは土日も使えますか？") == (1.0, 0.0)  # the vendor is its subject
    assert subject("Can we use it at weekends?", vendor="Kumo") == (1.0, 0.0)  # chosen in the UI
    assert subject("How many backup generations are kept at weekends?") == (0.0, 0.0)  # backups are a subject
    assert subject("Who are you?") == (0.0, 0.0)  # no concept at all: question_concepts says so


def test_every_setting_concept_is_a_concept_of_the_glossary() -> None:
    concepts = default_glossary().ids
    assert concepts >= SETTING_CONCEPTS, SETTING_CONCEPTS - concepts  # a misspelt one would never match


def test_the_rows_taken_away_are_the_answer_and_every_copy_of_it(sheet: Settings) -> None:
    assistant = Assistant.load(sheet)
    asked = "How many generations of backups are kept?"
    question = EvalQuestion(id="en-1", question=asked, language="en", relevant=["kumo/sheet#3"])
    assert answer_rows(assistant, question) == ["kumo/sheet#1", "kumo/sheet#3"]  # the JA twin too
    stripped = without_answers(assistant, [question])[0]
    assert first_row_answers(stripped) is False
    assert stripped.ranked
    assert set(stripped.ranked).isdisjoint({"kumo/sheet#1", "kumo/sheet#3"})
    assert "concept_coverage" in stripped.features
    # As asked, the same question finds its answer: only the taken-away rows make the difference.
    assert assistant.ask(question.question).answer is not None
    unanswerable = EvalQuestion(id="na-1", question="Do you have a SOC 2 report?", language="en")
    assert without_answers(assistant, [unanswerable]) == []  # only answerable questions are asked again


def test_the_rows_taken_away_are_ranked_with_the_weights_of_the_asked_questions(sheet: Settings) -> None:
    # A cross-fit fold's model has no fusion file: its assistant gets its weights from the tuned default. The
    # copies without answer rows must fuse with those too, or their score alone tells the fit which they are.
    assistant = Assistant.load(sheet)
    assistant.weights = {name: 0.5 + 0.25 * i for i, name in enumerate(assistant.weights)}
    asked = "How many generations of backups are kept?"
    question = EvalQuestion(id="en-1", question=asked, language="en", relevant=["kumo/sheet#3"])
    stripped = without_answers(assistant, [question])[0]
    fused = sum(weight * stripped.features[name] for name, weight in assistant.weights.items())
    assert stripped.features["score"] == pytest.approx(fused, abs=1e-3)


def test_a_question_about_a_company_without_documents_has_no_confidence(sheet: Settings) -> None:
    result = Assistant.load(sheet).ask("Does Slack keep seven generations of backups?")
    assert (result.status, result.reason_code) == ("no_answer", "no_documents_for_subject")
    assert result.confidence == 0.0
    assert Assistant.load(sheet).ask("Does Kumo keep seven generations of backups?").confidence > 0.0


def test_the_tuned_default_is_calibrated_out_of_fold_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from evals import calibrate

    monkeypatch.delenv("ASSISTANT_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env or assistant.toml choosing another model
    with pytest.raises(SystemExit) as refused:
        calibrate.main(["--out", str(tmp_path / "out"), "--report", str(tmp_path / "report")])
    assert refused.value.code == 2
    assert "fit it out of fold with --cross-fit XDIR" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    cross_fit = tmp_path / "xfit"
    cross_fit.mkdir()
    (cross_fit / "cross-fit.json").write_text('{"sha256": "of other questions", "folds": 5}', encoding="utf-8")
    with pytest.raises(SystemExit) as refused:
        calibrate.main(["--cross-fit", str(cross_fit), "--out", str(tmp_path / "out")])
    assert refused.value.code == 2
    assert "is not a cross-fit of these questions" in capsys.readouterr().err


def test_a_second_opinion_is_asked_over_its_own_index(sheet: Settings) -> None:
    plain = Assistant.load(sheet)  # "none" by default; "auto" gives the tuned default model the untuned one
    assert plain.second_opinion is None
    assert plain.calibration_name == "hashing"
    assert "second_opinion" not in plain.ask("How many generations of backups are kept?").features
    assistant = Assistant.load(sheet.model_copy(update={"second_opinion": "hashing"}))
    # The confidence is calibrated with the second opinion or not at all: hashing has no such calibration.
    assert assistant.calibration_name == "hashing+second-opinion"
    assert assistant.calibration is None
    assert "no calibration for model 'hashing+second-opinion'" in assistant.warnings[0]
    second = assistant.second_opinion
    assert second is not None
    assert second.settings.index_dir == sheet.index_dir / "second-opinion"
    assert (sheet.index_dir / "second-opinion" / "current").is_dir()
    assert second.second_opinion is None
    # The same model agrees with itself, also when its first row is the other language's part of the item.
    result = assistant.ask("How many generations of backups are kept?")
    assert result.features["second_opinion"] == 1.0


def test_a_second_opinion_that_puts_another_row_first_disagrees(
    sheet: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assistant = Assistant.load(sheet.model_copy(update={"second_opinion": "hashing"}))
    second = assistant.second_opinion
    assert second is not None
    rank = second._rank
    # Scores negated: its first row is the one it finds least like the question.
    monkeypatch.setattr(second, "_rank", lambda *args: [replace(hit, score=-hit.score) for hit in rank(*args)])
    result = assistant.ask("How many generations of backups are kept?")
    assert result.answer is not None
    assert result.answer.row_id == "kumo/sheet#3"
    assert result.features["second_opinion"] == 0.0


def test_the_second_opinion_does_not_see_the_rows_taken_away(sheet: Settings) -> None:
    assistant = Assistant.load(sheet.model_copy(update={"second_opinion": "hashing"}))
    asked = "How many generations of backups are kept?"
    question = EvalQuestion(id="en-1", question=asked, language="en", relevant=["kumo/sheet#3"])
    stripped = without_answers(assistant, [question])[0]
    # Both search without the answer rows, so both put the same other row first.
    assert stripped.ranked
    assert set(stripped.ranked).isdisjoint({"kumo/sheet#1", "kumo/sheet#3"})
    assert stripped.features["second_opinion"] == 1.0


def _leaning(intercept: float, weight: float) -> Calibration:
    """A calibration on the second opinion alone: ``intercept`` plus ``weight`` when it agrees (-weight if not)."""
    return Calibration(
        model="hashing+second-opinion",
        features=["second_opinion"],
        means=[0.5],
        scales=[0.5],
        coefficients=[weight],
        intercept=intercept,
        threshold=0.5,
        target_false_answer_rate=0.05,
    )


@pytest.mark.parametrize(
    ("intercept", "weight", "asked", "status"),
    [
        (0.0, 3.0, True, "answered"),  # its opinion decides: asked (the same model agrees with itself)
        (5.0, 3.0, False, "answered"),  # answered either way
        (-5.0, 3.0, False, "no_answer"),  # not answered either way
    ],
)
def test_the_second_opinion_is_asked_only_where_it_decides(
    sheet: Settings, monkeypatch: pytest.MonkeyPatch, intercept: float, weight: float, asked: bool, status: str
) -> None:
    assistant = Assistant.load(sheet.model_copy(update={"second_opinion": "hashing"}))
    assistant.calibration = _leaning(intercept, weight)
    assistant.threshold = assistant.calibration.threshold
    calls: list[str] = []
    agrees = assistant._second_opinion_agrees

    def counted(*args: Any) -> float:
        calls.append("asked")
        return agrees(*args)

    monkeypatch.setattr(assistant, "_second_opinion_agrees", counted)
    question = "How many generations of backups are kept?"
    result = assistant.ask(question)
    assert (result.status, calls) == (status, ["asked"] if asked else [])
    assert result.features["second_opinion_asked"] == float(asked)
    # Not asked, it counts as disagreeing: the confidence is the lower of the two it could have been.
    expected = assistant.calibration.probability({"second_opinion": 1.0 if asked else 0.0})
    assert result.confidence == pytest.approx(expected, abs=1e-4)
    assistant.ask_second_opinion_always = True  # as when fitting: asked, and it agrees
    always = assistant.ask(question)
    assert (always.status, always.features["second_opinion"], len(calls)) == (status, 1.0, 2 if asked else 1)
