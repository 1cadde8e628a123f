"""Concurrent browser sessions of the Streamlit app: latency from Enter to the drawn card, errors, differing answers.

``python -m evals.bench.sessions --sessions 16 --questions 10 --json artifacts/bench/sessions.json`` starts
``streamlit run ui/app.py`` with the default model on the seed corpus (index built first, in this process), opens
one Chromium with one context per session (each its own Streamlit session), and lets every session ask its own
questions in turn, all sessions at once. Each card's state and first row id are compared with ``Assistant.ask``
in this process for the same question.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from assistant.answers import AskResult
from assistant.evaluation.questions import EvalQuestion, load_questions
from assistant.retrieval import Assistant
from assistant.settings import Settings
from evals.bench.serving import percentiles
from evals.browser import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, serve

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

QUESTIONS = REPO_ROOT / "evals" / "questions.dev.jsonl"
WORK_DIR = REPO_ROOT / "artifacts" / "bench" / "sessions"
#: Each session's browser language, in turn: the interface speaks it, the questions stay as written.
LOCALES = ("en-US", "ja-JP", "ko-KR")
#: Asked once before the sessions start (not among the dev questions' wording, not measured).
WARM_UP = "バックアップは何世代保持していますか？"
#: A row id as the citations write it (``<vendor>/<document>#<row>``); only ids of the index count.
ROW_ID = re.compile(r"[a-z0-9][a-z0-9._-]*/[a-z0-9._-]+#\d+")
#: The class Streamlit gives a card's keyed container (``card-<state>-<turn id>``, ui/cards.py).
CARD_KEY = re.compile(r"st-key-card-(answered|conflict|no_answer|no_documents|no_rows)-")
#: Error alerts that are not part of a "no reliable answer" card (which shows its note as an error alert).
ERROR_ALERTS_JS = """() => [...document.querySelectorAll('[data-testid=stAlertContentError]')]
    .filter((e) => !e.closest("[class*='st-key-card-no_answer-']")).map((e) => e.innerText)"""
CARD_INFO_JS = """(card) => {
    const keyed = card.querySelector("[class*='st-key-card-']");
    return [keyed ? keyed.className : "", card.innerText];
}"""


@dataclass(frozen=True)
class Expected:
    """What the card of a question should show: its state and the first row id it cites (None: no row shown)."""

    state: str
    row_id: str | None


@dataclass
class Asked:
    """One question of one session as the browser saw it."""

    session: int
    question_id: str
    language: str
    latency_ms: float | None = None
    state: str | None = None
    row_id: str | None = None
    error: str | None = None


@dataclass
class SessionLog:
    session: int
    locale: str
    asked: list[Asked] = field(default_factory=list)
    cards: int | None = None
    errors: list[str] = field(default_factory=list)


def expected_card(result: AskResult) -> Expected:
    """The state ui/cards.py draws and the first row id in the card's visible text.

    The answer's citation (or the first disagreeing row's) comes first; a "no answer" or "no rows" card lists
    the closest rows; a "no documents" card folds them away.
    """
    if result.reason_code == "no_documents_for_subject":
        return Expected("no_documents", None)
    state = "no_rows" if result.reason_code == "no_rows" else result.status
    if result.answer is not None:
        return Expected(state, result.answer.row_id)
    if result.conflicting:
        return Expected(state, result.conflicting[0].row_id)
    return Expected(state, result.alternatives[0].row_id if result.alternatives else None)


def interleaved(questions: Sequence[EvalQuestion]) -> list[EvalQuestion]:
    """The questions taken EN, JA, KO in turn (each language in file order), so every session gets a mix."""
    by_language: dict[str, list[EvalQuestion]] = {}
    for question in questions:
        by_language.setdefault(question.language, []).append(question)
    lanes = [by_language[language] for language in sorted(by_language)]
    return [question for group in zip_longest(*lanes) for question in group if question is not None]


def assign(questions: Sequence[EvalQuestion], sessions: int, per_session: int) -> list[list[EvalQuestion]]:
    """Each session's own questions; the list wraps around when sessions × questions exceeds it."""
    order = interleaved(questions)
    return [[order[(s * per_session + n) % len(order)] for n in range(per_session)] for s in range(sessions)]


async def ask(page: Page, question: str, timeout_ms: float) -> tuple[float, str, str]:
    """Send ``question``; milliseconds from Enter until its card's rating (a card's last element) is drawn,
    the card's keyed class and its visible text."""
    box = page.get_by_test_id("stChatInputTextArea")
    await box.wait_for(timeout=timeout_ms)
    before = await page.get_by_test_id("stChatMessage").count()
    await box.fill(question)
    begin = time.perf_counter()
    await box.press("Enter")
    await page.wait_for_function(
        f"document.querySelectorAll('[data-testid=stChatMessage]').length >= {before + 2}", timeout=timeout_ms
    )
    card = page.get_by_test_id("stChatMessage").last
    await card.get_by_test_id("stFeedback").wait_for(timeout=timeout_ms)
    latency = (time.perf_counter() - begin) * 1000
    classes, text = await card.evaluate(CARD_INFO_JS)
    return latency, str(classes), str(text)


