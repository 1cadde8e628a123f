"""Feedback on answers (thumbs up or down, optionally the row that is right), kept in a JSON Lines file and turned
into evaluation questions in the evals format by ``assistant feedback export``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.answers import AskResult, Status
from assistant.corpus.language import detect_language
from assistant.corpus.models import Row
from assistant.errors import AssistantError
from assistant.evaluation.questions import EvalQuestion

#: The feedback file inside the data folder (Settings.data_dir).
FILE_NAME = "feedback.jsonl"
Rating = Literal["up", "down"]
#: Sessions of one server are threads: they take this lock as well as the file lock (which other processes see).
_THREAD_LOCK = threading.Lock()


class FeedbackError(AssistantError):
    """The feedback file cannot be read or written; names the file (and line) and what to do."""


class FeedbackEntry(BaseModel):
    """One rating of one answer. Entries are only ever appended: a later entry with the same ``id`` (the same
    question asked in the same session, rated again) replaces the earlier one."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    at: dt.datetime
    rating: Rating
    question: str = Field(min_length=1)
    #: The language the question was read as; the asker's UI language when it could not be told.
    language: str = Field(pattern=r"^[a-z]{2}$")
    ui_language: str = "en"
    status: Status
    #: The vendor searched, how it was set ("given" in the sidebar, named in the "question", "none"), and a
    #: sidebar vendor the question overrode.
    vendor: str | None = None
    vendor_source: Literal["given", "question", "none"] = "none"
    vendor_overridden: str | None = None
    #: The answer-language filter the asker had set.
    filter_language: str | None = None
    #: The row ids shown: the answer or the disagreeing rows first, then outdated, closest and other vendors' rows.
    shown: list[str] = Field(default_factory=list)
    #: The row the asker says answers the question (picked from the shown rows or typed), if any.
    correct_row: str | None = None

    @classmethod
    def of(
        cls,
        entry_id: str,
        result: AskResult,
        rating: Rating,
        *,
        correct_row: str | None = None,
        ui_language: str = "en",
        at: dt.datetime | None = None,
    ) -> FeedbackEntry:
        """The entry for ``result`` rated ``rating``."""
        language = result.question_language or detect_language(result.question) or ui_language
        return cls(
            id=entry_id,
            at=at or dt.datetime.now(dt.UTC),
            rating=rating,
            question=result.question,
            language=language,
            ui_language=ui_language,
            status=result.status,
            vendor=result.vendor,
            vendor_source=result.vendor_source,
            vendor_overridden=result.vendor_overridden,
            filter_language=result.language,
            shown=shown_rows(result),
            correct_row=correct_row or None,
        )


def shown_rows(result: AskResult) -> list[str]:
    """The ids of every row a result shows, each once: answer or disagreeing rows, outdated, closest, others."""
    matches = [*([result.answer] if result.answer else []), *result.conflicting, *result.outdated]
    matches += [*result.alternatives, *result.other_vendors]
    return list(dict.fromkeys(match.row_id for match in matches))


