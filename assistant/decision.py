"""The decision on top of the ranking: which row is the current fact, and whether it answers at all."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from assistant.fusion import Hit
from assistant.signals import IdArray

#: ``newer_twin(position)``: the row's twin in a newer document of its vendor and whether it states
#: different facts, or None.
NewerTwin = Callable[[int], "tuple[int, bool] | None"]


def _contains(allowed: IdArray | None, position: int) -> bool:
    """Whether a row may be returned: no filter, or in the (sorted) allowed rows."""
    if allowed is None:
        return True
    at = int(np.searchsorted(allowed, position))
    return at < len(allowed) and int(allowed[at]) == position


def prefer_current(
    hits: list[Hit], newer_twin: NewerTwin, row_id: Callable[[int], str], allowed: IdArray | None
) -> list[Hit]:
    """The hits with each outdated row preceded by its current version, best first.

    A row of a document that has a newer version, whose twin there (the same item in the newer document)
    states different facts, yields its place: the twin is ranked just above it and the outdated row stays
    among the alternatives. A twin that states the same facts leaves the row where it is.
    """
    by_position = {hit.position: hit for hit in hits}
    for hit in sorted(by_position.values(), key=lambda h: -h.score):
        if hit.current_version_of:
            continue
        twin = newer_twin(hit.position)
        if twin is not None and twin[1] and _contains(allowed, twin[0]):
            current = by_position.get(twin[0])
            if current is None or current.score <= hit.score:
                by_position[twin[0]] = Hit(twin[0], hit.score + 1e-4, hit.parts, row_id(hit.position))
    return sorted(by_position.values(), key=lambda h: (-h.score, h.position))
