"""Checks at the edge: a question and its options, as any caller may pass them, cleaned or refused with a message."""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import SupportsIndex

from pydantic import ValidationError

from assistant.errors import QuestionError, SettingsError
from assistant.passages import clean_question
from assistant.settings import Settings

#: The most rows one question may return (the answer and its alternatives).
MAX_K = 100
#: The longest vendor name or language code taken: the refusal of an unknown one repeats it.
MAX_OPTION_CHARS = 200
#: The prefix of the environment variables that set `Settings` fields.
ENV_PREFIX = "ASSISTANT_"
#: What a lone surrogate becomes (the character UTF-8 decoders put in place of what they cannot read).
REPLACEMENT = "\ufffd"

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """``text`` with surrogate pairs joined and lone surrogates replaced by U+FFFD, so it can be encoded.

    Lone surrogates reach Python from JavaScript strings (half an emoji pasted) and from command-line bytes
    that are not UTF-8 (Python's surrogateescape); tokenizers and JSON encoders refuse them. The question is
    cleaned rather than refused: the rest of it usually still says what is asked, and the result shows
    the cleaned text.

    >>> without_lone_surrogates("SSO?\\udcff \\ud83d\\ude00")
    'SSO?\\ufffd 😀'
    """
    if not _LONE_SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def question_text(question: object, max_chars: int) -> str:
    """The cleaned question (see `clean_question`); QuestionError when it is not text, empty or too long.

    >>> question_text("  Do you support\\tSSO? ", max_chars=1000)
    'Do you support SSO?'
    """
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, got {type(question).__name__}")
    if len(question) > max_chars * 4:  # before cleaning, which would take time on megabytes
        raise QuestionError(
            f"the question is {len(question):,} characters; the limit is {max_chars}. Ask one question at a time."
        )
    cleaned = clean_question(without_lone_surrogates(question))
    if not cleaned:
        raise QuestionError("the question is empty; type a question such as 'Do you support SSO?'")
    if not cleaned.replace(REPLACEMENT, "").strip():
        raise QuestionError(
            "the question has no readable text, only characters that are not valid Unicode; type it again"
        )
    if len(cleaned) > max_chars:
        raise QuestionError(
            f"the question is {len(cleaned)} characters; the limit is {max_chars}. Ask one question at a time."
        )
    return cleaned


def ask_options(*, vendor: object, language: object, k: object, default_k: int) -> tuple[str | None, str | None, int]:
    """``vendor``, ``language`` and ``k`` as `Assistant.ask` takes them; QuestionError naming what is wrong.

    >>> ask_options(vendor="Wevox", language=None, k=None, default_k=5)
    ('Wevox', None, 5)
    >>> ask_options(vendor=None, language=None, k=2.5, default_k=5)
    Traceback (most recent call last):
    ...
    assistant.errors.QuestionError: k must be a whole number from 1 to 100, got 2.5 (float)
    """
    return _option("vendor", vendor), _option("language", language), _k(k, default_k)


def _option(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise QuestionError(f"{name} must be text or None, got {_shown(value)} ({type(value).__name__})")
    if len(value) > MAX_OPTION_CHARS:
        raise QuestionError(f"{name} is {len(value):,} characters; the limit is {MAX_OPTION_CHARS}")
    return value


def _k(k: object, default: int) -> int:
    if k is None:
        return default
    expected = f"k must be a whole number from 1 to {MAX_K}"
    # int, and integer types such as numpy's; not float or str, nor bool (an int to Python, never a count meant)
    try:
        if isinstance(k, bool) or not isinstance(k, SupportsIndex):
            raise TypeError
        value = operator.index(k)
    except TypeError:
        raise QuestionError(f"{expected}, got {_shown(k)} ({type(k).__name__})") from None
    if not 1 <= value <= MAX_K:
        raise QuestionError(f"{expected}, got {_shown(value)}")
    return value


def _shown(value: object) -> str:
    """A short printable form of any value (an int too large for str() included)."""
    if isinstance(value, int) and value.bit_length() > 10_000:  # str() refuses over 4,300 digits
        return f"a {value.bit_length()}-bit integer"
    try:
        text = repr(value)
    except Exception:  # a caller's object whose repr fails
        return "a value that cannot be shown"
    return text if len(text) <= 80 else text[:77] + "..."


def checked_settings(build: Callable[[], Settings], options: Mapping[str, str] | None = None) -> Settings:
    """``build()``, or a SettingsError naming each bad value as the user set it, and what it may be.

    ``options`` maps the fields that command-line options set to the option (``{"model": "--model"}``);
    other fields are named by their environment variable (``ASSISTANT_DEFAULT_K``).

    >>> checked_settings(lambda: Settings(default_k=0))
    Traceback (most recent call last):
    ...
    assistant.errors.SettingsError: invalid settings:
      ASSISTANT_DEFAULT_K=0: Input should be greater than or equal to 1 (expected: an integer from 1 to 100)
    """
    unreadable = [
        name
        for name, value in sorted(os.environ.items())
        if name.startswith(ENV_PREFIX) and _LONE_SURROGATE.search(value) and not _is_path(_field(name))
    ]
    if unreadable:
        raise SettingsError(_listed([f"{name} is not valid UTF-8; set it again" for name in unreadable]))
    try:
        return build()
    except ValidationError as exc:
        raise SettingsError(_listed(_problems(exc, options or {}))) from None
    except ValueError as exc:  # a settings source that parses values itself raises its own ValueError
        raise SettingsError(_listed([str(exc)])) from None


def _field(variable: str) -> str:
    return variable.removeprefix(ENV_PREFIX).lower()


def _is_path(field: str) -> bool:
    """Paths may hold any bytes (Python keeps undecodable ones as lone surrogates and writes them back)."""
    info = Settings.model_fields.get(field)
    return info is not None and info.annotation is Path


def _listed(problems: list[str]) -> str:
    return "invalid settings:\n" + "\n".join(f"  {problem}" for problem in problems)


def _problems(error: ValidationError, options: Mapping[str, str]) -> list[str]:
    problems = []
    for problem in error.errors(include_url=False):
        field = str(problem["loc"][0]) if problem["loc"] else ""
        name = options.get(field) or f"{ENV_PREFIX}{field.upper()}"
        message = problem["msg"].removeprefix("Value error, ")
        expected = _expected(field)
        if expected and problem["type"] != "literal_error":  # a Literal's message lists the values already
            message += f" (expected: {expected})"
        problems.append(f"{name}={_shown(problem['input'])}: {message}")
    return problems


def _expected(field: str) -> str:
    """What a numeric field takes, from its bounds: "an integer from 1 to 100"."""
    info = Settings.model_fields.get(field)
    if info is None:
        return ""
    low = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in info.metadata if hasattr(m, "le")), None)
    if low is None or high is None:
        return ""
    kind = "an integer" if isinstance(low, int) and isinstance(high, int) else "a number"
    return f"{kind} from {low} to {high}"
