"""The web UI in a real browser: `streamlit run ui/app.py` driven by Playwright through Debian's Chromium.

Skipped when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (as in CI), which makes that a failure.
Screenshots go to $UI_SCREENSHOT_DIR (default artifacts/screenshots/, git-ignored).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

import pytest

from assistant.citations import citation_block, headline, match_text
from assistant.cli import main
from assistant.evaluation.questions import load_questions
from assistant.feedback import FeedbackLog
from assistant.retrieval import Assistant
from assistant.settings import Settings
from evals.browser import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, ask_in_chat, serve

pytestmark = pytest.mark.browser

QUESTION = "バックアップは何世代保持していますか？"
#: The source view's highlight of the cited lines (ui/widgets.py) as the browser computes it.
HIGHLIGHT = "rgb(255, 243, 176)"
TIMEOUT_MS = 60_000
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

WriteCorpus = Callable[[Sequence[Mapping[str, object]], Mapping[str, str | bytes]], Path]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(f"{reason} (apt-get install -y chromium; set REQUIRE_BROWSER=1 to make this a failure)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shots() -> Path:
    folder = Path(os.environ.get("UI_SCREENSHOT_DIR") or REPO_ROOT / "artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _env(corpus: Path, index: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_MODEL="hashing", ASSISTANT_CORPUS_DIR=str(corpus), ASSISTANT_INDEX_DIR=str(index), **extra)
    env.setdefault("ASSISTANT_DATA_DIR", str(index.parent / "data"))
    return env


def _library(env: Mapping[str, str]) -> Assistant:
    """The library on the server's settings; loading it first also builds the index the server will open."""
    values: dict[str, Any] = {
        k.removeprefix("ASSISTANT_").lower(): v for k, v in env.items() if k.startswith("ASSISTANT_")
    }
    return Assistant.load(Settings.model_validate(values))


@contextmanager
def opened(browser: Any, base: str, **options: Any) -> Iterator[Any]:
    """A page of its own browser context (locale, viewport, permissions) at ``base``; asserts no request left
    the machine."""
    options.setdefault("viewport", {"width": 1280, "height": 1100})
    context = browser.new_context(**options)
    requests: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(base)
        yield page
    finally:
        context.close()
    hosts = {str(urlsplit(url).hostname) for url in requests if not url.startswith(("data:", "blob:"))}
    assert hosts <= LOCAL_HOSTS, sorted(hosts)


def ask(page: Any, question: str) -> Any:
    """Type a question into the chat input, send it, and return the answer's chat message once it is drawn."""
    return ask_in_chat(page, question, TIMEOUT_MS)


def open_expanders(page: Any) -> None:
    for summary in page.locator("[data-testid=stExpander] summary").all():
        summary.click()
    page.wait_for_timeout(300)


#: Each drawn line as [key, text, background] once every line has its text and every cited line its colour
#: (a line's container is drawn before its texts, and the colour comes with the page's style element); else null.
_LINES = """() => {
    const lines = [...document.querySelectorAll("[class*='st-key-line-']")];
    const read = lines.map((line) => {
        const key = [...line.classList].find((c) => c.startsWith("st-key-line-"));
        const texts = line.querySelectorAll("[data-testid=stText]");
        const background = getComputedStyle(line).backgroundColor;
        const drawn = texts.length > 0 && (!key.startsWith("st-key-line-cited-") || background !== "rgba(0, 0, 0, 0)");
        return drawn ? [key, texts[texts.length - 1].innerText, background] : null;
    });
    return read.length > 0 && read.every((line) => line !== null) ? read : null;
}"""


def source_lines(page: Any) -> list[tuple[int, bool, str, str]]:
    """(line number, cited, text, background colour) of each line the source view shows, read once the view
    is fully drawn and the same on two reads in a row (a rerun redraws it)."""
    found = page.wait_for_function(_LINES, timeout=TIMEOUT_MS).json_value()
    for _ in range(20):
        page.wait_for_timeout(250)
        again = page.wait_for_function(_LINES, timeout=TIMEOUT_MS).json_value()
        if again == found:
            break
        found = again
    lines = []
    for key, text, background in found:
        _, _, _, state, number = key.split("-")
        lines.append((int(number), state == "cited", text, background))
    return lines


