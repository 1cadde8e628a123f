"""BM25 over words (Latin script) and character bigrams (Japanese, Korean): the lexical signal's index.

Dense embeddings miss exact identifiers ("ISO 27001", "TLS 1.3", "SSO", "7世代"); BM25 catches them.
Japanese has no spaces and Korean attaches particles to words, so CJK runs are split into overlapping
character bigrams, which match across inflections without a dictionary.
"""

from __future__ import annotations

import json
import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse

_WORD = re.compile(r"[a-z]+|[0-9]+|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3\u3131-\u318e]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3\u3131-\u318e]")
# English function words; CJK particles fall out through their low IDF.
_STOPWORD_TEXT = (
    "a an and are as at be by can do does for from have has how i in is it of on or our the this "
    "to we what when where which who will with you your there their they any about"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def tokenize(text: str) -> list[str]:
    """Words for Latin script, overlapping character bigrams for CJK runs.

    >>> tokenize("Is TLS 1.3 used? 世代数")
    ['tls', '1', '3', 'used', '世代', '代数']
    """
    tokens: list[str] = []
    for run in _WORD.findall(unicodedata.normalize("NFKC", text).casefold()):
        if _CJK.match(run):
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1) if len(run) > 1)
            if len(run) == 1:
                tokens.append(run)
        elif run not in _STOPWORDS:
            tokens.append(run)
    return tokens


class BM25:
    """BM25 scores of every document for a query, from a sparse term-document matrix (kept in both layouts).

    >>> bm25 = BM25(["backups are encrypted", "sso with saml", "バックアップ世代"])
    >>> int(bm25.scores("SAML SSO?").argmax())
    1
    """

    def __init__(
        self,
        documents: Sequence[str] = (),
        k1: float = 1.2,
        b: float = 0.75,
        tokenizer: Callable[[str], list[str]] = tokenize,
    ) -> None:
        self._tokenize = tokenizer
        vocabulary: dict[str, int] = {}
        # Typed arrays, not lists: a million rows give some 40 million postings (lists would take ~3 GB).
        rows = array("q")
        cols = array("q")
        values = array("d")
        lengths = np.zeros(len(documents), dtype=np.float64)
        for d, text in enumerate(documents):
            counts = Counter(tokenizer(text))
            lengths[d] = sum(counts.values())
            for term, count in counts.items():
                rows.append(vocabulary.setdefault(term, len(vocabulary)))
                cols.append(d)
                values.append(count)
        n_docs = max(len(documents), 1)
        postings = (np.frombuffer(values), (np.frombuffer(rows, np.int64), np.frombuffer(cols, np.int64)))
        tf = sparse.csr_matrix(postings, shape=(len(vocabulary), len(documents)), dtype=np.float64)
        df = np.diff(tf.indptr)
        idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        average = lengths.mean() if len(documents) else 1.0
        norm = k1 * (1.0 - b + b * lengths / max(average, 1e-9))
        coo = tf.tocoo()
        weights = coo.data * (k1 + 1.0) / (coo.data + norm[coo.col]) * idf[coo.row]
        self._matrix = sparse.csr_matrix((weights, (coo.row, coo.col)), shape=tf.shape, dtype=np.float32)
        self._vocabulary = vocabulary
        self.size = len(documents)

    def save(self, matrix_path: Path, vocabulary_path: Path) -> None:
        """The weighted term-document matrix (npz) and the vocabulary (JSON: term -> row)."""
        with matrix_path.open("wb") as handle:
            sparse.save_npz(handle, self._matrix, compressed=True)
        vocabulary_path.write_text(json.dumps(self._vocabulary, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, matrix_path: Path, vocabulary_path: Path, tokenizer: Callable[[str], list[str]] = tokenize) -> BM25:
        """A saved index; ``tokenizer`` must be the one it was built with."""
        bm25 = cls(tokenizer=tokenizer)
        bm25._matrix = sparse.csr_matrix(sparse.load_npz(matrix_path), dtype=np.float32)
        bm25._vocabulary = json.loads(vocabulary_path.read_text(encoding="utf-8"))
        bm25.size = int(bm25._matrix.shape[1])
        _ = bm25._by_document  # made when loading, not on the first question
        return bm25

    @cached_property
    def _by_document(self) -> sparse.csr_matrix:
        """The matrix document-major, for `scores_of` (a build, which only saves the matrix, never needs it)."""
        return self._matrix.T.tocsr()

    def _terms(self, query: str) -> list[int]:
        return [self._vocabulary[t] for t in set(self._tokenize(query)) if t in self._vocabulary]

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """One BM25 score per document (0 where no query term occurs)."""
        terms = self._terms(query)
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._matrix[terms].sum(axis=0), dtype=np.float32).ravel()

    def scores_of(self, query: str, documents: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """The BM25 scores of the given documents only, in their order.

        Costs what those documents hold, not what the whole corpus holds: a vendor's few hundred rows score
        in well under a millisecond among a million (the term-major layout would touch every posting).

        >>> bm25 = BM25(["backups are encrypted", "sso with saml", "saml sso again"])
        >>> [round(float(s), 3) for s in bm25.scores_of("SAML SSO?", np.array([2, 0]))]
        [0.842, 0.0]
        """
        terms = self._terms(query)
        if not terms or not len(documents):
            return np.zeros(len(documents), dtype=np.float32)
        return np.asarray(self._by_document[documents][:, terms].sum(axis=1), dtype=np.float32).ravel()
