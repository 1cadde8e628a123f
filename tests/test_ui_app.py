"""The web UI, run headless with Streamlit's AppTest on the seed corpus (or a tiny one) and the hashing embedder."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from assistant.answers import AskResult
from assistant.citations import citation_block, citation_line, headline, match_text, result_text
from assistant.feedback import FeedbackLog
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
COPY_COMPONENT = "checksheet_copy_button"


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One hashing index of the seed corpus for all tests (the first test to load it builds it)."""
    return tmp_path_factory.mktemp("ui-index")


@pytest.fixture
def ui_env(monkeypatch: pytest.MonkeyPatch, seed_dir: Path, seed_index: Path, tmp_path: Path) -> Iterator[None]:
    """The seed corpus, the hashing embedder, the calibrated threshold; `ui/` importable like `streamlit run` does."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"ASSISTANT_{name.upper()}", raising=False)
    monkeypatch.setenv("ASSISTANT_MODEL", "hashing")
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(seed_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(seed_index))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.syspath_prepend(str(UI_DIR))
    yield
    st.cache_resource.clear()


@pytest.fixture
def decisions(ui_env: None, monkeypatch: pytest.MonkeyPatch, decision_corpus: Path, tmp_path: Path) -> None:
    """The tiny corpus with every decision state (tests/conftest.py) instead of the seed corpus."""
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(decision_corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))


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


def walk_with_ancestors(node: Any, ancestors: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    yield node, ancestors
    for child in getattr(node, "children", {}).values():
        yield from walk_with_ancestors(child, (*ancestors, node))


def texts(node: AppTest | Block) -> list[str]:
    return [t.value for t in node.text]


def visible_texts(node: Any) -> list[str]:
    """The st.text values that are not inside a (closed) expander: on screen without a click."""
    return [
        element.value
        for element, ancestors in walk_with_ancestors(node)
        if getattr(element, "type", None) == "text"
        and not any(getattr(a, "type", None) == "expander" for a in ancestors)
    ]


def badges(node: Any) -> list[str]:
    return [m.value for m in node.markdown if "-badge[" in m.value]


def copies(node: Any) -> list[str]:
    """The texts the Copy buttons under ``node`` put on the clipboard (the component's JSON data)."""
    found = []
    for element in walk(node):
        if getattr(element, "type", None) == "bidi_component" and element.proto.component_name == COPY_COMPONENT:
            found.append(json.loads(element.proto.json)["text"])
    return found


def keys(node: Any) -> list[str]:
    return [element.key for element in walk(node) if getattr(element, "key", None)]


def page_links(at: AppTest) -> list[Any]:
    return [e.proto for e in walk(at._tree) if getattr(e, "type", None) == "page_link"]


def assert_answer_card(at: AppTest, result: AskResult, language: str = "en") -> None:
    """The vendor's answer verbatim, its citation, a source link carrying its row id, and a Copy of the answer."""
    assert result.answer is not None, result.reason
    match, cite = result.answer, result.answer.citation
    card = at.chat_message[-1]
    shown = visible_texts(card)
    assert match.answer_text() in shown
    assert headline(cite, language) in shown  # whose document, which version, at the top of the card
    assert citation_block(cite, language) in shown
    assert urlencode({"row": cite.row_id}) in [link.query_string for link in page_links(at)]
    assert copies(card)[0] == match_text(match, language)
    assert result_text(result, language) in [c.value for c in card.code]


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
    card = at.chat_message[-1]
    assert badges(card)[0] == ":green-badge[:material/check_circle: Answered]"
    assert [k for k in keys(card) if k.startswith("card-")] == [f"card-answered-{at.session_state.turns[0].id}"]
    assert result.answer is not None
    [answer_card] = [block for block in walk(card) if (getattr(block, "key", None) or "").startswith("card-")]
    differs = bool(result.answer.newer_version_differs) and not result.outdated
    warned = [w.value for w in answer_card.warning if w.value.startswith("A newer document states this item")]
    assert bool(warned) == differs


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
    assert len(result.alternatives) == 2
    for alternative in result.alternatives:  # folded: each in one text, with its own Copy
        assert any(citation_line(alternative.citation) in text for text in texts(card))
        assert any(alternative.answer_text() in text for text in texts(card))
        assert match_text(alternative) in copies(card)
    assert "Searched Wevox only (chosen in the sidebar). Rows in English (en) only." in texts(card)

    open_source(at, result.answer.row_id)  # the filters survive a visit to the source view
    at.switch_page("chat.py").run()
    assert at.sidebar.selectbox(key="vendor").value == "Wevox"
    assert at.sidebar.selectbox(key="language").value == "en"
    assert at.sidebar.slider(key="alternatives").value == 2
    assert len(at.chat_message) == 2


# --- the decision states, each on the tiny corpus that has it -------------------------------------------------


def test_a_row_saying_the_same_is_named_on_the_answer_not_listed_again(ui_env: None) -> None:
    question = "Wevoxのバックアップは何世代保持していますか？"
    at = ask(start(), question)
    result = library().ask(question, k=5)
    assert result.answer is not None
    assert [other.row_id for other in result.answer.same_as] == ["wevox/meti-checksheet#81"]
    captions = [c.value for c in at.chat_message[-1].caption]
    assert "Says the same: `wevox/meti-checksheet#81` (English)." in captions
    cited = "\n".join(texts(at.chat_message[-1]))
    assert "wevox/meti-checksheet#32" in cited
    assert "wevox/meti-checksheet#81" not in cited  # named once, on the answer; not an alternative of its own


def test_a_newer_row_saying_the_same_is_named_once_as_newer(ui_env: None) -> None:
    question = "VoicePing 비밀번호는 사용자가 변경할 수 있나요?"
    at = ask(start(), question)
    result = library().ask(question, k=5)
    assert result.answer is not None
    assert result.answer.row_id == "voiceping/security-page-ko#28"
    assert result.answer.newer_version == "voiceping/security-page-en#28"
    assert result.answer.newer_version_differs is False
    captions = [c.value for c in at.chat_message[-1].caption]
    named = [c for c in captions if c.startswith("Says the same:")]
    assert len(named) >= 1
    assert "`voiceping/security-page-en#28` (English, a newer document)" in named[0]
    assert not [c for c in captions if c.startswith("A newer document states the same")]


def test_an_answer_shows_the_outdated_row_beside_it_with_both_citations(decisions: None) -> None:
    at = start()
    at.sidebar.selectbox(key="vendor").select("Kumo")
    ask(at.run(), "Are you ISO 27001 certified?")
    assistant = library()
    result = assistant.ask("Are you ISO 27001 certified?", vendor="Kumo")
    assert_answer_card(at, result)
    [old] = result.outdated
    assert old.outdated_by == "kumo/sheet#6"
    card = at.chat_message[-1]
    shown = visible_texts(card)  # not folded into an expander
    assert old.answer_text() in shown
    assert citation_line(old.citation) in shown
    assert citation_line(assistant.citation("kumo/sheet#6")) in shown
    assert "Outdated: an older document says otherwise" in [w.value for w in card.warning]
    assert "Kumo · Kumo security sheet, version 2.0, as of 2025-02-01 · No. 44 · English" in shown
    assert "Searched Kumo only (chosen in the sidebar)." in shown


def test_a_conflict_shows_every_disagreeing_row_each_with_its_copy(decisions: None) -> None:
    at = ask(start(), "Do you provide SAS 70 or SSAE 18 reports from Kumo?")
    result = library().ask("Do you provide SAS 70 or SSAE 18 reports from Kumo?")
    assert result.status == "conflict"
    card = at.chat_message[-1]
    assert badges(card)[0] == ":orange-badge[:material/compare_arrows: The documents disagree]"
    assert any(k.startswith("card-conflict-") for k in keys(card))
    assert card.warning[0].value.startswith("No single answer is chosen")
    shown = visible_texts(card)
    assert sorted(m.row_id for m in result.conflicting) == ["kumo/sheet#2", "kumo/sheet#5"]
    for match in result.conflicting:
        assert match.answer_text() in shown
        assert citation_block(match.citation) in shown
    copied = copies(card)
    assert copied[: len(result.conflicting) + 1] == [*(match_text(m) for m in result.conflicting), result_text(result)]
    assert "Searched Kumo only (named in the question)." in shown


def test_an_older_row_warns_only_when_the_newer_document_says_otherwise(decisions: None) -> None:
    at = ask(start(), "Do you provide SAS 70 or SSAE 18 reports from Kumo?")
    result = library().ask("Do you provide SAS 70 or SSAE 18 reports from Kumo?")
    [older] = [m for m in result.alternatives if m.row_id == "kumo/sheet-v1#1"]
    assert older.newer_version in ("kumo/sheet#3", "kumo/sheet#6")
    assert older.newer_version_differs
    warnings = [w.value for w in at.chat_message[-1].warning]
    expected = f"A newer document states this item otherwise (`{older.newer_version}`): this row is probably out"
    expected += " of date."
    assert warnings.count(expected) == 1  # on the older row only, not on the current rows
    assert all(m.newer_version is None for m in result.alternatives if m.row_id != older.row_id)


def test_a_question_about_a_company_without_documents_says_so(decisions: None) -> None:
    at = ask(start(), "Does Slack support SAML?")
    result = library().ask("Does Slack support SAML?")
    card = at.chat_message[-1]
    assert badges(card) == [":violet-badge[:material/domain_disabled: No documents for this company]"]
    assert any(k.startswith("card-no_documents-") for k in keys(card))
    assert card.info[0].value.startswith("The question is about a company or product we hold no documents for.")
    assert visible_texts(card)[:1] == [
        "no documents for Slack: the question is about Slack, and none of its documents are in the corpus"
    ]
    # Rows that mention Slack (Acme's alerts) are folded away, not offered as an answer.
    assert not any("Acme sends alerts to Slack channels." in text for text in visible_texts(card))
    assert any("Acme sends alerts to Slack channels." in text for text in texts(card))
    assert card.expander[0].label == "Closest rows of the vendors we hold documents for (not an answer)"
    assert result.status == "no_answer"


def test_no_reliable_answer_shows_the_closest_rows_to_check_and_copy(
    decisions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_ANSWER_THRESHOLD", "0.99")
    at = ask(start(), "What is the capital of France?")
    result = library().ask("What is the capital of France?")
    assert result.reason_code == "low_confidence"
    card = at.chat_message[-1]
    assert badges(card)[:2] == [":red-badge[:material/help: No reliable answer]", ":red-badge[Low confidence]"]
    assert [e.value for e in card.error] == [
        "Closest rows — check before you use them. None of them is a sure answer to this question."
    ]
    assert "Closest rows — check before you use them" in [c.value for c in card.caption]
    shown = visible_texts(card)
    for related in result.alternatives:
        assert related.answer_text() in shown
        assert citation_line(related.citation) in shown
    assert copies(card) == [result_text(result), *(match_text(m) for m in result.alternatives)]
    assert "The vendor's answer, verbatim" not in [c.value for c in card.caption]


def test_closest_rows_that_disagree_say_so_beside_a_no_reliable_answer(
    decisions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_ANSWER_THRESHOLD", "1.0")
    question = "Do you provide SAS 70 or SSAE 18 reports from Kumo?"
    at = ask(start(), question)
    result = library().ask(question)
    assert result.reason_code == "low_confidence"
    flagged = {m.row_id: m.disagrees_with for m in result.alternatives if m.disagrees_with}
    assert flagged == {"kumo/sheet#2": ["kumo/sheet#5"], "kumo/sheet#5": ["kumo/sheet#2"]}
    warnings = [w.value for w in at.chat_message[-1].warning]
    for row, others in flagged.items():
        expected = f"The documents disagree: `{others[0]}` of the same version says otherwise"
        assert expected in warnings, row


def test_the_status_line_names_the_vendor_and_offers_the_others(decisions: None) -> None:
    at = ask(start(), "How many generations of backups are kept?")
    result = library().ask("How many generations of backups are kept?")
    assert result.vendor is None
    assert result.other_vendors
    card = at.chat_message[-1]
    shown = visible_texts(card)
    assert "Answer from Kumo: no vendor was chosen or named. Other vendors' rows are below." in shown
    assert "Other vendors' closest rows" in [c.value for c in card.caption]
    for other in result.other_vendors:
        assert other.answer_text() in shown
        assert match_text(other) in copies(card)


def test_a_question_naming_another_vendor_than_the_sidebar_says_so(decisions: None) -> None:
    at = start()
    at.sidebar.selectbox(key="vendor").select("Acme")
    ask(at.run(), "Does Kumo keep backups?")
    assert "The question names Kumo: searched Kumo, not Acme chosen in the sidebar." in texts(at.chat_message[-1])


def test_the_results_warnings_are_shown(decisions: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("assistant.retrieval.load_calibration", lambda model: None)
    at = ask(start(), "How many generations of backups are kept?")
    card = at.chat_message[-1]
    assert "Note" in [w.value for w in card.warning]
    assert any(t.startswith("no calibration for model 'hashing'") for t in texts(card))


# --- the interface's language ---------------------------------------------------------------------------------


def test_the_interface_switches_language_and_the_copy_follows(decisions: None) -> None:
    at = start()
    assert at.title[0].value == "Security checksheet assistant"
    at.sidebar.selectbox(key="ui_language").select("ja").run()
    assert at.title[0].value == "セキュリティチェックシート アシスタント"
    assert at.sidebar.selectbox(key="vendor").label == "ベンダー"
    ask(at, "バックアップは何世代保持していますか")
    result = library().ask("バックアップは何世代保持していますか")
    assert_answer_card(at, result, "ja")
    card = at.chat_message[-1]
    assert badges(card)[0] == ":green-badge[:material/check_circle: 回答あり]"
    assert copies(card)[0].startswith(
        "項目: バックアップ世代数 / 保証するバックアップの世代数\n右記参照\n7世代\n出典: Kumo"
    )
    at.sidebar.selectbox(key="ui_language").select("ko").run()  # the history is drawn again, in Korean
    assert at.title[0].value == "보안 체크시트 어시스턴트"
    assert badges(at.chat_message[-1])[0] == ":green-badge[:material/check_circle: 답변 있음]"
    assert copies(at.chat_message[-1])[0].startswith("항목: バックアップ世代数")
    at.switch_page("source.py").run()  # every page speaks it
    assert at.title[0].value == "출처 보기"


# --- feedback and exports -------------------------------------------------------------------------------------


def test_thumbs_down_with_a_picked_row_is_saved(decisions: None, tmp_path: Path) -> None:
    at = ask(start(), "Are you ISO 27001 certified?")
    result = library().ask("Are you ISO 27001 certified?")
    turn = at.session_state.turns[0]
    at.feedback[0].set_value(0).run()
    log = FeedbackLog(tmp_path / "data")
    [first] = log.entries()
    assert (first.id, first.rating, first.correct_row, first.question) == (turn.id, "down", None, result.question)
    picker = at.selectbox(key=f"pick-{turn.id}")
    assert picker.options[0] == "(none of these)"
    assert result.alternatives
    wanted = result.alternatives[0].row_id
    assert any(option.startswith(f"{wanted} — ") for option in picker.options)
    picker.set_value(wanted)
    at.button(key="FormSubmitter:correct-" + turn.id + "-Send").click().run()
    assert not at.exception, at.exception
    assert [(e.rating, e.correct_row) for e in log.latest()] == [("down", wanted)]
    assert "Thank you: your rating is saved." in [c.value for c in at.chat_message[-1].caption]
    assert f"Saved with the right row: {wanted}" in texts(at.chat_message[-1])


def test_a_typed_row_id_is_checked_before_it_is_saved(decisions: None, tmp_path: Path) -> None:
    at = ask(start(), "Are you ISO 27001 certified?")
    turn = at.session_state.turns[0]
    at.feedback[0].set_value(0).run()
    submit = "FormSubmitter:correct-" + turn.id + "-Send"
    at.text_input(key=f"typed-{turn.id}").input("kumo/sheet#99")
    at.button(key=submit).click().run()
    card = at.chat_message[-1]
    assert "This row id is not in the index:" in [e.value for e in card.error]
    assert "kumo/sheet#99" in texts(card)
    log = FeedbackLog(tmp_path / "data")
    assert [e.correct_row for e in log.latest()] == [None]
    at.text_input(key=f"typed-{turn.id}").input("  kumo/sheet#3 ")
    at.button(key=submit).click().run()
    assert [e.correct_row for e in log.latest()] == ["kumo/sheet#3"]


def test_thumbs_up_is_saved_and_can_be_changed(decisions: None, tmp_path: Path) -> None:
    at = ask(start(), "Are you ISO 27001 certified?")
    at.feedback[0].set_value(1).run()
    log = FeedbackLog(tmp_path / "data")
    assert [e.rating for e in log.entries()] == ["up"]
    assert not at.chat_message[-1].selectbox  # no row picker after a thumbs up
    at.feedback[0].set_value(0).run()
    assert [e.rating for e in log.latest()] == ["down"]
    assert len(log.entries()) == 2


def test_the_conversation_can_be_downloaded(decisions: None) -> None:
    at = start()
    assert not [b for b in walk(at._tree) if getattr(b, "type", None) == "download_button"]
    ask(at, "Are you ISO 27001 certified?")
    markdown = at.get_by_key("export-markdown")
    spreadsheet = at.get_by_key("export-csv")
    assert (markdown.proto.label, spreadsheet.proto.label) == ("Markdown", "CSV (spreadsheet)")
    assert markdown.proto.url.endswith(".md")
    assert spreadsheet.proto.url.endswith(".csv")


# --- the source view -----------------------------------------------------------------------------------------


def open_source(at: AppTest, row_id: str = "", **params: str) -> AppTest:
    at.switch_page("source.py")
    for name in ("row", "item", "doc"):
        if name in at.query_params:
            del at.query_params[name]
    if row_id:
        at.query_params["row"] = row_id
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def shown_lines(at: AppTest) -> list[tuple[int, bool, str]]:
    """(line number, cited, text) of the source view's lines, from their containers."""
    lines = []
    for block in walk(at._tree):
        key = getattr(block, "key", None) or ""
        if key.startswith("line-"):
            _, state, number = key.split("-")
            lines.append((int(number), state == "cited", block.text[1].value))
    return lines


def test_source_view_numbers_and_highlights_the_cited_lines(ui_env: None) -> None:
    assistant = library()
    row = assistant.row("wevox/meti-checksheet#32")
    at = open_source(start(), row.id)
    lines = shown_lines(at)
    numbers = [number for number, _, _ in lines]
    assert numbers == list(range(row.line_start - 6, row.line_end + 7))
    assert [number for number, cited, _ in lines if cited] == list(range(row.line_start, row.line_end + 1))
    cited_text = next(text for _, cited, text in lines if cited)
    # The whole line (st.text trims the ends), wrapped by the page, never cut off.
    assert cited_text == row.source_text.replace("\t", " ⇥ ").strip()
    assert row.source_text in [c.value for c in at.code]
    assert at.text[0].value.startswith(f"Row: {row.id} · No. {row.item_no}\n")
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
    assert [(number, cited) for number, cited, _ in shown_lines(at)] == [
        (1, False),
        (2, False),
        (3, True),
        (4, True),
        (5, False),
    ]
    assert "File: acme/sheet.csv, lines 3-4 of 5" in at.text[0].value
    assert '1,Do you support SSO?,Yes,"SAML 2.0\nand OIDC"' in [c.value for c in at.code]


def test_source_view_finds_a_row_by_the_sheets_own_item_number(decisions: None) -> None:
    at = open_source(start(), item="No. 43")
    rows = at.selectbox(key="item-row")
    assert rows.options == ["kumo/sheet#2 (ja) · No. 43", "kumo/sheet#5 (en) · No. 43"]
    assert at.text[0].value.startswith("Row: kumo/sheet#2 · No. 43\nVendor: Kumo\nDocument: Kumo security sheet")
    rows.set_value(rows.options[1]).run()
    assert at.text[0].value.startswith("Row: kumo/sheet#5 · No. 43\n")
    assert (7, True) in [(number, cited) for number, cited, _ in shown_lines(at)]  # line 7: EN item 43


def test_an_item_number_in_several_documents_offers_a_choice(decisions: None) -> None:
    at = open_source(start(), item="44")
    assert at.info[0].value == "Several documents have this item number: choose one."
    documents = at.selectbox(key="item-document")
    assert documents.options == ["kumo/sheet", "kumo/sheet-v1"]
    documents.set_value("kumo/sheet-v1").run()
    assert at.text[0].value.startswith("Row: kumo/sheet-v1#1 · No. 44\n")
    open_source(at, item="77")
    assert at.error[0].value == "No row has this item number:"
    assert "77" in texts(at)


def test_the_checklist_lists_outdated_and_disagreeing_rows_with_both_citations(decisions: None) -> None:
    assistant = library()
    at = open_source(start(), "kumo/sheet-v1#1")
    assert at.subheader[0].value == "Auditor's checklist for this document"
    assert "2 outdated · 0 disagreeing" in texts(at)
    shown = texts(at)
    for newer in ("kumo/sheet#3", "kumo/sheet#6"):
        assert citation_line(assistant.citation(newer)) in shown
    assert shown.count(citation_line(assistant.citation("kumo/sheet-v1#1"))) == 2
    assert "No\nPlanned for next year" in shown
    open_source(at, doc="kumo/sheet")  # a document's checklist without a row
    assert "0 outdated · 1 disagreeing" in texts(at)
    assert {"無", "Yes"} <= set(texts(at))
    open_source(at, doc="acme/faq")
    assert at.info[0].value.startswith("Nothing to check")


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
    at = open_source(start())
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
        "  ASSISTANT_BACKEND='cuda': Input should be 'onnx', 'onnx-int8' or 'torch'",
    ]


# --- untrusted text stays text --------------------------------------------------------------------------------


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
    """No payload fragment in an element Streamlit renders as markdown (labels, captions, alerts, ...).

    The Copy buttons carry the text to copy as JSON data, which their fixed script only puts on the
    clipboard: their HTML, CSS and script must not contain it.
    """
    for element in walk(at._tree):
        kind = getattr(element, "type", None)
        proto = getattr(element, "proto", None)
        if kind in PLAIN_ELEMENTS or proto is None:
            continue
        is_copy = kind == "bidi_component"
        rendered = proto.html_content + proto.js_content + proto.css_content if is_copy else str(proto)
        for fragment in FRAGMENTS:
            assert fragment not in rendered, (kind, rendered)


def test_payloads_render_as_plain_text(
    ui_env: None, monkeypatch: pytest.MonkeyPatch, write_corpus: WriteCorpus, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(payload_corpus(write_corpus)))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_ANSWER_THRESHOLD", "0")  # always answer: every row is on the card
    question = "Do you run scripts? <script>alert(2)</script> $y$"
    at = ask(start(), question)
    assert at.chat_message[0].text[0].value == question
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
    copied = "\n".join(copies(at._tree))
    assert PAYLOADS[0] in copied  # copied as written
    assert PAYLOADS[2] in copied
    at.feedback[0].set_value(0).run()  # the row picker lists the rows with their (markup) answers
    turn = at.session_state.turns[0]
    assert any(PAYLOADS[0] in option for option in at.selectbox(key=f"pick-{turn.id}").options)
    at.text_input(key=f"typed-{turn.id}").input("<img src=x onerror=alert(3)>")
    at.button(key=f"FormSubmitter:correct-{turn.id}-Send").click().run()
    assert "<img src=x onerror=alert(3)>" in texts(at)  # an unknown row id, echoed as text
    assert_plain_only(at)

    open_source(at, "acme/payloads#2")
    assert any(PAYLOADS[2] in text and PAYLOADS[3] in text for _, _, text in shown_lines(at))
    assert "Document: Acme <b>sheet</b> *v1*, undated" in at.text[0].value
    assert_plain_only(at)