def choose(page: Any, select: Any, option: str) -> None:
    """Pick ``option`` (its full text) in a Streamlit selectbox."""
    select.get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_japanese_question_answer_and_source_view(browser: Any, tmp_path: Path, seed_dir: Path, shots: Path) -> None:
    env = _env(seed_dir, tmp_path / "index")
    expected = _library(env).ask(QUESTION)
    assert expected.answer is not None
    match, cite = expected.answer, expected.answer.citation
    with serve(env, tmp_path / "streamlit.log") as base, opened(browser, base, locale="ja-JP") as page:
        card = ask(page, QUESTION)
        assert QUESTION in page.get_by_test_id("stChatMessage").first.inner_text()
        shown = card.get_by_test_id("stText").all_inner_texts()
        assert match.answer_text() in shown
        assert headline(cite, "ja") in shown
        assert citation_block(cite, "ja") in shown  # the interface speaks the browser's language
        assert "回答あり" in card.inner_text()
        page.screenshot(path=shots / "01-ja-answer.png", full_page=True)

        link = card.get_by_role("link", name="引用箇所を出典ビューで開く")
        assert link.get_attribute("href") == f"source?row={quote(cite.row_id, safe='')}"
        link.click()
        page.wait_for_url(re.compile(r"/source\?row="), timeout=TIMEOUT_MS)
        lines = source_lines(page)
        numbers = [number for number, _, _, _ in lines]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        cited = [number for number, is_cited, _, _ in lines if is_cited]
        assert cited == list(range(cite.line_start, cite.line_end + 1))
        assert {background for _, is_cited, _, background in lines if is_cited} == {HIGHLIGHT}
        assert HIGHLIGHT not in {background for _, is_cited, _, background in lines if not is_cited}
        cited_text = next(text for _, is_cited, text, _ in lines if is_cited)
        assert cited_text == match.source_text.replace("\t", " ⇥ ").strip()
        assert match.source_text in page.get_by_test_id("stCode").first.inner_text()
        # Long lines wrap inside the page: nothing is cut off on the right, nothing scrolls sideways.
        overflow = page.evaluate(
            """() => [...document.querySelectorAll("[class*='st-key-line-'] [data-testid=stText]")]
                .filter((e) => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > innerWidth)
                .length"""
        )
        assert overflow == 0
        page.screenshot(path=shots / "02-source-view.png", full_page=True)

        # The link is a real URL: opened on its own (a bookmark, a new tab), it shows the same lines.
        page.goto(f"{base}/source?row={quote(cite.row_id, safe='')}")
        assert source_lines(page) == lines
        assert cite.row_id in page.get_by_test_id("stText").first.inner_text()


def test_copy_puts_the_answer_block_on_the_clipboard_in_the_askers_language(
    browser: Any, tmp_path: Path, decision_corpus: Path, shots: Path
) -> None:
    env = _env(decision_corpus, tmp_path / "index")
    assistant = _library(env)
    question = "Kumoのバックアップは何世代保持していますか"
    expected = assistant.ask(question)
    assert expected.answer is not None
    assert expected.answer.row_id == "kumo/sheet#1"
    conflict = assistant.ask("KumoはSAS70やSSAE18の監査報告書を提供していますか")
    assert conflict.status == "conflict"
    permissions = ["clipboard-read", "clipboard-write"]
    with (
        serve(env, tmp_path / "streamlit.log") as base,
        opened(browser, base, locale="ja-JP", permissions=permissions) as page,
    ):
        card = ask(page, question)
        card.get_by_role("button", name="コピー").first.click()
        page.get_by_text("コピーしました").wait_for(timeout=TIMEOUT_MS)
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == match_text(expected.answer, "ja")
        assert copied == (
            "項目: バックアップ世代数 / 保証するバックアップの世代数\n右記参照\n7世代\n"
            "出典: Kumo, Kumo security sheet, 版 2.0, 2025-02-01 時点, No. 42, 行ID kumo/sheet#1, kumo/sheet.tsv 2行目"
        )
        card = ask(page, conflict.question)
        buttons = card.get_by_role("button", name="コピー", exact=True)
        # Copy buttons are components, drawn after the rest of the card: wait for the last one expected.
        buttons.nth(len(conflict.conflicting) - 1).wait_for(timeout=TIMEOUT_MS)
        assert buttons.count() >= len(conflict.conflicting)
        buttons.nth(1).click()
        page.wait_for_timeout(300)
        assert page.evaluate("navigator.clipboard.readText()") == match_text(conflict.conflicting[1], "ja")
        card.get_by_role("button", name="すべてコピー").click()
        page.wait_for_timeout(300)
        assert page.evaluate("navigator.clipboard.readText()").startswith("文書間で回答が食い違っています。")
        page.screenshot(path=shots / "05-ja-conflict-copied.png", full_page=True)


