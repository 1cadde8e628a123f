"""Questionnaire page: upload a customer's questionnaire, fill it from one vendor's documents, download the copy.

Text from the file or the documents is shown only in dataframe cells, ``st.text`` and widget options (plain text).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import streamlit as st

from assistant.citations import citation_line, language_name
from assistant.errors import AssistantError
from assistant.questionnaire import (
    FillReport,
    Questionnaire,
    Source,
    default_output,
    detect_questionnaire,
    fill,
    filled_bytes,
    read_source,
)
from assistant.questionnaire.grids import Grid
from assistant.questionnaire.models import ROW_STATUSES, FilledRow

from cards import source_link
from loading import get_assistant
from texts import t, ui_language

FILTERS = ("all", "review", *ROW_STATUSES)
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    "csv": "text/csv",
}

st.set_page_config(layout="wide")  # the results table has fourteen columns
assistant = get_assistant()
lang = ui_language()
st.title(t("q_title", lang))
st.caption(t("q_intro", lang))


def _key(data: bytes, name: str) -> str:
    return f"{name}\0{hashlib.sha256(data).hexdigest()}"


def _read(data: bytes, name: str, key: str) -> Source | str:
    """The file read once per upload (kept in the session), or the error that says how to fix it."""
    cache: dict[str, Source | str] = st.session_state.setdefault("q_sources", {})
    if key not in cache:
        cache.clear()
        try:
            cache[key] = read_source(data, name)
        except AssistantError as error:
            cache[key] = str(error)
    return cache[key]


def _column_label(grid: Grid, header_row: int | None, letter: str | None) -> str:
    if letter is None:
        return t("q_detected_column", lang)
    from openpyxl.utils import column_index_from_string

    header = grid.cell(header_row, column_index_from_string(letter)) if header_row else ""
    return f"{letter} · {header}" if header else letter


def _choosers(source: Source, detected: Questionnaire) -> tuple[str | None, str | None]:
    """Sheet and question column chosen by the user (shown when detection is unsure, or when asked for)."""
    if detected.sure and not st.checkbox(t("q_choose", lang), key="q_choose"):
        return None, None
    if not detected.sure:
        st.warning(t("q_unsure", lang), icon=":material/search:")
    names = [grid.name for grid in source.grids]
    sheet: str | None = st.selectbox(
        t("q_sheet", lang),
        [None, *names],
        format_func=lambda s: t("q_all_sheets", lang) if s is None else s,
        key="q_sheet",
    )
    if sheet is None:
        return None, None
    grid = next(g for g in source.grids if g.name == sheet)
    layout = detected.layout(sheet)
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(c) for c in range(1, grid.width + 1)]
    column: str | None = st.selectbox(
        t("q_column", lang),
        [None, *letters],
        format_func=lambda c: _column_label(grid, layout.header_row, c),
        key="q_column",
    )
    return sheet, column


def _layout_table(questionnaire: Questionnaire) -> pd.DataFrame:
    rows = []
    for layout in questionnaire.layouts:
        if layout.skipped:
            found = t("q_skipped", lang).format(reason=layout.skipped)
        else:
            found = t("q_questions", lang).format(count=layout.questions)
        question = f"{layout.question_column} · {layout.question_header}" if layout.question_column else ""
        answer = f"{layout.answer_column} · {layout.answer_header}" if layout.answer_column else ""
        how = "" if layout.skipped else f"{layout.how} ({t('q_named', lang) if layout.sure else t('q_guessed', lang)})"
        rows.append(
            {
                t("q_col_sheet", lang): layout.sheet,
                t("q_col_found", lang): found,
                t("q_col_header_row", lang): str(layout.header_row or ""),
                t("q_col_question_column", lang): question,
                t("q_col_answer_column", lang): answer,
                t("q_col_output", lang): layout.output_column or "",
                t("q_col_how", lang): how,
            }
        )
    return pd.DataFrame(rows)


def _preview(questionnaire: Questionnaire, per_sheet: int = 5) -> pd.DataFrame:
    shown: dict[str, int] = {}
    rows = []
    for question in questionnaire.questions:
        if shown.setdefault(question.sheet, 0) < per_sheet:
            shown[question.sheet] += 1
            rows.append(
                {
                    t("q_col_sheet", lang): question.sheet,
                    t("q_col_row", lang): question.row,
                    t("q_col_no", lang): question.item_no,
                    t("q_col_category", lang): question.category,
                    t("q_col_question", lang): question.text,
                }
            )
    return pd.DataFrame(rows)


def _status_label(status: str) -> str:
    return t(f"q_{status}", lang)


def _source_url(row: FilledRow) -> str | None:
    """The source view of the row's (first) cited row, as cards.source_link addresses it."""
    return f"source?row={quote(row.sources[0].row_id, safe='')}" if row.sources else None


def _results_table(rows: list[FilledRow]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            t("q_col_sheet", lang): [r.sheet for r in rows],
            t("q_col_row", lang): [r.row for r in rows],
            t("q_col_no", lang): [r.item_no for r in rows],
            t("q_col_question", lang): [r.question for r in rows],
            t("q_col_status", lang): [_status_label(r.status) for r in rows],
            t("q_col_review", lang): [t("q_yes", lang) if r.review else "" for r in rows],
            t("q_col_yes_no", lang): [r.normalised for r in rows],
            t("q_col_answer", lang): [r.answer for r in rows],
            t("q_col_confidence", lang): [r.confidence for r in rows],
            t("q_col_level", lang): [r.level or "" for r in rows],
            t("q_col_source", lang): ["\n".join(citation_line(s) for s in r.sources) for r in rows],
            t("q_col_row_id", lang): ["\n".join(s.row_id for s in r.sources) for r in rows],
            t("q_col_link", lang): [_source_url(r) for r in rows],
            t("q_col_note", lang): [r.note for r in rows],
        }
    )


