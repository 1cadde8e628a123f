"""Rendering of a conversation: each question and its card, which looks different in each decision state.

Every text that comes from a document, the corpus metadata or a user goes through ``st.text``,
``st.code(language=None)`` or ``st.dataframe``, which show characters as they are. Markdown (labels,
captions, alerts, badges) only ever receives fixed wording from ui/texts.py, numbers, language codes and
document keys. Copied text goes to the Copy component as data (ui/widgets.py).
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

from assistant.answers import AskResult, Citation, Level, Match
from assistant.citations import (
    citation_block,
    citation_line,
    headline,
    item_text,
    language_name,
    match_text,
    reason_text,
    result_text,
)
from assistant.retrieval import Assistant
from assistant.transcripts import Exchange
from assistant.validation import without_lone_surrogates

from rating import render_rating
from texts import t
from widgets import copy_button, scroll_into_view

#: The pages, relative to the entrypoint ui/app.py; the source view reads the row id from ``?row=``.
CHAT_PAGE = "chat.py"
SOURCE_PAGE = "source.py"
#: Session-state keys of the chat's sidebar filters (kept when the user visits the source view and comes back).
FILTER_KEYS = ("vendor", "language", "alternatives")
#: How much of an over-long question the history repeats.
SHOWN_QUESTION_CHARS = 400

Color = Literal["red", "orange", "green", "violet", "gray"]
LEVEL_COLORS: dict[Level, Color] = {"high": "green", "medium": "orange", "low": "red"}
#: The look of each state: its label, icon and colour (the card's edge has the same colour, ui/widgets.py).
STATES: dict[str, tuple[str, str, Color]] = {
    "answered": ("state_answered", ":material/check_circle:", "green"),
    "conflict": ("state_conflict", ":material/compare_arrows:", "orange"),
    "no_answer": ("state_no_answer", ":material/help:", "red"),
    "no_documents": ("state_no_documents", ":material/domain_disabled:", "violet"),
    "no_rows": ("state_no_rows", ":material/filter_alt_off:", "gray"),
}


def card_state(result: AskResult) -> str:
    """The state a card shows: the result's status, with two kinds of "no answer" told apart."""
    if result.reason_code == "no_documents_for_subject":
        return "no_documents"
    if result.reason_code == "no_rows":
        return "no_rows"
    return result.status


def source_link(row_id: str, language: str, label_key: str = "open_source", label: str | None = None) -> None:
    """A real link (``source?row=<row id>``) an auditor can open in a new tab or bookmark."""
    text = label if label is not None else t(label_key, language)
    st.page_link(SOURCE_PAGE, label=text, icon=":material/description:", query_params={"row": row_id})


def render_question(question: str) -> None:
    question = without_lone_surrogates(question)  # as the library reads it; a lone one cannot be sent to the page
    with st.chat_message("user", avatar=":material/person:"):
        if len(question) > SHOWN_QUESTION_CHARS:
            st.text(question[:SHOWN_QUESTION_CHARS] + f"… ({len(question)} characters in all)")
        else:
            st.text(question)


def lead_citation(result: AskResult) -> Citation | None:
    """The citation the card is about: the answer's, or the first disagreeing row's."""
    if result.answer is not None:
        return result.answer.citation
    return result.conflicting[0].citation if result.conflicting else None


def scope_text(result: AskResult, language: str) -> str:
    """Which vendor (and row language) the search was limited to, and why; whose answer it is when none was set."""
    parts = []
    vendor = result.vendor
    if vendor and result.vendor_overridden:
        parts.append(t("scope_overridden", language, vendor=vendor, chosen=result.vendor_overridden))
    elif vendor:
        parts.append(t("scope_given" if result.vendor_source == "given" else "scope_question", language, vendor=vendor))
    elif (lead := lead_citation(result)) is not None:
        parts.append(t("scope_from_vendor", language, vendor=lead.vendor))
        if result.other_vendors:
            parts.append(t("scope_others_below", language).strip())
    if result.language:
        parts.append(t("scope_language", language, name=f"{language_name(result.language)} ({result.language})"))
    return " ".join(parts)


def render_top(result: AskResult, state: str, language: str, key: str) -> None:
    """The top of every card: state and confidence at a glance, whose document, what was searched, warnings."""
    text_key, icon, color = STATES[state]
    with st.container(horizontal=True, vertical_alignment="center"):
        st.badge(t(text_key, language), icon=icon, color=color)
        if state in ("answered", "conflict", "no_answer"):
            st.badge(t(f"level_{result.level}", language), color=LEVEL_COLORS[result.level])
            confidence = f"{result.confidence:.2f}"
            st.caption(t("confidence", language, confidence=confidence, threshold=f"{result.threshold:.2f}"))
    lead = lead_citation(result)
    if lead is not None:
        with st.container(key=f"headline-{key}"):
            st.text(headline(lead, language))
    scope = scope_text(result, language)
    if scope:
        st.text(scope)
    if result.warnings:
        st.warning(t("note", language), icon=":material/warning:")
        for warning in result.warnings:
            st.text(warning)


