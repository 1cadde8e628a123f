"""The ``assistant fill`` command: a questionnaire in, its filled copy (and a summary or JSON) out."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.errors import QuestionError
from assistant.questionnaire.detection import detect_questionnaire
from assistant.questionnaire.filling import check_questions, fill
from assistant.questionnaire.models import FillReport
from assistant.questionnaire.reading import read_file
from assistant.questionnaire.writing import STATUS_WORDS, check_output, default_output, filled_bytes, write_atomic
from assistant.settings import Settings

#: Rows to review listed on the terminal (all of them are on the summary sheet and in --json).
SHOWN_REVIEW_ROWS = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")  # no escape sequence from a questionnaire reaches the terminal


def add_parser(
    subparsers: Any, common: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.ArgumentParser:
    """Register ``fill`` on the CLI's subparsers; ``common`` adds the shared --corpus/--index/--model options."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "fill",
        help="fill a customer's questionnaire (.xlsx, .xlsm, .csv) with the vendor's own answers, cited",
        description="Answers every question of a questionnaire from one vendor's documents and writes a filled "
        "copy: answers, status, Yes/No, confidence, source and notes in added columns, rows needing a person "
        "highlighted, and a summary sheet.",
    )
    if common is not None:
        common(parser)
    parser.add_argument(
        "questionnaire", type=Path, help="the questionnaire: .xlsx, .xlsm or .csv (UTF-8, CP932, UTF-16)"
    )
    parser.add_argument("--vendor", required=True, help="the vendor whose documents answer (e.g. Wevox)")
    parser.add_argument("--out", type=Path, help="the filled copy (default: <name>.filled.<ext> next to the input)")
    parser.add_argument("--language", help="answer only from rows in this language (en, ja, ko)")
    parser.add_argument("--sheet", help="fill only this sheet (also one whose name says cover or instructions)")
    parser.add_argument("--question-column", help="the question column: a letter (C), a number (3) or its header")
    parser.add_argument("--json", action="store_true", help="print every row's result as JSON (a FillReport)")
    parser.add_argument("--no-build", action="store_true", help="fail instead of building a missing or stale index")
    parser.set_defaults(func=run)
    return parser


def _printable(text: str, limit: int = 80) -> str:
    flat = _CONTROL.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _bar(description: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    from tqdm import tqdm

    bars: list[Any] = []

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc=description, unit="row", file=sys.stderr))
        bars[0].n = done
        bars[0].refresh()

    def close() -> None:
        if bars:
            bars[0].close()

    return update, close


def run(args: argparse.Namespace) -> int:
    """Read and check everything before the model loads, fill, then write the copy atomically."""
    from assistant.retrieval import Assistant

    source_path: Path = args.questionnaire
    questionnaire = detect_questionnaire(read_file(source_path), sheet=args.sheet, question_column=args.question_column)
    check_questions(questionnaire)
    out: Path = args.out or default_output(source_path)
    check_output(questionnaire, source_path, out)
    settings = Settings.from_env(
        corpus_dir=getattr(args, "corpus", None),
        index_dir=getattr(args, "index", None),
        model=getattr(args, "model", None),
    )
    update, close = _bar("embedding rows")
    try:
        assistant = Assistant.load(settings, rebuild=not args.no_build, progress=update)
    finally:
        close()
    vendor = assistant.names.resolve(args.vendor)
    if args.language is not None and args.language not in assistant.languages:
        raise QuestionError(f"no rows in language {args.language!r}; the corpus has: {', '.join(assistant.languages)}")
    update, close = _bar("questions")
    try:
        report = fill(questionnaire, assistant, vendor=vendor, language=args.language, progress=update)
    finally:
        close()
    write_atomic(out, filled_bytes(questionnaire, report))
    report = report.model_copy(update={"output": str(out)})
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print_summary(report)
    return 0


def print_summary(report: FillReport) -> None:
    counts = " · ".join(f"{STATUS_WORDS[status]} {count}" for status, count in report.counts.items())
    print(
        f"Filled {len(report.rows)} questions of {_printable(report.input)} for {report.vendor} "
        f"in {report.seconds:.1f} s: {report.output}"
    )
    print(f"  {counts} · needs review {report.review}")
    for loss in report.losses:
        print(f"  warning: the filled copy does not keep this of the workbook: {_printable(loss, 200)}")
    print("Sheets:")
    for layout in report.sheets:
        name = _printable(layout.sheet, 40)
        if layout.skipped:
            print(f"  {name!r} skipped: {layout.skipped}")
            continue
        answer = f", answer column {layout.answer_column}" if layout.answer_column else ", no answer column"
        unsure = " (guessed: check it, or give --question-column)" if not layout.sure else ""
        print(
            f"  {name!r}: {layout.questions} questions in column {layout.question_column} "
            f"({_printable(layout.how)}){answer}; added columns from {layout.output_column}{unsure}"
        )
    review = report.to_review
    if review:
        print(f"Rows to review ({len(review)}; marked 'yes' in the column 'Assistant: review'):")
        for row in review[:SHOWN_REVIEW_ROWS]:
            where = f"{_printable(row.sheet, 30)}!{row.row}"
            what = _printable(row.question or row.note, 70)  # a formula without a value has no question text
            print(f"  {where:<20} {STATUS_WORDS[row.status]:<10} {what}")
        if len(review) > SHOWN_REVIEW_ROWS:
            print(f"  … and {len(review) - SHOWN_REVIEW_ROWS} more")
