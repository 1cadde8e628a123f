"""Answers: the best-matching row for a question, verbatim with its citation, or "no reliable answer"."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from assistant.answers import AskResult, Citation, Match
from assistant.corpus.language import detect_language
from assistant.corpus.loader import load_corpus
from assistant.corpus.models import DocumentMeta, Row
from assistant.corpus.twins import changed, twin_rows
from assistant.embedding import Embedder, load_embedder
from assistant.errors import QuestionError
from assistant.index import StoredIndex, open_index
from assistant.index.vectors import FloatArray, IdArray, set_threads
from assistant.scoping import VendorNames
from assistant.settings import DEFAULT_MODEL, Settings
from assistant.sources import SourceView, source_view
from assistant.validation import ask_options, question_text

logger = logging.getLogger(__name__)

#: Cosine below which the best row is not taken as an answer, per model (set from the dev questions;
#: see evals/README.md). Other models fall back to `Settings.answer_threshold` or 0 (always answer).
CALIBRATED_THRESHOLDS: dict[str, float] = {DEFAULT_MODEL: 0.65, "hashing": 0.35}

Progress = Callable[[int, int], None]

#: Weight of the lexical (BM25) score, relative to the best lexical match, added to the dense score.
LEXICAL_WEIGHT = 0.05
#: Candidates taken from each of the dense and the lexical index before fusing.
CANDIDATES = 50


#: Lexical scores are computed for the allowed rows only when they are at most this share (1/4) of the corpus.
LEXICAL_SUBSET_SHARE = 4


def _contains(allowed: IdArray | None, position: int) -> bool:
    """Whether a row may be returned: no filter, or in the (sorted) allowed rows."""
    if allowed is None:
        return True
    at = int(np.searchsorted(allowed, position))
    return at < len(allowed) and int(allowed[at]) == position


class Hit(NamedTuple):
    """A ranked row: its position, fused score, the two parts, and the stale row it stands in for."""

    position: int
    score: float
    dense: float
    lexical: float
    current_version_of: str | None


class Assistant:
    """Retrieval over one corpus with one model: ``ask`` a question, get the vendor's own answer.

    >>> assistant = Assistant.load(Settings.from_env())  # doctest: +SKIP
    >>> result = assistant.ask("Are you ISO 27001 certified?", vendor="VoicePing")  # doctest: +SKIP
    >>> result.answer.citation.row_id  # doctest: +SKIP
    'voiceping/security-page-en#1'
    """

    def __init__(self, settings: Settings, embedder: Embedder, index: StoredIndex) -> None:
        self.settings = settings
        self.embedder = embedder
        self.index = index
        self.rows: tuple[Row, ...] = index.rows
        self._by_id = {row.id: position for position, row in enumerate(self.rows)}
        self.documents: dict[str, DocumentMeta] = index.documents
        self.names = VendorNames.from_documents(self.documents.values())
        self.twins = twin_rows(self.rows, self.documents.values())
        self._newer: dict[str, list[str]] = {}
        for meta in self.documents.values():
            for older in meta.newer_than:
                self._newer.setdefault(f"{meta.vendor_id}/{older}", []).append(meta.key)
        vendors = np.array([row.vendor for row in self.rows])
        languages = np.array([row.language for row in self.rows])
        self._vendor_rows = {v: np.flatnonzero(vendors == v).astype(np.int64) for v in set(vendors.tolist())}
        self._language_rows = {lang: np.flatnonzero(languages == lang) for lang in set(languages.tolist())}
        # Row position -> its newer twin, filled as rows are ranked (the fact comparison is regex work).
        self._twin_memo: dict[int, tuple[int, bool] | None] = {}
        self.threshold = (
            settings.answer_threshold
            if settings.answer_threshold is not None
            else CALIBRATED_THRESHOLDS.get(embedder.name, 0.0)
        )
        set_threads(settings.search_threads)

    @classmethod
    def load(
        cls, settings: Settings | None = None, *, rebuild: bool = True, progress: Progress | None = None
    ) -> Assistant:
        """Load the corpus and the model, and open the index (building it first when needed)."""
        settings = settings or Settings.from_env()
        corpus = load_corpus(settings.corpus_dir)
        for key, error in corpus.errors.items():
            logger.warning("document %s is not indexed: %s", key, error)
        embedder = load_embedder(settings)
        index = open_index(settings, corpus, embedder, rebuild=rebuild, progress=progress)
        return cls(settings, embedder, index)

    @property
    def vendors(self) -> list[str]:
        return self.names.vendors

    @property
    def languages(self) -> list[str]:
        return sorted(self._language_rows)

    def row(self, row_id: str) -> Row:
        try:
            return self.rows[self._by_id[row_id]]
        except KeyError:
            raise QuestionError(f"no row {row_id!r} in the index") from None

    def source(self, row_id: str, context: int = 6) -> SourceView:
        """The cited lines of a row in its document, in context, for an auditor to check the quote."""
        row = self.row(row_id)
        return source_view(self.settings.corpus_dir, self.documents[row.document_id].file, row, context)

    def validate_question(self, question: str) -> str:
        """The cleaned question; QuestionError when it is not text, empty or longer than the limit."""
        return question_text(question, self.settings.max_question_chars)

    def _scope(self, question: str, vendor: str | None) -> tuple[str | None, str]:
        if vendor is not None and vendor.strip():
            return self.names.resolve(vendor), "given"
        named = self.names.in_question(question)
        if len(named) == 1:
            return named[0], "question"
        return None, "none"

    def _allowed(self, vendor: str | None, language: str | None) -> IdArray | None:
        sets = []
        if vendor is not None:
            sets.append(self._vendor_rows.get(vendor, np.zeros(0, dtype=np.int64)))
        if language is not None:
            if language not in self._language_rows:
                known = ", ".join(self.languages)
                raise QuestionError(f"no rows in language {language!r}; the corpus has: {known}")
            sets.append(self._language_rows[language])
        if not sets:
            return None
        allowed = sets[0]
        for other in sets[1:]:
            allowed = np.intersect1d(allowed, other)
        return allowed.astype(np.int64)

    def ask(
        self, question: str, *, vendor: str | None = None, language: str | None = None, k: int | None = None
    ) -> AskResult:
        """The best row for ``question`` (and the next ``k``-1), or "no reliable answer" with the reason.

        ``vendor`` limits the search to one vendor (a vendor named in the question does the same);
        ``language`` limits it to rows in that language.
        """
        started = time.perf_counter()
        cleaned = self.validate_question(question)
        vendor, language, k = ask_options(vendor=vendor, language=language, k=k, default_k=self.settings.default_k)
        scope, source = self._scope(cleaned, vendor)
        allowed = self._allowed(scope, language)
        searched_text = self.names.remove_names(cleaned)
        question_language = detect_language(searched_text) or detect_language(cleaned)
        vector = self.embedder.embed_queries([searched_text])
        embedded = time.perf_counter()
        ranked = self._rank(searched_text, vector, question_language, allowed, k)
        searched = time.perf_counter()
        matches = [self._match(rank, hit) for rank, hit in enumerate(ranked, start=1)]
        confidence = matches[0].score if matches else 0.0
        reason = None
        if not matches:
            reason = (
                "no rows to search"
                + (f" for vendor {scope}" if scope else "")
                + (f" in language {language}" if language else "")
            )
        elif confidence < self.threshold:
            reason = (
                f"the closest row scores {confidence:.3f}, below the {self.threshold:.2f} needed for a reliable "
                "answer; the documents may not cover this question"
            )
        answered = reason is None
        finished = time.perf_counter()
        return AskResult(
            question=cleaned,
            status="answered" if answered else "no_answer",
            reason=reason,
            answer=matches[0] if answered else None,
            alternatives=matches[1:] if answered else matches,
            confidence=round(confidence, 4),
            threshold=self.threshold,
            vendor=scope,
            vendor_source=source if scope else "none",
            language=language,
            question_language=question_language,
            k=k,
            model=self.embedder.name,
            index_built_at=self.index.manifest.built_at,
            timings_ms={
                "embed": round((embedded - started) * 1000, 2),
                "search": round((searched - embedded) * 1000, 2),
                "total": round((finished - started) * 1000, 2),
            },
        )

    def _rank(self, text: str, vector: FloatArray, language: str | None, allowed: IdArray | None, k: int) -> list[Hit]:
        """The best ``k`` rows, best first.

        Dense candidates come from FAISS and lexical ones from BM25; both are scored as
        dense + LEXICAL_WEIGHT * (BM25 / best BM25 among the allowed rows). A row of a document that
        has a newer version, whose twin there (the same bullet of the newer page) states different
        facts, yields its place: the twin is ranked just above it and the outdated row stays among the
        alternatives. A twin that states the same facts leaves the row where it is.
        """
        query = self.index.means.query_vector(vector, language)
        depth = max(CANDIDATES, 5 * k)
        dense_scores, dense_ids = self.index.vectors.search(query, depth, allowed=allowed)
        # lexical[i] scores row i, or row allowed[i] when only the allowed rows are scored (a small share
        # of the corpus, such as one vendor's rows: their cost then does not grow with the corpus).
        scored: IdArray | None = None
        if allowed is not None and len(allowed) * LEXICAL_SUBSET_SHARE <= len(self.rows):
            scored = allowed
            lexical = self.index.lexical.scores_of(text, allowed)
        else:
            lexical = self.index.lexical.scores(text)
            if allowed is not None:
                permitted = np.zeros(len(lexical), dtype=bool)
                permitted[allowed] = True
                lexical = np.where(permitted, lexical, 0.0).astype(np.float32)
        best_lexical = float(lexical.max()) if len(lexical) else 0.0
        dense = dict(zip(dense_ids[0].tolist(), dense_scores[0].tolist(), strict=True))
        if best_lexical > 0:
            top = np.argpartition(-lexical, min(depth, len(lexical) - 1))[:depth]
            top = top[lexical[top] > 0]
            top_rows = top if scored is None else scored[top]
            extra = np.array([i for i in top_rows.tolist() if i not in dense], dtype=np.int64)
            if len(extra):
                cosines = self.index.vectors.reconstruct(extra) @ query[0]
                dense.update(zip(extra.tolist(), cosines.tolist(), strict=True))
        positions = np.fromiter(dense, dtype=np.int64, count=len(dense))
        lexical_of = lexical[positions if scored is None else np.searchsorted(scored, positions)]
        hits: dict[int, Hit] = {}
        for position, cosine, lex_score in zip(dense, dense.values(), lexical_of.tolist(), strict=True):
            lex = float(lex_score) / best_lexical if best_lexical > 0 else 0.0
            hits[position] = Hit(position, cosine + LEXICAL_WEIGHT * lex, cosine, lex, None)
        for hit in sorted(hits.values(), key=lambda h: -h.score):
            if hit.current_version_of:
                continue
            twin = self._newer_twin(hit.position)
            if twin is not None and twin[1] and _contains(allowed, twin[0]):
                current = hits.get(twin[0])
                if current is None or current.score <= hit.score:
                    stale_id = self.rows[hit.position].id
                    hits[twin[0]] = Hit(twin[0], hit.score + 1e-4, hit.dense, hit.lexical, stale_id)
        return sorted(hits.values(), key=lambda h: (-h.score, h.position))[:k]

    def _newer_twin(self, position: int) -> tuple[int, bool] | None:
        """The row's twin in a newer document of the vendor, and whether it states something different."""
        if position not in self._twin_memo:
            self._twin_memo[position] = self._find_newer_twin(position)
        return self._twin_memo[position]

    def _find_newer_twin(self, position: int) -> tuple[int, bool] | None:
        row = self.rows[position]
        newer = self._newer.get(row.document_id)
        if not newer:
            return None
        for twin in sorted(self.twins.get(row.id, ())):
            twin_position = self._by_id[twin]
            if self.rows[twin_position].document_id in newer:
                return twin_position, changed(self.rows[twin_position], row)
        return None

    def _match(self, rank: int, hit: Hit) -> Match:
        row = self.rows[hit.position]
        twin = self._newer_twin(hit.position)
        meta = self.documents[row.document_id]
        citation = Citation(
            vendor=row.vendor,
            vendor_id=row.vendor_id,
            document_id=row.document_id,
            document_title=meta.title,
            file=meta.file,
            row_id=row.id,
            section=row.section,
            line_start=row.line_start,
            line_end=row.line_end,
            sheet=row.sheet,
            language=row.language,
            as_of=meta.as_of,
            version=meta.version,
            superseded_by=sorted(self._newer.get(row.document_id, [])),
        )
        return Match(
            rank=rank,
            row_id=row.id,
            score=round(hit.score, 4),
            dense=round(hit.dense, 4),
            lexical=round(hit.lexical, 4),
            current_version_of=hit.current_version_of,
            newer_version=self.rows[twin[0]].id if twin else None,
            newer_version_differs=twin[1] if twin else None,
            kind=row.kind,
            item=row.item,
            question=row.question,
            answer=row.answer,
            detail=row.detail,
            notes=row.notes,
            fields=row.fields,
            source_text=row.source_text,
            citation=citation,
        )
