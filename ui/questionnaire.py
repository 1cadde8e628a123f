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

#: Every user-facing string of the page (to be translated to 日本語 and 한국어).
TEXT: dict[str, str] = {
    "title": "Fill a questionnaire",
    "intro": "Upload a customer's questionnaire (.xlsx, .xlsm or .csv). Each question is answered with the vendor's "
    "own words and a citation; rows that need a person are flagged and highlighted in the file.",
    "upload": "Questionnaire file",
    "start": "Upload a questionnaire to begin.",
    "read_error": "This file cannot be filled:",
    "file": "File: {name} ({sheets} sheets, {questions} questions found)",
    "unsure": "The question column was guessed, not named by a header. Check the preview below, and choose the "
    "sheet and the question column if it is wrong.",
    "choose": "Choose the sheet and the question column myself",
    "sheet": "Sheet",
    "all_sheets": "Every question sheet",
    "column": "Question column",
    "detected_column": "As detected",
    "detected": "What was found",
    "preview": "The first questions of each sheet",
    "no_questions": "No questions were found. Choose the sheet and the question column.",
    "losses": "The filled copy will not keep everything of this workbook (check the copy before sending it):",
    "writing": "Writing the filled file…",
    "vendor": "Vendor whose documents answer",
    "vendor_placeholder": "Choose the vendor",
    "language": "Answer language",
    "any_language": "Any language",
    "fill": "Fill the questionnaire",
    "progress": "Answering question {done} of {total}",
    "filled": "Filled {total} questions of {name} from {vendor}'s documents in {seconds:.1f} s",
    "fill_error": "The questionnaire could not be filled:",
    "results": "Results",
    "filter": "Show",
    "download": "Download the filled file",
    "source_pick": "Row to check in the source view",
    "source_link": "Open the cited lines in the source view",
    "review": "needs review",
    "all": "all rows",
    "answered": "answered",
    "conflict": "conflict",
    "no_answer": "no answer",
    "error": "error",
    "yes": "yes",
    "skipped": "skipped: {reason}",
    "questions": "{count} questions",
    "guessed": "guessed",
    "named": "named by the header",
    "open": "open",
    # Column names of the tables.
    "col_sheet": "Sheet",
    "col_row": "Row",
    "col_no": "No.",
    "col_category": "Category",
    "col_question": "Question",
    "col_status": "Status",
    "col_review": "Review",
    "col_yes_no": "Yes/No",
    "col_answer": "Answer (verbatim)",
    "col_confidence": "Confidence",
    "col_level": "Level",
    "col_source": "Source",
    "col_row_id": "Row id",
    "col_link": "Source view",
    "col_note": "Note",
    "col_found": "Found",
    "col_header_row": "Header row",
    "col_question_column": "Question column",
    "col_answer_column": "Answer column",
    "col_output": "Added columns from",
    "col_how": "How",
}
FILTERS = ("all", "review", *ROW_STATUSES)
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    "csv": "text/csv",
}

st.set_page_config(layout="wide")  # the results table has fourteen columns
assistant = get_assistant()
st.title(TEXT["title"])
st.caption(TEXT["intro"])


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
        return TEXT["detected_column"]
    from openpyxl.utils import column_index_from_string

    header = grid.cell(header_row, column_index_from_string(letter)) if header_row else ""
    return f"{letter} · {header}" if header else letter


def _choosers(source: Source, detected: Questionnaire) -> tuple[str | None, str | None]:
    """Sheet and question column chosen by the user (shown when detection is unsure, or when asked for)."""
    if detected.sure and not st.checkbox(TEXT["choose"], key="q_choose"):
        return None, None
    if not detected.sure:
        st.warning(TEXT["unsure"], icon="🔎")
    names = [grid.name for grid in source.grids]
    sheet: str | None = st.selectbox(
        TEXT["sheet"], [None, *names], format_func=lambda s: TEXT["all_sheets"] if s is None else s, key="q_sheet"
    )
    if sheet is None:
        return None, None
    grid = next(g for g in source.grids if g.name == sheet)
    layout = detected.layout(sheet)
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(c) for c in range(1, grid.width + 1)]
    column: str | None = st.selectbox(
        TEXT["column"],
        [None, *letters],
        format_func=lambda c: _column_label(grid, layout.header_row, c),
        key="q_column",
    )
    return sheet, column


