"""Chat page: ask a security question, get the vendor's own answer, verbatim and cited."""

from __future__ import annotations

import streamlit as st

from assistant.errors import QuestionError

from cards import Turn, language_name, render_turn
from loading import get_assistant

assistant = get_assistant()

with st.sidebar:
    st.header("Search")
    vendor: str | None = st.selectbox(
        "Vendor", [None, *assistant.vendors], format_func=lambda v: "All vendors" if v is None else v, key="vendor"
    )
    language: str | None = st.selectbox(
        "Answer language", [None, *assistant.languages], format_func=language_name, key="language"
    )
    alternatives: int = st.slider(
        "Alternatives to show", 0, 10, max(assistant.settings.default_k - 1, 0), key="alternatives"
    )
    st.caption("Index")
    st.text(
        f"{len(assistant.rows)} rows from {len(assistant.documents)} documents\n"
        f"model {assistant.embedder.name}\nanswer threshold {assistant.threshold:.2f}"
    )
    if st.button("Clear the conversation", icon=":material/delete:"):
        st.session_state.turns = []

st.title("Security checksheet assistant")
st.caption(
    "Answers are the vendors' own words, quoted from their security documents with a citation you can check. "
    "Ask in English, 日本語 or 한국어."
)

turns: list[Turn] = st.session_state.setdefault("turns", [])
for turn in turns:
    render_turn(turn, assistant)

if question := st.chat_input("Ask a security question, e.g. バックアップは何世代保持していますか？"):
    try:
        turn = Turn(question, result=assistant.ask(question, vendor=vendor, language=language, k=alternatives + 1))
    except QuestionError as error:
        turn = Turn(question, error=str(error))
    turns.append(turn)
    render_turn(turn, assistant)