def test_the_interface_switches_language(browser: Any, tmp_path: Path, decision_corpus: Path, shots: Path) -> None:
    env = _env(decision_corpus, tmp_path / "index")
    _library(env)
    with serve(env, tmp_path / "streamlit.log") as base, opened(browser, base, locale="en-US") as page:
        page.get_by_role("heading", name="Security checksheet assistant").wait_for(timeout=TIMEOUT_MS)
        sidebar = page.get_by_test_id("stSidebar")
        choose(page, sidebar.get_by_test_id("stSelectbox").first, "한국어")
        page.get_by_role("heading", name="보안 체크시트 어시스턴트").wait_for(timeout=TIMEOUT_MS)
        assert sidebar.get_by_role("link", name="출처 보기").count() == 1  # the navigation too
        card = ask(page, "Does Slack support SAML?")
        assert "이 회사의 문서가 없습니다" in card.inner_text()
        page.screenshot(path=shots / "06-ko-no-documents.png", full_page=True)
        choose(page, sidebar.get_by_test_id("stSelectbox").first, "日本語")
        page.get_by_role("heading", name="セキュリティチェックシート アシスタント").wait_for(timeout=TIMEOUT_MS)
        assert "この会社の文書はありません" in page.get_by_test_id("stChatMessage").last.inner_text()


def test_the_source_view_finds_an_item_by_the_sheets_own_number(
    browser: Any, tmp_path: Path, decision_corpus: Path, shots: Path
) -> None:
    env = _env(decision_corpus, tmp_path / "index")
    _library(env)
    with serve(env, tmp_path / "streamlit.log") as base, opened(browser, base, locale="en-US") as page:
        page.goto(f"{base}/source?item=43")
        lines = source_lines(page)
        header = page.get_by_test_id("stText").first.inner_text()
        assert header.startswith("Row: kumo/sheet#2 · No. 43\nVendor: Kumo\n")
        assert [(number, background) for number, cited, _, background in lines if cited] == [(3, HIGHLIGHT)]
        checklist = page.get_by_text("Auditor's checklist for this document")
        checklist.wait_for(timeout=TIMEOUT_MS)
        assert "0 outdated · 1 disagreeing" in page.locator("body").inner_text()
        page.screenshot(path=shots / "07-source-item-43.png", full_page=True)


def test_thumbs_down_with_a_chosen_row_lands_in_the_feedback_file_and_exports(
    browser: Any, tmp_path: Path, decision_corpus: Path
) -> None:
    env = _env(decision_corpus, tmp_path / "index")
    assistant = _library(env)
    result = assistant.ask("Are you ISO 27001 certified?")
    wanted = result.alternatives[0]
    with serve(env, tmp_path / "streamlit.log") as base, opened(browser, base, locale="en-US") as page:
        card = ask(page, "Are you ISO 27001 certified?")
        card.get_by_role("radio", name="Thumbs down").click()
        picker = card.get_by_test_id("stSelectbox")
        picker.wait_for(timeout=TIMEOUT_MS)
        option = next(o for o in _options(page, picker) if o.startswith(f"{wanted.row_id} — "))
        page.get_by_role("option", name=option, exact=True).click()
        card.get_by_role("button", name="Send").click()
        card.get_by_text(f"Saved with the right row: {wanted.row_id}").wait_for(timeout=TIMEOUT_MS)
    log = FeedbackLog(Path(env["ASSISTANT_DATA_DIR"]))
    [entry] = log.latest()
    assert (entry.rating, entry.correct_row, entry.question) == ("down", wanted.row_id, result.question)
    out = tmp_path / "questions.jsonl"
    command = ["feedback", "export", "--data", env["ASSISTANT_DATA_DIR"], "--corpus", str(decision_corpus)]
    assert main([*command, "--out", str(out)]) == 0
    [question] = load_questions(out)
    assert (question.question, question.relevant, question.status) == (result.question, [wanted.row_id], "answered")


