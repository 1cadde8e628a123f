"""What filling a questionnaire reports: per sheet how it was read, per question what was answered and from where."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.answers import Citation, Level
from assistant.corpus.statuses import AnswerStatus

#: A filled row's outcome: the three decisions of ``ask``, or "error" when the question could not be asked
#: (empty, too long, a formula without a saved value).
RowStatus = Literal["answered", "conflict", "no_answer", "error"]
ROW_STATUSES: tuple[RowStatus, ...] = ("answered", "conflict", "no_answer", "error")

#: The normalised answer as written in the output ("Yes", "No", ...), by `AnswerStatus`.
ANSWER_STATUS_WORDS: dict[str, str] = {
    "yes": "Yes",
    "no": "No",
    "partial": "Partial",
    "not_applicable": "N/A",
    "not_disclosed": "Not disclosed",
    "see_detail": "See detail",
}


class SheetLayout(BaseModel):
    """How one sheet was read: skipped (and why), or its header row and question/answer columns.

    Columns are letters as a spreadsheet shows them ("C"), for CSV files too; rows are 1-based.
    ``sure`` is False when the question column was guessed from the text lengths rather than a header
    word, or when another column was nearly as likely: the UI then asks the user to confirm.

    >>> SheetLayout(sheet="表紙", skipped="empty sheet").question_column is None
    True
    """

    model_config = ConfigDict(extra="forbid")

    sheet: str
    skipped: str | None = None  # why the sheet has no questions to fill ("instructions", "empty", ...)
    header_row: int | None = None
    question_column: str | None = None
    question_header: str = ""
    answer_column: str | None = None  # the questionnaire's own answer column, when it has one
    answer_header: str = ""
    #: The values the answer column accepts (its drop-down list), or [] for free text.
    answer_choices: list[str] = Field(default_factory=list)
    number_column: str | None = None
    category_column: str | None = None
    sure: bool = True
    how: str = ""  # how the question column was found, in words
    questions: int = 0
    #: The first column the assistant's output columns are written to.
    output_column: str | None = None


class FilledRow(BaseModel):
    """One question of the questionnaire and what the assistant found for it.

    >>> row = FilledRow(sheet="Q", row=2, question="SSO?", status="answered", review=False, answer_status="yes")
    >>> row.normalised
    'Yes'
    """

    model_config = ConfigDict(extra="forbid")

    sheet: str
    row: int  # the row number in the sheet (for CSV: the record number, header included)
    item_no: str = ""
    category: str = ""
    question: str
    status: RowStatus
    #: True when a person must look at the row: no answer, a conflict, an error, outdated or disagreeing rows.
    review: bool
    #: The vendor's answer verbatim; with a conflict every disagreeing row's answer, separated by CONFLICT_SEPARATOR.
    answer: str = ""
    answer_status: AnswerStatus | None = None
    confidence: float | None = None
    level: Level | None = None
    #: The cited rows: the answer's, or each conflicting row's.
    sources: list[Citation] = Field(default_factory=list)
    note: str = ""
    #: What was written into the questionnaire's own answer column ("" when nothing: no answer column, the cell
    #: already had content, no answer, or no value the column accepts).
    answer_cell: str = ""

    @property
    def normalised(self) -> str:
        return ANSWER_STATUS_WORDS.get(self.answer_status or "", "")


class FillReport(BaseModel):
    """The result of filling one questionnaire: every question row, the sheets as read, counts by status.

    >>> rows = [FilledRow(sheet="Q", row=2, question="SSO?", status="no_answer", review=True)]
    >>> report = FillReport(input="q.csv", vendor="Acme", sheets=[], rows=rows, counts={"no_answer": 1}, review=1)
    >>> [r.row for r in report.to_review]
    [2]
    """

    model_config = ConfigDict(extra="forbid")

    input: str
    output: str | None = None
    vendor: str | None
    language: str | None = None
    sheets: list[SheetLayout]
    rows: list[FilledRow]
    counts: dict[str, int]  # by RowStatus, all four present
    review: int  # rows flagged for a person
    seconds: float = 0.0
    #: What the filled copy does not keep of the workbook (drawn shapes, unsupported extensions), as read.
    losses: list[str] = Field(default_factory=list)

    @property
    def to_review(self) -> list[FilledRow]:
        return [row for row in self.rows if row.review]
