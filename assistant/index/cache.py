"""The build cache: what index builds computed (embeddings, term counts, links, trained IVF lists), kept by
content hash in one SQLite file of the cache folder, so that the next build computes only what changed.

Values are keyed by a hash of everything they were computed from (an embedding by the model fingerprint,
the prompt and the passage text's hash), so a cached value is never stale, only unused. Builds of several
processes may share the file (SQLite's write-ahead log and busy timeout); a damaged or unwritable cache is
logged and skipped - the build then computes everything, as without one. Delete the file to reclaim its
space (about 3.2 KB per embedded passage: each vector is kept by passage and again in its document's block).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)

CACHE_FILE = "build-cache.sqlite3"
#: Keys looked up per SQL statement (SQLite's parameter limit is 32,766).
_BATCH = 500


class BuildCache:
    """A `Memo` in SQLite.

    >>> import tempfile
    >>> with BuildCache(Path(tempfile.mkdtemp()) / "cache.sqlite3") as cache:
    ...     cache.put_many("vector", [(b"key", b"value")])
    ...     cache.get_many("vector", [b"key", b"other"])
    [b'value', None]
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=60, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS memo (kind TEXT, key BLOB, value BLOB, PRIMARY KEY (kind, key))")
            self._db = db
        except (sqlite3.Error, OSError) as exc:
            logger.warning("not using the build cache %s (%s): every row is embedded again", path, exc)

    @classmethod
    def in_folder(cls, cache_dir: Path) -> BuildCache:
        """The cache of ``cache_dir`` (`Settings.cache_dir`)."""
        return cls(cache_dir / CACHE_FILE)

    def get_many(self, kind: str, keys: Sequence[bytes]) -> list[bytes | None]:
        found: dict[bytes, bytes] = {}
        if self._db is not None:
            try:
                for start in range(0, len(keys), _BATCH):
                    batch = list(keys[start : start + _BATCH])
                    marks = ",".join("?" * len(batch))
                    query = f"SELECT key, value FROM memo WHERE kind = ? AND key IN ({marks})"
                    found.update(self._db.execute(query, [kind, *batch]).fetchall())
            except sqlite3.Error as exc:
                self._give_up(exc)
        return [found.get(key) for key in keys]

    def put_many(self, kind: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        if self._db is None or not items:
            return
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR REPLACE INTO memo (kind, key, value) VALUES (?, ?, ?)",
                    ((kind, key, value) for key, value in items),
                )
        except sqlite3.Error as exc:
            self._give_up(exc)

    def _give_up(self, exc: sqlite3.Error) -> None:
        logger.warning("the build cache %s failed (%s); building without it", self.path, exc)
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> BuildCache:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
