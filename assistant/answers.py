"""What `ask` returns: the vendor's verbatim answer with its citation, or "no reliable answer".

These models are the JSON schema of ``assistant ask --json`` (documented in the README).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.corpus.statuses import AnswerStatus

#: "answered": one current row answers; "conflict": rows of the same, current version disagree (both shown,
#: none chosen); "no_answer": nothing answers reliably (the closest rows are shown, to be checked).
Status = Literal["answered", "conflict", "no_answer"]
Level = Literal["high", "medium", "low"]
#: Why there is no single answer: the rows scored too low, the question is about a company we hold no
#: documents for, the filters left no rows, or current rows disagree.
ReasonCode = Literal["low_confidence", "no_documents_for_subject", "no_rows", "conflict"]


def confidence_level(confidence: float, threshold: float) -> Level:
    """ "low" below the threshold (no reliable answer), "high" a quarter of the way from it to 1, else "medium".

    >>> confidence_level(0.60, 0.65), confidence_level(0.70, 0.65), confidence_level(0.80, 0.65)
    ('low', 'medium', 'high')
    """
    if confidence < threshold:
        return "low"
    return "high" if confidence >= threshold + (1.0 - threshold) / 4 else "medium"


def answer_text(answer: str, detail: str, notes: str, source_text: str) -> str:
    """A row's answer as one text: the answer cell, then its detail and notes; the row as written when all are empty.

    The detail cell is always kept, so an answer cell that only says "Refer to the right" (右記参照) comes with
    what it refers to.

    >>> answer_text("Refer to the right", "Seven generations", "", "x")
    'Refer to the right\\nSeven generations'
    """
    parts = [p for p in (answer, detail, notes) if p.strip()]
    return "\n".join(parts) if parts else source_text


class Citation(BaseModel):
    """Where an answer comes from, precisely enough to check it by opening the file."""

    model_config = ConfigDict(extra="forbid")

    vendor: str
    vendor_id: str
    document_id: str  # "<vendor_id>/<document id>"
    document_title: str
    file: str  # path of the document inside the corpus folder
    row_id: str  # "<vendor_id>/<document id>#<n>"
    #: The item number as the document itself writes it ("43" for the Wevox sheet's No. 43), or "".
    item_no: str = ""
    section: list[str]
    line_start: int
    line_end: int
    sheet: str | None = None
    language: str
    as_of: dt.date | None = None
    version: str | None = None
    #: Documents of the same vendor that are newer versions of this one: the answer may be outdated.
    superseded_by: list[str] = Field(default_factory=list)


class SameStatement(BaseModel):
    """A row that says what a shown row says (in another language, or in another document nearly word for
    word): named on that row instead of listed again."""

    model_config = ConfigDict(extra="forbid")

    row_id: str
    language: str


class Match(BaseModel):
    """One retrieved row: its texts as written in the document, its score and its citation."""

    model_config = ConfigDict(extra="forbid")

    rank: int
    row_id: str
    score: float  # the weighted sum of the signals' scores: what the rows are ranked by
    #: Each ranking signal's own score of the row, by signal name ("dense": the mean of the plain and the
    #: language-centred cosine; "lexical": BM25 relative to the best match among the rows searched, 0..1).
    signals: dict[str, float] = Field(default_factory=dict)
    #: Set when this row is shown in place of a row that matched the question but whose document has
    #: a newer version: this row is the same item in the newer document (the matched row is outdated).
    current_version_of: str | None = None
    #: The same item in a newer document of the vendor, and whether it states different facts
    #: (numbers, dates, acronyms) - then this row is probably outdated.
    newer_version: str | None = None
    newer_version_differs: bool | None = None
    #: Set on a row shown because it is outdated: the row id of the newer row that states otherwise.
    outdated_by: str | None = None
    #: Set on a row shown in a conflict: the row ids of the rows of the same version that disagree with it.
    disagrees_with: list[str] = Field(default_factory=list)
    #: The rows that say what this row says: in another language (the other language part of the sheet, a
    #: twin page's item) or nearly word for word in another document (the page bullet copied from a checksheet
    #: row), with no status or fact either lacks. Named here, not listed again among the alternatives.
    same_as: list[SameStatement] = Field(default_factory=list)
    #: The answer cell read as one value (see AnswerStatus); None when the row has none.
    answer_status: AnswerStatus | None = None
    kind: str
    item: str
    question: str
    answer: str
    detail: str
    notes: str
    fields: dict[str, str] = Field(default_factory=dict)  # the row's cells by column name, as written
    source_text: str
    citation: Citation

    def answer_text(self) -> str:
        """The vendor's answer as one text: the answer cell, then its detail and notes when present."""
        return answer_text(self.answer, self.detail, self.notes, self.source_text)


class AskResult(BaseModel):
    """The result of one question.

    ``status`` is "answered" with ``answer`` set, or "no_answer" with ``reason`` saying why; then
    ``alternatives`` holds the closest rows, which are related but not a reliable answer.
    """

    model_config = ConfigDict(extra="forbid")

    question: str
    status: Status
    reason: str | None = None
    reason_code: ReasonCode | None = None
    answer: Match | None = None
    #: With status "conflict": the current rows that disagree (two or more), each with its citation.
    conflicting: list[Match] = Field(default_factory=list)
    #: Older rows of the same item that state otherwise than the answer (shown as "outdated: it says ...").
    outdated: list[Match] = Field(default_factory=list)
    alternatives: list[Match] = Field(default_factory=list)
    #: With no vendor named or chosen and several vendors in the corpus: the best row of each other vendor.
    other_vendors: list[Match] = Field(default_factory=list)
    #: Probability (calibrated on the dev questions) that the first row answers the question.
    confidence: float
    #: The probability an answer needs (the operating point chosen on the dev questions).
    threshold: float
    #: The first row's ranking score (the weighted signals), for diagnosis.
    score: float = 0.0
    #: What the confidence was computed from (see assistant.decision.features), for diagnosis.
    features: dict[str, float] = Field(default_factory=dict)
    #: Things the asker should know about the result as a whole (e.g. the model has no calibration).
    warnings: list[str] = Field(default_factory=list)
    vendor: str | None = None  # the vendor the search was limited to
    vendor_source: Literal["given", "question", "none"] = "none"
    #: A vendor chosen in the UI/CLI that the question overrode by naming another vendor.
    vendor_overridden: str | None = None
    #: A company or product the question is about that the corpus holds no documents for ("Slack").
    unknown_subject: str | None = None
    language: str | None = None  # the row language the search was limited to
    question_language: str | None = None
    k: int
    model: str
    index_built_at: dt.datetime
    timings_ms: dict[str, float] = Field(default_factory=dict)

    #: The confidence as a word: "high", "medium" (answered) or "low" (no reliable answer); always derived
    #: from confidence and threshold, whatever the input says.
    level: Level = "low"

    @model_validator(mode="after")
    def _derive_level(self) -> AskResult:
        object.__setattr__(self, "level", confidence_level(self.confidence, self.threshold))
        return self

    @property
    def answered(self) -> bool:
        return self.status == "answered"
