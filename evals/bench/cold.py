"""Cold starts: from process start to the first answer, for the CLI and for the Streamlit app in a browser."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evals.browser import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, serve

QUESTION = "バックアップは何世代保持していますか？"
TIMEOUT_S = 180


def environment(index_dir: Path, backend: str, threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_INDEX_DIR=str(index_dir),
        ASSISTANT_CORPUS_DIR=str(REPO_ROOT / "corpus"),
        ASSISTANT_BACKEND=backend,
        ASSISTANT_THREADS=str(threads),
    )
    return env


def cli(env: Mapping[str, str], runs: int = 3) -> dict[str, Any]:
    """``assistant ask --no-build`` over a built index: seconds from start to exit (median of ``runs``).

    One more run goes first, unmeasured: it fills the page cache, as a restarted server finds it filled.
    """
    command = [str(Path(sys.executable).with_name("assistant")), "ask", "--no-build", "--json", QUESTION]
    samples = []
    for attempt in range(runs + 1):
        begin = time.perf_counter()
        done = subprocess.run(command, env=dict(env), capture_output=True, text=True, check=False, cwd=REPO_ROOT)
        elapsed = time.perf_counter() - begin
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        if attempt:
            samples.append(elapsed)
    return {"seconds": round(statistics.median(samples), 2), "runs": [round(s, 2) for s in samples]}


def streamlit(env: Mapping[str, str], log: Path, runs: int = 2) -> dict[str, Any]:
    """``streamlit run ui/app.py``: seconds until the server answers, the page shows the chat box, and an answer."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                results.append(_one_streamlit(browser, env, log))
        finally:
            browser.close()
    keys = results[0].keys()
    return {key: round(statistics.median(r[key] for r in results), 2) for key in keys} | {"runs": results}


def _one_streamlit(browser: Any, env: Mapping[str, str], log: Path) -> dict[str, float]:
    begin = time.perf_counter()
    with serve(env, log, timeout_s=TIMEOUT_S) as base:
        healthy = time.perf_counter()
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(base)
        box = page.get_by_test_id("stChatInputTextArea")
        box.wait_for(timeout=TIMEOUT_S * 1000)
        ready = time.perf_counter()
        box.fill(QUESTION)
        box.press("Enter")
        page.wait_for_function(
            "document.querySelectorAll('[data-testid=stChatMessage]').length >= 2", timeout=TIMEOUT_S * 1000
        )
        page.get_by_test_id("stChatMessage").last.get_by_role("link").first.wait_for(timeout=TIMEOUT_S * 1000)
        answered = time.perf_counter()
        page.close()
    return {
        "server_up": round(healthy - begin, 2),
        "chat_box": round(ready - begin, 2),
        "first_answer": round(answered - begin, 2),
        "asked_to_answer": round(answered - ready, 2),
    }
