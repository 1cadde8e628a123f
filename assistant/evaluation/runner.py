"""Numbers from running labelled questions through the assistant: ranking, decisions, abstention and latency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from assistant.answers import AskResult
from assistant.corpus.models import Row
from assistant.evaluation.metrics import abstention_counts, auroc, compute, latency_summary, risk_coverage_curve
from assistant.evaluation.questions import DECISION_KINDS, EvalQuestion

RANKING_METRICS = ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10")
DEPTH = 10
#: Rows of the decisions table, in this order: the decision kinds, then the questions without one.
DECISION_ROWS = (*DECISION_KINDS, "plain answerable", "plain unanswerable")


class Asker(Protocol):
    """What the evaluation needs from the assistant."""

    threshold: float

    @property
    def rows(self) -> Iterable[Row]:
        """Every indexed row (read once per evaluation)."""
        ...

    def ask(
        self, question: str, *, vendor: str | None = None, language: str | None = None, k: int | None = None
    ) -> AskResult: ...

    def same_as(self, row_id: str) -> list[str]:
        """The rows shown as one entry with ``row_id`` (its translations and copies)."""
        ...


class Outcome(BaseModel):
    """What happened to one question."""

    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    language: str
    kind: str
    vendor: str  # the vendor asked about, or "any"
    answerable: bool
    status: str
    confidence: float
    ranked: list[str]  # row ids, best first
    relevant_flags: list[bool]
    n_relevant: int
    first_relevant_rank: int | None
    top_answer: str
    expected: list[str]
    latency_ms: float
    expected_status: str = "answered"
    decision_kind: str = "plain answerable"
    questionnaire: bool = False
    filter_language: str | None = None
    conflicting: list[str] = Field(default_factory=list)  # row ids the result shows as disagreeing
    outdated: list[str] = Field(default_factory=list)  # row ids the result shows as outdated
    expected_conflicting: list[str] = Field(default_factory=list)
    expected_outdated: list[str] = Field(default_factory=list)
    reason_code: str | None = None
    features: dict[str, float] = Field(default_factory=dict)  # what the confidence was computed from

    @property
    def correct(self) -> bool:
        """The top row is relevant (never true for an unanswerable question)."""
        return bool(self.relevant_flags) and self.relevant_flags[0]

    @property
    def decision_correct(self) -> bool:
        """The result reached the expected decision.

        answered: status "answered", the top row relevant and every expected outdated row shown as outdated;
        conflict: status "conflict" with every expected conflicting row among the result's conflicting rows;
        no_answer: status "no_answer".
        """
        if self.status != self.expected_status:
            return False
        if self.expected_status == "answered":
            return self.correct and set(self.expected_outdated) <= set(self.outdated)
        if self.expected_status == "conflict":
            return set(self.expected_conflicting) <= set(self.conflicting)
        return True

    @property
    def answered(self) -> bool:
        return self.status == "answered"


class EvalReport(BaseModel):
    """The evaluation's JSON output (``assistant eval --json``)."""

    model_config = ConfigDict(extra="forbid")

    questions_file: str
    model: str
    #: The calibration that made the decisions (`Calibration.model`: "<model>+second-opinion" when a second
    #: model was asked too), or None when there was none and the threshold is the raw score's.
    calibration: str | None = None
    threshold: float
    created_at: dt.datetime
    n_questions: int
    overall: dict[str, float]
    by_language: dict[str, dict[str, float]]
    by_vendor: dict[str, dict[str, float]]
    by_kind: dict[str, dict[str, float]]
    #: Ranking metrics of the questionnaire-style questions (tag "questionnaire") and of the others ...
    by_set: dict[str, dict[str, float]] = Field(default_factory=dict)
    #: ... and of the questionnaire-style ones per language, plus their cross-lingual subset ("cross_lingual").
    questionnaire_by_language: dict[str, dict[str, float]] = Field(default_factory=dict)
    #: Per decision kind: questions, how many reached the expected decision, accuracy, and the statuses returned.
    decisions: dict[str, dict[str, float]] = Field(default_factory=dict)
    abstention: dict[str, Any]
    latency_ms: dict[str, float]
    outcomes: list[Outcome] = Field(default_factory=list)

    def failures(self) -> list[Outcome]:
        """Answerable questions whose top row is wrong, and unanswerable questions that got an answer."""
        return [o for o in self.outcomes if (o.answerable and not o.correct) or (not o.answerable and o.answered)]

    def decision_failures(self) -> list[Outcome]:
        """Decision-case questions (not the plain ones) whose decision was not the expected one."""
        return [o for o in self.outcomes if o.decision_kind in DECISION_KINDS and not o.decision_correct]


