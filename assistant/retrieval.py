"""Answers: the best-matching row for a question, verbatim with its citation, or "no reliable answer"."""

from __future__ import annotations

import logging
import time

import numpy as np

from assistant.answers import AskResult, Citation, Match
from assistant.corpus.language import detect_language
from assistant.corpus.loader import load_corpus
from assistant.corpus.models import DocumentMeta, Row
from assistant.corpus.twins import changed, twin_rows
from assistant.decision import prefer_current
from assistant.embedding import Embedder, load_embedder
from assistant.errors import QuestionError
from assistant.fusion import Hit, fuse
from assistant.index import StoredIndex, open_index
from assistant.passages import clean_question
from assistant.progress import Progress
from assistant.scoping import VendorNames
from assistant.settings import DEFAULT_MODEL, Settings
from assistant.signals import FloatArray, IdArray, Query, registered
from assistant.signals.vectors import set_threads
from assistant.sources import SourceView, source_view

logger = logging.getLogger(__name__)

#: Cosine below which the best row is not taken as an answer, per model (set from the dev questions;
#: see evals/README.md). Other models fall back to `Settings.answer_threshold` or 0 (always answer).
CALIBRATED_THRESHOLDS: dict[str, float] = {DEFAULT_MODEL: 0.65, "hashing": 0.35}

#: Candidates taken from each signal before fusing.
CANDIDATES = 50


class Assistant:
    """Retrieval over one corpus with one model: ``ask`` a question, get the vendor's own answer.

    >>> assistant = Assistant.load(Settings(model="hashing", index_dir=getfixture("tmp_path") / "index"))
    >>> result = assistant.ask("How many generations of backups are stored?", vendor="Wevox")
    >>> result.status, result.answer.answer, result.answer.citation.row_id
    ('answered', 'Seven generations', 'wevox/meti-checksheet#81')
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
        types = registered()
        self.weights = {name: types[name].weight for name in index.signals}
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
        """The cleaned question; QuestionError when it is empty or longer than the limit."""
        if not isinstance(question, str):
            raise QuestionError(f"the question must be text, got {type(question).__name__}")
        limit = self.settings.max_question_chars
        if len(question) > limit * 4:
            raise QuestionError(
                f"the question is {len(question)} characters; the limit is {limit}. Ask one question at a time."
            )
        cleaned = clean_question(question)
        if not cleaned:
            raise QuestionError("the question is empty; type a question such as 'Do you support SSO?'")
        if len(cleaned) > limit:
            raise QuestionError(
                f"the question is {len(cleaned)} characters; the limit is {limit}. Ask one question at a time."
            )
        return cleaned

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
        k = self.settings.default_k if k is None else k
        if not 1 <= k <= 100:
            raise QuestionError(f"k must be between 1 and 100, got {k}")
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
        """The best ``k`` rows, best first: every signal's candidates, fused, then current versions first."""
        query = Query(text=text, vector=vector, language=language)
        runs = {name: signal.run(query, allowed) for name, signal in self.index.signals.items()}
        hits = fuse(runs, self.weights, depth=max(CANDIDATES, 5 * k))
        return prefer_current(hits, self._newer_twin, lambda position: self.rows[position].id, allowed)[:k]

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
            item_no=row.item_no,
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
            signals={name: round(value, 4) for name, value in hit.parts.items()},
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
