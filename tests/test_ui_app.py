"""The web UI, run headless with Streamlit's AppTest on the seed corpus and the model-free hashing embedder."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from assistant.answers import AskResult
from assistant.citations import citation_block, line_span, result_text
from assistant.retrieval import Assistant
from assistant.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
UI_DIR = REPO_ROOT / "ui"
APP = str(UI_DIR / "app.py")

WriteCorpus = Callable[[Sequence[Mapping[str, object]], Mapping[str, str | bytes]], Path]

#: Markup that must reach the screen as the characters written, never as HTML, a link, an image or math.
PAYLOADS = (
    "<script>window.__xss=1;alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "![](http://example.invalid/x.png)",
    "$x$",
)
#: Fragments of the payloads; none may appear in an element whose text Streamlit renders as markdown.
FRAGMENTS = ("<script", "<img", "javascript:", "example.invalid", "$x$", "<b>", "*v1*", "*Corp*")
#: Elements that show text as it is (the only ones allowed to carry document or question text).
#: (Selectbox options are plain text too: test_ui_browser.py opens the vendor list of a markup vendor name.)
PLAIN_ELEMENTS = {"text", "code", "dataframe", "chat_input", "text_input", "selectbox"}


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One hashing index of the seed corpus for all tests (the first test to load it builds it)."""
    return tmp_path_factory.mktemp("ui-index")


@pytest.fixture
def ui_env(monkeypatch: pytest.MonkeyPatch, seed_dir: Path, seed_index: Path) -> Iterator[None]:
    """The seed corpus, the hashing embedder, the calibrated threshold; `ui/` importable like `streamlit run` does."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"ASSISTANT_{name.upper()}", raising=False)
    monkeypatch.setenv("ASSISTANT_MODEL", "hashing")
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(seed_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(seed_index))
    monkeypatch.syspath_prepend(str(UI_DIR))
    yield
    st.cache_resource.clear()


def library() -> Assistant:
    """The library on the same settings as the app: what the page shows must be what it returns."""
    return Assistant.load(Settings.from_env())


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def texts(node: AppTest | Block) -> list[str]:
    return [t.value for t in node.text]


def page_links(at: AppTest) -> list[Any]:
    return [e.proto for e in walk(at._tree) if getattr(e, "type", None) == "page_link"]


def assert_answer_card(at: AppTest, result: AskResult) -> None:
    """The vendor's answer verbatim, its citation, and a source link carrying its row id."""
    assert result.answer is not None, result.reason
    match, cite = result.answer, result.answer.citation
    shown = texts(at.chat_message[-1])
    assert match.answer_text() in shown
    citation = next(t for t in shown if t.startswith("Vendor: "))
    assert citation == citation_block(cite)
    assert citation.splitlines()[0] == f"Vendor: {cite.vendor}"
    assert f"Document: {cite.document_title}" in citation
    assert f"({cite.language})" in citation
    assert (f"as of {cite.as_of.isoformat()}" if cite.as_of else "undated") in citation
    assert f"Section: {' > '.join(cite.section) or '(no section)'}" in citation
    assert f"Row: {cite.row_id}" in citation
    assert line_span(cite.line_start, cite.line_end, cite.sheet) in citation
    assert urlencode({"row": cite.row_id}) in [link.query_string for link in page_links(at)]
    assert result_text(result) in [c.value for c in at.chat_message[-1].code]


@pytest.mark.parametrize(
    "question",
    [
        "Is customer data encrypted at rest?",
        "バックアップは何世代保持していますか？",
        "데이터는 암호화되어 저장됩니까?",
    ],
    ids=["en", "ja", "ko"],
)
def test_answer_card_in_each_language(ui_env: None, question: str) -> None:
    at = ask(start(), question)
    result = library().ask(question)
    assert result.answered
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert at.chat_message[0].text[0].value == question
    assert_answer_card(at, result)
    assert result.answer is not None
    if result.answer.citation.superseded_by:
        assert any("newer document" in w.value for w in at.chat_message[-1].warning)
    assert any("confidence" in m.value for m in at.chat_message[-1].markdown)


