"""The Questionnaire page, run headless with AppTest on the seed corpus and the hashing embedder."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import openpyxl
import pytest
import streamlit as st
from msoffcrypto.format.ooxml import OOXMLFile
from streamlit.testing.v1 import AppTest

from assistant.questionnaire import detect_questionnaire, fill, read_source
from assistant.questionnaire.writing import SUMMARY_SHEET
from assistant.retrieval import Assistant
from assistant.settings import Settings

from questionnaire_files import add_extension, security_workbook

REPO_ROOT = Path(__file__).resolve().parent.parent
UI_DIR = REPO_ROOT / "ui"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAYLOADS = ("<script>window.__xss=1</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "$x$")
FRAGMENTS = ("<script", "<img", "javascript:", "$x$")
PLAIN_ELEMENTS = {"text", "code", "dataframe", "selectbox", "file_uploader"}


@pytest.fixture(scope="module")
def page_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("page-index")


@pytest.fixture
def page_env(monkeypatch: pytest.MonkeyPatch, seed_dir: Path, page_index: Path) -> Iterator[Settings]:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"ASSISTANT_{name.upper()}", raising=False)
    monkeypatch.setenv("ASSISTANT_MODEL", "hashing")
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(seed_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(page_index))
    monkeypatch.syspath_prepend(str(UI_DIR))
    yield Settings.from_env()
    st.cache_resource.clear()


def open_page() -> AppTest:
    at = AppTest.from_file(str(UI_DIR / "app.py"), default_timeout=120).run()
    at.switch_page("questionnaire.py").run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, data: bytes, mime: str = XLSX) -> AppTest:
    at.file_uploader[0].set_value((name, data, mime)).run()
    assert not at.exception, at.exception
    return at


#: A column that only each table has.
TABLES = {"q_layouts": "Found", "q_preview": "Category", "q_table": "Status"}


def frame(at: AppTest, key: str) -> Any:
    return next(df.value for df in at.dataframe if TABLES[key] in df.value.columns)


def walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def test_upload_fill_filter_and_download(page_env: Settings, tmp_path: Path) -> None:
    data = security_workbook(tmp_path / "checks.xlsx").read_bytes()
    at = upload(open_page(), "checks.xlsx", data)
    assert at.text[0].value == "File: checks.xlsx (6 sheets, 13 questions found)"
    layouts = frame(at, "q_layouts")
    assert list(layouts["Sheet"]) == ["表紙", "記入方法", "基本事項", "Technical", "空白", "Lists"]
    assert list(layouts["Question column"])[2:4] == ["C · 質問事項", "D · Question"]
    assert list(layouts["Found"])[2:5] == ["6 questions", "7 questions", "skipped: empty sheet"]
    preview = frame(at, "q_preview")
    assert list(preview["Row"]) == [5, 6, 7, 9, 10, 4, 5, 7, 8, 9]
    assert not at.warning  # every question column was named by its header: no choosers
    assert at.button[0].disabled  # no vendor chosen yet

    at.selectbox(key="q_vendor").select("Wevox").run()
    at.button[0].click().run()
    assert not at.exception, at.exception
    bars = [e for e in walk(at._tree) if getattr(e, "type", None) == "progress"]
    assert [round(bar.proto.value) for bar in bars] == [100]
    assert bars[0].proto.text == "Answering question 13 of 13"

    expected = fill(detect_questionnaire(read_source(data, "checks.xlsx")), Assistant.load(page_env), vendor="Wevox")
    table = frame(at, "q_table")
    assert list(table["Row"]) == [r.row for r in expected.rows]
    assert list(table["Question"]) == [r.question for r in expected.rows]
    assert list(table["Status"]) == [r.status.replace("_", " ") for r in expected.rows]
    assert list(table["Answer (verbatim)"]) == [r.answer for r in expected.rows]
    assert list(table["Row id"]) == ["\n".join(s.row_id for s in r.sources) for r in expected.rows]
    links = [
        f"source?row={s.sources[0].row_id.replace('/', '%2F').replace('#', '%23')}" for s in expected.rows if s.sources
    ]
    assert [link for link in table["Source view"] if isinstance(link, str)] == links
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "answered": str(expected.counts["answered"]),
        "conflict": str(expected.counts["conflict"]),
        "no answer": str(expected.counts["no_answer"]),
        "error": "1",
        "needs review": str(expected.review),
    }

    at.radio(key="q_filter").set_value("review").run()
    assert list(frame(at, "q_table")["Row"]) == [r.row for r in expected.to_review]
    at.radio(key="q_filter").set_value("error").run()
    assert list(frame(at, "q_table")["Row"]) == [8]

    _, shown_report, filled, name, kind = at.session_state["q_result"]
    assert shown_report.rows == expected.rows
    assert (name, kind) == ("checks.filled.xlsx", "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(filled))
    assert book.sheetnames[-1] == SUMMARY_SHEET
    assert [e for e in walk(at._tree) if getattr(e, "type", None) == "download_button"]

    cited = next(r for r in expected.rows if r.sources)
    query = urlencode({"row": cited.sources[0].row_id})
    page_links = [e.proto for e in walk(at._tree) if getattr(e, "type", None) == "page_link"]
    assert query in [link.query_string for link in page_links]

    at.switch_page("source.py")  # the source view, and back: the results are still there
    at.query_params["row"] = cited.sources[0].row_id
    at.run()
    assert not at.exception
    at.switch_page("questionnaire.py").run()
    assert list(frame(at, "q_table")["Row"])


def test_unsure_detection_offers_the_sheet_and_column(page_env: Settings) -> None:
    text = "ID,Text,Remarks\nS-1,Do you support SSO?,see policy\nS-2,Is data encrypted at rest?,see policy\n"
    at = upload(open_page(), "plain.csv", text.encode(), "text/csv")
    assert at.warning[0].value.startswith("The question column was guessed")
    assert list(frame(at, "q_layouts")["How"]) == ["no header word; the column of longest text (guessed)"]
    at.selectbox(key="q_sheet").select("plain").run()
    column = at.selectbox(key="q_column")
    assert column.options == ["As detected", "A · ID", "B · Text", "C · Remarks"]
    column.select("C").run()
    assert list(frame(at, "q_preview")["Question"]) == ["see policy", "see policy"]
    assert list(frame(at, "q_layouts")["How"]) == ["column C as chosen (named by the header)"]


def test_files_that_cannot_be_filled(page_env: Settings, tmp_path: Path) -> None:
    locked = io.BytesIO()
    with security_workbook(tmp_path / "plain.xlsx").open("rb") as plain:
        OOXMLFile(plain).encrypt("pw", locked)
    at = upload(open_page(), "locked.xlsx", locked.getvalue())
    assert [e.value for e in at.error] == ["This file cannot be filled:"]
    assert at.text[0].value.startswith("locked.xlsx is protected with a password")
    at = upload(open_page(), "notes.csv", b"Welcome\nto our questionnaire\n", "text/csv")
    assert [w.value for w in at.warning][-1] == "No questions were found. Choose the sheet and the question column."
    assert not at.button


def test_what_the_copy_cannot_keep_is_shown(page_env: Settings, tmp_path: Path) -> None:
    path = security_workbook(tmp_path / "checks.xlsx")
    add_extension(path)
    at = upload(open_page(), "checks.xlsx", path.read_bytes())
    assert [w.value for w in at.warning] == [
        "The filled copy will not keep everything of this workbook (check the copy before sending it):"
    ]
    assert "Data Validation extension is not supported and will be removed" in [t.value for t in at.text]


def test_questionnaire_text_is_shown_as_plain_text(page_env: Settings) -> None:
    rows = ["No,Question,Answer"] + [f'{n},"Do you allow {p}?",' for n, p in enumerate(PAYLOADS, 1)]
    at = upload(open_page(), "payloads <b>x</b>.csv", "\n".join(rows).encode(), "text/csv")
    at.selectbox(key="q_vendor").select("Wevox").run()
    at.button[0].click().run()
    questions = list(frame(at, "q_table")["Question"])
    assert questions == [f"Do you allow {p}?" for p in PAYLOADS]
    for element in walk(at._tree):
        kind = getattr(element, "type", None)
        proto = getattr(element, "proto", None)
        if kind in PLAIN_ELEMENTS or proto is None:
            continue
        for fragment in FRAGMENTS:
            assert fragment not in str(proto), (kind, str(proto)[:300])
