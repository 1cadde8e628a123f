"""The concepts signal: BM25 over glossary concepts, a lexical bridge between English, Japanese and Korean.

The lexical signal matches words of one language only, so it cannot help a Korean question find a Japanese
row. Here questions and rows are both read as the concepts of the EN/JA/KO glossary (`assistant.glossary`):
"백업은 몇 세대까지 보관하나요?" and "バックアップの世代数" both hold ``backup`` and ``generation``. The score is
0..1 like the lexical signal's: a row's BM25 over the best among the rows the filters allow.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from assistant.glossary import GLOSSARY, default_glossary
from assistant.signals.base import BuildInput, SavedShape, Signal, register
from assistant.signals.bm25 import BM25, saved_files
from assistant.signals.lexical import LexicalSignal, term_counts

PREFIX = "concepts"
VOCABULARY = "concepts_vocabulary.json"
#: BM25 parameters. Concept bags are short and a long row is not less about a concept it names,
#: so length normalisation is weak (b 0.3, chosen on the dev split; 0.75 ranked 2 % fewer first rows right).
K1 = 1.2
B = 0.3


def _concepts(text: str) -> list[str]:
    return default_glossary().concepts(text)


class Concepts:
    """The concepts signal type (registered as "concepts")."""

    name = "concepts"
    weight = 0.2
    files: tuple[str, ...] = (*saved_files(PREFIX), VOCABULARY)

    @property
    def version(self) -> str:
        """The glossary's hash: an index built with another glossary is rebuilt."""
        return hashlib.sha256(GLOSSARY.read_bytes()).hexdigest()[:16]

    def build(self, source: BuildInput) -> LexicalSignal:
        # The memo kind names the glossary: counts made with another glossary are not reused.
        counts = term_counts(source, _concepts, kind=f"concepts {self.version}")
        return LexicalSignal(BM25.from_counts(counts, k1=K1, b=B, tokenizer=_concepts), PREFIX, VOCABULARY)

    def load(self, folder: Path, shape: SavedShape) -> LexicalSignal:
        bm25 = BM25.load(folder, PREFIX, folder / VOCABULARY, shape.rows, tokenizer=_concepts)
        return LexicalSignal(bm25, PREFIX, VOCABULARY)

    def describe(self, signal: Signal) -> dict[str, str | int | float]:
        return {
            "kind": f"BM25 (k1 {K1}, b {B}) over concepts of the EN/JA/KO glossary",
            "glossary": str(GLOSSARY.name),
            "glossary_sha256": self.version,
        }


register(Concepts())
