"""Source view: the cited lines of a row in its document, numbered and highlighted; bookmarkable as ?row=<row id>."""

from __future__ import annotations

import streamlit as st

from assistant.citations import line_span
from assistant.errors import AssistantError

from cards import CHAT_PAGE, FILTER_KEYS, render_source
from loading import get_assistant

st.set_page_config(layout="wide")

# Widgets of the chat page are not drawn here; re-assigning their values keeps them for the way back.
for key in FILTER_KEYS:
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]

assistant = get_assistant()

with st.sidebar:
    row_id = st.text_input("Row id", value=st.query_params.get("row", ""), placeholder="wevox/meti-checksheet#32")
    context: int = st.slider("Lines of context either side", 0, 50, 6)
if row_id != st.query_params.get("row", ""):  # keep the address bar bookmarkable
    if row_id:
        st.query_params["row"] = row_id
    else:
        del st.query_params["row"]

st.title("Source view")
st.page_link(CHAT_PAGE, label="Back to the chat", icon=":material/arrow_back:")
if not row_id:
    st.info("Open this page from an answer's source link, or enter a row id in the sidebar.")
    st.stop()

try:
    view = assistant.source(row_id, context=context)
    row = assistant.row(row_id)
except AssistantError as error:
    st.error("This row cannot be shown:")
    st.code(str(error), language=None)
    st.stop()

meta = assistant.documents[row.document_id]
as_of = f"as of {meta.as_of.isoformat()}" if meta.as_of else "undated"
span = line_span(view.line_start, view.line_end, view.sheet)
st.text(
    f"Row: {view.row_id}\n"
    f"Vendor: {meta.vendor}\n"
    f"Document: {meta.title} ({as_of})\n"
    f"File: {view.file}, {span} of {view.total_lines}"
)
if not view.matches_index:
    st.warning(
        "The file no longer has the quoted text at these lines: the document changed after the index was built. "
        "Rebuild the index (`assistant build`) before relying on this citation.",
        icon="⚠️",
    )
render_source(view)
