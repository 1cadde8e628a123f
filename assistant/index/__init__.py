"""The index: row vectors in FAISS, saved as a folder with its rows and manifest."""

from assistant.index.building import build_index, current_manifest, open_index, stale_reasons
from assistant.index.folder import StoredIndex
from assistant.index.manifest import IndexManifest

__all__ = [
    "IndexManifest",
    "StoredIndex",
    "build_index",
    "current_manifest",
    "open_index",
    "stale_reasons",
]
