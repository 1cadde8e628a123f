"""BM25 over words (Latin script) and character bigrams (Japanese, Korean): the lexical signal's index.

Dense embeddings miss exact identifiers ("ISO 27001", "TLS 1.3", "SSO", "7世代"); BM25 catches them.
Japanese has no spaces and Korean attaches particles to words, so CJK runs are split into overlapping
character bigrams, which match across inflections without a dictionary.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse

from assistant.errors import IndexStaleError
from assistant.memmaps import random_access

_WORD = re.compile(r"[a-z]+|[0-9]+|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3\u3131-\u318e]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3\u3131-\u318e]")
# English function words; CJK particles fall out through their low IDF.
_STOPWORD_TEXT = (
    "a an and are as at be by can do does for from have has how i in is it of on or our the this "
    "to we what when where which who will with you your there their they any about"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
#: What `TermCounts.to_bytes` starts with.
_COUNTS_MAGIC = b"term counts 2\0"


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


@dataclass(frozen=True)
class TermCounts:
    """How often each term occurs in each of some consecutive passages: their terms (first seen first) and a
    sparse passage x term matrix of counts. A build keeps these per document and reuses unchanged ones.

    >>> TermCounts.of(["backup backup", "sso"]).terms
    ['backup', 'sso']
    """

    terms: list[str]
    indptr: npt.NDArray[np.int64]  # passage i's counts are indices/counts[indptr[i]:indptr[i + 1]]
    indices: npt.NDArray[np.int64]  # into terms
    counts: npt.NDArray[np.int64]

    @classmethod
    def of(cls, passages: Sequence[str], tokenizer: Callable[[str], list[str]] | None = None) -> TermCounts:
        split = tokenizer or tokenize
        vocabulary: dict[str, int] = {}
        indptr = np.zeros(len(passages) + 1, dtype=np.int64)
        indices = array("q")
        counts = array("q")
        for n, text in enumerate(passages):
            for term, count in Counter(split(text)).items():
                indices.append(vocabulary.setdefault(term, len(vocabulary)))
                counts.append(count)
            indptr[n + 1] = len(indices)
        as_array = np.frombuffer
        return cls(list(vocabulary), indptr, as_array(indices, np.int64).copy(), as_array(counts, np.int64).copy())

    def to_bytes(self) -> bytes:
        """The counts as bytes: a header (`_COUNTS_MAGIC`, then the byte length of the terms, the passages and
        the postings, little-endian int64), the terms (UTF-8, NUL-separated), then indptr, indices and counts
        (little-endian int64). Read back in one pass: no archive to open per document."""
        terms = "\0".join(self.terms).encode()
        header = np.array([len(terms), len(self.indptr) - 1, len(self.indices)], dtype="<i8").tobytes()
        arrays = (np.asarray(a, dtype="<i8").tobytes() for a in (self.indptr, self.indices, self.counts))
        return b"".join((_COUNTS_MAGIC, header, terms, *arrays))

    @classmethod
    def from_bytes(cls, data: bytes) -> TermCounts:
        """The counts `to_bytes` wrote (or an older build wrote as ``.npz``); ValueError when ``data`` is neither."""
        if not data.startswith(_COUNTS_MAGIC):
            return cls._from_npz(data)
        start = len(_COUNTS_MAGIC) + 24
        if len(data) < start:
            raise ValueError("term counts too short for their header")
        text_bytes, passages, postings = (int(v) for v in np.frombuffer(data, "<i8", 3, len(_COUNTS_MAGIC)))
        if min(text_bytes, passages, postings) < 0 or len(data) != start + text_bytes + 8 * (
            passages + 1 + 2 * postings
        ):
            raise ValueError("term counts whose size does not match their header")
        text = data[start : start + text_bytes].decode()
        at = start + text_bytes
        indptr = np.frombuffer(data, "<i8", passages + 1, at).astype(np.int64)
        indices = np.frombuffer(data, "<i8", postings, at + 8 * (passages + 1)).astype(np.int64)
        counts = np.frombuffer(data, "<i8", postings, at + 8 * (passages + 1 + postings)).astype(np.int64)
        return cls(text.split("\0") if text else [], indptr, indices, counts)

    @classmethod
    def _from_npz(cls, data: bytes) -> TermCounts:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                text = arrays["terms"].tobytes().decode()
                terms = text.split("\0") if text else []
                return cls(terms, arrays["indptr"], arrays["indices"], arrays["counts"])
        except (OSError, KeyError, EOFError, ValueError, zipfile.BadZipFile) as exc:
            raise ValueError(f"unreadable term counts ({exc})") from None


#: The arrays of a saved BM25 index: the weights term by term (for a question's terms over all rows) and row by
#: row (for the rows a filter allows), each as CSR arrays (``indptr``, ``indices``, ``weights``).
_LAYOUTS = ("terms", "rows")
_PARTS = ("indptr", "indices", "weights")


def saved_files(prefix: str) -> tuple[str, ...]:
    """The array files of a BM25 index saved under ``prefix`` (``lexical`` -> ``lexical.terms.indptr.npy``, ...)."""
    return tuple(f"{prefix}.{layout}.{part}.npy" for layout in _LAYOUTS for part in _PARTS)


class BM25:
    """BM25 scores of every document for a query, from a sparse term-document matrix (kept in both layouts).

    >>> bm25 = BM25(["backups are encrypted", "sso with saml", "バックアップ世代"])
    >>> int(bm25.scores("SAML SSO?").argmax())
    1
    """

    _matrix: sparse.csr_matrix
    _vocabulary: dict[str, int]
    size: int
    _tokenize: Callable[[str], list[str]]

    def __init__(
        self,
        documents: Sequence[str] = (),
        k1: float = 1.2,
        b: float = 0.75,
        tokenizer: Callable[[str], list[str]] = tokenize,
    ) -> None:
        built = BM25.from_counts([TermCounts.of(documents, tokenizer)], k1=k1, b=b, tokenizer=tokenizer)
        self._matrix, self._vocabulary, self.size = built._matrix, built._vocabulary, built.size
        self._tokenize = tokenizer

    @classmethod
    def from_counts(
        cls,
        blocks: Sequence[TermCounts],
        k1: float = 1.2,
        b: float = 0.75,
        tokenizer: Callable[[str], list[str]] = tokenize,
    ) -> BM25:
        """The index of the passages whose term counts ``blocks`` hold, in order (as if built from their texts).

        Terms are numbered in the order they first occur, and the weights are computed per posting in float64
        and kept in float32, exactly as `BM25(texts)` does; the arrays are built document-major first (at a
        million rows, some 40 million postings: each extra copy costs hundreds of megabytes).
        """
        vocabulary: dict[str, int] = {}
        indices, counts, lengths = [], [], []
        for block in blocks:
            remap = np.array([vocabulary.setdefault(t, len(vocabulary)) for t in block.terms], dtype=np.int32)
            indices.append(remap[block.indices])
            counts.append(block.counts.astype(np.int32))
            lengths.append(np.diff(block.indptr))
        per_row = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
        count = len(per_row)
        terms = np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32)
        values = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int32)
        del indices, counts
        indptr = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int64)
        row_of = np.repeat(np.arange(count, dtype=np.int32), per_row)
        doc_lengths = np.bincount(row_of, weights=values, minlength=count)
        df = np.bincount(terms, minlength=len(vocabulary))
        idf = np.log(1.0 + (max(count, 1) - df + 0.5) / (df + 0.5))
        average = doc_lengths.mean() if count else 1.0
        norm = k1 * (1.0 - b + b * doc_lengths / max(average, 1e-9))
        data = values.astype(np.float64)
        weights = (data * (k1 + 1.0) / (data + norm[row_of]) * idf[terms]).astype(np.float32)
        del data, row_of, values
        by_row = sparse.csr_matrix((weights, terms, indptr), shape=(count, len(vocabulary)))
        bm25 = cls.__new__(cls)
        bm25._matrix = by_row.T.tocsr()  # term-major, rows of a term in order
        bm25._vocabulary = vocabulary
        bm25.size = count
        bm25._tokenize = tokenizer
        return bm25

    def save(self, folder: Path, prefix: str, vocabulary_path: Path) -> None:
        """The weights in both layouts (uncompressed ``.npy`` files, memory-mapped when loaded) and the
        vocabulary (JSON: term -> row of the term-major layout)."""
        for layout, matrix in zip(_LAYOUTS, (self._matrix, self._by_document), strict=True):
            indices_dtype = np.int32 if matrix.nnz < 2**31 and max(matrix.shape) < 2**31 else np.int64
            arrays = (matrix.indptr.astype(indices_dtype), matrix.indices.astype(indices_dtype), matrix.data)
            for part, values in zip(_PARTS, arrays, strict=True):
                np.save(folder / f"{prefix}.{layout}.{part}.npy", values, allow_pickle=False)
        vocabulary_path.write_text(json.dumps(self._vocabulary, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(
        cls,
        folder: Path,
        prefix: str,
        vocabulary_path: Path,
        size: int,
        tokenizer: Callable[[str], list[str]] = tokenize,
    ) -> BM25:
        """The index saved by `save`, its arrays memory-mapped (a question reads only its terms' postings);
        ``tokenizer`` must be the one it was built with."""
        vocabulary = json.loads(vocabulary_path.read_text(encoding="utf-8"))
        if not isinstance(vocabulary, dict) or not all(isinstance(v, int) for v in vocabulary.values()):
            raise ValueError(f"{vocabulary_path.name} is not a mapping of terms to rows")
        if vocabulary and (min(vocabulary.values()) < 0 or max(vocabulary.values()) >= len(vocabulary)):
            raise ValueError(f"{vocabulary_path.name} maps a term outside the matrix")
        shapes = {"terms": (len(vocabulary), size), "rows": (size, len(vocabulary))}
        matrices = {}
        for layout in _LAYOUTS:
            indptr, indices, weights = (
                np.load(folder / f"{prefix}.{layout}.{part}.npy", mmap_mode="r", allow_pickle=False) for part in _PARTS
            )
            shape = shapes[layout]
            if indptr.shape != (shape[0] + 1,) or indices.shape != weights.shape or indices.ndim != 1:
                raise ValueError(f"the {layout} arrays of {prefix} do not fit a {shape[0]} x {shape[1]} matrix")
            if indptr.dtype != indices.dtype or indptr.dtype.kind != "i" or weights.dtype != np.float32:
                raise ValueError(f"the {layout} arrays of {prefix} have types {indptr.dtype}, {indices.dtype}")
            if indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0):
                raise ValueError(f"the {layout} row pointers of {prefix} are not in order")
            for part in (indptr, indices, weights):
                random_access(part)
            matrices[layout] = sparse.csr_matrix((weights, indices, indptr), shape=shape, copy=False)
        bm25 = cls.__new__(cls)
        bm25._matrix = matrices["terms"]
        bm25._vocabulary = vocabulary
        bm25.size = size
        bm25._tokenize = tokenizer
        bm25.__dict__["_by_document"] = matrices["rows"]
        return bm25

    @cached_property
    def _by_document(self) -> sparse.csr_matrix:
        """The matrix document-major, for `scores_of`."""
        return self._matrix.T.tocsr()

    def _terms(self, query: str) -> list[int]:
        return sorted(self._vocabulary[t] for t in set(self._tokenize(query)) if t in self._vocabulary)

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """One BM25 score per document (0 where no query term occurs)."""
        scores = np.zeros(self.size, dtype=np.float32)
        matrix = self._matrix
        # Term by term, in term order, into float32: the sums scipy's ``matrix[terms].sum(axis=0)`` makes, to the
        # bit, without copying the postings into a new matrix first (at a million rows a common term has a few
        # hundred thousand). A row occurs once in a term's postings, so each `+=` adds once per row.
        for term in self._terms(query):
            start, end = int(matrix.indptr[term]), int(matrix.indptr[term + 1])
            rows = matrix.indices[start:end]
            if not len(rows):
                continue
            if rows[0] < 0 or rows[-1] >= self.size or np.any(rows[1:] <= rows[:-1]):
                # Not strictly increasing (no index this program writes): scipy's way, which also checks bounds.
                postings = _checked(self._matrix[[term]], self.size)
                scores += np.asarray(postings.sum(axis=0), dtype=np.float32).ravel()
                continue
            scores[rows] += matrix.data[start:end]
        return scores

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
        rows = _checked(self._by_document[documents], len(self._vocabulary))
        return np.asarray(rows[:, terms].sum(axis=1), dtype=np.float32).ravel()


def _checked(matrix: sparse.csr_matrix, columns: int) -> sparse.csr_matrix:
    """``matrix`` (rows sliced from a saved index), once its column indices are known to be in range.

    The saved arrays were checked against the manifest's hashes; this guards against a manifest rewritten
    to vouch for broken ones, whose indices scipy would follow out of bounds.
    """
    if matrix.nnz and (matrix.indices.min() < 0 or matrix.indices.max() >= columns):
        raise IndexStaleError(
            "the lexical index refers to a column outside its matrix; rebuild it with 'assistant build'"
        )
    return matrix
