"""Synthetic corpora for the benchmark: the seed rows plus rows recombined from them, under made-up vendors.

A synthetic row takes a real row of the seed corpus (its section, item, question, fields and kind) and
appends the answer of another real row in the same language, so the lexical index, the twin lookups and
the result assembly see realistic text. Rows are grouped into documents of `ROWS_PER_DOCUMENT` rows, two
documents per vendor (the second declared newer than the first), so vendor scoping and freshness
promotion work as they do on a real corpus. Product names are written in Latin, Japanese or Korean script.

Vectors: the sizes with ``real=True`` embed every row with the model; the others use
`mixed_vectors` - a seed row's embedding plus half its donor's plus Gaussian noise, normalised - which
keeps the clustered shape of real embeddings (approximate indexes behave very differently on uniform
random vectors) at no embedding cost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assistant.corpus.loader import Corpus, Document
from assistant.corpus.models import DocumentMeta
from assistant.embedding import Embedder
from assistant.embedding.embedder import ModelIdentity, Progress
from assistant.index import build_index
from assistant.index.folder import MANIFEST, StoredIndex
from assistant.index.manifest import INDEX_FORMAT
from assistant.memo import Memo
from assistant.passages import passage_text
from assistant.settings import Settings
from assistant.signals.vectors import EXACT_SEARCH_MAX_ROWS

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

#: Bump when the recipe changes: cached synthetic indexes are then rebuilt.
RECIPE_VERSION = 2
ROWS_PER_DOCUMENT = 250
DOCUMENTS_PER_VENDOR = 2
#: Norm of the noise added to mixed vectors (relative to a unit vector).
NOISE = 0.35
RECIPE_FILE = "bench-recipe.json"


@dataclass(frozen=True)
class SyntheticCorpus:
    """Rows and documents of a synthetic corpus, and which two seed rows each synthetic row came from."""

    corpus: Corpus
    #: (base, donor) seed-row positions per row; -1, -1 for the seed rows themselves
    sources: npt.NDArray[np.int64]


def _product(vendor: int) -> str:
    script = vendor % 3
    if script == 0:
        return f"Product{vendor:05d}"
    return f"プロダクト{vendor:05d}" if script == 1 else f"프로덕트{vendor:05d}"


def synthetic_corpus(seed: Corpus, size: int, root: Path, rng_seed: int = 0) -> SyntheticCorpus:
    """``size`` rows: every seed row, then recombined rows in synthetic documents (see the module docstring)."""
    seed_rows = seed.rows
    if size < len(seed_rows):
        raise ValueError(f"size {size} is below the {len(seed_rows)} rows of the seed corpus")
    rng = np.random.default_rng(rng_seed)
    by_language: dict[str, list[int]] = {}
    for position, row in enumerate(seed_rows):
        by_language.setdefault(row.language, []).append(position)
    languages = sorted(by_language)
    documents = list(seed.documents)
    sources = [(-1, -1)] * len(seed_rows)
    remaining = size - len(seed_rows)
    number = 0
    while remaining > 0:
        vendor = number // DOCUMENTS_PER_VENDOR
        version = number % DOCUMENTS_PER_VENDOR
        language = languages[vendor % len(languages)]
        meta = DocumentMeta(
            id=f"sheet-{version}",
            vendor=f"Vendor {vendor:05d}",
            product=_product(vendor),
            file=f"vendor-{vendor:05d}/sheet-{version}.tsv",
            layout="tsv_checksheet",
            languages=[language],
            title=f"Vendor {vendor:05d} checksheet v{version}",
            as_of=dt.date(2024, 1, 1) + dt.timedelta(days=30 * version),
            newer_than=[f"sheet-{v}" for v in range(version)],
        )
        count = min(ROWS_PER_DOCUMENT, remaining)
        pool = np.asarray(by_language[language])
        bases = rng.choice(pool, size=count)
        donors = rng.choice(pool, size=count)
        rows = []
        for n, (a, b) in enumerate(zip(bases.tolist(), donors.tolist(), strict=True), start=1):
            base, donor = seed_rows[a], seed_rows[b]
            rows.append(
                base.model_copy(
                    update={
                        "id": f"{meta.key}#{n}",
                        "vendor": meta.vendor,
                        "vendor_id": meta.vendor_id,
                        "document_id": meta.key,
                        "answer": f"{base.answer} {donor.answer}".strip(),
                        "detail": donor.detail,
                        "source_text": f"{base.source_text}\t{donor.source_text}",
                        "line_start": n,
                        "line_end": n,
                        "sheet": None,
                    }
                )
            )
            sources.append((a, b))
        digest = hashlib.sha256(f"{meta.key}:{rng_seed}:{RECIPE_VERSION}".encode()).hexdigest()
        documents.append(Document(meta=meta, path=root / meta.file, sha256=digest, rows=tuple(rows)))
        remaining -= count
        number += 1
    corpus = Corpus(root=root, documents=tuple(documents), errors={}, metas=tuple(d.meta for d in documents))
    return SyntheticCorpus(corpus, np.asarray(sources, dtype=np.int64))


def mixed_vectors(seed_vectors: FloatArray, sources: npt.NDArray[np.int64], rng_seed: int = 0) -> FloatArray:
    """Plain (model-space) unit vectors: the seed rows' own, and for synthetic rows base + donor / 2 + noise."""
    rng = np.random.default_rng(rng_seed + 1)
    count, dimension = len(sources), seed_vectors.shape[1]
    out = np.empty((count, dimension), dtype=np.float32)
    seed_count = len(seed_vectors)
    out[:seed_count] = seed_vectors
    step = 100_000
    for start in range(seed_count, count, step):
        stop = min(start + step, count)
        base, donor = sources[start:stop, 0], sources[start:stop, 1]
        noise = rng.standard_normal((stop - start, dimension), dtype=np.float32) * (NOISE / np.sqrt(dimension))
        mixed = seed_vectors[base] + 0.5 * seed_vectors[donor] + noise
        out[start:stop] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    return out


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


