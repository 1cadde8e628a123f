"""The source view's parts: the lines around a citation (numbered, wrapped, the cited ones highlighted) and the
auditor's checklist of a document. Document text goes through st.text and st.code only."""

from __future__ import annotations

import streamlit as st

from assistant.answers import answer_text
from assistant.audit import checklist
from assistant.citations import citation_line
from assistant.corpus.models import Row
from assistant.retrieval import Assistant
from assistant.sources import SourceView

from cards import SOURCE_PAGE
from texts import t


def numbered_listing(view: SourceView) -> str:
    """The lines as plain text, each with its number, the cited ones marked ▶ (for copying into a report)."""
    width = len(str(view.lines[-1].number)) if view.lines else 1
    return "\n".join(f"{'▶' if line.cited else ' '} {line.number:>{width}}  {line.text}" for line in view.lines)


def render_lines(view: SourceView, language: str) -> None:
    """One row per line: its number and its text, wrapped to the page (nothing is cut off), cited lines marked."""
    st.caption(t("lines_legend", language))
    with st.container(key="source-lines", gap=None):
        for line in view.lines:
            state = "cited" if line.cited else "plain"
            with st.container(horizontal=True, wrap=False, gap="small", key=f"line-{state}-{line.number}"):
                with st.container(width=72, key=f"lineno-{line.number}"):
                    st.text(f"{'▶' if line.cited else ' '} {line.number}")
                # Tabs separate the cells of checksheet rows: shown as ⇥ here, kept as tabs in the quote below.
                st.text(line.text.replace("\t", " ⇥ ") or " ", width="stretch")


def render_source(view: SourceView, language: str) -> None:
    """The lines around a citation, then the cited lines exactly as written, then all of them numbered."""
    render_lines(view, language)
    st.caption(t("cited_exact", language))
    st.code("\n".join(line.text for line in view.lines if line.cited), language=None, wrap_lines=True)
    with st.expander(t("numbered", language)):
        st.code(numbered_listing(view), language=None, wrap_lines=True)


def _said(row: Row) -> str:
    return answer_text(row.answer, row.detail, row.notes, row.source_text)


def _side(assistant: Assistant, row: Row, caption: str, language: str) -> None:
    st.caption(caption)
    st.text(_said(row))
    st.text(citation_line(assistant.citation(row.id), language))
    st.page_link(SOURCE_PAGE, label=row.id, icon=":material/description:", query_params={"row": row.id})


def render_checklist(assistant: Assistant, document_id: str, language: str) -> None:
    """The document's rows that a newer document or another language states otherwise, with both citations."""
    findings = checklist(document_id, assistant.rows, assistant.index.links)
    st.subheader(t("checklist_title", language), anchor="checklist")
    st.caption(t("checklist_intro", language))
    if not findings:
        st.info(t("checklist_empty", language), icon=":material/task_alt:")
        return
    counts = {kind: sum(f.kind == kind for f in findings) for kind in ("outdated", "disagrees")}
    st.text(t("checklist_count", language, **counts))
    for number, finding in enumerate(findings, start=1):
        row, other = assistant.row(finding.row), assistant.row(finding.other)
        with st.container(border=True, key=f"finding-{finding.kind}-{number}"):
            if finding.kind == "outdated":
                st.badge(t("finding_outdated", language), icon=":material/history:", color="gray")
            else:
                st.badge(t("finding_disagrees", language), icon=":material/compare_arrows:", color="orange")
            left, right = st.columns(2)
            with left:
                _side(assistant, row, t("this_says", language), language)
            with right:
                caption = t("newer_says" if finding.kind == "outdated" else "other_says", language)
                _side(assistant, other, caption, language)
