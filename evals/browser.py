"""The Streamlit app on a free local port, and Debian's Chromium to drive it.

Shared by the browser tests (tests/test_ui_browser.py) and the benchmark's cold starts (evals/bench/cold.py).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = REPO_ROOT / "ui" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
#: Headless, in a container, offline: no sandbox, GPU, QUIC, first-run or background traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(env: Mapping[str, str], log: Path, timeout_s: float = 60) -> Iterator[str]:
    """`streamlit run ui/app.py` on a free port; yields its base URL once it answers, stops it afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"]
    command += ["--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start within {timeout_s:.0f} s:\n{log.read_text()}")
                time.sleep(0.05)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def ask_in_chat(page: Any, question: str, timeout_ms: int) -> Any:
    """Type a question into the chat input, send it, and return the answer's chat message once it is drawn
    (its rating widget, a card's last element, is on the page)."""
    # While a rerun draws the page again (after a language switch, say), Streamlit can show the old chat input beside
    # the new one for a moment; wait until there is exactly one.
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=stChatInputTextArea]').length === 1", timeout=timeout_ms
    )
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=timeout_ms)
    before = page.get_by_test_id("stChatMessage").count()
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        f"document.querySelectorAll('[data-testid=stChatMessage]').length >= {before + 2}", timeout=timeout_ms
    )
    card = page.get_by_test_id("stChatMessage").last
    card.get_by_test_id("stFeedback").wait_for(timeout=timeout_ms)
    return card
