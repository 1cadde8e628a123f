"""Metrics against hand-computed values; the arithmetic is in the comments."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from assistant.evaluation import (
    abstention_counts,
    auroc,
    compute,
    hit_at_k,
    latency_summary,
    metric,
    ndcg_at_k,
    percentile,
    reciprocal_rank,
    risk_coverage_curve,
)

F, T = False, True
LOG2_3 = math.log2(3)

# --- ranking, per query ----------------------------------------------------------------------------------


def test_one_relevant_at_rank_two() -> None:
    rels = [F, T, F]
    assert hit_at_k(rels, 1) == 0.0
    assert hit_at_k(rels, 2) == 1.0
    assert hit_at_k(rels, 3) == 1.0
    assert reciprocal_rank(rels, 1) == 0.0  # the hit at rank 2 is outside the top 1
    assert reciprocal_rank(rels, 3) == 0.5  # 1 / 2
    # DCG = 1/log2(2 + 1); IDCG (1 relevant) = 1/log2(1 + 1) = 1
    assert ndcg_at_k(rels, 3, n_relevant=1) == pytest.approx(1 / LOG2_3)
    assert ndcg_at_k(rels, 3, n_relevant=1) == pytest.approx(0.6309297535714575)
    assert ndcg_at_k(rels, 1, n_relevant=1) == 0.0


def test_reciprocal_rank_uses_first_relevant() -> None:
    assert reciprocal_rank([F, F, T, T], 4) == pytest.approx(1 / 3)  # first hit at rank 3
    assert reciprocal_rank([T, T], 2) == 1.0
    assert reciprocal_rank([], 5) == 0.0


def test_ndcg_two_relevant_in_corpus_one_retrieved() -> None:
    # IDCG places both relevant rows first: 1/log2(2) + 1/log2(3) = 1 + 1/log2(3)
    idcg = 1 + 1 / LOG2_3
    # hit at rank 1: DCG = 1
    assert ndcg_at_k([T, F, F], 3, n_relevant=2) == pytest.approx(1 / idcg)  # ≈ 0.6131
    assert ndcg_at_k([T, F, F], 3, n_relevant=2) == pytest.approx(0.6131471927654584)
    # hit at rank 3: DCG = 1/log2(4) = 0.5
    assert ndcg_at_k([F, F, T], 3, n_relevant=2) == pytest.approx(0.5 / idcg)
    # both retrieved, at ranks 1 and 3: DCG = 1 + 0.5
    assert ndcg_at_k([T, F, T], 3, n_relevant=2) == pytest.approx(1.5 / idcg)
    # both retrieved at the top: ideal
    assert ndcg_at_k([T, T, F], 3, n_relevant=2) == pytest.approx(1.0)


def test_ideal_is_capped_at_k() -> None:
    # 5 relevant rows exist but only 2 fit in the top 2, so two hits at the top are ideal.
    assert ndcg_at_k([T, T, F], 2, n_relevant=5) == pytest.approx(1.0)
    # one hit at rank 2 of k=2: DCG = 1/log2(3); IDCG = 1 + 1/log2(3)
    assert ndcg_at_k([F, T, T], 2, n_relevant=5) == pytest.approx((1 / LOG2_3) / (1 + 1 / LOG2_3))


def test_k_larger_than_the_list() -> None:
    rels = [F, T]  # only two results returned for k=10
    assert hit_at_k(rels, 10) == 1.0
    assert reciprocal_rank(rels, 10) == 0.5
    # DCG = 1/log2(3); the ideal still counts min(3, 10) = 3 relevant rows:
    # IDCG = 1 + 1/log2(3) + 1/log2(4) = 1.5 + 1/log2(3); a short list is not excused
    assert ndcg_at_k(rels, 10, n_relevant=3) == pytest.approx((1 / LOG2_3) / (1.5 + 1 / LOG2_3))
    assert hit_at_k([], 10) == 0.0
    assert ndcg_at_k([], 10, n_relevant=1) == 0.0


def test_ndcg_with_no_relevant_rows_is_zero() -> None:
    assert ndcg_at_k([F, F, F], 3, n_relevant=0) == 0.0


@pytest.mark.parametrize(("rels", "n_relevant"), [([T, T, F], 1), ([T], 0), ([F], -1)])
def test_ndcg_rejects_impossible_counts(rels: list[bool], n_relevant: int) -> None:
    with pytest.raises(ValueError, match="n_relevant"):
        ndcg_at_k(rels, 3, n_relevant)


@pytest.mark.parametrize("k", [0, -1])
def test_k_must_be_positive(k: int) -> None:
    with pytest.raises(ValueError, match="k must be a positive integer"):
        hit_at_k([T], k)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        reciprocal_rank([T], k)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        ndcg_at_k([T], k, 1)


# --- ranking, by name ------------------------------------------------------------------------------------


def test_metric_by_name() -> None:
    rels = [F, T, F]
    assert metric("hit@1")(rels, 1) == 0.0
    assert metric("hit@2")(rels, 1) == 1.0
    assert metric("mrr@10")(rels, 1) == 0.5
    assert metric("mrr@1")(rels, 1) == 0.0
    assert metric("ndcg@3")(rels, 1) == pytest.approx(1 / LOG2_3)
    assert metric("ndcg@3")(rels, 2) == pytest.approx((1 / LOG2_3) / (1 + 1 / LOG2_3))


@pytest.mark.parametrize(
    "name", ["recall@5", "hit@0", "hit@", "hit", "ndcg@1.5", "mrr@-1", "NDCG@10", "hit_rate@1", " hit@1", ""]
)
def test_unknown_metric_names_the_metric_and_valid_forms(name: str) -> None:
    with pytest.raises(ValueError, match="unknown metric") as info:
        metric(name)
    message = str(info.value)
    assert repr(name) in message
    assert "hit@K" in message
    assert "mrr@K" in message
    assert "ndcg@K" in message


RUNS = {
    "q1": [F, T, F],  # 1 relevant in corpus
    "q2": [T, F, F],  # 2 relevant in corpus
    "q3": [F, F, F],  # unanswerable: 0 relevant
    "q4": [F, F, F],  # 1 relevant in corpus, not retrieved
}
N_RELEVANT = {"q1": 1, "q2": 2, "q3": 0, "q4": 1}


def test_compute_averages_answerable_queries_only() -> None:
    result = compute(["hit@1", "hit@3", "mrr@3", "ndcg@3"], RUNS, N_RELEVANT)
    assert result["n"] == 3  # q1, q2, q4; q3 is unanswerable
    assert result["hit@1"] == pytest.approx(1 / 3)  # (0 + 1 + 0) / 3, not / 4
    assert result["hit@3"] == pytest.approx(2 / 3)  # (1 + 1 + 0) / 3
    assert result["mrr@3"] == pytest.approx(0.5)  # (1/2 + 1 + 0) / 3
    # q1: 1/log2(3); q2: 1 / (1 + 1/log2(3)); q4: 0
    expected = (1 / LOG2_3 + 1 / (1 + 1 / LOG2_3) + 0) / 3
    assert result["ndcg@3"] == pytest.approx(expected)
    assert list(result) == ["hit@1", "hit@3", "mrr@3", "ndcg@3", "n"]


def test_compute_rejects_a_bad_name_before_work() -> None:
    with pytest.raises(ValueError, match="'precision@3'"):
        compute(["hit@1", "precision@3"], RUNS, N_RELEVANT)


def test_compute_rejects_mismatched_query_ids() -> None:
    with pytest.raises(ValueError, match=r"only in runs: \['q4'\], only in n_relevant: \['q9'\]"):
        compute(["hit@1"], RUNS, {"q1": 1, "q2": 2, "q3": 0, "q9": 1})


def test_compute_rejects_more_relevant_retrieved_than_exist() -> None:
    with pytest.raises(ValueError, match="query 'q3'"):
        compute(["hit@1"], {**RUNS, "q3": [T, F, F]}, N_RELEVANT)  # q3 says 0 relevant exist


def test_compute_with_no_answerable_query_raises() -> None:
    with pytest.raises(ValueError, match="no answerable query"):
        compute(["hit@1"], {"q3": [F]}, {"q3": 0})


# --- abstention ------------------------------------------------------------------------------------------


def brute_force_auroc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_auroc_hand_computed() -> None:
    assert auroc([0.9, 0.8, 0.2, 0.1], [T, T, F, F]) == 1.0
    assert auroc([0.1, 0.2, 0.8, 0.9], [T, T, F, F]) == 0.0
    # positives {0.9, 0.2}, negatives {0.8, 0.1}: 0.9>0.8, 0.9>0.1, 0.2<0.8, 0.2>0.1 → 3/4
    assert auroc([0.9, 0.8, 0.2, 0.1], [T, F, T, F]) == pytest.approx(0.75)


def test_auroc_ties_count_half() -> None:
    # positives {0.9, 0.5}, negatives {0.5, 0.1}: 1 + 1 + 1/2 (tie) + 1 = 3.5 of 4 pairs
    assert auroc([0.9, 0.5, 0.5, 0.1], [T, T, F, F]) == pytest.approx(0.875)
    # every score tied: each of the 2×3 pairs counts 1/2
    assert auroc([0.3] * 5, [T, F, T, F, F]) == pytest.approx(0.5)
    # positives {1, 1}, negatives {1, 0, 0}: ties 1/2 + 1/2, wins 4 → 5 of 6
    assert auroc([1, 1, 1, 0, 0], [T, T, F, F, F]) == pytest.approx(5 / 6)


def test_auroc_matches_brute_force_with_many_ties() -> None:
    rng = random.Random(0)
    for _ in range(50):
        n = rng.randint(2, 40)
        labels = [rng.random() < 0.4 for _ in range(n)]
        labels[0], labels[1] = True, False  # both classes present
        scores = [float(rng.randint(0, 5)) for _ in range(n)]
        assert auroc(scores, labels) == pytest.approx(brute_force_auroc(scores, labels))


def test_auroc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both classes"):
        auroc([0.1, 0.2], [T, T])
    with pytest.raises(ValueError, match="both classes"):
        auroc([0.1, 0.2], [F, F])
    with pytest.raises(ValueError, match="both classes"):
        auroc([], [])
    with pytest.raises(ValueError, match="same length"):
        auroc([0.1, 0.2, 0.3], [T, F])
    with pytest.raises(ValueError, match="finite"):
        auroc([0.1, math.nan], [T, F])


def test_risk_coverage_curve_by_hand() -> None:
    # Given out of order on purpose. Sorted by confidence descending:
    #   0.9 ✓ | 0.8 ✗, 0.8 ✓ (tied: one step) | 0.5 ✓ | 0.3 ✗
    confidences = [0.5, 0.8, 0.3, 0.9, 0.8]
    correct = [T, F, F, T, T]
    expected = [
        (1 / 5, 0 / 1),  # answer {0.9}: 0 wrong of 1
        (3 / 5, 1 / 3),  # answer {0.9, 0.8, 0.8}: 1 wrong of 3
        (4 / 5, 1 / 4),  # + 0.5 ✓: 1 wrong of 4
        (5 / 5, 2 / 5),  # + 0.3 ✗: 2 wrong of 5
    ]
    curve = risk_coverage_curve(confidences, correct)
    assert len(curve) == len(expected)
    for point, want in zip(curve, expected, strict=True):
        assert point == pytest.approx(want)


def test_risk_coverage_curve_tie_order_does_not_matter() -> None:
    # the tied pair in either order gives the same single point
    assert risk_coverage_curve([0.8, 0.8], [T, F]) == [(1.0, 0.5)]
    assert risk_coverage_curve([0.8, 0.8], [F, T]) == [(1.0, 0.5)]


def test_risk_coverage_curve_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one"):
        risk_coverage_curve([], [])
    with pytest.raises(ValueError, match="same length"):
        risk_coverage_curve([0.1], [T, F])
    with pytest.raises(ValueError, match="finite"):
        risk_coverage_curve([math.nan, 0.1], [T, F])


def test_abstention_counts_mixed_set() -> None:
    answered = [T, T, T, F, F, F]
    correct = [T, F, F, F, F, F]
    answerable = [T, T, F, T, F, F]
    # 0: answerable, answered, top row relevant      → answered_correct
    # 1: answerable, answered, top row not relevant  → answered_wrong
    # 2: unanswerable, answered                      → answered_wrong
    # 3: answerable, abstained                       → abstained_answerable
    # 4, 5: unanswerable, abstained                  → abstained_unanswerable
    assert abstention_counts(answered, correct, answerable) == {
        "answered_correct": 1,
        "answered_wrong": 2,
        "abstained": 3,
        "abstained_answerable": 1,
        "abstained_unanswerable": 2,
        "false_answer_rate": pytest.approx(2 / 3),  # 2 wrong of 3 answered
        "coverage": pytest.approx(0.5),  # 3 answered of 6
        "n": 6,
    }


def test_abstention_counts_nothing_answered() -> None:
    counts = abstention_counts([F, F], [F, F], [T, F])
    assert counts["false_answer_rate"] == 0.0  # defined as 0 when nothing is answered
    assert counts["coverage"] == 0.0
    assert counts["abstained_answerable"] == 1
    assert counts["abstained_unanswerable"] == 1


def test_abstention_counts_rejects_correct_unanswerable() -> None:
    with pytest.raises(ValueError, match=r"positions \[1\]"):
        abstention_counts([T, T], [T, T], [T, F])


def test_abstention_counts_rejects_bad_lengths_and_empty() -> None:
    with pytest.raises(ValueError, match="same length"):
        abstention_counts([T], [T, F], [T, F])
    with pytest.raises(ValueError, match="at least one"):
        abstention_counts([], [], [])


# --- latency ---------------------------------------------------------------------------------------------


def test_percentile_by_hand() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5  # rank 1.5: 2 + 0.5 * (3 - 2)
    assert percentile([50, 10, 40, 20, 30], 95) == pytest.approx(48.0)  # rank 3.8: 40 + 0.8 * 10
    assert percentile([7], 95) == 7.0
    assert percentile([3, 1, 2], 0) == 1.0
    assert percentile([3, 1, 2], 100) == 3.0


def test_percentile_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    for size in (1, 2, 3, 10, 101):
        values = rng.exponential(scale=40.0, size=size).tolist()
        for q in (0, 1, 25, 37.5, 50, 90, 95, 99, 100):
            assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), rel=1e-12)


@pytest.mark.parametrize(("values", "q"), [([], 50), ([1.0], -1), ([1.0], 100.5), ([math.nan], 50)])
def test_percentile_rejects_bad_input(values: list[float], q: float) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        percentile(values, q)


def test_latency_summary() -> None:
    summary = latency_summary([30.0, 10.0, 50.0, 20.0, 40.0])
    assert summary == {
        "p50": 30.0,
        "p95": pytest.approx(48.0),  # rank 0.95 * 4 = 3.8: 40 + 0.8 * (50 - 40)
        "mean": 30.0,  # 150 / 5
        "max": 50.0,
    }
