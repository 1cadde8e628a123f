"""Validate labelled question files against the corpus and print their counts and coverage.

    python evals/check_questions.py                       # the two files in evals/, rows from corpus/
    python evals/check_questions.py my_questions.jsonl    # your own file (format: evals/README.md)
    python evals/check_questions.py --rows rows.jsonl     # rows from a JSON-lines dump instead of corpus/

Errors (exit status 1): a line that is not a valid question, a duplicate id, a relevant id that is not a row,
an answer_contains string found in no row, a kind that does not match the languages of the relevant rows,
an id whose prefix does not match its kind, a vendor set on a question that names a vendor (unless tagged
vendor_mismatch), a relevant row of another vendor than the one asked about, an unknown tag, decision labels
that do not fit the corpus (conflicting rows of several vendors or versions, outdated rows in a current document,
a filter language no row has, ...), and -- for the two evals/ files only -- a missed acceptance criterion (sizes,
split stratification, coverage of every document section, the questionnaire and decision-case sets).
Warnings are printed for review.
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

from assistant.evaluation.questions import DECISION_KINDS, EvalQuestion, QuestionsFileError, load_questions

EVALS = Path(__file__).resolve().parent
DEFAULT_FILES = (EVALS / "questions.dev.jsonl", EVALS / "questions.test.jsonl")
DECISION_TAGS = DECISION_KINDS  # each question has at most one; the rest are "plain" answerable/unanswerable
TAGS = (
    "typo", "no_vendor_named", "vendor_named", "short", "long", "paraphrase", "yes_no", "numeric",
    "stale_trap", "off_topic", "not_covered", "questionnaire", *DECISION_TAGS,
)  # fmt: skip
PREFIX = {"cross_lingual": "xl", "unanswerable": "na"}
VENDOR_NAMES = {"VoicePing": re.compile(r"voice\s*ping", re.IGNORECASE), "Wevox": re.compile(r"wevox", re.IGNORECASE)}
# acceptance criteria for the shipped files
MIN_TOTAL, MIN_PER_LANGUAGE, MIN_CROSS, MIN_UNANSWERABLE, MIN_TYPO = 260, 75, 35, 45, 10
# ... for the questionnaire-style set (issue 11) and the decision cases (issue 10)
MIN_QUESTIONNAIRE, MIN_QUESTIONNAIRE_PER_LANGUAGE, MIN_QUESTIONNAIRE_CROSS, MIN_PER_DECISION = 100, 28, 33, 10


@dataclass(frozen=True)
class RowInfo:
    id: str
    vendor: str
    document_id: str
    language: str
    section: tuple[str, ...]
    item_no: str
    source_text: str


@dataclass(frozen=True)
class DocumentInfo:
    """What the decision labels need to know about a document: its version and whether a newer one exists."""

    vendor: str
    version: str | None
    as_of: str | None
    superseded: bool


def load_documents(corpus_dir: Path) -> dict[str, DocumentInfo]:
    """Document key ("voiceping/security-page-ja") -> its version and whether corpus.toml marks it superseded."""
    from assistant.corpus.loader import load_metadata

    metas = load_metadata(corpus_dir).documents
    older = {f"{m.vendor_id}/{old}" for m in metas for old in m.newer_than}
    return {
        m.key: DocumentInfo(m.vendor, m.version, m.as_of.isoformat() if m.as_of else None, m.key in older)
        for m in metas
    }


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
    q: EvalQuestion,
    rows: Sequence[RowInfo],
    by_id: dict[str, RowInfo],
    documents: dict[str, DocumentInfo],
    *,
    strict: bool,
) -> tuple[list[str], list[str]]:
    """Problems with one question; ``strict`` (the shipped files) also requires kind, tags and the id scheme."""
    errors: list[str] = []
    warnings: list[str] = []
    for field, ids in (("relevant", q.relevant), ("conflicting", q.conflicting), ("outdated", q.outdated)):
        missing = [r for r in ids if r not in by_id]
        if missing:
            errors.append(f"{field} ids not in the corpus: {missing}")
        if len(set(ids)) != len(ids):
            errors.append(f"{field} lists an id twice")
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
    errors += vendor_problems(q, matched)
    errors += decision_problems(q, matched, by_id, documents)
    named = named_vendors(q.question)
    if (q.tags or strict) and (
        ("vendor_named" in q.tags) != bool(named) or ("no_vendor_named" in q.tags) == bool(named)
    ):
        warnings.append("vendor_named/no_vendor_named tag does not match the text")
    special = {"other_vendor", "off_topic", "not_covered", "in_version_conflict"}
    if strict and q.kind == "unanswerable" and not special & set(q.tags):
        warnings.append("unanswerable without other_vendor/off_topic/not_covered tag (documented special case?)")
    return errors, warnings


def vendor_problems(q: EvalQuestion, matched: Sequence[RowInfo]) -> list[str]:
    """The vendor field against the text: set only when the text names no vendor, or for a vendor_mismatch case."""
    errors: list[str] = []
    named = named_vendors(q.question)
    relevant_vendors = {r.vendor for r in matched}
    if "vendor_mismatch" in q.tags:
        if q.vendor is None or len(named) != 1 or q.vendor in named:
            errors.append("vendor_mismatch needs the vendor field set to one vendor and the text naming the other")
        elif relevant_vendors != named:
            errors.append(f"vendor_mismatch: relevant rows must be the named vendor's ({named.pop()}) only")
        return errors
    if q.vendor is not None:
        if q.vendor not in VENDOR_NAMES:
            errors.append(f"vendor {q.vendor!r} is not one of {sorted(VENDOR_NAMES)}")
        if named:
            errors.append(
                "vendor is set although the question names the vendor itself (use null, or tag vendor_mismatch)"
            )
        others = sorted(relevant_vendors - {q.vendor})
        if others:
            errors.append(f"vendor is {q.vendor} but relevant rows belong to {others}")
    return errors


def conflicting_problems(conflicting: Sequence[RowInfo], documents: dict[str, DocumentInfo]) -> list[str]:
    """Conflicting rows must be of one vendor and one current document version."""
    if not conflicting:
        return []
    errors = []
    docs = {r.document_id for r in conflicting}
    if len({r.vendor for r in conflicting}) > 1:
        errors.append("conflicting rows must all be of one vendor")
    if any(documents[d].superseded for d in docs if d in documents):
        errors.append("conflicting rows must be in current documents (an older document's row is outdated)")
    if len(docs) > 1 and len({(documents[d].version, documents[d].as_of) for d in docs if d in documents}) > 1:
        errors.append("conflicting rows must be of one document version")
    return errors


def decision_problems(
    q: EvalQuestion, matched: Sequence[RowInfo], by_id: dict[str, RowInfo], documents: dict[str, DocumentInfo]
) -> list[str]:
    """The decision labels (expected_status, conflicting, outdated, filter_language, tags) against the corpus."""
    errors: list[str] = []
    kinds = [t for t in q.tags if t in DECISION_TAGS]
    if len(kinds) > 1:
        errors.append(f"at most one decision tag per question, got {kinds}")
    if q.filter_language is not None and q.filter_language not in {r.language for r in by_id.values()}:
        errors.append(f"filter_language {q.filter_language!r}: no row is in that language")
    if ("in_version_conflict" in q.tags) != (q.status == "conflict"):
        errors.append('tag in_version_conflict and expected_status "conflict" go together')
    errors += conflicting_problems([by_id[r] for r in q.conflicting if r in by_id], documents)
    outdated = [by_id[r] for r in q.outdated if r in by_id]
    current = [r.id for r in outdated if r.document_id in documents and not documents[r.document_id].superseded]
    if current:
        errors.append(f"outdated rows must be in a document that a newer one supersedes (corpus.toml): {current}")
    if outdated and {r.vendor for r in outdated} != {r.vendor for r in matched}:
        errors.append("outdated rows must be of the same vendor as the relevant rows")
    if outdated and any(q.is_relevant(r.id, r.source_text) for r in outdated):
        errors.append("an outdated row is also matched by answer_contains")
    if "stale_language_filter" in q.tags:
        if q.filter_language is None:
            errors.append("stale_language_filter needs filter_language")
        elif outdated and any(r.language != q.filter_language for r in outdated):
            errors.append("stale_language_filter: the outdated rows are the ones the filter would pick (its language)")
        elif not outdated and q.filter_language not in {r.language for r in matched}:
            errors.append("stale_language_filter without outdated rows needs a relevant row in the filter's language")
    if "other_vendor" in q.tags and q.status != "no_answer":
        errors.append('other_vendor questions expect "no_answer"')
    if "no_vendor" in q.tags and (
        q.vendor is not None or named_vendors(q.question) or len({r.vendor for r in matched}) < 2
    ):
        errors.append("no_vendor: no vendor named or set, and relevant rows of at least two vendors")
    return errors


def counts(title: str, items: Iterable[str]) -> None:
    counter = Counter(items)
    print(f"  {title}: " + ", ".join(f"{k}={v}" for k, v in sorted(counter.items())))


def vendor_of(q: EvalQuestion, by_id: dict[str, RowInfo]) -> str:
    """The vendor asked about: the vendor field (for a vendor_mismatch case, the vendor named), else the relevant
    (or conflicting) rows' single vendor."""
    vendors = {by_id[r].vendor for r in [*q.relevant, *q.conflicting] if r in by_id}
    if q.vendor and "vendor_mismatch" not in q.tags:
        return q.vendor
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
        counts("expected status", (q.status for q in qs))
        counts("decision kind", (q.decision_kind for q in qs))
        counts("filter_language", (q.filter_language or "none" for q in qs))
        questionnaire = [q for q in qs if "questionnaire" in q.tags]
        counts("questionnaire by language", (q.language for q in questionnaire))
        counts("questionnaire by kind", (q.kind or q.question_kind for q in questionnaire))