def first_row_id(text: str, known: frozenset[str]) -> str | None:
    return next((m.group() for m in ROW_ID.finditer(text) if m.group() in known), None)


async def page_errors(page: Page) -> list[str]:
    """Streamlit exceptions and error alerts (other than a "no answer" card's note) on the page."""
    found = [f"exception: {text[:300]}" for text in await page.get_by_test_id("stException").all_inner_texts()]
    alerts: list[str] = await page.evaluate(ERROR_ALERTS_JS)
    return found + [f"error alert: {text[:300]}" for text in alerts]


async def session(
    browser: Browser,
    base: str,
    log: SessionLog,
    questions: Sequence[EvalQuestion],
    known: frozenset[str],
    start: asyncio.Event,
    ready: asyncio.Queue[int],
    timeout_ms: float,
) -> None:
    context = await browser.new_context(locale=log.locale, viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(timeout_ms)  # 16 pages loading at once on 2 cores take longer than 30 s
    try:
        page = await context.new_page()
        await page.goto(base)
        await page.get_by_test_id("stChatInputTextArea").wait_for(timeout=timeout_ms)
    except Exception as error:  # counted: the benchmark reports a failed session, it does not stop at one
        log.errors.append(f"opening the page: {type(error).__name__}: {error}")
        await ready.put(log.session)
        await context.close()
        return
    await ready.put(log.session)
    await start.wait()
    try:
        for question in questions:
            asked = Asked(log.session, question.id, question.language)
            log.asked.append(asked)
            try:
                asked.latency_ms, classes, text = await ask(page, question.question, timeout_ms)
            except Exception as error:  # a timeout or any other Playwright failure
                asked.error = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
                continue
            state = CARD_KEY.search(classes)
            asked.state = state.group(1) if state else None
            asked.row_id = first_row_id(text, known)
        log.cards = await page.locator("[class*='st-key-card-']").count()
        log.errors.extend(await page_errors(page))
    except Exception as error:
        log.errors.append(f"after the questions: {type(error).__name__}: {error}")
    finally:
        await context.close()


async def load_sampler(samples: list[float], stop: asyncio.Event, every_s: float = 2.0) -> None:
    while not stop.is_set():
        samples.append(os.getloadavg()[0])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


def cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) of this run's child processes: the Streamlit server and the browser's."""
    totals: dict[str, float] = {"server": 0.0, "browser": 0.0}
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
            name = "server" if "streamlit" in " ".join(child.cmdline()) else "browser"
        except psutil.Error:  # exited meanwhile
            continue
        totals[name] += times.user + times.system
    return {name: round(value, 1) for name, value in totals.items()}


async def drive(
    base: str, assigned: list[list[EvalQuestion]], known: frozenset[str], timeout_ms: float
) -> tuple[list[SessionLog], float, list[float], dict[str, float]]:
    """All sessions open the page, then ask at the same moment; returns their logs, the wall time of the asking,
    the 1-minute load average sampled meanwhile and the CPU seconds of the server and the browser so far."""
    from playwright.async_api import async_playwright

    logs = [SessionLog(n, LOCALES[n % len(LOCALES)]) for n in range(len(assigned))]
    start, stop = asyncio.Event(), asyncio.Event()
    ready: asyncio.Queue[int] = asyncio.Queue()
    load: list[float] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # One page first, alone and not measured: the server loads the model and the index for the first
            # session that arrives, and the model's first question costs more than the next ones.
            warm = await browser.new_page()
            warm.set_default_timeout(timeout_ms)
            await warm.goto(base)
            await ask(warm, WARM_UP, timeout_ms)
            await warm.close()
            tasks = [
                asyncio.create_task(session(browser, base, log, qs, known, start, ready, timeout_ms))
                for log, qs in zip(logs, assigned, strict=True)
            ]
            for _ in logs:
                await ready.get()
            sampler = asyncio.create_task(load_sampler(load, stop))
            begin = time.perf_counter()
            start.set()
            await asyncio.gather(*tasks)
            wall = time.perf_counter() - begin
            stop.set()
            await sampler
            cpu = cpu_seconds()
        finally:
            await browser.close()
    return logs, wall, load, cpu


def summary(
    logs: list[SessionLog], expected: Mapping[str, Expected], per_session: int, wall_s: float
) -> dict[str, Any]:
    asked = [a for log in logs for a in log.asked]
    errors = [f"session {a.session} {a.question_id}: {a.error}" for a in asked if a.error]
    for log in logs:
        errors += [f"session {log.session}: {e}" for e in log.errors]
        if log.cards is not None and log.cards != per_session:
            errors.append(f"session {log.session}: {log.cards} cards on the page, {per_session} expected")
    drawn = [a for a in asked if a.latency_ms is not None]
    differing = [
        {"session": a.session, "question": a.question_id, "browser": [a.state, a.row_id], "library": asdict(want)}
        for a in drawn
        if (want := expected[a.question_id]) != Expected(a.state or "", a.row_id)
    ]
    by_language = {
        language: percentiles([a.latency_ms for a in drawn if a.language == language and a.latency_ms is not None])
        for language in sorted({a.language for a in drawn})
    }
    latencies = [a.latency_ms for a in drawn if a.latency_ms is not None]
    return {
        "sessions": len(logs),
        "questions_per_session": per_session,
        "asked": len(asked),
        "cards_drawn": len(drawn),
        "errors": len(errors),
        "error_details": errors[:20],
        "latency_ms": percentiles(latencies) | {"max": round(max(latencies), 2)} if latencies else None,
        "latency_ms_by_language": by_language,
        "wall_s": round(wall_s, 2),
        "cards_per_second": round(len(drawn) / wall_s, 2) if wall_s else None,
        "differing_from_library": len(differing),
        "differing_details": differing[:20],
        "questions": [asdict(a) for a in asked],
    }


def table(result: Mapping[str, Any]) -> str:
    lat = result["latency_ms"] or {}
    load = result["load_average_1min"]
    rows = [
        ("sessions × questions", f"{result['sessions']} × {result['questions_per_session']}"),
        ("cards drawn / asked", f"{result['cards_drawn']} / {result['asked']}"),
        ("errors", str(result["errors"])),
        ("latency p50 / p95 / max ms", f"{lat.get('p50')} / {lat.get('p95')} / {lat.get('max')}"),
        ("wall time s", str(result["wall_s"])),
        ("differing from Assistant.ask", str(result["differing_from_library"])),
        ("load average (1 min) before / max during / after", f"{load['before']} / {load['max']} / {load['after']}"),
    ]
    lines = ["| measure | value |", "|---|---:|", *(f"| {name} | {value} |" for name, value in rows)]
    return "\n".join(lines)


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_CORPUS_DIR=str(settings.corpus_dir),
        ASSISTANT_INDEX_DIR=str(settings.index_dir),
        ASSISTANT_DATA_DIR=str(settings.data_dir),
    )
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench.sessions", description=__doc__)
    parser.add_argument("--sessions", type=int, default=16, help="browser sessions asking at once (default 16)")
    parser.add_argument("--questions", type=int, default=10, help="questions each session asks in turn (default 10)")
    parser.add_argument("--json", type=Path, help="also write the result (with every question's latency) here")
    parser.add_argument("--timeout", type=float, default=180, help="seconds one question may take (default 180)")
    parser.add_argument("--work-dir", type=Path, default=WORK_DIR, help=f"index, feedback, log (default {WORK_DIR})")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.questions < 1:
        parser.error("--sessions and --questions must be at least 1")
    if not CHROMIUM.exists():
        parser.error(f"{CHROMIUM} is missing (apt-get install -y chromium)")

    work: Path = args.work_dir.absolute()
    work.mkdir(parents=True, exist_ok=True)
    settings = Settings(corpus_dir=REPO_ROOT / "corpus", index_dir=work / "index", data_dir=work / "data")
    print(f"loading the library ({settings.model}, {settings.backend}); builds the index if needed", file=sys.stderr)
    library = Assistant.load(settings)
    known = frozenset(library.rows.id_of(position) for position in range(len(library.rows)))
    assigned = assign(load_questions(QUESTIONS), args.sessions, args.questions)
    expected = {q.id: expected_card(library.ask(q.question)) for qs in assigned for q in qs}

    before = os.getloadavg()[0]
    print(f"{args.sessions} sessions × {args.questions} questions, load average {before:.2f}", file=sys.stderr)
    with serve(environment(settings), work / "streamlit.log", timeout_s=args.timeout) as base:
        logs, wall, load, cpu = asyncio.run(drive(base, assigned, known, args.timeout * 1000))
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "model": settings.model,
        "backend": settings.backend,
        "corpus_rows": len(library.rows),
        **summary(logs, expected, args.questions, wall),
        "cpu_s_since_start": cpu,
        "load_average_1min": {
            "before": round(before, 2),
            "max": round(max(load, default=before), 2),
            "after": round(os.getloadavg()[0], 2),
        },
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    brief = {key: value for key, value in result.items() if key != "questions"}
    print(json.dumps(brief, ensure_ascii=False))
    print(table(result))
    return 0 if result["errors"] == 0 and result["differing_from_library"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