def render_actions(match: Match, language: str, key: str, link_label: str = "open_source") -> None:
    with st.container(horizontal=True, vertical_alignment="center"):
        copy_button(match_text(match, language), key=f"copy-{key}", language=language)
        source_link(match.row_id, language, link_label)


def render_newer_version(match: Match, language: str) -> None:
    """What a newer document says about the row's item: otherwise (a warning), the same, or nothing linked."""
    # Row ids and document keys are slugs (validated by DocumentMeta), safe in markdown; code spans keep them literal.
    if match.newer_version and match.newer_version_differs:
        st.warning(t("newer_differs", language, row=f"`{match.newer_version}`"), icon=":material/update:")
    elif match.newer_version:
        if match.newer_version not in {other.row_id for other in match.same_as}:  # else `render_same_as` says it
            st.caption(t("newer_agrees", language, row=f"`{match.newer_version}`"))
    elif match.citation.superseded_by:
        newer = ", ".join(f"`{key}`" for key in match.citation.superseded_by)
        st.caption(t("newer_exists", language, documents=newer))


def render_same_as(match: Match, language: str) -> None:
    """The rows that say the same (translations, copies), named once here rather than listed as alternatives."""
    if match.same_as:
        newer = f", {t('newer_document', language)}"
        rows = ", ".join(
            f"`{other.row_id}` ({language_name(other.language)}{newer if other.row_id == match.newer_version else ''})"
            for other in match.same_as
        )
        st.caption(t("same_as", language, rows=rows))


def render_full(match: Match, language: str, key: str) -> None:
    """A row in full: its verbatim answer, the item it answers, its citation, Copy and the source link."""
    st.caption(t("verbatim", language))
    st.text(match.answer_text())
    if item_text(match):
        st.caption(t("item", language))
        st.text(item_text(match))
    st.caption(t("source", language))
    st.text(citation_block(match.citation, language))
    render_same_as(match, language)
    render_actions(match, language, key)


def render_disagreement(match: Match, language: str) -> None:
    """Beside a closest row that a current row of the same item contradicts: which one (a conflict card shows
    its rows side by side already; this is for the rows of a "no reliable answer")."""
    if match.disagrees_with:
        rows = ", ".join(f"`{row}`" for row in match.disagrees_with)
        st.warning(t("disagrees_with", language, rows=rows), icon=":material/compare_arrows:")


def render_match(match: Match, language: str, key: str) -> None:
    """A compact card for a closest row, an alternative or another vendor's row, with its own Copy."""
    with st.container(border=True):
        st.caption(t("rank_score", language, rank=match.rank, score=f"{match.score:.3f}"))
        with st.container(key=f"headline-{key}"):
            st.text(headline(match.citation, language))
        st.text(match.answer_text())
        if item_text(match):
            st.text(item_text(match))
        st.text(citation_line(match.citation, language))
        render_same_as(match, language)
        render_disagreement(match, language)
        render_newer_version(match, language)
        render_actions(match, language, key, "source_short")


def render_brief(match: Match, language: str, key: str) -> None:
    """A folded alternative in few elements (the history is drawn again on every rerun): rank, whose document,
    the answer and the citation in one text, then Copy and the source link."""
    with st.container(border=True):
        rank = t("rank_score", language, rank=match.rank, score=f"{match.score:.3f}")
        lines = [f"{rank} · {headline(match.citation, language)}", match.answer_text()]
        st.text("\n".join([*lines, citation_line(match.citation, language)]))
        render_same_as(match, language)
        render_disagreement(match, language)
        render_newer_version(match, language)
        render_actions(match, language, key, "source_short")


def render_outdated(result: AskResult, assistant: Assistant, language: str, key: str) -> None:
    """Older rows that state the answer's item otherwise: what each says, its citation and the current row's."""
    if not result.outdated:
        return
    st.warning(t("outdated_heading", language), icon=":material/history:")
    for number, old in enumerate(result.outdated):
        with st.container(border=True, key=f"outdated-{key}-{number}"):
            st.caption(t("outdated_says", language))
            st.text(old.answer_text())
            st.text(citation_line(old.citation, language))
            source_link(old.row_id, language, "source_short")
            if old.outdated_by:
                is_answer = result.answer is not None and old.outdated_by == result.answer.row_id
                st.caption(t("current_is_answer" if is_answer else "current_says", language))
                st.text(citation_line(assistant.citation(old.outdated_by), language))


