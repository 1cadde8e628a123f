"""Which vendor a question is about: named explicitly, named in the question, or any."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from assistant.corpus.models import DocumentMeta
from assistant.errors import QuestionError


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


_SUFFIX = r"(?:'s|’s|の|는|은|가|이|의|에서|에|에는)?"
#: The non-ASCII letters that match ASCII letters under re.IGNORECASE (see the re docs), mapped to them.
_ASCII_FOLD = str.maketrans({"İ": "i", "ı": "i", "ſ": "s", "K": "k"})


def _uncased_run(alias: str) -> str:
    """The alias's longest run of characters without case: re.IGNORECASE matches those only literally."""
    best = current = ""
    for ch in alias:
        if ch.lower() == ch == ch.upper():
            current += ch
            best = max(best, current, key=len)
        else:
            current = ""
    return best


@dataclass(frozen=True)
class _Alias:
    """An alias with its patterns (compiled when first needed) and a cheap test that must pass before its
    pattern can match. With thousands of vendors, compiling every pattern up front took seconds at start-up."""

    alias: str
    vendor: str
    required: str  # a substring every text matching `removal` contains ("" when there is none to rely on)

    @property
    def removal(self) -> re.Pattern[str]:
        return _patterns(self.alias)[0]

    @property
    def mention(self) -> re.Pattern[str] | None:
        return _patterns(self.alias)[1]

    @property
    def anchor(self) -> str:
        """Three characters every probe (see `_probe`) of a text that `removal` matches contains, or ""."""
        if len(self.required) >= _GRAM:
            return self.required[-_GRAM:]
        return self.alias[-_GRAM:] if self.alias.isascii() and len(self.alias) >= _GRAM else ""


_GRAM = 3


def _probe(text: str) -> str:
    """The text with the letters re.IGNORECASE matches to ASCII ones folded to them, and ASCII lower-cased.

    Uncased characters (digits, kana, hangul, ideographs, punctuation) are left as they are, so an alias's
    uncased run and an ASCII alias both occur in the probe of any text their removal pattern matches.
    """
    return text.translate(_ASCII_FOLD).lower()


def _grams(text: str) -> set[str]:
    return {text[i : i + _GRAM] for i in range(len(text) - _GRAM + 1)}


def _buckets(anchors: list[str]) -> tuple[dict[str, list[int]], list[int]]:
    """Positions by anchor, and the positions without an anchor (always tested)."""
    buckets: dict[str, list[int]] = {}
    always = []
    for position, anchor in enumerate(anchors):
        if anchor:
            buckets.setdefault(anchor, []).append(position)
        else:
            always.append(position)
    return buckets, always


def _candidates(grams: set[str], buckets: dict[str, list[int]], always: list[int]) -> list[int]:
    found = list(always)
    for gram in grams:
        found.extend(buckets.get(gram, ()))
    return sorted(found)


@functools.cache
def _patterns(alias: str) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """The alias's removal pattern, and its mention pattern (None: a plain substring search finds mentions)."""
    if alias.isascii():
        before, after = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
        removal = re.compile(before + re.escape(alias) + _SUFFIX + after, flags=re.IGNORECASE)
        return removal, re.compile(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])")
    return re.compile(re.escape(alias), flags=re.IGNORECASE), None


def _compile(alias: str, vendor: str) -> _Alias:
    return _Alias(alias, vendor, _uncased_run(alias))


@dataclass(frozen=True)
class Scope:
    """The vendor a question is limited to, and how it was chosen.

    ``source`` is "question" when the question names the vendor (it wins over one chosen in the UI, which
    is then ``overridden``), "given" when it was chosen, "none" when the search covers every vendor.
    """

    vendor: str | None
    source: Literal["given", "question", "none"]
    overridden: str | None = None


