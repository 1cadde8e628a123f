"""Filled rows: every question of a questionnaire asked through the same ``ask`` decision as the chat."""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from assistant.answers import AskResult, Citation, Level, Match
from assistant.citations import document_text
from assistant.corpus.columns import normalize_header
from assistant.corpus.statuses import AnswerStatus
from assistant.errors import QuestionError, QuestionnaireError
from assistant.questionnaire.detection import Questionnaire
from assistant.questionnaire.models import ROW_STATUSES, FilledRow, FillReport, RowStatus, SheetLayout
from assistant.questionnaire.questions import Question

logger = logging.getLogger(__name__)

#: progress(done, total): called after each batch of questions, and once at the end.
Progress = Callable[[int, int], None]
#: Questions asked together (embedded in one batch) and between two progress reports.
BATCH = 20
#: Between the answers of disagreeing rows in the answer cell.
CONFLICT_SEPARATOR = "\n---\n"
#: How much of an outdated or closest row a note quotes.
QUOTED_CHARS = 120


class Asker(Protocol):
    """Anything that answers one question as ``Assistant.ask`` does (one that also has ``ask_many``, as
    `Assistant` does, gets each batch of questions at once)."""

    def ask(
        self, question: str, *, vendor: str | None = None, language: str | None = None, k: int | None = None
    ) -> AskResult: ...


