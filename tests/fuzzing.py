"""Shared parts of the fuzz tests: Hypothesis settings, strategies, and counts of inputs tried, handled, crashed.

Each fuzz test wraps one input in ``outcome(category)``: the input counts as tried, then as handled cleanly
(the expected result or the expected error) or as crashed (any other exception, or a broken property).
The counts are written to ``artifacts/fuzz-counts.json`` at the end of the session (``python -m
tests.fuzz_report`` runs the fuzz tests and prints them). ``FUZZ_KEEP_GOING=1`` counts crashes without
failing, to measure how often a version crashes; ``FUZZ_SCALE=10`` tries ten times as many inputs;
``HYPOTHESIS_PROFILE=explore`` draws new inputs each run instead of the fixed ones CI uses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = REPO_ROOT / "artifacts" / "fuzz-counts.json"
CATEGORIES = ("questions", "corpus files", "cli arguments")
KEEP_GOING = os.environ.get("FUZZ_KEEP_GOING") == "1"
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))

_common: dict[str, Any] = {
    # Generous: one input may build a small corpus, or start the CLI; a slow input is still caught.
    "deadline": dt.timedelta(seconds=10),
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    "database": None,
}
# CI: the same inputs every run (a failure is reproducible and no run fails by chance).
settings.register_profile("ci", derandomize=True, print_blob=True, **_common)
settings.register_profile("explore", derandomize=False, print_blob=True, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

COUNTS: dict[str, Counter[str]] = defaultdict(Counter)

F = TypeVar("F", bound=Callable[..., Any])


def budget(examples: int) -> Callable[[F], F]:
    """Hypothesis settings trying ``examples`` inputs (times FUZZ_SCALE)."""
    return settings(max_examples=max(1, round(examples * SCALE)))


@contextlib.contextmanager
def outcome(category: str) -> Iterator[None]:
    """Count one input of ``category``: handled cleanly when the block ends normally, crashed when it raises."""
    COUNTS[category]["tried"] += 1
    try:
        yield
    except Exception as crash:
        COUNTS[category]["crashed"] += 1
        COUNTS[category][f"crashed: {type(crash).__name__}"] += 1
        if not KEEP_GOING:
            raise
    else:
        COUNTS[category]["handled cleanly"] += 1


def tally(category: str, kind: str) -> None:
    """Count how an input was handled (answered, refused, ...), to show that the inputs reach past the checks."""
    COUNTS[category][kind] += 1


def write_counts(path: Path = ARTIFACT) -> dict[str, dict[str, int]]:
    """The counts so far, by category (tried, handled cleanly, crashed, then the tallies), written as JSON."""
    main = ("tried", "handled cleanly", "crashed")
    counts = {
        category: {key: COUNTS[category][key] for key in main}
        | {key: value for key, value in sorted(COUNTS[category].items()) if key not in main}
        for category in sorted(COUNTS, key=lambda c: CATEGORIES.index(c) if c in CATEGORIES else len(CATEGORIES))
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(counts, indent=2) + "\n", encoding="utf-8")
    return counts


# --- strategies ------------------------------------------------------------------------------------------

#: Any code point, lone surrogates, controls and unassigned ones included.
ANY_CHARACTER = st.characters(exclude_categories=())
#: Characters that have broken text handling somewhere: direction marks, joiners, BOM, NUL, escapes,
#: surrogates, combining marks, line separators, markup, and the corpus's own words.
HAZARDS = (
    "\u200f", "\u202e", "\u200d", "\u2066", "\ufeff", "\x00", "\x1b[31m", "\ud800", "\udfff", "\ud83d", "\udcff",
    "\u0301", "\ufffd", "\u2028", "\u00a0", "\u3000", "\r", "\t", "\n", "\x0c", "<script>", "**", "`", "|", "\\",
    '"', "'", "ISO 27001", "バックアップ", "백업", "Acme", "Borealis", "ＡＣＭＥ", "İ", "ß", "😀", "𠮷",
)  # fmt: skip
hazard = st.sampled_from(HAZARDS)


def mixed_text(max_pieces: int = 20, max_piece: int = 12, alphabet: st.SearchStrategy[str] = ANY_CHARACTER) -> Any:
    """Text built from hazards and random runs of ``alphabet``."""
    piece = st.one_of(hazard, st.text(alphabet, max_size=max_piece))
    return st.lists(piece, max_size=max_pieces).map("".join)
