"""Labelled questions: the evaluation's input format (one JSON object per line, see evals/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.errors import AssistantError

QuestionKind = Literal["same_language", "cross_lingual", "unanswerable"]


class EvalQuestion(BaseModel):
    """One labelled question.

    A retrieved row is relevant if its id is in ``relevant`` or its verbatim source text contains one
    of ``answer_contains``; with both empty the question is unanswerable.

    >>> q = EvalQuestion(id="en-1", question="SSO?", language="en", relevant=["wevox/meti-checksheet#72"])
    >>> q.answerable
    True
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

    @field_validator("answer_contains")
    @classmethod
    def _no_blank_substrings(cls, value: list[str]) -> list[str]:
        if any(not s.strip() for s in value):
            raise ValueError("answer_contains must not hold empty strings (they would match every row)")
        return value

    @property
    def answerable(self) -> bool:
        return bool(self.relevant or self.answer_contains)

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
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
            raise QuestionsFileError(f"{path}:{number}: {problems}") from None
        if question.id in seen:
            raise QuestionsFileError(f"{path}:{number}: id {question.id!r} already used on line {seen[question.id]}")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise QuestionsFileError(f"{path}: no questions (one JSON object per line expected)")
    return questions
