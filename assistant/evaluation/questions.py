"""Labelled questions: the evaluation's input format (one JSON object per line, see evals/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.errors import AssistantError

QuestionKind = Literal["same_language", "cross_lingual", "unanswerable"]
#: The decision `ask` should reach (see assistant.answers.Status).
ExpectedStatus = Literal["answered", "conflict", "no_answer"]
#: Tags that mark a decision case (evals/README.md); a question has at most one. Questions without one are
#: "plain answerable" or "plain unanswerable".
DECISION_KINDS = ("stale_language_filter", "in_version_conflict", "vendor_mismatch", "other_vendor", "no_vendor")


class EvalQuestion(BaseModel):
    """One labelled question.

    A retrieved row is relevant if its id is in ``relevant`` or its verbatim source text contains one
    of ``answer_contains``; with both empty the question is unanswerable. ``expected_status`` is the
    decision `ask` should reach; when absent it is "answered" for an answerable question, else "no_answer".
    A "conflict" question has no relevant row: ``conflicting`` lists the current rows that disagree.
    ``outdated`` lists older rows that state otherwise than the relevant ones and must be shown as outdated;
    ``filter_language`` is the answer-language filter the asker set (passed to ``ask(language=...)``).

    >>> q = EvalQuestion(id="en-1", question="SSO?", language="en", relevant=["wevox/meti-checksheet#72"])
    >>> q.answerable, q.status
    (True, 'answered')
    >>> EvalQuestion(id="na-1", question="SAS 70?", language="en", expected_status="conflict",
    ...              conflicting=["wevox/meti-checksheet#43", "wevox/meti-checksheet#92"]).answerable
    False
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    language: str = Field(pattern=r"^[a-z]{2}$")
    vendor: str | None = None
    relevant: list[str] = Field(default_factory=list)
    answer_contains: list[str] = Field(default_factory=list)
    kind: QuestionKind | None = None
    tags: list[str] = Field(default_factory=list)
    expected_status: ExpectedStatus | None = None
    filter_language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    conflicting: list[str] = Field(default_factory=list)
    outdated: list[str] = Field(default_factory=list)

    @field_validator("answer_contains")
    @classmethod
    def _no_blank_substrings(cls, value: list[str]) -> list[str]:
        if any(not s.strip() for s in value):
            raise ValueError("answer_contains must not hold empty strings (they would match every row)")
        return value

    @model_validator(mode="after")
    def _decision_fields_agree(self) -> EvalQuestion:
        status = self.expected_status
        if status == "answered" and not self.answerable:
            raise ValueError('expected_status "answered" needs relevant rows or answer_contains')
        if status in ("conflict", "no_answer") and self.answerable:
            raise ValueError(
                f'expected_status "{status}" means no row is the answer: leave relevant and answer_contains empty'
            )
        if status == "conflict" and len(self.conflicting) < 2:
            raise ValueError('expected_status "conflict" needs at least two rows in conflicting')
        if self.conflicting and status != "conflict":
            raise ValueError('conflicting is only for expected_status "conflict"')
        if self.outdated and not self.answerable:
            raise ValueError("outdated rows are shown beside an answer: the question needs relevant rows")
        if set(self.outdated) & set(self.relevant):
            raise ValueError("a row cannot be both relevant and outdated")
        return self

    @property
    def answerable(self) -> bool:
        return bool(self.relevant or self.answer_contains)

    @property
    def status(self) -> ExpectedStatus:
        """The expected decision: as labelled, else "answered" if answerable and "no_answer" if not."""
        if self.expected_status is not None:
            return self.expected_status
        return "answered" if self.answerable else "no_answer"

    @property
    def decision_kind(self) -> str:
        """The first decision tag (DECISION_KINDS), else "plain answerable" or "plain unanswerable"."""
        kind = next((t for t in self.tags if t in DECISION_KINDS), None)
        return kind or ("plain answerable" if self.answerable else "plain unanswerable")

    @property
    def question_kind(self) -> str:
        """The kind as labelled, or "unanswerable"/"answerable" when the file gives none."""
        if self.kind is not None:
            return self.kind
        return "answerable" if self.answerable else "unanswerable"

    def is_relevant(self, row_id: str, source_text: str) -> bool:
        return row_id in self.relevant or any(s in source_text for s in self.answer_contains)


class QuestionsFileError(AssistantError):
    """A questions file cannot be read; names the file and line."""


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a questions file; every bad line is reported with its number, and ids must be unique."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QuestionsFileError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise QuestionsFileError(f"{path}: not valid UTF-8; re-save it as UTF-8") from None
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            question = EvalQuestion.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise QuestionsFileError(f"{path}:{number}: not JSON ({exc.msg})") from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"].removeprefix("Value error, ")
                for e in exc.errors(include_url=False)
            )
            raise QuestionsFileError(f"{path}:{number}: {problems}") from None
        if question.id in seen:
            raise QuestionsFileError(f"{path}:{number}: id {question.id!r} already used on line {seen[question.id]}")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise QuestionsFileError(f"{path}: no questions (one JSON object per line expected)")
    return questions
