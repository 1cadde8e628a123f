"""Our ranking metrics against ranx, the reference implementation, on the same runs."""

from __future__ import annotations

import random
import warnings

import pytest

from assistant.evaluation.metrics import compute

ranx = pytest.importorskip("ranx")  # a dev dependency; installed by `make test`

#: Our metric names and ranx's for the same measure.
NAMES = {"hit@1": "hit_rate@1", "hit@3": "hit_rate@3", "hit@5": "hit_rate@5", "mrr@10": "mrr@10", "ndcg@10": "ndcg@10"}


def _random_runs(seed: int, queries: int) -> tuple[dict[str, list[bool]], dict[str, int]]:
    """Rankings of 0-12 rows with random relevance, and how many relevant rows each query has in all."""
    rng = random.Random(seed)
    runs: dict[str, list[bool]] = {}
    counts: dict[str, int] = {}
    for number in range(queries):
        flags = [rng.random() < 0.25 for _ in range(rng.randint(0, 12))]
        runs[f"q{number}"] = flags
        counts[f"q{number}"] = sum(flags) + rng.randint(0 if any(flags) else 1, 3)  # some relevant rows not found
    return runs, counts


def test_ranking_metrics_equal_ranx_on_the_same_runs() -> None:
    runs, counts = _random_runs(seed=11, queries=400)
    qrels = {
        qid: {f"{qid}-relevant-{i}": 1 for i in range(counts[qid] - sum(flags))}
        | {f"{qid}-row-{rank}": 1 for rank, flag in enumerate(flags) if flag}
        for qid, flags in runs.items()
    }
    # Scores strictly decreasing with rank, so ranx keeps our order.
    run = {qid: {f"{qid}-row-{rank}": 100.0 - rank for rank in range(len(flags))} for qid, flags in runs.items()}
    ours = compute(list(NAMES), runs, counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety notes
        reference = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), list(NAMES.values()), make_comparable=True)
    assert ours["n"] == len(runs)
    for name, theirs in NAMES.items():
        assert ours[name] == pytest.approx(float(reference[theirs]), abs=1e-9), name
