"""Concepts from the EN/JA/KO security glossary: a text's terms mapped to language-independent concept ids.

"백업은 몇 세대까지 보관하나요?" and "How many generations of backups are created and stored?" share no
word, but both hold the concepts ``backup``, ``generation`` and ``storage``. The glossary
(``assistant/data/glossary.tsv``, one concept per line with its English, Japanese and Korean terms) is
written and reviewed by hand; its header explains the format. Every language's terms are matched in
every text, so a row or question that mixes languages is read whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.errors import AssistantError

GLOSSARY = Path(__file__).resolve().parent / "data" / "glossary.tsv"
LANGUAGES = ("en", "ja", "ko")
#: Words: letter runs and number runs ("tls1.3" -> "tls", "1.3"; "9:00" -> "9", "00"; "24/7" stays whole).
_WORDS = re.compile(r"[a-z]+(?:['’][a-z]+)?|[0-9]+(?:[./][0-9]+)*")
_ASCII_TERM = re.compile(r"[a-z0-9][a-z0-9 .,/&'’+\-:]*\*?")


class GlossaryError(AssistantError):
    """The glossary file is malformed."""


def _normalise(text: str) -> str:
    """NFKC, case-folded, without the Japanese middle dot (クロスサイト・スクリプティング reads as one word).

    >>> _normalise("クロスサイト・スクリプティング") == _normalise("ｸﾛｽｻｲﾄｽｸﾘﾌﾟﾃｨﾝｸﾞ")
    True
    """
    return unicodedata.normalize("NFKC", text).casefold().replace("\u30fb", "")


def _words(term: str) -> tuple[str, ...]:
    """An ASCII term as the words it must match ("two-factor" -> ("two", "factor")); a final * kept."""
    return tuple(_WORDS.findall(term.rstrip("*"))) + (("*",) if term.endswith("*") else ())


@dataclass(frozen=True)
class Glossary:
    """The glossary's terms: ASCII ones matched as whole words, the others (Japanese, Korean) as substrings.

    Longest match first, without overlaps: a Japanese or Korean term is found before any ASCII word inside it
    ("IPアドレス" before "IP").

    >>> glossary = Glossary.from_entries({"backup": ["backup*", "バックアップ", "백업"], "log": ["log", "ログ", "로그"],
    ...                                   "login": ["log in", "login", "ログイン", "로그인"]})
    >>> glossary.concepts("백업 로그는 로그인 후에 봅니다")
    ['backup', 'log', 'login']
    >>> glossary.concepts("Backups are logged? Log-in first.")
    ['backup', 'login']
    """

    #: First character -> (term, concepts), longest term first, for the terms matched as substrings.
    substrings: dict[str, tuple[tuple[str, tuple[str, ...]], ...]]
    #: First word -> (words, prefix?, concepts), most words first, for the ASCII terms.
    phrases: dict[str, tuple[tuple[tuple[str, ...], bool, tuple[str, ...]], ...]]
    #: Single-word prefix terms ("encrypt*") -> concepts, looked up by each prefix of a word.
    prefixes: dict[str, tuple[str, ...]]
    #: Every concept id the glossary defines.
    ids: frozenset[str] = frozenset()

    @classmethod
    def from_entries(cls, entries: Mapping[str, Iterable[str]]) -> Glossary:
        """A glossary from concept id -> terms (any language)."""
        by_term: dict[str, list[str]] = {}
        for concept, terms in entries.items():
            for term in terms:
                normalised = _normalise(term.strip())
                if normalised and concept not in by_term.setdefault(normalised, []):
                    by_term[normalised].append(concept)
        substrings: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        phrases: dict[str, list[tuple[tuple[str, ...], bool, tuple[str, ...]]]] = {}
        prefixes: dict[str, tuple[str, ...]] = {}
        for term, concepts in by_term.items():
            words = _words(term) if _ASCII_TERM.fullmatch(term) else ()
            if not words or words == ("*",):
                substrings.setdefault(term[0], []).append((term, tuple(concepts)))
            elif words[-1] == "*" and len(words) == 2:
                prefixes[words[0]] = tuple(dict.fromkeys([*prefixes.get(words[0], ()), *concepts]))
            else:
                prefix = words[-1] == "*"
                body = words[:-1] if prefix else words
                phrases.setdefault(body[0], []).append((body, prefix, tuple(concepts)))
        return cls(
            {c: tuple(sorted(t, key=lambda x: -len(x[0]))) for c, t in substrings.items()},
            {w: tuple(sorted(p, key=lambda x: -len(x[0]))) for w, p in phrases.items()},
            prefixes,
            frozenset(entries),
        )

    @classmethod
    def load(cls, path: Path = GLOSSARY) -> Glossary:
        """Read a glossary file (see the header of ``assistant/data/glossary.tsv``)."""
        entries: dict[str, list[str]] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise GlossaryError(f"cannot read the glossary {path}: {exc}") from None
        header_seen = False
        for number, line in enumerate(lines, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if not header_seen:
                if cells != ["concept", *LANGUAGES]:
                    raise GlossaryError(f"{path}:{number}: expected the header 'concept<TAB>en<TAB>ja<TAB>ko'")
                header_seen = True
                continue
            if len(cells) != 1 + len(LANGUAGES):
                raise GlossaryError(
                    f"{path}:{number}: expected {1 + len(LANGUAGES)} tab-separated columns, got {len(cells)}"
                )
            concept = cells[0].strip()
            if not re.fullmatch(r"[a-z][a-z0-9_]*", concept):
                raise GlossaryError(f"{path}:{number}: concept id {concept!r} must be lower_snake_case")
            if concept in entries:
                raise GlossaryError(f"{path}:{number}: concept {concept!r} is defined twice")
            terms = [term.strip() for cell in cells[1:] for term in cell.split(" ; ") if term.strip()]
            misplaced = [term for term in terms if "*" in term[:-1]]
            if misplaced:
                raise GlossaryError(f"{path}:{number}: a * may only end a term: {', '.join(misplaced)}")
            if sum(bool(cell.strip()) for cell in cells[1:]) < 2:
                raise GlossaryError(f"{path}:{number}: concept {concept!r} needs terms in at least two languages")
            entries[concept] = terms
        if not entries:
            raise GlossaryError(f"{path} defines no concepts")
        return cls.from_entries(entries)

    def concepts(self, text: str) -> list[str]:
        """The concept ids of the terms found in ``text`` (a term found twice counts twice)."""
        text = _normalise(text)
        found: list[str] = []
        covered = bytearray(len(text))
        at = 0
        while at < len(text):
            for term, concepts in self.substrings.get(text[at], ()):
                if text.startswith(term, at):
                    found.extend(concepts)
                    covered[at : at + len(term)] = b"\x01" * len(term)
                    at += len(term)
                    break
            else:
                at += 1
        words = [m for m in _WORDS.finditer(text) if not any(covered[m.start() : m.end()])]
        tokens = [m.group() for m in words]
        index = 0
        while index < len(tokens):
            index += self._match_words(tokens, index, found)
        return found

    def _match_words(self, tokens: list[str], index: int, found: list[str]) -> int:
        """Match the longest ASCII term starting at word ``index``; how many words it took (1 when none)."""
        for body, prefix, concepts in self.phrases.get(tokens[index], ()):
            end = index + len(body)
            if end > len(tokens) or tuple(tokens[index : end - 1]) != body[:-1]:
                continue
            if tokens[end - 1].startswith(body[-1]) if prefix else tokens[end - 1] == body[-1]:
                found.extend(concepts)
                return len(body)
        word = tokens[index]
        for cut in range(len(word), 1, -1):
            prefixed = self.prefixes.get(word[:cut])
            if prefixed:
                found.extend(prefixed)
                return 1
        return 1


@lru_cache(maxsize=1)
def default_glossary() -> Glossary:
    """The shipped glossary, read once."""
    return Glossary.load()
