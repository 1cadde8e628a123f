"""Text lines from a document file, with clear errors for empty, binary, non-UTF-8 and oversized files."""

from __future__ import annotations

import os
from pathlib import Path

from assistant.corpus.limits import MAX_DOCUMENT_BYTES, MAX_LINE_CHARS
from assistant.errors import CorpusError

_LEGACY_ENCODINGS = ("cp932", "euc_jp", "euc_kr", "cp949", "cp1252")


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_lines(data: bytes, path: str | Path) -> list[str]:
    """Split UTF-8 bytes into lines (without terminators); raise CorpusError naming the bad line.

    Lines are split on ``\\n`` only (a trailing ``\\r`` is removed), so line numbers match what an
    editor shows; ``str.splitlines`` would also split on form feeds and U+2028.

    >>> decode_lines("a\\r\\nb\\n".encode(), "x.txt")
    ['a', 'b']
    """
    if not data.strip():
        raise CorpusError(path, "the file is empty; add its content or remove its entry from corpus.toml")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise CorpusError(
            path,
            "binary content (a NUL byte); export the document as UTF-8 text, CSV or XLSX",
            line=_line_of(data, nul),
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        guess = next((enc for enc in _LEGACY_ENCODINGS if _decodes(data, enc)), None)
        hint = f" (it decodes as {guess})" if guess else ""
        raise CorpusError(
            path,
            f"not valid UTF-8 at byte {exc.start}{hint}; re-save the file as UTF-8",
            line=_line_of(data, exc.start),
        ) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line does not start another
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    longest = max(range(len(lines)), key=lambda i: len(lines[i]), default=0)
    if lines and len(lines[longest]) > MAX_LINE_CHARS:
        number = longest + 1
        raise CorpusError(
            path,
            f"line {number} is {len(lines[longest]):,} characters; the limit is {MAX_LINE_CHARS:,}, more than an "
            "Excel cell holds: put one question and its answer per line",
            line=number,
        )
    return lines


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def read_document(path: Path) -> bytes:
    """The bytes of a document file; CorpusError when it cannot be read or is over `MAX_DOCUMENT_BYTES`.

    The size is checked before anything is read, and no more than the limit is ever read.
    """
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(MAX_DOCUMENT_BYTES + 1) if size <= MAX_DOCUMENT_BYTES else b""
    except OSError as exc:
        raise CorpusError(
            path, f"cannot read the file ({exc.strerror}); check the 'file' entry in corpus.toml"
        ) from None
    size = max(size, len(data))
    if size > MAX_DOCUMENT_BYTES:
        raise CorpusError(
            path,
            f"the file is {size:,} bytes; the limit is {MAX_DOCUMENT_BYTES:,} (10 MiB, hundreds of times a real "
            "checksheet): split the document, or remove what is not questions and answers",
        )
    return data


def read_lines(path: Path) -> list[str]:
    """The lines of a text document; see `decode_lines`."""
    return decode_lines(read_document(path), path)
