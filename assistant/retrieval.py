"""Answers: the vendor's own row for a question, verbatim with its citation, or "no reliable answer"."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assistant.answers import AskResult, Citation, answer_text
from assistant.calibration import load_calibration
from assistant.corpus.evidence import abridged
from assistant.corpus.language import detect_language
from assistant.corpus.loader import Corpus, load_corpus
from assistant.corpus.models import DocumentMeta, Row
from assistant.decision import Decision, Placed, current_first, decide, question_features
from assistant.embedding import Embedder, load_embedder
from assistant.errors import QuestionError
from assistant.fusion import DEPTH, Hit, fuse, load_fusion
from assistant.index import StoredIndex, open_index
from assistant.index.rowstore import RowStore
from assistant.memmaps import mapped_file_bytes
from assistant.passages import passage_text
from assistant.progress import Progress
from assistant.results import (
    MatchMaker,
    conflict_reason,
    low_confidence_reason,
    no_rows_reason,
    unknown_subject_reason,
)
from assistant.scoping import Scope, VendorNames
from assistant.settings import SECOND_OPINION_SUFFIX, Settings, second_opinion_settings
from assistant.signals import FloatArray, IdArray, Query, registered
from assistant.signals.vectors import set_threads
from assistant.sources import SourceView, source_view
from assistant.subjects import Subjects
from assistant.validation import ask_options, question_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Asked:
    """A question checked and scoped, ready to be embedded and searched."""

    cleaned: str
    language: str | None
    k: int
    scope: Scope
    subject: str | None
    allowed: IdArray | None
    searched_text: str
    question_language: str | None


#: Candidates taken from each signal before fusing (unless the fitted fusion settings say otherwise).
CANDIDATES = DEPTH
#: Bytes of memory-mapped files the serving process keeps mapped before it lets go of the index's pages
#: (`StoredIndex.release_pages`). At a million rows every question maps tens of MB of FAISS lists and BM25
#: postings; kept, they made the process 1.9 GB larger after 600 questions. The pages stay in the page cache.
MAPPED_BUDGET = 512 * 2**20


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
        self.rows: RowStore = index.rows
        self.documents: dict[str, DocumentMeta] = index.documents
        self.names = VendorNames.from_documents(self.documents.values())
        self.subjects = Subjects(
            own_names=[name for meta in self.documents.values() for name in (meta.vendor, meta.vendor_id, meta.product)]
        )
        types = registered()
        fusion = load_fusion(embedder.name)
        defaults = {name: types[name].weight for name in index.signals}
        self.weights = fusion.weights_for(index.signals, defaults) if fusion else defaults
        self.depth = fusion.depth if fusion else CANDIDATES
        #: Asked too, over its own index, for the calibration's "second_opinion" feature (`use_second_opinion`).
        self.second_opinion: Assistant | None = None
        #: Ask it for every question, not only where its opinion decides (`_second_opinion`): for fitting.
        self.ask_second_opinion_always = False
        self._calibrate(embedder.name)
        self._matches = MatchMaker(self.rows.__getitem__, self.rows.position_of, self.documents, index.links)
        set_threads(settings.search_threads)

    def _calibrate(self, name: str) -> None:
        """Use the calibration fitted for ``name`` (the model's, or the model's with a second opinion)."""
        #: The name the calibration is kept under; `evals/calibrate.py` fits it.
        self.calibration_name = name
        self.calibration = load_calibration(name)
        self.warnings: list[str] = []
        if self.calibration is None:
            self.warnings.append(
                f"no calibration for model {name!r}: the confidence is the raw ranking score, not a "
                "probability, and answers are not screened for reliability. Fit one with 'python -m evals.calibrate'."
            )
            logger.warning("%s", self.warnings[-1])
        if self.settings.answer_threshold is not None:
            self.threshold = self.settings.answer_threshold
        else:
            self.threshold = self.calibration.threshold if self.calibration else 0.0

    def use_second_opinion(self, second: Assistant) -> None:
        """Ask ``second`` too (`Settings.second_opinion`): whether it puts the same row first is then a feature of
        the confidence, whose calibration is the one fitted with it (``<model>+second-opinion``)."""
        self.second_opinion = second
        self._calibrate(self.embedder.name + SECOND_OPINION_SUFFIX)

    @classmethod
    def load(
        cls, settings: Settings | None = None, *, rebuild: bool = True, progress: Progress | None = None
    ) -> Assistant:
        """Load the corpus and the model, and open the index (building it first when needed)."""
        settings = settings or Settings.from_env()
        corpus = load_corpus(settings.corpus_dir)
        for key, error in corpus.errors.items():
            logger.warning("document %s is not indexed: %s", key, error)
        assistant = cls._opened(settings, corpus, rebuild, progress)
        second = second_opinion_settings(settings)
        if second is not None:  # over the same corpus, read once
            assistant.use_second_opinion(cls._opened(second, corpus, rebuild, progress))
        return assistant

    @classmethod
    def _opened(cls, settings: Settings, corpus: Corpus, rebuild: bool, progress: Progress | None) -> Assistant:
        embedder = load_embedder(settings)
        return cls(settings, embedder, open_index(settings, corpus, embedder, rebuild=rebuild, progress=progress))

    @property
    def vendors(self) -> list[str]:
        return self.names.vendors

    @property
    def languages(self) -> list[str]:
        return self.rows.languages

    def row(self, row_id: str) -> Row:
        return self.rows[self._position_of(row_id)]

    def _position_of(self, row_id: str) -> int:
        try:
            return self.rows.position_of(row_id)
        except KeyError:
            raise QuestionError(f"no row {row_id!r} in the index") from None

    def citation(self, row_id: str) -> Citation:
        """The citation of a row, as an answer would carry it (QuestionError for an unknown row id)."""
        return self._matches.citation(self.row(row_id))

    def same_as(self, row_id: str) -> list[str]:
        """The rows that say what ``row_id`` says (its translations and copies): shown as one entry with it
        (QuestionError for an unknown row id)."""
        return [self.rows.id_of(at) for at in self._matches.same_as(self._position_of(row_id))]

    def source(self, row_id: str, context: int = 6) -> SourceView:
        """The cited lines of a row in its document, in context, for an auditor to check the quote."""
        row = self.row(row_id)
        return source_view(self.settings.corpus_dir, self.documents[row.document_id].file, row, context)

    def validate_question(self, question: str) -> str:
        """The cleaned question; QuestionError when it is not text, empty or longer than the limit."""
        return question_text(question, self.settings.max_question_chars)

    def _allowed(self, vendor: str | None, language: str | None) -> IdArray | None:
        if language is not None and language not in self.languages:
            known = ", ".join(self.languages)
            raise QuestionError(f"no rows in language {language!r}; the corpus has: {known}")
        if vendor is None and language is None:
            return None
        return self.rows.positions(vendor=vendor, language=language)

    def ask(
        self, question: str, *, vendor: str | None = None, language: str | None = None, k: int | None = None
    ) -> AskResult:
        """The current answer to ``question`` (and the next rows, ``k`` in all), or why there is none.

        ``vendor`` limits the search to one vendor, unless the question names another (the question wins
        and the result says so); ``language`` limits the rows searched to that language, but a newer row
        that states an item otherwise is answered in its own language.
        """
        started = time.perf_counter()
        asked = self._prepare(question, vendor, language, k)
        vector = self.embedder.embed_queries([asked.searched_text])
        return self._answer(asked, vector, started, time.perf_counter())

    def ask_many(
        self,
        questions: Sequence[str],
        *,
        vendor: str | None = None,
        language: str | None = None,
        k: int | None = None,
    ) -> list[AskResult | QuestionError]:
        """`ask` for each question, in order, the questions embedded together (a questionnaire's worth at once).

        A question that cannot be asked (not text, empty, too long) gets its QuestionError in its place;
        bad options (an unknown vendor or language, ``k`` out of range) raise for all. Each result equals
        what `ask` returns.

        >>> assistant = Assistant.load(Settings(model="hashing", index_dir=getfixture("tmp_path") / "index"))
        >>> sso, empty = assistant.ask_many(["Do you support SSO?", " "], vendor="Wevox")
        >>> sso.status, type(empty).__name__
        ('answered', 'QuestionError')
        """
        started = time.perf_counter()
        # Bad options raise for all the questions: an unknown vendor or language, k out of range.
        checked_vendor, _, _ = ask_options(vendor=vendor, language=language, k=k, default_k=self.settings.default_k)
        if checked_vendor is not None:
            self.names.resolve(checked_vendor)
        self._allowed(None, language)
        prepared: list[_Asked | QuestionError] = []
        for question in questions:
            try:
                prepared.append(self._prepare(question, vendor, language, k))
            except QuestionError as error:
                prepared.append(error)
        asked = [p for p in prepared if isinstance(p, _Asked)]
        vectors = self.embedder.embed_queries([a.searched_text for a in asked]) if asked else None
        embedded = time.perf_counter()
        share = (embedded - started) / max(len(asked), 1)  # each question's share of the batch's embedding time
        results: list[AskResult | QuestionError] = []
        at = 0
        for item in prepared:
            if isinstance(item, QuestionError):
                results.append(item)
                continue
            assert vectors is not None
            began = time.perf_counter()
            results.append(self._answer(item, vectors[at : at + 1], began - share, began))
            at += 1
        return results

    def _prepare(self, question: str, vendor: str | None, language: str | None, k: int | None) -> _Asked:
        """The checked question and options, the rows it may search and the text it is embedded as."""
        cleaned = self.validate_question(question)
        vendor, language, k = ask_options(vendor=vendor, language=language, k=k, default_k=self.settings.default_k)
        scope = self.names.scope(cleaned, vendor)
        subject = None if scope.source == "question" else self.subjects.unknown_subject(cleaned)
        allowed = self._allowed(scope.vendor, language)
        searched_text = self.names.remove_names(cleaned)
        question_language = detect_language(searched_text) or detect_language(cleaned)
        return _Asked(cleaned, language, k, scope, subject, allowed, searched_text, question_language)

    def _answer(self, asked: _Asked, vector: FloatArray, started: float, embedded: float) -> AskResult:
        if mapped_file_bytes() > MAPPED_BUDGET:
            self.index.release_pages()
        hits = self._rank(asked.searched_text, vector, asked.question_language, asked.allowed, asked.k)
        decision = self._decide(hits, asked.scope)
        confidence, features = self._confidence(asked, decision)
        searched = time.perf_counter()
        result = self._result(asked, decision, confidence, features)
        finished = time.perf_counter()
        result.timings_ms.update(
            embed=round((embedded - started) * 1000, 2),
            search=round((searched - embedded) * 1000, 2),
            total=round((finished - started) * 1000, 2),
        )
        return result

    def _rank(self, text: str, vector: FloatArray, language: str | None, allowed: IdArray | None, k: int) -> list[Hit]:
        """Every signal's candidates among the allowed rows, fused, best first.

        A signal whose weight is 0 is not run: it could only add candidates that the others score (at a million
        rows, BM25 over the whole corpus is a third of an unscoped question's time).
        """
        query = Query(text=text, vector=vector, language=language)
        runs = {name: signal.run(query, allowed) for name, signal in self.index.signals.items() if self.weights[name]}
        return fuse(runs, self.weights, depth=max(self.depth, 5 * k))

    def _decide(self, hits: list[Hit], scope: Scope) -> Decision:
        links, rows = self.index.links, self.rows

        def in_scope(position: int) -> bool:
            return scope.vendor is None or rows.vendor_of(position) == scope.vendor

        placed = current_first(hits, links, rows.id_of, rows.position_of, in_scope)
        return decide(
            placed,
            links,
            rows.id_of,
            rows.vendor_of,
            rows.position_of,
            in_scope,
            other_vendors=scope.vendor is None and len(rows.vendors) > 1,
        )

    def _confidence(self, asked: _Asked, decision: Decision) -> tuple[float, dict[str, float]]:
        """The probability that the candidate answers the question (`Calibration`), and what it is computed from.

        Without a calibration it is the candidate's ranking score; for a question about a company none of the
        rows are from it is 0.
        """
        candidate = decision.candidate
        features = dict(decision.features)
        if candidate is None:
            return 0.0, features
        top = self.rows[candidate.hit.position]
        top_answer = answer_text(top.answer, top.detail, top.notes, top.source_text)
        features.update(
            question_features(asked.searched_text, asked.question_language, passage_text(top), top_answer),
            cross_lingual=float(asked.question_language is not None and top.language != asked.question_language),
            vendor_named=float(asked.scope.source == "question"),
            vendor_given=float(asked.scope.source == "given"),
        )
        # Whose question, about what: no vendor named or chosen, and only when / where / who (`SETTING_CONCEPTS`).
        features["no_subject"] = float(features["settings_only"] == 1.0 and asked.scope.source == "none")
        if self.second_opinion is not None:
            features.update(self._second_opinion(asked, candidate, features))
        if self.calibration is None:
            return candidate.hit.score, features
        if asked.subject is not None:
            return 0.0, features
        return self.calibration.probability(features), features

    def _second_opinion(self, asked: _Asked, candidate: Placed, features: Mapping[str, float]) -> dict[str, float]:
        """The "second_opinion" feature, and whether the second model was asked for it ("second_opinion_asked").

        It is asked only where its opinion decides: where the confidence with agreement reaches the threshold
        and without it does not. Elsewhere (five questions in six on dev) the decision is the same either way,
        and the feature counts as disagreement, so that the confidence shown is never above what asking would
        have given; nor for a question about a company none of the rows are from. `ask_second_opinion_always`
        asks every time, as does an assistant without a calibration: the calibration is fitted on that.
        """
        calibration = self.calibration
        not_asked = {"second_opinion": 0.0, "second_opinion_asked": 0.0}
        if calibration is not None and not self.ask_second_opinion_always:
            if asked.subject is not None:
                return not_asked
            disagreeing = calibration.probability({**features, "second_opinion": 0.0})
            agreeing = calibration.probability({**features, "second_opinion": 1.0})
            if (disagreeing >= self.threshold) == (agreeing >= self.threshold):
                return not_asked
        return {"second_opinion": self._second_opinion_agrees(asked, candidate), "second_opinion_asked": 1.0}

    def _second_opinion_agrees(self, asked: _Asked, candidate: Placed) -> float:
        """1.0 when the second-opinion model, asked the same over its own index, puts this row first or a row that
        says the same (`same_as`); else 0.0. On dev, out of fold, 4.5 % of the answers given where the two
        agreed were wrong, against 22 % where they did not (evals/README.md)."""
        second = self.second_opinion
        assert second is not None
        vector = second.embedder.embed_queries([asked.searched_text])
        allowed = second._allowed(asked.scope.vendor, asked.language)
        hits = second._rank(asked.searched_text, vector, asked.question_language, allowed, asked.k)
        theirs = second._decide(hits, asked.scope).candidate
        if theirs is None:
            return 0.0
        row, mine = second.rows.id_of(theirs.hit.position), self.rows.id_of(candidate.hit.position)
        return float(row == mine or row in self.same_as(mine))

    def _in_asker_language(
        self, candidate: Placed, decision: Decision, language: str | None, question_language: str | None
    ) -> Placed:
        """The row shown as the answer: the candidate, or its twin in the asker's language when one says the same
        and is ranked among the rows (a Japanese question answered by an English bullet shows the Japanese
        bullet, and names the English one on it). As under a language filter, an older twin qualifies only where
        it agrees with the newer row (`outdated_by` is None); an abridged one (`abridged`) does not replace the
        fuller row. Not under a filter: that chose the language."""
        rows = self.rows
        top = rows[candidate.hit.position]
        if language is not None or question_language in (None, top.language):
            return candidate
        twins = set(self._matches.same_as(candidate.hit.position))
        for placed in decision.rest:
            at = placed.hit.position
            if at not in twins or placed.outdated_by is not None:
                continue  # only a twin's row is read
            twin = rows[at]
            if twin.language == question_language and not abridged(top, twin):
                return placed
        return candidate

    def _result(self, asked: _Asked, decision: Decision, confidence: float, features: dict[str, float]) -> AskResult:
        candidate = decision.candidate
        scope, subject, language, k = asked.scope, asked.subject, asked.language, asked.k
        question_language = asked.question_language
        matches = self._matches
        status, reason_code, reason = "answered", None, None
        if candidate is None:
            status, reason_code, reason = "no_answer", "no_rows", no_rows_reason(scope.vendor, language)
        elif subject is not None:
            status, reason_code, reason = "no_answer", "no_documents_for_subject", unknown_subject_reason(subject)
        elif confidence < self.threshold:
            calibrated = self.calibration is not None
            status, reason_code = "no_answer", "low_confidence"
            reason = low_confidence_reason(confidence, self.threshold, calibrated)
        elif decision.conflicting:
            status, reason_code = "conflict", "conflict"
            reason = conflict_reason([self.rows[p.hit.position] for p in decision.conflicting])
        head = candidate
        if candidate is not None and status in ("answered", "no_answer"):
            # The answer, or the first of the closest rows, in the asker's language where a twin says the same.
            head = self._in_asker_language(candidate, decision, language, question_language)
        answer = matches.match(1, head) if status == "answered" and head is not None else None
        # Current rows of the item that disagree: each says with which, also among the closest rows of a
        # "no reliable answer" (the reader then sees that the documents disagree, not only that it is unsure).
        ids = {p.hit.position: self.rows.id_of(p.hit.position) for p in decision.conflicting}
        disagreeing = {at: [other for other in ids.values() if other != own] for at, own in ids.items()}
        conflicting = matches.matches(decision.conflicting, disagreeing=disagreeing) if status == "conflict" else []
        if status == "no_answer":  # the closest rows: the candidate, the rows that disagree, the outdated ones
            shown, closest = [], [p for p in [head, *decision.conflicting[1:], *decision.outdated] if p]
        else:
            shown = [*(decision.conflicting if status == "conflict" else [head]), *decision.outdated]
            closest = []
        room = max(k - (1 if answer else len(conflicting)), 0) if status != "no_answer" else k
        start = 1 + (1 if answer else len(conflicting))
        # A row that only repeats a row shown before it (translated or copied) is named on that row.
        rest = matches.fold([p for p in shown if p is not None], [*closest, *decision.rest], room)
        return AskResult(
            question=asked.cleaned,
            status=status,
            reason=reason,
            reason_code=reason_code,
            answer=answer,
            conflicting=conflicting,
            outdated=matches.matches(decision.outdated, start=1) if status != "no_answer" else [],
            alternatives=matches.matches(
                rest,
                start=start if status != "no_answer" else 1,
                disagreeing=disagreeing,
            ),
            # Offered beside an answer only: beside "no reliable answer" the closest rows already span vendors.
            other_vendors=matches.matches(decision.other_vendors) if status != "no_answer" else [],
            confidence=round(confidence, 4),
            threshold=self.threshold,
            score=round(candidate.hit.score, 4) if candidate else 0.0,
            features={name: round(value, 4) for name, value in features.items()},
            warnings=list(self.warnings),
            vendor=scope.vendor,
            vendor_source=scope.source,
            vendor_overridden=scope.overridden,
            unknown_subject=subject,
            language=language,
            question_language=question_language,
            k=k,
            model=self.embedder.name,
            index_built_at=self.index.manifest.built_at,
        )