def _options(page: Any, select: Any) -> list[str]:
    """The options of a selectbox, opened by a click; clicked again if a rerun redrew it before it opened."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = select.get_by_role("combobox")
    options = page.get_by_role("option")
    for _ in range(TIMEOUT_MS // 5_000):
        box.evaluate("element => element.scrollIntoView({block: 'center'})")  # not under the chat input
        box.click()
        try:
            options.first.wait_for(timeout=5_000)
        except PlaywrightTimeout:
            continue
        return [text.strip() for text in options.all_inner_texts()]
    raise AssertionError("the selectbox's options did not open")


def test_the_conversation_downloads_as_markdown_and_csv(browser: Any, tmp_path: Path, decision_corpus: Path) -> None:
    env = _env(decision_corpus, tmp_path / "index")
    result = _library(env).ask("Are you ISO 27001 certified?")
    assert result.answer is not None
    with (
        serve(env, tmp_path / "streamlit.log") as base,
        opened(browser, base, locale="en-US", accept_downloads=True) as page,
    ):
        ask(page, "Are you ISO 27001 certified?")
        sidebar = page.get_by_test_id("stSidebar")
        with page.expect_download() as download:
            sidebar.get_by_role("button", name="Markdown").click()
        markdown = Path(download.value.path()).read_text(encoding="utf-8")
        with page.expect_download() as download:
            sidebar.get_by_role("button", name="CSV (spreadsheet)").click()
        table = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert download.value.suggested_filename.endswith(".csv")
    assert "```text\nAre you ISO 27001 certified?\n```" in markdown
    assert match_text(result.answer) in markdown
    assert table[0][:4] == ["#", "Asked at", "Question", "Status"]
    assert table[1][2:5] == ["Are you ISO 27001 certified?", "Answered", "answer"]
    assert table[1][9] == result.answer.row_id


def test_on_a_phone_the_answers_first_line_is_on_screen(
    browser: Any, tmp_path: Path, seed_dir: Path, shots: Path
) -> None:
    env = _env(seed_dir, tmp_path / "index")
    library = _library(env)
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "ja-JP"}
    with serve(env, tmp_path / "streamlit.log") as base, opened(browser, base, **phone) as page:
        ask(page, "Is VoicePing ISO 27001 certified?")  # a long card first, so the page scrolls
        question = "VoicePingのログは何日間保存されますか？"
        expected = library.ask(question)
        first_line = (expected.answer or expected.alternatives[0]).answer_text().splitlines()[0]
        card = ask(page, question)
        line = card.get_by_test_id("stText").filter(has_text=first_line).first
        height = page.evaluate("innerHeight")

        def on_screen() -> bool:
            box = line.bounding_box()
            return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 24) <= height

        # The chat first animates down to the card's end; the card is then moved up once the page is still.
        for _ in range(50):
            if on_screen():
                break
            page.wait_for_timeout(100)
        page.wait_for_timeout(1000)  # and it stays there: the chat does not pull it down again
        assert on_screen(), (line.bounding_box(), height)
        page.screenshot(path=shots / "08-phone-answer.png")


PAYLOADS = (
    "<script>window.__xss=1;alert(1)</script>",
    '<img src=x onerror="window.__xss=1;alert(1)">',
    "[x](javascript:window.__xss=1)",
    "![](http://example.invalid/x.png)",
    "$x$",
)


def payload_corpus(write_corpus: WriteCorpus) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["No", "Category", "Question", "Answer", "Details"])
    writer.writerow(["1", "<b>Scripts</b>", "Do you run scripts?", PAYLOADS[0], PAYLOADS[1]])
    writer.writerow(["2", "Links", "Are links safe? ![](http://example.invalid/q.png)", PAYLOADS[2], PAYLOADS[3]])
    writer.writerow(
        ["3", "Math", "Is math rendered?", PAYLOADS[4], "**bold** :red[red] <iframe src=//example.invalid>"]
    )
    document = {
        "id": "payloads",
        "vendor": "Acme <img src=//example.invalid/v.png> *Corp*",
        "vendor_id": "acme",
        "product": "Acme",
        "file": "acme/payloads.csv",
        "layout": "csv_checksheet",
        "languages": ["en"],
        "title": "Acme <img src=//example.invalid/t.png> *sheet*",
    }
    return write_corpus([document], {"acme/payloads.csv": out.getvalue()})


def assert_inert(page: Any, dialogs: list[str]) -> None:
    page.wait_for_timeout(500)
    assert dialogs == []
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("[...document.scripts].some(s => s.text.includes('__xss'))") is False
    for selector in ("img[src='x']", "a[href^='javascript']", "img[src*='example.invalid']", "iframe", ".katex"):
        assert page.locator(selector).count() == 0, selector


def test_payloads_do_not_run_or_load(browser: Any, tmp_path: Path, write_corpus: WriteCorpus, shots: Path) -> None:
    env = _env(payload_corpus(write_corpus), tmp_path / "index", ASSISTANT_ANSWER_THRESHOLD="0")
    result = _library(env).ask("Do you run scripts? <img src=x onerror=alert(2)> [y](javascript:alert(2)) $y$")
    assert result.answer is not None
    dialogs: list[str] = []
    permissions = ["clipboard-read", "clipboard-write"]
    with serve(env, tmp_path / "streamlit.log") as base, opened(browser, base, permissions=permissions) as page:

        def dismiss(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        card = ask(page, result.question)
        card.get_by_role("button", name="Copy").first.click()  # the copied text is data, not markup
        page.wait_for_timeout(300)
        assert page.evaluate("navigator.clipboard.readText()") == match_text(result.answer)
        card.get_by_role("radio", name="Thumbs down").click()  # the row picker lists the markup answers
        card.get_by_test_id("stSelectbox").wait_for(timeout=TIMEOUT_MS)
        open_expanders(page)
        body = page.locator("body").inner_text()
        for payload in PAYLOADS:
            assert payload in body
        assert "<img src=x onerror=alert(2)> [y](javascript:alert(2)) $y$" in body
        assert "Document: Acme <img src=//example.invalid/t.png> *sheet*" in body
        assert "Vendor: Acme <img src=//example.invalid/v.png> *Corp*" in body
        assert_inert(page, dialogs)
        page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").nth(1).click()  # draws the vendor options
        option = page.get_by_role("option", name="Acme <img src=//example.invalid/v.png> *Corp*")
        option.wait_for(timeout=TIMEOUT_MS)
        assert_inert(page, dialogs)
        page.keyboard.press("Escape")
        page.screenshot(path=shots / "03-payloads-answer.png", full_page=True)

        for row in ("acme/payloads#1", "acme/payloads#2"):
            page.goto(f"{base}/source?row={quote(row, safe='')}")
            lines = source_lines(page)
            assert any(PAYLOADS[0] in text or PAYLOADS[2] in text for _, _, text, _ in lines)
            open_expanders(page)
            assert_inert(page, dialogs)
        page.screenshot(path=shots / "04-payloads-source.png", full_page=True)


@pytest.mark.xfail(
    strict=True,
    reason="Streamlit 1.67's client encodes a lone surrogate as bytes that are not UTF-8; its server then refuses "
    "the whole message ('String field had bad UTF-8') and closes the connection, so the script never runs "
    "(tests/test_ui_app.py shows the script answers such a question when it arrives). Passing means it was fixed.",
)
def test_a_lone_surrogate_typed_in_the_browser_reaches_the_script(browser: Any, tmp_path: Path, seed_dir: Path) -> None:
    env = _env(seed_dir, tmp_path / "index")
    _library(env)
    with serve(env, tmp_path / "streamlit.log") as base:
        page = browser.new_page()
        page.goto(base)
        box = page.get_by_test_id("stChatInputTextArea")
        box.wait_for(timeout=TIMEOUT_MS)
        box.fill("Is Wevox ISO 27001 certified?")
        # Half an emoji, as a paste cut in the middle of a surrogate pair leaves it (fill() cannot type one).
        page.evaluate(
            """() => {
              const box = document.querySelector('[data-testid=stChatInputTextArea]');
              const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
              set.call(box, box.value + ' \\ud83d');
              box.dispatchEvent(new Event('input', {bubbles: true}));
            }"""
        )
        box.press("Enter")
        page.get_by_test_id("stChatMessage").nth(1).wait_for(timeout=10_000)
        assert "Is Wevox ISO 27001 certified? \ufffd" in page.get_by_test_id("stChatMessage").first.inner_text()