@dataclass(frozen=True)
class Outcome:
    """What a question's result puts in its row (shared by identical questions)."""

    status: RowStatus
    answer: str = ""
    answer_status: AnswerStatus | None = None
    confidence: float | None = None
    level: Level | None = None
    sources: tuple[Citation, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def review(self) -> bool:
        return self.status != "answered" or bool(self.notes)


def _quote(match: Match) -> str:
    text = " ".join(match.answer_text().split())
    return text if len(text) <= QUOTED_CHARS else text[: QUOTED_CHARS - 1] + "…"


def _dated(source: Citation) -> str:
    return document_text(source)


def _answer_notes(result: AskResult, match: Match, vendor: str | None) -> list[str]:
    """Why an answered row still needs a person: older rows that disagree, a newer document, another vendor."""
    notes = []
    for old in result.outdated:
        notes.append(f"Outdated: {old.row_id} ({_dated(old.citation)}) says: {_quote(old)}")
    if match.newer_version_differs and match.newer_version:
        notes.append(f"The newer version of this row ({match.newer_version}) states different facts.")
    if match.citation.superseded_by:
        notes.append("A newer document of this vendor exists: " + ", ".join(match.citation.superseded_by) + ".")
    if result.vendor_overridden or (vendor and result.vendor and result.vendor != vendor):
        notes.append(f"The question names {result.vendor}: the answer is from {result.vendor}'s documents.")
    return notes


def outcome_of(result: AskResult, vendor: str | None) -> Outcome:
    """A row's content from an ``ask`` result, for each of its statuses.

    answered: the answer verbatim, its citation, and notes for outdated or disagreeing rows; conflict: every
    disagreeing row's answer and citation, for a person to choose; no_answer: the reason and the closest row.
    """
    level = result.level
    confidence = result.confidence
    if result.status == "answered" and result.answer is not None:
        match = result.answer
        return Outcome(
            "answered",
            answer=match.answer_text(),
            answer_status=match.answer_status,
            confidence=confidence,
            level=level,
            sources=(match.citation,),
            notes=tuple(_answer_notes(result, match, vendor)),
        )
    if result.status == "conflict" and result.conflicting:
        rows = result.conflicting
        statuses = {m.answer_status for m in rows}
        note = "The vendor's current documents disagree: " + ", ".join(m.row_id for m in rows) + "; choose one."
        return Outcome(
            "conflict",
            answer=CONFLICT_SEPARATOR.join(m.answer_text() for m in rows),
            answer_status=statuses.pop() if len(statuses) == 1 else None,
            confidence=confidence,
            level=level,
            sources=tuple(m.citation for m in rows),
            notes=(note, *(f"Outdated: {old.row_id} says: {_quote(old)}" for old in result.outdated)),
        )
    notes = [f"No reliable answer: {result.reason or 'nothing in the documents answers this question'}"]
    closest = result.alternatives[0] if result.alternatives else None
    if closest is not None:
        notes.append(f"Closest row (not a match): {closest.row_id}: {_quote(closest)}")
    return Outcome("no_answer", confidence=confidence, level=level, notes=tuple(notes))


#: Words a drop-down list or a "Yes/No" header may use for each normalised answer (compared after NFKC,
#: lowercasing and removing spaces).
CHOICE_WORDS: dict[str, frozenset[str]] = {
    "yes": frozenset(
        {"yes", "y", "はい", "有", "あり", "○", "〇", "◯", "対応", "対応済", "対応済み", "実施", "実施済", "実施済み",
         "適合", "예", "네", "준수", "적용", "true"}
    ),
    "no": frozenset(
        {"no", "n", "いいえ", "無", "なし", "×", "✕", "未対応", "未実施", "不適合", "아니오", "아니요", "미준수",
         "미적용", "false"}
    ),
    "partial": frozenset({"partial", "partially", "一部", "一部対応", "一部実施", "△", "부분", "일부", "부분적용"}),
    "not_applicable": frozenset({"n/a", "na", "notapplicable", "該当なし", "対象外", "非該当", "-", "ー", "해당없음"}),
}  # fmt: skip


def _choice_for(status: str | None, choices: list[str]) -> str | None:
    words = CHOICE_WORDS.get(status or "", frozenset())
    return next((choice for choice in choices if normalize_header(choice) in words), None)


def answer_cell(outcome: Outcome, question: Question, layout: SheetLayout) -> tuple[str, str | None]:
    """What goes into the questionnaire's own answer cell, and a note when an answer could not go there.

    Only an answered row is written, only into an empty cell. A column with a drop-down list gets the list's
    value for the normalised answer; a "Yes/No" (はい/いいえ, ○/×) column the matching word of its header;
    any other answer column the answer verbatim.
    """
    if not layout.answer_column or outcome.status != "answered":
        return "", None
    if question.existing_answer:
        return "", None  # the questionnaire already holds an answer here: kept as it is
    if not question.answer_cell_free:
        return "", "The answer cell is merged over several rows: not written."
    binary = _binary_words(layout.answer_header)
    choices = layout.answer_choices or binary
    if not choices:
        return outcome.answer, None
    chosen = _choice_for(outcome.answer_status, choices)
    if chosen is None:
        allowed = "/".join(choices)
        return "", f"The answer column takes {allowed}; the cited row gives no such value: fill it by hand."
    return chosen, None


def _binary_words(header: str) -> list[str]:
    """The words of a "Yes/No"-style header ("回答（はい/いいえ）" -> ['はい', 'いいえ']); [] for other headers."""
    words = [p.strip() for p in re.split(r"[/／()（）・|]+", unicodedata.normalize("NFKC", header)) if p.strip()]
    known = [w for w in words if any(normalize_header(w) in group for group in CHOICE_WORDS.values())]
    return known if len(known) >= 2 else []


def _row(question: Question, outcome: Outcome, layout: SheetLayout) -> FilledRow:
    cell, cell_note = answer_cell(outcome, question, layout)
    notes = [*outcome.notes, *([cell_note] if cell_note else [])]
    return FilledRow(
        sheet=question.sheet,
        row=question.row,
        item_no=question.item_no,
        category=question.category,
        question=question.text,
        status=outcome.status,
        review=outcome.review or cell_note is not None,
        answer=outcome.answer,
        answer_status=outcome.answer_status,
        confidence=outcome.confidence,
        level=outcome.level,
        sources=list(outcome.sources),
        note="\n".join(notes),
        answer_cell=cell,
    )


def check_questions(questionnaire: Questionnaire) -> None:
    """QuestionnaireError, saying what each sheet was taken for, when the questionnaire has no question to ask."""
    if not questionnaire.questions:
        skipped = "; ".join(f"{layout.sheet!r}: {layout.skipped}" for layout in questionnaire.layouts)
        raise QuestionnaireError(
            f"no questions found in {questionnaire.source.name} ({skipped or 'no sheets'}); choose the sheet and "
            "the question column (--sheet, --question-column)"
        )


def _ask_all(
    asker: Asker, texts: list[str], vendor: str | None, language: str | None, k: int | None
) -> list[AskResult | QuestionError]:
    """The asker's answers to ``texts``, in one batch where it can (``ask_many``), else one by one."""
    many = getattr(asker, "ask_many", None)
    if many is not None and texts:
        answered: list[AskResult | QuestionError] = many(texts, vendor=vendor, language=language, k=k)
        return answered
    results: list[AskResult | QuestionError] = []
    for text in texts:
        try:
            results.append(asker.ask(text, vendor=vendor, language=language, k=k))
        except QuestionError as error:
            results.append(error)
    return results


def fill(
    questionnaire: Questionnaire,
    asker: Asker,
    *,
    vendor: str | None,
    language: str | None = None,
    k: int | None = None,
    progress: Progress | None = None,
) -> FillReport:
    """Ask every question of the questionnaire for ``vendor``; one row per question, in the file's order.

    Identical questions are asked once. A question that cannot be asked (empty, too long, a formula with no saved
    value) gets an "error" row and the run goes on; any other error stops it. QuestionnaireError when the file
    has no questions.
    """
    check_questions(questionnaire)
    questions = questionnaire.questions
    started = time.perf_counter()
    total = len(questions)
    outcomes: dict[str, Outcome] = {}
    layouts = {layout.sheet: layout for layout in questionnaire.layouts}
    rows: list[FilledRow] = []
    for start in range(0, total, BATCH):
        window = questions[start : start + BATCH]
        new = list(dict.fromkeys(q.text for q in window if q.error is None and q.text not in outcomes))
        for text, answered in zip(new, _ask_all(asker, new, vendor, language, k), strict=True):
            if isinstance(answered, QuestionError):
                outcomes[text] = Outcome("error", notes=(f"This question cannot be asked: {answered}",))
            else:
                outcomes[text] = outcome_of(answered, vendor)
        for question in window:
            outcome = (
                Outcome("error", notes=(question.error,)) if question.error is not None else outcomes[question.text]
            )
            rows.append(_row(question, outcome, layouts[question.sheet]))
        if progress is not None:
            progress(start + len(window), total)
    counts = {status: 0 for status in ROW_STATUSES}
    for row in rows:
        counts[row.status] += 1
    seconds = time.perf_counter() - started
    logger.info("filled %d questions in %.1f s: %s", total, seconds, counts)
    return FillReport(
        input=questionnaire.source.name,
        vendor=vendor,
        language=language,
        sheets=list(questionnaire.layouts),
        rows=rows,
        counts=counts,
        review=sum(row.review for row in rows),
        seconds=round(seconds, 3),
        losses=list(questionnaire.source.losses),
    )