def _layout_table(questionnaire: Questionnaire) -> pd.DataFrame:
    rows = []
    for layout in questionnaire.layouts:
        if layout.skipped:
            found = TEXT["skipped"].format(reason=layout.skipped)
        else:
            found = TEXT["questions"].format(count=layout.questions)
        question = f"{layout.question_column} · {layout.question_header}" if layout.question_column else ""
        answer = f"{layout.answer_column} · {layout.answer_header}" if layout.answer_column else ""
        how = "" if layout.skipped else f"{layout.how} ({TEXT['named'] if layout.sure else TEXT['guessed']})"
        rows.append(
            {
                TEXT["col_sheet"]: layout.sheet,
                TEXT["col_found"]: found,
                TEXT["col_header_row"]: str(layout.header_row or ""),
                TEXT["col_question_column"]: question,
                TEXT["col_answer_column"]: answer,
                TEXT["col_output"]: layout.output_column or "",
                TEXT["col_how"]: how,
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
                    TEXT["col_sheet"]: question.sheet,
                    TEXT["col_row"]: question.row,
                    TEXT["col_no"]: question.item_no,
                    TEXT["col_category"]: question.category,
                    TEXT["col_question"]: question.text,
                }
            )
    return pd.DataFrame(rows)


def _status_label(status: str) -> str:
    return TEXT[status]


def _source_url(row: FilledRow) -> str | None:
    """The source view of the row's (first) cited row, as cards.source_link addresses it."""
    return f"source?row={quote(row.sources[0].row_id, safe='')}" if row.sources else None


def _results_table(rows: list[FilledRow]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            TEXT["col_sheet"]: [r.sheet for r in rows],
            TEXT["col_row"]: [r.row for r in rows],
            TEXT["col_no"]: [r.item_no for r in rows],
            TEXT["col_question"]: [r.question for r in rows],
            TEXT["col_status"]: [_status_label(r.status) for r in rows],
            TEXT["col_review"]: [TEXT["yes"] if r.review else "" for r in rows],
            TEXT["col_yes_no"]: [r.normalised for r in rows],
            TEXT["col_answer"]: [r.answer for r in rows],
            TEXT["col_confidence"]: [r.confidence for r in rows],
            TEXT["col_level"]: [r.level or "" for r in rows],
            TEXT["col_source"]: ["\n".join(citation_line(s) for s in r.sources) for r in rows],
            TEXT["col_row_id"]: ["\n".join(s.row_id for s in r.sources) for r in rows],
            TEXT["col_link"]: [_source_url(r) for r in rows],
            TEXT["col_note"]: [r.note for r in rows],
        }
    )


def _show_results(report: FillReport, data: bytes, file_name: str, kind: str) -> None:
    st.subheader(TEXT["results"])
    st.text(
        TEXT["filled"].format(total=len(report.rows), name=report.input, vendor=report.vendor, seconds=report.seconds)
    )
    columns = st.columns(len(ROW_STATUSES) + 1)
    for column, status in zip(columns, ROW_STATUSES, strict=False):
        column.metric(_status_label(status), report.counts[status])
    columns[-1].metric(TEXT["review"], report.review)
    shown: str = st.radio(
        TEXT["filter"],
        FILTERS,
        format_func=lambda f: TEXT[f],
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
            TEXT["col_confidence"]: st.column_config.NumberColumn(format="%.3f"),
            TEXT["col_link"]: st.column_config.LinkColumn(display_text=TEXT["open"]),
            TEXT["col_answer"]: st.column_config.TextColumn(width="large"),
            TEXT["col_question"]: st.column_config.TextColumn(width="medium"),
        },
        key="q_table",
    )
    st.download_button(
        TEXT["download"],
        data,
        file_name=file_name,
        mime=MIME.get(kind, "application/octet-stream"),
        type="primary",
        icon=":material/download:",
    )
    cited = [r for r in report.rows if r.sources]
    if cited:
        choice: FilledRow | None = st.selectbox(
            TEXT["source_pick"],
            cited,
            format_func=lambda r: f"{r.sheet}!{r.row} · {r.item_no} · {r.question[:60]}",
            key="q_source_row",
        )
        if choice is not None:
            for source in choice.sources:
                source_link(source.row_id, "en", label=f"{TEXT['source_link']}: {source.row_id}")