def _show_results(report: FillReport, data: bytes, file_name: str, kind: str) -> None:
    st.subheader(t("q_results", lang))
    st.text(
        t("q_filled", lang).format(
            total=len(report.rows), name=report.input, vendor=report.vendor, seconds=f"{report.seconds:.1f}"
        )
    )
    columns = st.columns(len(ROW_STATUSES) + 1)
    for column, status in zip(columns, ROW_STATUSES, strict=False):
        column.metric(_status_label(status), report.counts[status])
    columns[-1].metric(t("q_review", lang), report.review)
    shown: str = st.radio(
        t("q_filter", lang),
        FILTERS,
        format_func=lambda f: t(f"q_{f}", lang),
        horizontal=True,
        key="q_filter",
    )
    if shown == "all":
        rows = report.rows
    elif shown == "review":
        rows = report.to_review
    else:
        rows = [r for r in report.rows if r.status == shown]
    st.dataframe(
        _results_table(rows),
        hide_index=True,
        column_config={
            t("q_col_confidence", lang): st.column_config.NumberColumn(format="%.3f"),
            t("q_col_link", lang): st.column_config.LinkColumn(display_text=t("q_open", lang)),
            t("q_col_answer", lang): st.column_config.TextColumn(width="large"),
            t("q_col_question", lang): st.column_config.TextColumn(width="medium"),
        },
        key="q_table",
    )
    st.download_button(
        t("q_download", lang),
        data,
        file_name=file_name,
        mime=MIME.get(kind, "application/octet-stream"),
        type="primary",
        icon=":material/download:",
    )
    cited = [r for r in report.rows if r.sources]
    if cited:
        choice: FilledRow | None = st.selectbox(
            t("q_source_pick", lang),
            cited,
            format_func=lambda r: f"{r.sheet}!{r.row} · {r.item_no} · {r.question[:60]}",
            key="q_source_row",
        )
        if choice is not None:
            for source in choice.sources:
                source_link(source.row_id, lang, label=f"{t('q_source_link', lang)}: {source.row_id}")


def _run(questionnaire: Questionnaire, vendor: str, language: str | None, key: str) -> None:
    """Fill with a progress bar; keep the report and the filled file in the session (they outlive the upload)."""
    bar = st.progress(0.0, text=t("q_progress", lang).format(done=0, total=len(questionnaire.questions)))

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=t("q_progress", lang).format(done=done, total=total))

    try:
        report = fill(questionnaire, assistant, vendor=vendor, language=language, progress=progress)
        with st.spinner(t("q_writing", lang)):
            data = filled_bytes(questionnaire, report)
    except AssistantError as error:
        bar.empty()
        st.error(t("q_fill_error", lang))
        st.text(str(error))
        return
    name = default_output(Path(questionnaire.source.name)).name
    report = report.model_copy(update={"output": name})
    st.session_state["q_result"] = (key, report, data, name, questionnaire.source.kind)


uploaded: Any = st.file_uploader(t("q_upload", lang), type=["xlsx", "xlsm", "csv", "tsv", "txt", "xls"], key="q_file")
if uploaded is not None:
    data = uploaded.getvalue()
    file_key = _key(data, uploaded.name)
    if st.session_state.get("q_result", (file_key,))[0] != file_key:
        del st.session_state["q_result"]  # a new file: the results of the last one go
    source = _read(data, uploaded.name, file_key)
    if isinstance(source, str):
        st.error(t("q_read_error", lang))
        st.text(source)
        st.stop()
    try:
        detected = detect_questionnaire(source)
        sheet, column = _choosers(source, detected)
        questionnaire = detect_questionnaire(source, sheet=sheet, question_column=column)
    except AssistantError as error:
        st.error(t("q_read_error", lang))
        st.text(str(error))
        st.stop()
    st.text(
        t("q_file", lang).format(name=source.name, sheets=len(source.grids), questions=len(questionnaire.questions))
    )
    if source.losses:
        st.warning(t("q_losses", lang), icon=":material/warning:")
        st.text("\n".join(source.losses))
    # Open until the questionnaire is filled, or while the detection needs checking.
    with st.expander(t("q_detected", lang), expanded="q_result" not in st.session_state or not questionnaire.sure):
        st.dataframe(_layout_table(questionnaire), hide_index=True, key="q_layouts")
        if questionnaire.questions:
            st.caption(t("q_preview", lang))
            st.dataframe(_preview(questionnaire), hide_index=True, key="q_preview")
    if not questionnaire.questions:
        st.warning(t("q_no_questions", lang), icon=":material/search:")
        st.stop()
    vendor: str | None = st.selectbox(
        t("q_vendor", lang), assistant.vendors, index=None, placeholder=t("q_vendor_placeholder", lang), key="q_vendor"
    )
    language: str | None = st.selectbox(
        t("q_language", lang),
        [None, *assistant.languages],
        format_func=lambda code: t("q_any_language", lang) if code is None else language_name(code),
        key="q_language",
    )
    if st.button(t("q_fill", lang), type="primary", disabled=vendor is None, icon=":material/checklist:") and vendor:
        _run(questionnaire, vendor, language, file_key)
else:
    st.info(t("q_start", lang))

if "q_result" in st.session_state:
    _show_results(*st.session_state["q_result"][1:])
