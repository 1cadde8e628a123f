"""Rendering: answer cards, related rows and source lines.

Every text that comes from a document, the corpus metadata or a user goes through ``st.text``,
``st.code(language=None)`` or ``st.dataframe``, which show characters as they are. Markdown (labels,
captions, alerts) only ever receives fixed wording, numbers, dates, language codes and row ids.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import streamlit as st

from assistant.answers import AskResult, Citation, Level, Match
from assistant.citations import citation_block, item_text, result_text
from assistant.retrieval import Assistant
from assistant.sources import SourceView
from assistant.validation import without_lone_surrogates

#: The pages, relative to the entrypoint ui/app.py; the source view reads the row id from ``?row=``.
CHAT_PAGE = "chat.py"
SOURCE_PAGE = "source.py"
#: Session-state keys of the sidebar filters (kept when the user visits the source view and comes back).
FILTER_KEYS = ("vendor", "language", "alternatives")
LANGUAGE_NAMES = {"en": "English", "ja": "日本語", "ko": "한국어"}
#: How much of an over-long question the history repeats.
SHOWN_QUESTION_CHARS = 400
HIGHLIGHT = "background-color: #fff3b0; font-weight: 600"

LEVEL_COLORS: dict[Level, Literal["green", "orange", "red"]] = {"high": "green", "medium": "orange", "low": "red"}


@dataclass(frozen=True)
class Turn:
    """One question of the conversation and what came back: a result, or the error that stopped it."""

    question: str
    result: AskResult | None = None
    error: str | None = None


def language_name(code: str | None) -> str:
    if code is None:
        return "Any language"
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code


def source_link(row_id: str, label: str = "Open the cited lines in the source view") -> None:
    """A real link (``source?row=<row id>``) an auditor can open in a new tab or bookmark."""
    st.page_link(SOURCE_PAGE, label=label, icon=":material/description:", query_params={"row": row_id})


def render_superseded(citation: Citation) -> None:
    if citation.superseded_by:
        # Document keys are slugs (validated by DocumentMeta), safe in markdown; code spans keep them literal.
        newer = ", ".join(f"`{key}`" for key in citation.superseded_by)
        st.warning(f"A newer document of this vendor exists ({newer}): this answer may be out of date.", icon="⚠️")


def render_confidence(result: AskResult) -> None:
    level = result.level
    with st.container(horizontal=True, vertical_alignment="center"):
        st.badge(f"{level} confidence", color=LEVEL_COLORS[level])
        st.progress(
            min(max(result.confidence, 0.0), 1.0),
            text=f"score {result.confidence:.3f} · an answer needs {result.threshold:.2f}",
        )


def render_question(question: str) -> None:
    question = without_lone_surrogates(question)  # as the library reads it; a lone one cannot be sent to the page
    with st.chat_message("user"):
        if len(question) > SHOWN_QUESTION_CHARS:
            st.text(question[:SHOWN_QUESTION_CHARS] + f"… ({len(question)} characters in all)")
        else:
            st.text(question)


def render_scope(result: AskResult) -> None:
    scope = []
    if result.vendor:
        how = "named in the question" if result.vendor_source == "question" else "chosen in the sidebar"
        scope.append(f"Searched {result.vendor} only ({how}).")
    if result.language:
        scope.append(f"Rows in {language_name(result.language)} only.")
    if scope:
        st.text(" ".join(scope))


def render_row_as_written(match: Match, assistant: Assistant) -> None:
    """The cited row exactly as the file has it, and its cells by column when it is a checksheet row."""
    fields = match.fields
    if fields:
        st.dataframe(
            {"column": list(fields), "cell": list(fields.values())},
            hide_index=True,
            column_config={
                "column": st.column_config.TextColumn("Column"),
                "cell": st.column_config.TextColumn("Cell"),
            },
        )
    st.code(match.source_text, language=None, wrap_lines=True)


def render_match(match: Match) -> None:
    """A compact card for an alternative or a related row: its answer, its citation, a source link."""
    with st.container(border=True):
        st.caption(f"Rank {match.rank} · score {match.score:.3f}")
        st.text(match.answer_text())
        if item_text(match):
            st.text(item_text(match))
        st.text(citation_block(match.citation))
        render_superseded(match.citation)
        source_link(match.row_id, label="Source view")


def render_answer(result: AskResult, match: Match, assistant: Assistant) -> None:
    with st.container(border=True):
        st.caption("The vendor's answer, verbatim")
        st.text(match.answer_text())
        if item_text(match):
            st.caption("Item")
            st.text(item_text(match))
        render_confidence(result)
        st.caption("Source")
        st.text(citation_block(match.citation))
        render_superseded(match.citation)
        source_link(match.row_id)
    with st.expander("The row as written in the document"):
        render_row_as_written(match, assistant)
    with st.expander("Plain text to copy (answer and citation)"):
        st.code(result_text(result), language=None, wrap_lines=True)
    if result.alternatives:
        with st.expander(f"Alternatives: the next {len(result.alternatives)} best rows"):
            for alternative in result.alternatives:
                render_match(alternative)


def render_no_answer(result: AskResult) -> None:
    with st.container(border=True):
        st.error("No reliable answer: the documents do not seem to answer this question.", icon="🚫")
        st.caption("Why")
        st.text(result.reason or "")
        render_confidence(result)
    if result.alternatives:
        with st.expander(f"Not a match, but related: the {len(result.alternatives)} closest rows", expanded=True):
            for related in result.alternatives:
                render_match(related)
    with st.expander("Plain text to copy"):
        st.code(result_text(result), language=None, wrap_lines=True)


def render_turn(turn: Turn, assistant: Assistant) -> None:
    """One question and its answer card (or error), as shown live and when the history is replayed."""
    render_question(turn.question)
    with st.chat_message("assistant"):
        if turn.error is not None:
            st.error("This question cannot be asked as given:", icon="✋")
            st.text(turn.error)
        elif turn.result is not None:
            render_scope(turn.result)
            if turn.result.answer is not None:
                render_answer(turn.result, turn.result.answer, assistant)
            else:
                render_no_answer(turn.result)


def numbered_listing(view: SourceView) -> str:
    """The lines as plain text, each with its number, the cited ones marked ▶ (for copying into a report)."""
    width = len(str(view.lines[-1].number)) if view.lines else 1
    return "\n".join(f"{'▶' if line.cited else ' '} {line.number:>{width}}  {line.text}" for line in view.lines)


def _text_width(lines: pd.Series) -> int:
    """Pixels a line takes in the grid's font: wide (CJK) characters count double."""
    longest = max((sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line) for line in lines), default=0)
    return max(600, min(8 * longest + 24, 6000))


