"""Questions and their options of any type and content: answered, or refused with a QuestionError that says why."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from assistant.answers import AskResult
from assistant.errors import QuestionError
from assistant.retrieval import Assistant
from assistant.settings import Settings
from assistant.validation import MAX_K, MAX_OPTION_CHARS, ask_options, question_text, without_lone_surrogates


@pytest.fixture
def assistant(hashing_settings: Settings) -> Assistant:
    return Assistant.load(hashing_settings)


def test_lone_surrogates_become_replacement_characters() -> None:
    # A pair split into two code points (as JavaScript strings and surrogateescape'd bytes can hold) is rejoined.
    assert without_lone_surrogates("a\ud83d\ude00b\ud800c\udcff") == "a\U0001f600b\ufffdc\ufffd"
    assert without_lone_surrogates("plain 日本語") == "plain 日本語"


def test_a_question_with_a_lone_surrogate_is_answered_and_serialises(assistant: Assistant) -> None:
    result = assistant.ask("Is Acme \ud800 ISO 27001 certified?")
    assert result.question == "Is Acme \ufffd ISO 27001 certified?"
    assert result.answer is not None
    assert result.answer.row_id == "acme/faq#1"
    assert AskResult.model_validate_json(result.model_dump_json()).question == result.question


def test_a_surrogateescaped_command_line_question_is_answered(assistant: Assistant) -> None:
    """Invalid UTF-8 bytes in argv arrive as \\udc80-\\udcff; the rest of the question still counts."""
    raw = "Is Acme ISO 27001 certified? \xff".encode("latin-1").decode("utf-8", "surrogateescape")
    result = assistant.ask(raw)
    assert result.question == "Is Acme ISO 27001 certified? \ufffd"
    assert result.answer is not None


@pytest.mark.parametrize("question", ["\ud800", "\udcff\udcfe", " \ud800 \n\udfff "])
def test_a_question_of_nothing_but_lone_surrogates_is_refused(assistant: Assistant, question: str) -> None:
    with pytest.raises(QuestionError, match="no readable text"):
        assistant.ask(question)


@pytest.mark.parametrize("question", [None, 3, b"backups", ["backups"]])
def test_a_question_that_is_not_text_is_refused(assistant: Assistant, question: object) -> None:
    with pytest.raises(QuestionError, match=f"the question must be text, got {type(question).__name__}"):
        assistant.ask(question)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("k", "shown"),
    [
        (2.5, "2.5 (float)"),
        (3.0, "3.0 (float)"),
        (math.nan, "nan (float)"),
        (True, "True (bool)"),
        (False, "False (bool)"),
        ("3", "'3' (str)"),
        ([3], "[3] (list)"),
        (b"3", "b'3' (bytes)"),
    ],
)
def test_k_of_another_type_is_refused(assistant: Assistant, k: object, shown: str) -> None:
    with pytest.raises(QuestionError) as raised:
        assistant.ask("backups", k=k)  # type: ignore[arg-type]
    assert str(raised.value) == f"k must be a whole number from 1 to {MAX_K}, got {shown}"


@pytest.mark.parametrize("k", [0, -1, MAX_K + 1, 10**30])
def test_k_out_of_range_is_refused(assistant: Assistant, k: int) -> None:
    with pytest.raises(QuestionError) as raised:
        assistant.ask("backups", k=k)
    assert str(raised.value) == f"k must be a whole number from 1 to {MAX_K}, got {k}"


def test_k_too_large_to_print_is_refused_without_printing_it(assistant: Assistant) -> None:
    with pytest.raises(QuestionError, match=r"got a 33220-bit integer$"):
        assistant.ask("backups", k=10**10000)


def test_k_as_a_numpy_integer_is_taken(assistant: Assistant) -> None:
    assert assistant.ask("backups", k=np.int64(2)).k == 2  # type: ignore[arg-type]
    assert assistant.ask("backups", k=None).k == assistant.settings.default_k


@pytest.mark.parametrize("name", ["vendor", "language"])
@pytest.mark.parametrize("value", [3, 1.5, True, ["Acme"], b"Acme", {"en": 1}])
def test_vendor_and_language_of_another_type_are_refused(assistant: Assistant, name: str, value: object) -> None:
    with pytest.raises(QuestionError) as raised:
        assistant.ask("backups", **{name: value})  # type: ignore[arg-type]
    assert str(raised.value) == f"{name} must be text or None, got {value!r} ({type(value).__name__})"


@pytest.mark.parametrize("name", ["vendor", "language"])
def test_an_overlong_vendor_or_language_is_refused_without_echoing_it(assistant: Assistant, name: str) -> None:
    with pytest.raises(QuestionError) as raised:
        assistant.ask("backups", **{name: "x" * 100_000})  # type: ignore[arg-type]
    assert str(raised.value) == f"{name} is 100,000 characters; the limit is {MAX_OPTION_CHARS}"


def test_valid_options_pass_through() -> None:
    assert ask_options(vendor="Acme", language="en", k=3, default_k=5) == ("Acme", "en", 3)
    assert ask_options(vendor=None, language=None, k=None, default_k=5) == (None, None, 5)


def test_question_text_cleans_and_limits(tmp_path: Path) -> None:
    assert question_text("  Do you\tsupport\x00 SSO?\n", max_chars=100) == "Do you support SSO?"
    with pytest.raises(QuestionError, match="the question is empty"):
        question_text(" \x00\t ", max_chars=100)
    with pytest.raises(QuestionError, match="the question is 101 characters; the limit is 100"):
        question_text("x" * 101, max_chars=100)
