"""Evaluation: metrics over labelled questions run through the retriever."""

from __future__ import annotations

from assistant.evaluation.metrics import (
    QueryMetric,
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

__all__ = [
    "QueryMetric",
    "abstention_counts",
    "auroc",
    "compute",
    "hit_at_k",
    "latency_summary",
    "metric",
    "ndcg_at_k",
    "percentile",
    "reciprocal_rank",
    "risk_coverage_curve",
]
