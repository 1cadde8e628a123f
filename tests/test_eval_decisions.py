"""The evaluation scores decisions (answered / conflict / no answer), checked with a scripted fake assistant."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from pydantic import ValidationError

from assistant.answers import AskResult, Citation, Match, Status
from assistant.corpus.models import Row
from assistant.evaluation.questions import EvalQuestion
from assistant.evaluation.report import markdown_report
from assistant.evaluation.runner import EvalReport, evaluate

# A tiny two-vendor corpus: Acme's current English sheet, its older Japanese page, a bilingual sheet whose
# item 43 disagrees with itself, and Zeta's sheet.
ROW_TEXTS = {
    "acme/sheet-en#1": ("en", "ISO 27001 certified (IS 1234)"),
    "acme/page-ja#1": ("ja", "ISMS取得予定"),
    "acme/sheet-ja#1": ("ja", "無 ISMS準備中"),
    "acme/bi#43": ("ja", "無"),
    "acme/bi#92": ("en", "Yes"),
    "acme/sheet-en#2": ("en", "Daily backups"),
    "acme/sheet-ja#2": ("ja", "日次バックアップ"),
    "zeta/sheet#1": ("en", "ISO 27001 (Z-9)"),
}


def _row(row_id: str) -> Row:
    language, text = ROW_TEXTS[row_id]
    vendor_id = row_id.split("/")[0]
    return Row(
        id=row_id,
        vendor=vendor_id.title(),
        vendor_id=vendor_id,
        document_id=row_id.split("#")[0],
        language=language,
        kind="sheet_row",
        answer=text,
        source_text=text,
        line_start=1,
        line_end=1,
    )


ROWS = {row_id: _row(row_id) for row_id in ROW_TEXTS}


def _match(row_id: str, rank: int = 1) -> Match:
    row = ROWS[row_id]
    citation = Citation(
        vendor=row.vendor,
        vendor_id=row.vendor_id,
        document_id=row.document_id,
        document_title=row.document_id,
        file=f"{row.document_id}.tsv",
        row_id=row_id,
        section=[],
        line_start=1,
        line_end=1,
        language=row.language,
    )
    return Match(
        rank=rank,
        row_id=row_id,
        score=0.9,
        signals={"dense": 0.9, "lexical": 0.5},
        kind=row.kind,
        item="",
        question="",
        answer=row.answer,
        detail="",
        notes="",
        source_text=row.source_text,
        citation=citation,
    )


@dataclass(frozen=True)
class Scripted:
    """What the fake assistant returns for one question."""

    status: Status
    ranked: tuple[str, ...] = ()  # answer (when answered) then alternatives
    conflicting: tuple[str, ...] = ()
    outdated: tuple[str, ...] = ()
    confidence: float | None = None  # default: 0.9 when answered, else 0.1


@dataclass
class FakeAsker:
    """Returns the scripted result for each question text and records how it was called."""

    script: dict[str, Scripted]
    threshold: float = 0.5
    rows: tuple[Row, ...] = tuple(ROWS.values())
    calls: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    translated: dict[str, list[str]] = field(default_factory=dict)  # row id -> the rows saying the same

    def same_as(self, row_id: str) -> list[str]:
        return self.translated.get(row_id, [])

    def ask(
        self, question: str, *, vendor: str | None = None, language: str | None = None, k: int | None = None
    ) -> AskResult:
        self.calls.append((question, vendor, language))
        plan = self.script[question]
        matches = [_match(row_id, rank) for rank, row_id in enumerate(plan.ranked, start=1)]
        answered = plan.status == "answered"
        return AskResult(
            question=question,
            status=plan.status,
            answer=matches[0] if answered and matches else None,
            alternatives=matches[1:] if answered else matches,
            conflicting=[_match(r) for r in plan.conflicting],
            outdated=[_match(r) for r in plan.outdated],
            confidence=plan.confidence if plan.confidence is not None else 0.9 if answered else 0.1,
            threshold=self.threshold,
            k=k or 10,
            model="fake",
            index_built_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )


STALE = EvalQuestion(
    id="s1",
    question="ISMS認証は?",
    language="ja",
    relevant=["acme/sheet-en#1"],
    outdated=["acme/page-ja#1", "acme/sheet-ja#1"],
    filter_language="ja",
    tags=["stale_language_filter"],
)
CONFLICT = EvalQuestion(
    id="c1",
    question="SAS 70 report?",
    language="en",
    vendor="Acme",
    expected_status="conflict",
    conflicting=["acme/bi#43", "acme/bi#92"],
    tags=["in_version_conflict"],
)
OTHER = EvalQuestion(id="o1", question="Does Slack support SAML?", language="en", tags=["other_vendor"])
PLAIN = EvalQuestion(id="p1", question="Backups?", language="en", vendor="Acme", relevant=["acme/sheet-en#2"])
NO_VENDOR = EvalQuestion(
    id="n1",
    question="ISO 27001?",
    language="en",
    relevant=["acme/sheet-en#1", "zeta/sheet#1"],
    tags=["no_vendor", "questionnaire"],
)


def _report(questions: list[EvalQuestion], script: dict[str, Scripted]) -> tuple[EvalReport, FakeAsker]:
    asker = FakeAsker(script)
    return evaluate(asker, questions, questions_file="q.jsonl", model="fake"), asker


def _right(question: EvalQuestion, plan: Scripted) -> bool:
    report, _ = _report([question], {question.question: plan})
    return report.outcomes[0].decision_correct


# --- one rule at a time ----------------------------------------------------------------------------------


def test_expected_answer_needs_status_answered_and_a_relevant_first_row() -> None:
    assert _right(PLAIN, Scripted("answered", ("acme/sheet-en#2", "acme/sheet-en#1")))
    assert not _right(PLAIN, Scripted("answered", ("acme/sheet-en#1", "acme/sheet-en#2")))  # right row second
    assert not _right(PLAIN, Scripted("no_answer", ("acme/sheet-en#2",)))  # right row, but withheld
    assert not _right(PLAIN, Scripted("conflict", (), conflicting=("acme/bi#43", "acme/bi#92")))


def test_stale_case_needs_every_outdated_row_shown() -> None:
    current = ("acme/sheet-en#1",)
    assert _right(STALE, Scripted("answered", current, outdated=("acme/sheet-ja#1", "acme/page-ja#1")))
    assert not _right(STALE, Scripted("answered", current))  # the current fact, but the stale rows not flagged
    assert not _right(STALE, Scripted("answered", current, outdated=("acme/page-ja#1",)))  # one of two
    # the stale row answered (flagged or not) is wrong
    assert not _right(STALE, Scripted("answered", ("acme/page-ja#1",), outdated=("acme/sheet-ja#1",)))


def test_conflict_needs_status_conflict_with_every_disagreeing_row() -> None:
    both = ("acme/bi#43", "acme/bi#92")
    assert _right(CONFLICT, Scripted("conflict", (), conflicting=both))
    assert _right(CONFLICT, Scripted("conflict", (), conflicting=(*both, "acme/sheet-en#1")))  # extra rows allowed
    assert not _right(CONFLICT, Scripted("conflict", (), conflicting=("acme/bi#92",)))
    assert not _right(CONFLICT, Scripted("answered", ("acme/bi#92",)))  # one side answered as the fact
    assert not _right(CONFLICT, Scripted("no_answer", both))


def test_expected_no_answer_needs_status_no_answer() -> None:
    assert _right(OTHER, Scripted("no_answer", ("acme/sheet-en#1",)))
    assert not _right(OTHER, Scripted("answered", ("acme/sheet-en#1",)))
    assert not _right(OTHER, Scripted("conflict", (), conflicting=("acme/bi#43", "acme/bi#92")))


def test_filter_language_and_vendor_are_passed_to_ask_and_results_recorded() -> None:
    plan = Scripted("answered", ("acme/sheet-en#1",), outdated=("acme/page-ja#1",))
    report, asker = _report([STALE, PLAIN], {STALE.question: plan, PLAIN.question: Scripted("no_answer")})
    assert asker.calls == [(STALE.question, None, "ja"), (PLAIN.question, "Acme", None)]
    stale = report.outcomes[0]
    assert (stale.expected_status, stale.decision_kind, stale.filter_language) == (
        "answered",
        "stale_language_filter",
        "ja",
    )
    assert stale.outdated == ["acme/page-ja#1"]
    assert stale.expected_outdated == ["acme/page-ja#1", "acme/sheet-ja#1"]
    assert stale.conflicting == []


def test_a_vendor_mismatch_case_is_asked_with_the_chosen_vendor_and_counted_for_the_named_one() -> None:
    mismatch = EvalQuestion(
        id="m1",
        question="Is Acme ISO 27001 certified?",
        language="en",
        vendor="Zeta",
        relevant=["acme/sheet-en#1"],
        tags=["vendor_mismatch"],
    )
    report, asker = _report([mismatch], {mismatch.question: Scripted("answered", ("zeta/sheet#1",))})
    assert asker.calls == [(mismatch.question, "Zeta", None)]
    assert report.outcomes[0].vendor == "Acme"
    assert not report.outcomes[0].decision_correct  # answered from the chosen vendor's row
    assert report.decisions["vendor_mismatch"]["correct"] == 0


# --- the report ------------------------------------------------------------------------------------------


def test_decisions_table_counts_by_kind() -> None:
    plain_wrong = EvalQuestion(id="p2", question="Backups again?", language="en", relevant=["acme/sheet-en#2"])
    script = {
        STALE.question: Scripted("answered", ("acme/sheet-en#1",)),  # wrong: outdated rows not shown
        CONFLICT.question: Scripted("conflict", (), conflicting=("acme/bi#43", "acme/bi#92")),  # right
        OTHER.question: Scripted("answered", ("acme/sheet-en#1",)),  # wrong
        PLAIN.question: Scripted("answered", ("acme/sheet-en#2",)),  # right
        plain_wrong.question: Scripted("no_answer", ("acme/sheet-en#2",)),  # wrong
        NO_VENDOR.question: Scripted("answered", ("zeta/sheet#1",)),  # right
    }
    report, _ = _report([STALE, CONFLICT, OTHER, PLAIN, plain_wrong, NO_VENDOR], script)
    table = report.decisions
    assert list(table) == [
        "stale_language_filter", "in_version_conflict", "other_vendor", "no_vendor", "plain answerable", "all",
    ]  # fmt: skip
    assert table["stale_language_filter"] == {
        "questions": 1, "correct": 0, "accuracy": 0.0, "got_answered": 1, "got_conflict": 0, "got_no_answer": 0,
    }  # fmt: skip
    assert table["in_version_conflict"]["correct"] == 1
    assert table["plain answerable"] == {
        "questions": 2, "correct": 1, "accuracy": 0.5, "got_answered": 1, "got_conflict": 0, "got_no_answer": 1,
    }  # fmt: skip
    assert table["all"]["questions"] == 6
    assert table["all"]["correct"] == 3  # conflict, plain, no_vendor
    assert table["all"]["accuracy"] == 0.5
    assert [o.id for o in report.decision_failures()] == ["s1", "o1"]  # plain questions are listed elsewhere

    markdown = markdown_report(report)
    assert "| in_version_conflict | 1 | 1 | 1.000 | 0 | 1 | 0 |" in markdown
    assert (
        "| s1 | stale_language_filter | ISMS認証は? | answered, outdated acme/page-ja#1, acme/sheet-ja#1 |" in markdown
    )


def test_conflict_questions_stay_out_of_the_ranking_metrics() -> None:
    script = {
        CONFLICT.question: Scripted("conflict", (), conflicting=("acme/bi#43", "acme/bi#92")),
        PLAIN.question: Scripted("answered", ("acme/sheet-en#1", "acme/sheet-en#2")),  # right row second
    }
    report, _ = _report([CONFLICT, PLAIN], script)
    assert report.overall == {
        "hit@1": 0.0,
        "hit@3": 1.0,
        "hit@5": 1.0,
        "mrr@10": 0.5,
        "ndcg@10": pytest.approx(0.6309, abs=1e-4),
        "n": 1,
    }


def test_the_abstention_auroc_leaves_out_the_expected_conflicts_and_says_so() -> None:
    unanswerable = EvalQuestion(id="u1", question="Bug bounty?", language="en", vendor="Acme")
    script = {
        PLAIN.question: Scripted("answered", ("acme/sheet-en#2",), confidence=0.8),
        unanswerable.question: Scripted("no_answer", ("acme/sheet-en#2",), confidence=0.3),
        # The disagreeing rows do answer the question: a high confidence, and the conflict shown.
        CONFLICT.question: Scripted("conflict", (), conflicting=("acme/bi#43", "acme/bi#92"), confidence=0.95),
        OTHER.question: Scripted("answered", ("acme/sheet-en#1",), confidence=0.85),  # a confident wrong answer
    }
    report, _ = _report([PLAIN, unanswerable, CONFLICT, OTHER], script)
    abstention = report.abstention
    assert abstention["auroc"] == pytest.approx(0.5)  # 0.8 against 0.3 and 0.85
    assert abstention["auroc_all_questions"] == pytest.approx(1 / 3)  # ... and against the conflict's 0.95
    assert abstention["auroc_plain"] == pytest.approx(1.0)  # 0.8 against 0.3 only
    assert "over every question 0.333" in markdown_report(report)


def test_a_row_and_its_translation_count_as_one_entry_of_the_ideal_ranking() -> None:
    both = EvalQuestion(id="b1", question="Backups?", language="en", relevant=["acme/sheet-en#2", "acme/sheet-ja#2"])
    plan = {both.question: Scripted("answered", ("acme/sheet-en#2", "acme/sheet-en#1"))}
    asker = FakeAsker(plan, translated={"acme/sheet-en#2": ["acme/sheet-ja#2"], "acme/sheet-ja#2": ["acme/sheet-en#2"]})
    folded = evaluate(asker, [both], questions_file="q.jsonl", model="fake")
    assert folded.outcomes[0].n_relevant == 1
    assert folded.overall["ndcg@10"] == 1.0  # the translation was shown, on the answer: nothing is missing
    listed = evaluate(FakeAsker(plan), [both], questions_file="q.jsonl", model="fake")
    assert listed.outcomes[0].n_relevant == 2
    assert listed.overall["ndcg@10"] < 1.0


def test_questionnaire_questions_are_reported_apart() -> None:
    cross = EvalQuestion(
        id="q2",
        question="ISO 인증?",
        language="ko",
        relevant=["zeta/sheet#1"],
        kind="cross_lingual",
        tags=["questionnaire"],
    )
    script = {
        NO_VENDOR.question: Scripted("answered", ("zeta/sheet#1",)),
        cross.question: Scripted("answered", ("acme/sheet-en#1", "zeta/sheet#1")),
        PLAIN.question: Scripted("answered", ("acme/sheet-en#1",)),
    }
    report, _ = _report([NO_VENDOR, cross, PLAIN], script)
    assert report.by_set["questionnaire"]["hit@1"] == 0.5  # NO_VENDOR right, the Korean one second
    assert report.by_set["questionnaire"]["questions"] == 2
    assert report.by_set["other"]["hit@1"] == 0.0
    assert set(report.questionnaire_by_language) == {"en", "ko", "cross_lingual"}
    assert report.questionnaire_by_language["cross_lingual"]["mrr@10"] == 0.5
    assert report.questionnaire_by_language["en"]["hit@1"] == 1.0


# --- the question fields ---------------------------------------------------------------------------------


def test_expected_status_defaults_from_the_labels() -> None:
    assert PLAIN.status == "answered"
    assert OTHER.status == "no_answer"
    assert CONFLICT.status == "conflict"
    assert not CONFLICT.answerable
    assert (PLAIN.decision_kind, OTHER.decision_kind, CONFLICT.decision_kind) == (
        "plain answerable",
        "other_vendor",
        "in_version_conflict",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"expected_status": "conflict", "conflicting": ["a#1"]}, "at least two rows in conflicting"),
        ({"expected_status": "conflict", "conflicting": ["a#1", "a#2"], "relevant": ["a#3"]}, "leave relevant"),
        ({"expected_status": "answered"}, "needs relevant rows"),
        ({"expected_status": "no_answer", "answer_contains": ["7世代"]}, "leave relevant"),
        ({"conflicting": ["a#1", "a#2"], "relevant": ["a#3"]}, "only for expected_status"),
        ({"outdated": ["a#1"]}, "needs relevant rows"),
        ({"outdated": ["a#1"], "relevant": ["a#1"]}, "both relevant and outdated"),
        ({"filter_language": "japanese", "relevant": ["a#1"]}, "filter_language"),
    ],
)
def test_inconsistent_decision_labels_are_rejected(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EvalQuestion.model_validate({"id": "x", "question": "q?", "language": "en", **fields})
