"""The rows of an index, kept on disk and read as they are needed: opening costs the same at any size.

``rows.jsonl`` holds one row per line (a person can read it), ``rows.offsets.npy`` where each line starts,
``rows.documents.npy`` each row's document (its place in ``documents.json``) and ``rows.languages.npy``
each row's language. The arrays are memory-mapped; a row is parsed when a question reaches it (and kept
in a small cache). A row id ``<document>#<n>`` is the n-th row of its document, so finding a row by id
needs no table of ids: rows are stored document by document, in order.
"""

from __future__ import annotations

import hashlib
import mmap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from assistant.corpus.models import DocumentMeta, Row
from assistant.errors import IndexStaleError
from assistant.memmaps import random_access

ROWS = "rows.jsonl"
OFFSETS = "rows.offsets.npy"
DOCUMENTS = "rows.documents.npy"
LANGUAGES = "rows.languages.npy"
#: The row store's files.
FILES = (ROWS, OFFSETS, DOCUMENTS, LANGUAGES)
#: Parsed rows kept per store (a question reads a few dozen).
CACHED_ROWS = 4096

IdArray = npt.NDArray[np.int64]


def serialize(rows: Iterable[Row]) -> Iterator[bytes]:
    """Each row as its line of ``rows.jsonl`` (newline included)."""
    for row in rows:
        yield row.model_dump_json().encode() + b"\n"


def rows_digest(rows: Iterable[Row]) -> str:
    """SHA-256 of ``rows.jsonl`` as ``rows`` would be written: the manifest's ``rows_sha256``."""
    digest = hashlib.sha256()
    for line in serialize(rows):
        digest.update(line)
    return digest.hexdigest()


@dataclass(frozen=True)
class WrittenRows:
    """What writing the rows produced: the rows digest."""

    sha256: str


def _check_order(rows: Sequence[Row], documents: Sequence[DocumentMeta]) -> npt.NDArray[np.int32]:
    """Each row's document code; ValueError unless rows come document by document, numbered from 1."""
    code_of = {meta.key: code for code, meta in enumerate(documents)}
    codes = np.empty(len(rows), dtype=np.int32)
    previous, number = -1, 0
    for position, row in enumerate(rows):
        code = code_of.get(row.document_id)
        if code is None:
            raise ValueError(f"row {row.id} belongs to document {row.document_id!r}, which is not indexed")
        number = number + 1 if code == previous else 1
        if code < previous or row.id != f"{row.document_id}#{number}":
            raise ValueError(
                f"row {row.id} is out of order: rows must come document by document, in the order of the "
                f"documents, numbered from 1 (expected {row.document_id}#{number})"
            )
        codes[position] = previous = code
    return codes


def write_rows(
    folder: Path, rows: Sequence[Row], documents: Sequence[DocumentMeta], lines: Sequence[bytes] | None = None
) -> WrittenRows:
    """Write the row store's files into ``folder`` (``lines``: the rows already serialized, if at hand)."""
    codes = _check_order(rows, documents)
    data = b"".join(serialize(rows) if lines is None else lines)  # one write, one hash: no loop per row
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n")) + 1  # a line holds no other newline
    if len(ends) != len(rows):
        raise ValueError(f"{len(ends)} lines were serialized for {len(rows)} rows")
    offsets[1:] = ends
    (folder / ROWS).write_bytes(data)
    np.save(folder / OFFSETS, offsets, allow_pickle=False)
    np.save(folder / DOCUMENTS, codes, allow_pickle=False)
    np.save(folder / LANGUAGES, np.array([row.language for row in rows], dtype=str), allow_pickle=False)
    return WrittenRows(hashlib.sha256(data).hexdigest())


