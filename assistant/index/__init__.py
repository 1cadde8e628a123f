"""The index: row vectors in FAISS, saved as versioned folders with their rows, links and manifest."""

from assistant.index.building import build_index, current_manifest, open_index, stale_reasons
from assistant.index.folder import StoredIndex
from assistant.index.manifest import IndexManifest
from assistant.index.rowstore import RowStore

__all__ = [
    "IndexManifest",
    "RowStore",
    "StoredIndex",
    "build_index",
    "current_manifest",
    "open_index",
    "stale_reasons",
]