def coverage(questions: Sequence[EvalQuestion], rows: Sequence[RowInfo]) -> tuple[list[str], list[str]]:
    """Uncovered (document, top section) pairs, and (for information) uncovered finer units (the rows of a
    conflict question count for these)."""
    covered: set[str] = set()
    finer_covered: set[str] = set()
    for q in questions:
        if q.answerable:
            covered.update(r.id for r in matching_rows(q, rows))
        finer_covered.update(q.conflicting)

    def uncovered(key_of: dict[str, tuple[str, ...]], reached: set[str]) -> list[str]:
        all_keys = dict.fromkeys(key_of.values())
        hit = {key_of[r] for r in reached if r in key_of}
        return [" > ".join(k) for k in all_keys if k not in hit]

    top = uncovered({r.id: (r.document_id, r.section[0] if r.section else "") for r in rows}, covered)
    finer = uncovered({r.id: (r.document_id, *r.section[:2]) for r in rows}, covered | finer_covered)
    items = uncovered({r.id: (r.document_id, "item " + r.item_no) for r in rows if r.item_no}, covered | finer_covered)
    return top, finer + items


def split_problems(files: dict[str, list[EvalQuestion]], by_id: dict[str, RowInfo]) -> list[str]:
    problems = []
    for name, qs in files.items():
        for what, values, wanted in (
            ("languages", {q.language for q in qs}, {"en", "ja", "ko"}),
            ("kinds", {q.kind for q in qs}, {"same_language", "cross_lingual", "unanswerable"}),
            ("vendors", {vendor_of(q, by_id) for q in qs}, {"VoicePing", "Wevox"}),
            ("decision kinds", {q.decision_kind for q in qs}, set(DECISION_TAGS)),
            ("questionnaire questions", {"questionnaire" for q in qs if "questionnaire" in q.tags}, {"questionnaire"}),
        ):
            if not wanted <= values:
                problems.append(f"{name}: lacks {what} {sorted(wanted - values)}")
    return problems


