"""Evaluation and benchmark scripts (a package so that `python -m evals.bench` and mypy find them)."""
