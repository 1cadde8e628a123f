"""Numbers from running labelled questions through the assistant: ranking, abstention and latency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from assistant.answers import AskResult
from assistant.corpus.models import Row
from assistant.evaluation.metrics import abstention_counts, auroc, compute, latency_summary, risk_coverage_curve
from assistant.evaluation.questions import EvalQuestion

RANKING_METRICS = ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10")
DEPTH = 10


class Asker(Protocol):
    """What the evaluation needs from the assistant."""

    rows: tuple[Row, ...]
    threshold: float

    def ask(
        self, question: str, *, vendor: str | None = None, language: str | None = None, k: int | None = None
    ) -> AskResult: ...


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

    @property
    def correct(self) -> bool:
        """The top row is relevant (never true for an unanswerable question)."""
        return bool(self.relevant_flags) and self.relevant_flags[0]

    @property
    def answered(self) -> bool:
        return self.status == "answered"


class EvalReport(BaseModel):
    """The evaluation's JSON output (``assistant eval --json``)."""

    model_config = ConfigDict(extra="forbid")

    questions_file: str
    model: str
    threshold: float
    created_at: dt.datetime
    n_questions: int
    overall: dict[str, float]
    by_language: dict[str, dict[str, float]]
    by_vendor: dict[str, dict[str, float]]
    by_kind: dict[str, dict[str, float]]
    abstention: dict[str, Any]
    latency_ms: dict[str, float]
    outcomes: list[Outcome] = Field(default_factory=list)

    def failures(self) -> list[Outcome]:
        """Answerable questions whose top row is wrong, and unanswerable questions that got an answer."""
        return [o for o in self.outcomes if (o.answerable and not o.correct) or (not o.answerable and o.answered)]


def _vendor_of(question: EvalQuestion, rows_by_id: dict[str, Row]) -> str:
    if question.vendor:
        return question.vendor
    vendors = {rows_by_id[r].vendor for r in question.relevant if r in rows_by_id}
    return vendors.pop() if len(vendors) == 1 else "any"


def run_question(asker: Asker, question: EvalQuestion, rows_by_id: dict[str, Row]) -> Outcome:
    result = asker.ask(question.question, vendor=question.vendor, k=DEPTH)
    matches = ([result.answer] if result.answer else []) + result.alternatives
    flags = [question.is_relevant(m.row_id, m.source_text) for m in matches]
    n_relevant = sum(question.is_relevant(r.id, r.source_text) for r in asker.rows)
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


def summarize(outcomes: Sequence[Outcome], threshold: float) -> dict[str, Any]:
    """Abstention figures: AUROC of the confidence (answerable vs not), counts at the operating point,
    and the risk–coverage curve."""
    answerable = [o.answerable for o in outcomes]
    confidences = [o.confidence for o in outcomes]
    counts = abstention_counts([o.answered for o in outcomes], [o.correct for o in outcomes], answerable)
    both = any(answerable) and not all(answerable)
    return {
        "auroc": auroc(confidences, answerable) if both else None,
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
        threshold=asker.threshold,
        created_at=dt.datetime.now(dt.UTC),
        n_questions=len(outcomes),
        overall=_ranking(outcomes),
        by_language=_grouped(outcomes, lambda o: o.language),
        by_vendor=_grouped(outcomes, lambda o: o.vendor),
        by_kind=_grouped(outcomes, lambda o: o.kind),
        abstention=summarize(outcomes, asker.threshold),
        latency_ms=latency_summary([o.latency_ms for o in outcomes]),
        outcomes=outcomes,
    )
