"""Document paths confined to the corpus folder: no absolute path, ``..`` or symlink leads out of it."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import CorpusError


def confined(root: Path, relative: str) -> Path:
    """``root / relative``, once it is certain that it resolves (symlinks followed) to a path inside ``root``.

    The refusal reads the same whether the target exists or not (and for a broken link or a link loop), so
    a corpus entry cannot be used to learn which files exist elsewhere on the machine. A path inside the
    folder need not exist: the caller reports a missing file there.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> confined(root, "acme/sheet.csv") == root / "acme" / "sheet.csv"
    True
    >>> confined(root, "../etc/passwd")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    assistant.errors.CorpusError: .../../etc/passwd: outside the corpus folder ...
    """
    path = root / relative
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError, ValueError):  # a link loop (RuntimeError), a NUL in the name (ValueError)
        inside = False
    if not inside or Path(relative).is_absolute():
        raise CorpusError(
            path,
            f"outside the corpus folder {root}, or not a path to a file in it: a document's 'file' must be "
            "relative to the corpus folder and stay inside it (no '..' or symbolic link leading out); "
            "copy the document into the folder and fix its entry in corpus.toml",
        )
    return path


def is_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (or a link to one); False, not an OSError, for a name too long to exist."""
    try:
        return path.is_file()
    except OSError:
        return False