def test_history_stays_on_screen(ui_env: None) -> None:
    at = ask(ask(start(), "Are you ISO 27001 certified?"), "백업은 얼마나 자주 합니까?")
    assert [m.name for m in at.chat_message] == ["user", "assistant", "user", "assistant"]
    first = library().ask("Are you ISO 27001 certified?")
    assert first.answer is not None
    assert first.answer.answer_text() in texts(at.chat_message[1])
    at.run()  # a rerun (any widget change) replays the history
    assert len(at.chat_message) == 4


def test_vendor_filter_language_and_alternatives(ui_env: None) -> None:
    at = start()
    at.sidebar.selectbox(key="vendor").select("Wevox")
    at.sidebar.selectbox(key="language").select("en")
    at.sidebar.slider(key="alternatives").set_value(2)
    ask(at.run(), "Do you encrypt data?")
    result = library().ask("Do you encrypt data?", vendor="Wevox", language="en", k=3)
    assert result.answer is not None
    assert result.answer.citation.vendor == "Wevox"
    assert_answer_card(at, result)
    card = at.chat_message[-1]
    citations = [t for t in texts(card) if t.startswith("Vendor: ")]
    assert len(citations) == 3  # the answer and two alternatives
    assert all(c.startswith("Vendor: Wevox\n") and "(en)" in c for c in citations)
    assert "Searched Wevox only (chosen in the sidebar). Rows in English (en) only." in texts(card)

    open_source(at, result.answer.row_id)  # the filters survive a visit to the source view
    at.switch_page("chat.py").run()
    assert at.sidebar.selectbox(key="vendor").value == "Wevox"
    assert at.sidebar.selectbox(key="language").value == "en"
    assert at.sidebar.slider(key="alternatives").value == 2
    assert len(at.chat_message) == 2


def test_no_reliable_answer_offers_related_rows(ui_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_ANSWER_THRESHOLD", "0.99")
    at = ask(start(), "What is the capital of France?")
    result = library().ask("What is the capital of France?")
    assert not result.answered
    assert result.reason
    card = at.chat_message[-1]
    assert [e.value for e in card.error] == ["No reliable answer: the documents do not seem to answer this question."]
    assert result.reason in texts(card)
    assert card.expander[0].label == f"Not a match, but related: the {len(result.alternatives)} closest rows"
    for related in result.alternatives:
        assert related.answer_text() in texts(card)
        assert any(t.startswith("Vendor: ") and related.row_id in t for t in texts(card))
    assert any("low confidence" in m.value for m in card.markdown)
    assert "The vendor's answer, verbatim" not in [c.value for c in card.caption]


def open_source(at: AppTest, row_id: str) -> AppTest:
    at.switch_page("source.py")
    at.query_params["row"] = row_id
    at.run()
    assert not at.exception, at.exception
    return at


def test_source_view_numbers_and_highlights_the_cited_lines(ui_env: None) -> None:
    assistant = library()
    row = assistant.row("wevox/meti-checksheet#32")
    at = open_source(start(), row.id)
    frame = at.dataframe[0].value
    numbers = list(frame["line"])
    assert numbers == list(range(numbers[0], numbers[-1] + 1))
    assert (numbers[0], numbers[-1]) == (row.line_start - 6, row.line_end + 6)
    cited = [int(n) for n, mark in zip(frame["line"], frame["cited"], strict=True) if mark == "▶"]
    assert cited == list(range(row.line_start, row.line_end + 1))
    position = numbers.index(row.line_start)
    css = at.dataframe[0].proto.arrow_data.styler.styles
    assert f"_row{position}_col0" in css
    assert "background-color: #fff3b0" in css
    assert f"_row{position - 1}_col0" not in css
    assert row.source_text in [c.value for c in at.code]
    assert at.text[0].value.startswith(f"Row: {row.id}\n")
    assert "line 48 of" in at.text[0].value
    assert not at.warning  # the file still has the quoted text


def test_source_view_of_a_row_over_two_lines(
    ui_env: None, monkeypatch: pytest.MonkeyPatch, write_corpus: WriteCorpus, tmp_path: Path
) -> None:
    sheet = (
        'Acme checksheet\nNo,Question,Answer,Details\n1,Do you support SSO?,Yes,"SAML 2.0\nand OIDC"\n2,MFA?,Yes,TOTP\n'
    )
    document: dict[str, object] = {"id": "sheet", "vendor": "Acme", "product": "Acme", "file": "acme/sheet.csv"}
    document |= {"layout": "csv_checksheet", "languages": ["en"], "title": "Acme sheet", "as_of": dt.date(2025, 3, 1)}
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(write_corpus([document], {"acme/sheet.csv": sheet})))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    at = ask(start(), "Do you support single sign-on?")
    dated = "Document: Acme sheet, as of 2025-03-01\nLanguage: English (en)"
    assert any(dated in t for t in texts(at.chat_message[-1]))
    open_source(at, "acme/sheet#1")
    frame = at.dataframe[0].value
    assert list(frame["line"]) == [1, 2, 3, 4, 5]
    assert list(frame["cited"]) == ["", "", "▶", "▶", ""]
    assert "File: acme/sheet.csv, lines 3-4 of 5" in at.text[0].value
    assert '1,Do you support SSO?,Yes,"SAML 2.0\nand OIDC"' in [c.value for c in at.code]