class FixedEmbedder(ModelIdentity):
    """An `Embedder` that returns given vectors for given passages and embeds questions with the model.

    Used to build large synthetic indexes without embedding a million rows; the query side (used for the
    question-side language means) stays real. A passage that occurs twice gets its first vector.
    """

    def __init__(self, model: Embedder, texts: Iterable[str], passages: FloatArray) -> None:
        super().__init__(
            name=model.name,
            fingerprint=model.fingerprint,
            dimension=model.dimension,
            query_prompt=model.query_prompt,
            passage_prompt=model.passage_prompt,
        )
        self._model = model
        self._passages = passages
        # By hash: a million passage texts would double what the build holds in memory.
        self._position: dict[bytes, int] = {}
        for position, text in enumerate(texts):
            self._position.setdefault(_digest(text), position)

    def embed_queries(self, texts: Sequence[str]) -> FloatArray:
        return self._model.embed_queries(texts)

    def embed_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None
    ) -> FloatArray:
        positions = [self._position.get(_digest(text), -1) for text in texts]
        if -1 in positions:
            raise ValueError(f"no vector for passage {texts[positions.index(-1)][:80]!r}")
        if progress is not None:
            progress(len(texts), len(texts))
        return self._passages[positions]


def recipe(size: int, real: bool, fingerprint: str, seed: Corpus) -> dict[str, object]:
    """What a synthetic index is built from; a cached index is reused only when this matches."""
    digest = hashlib.sha256("".join(d.sha256 for d in seed.documents).encode()).hexdigest()
    return {
        "recipe_version": RECIPE_VERSION,
        "size": size,
        "real_embeddings": real,
        "model_fingerprint": fingerprint,
        "seed_documents_sha256": digest,
    }


def cached(index_dir: Path, wanted: dict[str, object]) -> bool:
    """Whether ``index_dir`` holds an index built from ``wanted``, of the FAISS type a build would now choose."""
    path = index_dir / RECIPE_FILE
    manifest_path = index_dir / "current" / MANIFEST
    if not manifest_path.is_file() or not path.is_file():
        return False
    found: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != INDEX_FORMAT:
        return False
    size = wanted.get("size")
    kind = "IndexFlatIP" if isinstance(size, int) and size <= EXACT_SEARCH_MAX_ROWS else "IndexIVFScalarQuantizer"
    return found == wanted and manifest.get("signals", {}).get("dense", {}).get("faiss_index") == kind


def build_synthetic(
    settings: Settings,
    seed: Corpus,
    size: int,
    model: Embedder,
    *,
    real: bool,
    memo: Memo,
    seed_vectors: FloatArray | None = None,
    progress: Progress | None = None,
) -> tuple[StoredIndex, float, SyntheticCorpus, Embedder]:
    """Build the synthetic index of ``size`` rows into ``settings.index_dir``; returns it, the build seconds, the
    corpus and the embedder it was built with.

    ``memo`` is the build's cache: never the user's, since mixed vectors are stored under the model's fingerprint.
    """
    synthetic = synthetic_corpus(seed, size, settings.index_dir.parent / "synthetic-corpus")
    embedder: Embedder = model
    if not real:
        if seed_vectors is None:
            raise ValueError("mixed vectors need the seed rows' embeddings (seed_vectors)")
        texts = (passage_text(row) for row in synthetic.corpus.rows)
        embedder = FixedEmbedder(model, texts, mixed_vectors(seed_vectors, synthetic.sources))
    if settings.index_dir.exists():
        shutil.rmtree(settings.index_dir)
    started = time.perf_counter()
    stored = build_index(settings, synthetic.corpus, embedder, progress=progress, memo=memo)
    seconds = time.perf_counter() - started
    wanted = recipe(size, real, model.fingerprint, seed)
    (settings.index_dir / RECIPE_FILE).write_text(json.dumps(wanted, indent=2), encoding="utf-8")
    return stored, seconds, synthetic, embedder


def seed_passage_vectors(seed: Corpus, model: Embedder) -> FloatArray:
    """The model's passage embeddings of the seed rows (the material `mixed_vectors` mixes)."""
    return model.embed_passages([passage_text(row) for row in seed.rows])


def describe(index: StoredIndex) -> dict[str, int]:
    """Counts of rows, documents and vendors (for the report)."""
    return {
        "rows": len(index.rows),
        "documents": len(index.documents),
        "vendors": len({meta.vendor_id for meta in index.documents.values()}),
    }
