"""The decision on top of the ranking: the current fact first, disagreements found, and what the answer rests on.

Ranking orders rows by how well they match the question; it knows nothing of versions. This step walks the
ranked rows with the links between rows (`assistant.corpus.links`):

- A row whose item a newer document states otherwise is outdated: the newer row takes its place (even
  when a language filter would have hidden it - the filter chooses the language of the text only where
  the rows agree), and the outdated row is kept to be shown as "outdated: it says ...".
- The first current row is the candidate answer. If a row of the same standing (the other language of the
  same sheet, another current document) gives the opposite answer status, the documents disagree: both
  rows are shown and none is chosen.
- The features the calibrated confidence is computed from (`assistant.calibration`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from assistant.answer_kinds import kind_missing
from assistant.corpus.links import LinkLookup
from assistant.fusion import Hit
from assistant.glossary import default_glossary

#: Rows per vendor shown for the other vendors when no vendor was named or chosen.
OTHER_VENDORS = 3
#: Question length buckets in characters, (short at most, long at least): the `short` / `long` tags of
#: evals/README.md. Japanese and Korean say as much in fewer characters.
LENGTHS = {"en": (24, 140), "ja": (12, 60), "ko": (12, 60)}
#: What a question can name that a row answering it names too: a number of three or more digits (a standard's
#: number, a port, a key length; years are left out: questions date themselves) or an upper-case code with a
#: hyphenated suffix (ISMS-P, PCI-DSS, AES-256). "ISO 27701?" is not answered by a row that says 27001.
_CODE = re.compile(
    r"(?<![0-9.])[0-9]{3,}(?![0-9.])|(?<![A-Za-z])[A-Z]{2,}[-\u2010-\u2015\u2212][A-Z0-9]{1,4}(?![A-Za-z0-9])"
)
_YEAR = re.compile(r"(?:19|20)[0-9]{2}")
#: Glossary concepts that set when, where, how often or for whom something happens, not what is asked about.
#: A question that names only these ("이번 주말 도쿄 날씨 어때요?": weekend, japan), and no vendor, has no subject
#: the documents could answer, however well a row about support on weekdays, Japan time, matches its words
#: (``settings_only`` here, ``no_subject`` in `assistant.retrieval`).
SETTING_CONCEPTS = frozenset(
    {
        "japan",
        "overseas",
        "location",
        "weekend",
        "time_of_day",
        "days",
        "daily",
        "weekly",
        "monthly",
        "frequency",
        "regular",
        "company",
        "customer",
        "user",
    }
)
_JOINERS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")  # spaces, hyphens, dashes, minus


@dataclass(frozen=True)
class Placed:
    """A ranked row with what the decision found about it."""

    hit: Hit
    #: The newer row (id) that states this row's item otherwise: this row is outdated.
    outdated_by: str | None = None


@dataclass(frozen=True)
class Decision:
    """What to show: the answer (or the disagreeing rows), the outdated rows, the rest, and the evidence."""

    candidate: Placed | None
    conflicting: list[Placed] = field(default_factory=list)
    outdated: list[Placed] = field(default_factory=list)
    rest: list[Placed] = field(default_factory=list)
    other_vendors: list[Placed] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)


def current_first(
    hits: Sequence[Hit],
    links: LinkLookup,
    row_id: Callable[[int], str],
    position: Callable[[str], int],
    in_scope: Callable[[int], bool],
) -> list[Placed]:
    """The hits, best first, each outdated row preceded by the newer row that states its item otherwise.

    The newer row is ranked just above the outdated one (with its score), unless it already ranks higher.
    Among several newer rows of an item, the one that differs is taken.
    """
    by_position = {hit.position: Placed(hit) for hit in hits}
    for hit in sorted(hits, key=lambda h: (-h.score, h.position)):
        differing = [(link, position(link.row)) for link in links.newer(row_id(hit.position)) if link.differs]
        newer = [(link, at) for link, at in differing if in_scope(at)]
        if not newer:
            continue
        best, target = max(
            newer, key=lambda found: by_position[found[1]].hit.score if found[1] in by_position else -math.inf
        )
        by_position[hit.position] = replace(by_position[hit.position], outdated_by=best.row)
        present = by_position.get(target)
        if present is None or present.hit.score <= hit.score:
            promoted = Hit(target, hit.score + 1e-4, hit.parts, row_id(hit.position))
            by_position[target] = Placed(promoted, present.outdated_by if present else None)
    return sorted(by_position.values(), key=lambda p: (-p.hit.score, p.hit.position))


def decide(
    placed: Sequence[Placed],
    links: LinkLookup,
    row_id: Callable[[int], str],
    vendor_of: Callable[[int], str],
    position: Callable[[str], int],
    in_scope: Callable[[int], bool],
    *,
    other_vendors: bool,
) -> Decision:
    """The candidate answer, the rows that disagree with it, the outdated rows it replaces, and the rest.

    Rows are named by position: ``row_id`` and ``vendor_of`` give a position's id and vendor.
    """
    current = [p for p in placed if p.outdated_by is None]
    if not current:
        return Decision(candidate=None, rest=list(placed))
    candidate = current[0]
    top_id = row_id(candidate.hit.position)
    top_links = links.of(top_id)
    same_item = {link.row for link in top_links}
    disagreeing = {link.row for link in top_links if link.relation == "same_version" and link.differs}
    disagreeing = {other for other in disagreeing if in_scope(position(other))}
    by_id = {row_id(p.hit.position): p for p in placed}
    conflicting: list[Placed] = []
    if disagreeing:
        conflicting = [candidate] + [
            by_id.get(other) or _unranked(other, candidate, position) for other in sorted(disagreeing)
        ]
    outdated = [
        p for p in placed if p.outdated_by is not None and (p.outdated_by == top_id or p.outdated_by in same_item)
    ]
    shown = {p.hit.position for p in [candidate, *conflicting, *outdated]}
    rest = [p for p in placed if p.hit.position not in shown]
    others: list[Placed] = []
    if other_vendors:
        seen = {vendor_of(candidate.hit.position)}
        for p in current[1:]:
            vendor = vendor_of(p.hit.position)
            if vendor not in seen and len(others) < OTHER_VENDORS:
                seen.add(vendor)
                others.append(p)
    return Decision(
        candidate=candidate,
        conflicting=conflicting,
        outdated=outdated,
        rest=rest,
        other_vendors=others,
        features={**features(placed, candidate, same_item, row_id), "disagreement": float(bool(conflicting))},
    )


def _unranked(row_id: str, candidate: Placed, position: Callable[[str], int]) -> Placed:
    """A disagreeing row the ranking did not reach: shown beside the candidate with its score."""
    return Placed(Hit(position(row_id), candidate.hit.score, candidate.hit.parts))


def features(
    placed: Sequence[Placed], candidate: Placed, same_item: set[str], row_id: Callable[[int], str]
) -> dict[str, float]:
    """What the confidence is computed from: how well the first row matches, and how clearly it leads."""
    top = candidate.hit
    others = [p.hit for p in placed if p.hit.position != top.position and row_id(p.hit.position) not in same_item]
    runner_up = others[0].score if others else 0.0
    window = [p for p in placed[:5] if p.hit.position != top.position]
    support = sum(row_id(p.hit.position) in same_item for p in window)
    # Per signal: how far the first row (with its copies) leads the best other row, and whether it leads at all.
    gaps = {
        name: value - max((hit.parts.get(name, 0.0) for hit in others), default=0.0)
        for name, value in top.parts.items()
    }
    return {
        "score": top.score,
        "dense": 0.0,
        "lexical": 0.0,
        **top.parts,  # each signal's own score of the first row
        "margin": top.score - runner_up,
        "support": float(support),
        "promoted": 1.0 if top.current_version_of else 0.0,
        **{f"{name}_gap": gap for name, gap in gaps.items()},
        **{f"{name}_first": float(gap >= 0.0) for name, gap in gaps.items()},
        "signals_first": float(sum(gap >= 0.0 for gap in gaps.values())),
    }


def _squeezed(text: str) -> str:
    """NFKC, lower case, without spaces and hyphens: "ISMS-P", "ＩＳＭＳ－Ｐ" and "isms p" read alike."""
    return _JOINERS.sub("", unicodedata.normalize("NFKC", text).lower())


def codes(text: str) -> set[str]:
    """The numbers and codes ``text`` names (see `_CODE`), each as `_squeezed` writes it.

    >>> sorted(codes("ISO/IEC 27701 or ISMS-P since 2021? Ｐｏｒｔ　４４３, TLS 1.2, AES-256, front-end"))
    ['27701', '443', 'aes256', 'ismsp']
    """
    found = _CODE.finditer(unicodedata.normalize("NFKC", text))
    return {_JOINERS.sub("", m.group(0).lower()) for m in found if not _YEAR.fullmatch(m.group(0))}


def question_features(
    question: str, question_language: str | None, row_text: str, answer: str | None = None
) -> dict[str, float]:
    """What the question itself says about the answer: its length and how much of it the first row covers.

    ``concept_coverage`` is the share of the question's glossary concepts (`assistant.glossary`) that the row
    names too (0 when the question names none, and ``question_concepts`` is then 0). ``settings_only`` is 1
    when the question names concepts but only settings (`SETTING_CONCEPTS`: a time, a place, a frequency, a
    party), none that says what it asks about (typos aside: "bakups" is no concept). ``code_mismatch`` is 1
    when the question names a number or code (`codes`) that the row does not. ``kind_missing`` is 1 when the
    question asks for a kind of fact (a frequency, a duration...) that the row's ``answer`` (its answer cells;
    ``row_text`` when not given) does not state (`assistant.answer_kinds`).

    >>> f = question_features("How many backup generations?", "en", "Backup | Seven generations")
    >>> f["question_concepts"], f["concept_coverage"], f["short_question"], f["long_question"]
    (2.0, 1.0, 0.0, 0.0)
    >>> question_features("Are backups encrypted?", "en", "Backup | Seven generations")["concept_coverage"]
    0.5
    >>> [question_features(q, "en", "Weekdays, Japan time")["settings_only"] for q in ("Tokyo weather this weekend?",
    ...  "Is the help desk open on weekends?")]
    [1.0, 0.0]
    >>> row = "Certification | Yes | ISO/IEC 27001:2013 / JIS Q 27001:2014"
    >>> [question_features(q, "en", row)["code_mismatch"] for q in ("ISO 27001?", "ISO 27701?", "ISMS?")]
    [0.0, 1.0, 0.0]
    """
    glossary = default_glossary()
    asked = set(glossary.concepts(question))
    named = codes(question)
    row = _squeezed(row_text) if named else ""
    covered = asked & set(glossary.concepts(row_text))
    short, long = LENGTHS.get(question_language or "en", LENGTHS["en"])
    return {
        "question_chars": math.log1p(len(question)),
        "short_question": float(len(question) <= short),
        "long_question": float(len(question) >= long),
        "question_concepts": float(len(asked)),
        "concept_coverage": len(covered) / len(asked) if asked else 0.0,
        "settings_only": float(bool(asked) and asked <= SETTING_CONCEPTS),
        "code_mismatch": float(any(code not in row for code in named)),
        "kind_missing": kind_missing(question, row_text if answer is None else answer),
    }
