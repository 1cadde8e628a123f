"""The benchmark's questions: the labelled EN/JA/KO questions of evals/, taken in turn by language."""

from __future__ import annotations

from pathlib import Path

from assistant.evaluation.questions import EvalQuestion, load_questions

EVALS = Path(__file__).resolve().parent.parent
FILES = (EVALS / "questions.dev.jsonl", EVALS / "questions.test.jsonl")


def bench_questions(count: int) -> list[EvalQuestion]:
    """``count`` questions, alternating EN, JA, KO (each in file order) so every prefix is balanced."""
    by_language: dict[str, list[EvalQuestion]] = {}
    for path in FILES:
        for question in load_questions(path):
            by_language.setdefault(question.language, []).append(question)
    total = sum(len(v) for v in by_language.values())
    if not 1 <= count <= total:
        raise ValueError(f"--questions must be between 1 and {total} (the labelled questions), got {count}")
    chosen: list[EvalQuestion] = []
    languages = sorted(by_language)
    turn = 0
    while len(chosen) < count:
        pool = by_language[languages[turn % len(languages)]]
        index = turn // len(languages)
        if index < len(pool):
            chosen.append(pool[index])
        turn += 1
    return chosen