def questionnaire_criteria(questions: Sequence[EvalQuestion]) -> dict[str, bool]:
    """Sizes of the questionnaire-style set: total, per language, cross-lingual."""
    questionnaire = [q for q in questions if "questionnaire" in q.tags]
    by_language = Counter(q.language for q in questionnaire)
    return {
        f"questionnaire >= {MIN_QUESTIONNAIRE}": len(questionnaire) >= MIN_QUESTIONNAIRE,
        **{
            f"questionnaire {lang} >= {MIN_QUESTIONNAIRE_PER_LANGUAGE}": by_language[lang]
            >= MIN_QUESTIONNAIRE_PER_LANGUAGE
            for lang in ("en", "ja", "ko")
        },
        f"questionnaire cross_lingual >= {MIN_QUESTIONNAIRE_CROSS}": sum(
            q.kind == "cross_lingual" for q in questionnaire
        )
        >= MIN_QUESTIONNAIRE_CROSS,
    }


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
    documents = load_documents(args.corpus)
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
            errors, warnings = check_question(q, rows, by_id, documents, strict=shipped)
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
            **questionnaire_criteria(everything),
            **{
                f"{kind} >= {MIN_PER_DECISION}": sum(kind in q.tags for q in everything) >= MIN_PER_DECISION
                for kind in DECISION_TAGS
            },
        }
        problems = split_problems(files, by_id)
        criteria["each split has all languages, kinds, both vendors, decision kinds, questionnaire"] = not problems
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
