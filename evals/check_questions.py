"""Validate labelled question files against the corpus and print their counts and coverage.

    python evals/check_questions.py                       # the two files in evals/, rows from corpus/
    python evals/check_questions.py my_questions.jsonl    # your own file (format: evals/README.md)
    python evals/check_questions.py --rows rows.jsonl     # rows from a JSON-lines dump instead of corpus/

Errors (exit status 1): a line that is not a valid question, a duplicate id, a relevant id that is not a row,
an answer_contains string found in no row, a kind that does not match the languages of the relevant rows,
an id whose prefix does not match its kind, a vendor set on a question that names a vendor, a relevant row of
another vendor than the one set, an unknown tag, and -- for the two evals/ files only -- a missed acceptance
criterion (sizes, split stratification, coverage of every document section). Warnings are printed for review.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.evaluation.questions import EvalQuestion, QuestionsFileError, load_questions

EVALS = Path(__file__).resolve().parent
DEFAULT_FILES = (EVALS / "questions.dev.jsonl", EVALS / "questions.test.jsonl")
TAGS = (
    "typo", "no_vendor_named", "vendor_named", "short", "long", "paraphrase", "yes_no", "numeric",
    "stale_trap", "other_vendor", "off_topic", "not_covered",
)  # fmt: skip
PREFIX = {"cross_lingual": "xl", "unanswerable": "na"}
VENDOR_NAMES = {"VoicePing": re.compile(r"voice\s*ping", re.IGNORECASE), "Wevox": re.compile(r"wevox", re.IGNORECASE)}
# acceptance criteria for the shipped files
MIN_TOTAL, MIN_PER_LANGUAGE, MIN_CROSS, MIN_UNANSWERABLE, MIN_TYPO = 260, 75, 35, 45, 10


@dataclass(frozen=True)
class RowInfo:
    id: str
    vendor: str
    document_id: str
    language: str
    section: tuple[str, ...]
    item_no: str
    source_text: str


def load_rows(rows_file: Path | None, corpus_dir: Path) -> list[RowInfo]:
    if rows_file is not None:
        raw = [json.loads(line) for line in rows_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [
            RowInfo(r["id"], r["vendor"], r["document_id"], r["language"], tuple(r["section"]), r["item_no"],
                    r["source_text"])
            for r in raw
        ]  # fmt: skip
    from assistant.corpus.loader import load_corpus

    return [
        RowInfo(r.id, r.vendor, r.document_id, r.language, tuple(r.section), r.item_no, r.source_text)
        for r in load_corpus(corpus_dir).rows
    ]


def matching_rows(question: EvalQuestion, rows: Sequence[RowInfo]) -> list[RowInfo]:
    return [r for r in rows if question.is_relevant(r.id, r.source_text)]


def named_vendors(text: str) -> set[str]:
    return {vendor for vendor, pattern in VENDOR_NAMES.items() if pattern.search(text)}


def check_question(
    q: EvalQuestion, rows: Sequence[RowInfo], by_id: dict[str, RowInfo], *, strict: bool
) -> tuple[list[str], list[str]]:
    """Problems with one question; ``strict`` (the shipped files) also requires kind, tags and the id scheme."""
    errors: list[str] = []
    warnings: list[str] = []
    missing = [r for r in q.relevant if r not in by_id]
    if missing:
        errors.append(f"relevant ids not in the corpus: {missing}")
    if len(set(q.relevant)) != len(q.relevant):
        errors.append("relevant lists an id twice")
    for s in q.answer_contains:
        hits = [r.id for r in rows if s in r.source_text]
        if not hits:
            errors.append(f"answer_contains {s!r} occurs in no row")
        extra = [h for h in hits if h not in q.relevant]
        if extra and q.relevant:
            warnings.append(f"answer_contains {s!r} also matches rows not listed in relevant: {extra}")
    matched = matching_rows(q, rows)
    if not q.answerable:
        expected_kind = "unanswerable"
    elif q.language in {r.language for r in matched}:
        expected_kind = "same_language"
    else:
        expected_kind = "cross_lingual"
    if (q.kind is not None or strict) and q.kind != expected_kind:
        errors.append(f"kind is {q.kind!r} but the relevant rows make it {expected_kind!r}")
    prefix = PREFIX.get(expected_kind, q.language)
    if strict and not re.fullmatch(rf"{prefix}-\d{{3}}", q.id):
        errors.append(f"id should look like {prefix}-NNN for a {expected_kind} {q.language} question")
    if q.language not in ("en", "ja", "ko"):
        errors.append(f"language {q.language!r} is not en, ja or ko")
    unknown = [t for t in q.tags if t not in TAGS]
    if unknown:
        errors.append(f"unknown tags {unknown}")
    named = named_vendors(q.question)
    if q.vendor is not None:
        if q.vendor not in VENDOR_NAMES:
            errors.append(f"vendor {q.vendor!r} is not one of {sorted(VENDOR_NAMES)}")
        if named:
            errors.append("vendor is set although the question names the vendor itself (use null)")
        others = sorted({r.vendor for r in matched} - {q.vendor})
        if others:
            errors.append(f"vendor is {q.vendor} but relevant rows belong to {others}")
    if (q.tags or strict) and (
        ("vendor_named" in q.tags) != bool(named) or ("no_vendor_named" in q.tags) == bool(named)
    ):
        warnings.append("vendor_named/no_vendor_named tag does not match the text")
    if strict and q.kind == "unanswerable" and not {"other_vendor", "off_topic", "not_covered"} & set(q.tags):
        warnings.append("unanswerable without other_vendor/off_topic/not_covered tag (documented special case?)")
    return errors, warnings


def counts(title: str, items: Iterable[str]) -> None:
    counter = Counter(items)
    print(f"  {title}: " + ", ".join(f"{k}={v}" for k, v in sorted(counter.items())))


def vendor_of(q: EvalQuestion, by_id: dict[str, RowInfo]) -> str:
    if q.vendor:
        return q.vendor
    vendors = {by_id[r].vendor for r in q.relevant if r in by_id}
    if len(vendors) == 1:
        return vendors.pop()
    return "any" if vendors else ("any (unanswerable)" if not q.answerable else "any")


def report(files: dict[str, list[EvalQuestion]], rows: Sequence[RowInfo], by_id: dict[str, RowInfo]) -> None:
    everything = [q for qs in files.values() for q in qs]
    print(f"{len(everything)} questions in {len(files)} file(s)")
    for name, qs in [("all", everything), *files.items()]:
        print(f"[{name}] {len(qs)}")
        counts("language", (q.language for q in qs))
        counts("kind", (q.kind or q.question_kind for q in qs))
        counts("vendor field", (q.vendor or "null" for q in qs))
        counts("vendor asked about", (vendor_of(q, by_id) for q in qs))
        counts("tags", (t for q in qs for t in q.tags))


def coverage(questions: Sequence[EvalQuestion], rows: Sequence[RowInfo]) -> tuple[list[str], list[str]]:
    """Uncovered (document, top section) pairs, and (for information) uncovered finer units."""
    covered: set[str] = set()
    for q in questions:
        if q.answerable:
            covered.update(r.id for r in matching_rows(q, rows))

    def uncovered(key_of: dict[str, tuple[str, ...]]) -> list[str]:
        all_keys = dict.fromkeys(key_of.values())
        hit = {key_of[r] for r in covered if r in key_of}
        return [" > ".join(k) for k in all_keys if k not in hit]

    top = uncovered({r.id: (r.document_id, r.section[0] if r.section else "") for r in rows})
    finer = uncovered({r.id: (r.document_id, *r.section[:2]) for r in rows})
    items = uncovered({r.id: (r.document_id, "item " + r.item_no) for r in rows if r.item_no})
    return top, finer + items


def split_problems(files: dict[str, list[EvalQuestion]], by_id: dict[str, RowInfo]) -> list[str]:
    problems = []
    for name, qs in files.items():
        for what, values, wanted in (
            ("languages", {q.language for q in qs}, {"en", "ja", "ko"}),
            ("kinds", {q.kind for q in qs}, {"same_language", "cross_lingual", "unanswerable"}),
            ("vendors", {vendor_of(q, by_id) for q in qs}, {"VoicePing", "Wevox"}),
        ):
            if not wanted <= values:
                problems.append(f"{name}: lacks {what} {sorted(wanted - values)}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="question files (default: evals/questions.*.jsonl)")
    parser.add_argument("--rows", type=Path, help="rows as JSON lines (default: parse the corpus folder)")
    parser.add_argument("--corpus", type=Path, default=EVALS.parent / "corpus", help="corpus folder")
    parser.add_argument("--quiet", action="store_true", help="do not print warnings")
    args = parser.parse_args(argv)
    paths: list[Path] = args.files or list(DEFAULT_FILES)
    shipped = not args.files

    rows = load_rows(args.rows, args.corpus)
    by_id = {r.id: r for r in rows}
    files: dict[str, list[EvalQuestion]] = {}
    n_errors = 0
    try:
        for path in paths:
            files[path.name] = load_questions(path)
    except QuestionsFileError as exc:
        print(f"ERROR {exc}")
        return 1
    seen: dict[str, str] = {}
    for name, qs in files.items():
        for q in qs:
            if q.id in seen and seen[q.id] != name:
                print(f"ERROR {name} {q.id}: id also used in {seen[q.id]}")
                n_errors += 1
            seen[q.id] = name
            errors, warnings = check_question(q, rows, by_id, strict=shipped)
            for e in errors:
                print(f"ERROR {name} {q.id}: {e}")
            if not args.quiet:
                for w in warnings:
                    print(f"warning {name} {q.id}: {w}")
            n_errors += len(errors)

    report(files, rows, by_id)
    everything = [q for qs in files.values() for q in qs]
    top, finer = coverage(everything, rows)
    print("coverage of (document, top section) by answerable questions: " + (
        "all covered" if not top else f"{len(top)} uncovered"))  # fmt: skip
    for key in top:
        print(f"  UNCOVERED {key}")
    print("finer units (document > section > subsection, checksheet items) not covered: " + (
        "none" if not finer else str(len(finer))))  # fmt: skip
    for key in finer:
        print(f"  uncovered {key}")

    if shipped:
        by_kind = Counter(q.kind for q in everything)
        by_language = Counter(q.language for q in everything)
        criteria = {
            f"total >= {MIN_TOTAL}": len(everything) >= MIN_TOTAL,
            **{f"{lang} >= {MIN_PER_LANGUAGE}": by_language[lang] >= MIN_PER_LANGUAGE for lang in ("en", "ja", "ko")},
            f"cross_lingual >= {MIN_CROSS}": by_kind["cross_lingual"] >= MIN_CROSS,
            f"unanswerable >= {MIN_UNANSWERABLE}": by_kind["unanswerable"] >= MIN_UNANSWERABLE,
            f"typo >= {MIN_TYPO}": sum("typo" in q.tags for q in everything) >= MIN_TYPO,
            "every (document, top section) covered": not top,
        }
        problems = split_problems(files, by_id)
        criteria["each split has all languages, kinds and both vendors"] = not problems
        for problem in problems:
            print(f"  {problem}")
        print("acceptance criteria:")
        for name, ok in criteria.items():
            print(f"  {'ok  ' if ok else 'FAIL'} {name}")
        n_errors += sum(not ok for ok in criteria.values())
    print(f"{n_errors} error(s)")
    return 1 if n_errors else 0


if __name__ == "__main__":
    sys.exit(main())
