"""Source view: the cited lines of a row in its document, and the document's checklist for an auditor.

Bookmarkable: ``?row=<row id>``, ``?item=43`` (the document's own item number; ``&doc=<document>`` when several
documents have it) or ``?doc=<document>`` (the checklist only).
"""

from __future__ import annotations

import streamlit as st

from assistant.audit import rows_with_item
from assistant.citations import document_text, label, line_span
from assistant.corpus.models import Row
from assistant.errors import AssistantError

from cards import CHAT_PAGE, FILTER_KEYS
from listing import render_checklist, render_source
from loading import get_assistant
from texts import t, ui_language

st.set_page_config(layout="wide")

# Widgets of the chat page are not drawn here; re-assigning their values keeps them for the way back.
for key in FILTER_KEYS:
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]

assistant = get_assistant()
lang = ui_language()
documents = sorted(assistant.documents)


def _param(name: str) -> str:
    return st.query_params.get(name, "")


with st.sidebar:
    row_id = st.text_input(t("row_id", lang), value=_param("row"), placeholder="wevox/meti-checksheet#32").strip()
    item = st.text_input(t("item_no", lang), value=_param("item"), placeholder="43").strip()
    chosen = _param("doc") if _param("doc") in documents else None
    document: str | None = st.selectbox(
        t("document", lang),
        [None, *documents],
        index=0 if chosen is None else documents.index(chosen) + 1,
        format_func=lambda key: t("all_documents", lang) if key is None else key,
    )
    context: int = st.slider(t("context", lang), 0, 50, 6)
# Keep the address bar bookmarkable.
for name, value in (("row", row_id), ("item", item), ("doc", document or "")):
    if value != _param(name):
        if value:
            st.query_params[name] = value
        else:
            del st.query_params[name]

st.title(t("nav_source", lang))
st.page_link(CHAT_PAGE, label=t("back", lang), icon=":material/arrow_back:")

if item and not row_id:
    found = rows_with_item(assistant.rows, item, document)
    if not found:
        st.error(t("no_item", lang), icon=":material/search_off:")
        st.text(item)
        st.stop()
    in_documents = sorted({row.document_id for row in found})
    if len(in_documents) > 1:
        st.info(t("item_documents", lang), icon=":material/description:")
        picked = st.selectbox(t("document", lang), in_documents, key="item-document")
        found = [row for row in found if row.document_id == picked]

    def _row_label(row: Row) -> str:
        return f"{row.id} ({row.language}) · {label('item_no', lang, number=row.item_no)}"

    picked_row: Row = st.selectbox(t("row_choice", lang), found, format_func=_row_label, key="item-row")
    row_id = picked_row.id

if not row_id:
    if document is None:
        st.info(t("source_empty", lang), icon=":material/info:")
        st.stop()
    render_checklist(assistant, document, lang)
    st.stop()

try:
    view = assistant.source(row_id, context=context)
    row = assistant.row(row_id)
except AssistantError as error:
    st.error(t("cannot_show", lang), icon=":material/error:")
    st.code(str(error), language=None)
    st.stop()

citation = assistant.citation(row_id)
item_no = f" · {label('item_no', lang, number=row.item_no)}" if row.item_no else ""
st.text(
    t(
        "source_header",
        lang,
        row=f"{view.row_id}{item_no}",
        vendor=citation.vendor,
        document=document_text(citation, lang),
        file=view.file,
        span=line_span(view.line_start, view.line_end, view.sheet, lang),
        total=view.total_lines,
    )
)
if not view.matches_index:
    st.warning(t("file_changed", lang), icon=":material/warning:")
render_source(view, lang)
render_checklist(assistant, row.document_id, lang)
