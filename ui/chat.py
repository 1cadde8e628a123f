"""Chat page: ask a security question, get the vendor's own answer, verbatim and cited."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from assistant.citations import language_name
from assistant.errors import QuestionError
from assistant.transcripts import Exchange, csv_text, markdown
from assistant.validation import without_lone_surrogates

from cards import render_turn
from loading import get_assistant
from texts import t, ui_language

assistant = get_assistant()
lang = ui_language()

with st.sidebar:
    st.header(t("search", lang))
    vendor: str | None = st.selectbox(
        t("vendor", lang),
        [None, *assistant.vendors],
        format_func=lambda v: t("all_vendors", lang) if v is None else v,
        key="vendor",
    )
    language: str | None = st.selectbox(
        t("answer_language", lang),
        [None, *assistant.languages],
        format_func=lambda code: t("any_language", lang) if code is None else f"{language_name(code)} ({code})",
        key="language",
    )
    alternatives: int = st.slider(
        t("alternatives", lang), 0, 10, max(assistant.settings.default_k - 1, 0), key="alternatives"
    )
    st.caption(t("index", lang))
    threshold = f"{assistant.threshold:.2f}"
    documents = len(assistant.documents)
    st.text(
        t(
            "index_summary",
            lang,
            rows=len(assistant.rows),
            documents=documents,
            model=assistant.embedder.name,
            threshold=threshold,
        )
    )
    if st.button(t("clear", lang), icon=":material/delete:"):
        st.session_state.turns = []

st.title(t("title", lang))
st.caption(t("intro", lang))

turns: list[Exchange] = st.session_state.setdefault("turns", [])
for turn in turns:
    render_turn(turn, assistant, lang)

if question := st.chat_input(t("chat_placeholder", lang)):
    question = without_lone_surrogates(question)  # as the library reads it; the page and downloads need UTF-8
    try:
        turn = Exchange(question, result=assistant.ask(question, vendor=vendor, language=language, k=alternatives + 1))
    except QuestionError as error:
        turn = Exchange(question, error=str(error))
    turns.append(turn)
    render_turn(turn, assistant, lang, just_asked=True)

if turns:  # drawn last, so that the question just asked is in the download
    with st.sidebar:
        st.caption(t("export", lang))
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
        with st.container(horizontal=True):
            st.download_button(
                t("export_markdown", lang),
                markdown(turns, lang),
                file_name=f"checksheet-conversation-{stamp}.md",
                mime="text/markdown",
                icon=":material/download:",
                on_click="ignore",
                key="export-markdown",
            )
            st.download_button(
                t("export_csv", lang),
                # With a byte-order mark, Excel opens the UTF-8 file as UTF-8 (Japanese and Korean intact).
                csv_text(turns, lang).encode("utf-8-sig"),
                file_name=f"checksheet-conversation-{stamp}.csv",
                mime="text/csv",
                icon=":material/table_view:",
                on_click="ignore",
                key="export-csv",
            )
