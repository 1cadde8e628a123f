"""``python -m evals.fill_bench``: speed and accuracy of ``assistant fill`` with the real model.

speed: a 500-question questionnaire (.xlsx: a cover sheet, a title, a header in row 3) filled end to end by the
command in a fresh process (model and index load, every question, the filled copy written): wall seconds and the
process's peak resident memory. The index is built first and not timed.

accuracy: one CSV questionnaire per vendor made from the questions of a labelled file (the test split by default),
filled through the library: the share of rows whose first answer is right (an answerable question answered with a
relevant row, an unanswerable one not answered), of wrong answers, and of rows flagged for a person.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = (REPO_ROOT / "evals" / "questions.dev.jsonl", REPO_ROOT / "evals" / "questions.test.jsonl")
VENDORS = ("Wevox", "VoicePing")


def speed_questionnaire(path: Path, count: int) -> Path:
    """``count`` questions (the labelled questions' texts, numbered when repeated) laid out like a customer's sheet."""
    import openpyxl

    from assistant.evaluation.questions import load_questions

    texts = [q.question for file in QUESTION_FILES for q in load_questions(file)]
    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "表紙"
    cover["A1"] = "セキュリティチェックシート (benchmark)"
    sheet = book.create_sheet("Security")
    sheet["A1"] = "Security questionnaire"
    sheet.append([])
    sheet.append(["No.", "Category", "Question", "Answer", "Comment"])
    for n in range(count):
        text = texts[n % len(texts)] + (f" ({n // len(texts) + 1})" if n >= len(texts) else "")
        sheet.append([n + 1, f"Area {n // 25 + 1}", text, None, None])
    book.save(path)
    return path


def _run_measured(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak resident MiB and stdout of a child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO_ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}):\n{err.read().decode()[-3000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read().decode()


def speed(count: int, vendor: str) -> dict[str, Any]:
    subprocess.run([sys.executable, "-m", "assistant.cli", "build"], cwd=REPO_ROOT, check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as folder:
        source = speed_questionnaire(Path(folder) / "bench.xlsx", count)
        command = [sys.executable, "-m", "assistant.cli", "fill", str(source), "--vendor", vendor, "--json"]
        print(f"  $ {' '.join(command[1:])}", file=sys.stderr, flush=True)
        seconds, peak_mib, out = _run_measured(command)
        report = json.loads(out)
    return {
        "questions": len(report["rows"]),
        "vendor": vendor,
        "end_to_end_s": round(seconds, 2),
        "asking_s": report["seconds"],
        "peak_rss_mib": round(peak_mib),
        "counts": report["counts"],
        "review": report["review"],
    }


def _vendor_of(question: Any, index: int) -> str:
    """The vendor a questionnaire holding this question is filled for."""
    if question.vendor:
        return str(question.vendor)
    vendors = {row.split("/", 1)[0] for row in question.relevant}
    named = [v for v in VENDORS if v.lower() in question.question.lower()]
    if len(vendors) == 1:
        only = vendors.pop()
        return next(v for v in VENDORS if v.lower() == only)
    if len(named) == 1:
        return named[0]
    return VENDORS[index % 2]  # about no vendor of ours (Slack, off-topic): each questionnaire gets half


def accuracy(questions_file: Path) -> dict[str, Any]:
    from assistant.evaluation.questions import load_questions
    from assistant.questionnaire import detect_questionnaire, fill, read_source
    from assistant.retrieval import Assistant

    assistant = Assistant.load()
    questions = load_questions(questions_file)
    by_vendor: dict[str, list[Any]] = defaultdict(list)
    for index, question in enumerate(questions):
        by_vendor[_vendor_of(question, index)].append(question)
    outcomes: list[dict[str, Any]] = []
    for vendor, group in sorted(by_vendor.items()):
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["No", "Question", "Answer"])
        writer.writerows([[q.id, q.question, ""] for q in group])
        questionnaire = detect_questionnaire(read_source(text.getvalue().encode(), f"{vendor}.csv"))
        report = fill(questionnaire, assistant, vendor=vendor)
        rows = {row.item_no: row for row in report.rows}
        for question in group:
            row = rows[question.id]
            first = row.sources[0].row_id if row.status == "answered" and row.sources else None
            relevant = first is not None and question.is_relevant(first, assistant.row(first).source_text)
            answerable = question.answerable
            outcomes.append(
                {
                    "id": question.id,
                    "language": question.language,
                    "answerable": answerable,
                    "status": row.status,
                    "right": relevant if answerable else row.status != "answered",
                    "wrong_answer": first is not None and not relevant,
                    "review": row.review,
                }
            )
    return {"questions_file": str(questions_file.relative_to(REPO_ROOT)), **_shares(outcomes)}


def _shares(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    def share(rows: list[dict[str, Any]], key: str) -> float:
        return round(sum(bool(r[key]) for r in rows) / len(rows), 3) if rows else 0.0

    answerable = [r for r in outcomes if r["answerable"]]
    result: dict[str, Any] = {
        "rows": len(outcomes),
        "first_answer_right": share(outcomes, "right"),
        "answerable_rows": len(answerable),
        "answerable_first_answer_right": share(answerable, "right"),
        "wrong_answers": share(outcomes, "wrong_answer"),
        "flagged_for_review": share(outcomes, "review"),
        "by_language": {},
    }
    for language in sorted({r["language"] for r in outcomes}):
        rows = [r for r in outcomes if r["language"] == language]
        result["by_language"][language] = {
            "rows": len(rows),
            "first_answer_right": share(rows, "right"),
            "wrong_answers": share(rows, "wrong_answer"),
            "flagged_for_review": share(rows, "review"),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fill_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="speed,accuracy", help="speed, accuracy or both (comma-separated)")
    parser.add_argument("--questions", type=int, default=500, help="questions in the speed questionnaire")
    parser.add_argument("--vendor", default="Wevox", help="the vendor the speed questionnaire is filled for")
    parser.add_argument("--labelled", type=Path, default=QUESTION_FILES[1], help="questions file for accuracy")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    results: dict[str, Any] = {"load_average_at_start": [round(x, 2) for x in os.getloadavg()], "cores": os.cpu_count()}
    if "speed" in parts:
        results["speed"] = speed(args.questions, args.vendor)
        print(json.dumps(results["speed"]), file=sys.stderr, flush=True)
    if "accuracy" in parts:
        results["accuracy"] = accuracy(args.labelled)
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(results, ensure_ascii=False, indent=2)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