@dataclass(frozen=True)
class VendorNames:
    """Every name a vendor goes by (display name, slug, product names), folded for matching.

    >>> names = VendorNames.from_documents([DocumentMeta(id="s", vendor="Wevox", product="Wevox",
    ...     file="s.tsv", layout="tsv_checksheet", languages=["ja"], title="t")])
    >>> names.in_question("Does wevox support SSO?"), names.resolve("WEVOX")
    (['Wevox'], 'Wevox')
    """

    #: folded alias -> vendor display name
    aliases: dict[str, str]
    # Compiled once: with hundreds of vendors, re's own cache of 512 patterns thrashes and every ask recompiles.
    # With thousands, even testing each alias costs milliseconds: aliases are bucketed by three characters
    # they must contain (their anchor), and only the buckets of the question's three-character grams are tested.
    _by_length: tuple[_Alias, ...] = field(init=False, repr=False, compare=False)
    _in_order: tuple[_Alias, ...] = field(init=False, repr=False, compare=False)
    _removal_buckets: tuple[dict[str, list[int]], list[int]] = field(init=False, repr=False, compare=False)
    _mention_buckets: tuple[dict[str, list[int]], list[int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = {alias: _compile(alias, vendor) for alias, vendor in self.aliases.items()}
        in_order = tuple(compiled.values())
        by_length = tuple(compiled[alias] for alias in sorted(self.aliases, key=len, reverse=True))
        object.__setattr__(self, "_in_order", in_order)
        object.__setattr__(self, "_by_length", by_length)
        object.__setattr__(self, "_removal_buckets", _buckets([entry.anchor for entry in by_length]))
        # Mentions are found in the casefolded question, which contains every alias it mentions.
        mention_anchors = [entry.alias[-_GRAM:] if len(entry.alias) >= _GRAM else "" for entry in in_order]
        object.__setattr__(self, "_mention_buckets", _buckets(mention_anchors))

    @classmethod
    def from_documents(cls, documents: Iterable[DocumentMeta]) -> VendorNames:
        aliases: dict[str, str] = {}
        for meta in documents:
            for name in (meta.vendor, meta.vendor_id, meta.product):
                folded = _fold(name).strip()
                if folded:
                    aliases.setdefault(folded, meta.vendor)
        return cls(aliases)

    @property
    def vendors(self) -> list[str]:
        return sorted(set(self.aliases.values()))

    def resolve(self, name: str) -> str:
        """The vendor a user-given name refers to; QuestionError naming the known vendors otherwise."""
        folded = _fold(name).strip()
        if folded in self.aliases:
            return self.aliases[folded]
        close = difflib.get_close_matches(folded, list(self.aliases), n=1, cutoff=0.6)
        hint = f" (did you mean {self.aliases[close[0]]!r}?)" if close else ""
        known = ", ".join(self.vendors) or "none (the corpus is empty)"
        raise QuestionError(f"unknown vendor {name!r}{hint}; known vendors: {known}")

    def scope(self, question: str, given: str | None) -> Scope:
        """The vendor to search: the one the question names, else the one given, else every vendor.

        >>> names = VendorNames({"wevox": "Wevox", "voiceping": "VoicePing"})
        >>> names.scope("Is VoicePing ISO certified?", "Wevox")
        Scope(vendor='VoicePing', source='question', overridden='Wevox')
        >>> names.scope("Is it ISO certified?", "wevox"), names.scope("Is it ISO certified?", None)
        (Scope(vendor='Wevox', source='given', overridden=None), Scope(vendor=None, source='none', overridden=None))
        """
        chosen = self.resolve(given) if given is not None and given.strip() else None
        named = self.in_question(question)
        if len(named) == 1:
            return Scope(named[0], "question", chosen if chosen not in (None, named[0]) else None)
        if chosen is not None:
            return Scope(chosen, "given")
        return Scope(None, "none")

    def remove_names(self, question: str) -> str:
        """The question without vendor names (and a possessive or particle stuck to them).

        The vendor is applied as a filter, so its name only pulls the question towards rows that
        happen to repeat it. A question that is nothing but a name is kept as it is.

        >>> remove = VendorNames({"wevox": "Wevox"}).remove_names
        >>> remove("What's Wevox's uptime?"), remove("Wevoxの稼働率は?"), remove("Wevox")
        ("What's uptime?", '稼働率は?', 'Wevox')
        """
        text = unicodedata.normalize("NFKC", question)
        # Aliases are removed longest first, each from the text the previous ones left. Only those that can
        # match the current text are tried (the result is the same); after a removal, the rest are re-picked.
        start = 0
        while start < len(self._by_length):
            probe = _probe(text)
            for position in _candidates(_grams(probe), *self._removal_buckets):
                entry = self._by_length[position]
                if position < start or (entry.required and entry.required not in text):
                    continue
                if not entry.required and entry.alias.isascii() and entry.alias not in probe:
                    continue
                replaced = entry.removal.sub(" ", text)
                if replaced != text:
                    text, start = replaced, position + 1
                    break
            else:
                break
        stripped = re.sub(r"\s+", " ", text).strip(" ,、")
        return stripped if re.search(r"\w", stripped) else question

    def in_question(self, question: str) -> list[str]:
        """Vendors named in the question, in order of first mention."""
        folded = _fold(question)
        found: dict[str, int] = {}
        for candidate in _candidates(_grams(folded), *self._mention_buckets):
            entry = self._in_order[candidate]
            alias, vendor = entry.alias, entry.vendor
            if entry.mention is not None:
                match = entry.mention.search(folded) if alias in folded else None
                position = match.start() if match else -1
            else:
                position = folded.find(alias)
            if position >= 0 and (vendor not in found or position < found[vendor]):
                found[vendor] = position
        return sorted(found, key=lambda v: found[v])
