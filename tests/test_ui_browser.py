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
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

import pytest

from assistant.citations import citation_block
from assistant.retrieval import Assistant
from assistant.settings import Settings
from evals.browser import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, serve

pytestmark = pytest.mark.browser

QUESTION = "バックアップは何世代保持していますか？"
#: The source view's highlight (ui/cards.py HIGHLIGHT) as drawn on the data grid's canvas.
HIGHLIGHT_RGB = (0xFF, 0xF3, 0xB0)
TIMEOUT_MS = 60_000

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
    return env


def _library(env: Mapping[str, str]) -> Assistant:
    """The library on the server's settings; loading it first also builds the index the server will open."""
    values: dict[str, Any] = {
        k.removeprefix("ASSISTANT_").lower(): v for k, v in env.items() if k.startswith("ASSISTANT_")
    }
    return Assistant.load(Settings.model_validate(values))


def ask(page: Any, question: str) -> Any:
    """Type a question into the chat input, send it, and return the answer's chat message once it is drawn."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=TIMEOUT_MS)
    before = page.get_by_test_id("stChatMessage").count()
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        f"document.querySelectorAll('[data-testid=stChatMessage]').length >= {before + 2}", timeout=TIMEOUT_MS
    )
    card = page.get_by_test_id("stChatMessage").last
    card.get_by_role("link").first.wait_for(timeout=TIMEOUT_MS)
    return card


def open_expanders(page: Any) -> None:
    for summary in page.locator("[data-testid=stExpander] summary").all():
        summary.click()
    page.wait_for_timeout(300)


def grid_rows(page: Any) -> list[list[str]]:
    """The cells of the source view's data grid, from the accessible table the grid keeps beside its canvas."""
    grid = page.get_by_test_id("stDataFrame")
    grid.locator("[role=gridcell]").first.wait_for(state="attached", timeout=TIMEOUT_MS)
    return [row.locator("[role=gridcell]").all_text_contents() for row in grid.locator("tbody [role=row]").all()]


def highlighted_band(png: bytes) -> tuple[int, int]:
    """First and last pixel row of the grid image where most pixels have the highlight colour."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None

    def close(rgb: Any) -> bool:
        return all(abs(int(a) - b) <= 6 for a, b in zip(rgb, HIGHLIGHT_RGB, strict=True))

    rows = [y for y in range(height) if sum(close(pixels[x, y]) for x in range(0, width, 4)) > width / 4 / 2]
    assert rows, "no highlighted line in the grid"
    return rows[0], rows[-1]


def test_japanese_question_answer_and_source_view(browser: Any, tmp_path: Path, seed_dir: Path, shots: Path) -> None:
    env = _env(seed_dir, tmp_path / "index")
    expected = _library(env).ask(QUESTION)
    assert expected.answer is not None
    match, cite = expected.answer, expected.answer.citation
    with serve(env, tmp_path / "streamlit.log") as base:
        page = browser.new_page(viewport={"width": 1280, "height": 1100}, locale="ja-JP")
        page.goto(base)
        card = ask(page, QUESTION)
        assert QUESTION in page.get_by_test_id("stChatMessage").first.inner_text()
        shown = card.get_by_test_id("stText").all_inner_texts()
        assert match.answer_text() in shown
        assert citation_block(cite) in shown
        assert any(t.startswith(f"Vendor: {cite.vendor}\nDocument: {cite.document_title}") for t in shown)
        assert "confidence" in card.inner_text()
        page.screenshot(path=shots / "01-ja-answer.png", full_page=True)

        link = card.get_by_role("link", name="Open the cited lines in the source view")
        assert link.get_attribute("href") == f"source?row={quote(cite.row_id, safe='')}"
        link.click()
        page.wait_for_url(re.compile(r"/source\?row="), timeout=TIMEOUT_MS)
        rows = grid_rows(page)
        numbers = [int(cells[0]) for cells in rows]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        assert [int(cells[0]) for cells in rows if cells[1] == "▶"] == list(range(cite.line_start, cite.line_end + 1))
        cited_text = next(cells[2] for cells in rows if cells[1] == "▶")
        assert cited_text == match.source_text.replace("\t", " ⇥ ")
        assert match.source_text in page.get_by_test_id("stCode").first.inner_text()

        # The grid is drawn on a canvas: find the highlighted band and check it is the cited line's row.
        grid = page.get_by_test_id("stDataFrame")
        first, last = highlighted_band(grid.screenshot())
        row_height = grid.bounding_box()["height"] / (len(rows) + 1)
        position = numbers.index(cite.line_start)
        assert int(((first + last) / 2) // row_height) == position + 1  # + 1: the header row
        page.screenshot(path=shots / "02-source-view.png", full_page=True)

        # The link is a real URL: opened on its own (a bookmark, a new tab), it shows the same lines.
        bookmark = browser.new_page(viewport={"width": 1280, "height": 900})
        bookmark.goto(f"{base}/source?row={quote(cite.row_id, safe='')}")
        assert grid_rows(bookmark) == rows
        assert cite.row_id in bookmark.get_by_test_id("stText").first.inner_text()


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
    _library(env)
    dialogs: list[str] = []
    requests: list[str] = []
    with serve(env, tmp_path / "streamlit.log") as base:
        page = browser.new_page(viewport={"width": 1280, "height": 1100})

        def dismiss(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        page.on("request", lambda request: requests.append(request.url))
        page.goto(base)
        ask(page, "Do you run scripts? <img src=x onerror=alert(2)> [y](javascript:alert(2)) $y$")
        open_expanders(page)
        body = page.locator("body").inner_text()
        for payload in PAYLOADS:
            assert payload in body
        assert "<img src=x onerror=alert(2)> [y](javascript:alert(2)) $y$" in body
        assert "Document: Acme <img src=//example.invalid/t.png> *sheet*" in body
        assert "Vendor: Acme <img src=//example.invalid/v.png> *Corp*" in body
        assert_inert(page, dialogs)
        page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()  # draws the vendor options
        option = page.get_by_role("option", name="Acme <img src=//example.invalid/v.png> *Corp*")
        option.wait_for(timeout=TIMEOUT_MS)
        assert_inert(page, dialogs)
        page.keyboard.press("Escape")
        page.screenshot(path=shots / "03-payloads-answer.png", full_page=True)

        for row in ("acme/payloads#1", "acme/payloads#2"):
            page.goto(f"{base}/source?row={quote(row, safe='')}")
            rows = grid_rows(page)
            assert any(PAYLOADS[0] in cells[2] or PAYLOADS[2] in cells[2] for cells in rows)
            open_expanders(page)
            assert_inert(page, dialogs)
        page.screenshot(path=shots / "04-payloads-source.png", full_page=True)

    assert requests, "no request recorded"
    hosts = {str(urlsplit(url).hostname) for url in requests}
    assert hosts <= {"127.0.0.1", "localhost"}, sorted(hosts)


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