def _run(questionnaire: Questionnaire, vendor: str, language: str | None, key: str) -> None:
    """Fill with a progress bar; keep the report and the filled file in the session (they outlive the upload)."""
    bar = st.progress(0.0, text=TEXT["progress"].format(done=0, total=len(questionnaire.questions)))

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=TEXT["progress"].format(done=done, total=total))

    try:
        report = fill(questionnaire, assistant, vendor=vendor, language=language, progress=progress)
        with st.spinner(TEXT["writing"]):
            data = filled_bytes(questionnaire, report)
    except AssistantError as error:
        bar.empty()
        st.error(TEXT["fill_error"])
        st.text(str(error))
        return
    name = default_output(Path(questionnaire.source.name)).name
    report = report.model_copy(update={"output": name})
    st.session_state["q_result"] = (key, report, data, name, questionnaire.source.kind)


uploaded: Any = st.file_uploader(TEXT["upload"], type=["xlsx", "xlsm", "csv", "tsv", "txt", "xls"], key="q_file")
if uploaded is not None:
    data = uploaded.getvalue()
    file_key = _key(data, uploaded.name)
    if st.session_state.get("q_result", (file_key,))[0] != file_key:
        del st.session_state["q_result"]  # a new file: the results of the last one go
    source = _read(data, uploaded.name, file_key)
    if isinstance(source, str):
        st.error(TEXT["read_error"])
        st.text(source)
        st.stop()
    try:
        detected = detect_questionnaire(source)
        sheet, column = _choosers(source, detected)
        questionnaire = detect_questionnaire(source, sheet=sheet, question_column=column)
    except AssistantError as error:
        st.error(TEXT["read_error"])
        st.text(str(error))
        st.stop()
    st.text(TEXT["file"].format(name=source.name, sheets=len(source.grids), questions=len(questionnaire.questions)))
    if source.losses:
        st.warning(TEXT["losses"], icon="⚠️")
        st.text("\n".join(source.losses))
    # Open until the questionnaire is filled, or while the detection needs checking.
    with st.expander(TEXT["detected"], expanded="q_result" not in st.session_state or not questionnaire.sure):
        st.dataframe(_layout_table(questionnaire), hide_index=True, key="q_layouts")
        if questionnaire.questions:
            st.caption(TEXT["preview"])
            st.dataframe(_preview(questionnaire), hide_index=True, key="q_preview")
    if not questionnaire.questions:
        st.warning(TEXT["no_questions"], icon="🔎")
        st.stop()
    vendor: str | None = st.selectbox(
        TEXT["vendor"], assistant.vendors, index=None, placeholder=TEXT["vendor_placeholder"], key="q_vendor"
    )
    language: str | None = st.selectbox(
        TEXT["language"],
        [None, *assistant.languages],
        format_func=lambda code: TEXT["any_language"] if code is None else language_name(code),
        key="q_language",
    )
    if st.button(TEXT["fill"], type="primary", disabled=vendor is None, icon=":material/checklist:") and vendor:
        _run(questionnaire, vendor, language, file_key)
else:
    st.info(TEXT["start"])

if "q_result" in st.session_state:
    _show_results(*st.session_state["q_result"][1:])
