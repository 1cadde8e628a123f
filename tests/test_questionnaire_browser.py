"""The Questionnaire page in Chromium: upload, fill with a progress bar, check the table, download the filled file.

Skipped when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (as in CI), which makes that a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import openpyxl
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from python_calamine import CalamineWorkbook

from assistant.questionnaire import detect_questionnaire, fill, read_file
from assistant.questionnaire.writing import OUTPUT_HEADERS, SUMMARY_SHEET
from assistant.retrieval import Assistant
from assistant.settings import Settings
from evals.browser import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, serve

from questionnaire_files import security_workbook

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000


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


def grid_rows(grid: Any) -> list[list[str]]:
    """The cells of a data grid, from the accessible table the grid keeps beside its canvas."""
    grid.locator("[role=gridcell]").first.wait_for(state="attached", timeout=TIMEOUT_MS)
    return [row.locator("[role=gridcell]").all_text_contents() for row in grid.locator("tbody [role=row]").all()]


def test_upload_fill_and_download(browser: Any, tmp_path: Path, seed_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {"ASSISTANT_MODEL": "hashing", "ASSISTANT_CORPUS_DIR": str(seed_dir)}
    env["ASSISTANT_INDEX_DIR"] = str(tmp_path / "index")
    settings = Settings(model="hashing", corpus_dir=seed_dir, index_dir=tmp_path / "index")
    source = security_workbook(tmp_path / "checks.xlsx")
    expected = fill(detect_questionnaire(read_file(source)), Assistant.load(settings), vendor="Wevox")
    shots = Path(os.environ.get("UI_SCREENSHOT_DIR") or REPO_ROOT / "artifacts" / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with serve(env, tmp_path / "streamlit.log") as base:
        page = browser.new_page(viewport={"width": 1600, "height": 1400}, accept_downloads=True)
        page.goto(f"{base}/questionnaire")
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(source))
        page.get_by_text("File: checks.xlsx (6 sheets, 13 questions found)").wait_for(timeout=TIMEOUT_MS)
        vendor_box = page.get_by_test_id("stSelectbox").filter(has_text="Vendor whose documents answer")
        for _ in range(TIMEOUT_MS // 5_000):  # clicked again if a rerun redrew the selectbox before it opened
            vendor_box.click()
            try:
                page.get_by_role("option", name="Wevox").wait_for(timeout=5_000)
            except PlaywrightTimeout:
                continue
            break
        page.get_by_role("option", name="Wevox").click()
        page.get_by_role("button", name="Fill the questionnaire").click()
        page.get_by_text("Answering question 13 of 13").wait_for(timeout=TIMEOUT_MS)
        download_button = page.get_by_test_id("stDownloadButton")
        download_button.wait_for(timeout=TIMEOUT_MS)

        # The grid draws (and lists in its accessible table) the rows that fit its height: the first ones.
        rows = grid_rows(page.get_by_test_id("stDataFrame").last)
        assert len(rows) >= 8
        shown = [(cells[0], cells[1], cells[3], cells[4]) for cells in rows]
        assert (
            shown == [(r.sheet, str(r.row), r.question, r.status.replace("_", " ")) for r in expected.rows][: len(rows)]
        )

        page.get_by_test_id("stRadio").get_by_text("needs review").click()
        review = expected.to_review
        page.wait_for_function(
            "[...document.querySelectorAll('[data-testid=stDataFrame]')].pop()"
            f".querySelectorAll('tbody [role=row]').length === {len(review)}",
            timeout=TIMEOUT_MS,
        )
        rows = grid_rows(page.get_by_test_id("stDataFrame").last)
        assert [(cells[0], cells[1]) for cells in rows] == [(r.sheet, str(r.row)) for r in review]
        assert all(cells[5] == "yes" for cells in rows)
        page.get_by_test_id("stRadio").get_by_text("all rows").click()
        page.wait_for_function(
            "[...document.querySelectorAll('[data-testid=stDataFrame]')].pop()"
            f".querySelectorAll('tbody [role=row]').length > {len(review)}",
            timeout=TIMEOUT_MS,
        )
        page.screenshot(path=shots / "05-questionnaire.png", full_page=True)

        with page.expect_download(timeout=TIMEOUT_MS) as info:
            download_button.click()
        download = info.value
        assert download.suggested_filename == "checks.filled.xlsx"
        filled = tmp_path / download.suggested_filename
        download.save_as(filled)

        # The first cited row is one click away in the source view, at its own address.
        cited = next(r for r in expected.rows if r.sources).sources[0]
        link = page.get_by_role("link", name=f"Open the cited lines in the source view: {cited.row_id}")
        assert link.get_attribute("href") == f"source?row={quote(cited.row_id, safe='')}"
        link.click()
        page.wait_for_url(re.compile(r"/source\?row="), timeout=TIMEOUT_MS)
        assert cited.row_id in page.get_by_test_id("stText").first.inner_text()

    book = openpyxl.load_workbook(filled)
    assert book.sheetnames[-1] == SUMMARY_SHEET
    japanese = book["基本事項"]
    assert [japanese.cell(row=4, column=6 + i).value for i in range(len(OUTPUT_HEADERS))] == list(OUTPUT_HEADERS)
    for row in expected.rows:
        if row.sheet == "基本事項":
            assert japanese.cell(row=row.row, column=7).value == row.status.replace("_", " ")
            assert (japanese.cell(row=row.row, column=6).value or "") == row.answer
    calamine = CalamineWorkbook.from_path(str(filled))
    assert calamine.sheet_names == book.sheetnames