def test_source_view_warns_when_the_file_changed(
    ui_env: None, monkeypatch: pytest.MonkeyPatch, seed_copy: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(seed_copy))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    at = start()  # builds the index of the copy
    row = library().row("wevox/meti-checksheet#32")
    path = seed_copy / "wevox/meti-checksheet.ja-en.tsv"
    path.write_bytes(path.read_bytes().replace("7世代".encode(), "3世代".encode()))
    open_source(at, row.id)
    assert len(at.warning) == 1
    assert "no longer has the quoted text" in at.warning[0].value


def test_source_view_of_an_unknown_row(ui_env: None) -> None:
    at = open_source(start(), "acme/nothing#1")
    assert at.error[0].value == "This row cannot be shown:"
    assert "no row 'acme/nothing#1' in the index" in at.code[0].value


def test_source_view_without_a_row(ui_env: None) -> None:
    at = start()
    at.switch_page("source.py").run()
    assert not at.exception
    assert "enter a row id" in at.info[0].value


def test_overlong_question_shows_the_limit_and_keeps_the_history(ui_env: None) -> None:
    at = ask(start(), "Are you ISO 27001 certified?")
    limit = Settings.from_env().max_question_chars
    ask(at, "x" * (limit + 1))
    ask(at, "y" * (limit * 10))
    assert [m.name for m in at.chat_message] == ["user", "assistant"] * 3
    for card in at.chat_message[3], at.chat_message[5]:
        assert card.error[0].value == "This question cannot be asked as given:"
        assert f"the limit is {limit}" in card.text[0].value
    assert at.chat_message[4].text[0].value.endswith(f"({limit * 10} characters in all)")
    first = library().ask("Are you ISO 27001 certified?")
    assert first.answer is not None
    assert first.answer.answer_text() in texts(at.chat_message[1])
    ask(at, "Do you support SSO?")  # still answering
    assert len(at.chat_message) == 8
    assert not at.chat_message[7].error


def test_empty_question_is_an_error_not_a_crash(ui_env: None) -> None:
    at = ask(start(), "   ")
    assert "the question is empty" in at.chat_message[-1].text[0].value


