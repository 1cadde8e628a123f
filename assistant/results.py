"""Results as the user sees them: rows turned into cited `Match`es, and the reason a question has no answer."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

from assistant.answers import Citation, Match, SameStatement
from assistant.corpus.evidence import same_statement
from assistant.corpus.links import LinkLookup
from assistant.corpus.models import DocumentMeta, Row
from assistant.decision import Placed


class MatchMaker:
    """Turns ranked rows into `Match`es with their citations and what the links say about them."""

    def __init__(
        self,
        rows: Callable[[int], Row],
        position: Callable[[str], int],
        documents: dict[str, DocumentMeta],
        links: LinkLookup,
    ) -> None:
        self._rows = rows
        self._position = position
        self._documents = documents
        self._links = links
        #: Position -> the rows saying the same (their positions and what a Match names of them), for this index
        #: (the rows and links of an index never change).
        self._same = functools.lru_cache(maxsize=65536)(self._find_same)

    def same_as(self, position: int) -> tuple[int, ...]:
        """The positions of the rows that say what this row says: translations and copies (`same_statement`)."""
        return tuple(at for at, _ in self._same(position))

    def _find_same(self, position: int) -> tuple[tuple[int, SameStatement], ...]:
        row = self._rows(position)
        found = []
        for link in self._links.of(row.id):
            if not link.differs:
                at = self._position(link.row)
                other = self._rows(at)
                if same_statement(row, other, self._documents):
                    found.append((at, SameStatement(row_id=other.id, language=other.language)))
        return tuple(found)

    def fold(self, shown: Sequence[Placed], ranked: Sequence[Placed], limit: int) -> list[Placed]:
        """The first ``limit`` of ``ranked`` that do not only repeat a row shown before them (in ``shown`` or
        kept): its translation, or its copy in another document.

        The other-language twin of the answer says nothing new: it is named on the answer (`Match.same_as`)
        instead of taking the place of a row that states something else.
        """
        covered = {at for placed in shown for at in (placed.hit.position, *self.same_as(placed.hit.position))}
        kept: list[Placed] = []
        for placed in ranked:
            if len(kept) == limit:
                break
            if placed.hit.position not in covered:
                kept.append(placed)
                covered.update((placed.hit.position, *self.same_as(placed.hit.position)))
        return kept

    def citation(self, row: Row) -> Citation:
        meta = self._documents[row.document_id]
        return Citation(
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
            superseded_by=list(self._links.superseded_by(row.document_id)),
        )

    def match(self, rank: int, placed: Placed, disagrees_with: list[str] | None = None) -> Match:
        hit = placed.hit
        row = self._rows(hit.position)
        newer = self._links.newer(row.id)
        differing = [link for link in newer if link.differs]
        newest = (differing or newer)[0] if newer else None
        return Match(
            rank=rank,
            row_id=row.id,
            score=round(hit.score, 4),
            signals={name: round(value, 4) for name, value in hit.parts.items()},
            current_version_of=hit.current_version_of,
            newer_version=newest.row if newest else None,
            newer_version_differs=newest.differs if newest else None,
            outdated_by=placed.outdated_by,
            disagrees_with=disagrees_with or [],
            same_as=[statement for _, statement in self._same(hit.position)],
            answer_status=row.answer_status,
            kind=row.kind,
            item=row.item,
            question=row.question,
            answer=row.answer,
            detail=row.detail,
            notes=row.notes,
            fields=row.fields,
            source_text=row.source_text,
            citation=self.citation(row),
        )

    def matches(
        self, placed: list[Placed], start: int = 1, disagreeing: Mapping[int, list[str]] | None = None
    ) -> list[Match]:
        """Matches ranked from ``start``; a row in ``disagreeing`` (position -> the row ids it disagrees with)
        says so."""
        found = disagreeing or {}
        return [self.match(rank, p, found.get(p.hit.position)) for rank, p in enumerate(placed, start=start)]


def no_rows_reason(vendor: str | None, language: str | None) -> str:
    return (
        "no rows to search"
        + (f" for vendor {vendor}" if vendor else "")
        + (f" in language {language}" if language else "")
    )


def low_confidence_reason(confidence: float, threshold: float, calibrated: bool) -> str:
    measure = "the estimated chance that it answers the question is" if calibrated else "it scores"
    return (
        f"the closest rows are related, but none is a reliable answer: for the first, {measure} {confidence:.2f}, "
        f"below the {threshold:.2f} an answer needs. Check the closest rows before you use them."
    )


def conflict_reason(rows: list[Row]) -> str:
    cited = "; ".join(f"{row.id} says {row.answer or row.detail[:40]!r}" for row in rows)
    return f"the documents disagree on this item ({cited}); both are shown and neither is chosen"


def unknown_subject_reason(subject: str) -> str:
    return f"no documents for {subject}: the question is about {subject}, and the corpus holds no documents of it"
