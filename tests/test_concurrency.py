"""One process, one loaded model and index, many sessions asking at once (issue 14, item 4): every thread gets
exactly the results a serial run gives."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from assistant.retrieval import Assistant
from assistant.settings import Settings

from conftest import REPO_ROOT

THREADS = 16


def _asked(assistant: Assistant, question: str, vendor: str | None, language: str | None) -> dict[str, Any]:
    result = assistant.ask(question, vendor=vendor, language=language, k=5).model_dump(mode="json")
    del result["timings_ms"]
    return result


def _same_results_from_many_threads(assistant: Assistant, asks: list[tuple[str, str | None, str | None]]) -> None:
    serial = [_asked(assistant, *ask) for ask in asks]
    # Each thread asks every question, starting at a different one, so different questions run at once.
    orders = [[(i + shift) % len(asks) for i in range(len(asks))] for shift in range(THREADS)]

    def session(order: list[int]) -> list[tuple[int, dict[str, Any]]]:
        return [(i, _asked(assistant, *asks[i])) for i in order]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        sessions = list(pool.map(session, orders))
    assert len(sessions) == THREADS
    for found in sessions:
        for i, result in found:
            assert result == serial[i], asks[i]


def test_threads_asking_at_once_get_the_serial_results(hashing_settings: Settings) -> None:
    assistant = Assistant.load(hashing_settings)
    asks: list[tuple[str, str | None, str | None]] = [
        ("Are backups encrypted?", None, None),
        ("How long are backups kept?", "Acme", None),
        ("ISMSを取得していますか", None, "ja"),
        ("SSO를 지원합니까?", "Borealis", None),
        ("Is Acme ISO 27001 certified?", None, None),
        ("二要素認証に対応していますか", "Acme", "ja"),
        ("백업은 며칠 보관됩니까?", None, None),
        ("Do you support SAML single sign-on?", None, "ko"),
    ]
    _same_results_from_many_threads(assistant, asks)


@pytest.mark.model
def test_threads_asking_the_real_model_at_once_get_the_serial_results(seed_assistant: Assistant) -> None:
    lines = (REPO_ROOT / "evals" / "questions.dev.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines][:24]
    asks = [(q["question"], q.get("vendor"), q.get("filter_language")) for q in questions]
    _same_results_from_many_threads(seed_assistant, asks)