def _vendor_of(question: EvalQuestion, rows_by_id: dict[str, Row]) -> str:
    """The vendor asked about: the one chosen (for a vendor_mismatch case the one named), else the labelled rows'."""
    if question.vendor and question.decision_kind != "vendor_mismatch":
        return question.vendor
    vendors = {rows_by_id[r].vendor for r in [*question.relevant, *question.conflicting] if r in rows_by_id}
    return vendors.pop() if len(vendors) == 1 else "any"


def _entries(asker: Asker, row_ids: list[str]) -> int:
    """How many entries the rows can take in a ranking: a row and the rows saying the same are shown as one."""
    covered: set[str] = set()
    entries = 0
    for row_id in row_ids:
        if row_id not in covered:
            entries += 1
            covered.update((row_id, *asker.same_as(row_id)))
    return entries


def run_question(asker: Asker, question: EvalQuestion, rows_by_id: dict[str, Row]) -> Outcome:
    result = asker.ask(question.question, vendor=question.vendor, language=question.filter_language, k=DEPTH)
    # The rows as shown, best first: the answer (or the disagreeing rows), then the rest.
    matches = ([result.answer] if result.answer else result.conflicting) + result.alternatives
    flags = [question.is_relevant(m.row_id, m.source_text) for m in matches]
    relevant = [r.id for r in rows_by_id.values() if question.is_relevant(r.id, r.source_text)]
    # Rows that say the same count once (they are shown as one entry); at least as many as were shown, should
    # two rows that each repeat a third but not each other both be shown.
    n_relevant = max(_entries(asker, relevant), sum(flags))
    first = next((i + 1 for i, flag in enumerate(flags) if flag), None)
    top = matches[0].answer_text().replace("\n", " / ")[:200] if matches else ""
    return Outcome(
        id=question.id,
        question=question.question,
        language=question.language,
        kind=question.question_kind,
        vendor=_vendor_of(question, rows_by_id),
        answerable=question.answerable,
        status=result.status,
        confidence=result.confidence,
        ranked=[m.row_id for m in matches],
        relevant_flags=flags,
        n_relevant=n_relevant,
        first_relevant_rank=first,
        top_answer=top,
        expected=[*question.relevant, *(f"contains {s!r}" for s in question.answer_contains)],
        latency_ms=result.timings_ms.get("total", 0.0),
        expected_status=question.status,
        decision_kind=question.decision_kind,
        questionnaire="questionnaire" in question.tags,
        filter_language=question.filter_language,
        conflicting=[m.row_id for m in result.conflicting],
        outdated=[m.row_id for m in result.outdated],
        expected_conflicting=question.conflicting,
        expected_outdated=question.outdated,
        reason_code=result.reason_code,
        features=result.features,
    )


def _ranking(outcomes: Sequence[Outcome]) -> dict[str, float]:
    answerable = [o for o in outcomes if o.answerable]
    if not answerable:
        return {"n": 0}
    runs = {o.id: o.relevant_flags for o in answerable}
    counts = {o.id: o.n_relevant for o in answerable}
    return compute(RANKING_METRICS, runs, counts)


def _grouped(outcomes: Sequence[Outcome], key: Callable[[Outcome], str]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault(key(outcome), []).append(outcome)
    result = {}
    for name in sorted(groups):
        stats = _ranking(groups[name])
        stats["questions"] = len(groups[name])
        result[name] = stats
    return result


def _questionnaire_by_language(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float]]:
    """Ranking of the questionnaire-style questions per question language, plus their cross-lingual ones."""
    questionnaire = [o for o in outcomes if o.questionnaire]
    groups = _grouped(questionnaire, lambda o: o.language)
    cross = [o for o in questionnaire if o.kind == "cross_lingual"]
    if cross:
        groups["cross_lingual"] = {**_ranking(cross), "questions": len(cross)}
    return groups


