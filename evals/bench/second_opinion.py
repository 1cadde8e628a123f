"""What the second opinion (`Settings.second_opinion`, the default since 2026-11-28) costs: load time, time per
question and memory, with it ("auto") and without ("none"), over the seed corpus.

    python -m evals.bench.second_opinion [--questions 200] [--pairs 2]

Each measurement runs in a fresh process (`Assistant.load` as the UI and the CLI load it, so the second model and
its index come with it), the two modes in turn, ``--pairs`` times; the indexes are built first, outside the
measurement. Per process: seconds to load, peak RSS after loading and one question, then the dev questions asked
twice after 20 warm-up questions, p50 / p95 of `AskResult.timings_ms["total"]`, and how many of them asked the
second model. Prints one JSON object; nothing here is asserted by a unit test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
MODES = ("none", "auto")
WARMUP = 20


def _one(count: int) -> dict[str, Any]:
    """In this process: load, ask, measure (the mode comes from ASSISTANT_SECOND_OPINION)."""
    from assistant.evaluation.questions import load_questions
    from assistant.retrieval import Assistant
    from assistant.settings import Settings

    questions = [q.question for q in load_questions(REPO_ROOT / "evals" / "questions.dev.jsonl")][:count]
    begin = time.perf_counter()
    assistant = Assistant.load(Settings.from_env(), rebuild=False)
    assistant.ask(questions[0])
    loaded = time.perf_counter() - begin
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for text in questions[:WARMUP]:
        assistant.ask(text)
    totals: list[float] = []
    asked = 0
    for _ in range(2):
        for text in questions:
            result = assistant.ask(text)
            totals.append(result.timings_ms["total"])
            asked += int(result.features.get("second_opinion_asked", 0.0))
    totals.sort()
    return {
        "load_and_first_answer_s": round(loaded, 2),
        "peak_rss_mib": round(peak_mib),
        "p50_ms": round(statistics.median(totals), 2),
        "p95_ms": round(totals[int(0.95 * len(totals))], 2),
        "second_model_asked": asked // 2,
        "questions": len(questions),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=200, help="the first N dev questions")
    parser.add_argument("--pairs", type=int, default=2, help="processes per mode, the modes in turn")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        from assistant.retrieval import Assistant

        Assistant.load()  # both indexes (the default has the second opinion)
        return 0
    if args.child:
        json.dump(_one(args.questions), sys.stdout)
        return 0

    def child(*options: str, mode: str = "auto") -> str:
        # A process of its own: the peak RSS a child reports starts at its parent's, so this one loads nothing.
        command = [sys.executable, "-m", "evals.bench.second_opinion", *options]
        env = {**os.environ, "ASSISTANT_SECOND_OPINION": mode}
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=REPO_ROOT).stdout

    child("--build")  # build (or open) both indexes before anything is timed
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for _ in range(args.pairs):
        for mode in MODES:
            runs[mode].append(json.loads(child("--child", "--questions", str(args.questions), mode=mode)))
    json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": runs}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
