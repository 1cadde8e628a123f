"""Thumbs up or down under each answer, and after a thumbs down the row that would have been right (optional)."""

from __future__ import annotations

import streamlit as st

from assistant.answers import AskResult
from assistant.errors import AssistantError
from assistant.feedback import FeedbackEntry, FeedbackLog, Rating, shown_rows
from assistant.retrieval import Assistant
from assistant.transcripts import Exchange

from texts import t

#: How much of a row's answer the row picker shows beside its id.
PICKER_CHARS = 60


def _save(
    turn: Exchange, result: AskResult, assistant: Assistant, language: str, rating: Rating, row: str | None
) -> None:
    entry = FeedbackEntry.of(turn.id, result, rating, correct_row=row, ui_language=language)
    try:
        FeedbackLog(assistant.settings.data_dir).append(entry)
    except AssistantError as error:
        st.session_state[f"rating-error-{turn.id}"] = str(error)
        return
    st.session_state.pop(f"rating-error-{turn.id}", None)
    st.session_state[f"rated-{turn.id}"] = (rating, row)


def _thumbs_changed(turn: Exchange, result: AskResult, assistant: Assistant, language: str) -> None:
    value = st.session_state.get(f"thumbs-{turn.id}")
    if value is not None:  # a thumbs down is saved at once; the right row, if given, replaces it
        _save(turn, result, assistant, language, "up" if value == 1 else "down", None)


def render_rating(turn: Exchange, result: AskResult, assistant: Assistant, language: str) -> None:
    """The thumbs, what was saved, and after a thumbs down a form for the right row (picked or typed)."""
    with st.container(horizontal=True, vertical_alignment="center", key=f"rating-{turn.id}"):
        st.caption(t("rate", language))
        thumbs = st.feedback(
            "thumbs", key=f"thumbs-{turn.id}", on_change=_thumbs_changed, args=(turn, result, assistant, language)
        )
    if error := st.session_state.get(f"rating-error-{turn.id}"):
        st.error(t("feedback_error", language), icon=":material/error:")
        st.text(error)
    saved = st.session_state.get(f"rated-{turn.id}")
    if saved is not None and thumbs is not None:
        st.caption(t("feedback_saved", language))
        if saved[1]:
            st.text(f"{t('feedback_saved_row', language)} {saved[1]}")
    if thumbs != 0:
        return
    answers = {m.row_id: m.answer_text() for m in [*result.conflicting, *result.outdated, *result.alternatives]}
    answers |= {m.row_id: m.answer_text() for m in result.other_vendors}
    if result.answer is not None:
        answers[result.answer.row_id] = result.answer.answer_text()
    options: list[str | None] = [None, *shown_rows(result)]

    def option(row: str | None) -> str:
        if row is None:
            return t("none_of_these", language)
        text = " ".join(answers.get(row, "").split())
        return f"{row} — {text[:PICKER_CHARS]}{'…' if len(text) > PICKER_CHARS else ''}"

    with st.form(key=f"correct-{turn.id}", border=False, enter_to_submit=False):
        picked = st.selectbox(t("correct_row", language), options, format_func=option, key=f"pick-{turn.id}")
        typed = st.text_input(t("typed_row", language), key=f"typed-{turn.id}", placeholder="wevox/meti-checksheet#32")
        sent = st.form_submit_button(t("send_feedback", language), icon=":material/send:")
    if not sent:
        return
    row = typed.strip() or picked
    if row is not None:
        try:
            assistant.row(row)
        except AssistantError:
            st.error(t("unknown_row", language), icon=":material/error:")
            st.text(row)
            return
    _save(turn, result, assistant, language, "down", row)
    st.rerun()
