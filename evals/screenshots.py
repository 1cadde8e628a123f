"""The README's screenshots of the UI: each decision state, in English, Japanese and Korean, taken in Chromium.

    python -m evals.screenshots              # the default model and ./corpus; writes docs/*.png
    python -m evals.screenshots --out /tmp/shots

Starts the app on a free local port (evals/browser.py) with the current ASSISTANT_* settings, asks the questions
below and saves each page as a small PNG (256 colours).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.browser import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, ask_in_chat, serve

TIMEOUT_MS = 120_000
WIDTH = 1280
MAX_HEIGHT = 2400


@dataclass(frozen=True)
class Shot:
    """One screenshot: the browser's language, what to set in the sidebar, the questions (or a page) to show."""

    name: str
    locale: str
    questions: tuple[str, ...] = ()
    vendor: str | None = None
    path: str = ""
    viewport: dict[str, int] = field(default_factory=lambda: {"width": WIDTH, "height": 1000})
    #: Crop to the page's content (up to MAX_HEIGHT), or keep the viewport as it is (a phone screen).
    whole_page: bool = True


SHOTS = (
    Shot("screenshot", "ja-JP", ("Wevoxのバックアップは何世代保持していますか？",)),
    Shot("ui-answered-outdated-en", "en-US", ("Is VoicePing ISO 27001 certified?",), vendor="Wevox"),
    Shot("ui-conflict-ja", "ja-JP", ("WevoxはSAS70Type2やSSAE18の監査報告書を提供していますか？",)),
    Shot("ui-no-documents-ko", "ko-KR", ("Slack은 SAML SSO를 지원합니까?",)),
    Shot("ui-no-reliable-answer-en", "en-US", ("Do you run a bug bounty programme?",)),
    Shot("ui-other-vendors-ko", "ko-KR", ("How many generations of backups do you keep?",)),
    Shot("ui-source-item-43-en", "en-US", path="/source?item=43"),
    Shot(
        "ui-phone-ja",
        "ja-JP",
        ("Is VoicePing ISO 27001 certified?", "WevoxはSAS70Type2やSSAE18の監査報告書を提供していますか？"),
        viewport={"width": 390, "height": 844},
        whole_page=False,
    ),
)


def _choose_vendor(page: Any, vendor: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").nth(1).get_by_role("combobox").click()
    page.get_by_role("option", name=vendor, exact=True).click()
    page.wait_for_timeout(500)


def _content_height(page: Any) -> int:
    """The height of the page's content: Streamlit scrolls an inner container, not the window."""
    height: int = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll("*")]
            .filter((e) => e.scrollHeight > e.clientHeight && getComputedStyle(e).overflowY !== "visible")
            .map((e) => e.scrollHeight), innerHeight)"""
    )
    return height


def _small_png(png: bytes) -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def take(browser: Any, base: str, shot: Shot, out: Path) -> Path:
    context = browser.new_context(locale=shot.locale, viewport=shot.viewport)
    try:
        page = context.new_page()
        page.goto(base + shot.path)
        if shot.path:
            page.get_by_test_id("stText").first.wait_for(timeout=TIMEOUT_MS)
        if shot.vendor:
            _choose_vendor(page, shot.vendor)
        for question in shot.questions:
            ask_in_chat(page, question, TIMEOUT_MS)
        page.wait_for_timeout(2000)
        if shot.whole_page:
            height = min(_content_height(page) + 40, MAX_HEIGHT)
            page.set_viewport_size({"width": shot.viewport["width"], "height": height})
            page.wait_for_timeout(1500)
            if shot.questions:  # the card from its question down, not the chat input at the bottom
                page.get_by_test_id("stChatMessage").first.scroll_into_view_if_needed()
        path = out / f"{shot.name}.png"
        path.write_bytes(_small_png(page.screenshot()))
        return path
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs", help="folder for the PNG files")
    parser.add_argument("--only", nargs="*", help="names of the shots to take (default: all)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    with serve(env, args.out / ".streamlit.log", timeout_s=300) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for shot in SHOTS:
            if args.only and shot.name not in args.only:
                continue
            path = take(browser, base, shot, args.out)
            print(f"{path} ({path.stat().st_size // 1024} KB)", file=sys.stderr)
        browser.close()
    (args.out / ".streamlit.log").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
