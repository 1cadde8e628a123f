"""Text lines from a document file, with clear errors for empty, binary and non-UTF-8 files."""

from __future__ import annotations

from pathlib import Path

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
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def read_lines(path: Path) -> list[str]:
    """The lines of a text document; see `decode_lines`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(
            path, f"cannot read the file ({exc.strerror}); check the 'file' entry in corpus.toml"
        ) from None
    return decode_lines(data, path)
