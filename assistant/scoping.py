"""Which vendor a question is about: named explicitly, named in the question, or any."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.corpus.models import DocumentMeta
from assistant.errors import QuestionError


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


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

    def remove_names(self, question: str) -> str:
        """The question without vendor names (and a possessive or particle stuck to them).

        The vendor is applied as a filter, so its name only pulls the question towards rows that
        happen to repeat it. A question that is nothing but a name is kept as it is.

        >>> remove = VendorNames({"wevox": "Wevox"}).remove_names
        >>> remove("What's Wevox's uptime?"), remove("Wevoxの稼働率は?"), remove("Wevox")
        ("What's uptime?", '稼働率は?', 'Wevox')
        """
        text = unicodedata.normalize("NFKC", question)
        for alias in sorted(self.aliases, key=len, reverse=True):
            suffix = r"(?:'s|’s|の|는|은|가|이|의|에서|에|에는)?" if alias.isascii() else ""
            before, after = (r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])") if alias.isascii() else ("", "")
            text = re.sub(before + re.escape(alias) + suffix + after, " ", text, flags=re.IGNORECASE)
        stripped = re.sub(r"\s+", " ", text).strip(" ,、")
        return stripped if re.search(r"\w", stripped) else question

    def in_question(self, question: str) -> list[str]:
        """Vendors named in the question, in order of first mention."""
        folded = _fold(question)
        found: dict[str, int] = {}
        for alias, vendor in self.aliases.items():
            if alias.isascii():
                match = re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", folded)
                position = match.start() if match else -1
            else:
                position = folded.find(alias)
            if position >= 0 and (vendor not in found or position < found[vendor]):
                found[vendor] = position
        return sorted(found, key=lambda v: found[v])
