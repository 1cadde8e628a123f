"""A conversation's questions and answers, with their citations, as Markdown and as CSV for a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from assistant.answers import AskResult, Match
from assistant.citations import citation_line, item_text, label, reason_text, result_text

#: A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Exchange:
    """One question of a conversation and what came back: a result, or the error that stopped it.

    >>> Exchange("SSO?", error="the question is empty").status
    'error'
    """

    question: str
    result: AskResult | None = None
    error: str | None = None
    asked_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    #: Identifies the exchange in a session (widget keys, feedback entries).
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def status(self) -> str:
        return self.result.status if self.result is not None else "error"


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading apostrophe before anything that would start a formula.

    >>> safe_cell("=HYPERLINK(\\"http://x\\")"), safe_cell("-1"), safe_cell("Yes")
    ('\\'=HYPERLINK("http://x")', "'-1", 'Yes')
    """
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def status_label(exchange: Exchange, language: str = "en") -> str:
    return label(f"status_{exchange.status}", language)


def _fence(text: str) -> str:
    """A fenced block that shows ``text`` as it is: the fence is longer than any run of backticks inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def markdown(exchanges: Sequence[Exchange], language: str = "en", now: dt.datetime | None = None) -> str:
    """The conversation as Markdown: each question and the plain-text result (the same text "Copy all" gives).

    Questions and quotes are in fenced blocks, so a Markdown viewer shows them as written, never as markup.
    """
    parts = [f"# {label('transcript_title', language, date=_stamp(now or dt.datetime.now(dt.UTC)))}"]
    for number, exchange in enumerate(exchanges, start=1):
        parts.append(f"## {number}. {label('question', language)} ({_stamp(exchange.asked_at)})")
        parts.append(_fence(exchange.question))
        parts.append(f"**{label('status', language)}:** {status_label(exchange, language)}")
        if exchange.result is not None:
            parts.append(_fence(result_text(exchange.result, language)))
        elif exchange.error is not None:
            parts.append(_fence(exchange.error))
    return "\n\n".join(parts) + "\n"


def _shown(result: AskResult) -> Iterator[tuple[str, Match]]:
    """The rows a result shows, each with its role, in the order of the card."""
    if result.answer is not None:
        yield "answer", result.answer
    for match in result.conflicting:
        yield "conflicting", match
    for match in result.outdated:
        yield "outdated", match
    role = "alternative" if result.status != "no_answer" else "closest"
    for match in result.alternatives:
        yield role, match
    for match in result.other_vendors:
        yield "other_vendor", match


CSV_FIELDS = (
    "number",
    "asked_at",
    "question",
    "status",
    "shown_as",
    "vendor",
    "item",
    "answer",
    "citation",
    "row",
    "note",
)


def csv_text(exchanges: Sequence[Exchange], language: str = "en") -> str:
    """The conversation as CSV, one line per row shown (one line for a question without rows).

    Every cell goes through `safe_cell`: a quote that starts with "=" stays text in a spreadsheet.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    headers = {"number": "#", "row": label("row", language), "shown_as": label("shown_as", language)}
    writer.writerow([headers.get(name) or label(name, language) for name in CSV_FIELDS])
    for number, exchange in enumerate(exchanges, start=1):
        base = [str(number), _stamp(exchange.asked_at), exchange.question, status_label(exchange, language)]
        result = exchange.result
        note = exchange.error or (reason_text(result, language) if result is not None else "")
        rows = list(_shown(result)) if result is not None else []
        if not rows:
            writer.writerow([safe_cell(cell) for cell in [*base, "", "", "", "", "", "", note]])
        for role, match in rows:
            if role == "outdated" and match.outdated_by:
                row_note = label("current_row", language, row_id=match.outdated_by)
            else:
                row_note = "" if role == "answer" else note
            cells = [label(f"role_{role}", language), match.citation.vendor, item_text(match), match.answer_text()]
            cells += [citation_line(match.citation, language), match.row_id, row_note]
            writer.writerow([safe_cell(cell) for cell in [*base, *cells]])
    return out.getvalue()