class FeedbackLog:
    """The feedback file: entries appended under a lock, so that concurrent sessions never interleave lines.

    >>> log = FeedbackLog(getfixture("tmp_path") / "data")
    >>> log.entries()
    []
    >>> log.path.name
    'feedback.jsonl'
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._lock = FileLock(str(data_dir / f".{FILE_NAME}.lock"))

    def append(self, entry: FeedbackEntry) -> None:
        """Add one entry as one line, written and flushed to disk before the lock is released."""
        line = entry.model_dump_json() + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _THREAD_LOCK, self._lock, self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise FeedbackError(
                f"cannot write {self.path} ({exc.strerror}); make the folder writable or set ASSISTANT_DATA_DIR"
            ) from None

    def entries(self) -> list[FeedbackEntry]:
        """Every entry in file order; a line that is not an entry is an error naming its line number."""
        if not self.path.is_file():
            return []
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FeedbackError(f"cannot read {self.path} ({exc})") from None
        entries = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append(FeedbackEntry.model_validate(json.loads(line)))
            except (json.JSONDecodeError, ValidationError) as exc:
                problem = exc.msg if isinstance(exc, json.JSONDecodeError) else exc.errors(include_url=False)[0]["msg"]
                raise FeedbackError(
                    f"{self.path}:{number}: not a feedback entry ({problem}); fix or delete that line"
                ) from None
        return entries

    def latest(self) -> list[FeedbackEntry]:
        """The last entry of each id (a re-rated answer counts once, as last rated), in file order."""
        last: dict[str, FeedbackEntry] = {}
        for entry in self.entries():
            last.pop(entry.id, None)
            last[entry.id] = entry
        return list(last.values())


def to_questions(entries: Iterable[FeedbackEntry], rows: Mapping[str, Row]) -> tuple[list[EvalQuestion], list[str]]:
    """Evaluation questions (evals/README.md) from the thumbs-down entries that name the correct row.

    Returns the questions and, for the entries left out, why (a row id that is no longer a row of the corpus).
    The same question with the same filters and row is exported once.
    """
    questions: list[EvalQuestion] = []
    skipped: list[str] = []
    seen: set[tuple[str, str | None, str | None, str]] = set()
    for entry in entries:
        if entry.rating != "down" or not entry.correct_row:
            continue
        row = rows.get(entry.correct_row)
        if row is None:
            skipped.append(f"entry {entry.id}: {entry.correct_row!r} is not a row of the corpus (any more)")
            continue
        vendor = entry.vendor if entry.vendor_source == "given" else entry.vendor_overridden
        key = (entry.question, vendor, entry.filter_language, row.id)
        if key in seen:
            continue
        seen.add(key)
        tags = ["vendor_named" if entry.vendor_source == "question" else "no_vendor_named"]
        if entry.vendor_source == "question" and entry.vendor_overridden:
            tags.append("vendor_mismatch")
        questions.append(
            EvalQuestion(
                id=f"fb-{entry.id[:12]}",
                question=entry.question,
                language=entry.language,
                vendor=vendor,
                relevant=[row.id],
                kind="same_language" if row.language == entry.language else "cross_lingual",
                tags=tags,
                expected_status="answered",
                filter_language=entry.filter_language,
            )
        )
    return questions, skipped


def questions_jsonl(questions: Iterable[EvalQuestion]) -> str:
    """The questions as the evals files hold them: one JSON object per line, fields left at their default omitted."""
    return "".join(
        json.dumps(q.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False) + "\n" for q in questions
    )


def _export(args: argparse.Namespace) -> int:
    from assistant.corpus import load_corpus
    from assistant.settings import Settings

    settings = Settings.from_env(corpus_dir=args.corpus, data_dir=args.data)
    log = FeedbackLog(settings.data_dir)
    entries = log.latest()
    corpus = load_corpus(settings.corpus_dir)
    questions, skipped = to_questions(entries, {row.id: row for row in corpus.rows})
    for reason in skipped:
        print(f"warning: {reason}", file=sys.stderr)
    text = questions_jsonl(questions)
    if args.out:
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise FeedbackError(f"cannot write {args.out} ({exc.strerror}); choose another --out") from None
    else:
        sys.stdout.write(text)
    where = f" to {args.out}" if args.out else ""
    print(
        f"{len(questions)} questions{where} from {len(entries)} rated answers in {log.path} "
        "(thumbs down with a correct row); check them with evals/check_questions.py",
        file=sys.stderr,
    )
    return 0


def add_command(sub: Any) -> None:
    """``assistant feedback export [--out FILE]`` on the CLI's subcommands (``sub`` from add_subparsers)."""
    feedback = sub.add_parser("feedback", help="what users said about answers (the UI's thumbs up/down)")
    actions = feedback.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="thumbs-down answers with a correct row, as evaluation questions")
    export.add_argument("--out", type=Path, help="write the questions here (JSON lines); default: standard output")
    export.add_argument("--data", type=Path, help="data folder (default: ./data or ASSISTANT_DATA_DIR)")
    export.add_argument("--corpus", type=Path, help="corpus folder the row ids are checked against")
    export.set_defaults(func=_export)