class RowStore:
    """The rows of an index folder by position (0..len-1), by id, and by vendor and language.

    >>> import tempfile
    >>> meta = DocumentMeta(id="faq", vendor="Acme", product="Acme", file="faq.md", layout="markdown",
    ...                     languages=["en"], title="FAQ")
    >>> row = Row(id="acme/faq#1", vendor="Acme", vendor_id="acme", document_id="acme/faq", language="en",
    ...           kind="bullet", answer="Backups are encrypted.", source_text="- Backups are encrypted.",
    ...           line_start=3, line_end=3)
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = write_rows(folder, [row], [meta])
    >>> rows = RowStore.open(folder, [meta])
    >>> len(rows), rows[0].answer, rows.position_of("acme/faq#1"), rows.positions(vendor="Acme").tolist()
    (1, 'Backups are encrypted.', 0, [0])
    """

    def __init__(
        self,
        data: mmap.mmap | bytes,
        offsets: npt.NDArray[np.int64],
        codes: npt.NDArray[np.int32],
        languages: npt.NDArray[np.str_],
        documents: Sequence[DocumentMeta],
    ) -> None:
        count = len(codes)
        if offsets.shape != (count + 1,) or languages.shape != (count,):
            raise ValueError(f"the row arrays disagree: {count} documents, {len(offsets)} offsets, {len(languages)}")
        if count and (codes.min() < 0 or codes.max() >= len(documents) or np.any(np.diff(codes) < 0)):
            raise ValueError("the rows' document codes are not in document order")
        if count and (offsets[0] != 0 or offsets[-1] != len(data)):
            raise ValueError("the row offsets do not cover rows.jsonl")
        self._data = data
        # Plain views of the memory maps: numpy's memmap class indexes an element ten times slower.
        self._offsets = offsets.view(np.ndarray)
        self._codes = codes.view(np.ndarray)
        self._languages = languages.view(np.ndarray)
        self.documents = tuple(documents)
        self._keys = [meta.key for meta in self.documents]
        self._code_of = {key: code for code, key in enumerate(self._keys)}
        self._starts = np.searchsorted(codes, np.arange(len(self.documents) + 1)).astype(np.int64)
        self._start_of: list[int] = self._starts.tolist()  # per document: a list indexes faster than an array
        self._vendor_documents: dict[str, list[int]] = {}
        for code, meta in enumerate(self.documents):
            self._vendor_documents.setdefault(meta.vendor, []).append(code)
        self._by_language: dict[str, IdArray] = {}
        self._language_names: list[str] | None = None
        self._read = lru_cache(maxsize=CACHED_ROWS)(self._parse)

    @classmethod
    def open(cls, folder: Path, documents: Sequence[DocumentMeta]) -> RowStore:
        """Map the row store of ``folder`` (its files were verified against the manifest)."""
        offsets = np.load(folder / OFFSETS, mmap_mode="r", allow_pickle=False)
        codes = np.load(folder / DOCUMENTS, mmap_mode="r", allow_pickle=False)
        languages = np.load(folder / LANGUAGES, mmap_mode="r", allow_pickle=False)
        for name, array, kind in ((OFFSETS, offsets, "i"), (DOCUMENTS, codes, "i"), (LANGUAGES, languages, "U")):
            if array.ndim != 1 or array.dtype.kind != kind:
                raise ValueError(f"{name} holds {array.dtype} of shape {array.shape}, not a list of row values")
        data: mmap.mmap | bytes = b""
        with (folder / ROWS).open("rb") as handle:
            if (folder / ROWS).stat().st_size:
                data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                data.madvise(mmap.MADV_RANDOM)
        for array in (offsets, codes):
            random_access(array)
        return cls(data, offsets, codes, languages, documents)

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, position: int) -> Row:
        if not 0 <= position < len(self):
            raise IndexError(f"row position {position} is outside 0..{len(self) - 1}")
        return self._read(position)

    def __iter__(self) -> Iterator[Row]:
        """Every row, in order (parsed one by one; the few callers that need all rows are offline)."""
        for position in range(len(self)):
            yield self._parse(position)

    def _parse(self, position: int) -> Row:
        start, end = int(self._offsets[position]), int(self._offsets[position + 1])
        if not 0 <= start < end <= len(self._data):
            raise IndexStaleError(f"row {position} of {ROWS} lies outside the file; rebuild the index")
        try:
            row = Row.model_validate_json(self._data[start:end])
        except ValidationError:
            raise IndexStaleError(f"row {position} of {ROWS} is unreadable; rebuild the index") from None
        if row.id != self.id_of(position):
            raise IndexStaleError(
                f"row {position} of {ROWS} is {row.id}, not {self.id_of(position)}; rebuild the index"
            )
        return row

    def id_of(self, position: int) -> str:
        code = int(self._codes[position])
        return f"{self._keys[code]}#{position - self._start_of[code] + 1}"

    def position_of(self, row_id: str) -> int:
        """The position of a row id; KeyError when the index has no such row."""
        document, _, number = row_id.rpartition("#")
        code = self._code_of.get(document)
        if code is None or not number.isdigit() or number != str(int(number)):
            raise KeyError(row_id)
        start = self._start_of[code]
        position = start + int(number) - 1
        if not start <= position < self._start_of[code + 1]:
            raise KeyError(row_id)
        return position

    def document_of(self, position: int) -> DocumentMeta:
        return self.documents[int(self._codes[position])]

    def vendor_of(self, position: int) -> str:
        return self.document_of(position).vendor

    def language_of(self, position: int) -> str:
        return str(self._languages[position])

    @property
    def vendors(self) -> list[str]:
        """The vendors (display names) of the indexed documents, in document order."""
        return list(self._vendor_documents)

    @property
    def languages(self) -> list[str]:
        """The languages rows are in, sorted."""
        if self._language_names is None:
            self._language_names = sorted(str(code) for code in np.unique(self._languages))
        return self._language_names

    def positions(self, *, vendor: str | None = None, language: str | None = None) -> IdArray:
        """The sorted positions of the rows of ``vendor`` (display name) and/or in ``language``."""
        if vendor is not None:
            ranges = [
                np.arange(self._starts[code], self._starts[code + 1], dtype=np.int64)
                for code in self._vendor_documents.get(vendor, [])
            ]
            found = np.concatenate(ranges) if ranges else np.zeros(0, dtype=np.int64)
            return found if language is None else found[self._languages[found] == language]
        if language is None:
            return np.arange(len(self), dtype=np.int64)
        if language not in self._by_language:
            self._by_language[language] = np.flatnonzero(self._languages == language).astype(np.int64)
        return self._by_language[language]