def test_questions_with_lone_surrogates_are_answered_or_refused_on_screen(
    ui_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half an emoji pasted into a browser is a lone surrogate in JavaScript. Protobuf (and so AppTest) cannot
    carry one, so the chat input is wrapped to put one where the test typed ``<LONE>``: the script must
    answer around it, or refuse a question of nothing else with a message, and draw the question either way."""
    chat_input = st.chat_input

    def with_lone_surrogates(*args: Any, **kwargs: Any) -> Any:
        value = chat_input(*args, **kwargs)
        return value.replace("<LONE>", "\ud83d") if isinstance(value, str) else value

    monkeypatch.setattr(st, "chat_input", with_lone_surrogates)
    at = ask(start(), "Is Wevox <LONE> ISO 27001 certified?")
    result = library().ask("Is Wevox \ufffd ISO 27001 certified?")
    assert at.chat_message[0].text[0].value == "Is Wevox \ufffd ISO 27001 certified?"
    assert_answer_card(at, result)
    ask(at, "<LONE> <LONE>")
    card = at.chat_message[-1]
    assert at.chat_message[-2].text[0].value == "\ufffd \ufffd"
    assert card.error[0].value == "This question cannot be asked as given:"
    assert "no readable text" in card.text[0].value


def test_invalid_settings_are_named_on_the_page(ui_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_BACKEND", "cuda")
    monkeypatch.setenv("ASSISTANT_DEFAULT_K", "abc")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["The ASSISTANT_* settings are not valid:"]
    assert at.code[0].value.splitlines() == [
        "invalid settings:",
        "  ASSISTANT_DEFAULT_K='abc': Input should be a valid integer, unable to parse string as an integer "
        "(expected: an integer from 1 to 100)",
        "  ASSISTANT_BACKEND='cuda': Input should be 'onnx' or 'torch'",
    ]


def payload_corpus(write_corpus: WriteCorpus) -> Path:
    """Three rows whose cells are markup; the title and a section are markup too."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["No", "Category", "Question", "Answer", "Details"])
    writer.writerow(["1", "<b>Scripts</b>", "Do you run scripts? " + PAYLOADS[0], PAYLOADS[0], PAYLOADS[1]])
    writer.writerow(["2", "Links", "Are links safe? " + PAYLOADS[2], PAYLOADS[2], PAYLOADS[3]])
    writer.writerow(["3", "Math", "Is math rendered? " + PAYLOADS[4], PAYLOADS[4], "**bold** :red[red] <b>b</b>"])
    document = {
        "id": "payloads",
        "vendor": "Acme <i>*Corp*</i>",
        "vendor_id": "acme",
        "product": "Acme",
        "file": "acme/payloads.csv",
        "layout": "csv_checksheet",
        "languages": ["en"],
        "title": "Acme <b>sheet</b> *v1*",
    }
    return write_corpus([document], {"acme/payloads.csv": out.getvalue()})


def assert_plain_only(at: AppTest) -> None:
    """No payload fragment in an element Streamlit renders as markdown (labels, captions, alerts, ...)."""
    for element in walk(at._tree):
        kind = getattr(element, "type", None)
        proto = getattr(element, "proto", None)
        if kind in PLAIN_ELEMENTS or proto is None:
            continue
        rendered = str(proto)
        for fragment in FRAGMENTS:
            assert fragment not in rendered, (kind, rendered)


def test_payloads_render_as_plain_text(
    ui_env: None, monkeypatch: pytest.MonkeyPatch, write_corpus: WriteCorpus, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(payload_corpus(write_corpus)))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_ANSWER_THRESHOLD", "0")  # always answer: every row is on the card
    at = ask(start(), "Do you run scripts? <script>alert(2)</script> $y$")
    assert at.chat_message[0].text[0].value == "Do you run scripts? <script>alert(2)</script> $y$"
    shown = "\n".join(texts(at))
    for payload in PAYLOADS:
        assert payload in shown
    assert "Document: Acme <b>sheet</b> *v1*" in shown
    assert "Vendor: Acme <i>*Corp*</i>" in shown
    assert "Section: <b>Scripts</b>" in shown
    sources = [c.value for c in at.code]
    assert any(PAYLOADS[0] in s and PAYLOADS[1] in s for s in sources)  # the row as written, tabs and all
    fields = at.chat_message[-1].dataframe[0].value
    assert PAYLOADS[0] in list(fields["cell"])
    assert_plain_only(at)

    open_source(at, "acme/payloads#2")
    cited = at.dataframe[0].value
    assert any(PAYLOADS[2] in line and PAYLOADS[3] in line for line in cited["text"])
    assert "Document: Acme <b>sheet</b> *v1* (undated)" in at.text[0].value
    assert_plain_only(at)