def render_source(view: SourceView) -> None:
    """The lines around a citation, numbered, the cited ones marked ▶ and highlighted; then the quote itself."""
    frame = pd.DataFrame(
        {
            "line": [line.number for line in view.lines],
            "cited": ["▶" if line.cited else "" for line in view.lines],
            # Tabs separate the cells of checksheet rows: shown as ⇥ here, kept as tabs in the quote below.
            "text": [line.text.replace("\t", " ⇥ ") for line in view.lines],
        }
    )
    styled = frame.style.apply(lambda row: [HIGHLIGHT if row["cited"] else "" for _ in row], axis=1)
    st.dataframe(
        styled,
        hide_index=True,
        height=min(35 * (len(frame) + 1) + 3, 800),
        column_config={
            "line": st.column_config.NumberColumn("Line", format="%d", width=64),
            "cited": st.column_config.TextColumn("Cited", width=56),
            # Wide enough for the longest line (the grid scrolls sideways) rather than cutting lines off.
            "text": st.column_config.TextColumn("Text (⇥ marks a tab)", width=_text_width(frame["text"])),
        },
    )
    st.caption("The cited lines exactly as the file has them")
    st.code("\n".join(line.text for line in view.lines if line.cited), language=None, wrap_lines=True)
    with st.expander("All lines shown above as numbered plain text"):
        st.code(numbered_listing(view), language=None, wrap_lines=True)