def render_row_as_written(match: Match, language: str) -> None:
    """The cited row exactly as the file has it, and its cells by column when it is a checksheet row."""
    fields = match.fields
    if fields:
        st.dataframe(
            {"column": list(fields), "cell": list(fields.values())},
            hide_index=True,
            column_config={
                "column": st.column_config.TextColumn(t("column", language)),
                "cell": st.column_config.TextColumn(t("cell", language)),
            },
        )
    st.code(match.source_text, language=None, wrap_lines=True)


def render_more(result: AskResult, language: str, key: str) -> None:
    """Below a card: other vendors' rows (shown), then the alternatives and the plain text (folded)."""
    if result.other_vendors:
        st.caption(t("other_vendors_heading", language))
        for match in result.other_vendors:
            render_match(match, language, f"{key}-other-{match.row_id}")
    if result.alternatives and result.status != "no_answer":
        with st.expander(t("alternatives_expander", language, n=len(result.alternatives))):
            for match in result.alternatives:
                render_brief(match, language, f"{key}-alt-{match.row_id}")
    with st.expander(t("plain_text", language)):
        st.code(result_text(result, language), language=None, wrap_lines=True)


def render_answered(result: AskResult, answer: Match, assistant: Assistant, language: str, key: str) -> None:
    with st.container(border=True, key=f"card-answered-{key}"):
        render_top(result, "answered", language, key)
        render_full(answer, language, f"{key}-answer")
        if not result.outdated:
            render_newer_version(answer, language)
    render_outdated(result, assistant, language, key)
    with st.expander(t("row_as_written", language)):
        render_row_as_written(answer, language)
    render_more(result, language, key)


def render_conflict(result: AskResult, assistant: Assistant, language: str, key: str) -> None:
    with st.container(border=True, key=f"card-conflict-{key}"):
        render_top(result, "conflict", language, key)
        st.warning(t("conflict_note", language), icon=":material/compare_arrows:")
        for number, match in enumerate(result.conflicting, start=1):
            with st.container(border=True, key=f"conflicting-{key}-{number}"):
                st.caption(t("disagreeing_row", language, n=number, total=len(result.conflicting)))
                with st.container(key=f"headline-{key}-{number}"):
                    st.text(headline(match.citation, language))
                render_full(match, language, f"{key}-conflicting-{number}")
        copy_button(result_text(result, language), key=f"copy-all-{key}", language=language, label_key="copy_all")
    render_outdated(result, assistant, language, key)
    render_more(result, language, key)


def render_no_answer(result: AskResult, state: str, language: str, key: str) -> None:
    with st.container(border=True, key=f"card-{state}-{key}"):
        render_top(result, state, language, key)
        if state == "no_documents":
            st.info(t("no_documents_note", language), icon=":material/domain_disabled:")
            st.text(reason_text(result, language))  # "no documents for Slack: ..."
        elif state == "no_rows":
            st.info(t("no_rows_note", language), icon=":material/filter_alt_off:")
            st.text(reason_text(result, language))
        else:  # the numbers are at the top; the copied text carries the whole reason
            st.error(t("no_answer_note", language), icon=":material/help:")
        if result.alternatives and state == "no_answer":
            copy_button(result_text(result, language), key=f"copy-all-{key}", language=language, label_key="copy_all")
    if not result.alternatives:
        return
    if state == "no_documents":  # rows that mention the company are not about it: folded away
        with st.expander(t("rows_of_others", language)):
            for match in result.alternatives:
                render_brief(match, language, f"{key}-closest-{match.row_id}")
    else:
        st.caption(t("closest_heading", language))
        for match in result.alternatives:
            render_match(match, language, f"{key}-closest-{match.row_id}")
    with st.expander(t("plain_text", language)):
        st.code(result_text(result, language), language=None, wrap_lines=True)


def render_turn(turn: Exchange, assistant: Assistant, language: str, *, just_asked: bool = False) -> None:
    """One question and its card (or error), as shown live and when the history is replayed."""
    render_question(turn.question)
    with st.chat_message("assistant", avatar=":material/verified_user:"):
        if just_asked:
            scroll_into_view(key=f"scroll-{turn.id}")
        if turn.error is not None:
            st.error(t("question_error", language), icon=":material/block:")
            st.text(turn.error)
            return
        result = turn.result
        if result is None:
            return
        state = card_state(result)
        if state == "answered" and result.answer is not None:
            render_answered(result, result.answer, assistant, language, turn.id)
        elif state == "conflict":
            render_conflict(result, assistant, language, turn.id)
        else:
            render_no_answer(result, state, language, turn.id)
        render_rating(turn, result, assistant, language)
