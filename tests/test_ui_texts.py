"""The UI's strings in three languages, and the UI language chosen from what the browser asks for."""

from __future__ import annotations

import doctest
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

UI_DIR = Path(__file__).resolve().parent.parent / "ui"


@pytest.fixture
def texts(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(UI_DIR))
    import texts

    yield texts
    sys.modules.pop("texts", None)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_is_translated_with_the_same_placeholders(texts: ModuleType) -> None:
    for key, versions in texts._TEXTS.items():
        assert len(versions) == 3, key
        assert all(v.strip() for v in versions), key
        assert _fields(versions[1]) == _fields(versions[0]) == _fields(versions[2]), key
    english, japanese = texts.t("state_no_answer", "en"), texts.t("state_no_answer", "ja")
    assert (english, japanese, texts.t("state_no_answer", "ko")) == (
        "No reliable answer",
        "確かな回答はありません",
        "신뢰할 수 있는 답변이 없습니다",
    )


def test_the_no_answer_wording_says_what_was_found(texts: ModuleType) -> None:
    for language in ("en", "ja", "ko"):
        note = texts.t("no_answer_note", language)
        assert texts.t("closest_heading", language).split(" — ")[0] in note
    assert "do not" not in texts.t("no_answer_note", "en")


@pytest.mark.parametrize(
    ("locale", "accept", "expected"),
    [
        ("ja-JP", None, "ja"),
        ("ko", "en-US,en;q=0.9", "ko"),
        ("en-GB", "ja", "en"),
        (None, "fr-FR,fr;q=0.9,ko;q=0.8,ja;q=0.7", "ko"),
        (None, "de;q=0.2,ja;q=0.9", "ja"),
        ("fr-FR", "fr-FR,de", "en"),
        (None, None, "en"),
        ("", "garbage;;q=x,,", "en"),
    ],
)
def test_the_ui_language_follows_the_browser(
    texts: ModuleType, locale: str | None, accept: str | None, expected: str
) -> None:
    assert texts.pick_language(locale, accept) == expected


def test_the_examples_in_the_module_hold(texts: ModuleType) -> None:
    assert doctest.testmod(texts).failed == 0