def decisions(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float]]:
    """Per decision kind (DECISION_ROWS, then "all"): questions, right decisions, accuracy, statuses returned."""
    table: dict[str, dict[str, float]] = {}
    for name in (*DECISION_ROWS, "all"):
        group = [o for o in outcomes if name in ("all", o.decision_kind)]
        if not group:
            continue
        right = sum(o.decision_correct for o in group)
        table[name] = {
            "questions": len(group),
            "correct": right,
            "accuracy": right / len(group),
            **{
                f"got_{status}": sum(o.status == status for o in group)
                for status in ("answered", "conflict", "no_answer")
            },
        }
    return table


def _auroc_of(outcomes: Sequence[Outcome]) -> float | None:
    """AUROC of the confidence, answerable vs not, or None without both kinds of question."""
    answerable = [o.answerable for o in outcomes]
    both = any(answerable) and not all(answerable)
    return auroc([o.confidence for o in outcomes], answerable) if both else None


def summarize(outcomes: Sequence[Outcome], threshold: float) -> dict[str, Any]:
    """Abstention figures: AUROC of the confidence (answerable vs not), counts at the operating point,
    and the risk–coverage curve.

    ``auroc`` leaves out the questions whose expected state is "conflict": the documents do answer them, twice
    and differently, so their first row rightly has a high confidence, and what is judged there is whether the
    disagreement is shown (the decisions table), not whether to abstain. ``auroc_all_questions`` counts them as
    unanswerable (the figure reported until 2026-11-27); ``auroc_plain`` keeps only the questions that are not
    decision cases (no stale row, conflict, other vendor or vendor mismatch).
    """
    answerable = [o.answerable for o in outcomes]
    counts = abstention_counts([o.answered for o in outcomes], [o.correct for o in outcomes], answerable)
    confidences = [o.confidence for o in outcomes]
    return {
        "auroc": _auroc_of([o for o in outcomes if o.expected_status != "conflict"]),
        "auroc_all_questions": _auroc_of(outcomes),
        "auroc_plain": _auroc_of([o for o in outcomes if o.decision_kind not in DECISION_KINDS]),
        "threshold": threshold,
        **counts,
        "risk_coverage": [list(p) for p in risk_coverage_curve(confidences, [o.correct for o in outcomes])],
    }


def evaluate(
    asker: Asker,
    questions: Iterable[EvalQuestion],
    *,
    questions_file: str,
    model: str,
    calibration: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Run every question and compute the report."""
    questions = list(questions)
    rows_by_id = {row.id: row for row in asker.rows}
    unknown = sorted({r for q in questions for r in q.relevant if r not in rows_by_id})
    if unknown:
        raise ValueError(
            f"{questions_file}: relevant ids not in the index: {', '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        )
    outcomes = []
    for done, question in enumerate(questions, start=1):
        outcomes.append(run_question(asker, question, rows_by_id))
        if progress:
            progress(done, len(questions))
    return EvalReport(
        questions_file=questions_file,
        model=model,
        calibration=calibration,
        threshold=asker.threshold,
        created_at=dt.datetime.now(dt.UTC),
        n_questions=len(outcomes),
        overall=_ranking(outcomes),
        by_language=_grouped(outcomes, lambda o: o.language),
        by_vendor=_grouped(outcomes, lambda o: o.vendor),
        by_kind=_grouped(outcomes, lambda o: o.kind),
        by_set=_grouped(outcomes, lambda o: "questionnaire" if o.questionnaire else "other"),
        questionnaire_by_language=_questionnaire_by_language(outcomes),
        decisions=decisions(outcomes),
        abstention=summarize(outcomes, asker.threshold),
        latency_ms=latency_summary([o.latency_ms for o in outcomes]),
        outcomes=outcomes,
    )
