"""Retrieval, abstention and latency metrics as small pure functions; ranking metrics have string names."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TypeAlias

import numpy as np

#: A per-query ranking metric: ``(rels, n_relevant) -> value``, as returned by :func:`metric`.
QueryMetric: TypeAlias = Callable[[Sequence[bool], int], float]

_NAME = re.compile(r"(hit|mrr|ndcg)@([1-9][0-9]*)")
_VALID_FORMS = "hit@K, mrr@K, ndcg@K with K a positive integer (e.g. 'ndcg@10')"


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k}")


def _check_same_length(**named: Sequence[object]) -> int:
    lengths = {name: len(values) for name, values in named.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs must have the same length, got {lengths}")
    return next(iter(lengths.values()))


def _check_finite(name: str, values: Sequence[float]) -> None:
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} must be finite numbers (no NaN or inf)")


# --- ranking (per query) ---------------------------------------------------------------------------------


def hit_at_k(rels: Sequence[bool], k: int) -> float:
    """1.0 if any of the top ``k`` results is relevant, else 0.0.

    >>> hit_at_k([False, True, False], 1), hit_at_k([False, True, False], 3)
    (0.0, 1.0)
    """
    _check_k(k)
    return 1.0 if any(rels[:k]) else 0.0


def reciprocal_rank(rels: Sequence[bool], k: int) -> float:
    """1 / rank of the first relevant result in the top ``k`` (ranks start at 1), else 0.0; MRR@k averages it.

    >>> reciprocal_rank([False, True, False], 3)
    0.5
    """
    _check_k(k)
    for rank, rel in enumerate(rels[:k], start=1):
        if rel:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(rels: Sequence[bool], k: int, n_relevant: int) -> float:
    """Binary-gain nDCG@k: DCG = sum of 1/log2(rank + 1) over relevant ranks <= k, over the ideal DCG.

    The ideal places ``min(n_relevant, k)`` relevant rows first, so a list shorter than ``k`` is not
    excused. With ``n_relevant == 0`` there is no ideal ranking and the value is defined as 0.0;
    :func:`compute` leaves such (unanswerable) queries out of every ranking mean.

    >>> round(ndcg_at_k([False, True, False], 3, n_relevant=1), 4)  # 1 / log2(3)
    0.6309
    """
    _check_k(k)
    found = sum(bool(r) for r in rels)
    if n_relevant < 0 or found > n_relevant:
        raise ValueError(
            f"n_relevant={n_relevant} is impossible: the run already holds {found} relevant rows; "
            "pass the number of relevant rows in the corpus for this query"
        )
    if n_relevant == 0:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, rel in enumerate(rels[:k], start=1) if rel)
    idcg = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_relevant, k) + 1))
    return dcg / idcg


# --- ranking (by name, aggregated) -----------------------------------------------------------------------


def metric(name: str) -> QueryMetric:
    """The per-query metric called ``name`` ("hit@K", "mrr@K" or "ndcg@K"), taking ``(rels, n_relevant)``.

    >>> round(metric("ndcg@3")([False, True, False], 1), 4)
    0.6309
    >>> metric("recall@5")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown metric 'recall@5'; valid forms: hit@K, mrr@K, ndcg@K ...
    """
    match = _NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"unknown metric {name!r}; valid forms: {_VALID_FORMS}")
    kind, k = match.group(1), int(match.group(2))
    if kind == "hit":
        return lambda rels, n_relevant: hit_at_k(rels, k)
    if kind == "mrr":
        return lambda rels, n_relevant: reciprocal_rank(rels, k)
    return lambda rels, n_relevant: ndcg_at_k(rels, k, n_relevant)


def compute(
    names: Sequence[str], runs: Mapping[str, Sequence[bool]], n_relevant: Mapping[str, int]
) -> dict[str, float]:
    """Mean of each named metric over answerable queries (``n_relevant > 0``), plus their count as "n".

    ``runs`` maps a query id to its ranked relevance flags, ``n_relevant`` maps the same ids to the number
    of relevant rows in the corpus. Unanswerable queries are left out; if none is answerable, the means
    are undefined and this raises ValueError.

    >>> runs = {"q1": [False, True], "q2": [True, False], "q3": [False, False]}
    >>> compute(["hit@1", "mrr@2"], runs, {"q1": 1, "q2": 1, "q3": 0})
    {'hit@1': 0.5, 'mrr@2': 0.75, 'n': 2}
    """
    metrics = {name: metric(name) for name in names}  # parse every name before any work
    if runs.keys() != n_relevant.keys():
        only_runs = sorted(runs.keys() - n_relevant.keys())[:5]
        only_counts = sorted(n_relevant.keys() - runs.keys())[:5]
        raise ValueError(
            "runs and n_relevant must have the same query ids; "
            f"only in runs: {only_runs}, only in n_relevant: {only_counts} (at most 5 shown)"
        )
    answerable = []
    for qid, rels in runs.items():
        found, count = sum(bool(r) for r in rels), n_relevant[qid]
        if count < 0 or found > count:
            raise ValueError(f"query {qid!r}: n_relevant={count} but its run holds {found} relevant rows")
        if count > 0:
            answerable.append(qid)
    if not answerable:
        raise ValueError(f"no answerable query (n_relevant > 0) among {len(runs)}; ranking means are undefined")
    result: dict[str, float] = {
        name: sum(fn(runs[qid], n_relevant[qid]) for qid in answerable) / len(answerable)
        for name, fn in metrics.items()
    }
    result["n"] = len(answerable)
    return result


# --- abstention ------------------------------------------------------------------------------------------


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Probability that a random positive (``labels[i]`` true) outscores a random negative; ties count 1/2.

    >>> auroc([0.9, 0.5, 0.5, 0.1], [True, True, False, False])  # (1 + 1 + 1/2 + 1) / 4
    0.875
    """
    _check_same_length(scores=scores, labels=labels)
    _check_finite("scores", scores)
    values = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"auroc needs both classes; got {n_pos} positive and {n_neg} negative labels")
    # Mann-Whitney U: rank all scores (tied scores share their mean rank), sum the positives' ranks.
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    mean_rank = np.cumsum(counts) - (counts - 1) / 2.0
    rank_sum = float(mean_rank[inverse][positive].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def risk_coverage_curve(confidences: Sequence[float], correct: Sequence[bool]) -> list[tuple[float, float]]:
    """(coverage, risk) for each distinct confidence threshold, from the highest confidence down.

    Answering every question with confidence >= t gives coverage = answered / total and
    risk = wrong / answered. Tied confidences fall on the same side of any threshold, so they form one point.

    >>> risk_coverage_curve([0.9, 0.5, 0.5, 0.1], [True, False, True, False])
    [(0.25, 0.0), (0.75, 0.3333333333333333), (1.0, 0.5)]
    """
    total = _check_same_length(confidences=confidences, correct=correct)
    _check_finite("confidences", confidences)
    if total == 0:
        raise ValueError("risk_coverage_curve needs at least one question")
    ranked = sorted(zip(confidences, correct, strict=True), key=lambda pair: pair[0], reverse=True)
    points: list[tuple[float, float]] = []
    wrong = 0
    for i, (confidence, ok) in enumerate(ranked):
        wrong += not ok
        if i + 1 == total or ranked[i + 1][0] != confidence:
            points.append(((i + 1) / total, wrong / (i + 1)))
    return points


def abstention_counts(
    answered: Sequence[bool], correct: Sequence[bool], answerable: Sequence[bool]
) -> dict[str, float]:
    """Counts and rates of the answer/abstain decisions.

    ``correct[i]`` means question i's top row is relevant, so it is never true for an unanswerable
    question. An answer is wrong if the question is unanswerable or its top row is not relevant.
    false_answer_rate = answered_wrong / answered, defined as 0.0 when nothing is answered
    (no answer, no false answer); coverage = answered / n.

    >>> abstention_counts([True, True, False], [True, False, False], [True, False, False])
    ... # doctest: +NORMALIZE_WHITESPACE
    {'answered_correct': 1, 'answered_wrong': 1, 'abstained': 1, 'abstained_answerable': 0,
     'abstained_unanswerable': 1, 'false_answer_rate': 0.5, 'coverage': 0.6666666666666666, 'n': 3}
    """
    total = _check_same_length(answered=answered, correct=correct, answerable=answerable)
    if total == 0:
        raise ValueError("abstention_counts needs at least one question")
    bad = [i for i in range(total) if correct[i] and not answerable[i]]
    if bad:
        raise ValueError(
            f"questions at positions {bad[:5]} are marked correct but unanswerable; "
            "correct[i] must mean 'the top row is relevant', which an unanswerable question cannot have"
        )
    n_answered = sum(bool(a) for a in answered)
    answered_correct = sum(bool(a and c) for a, c in zip(answered, correct, strict=True))
    abstained_answerable = sum(bool(not a and q) for a, q in zip(answered, answerable, strict=True))
    answered_wrong = n_answered - answered_correct
    abstained = total - n_answered
    return {
        "answered_correct": answered_correct,
        "answered_wrong": answered_wrong,
        "abstained": abstained,
        "abstained_answerable": abstained_answerable,
        "abstained_unanswerable": abstained - abstained_answerable,
        "false_answer_rate": answered_wrong / n_answered if n_answered else 0.0,
        "coverage": n_answered / total,
        "n": total,
    }


# --- latency ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0 <= q <= 100), interpolating linearly between ranks like ``numpy.percentile``.

    >>> percentile([10, 20, 30, 40, 50], 95)  # rank 0.95 * 4 = 3.8: 40 + 0.8 * (50 - 40)
    48.0
    """
    if not values:
        raise ValueError("percentile of no values is undefined")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    _check_finite("values", values)
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def latency_summary(values_ms: Sequence[float]) -> dict[str, float]:
    """p50, p95, mean and max of latencies (same unit in, same unit out).

    >>> latency_summary([10, 20, 30, 40, 50])
    {'p50': 30.0, 'p95': 48.0, 'mean': 30.0, 'max': 50.0}
    """
    return {
        "p50": percentile(values_ms, 50),
        "p95": percentile(values_ms, 95),
        "mean": math.fsum(values_ms) / len(values_ms),
        "max": float(max(values_ms)),
    }
