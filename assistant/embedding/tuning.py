"""Fine-tuning the embedding model on labelled questions: each question pulled towards the rows that answer it.

A contrastive recipe (in-batch softmax, as the e5 models were trained): a batch of questions, one answer row
each and, per question, the best-ranked row that does not answer it; every question must pick its own row
among all the batch's rows. Rows that answer another question of the batch too are not counted against it.
The word-embedding table (250,000 pieces, 96 M of the model's 118 M weights) stays as it is: only the layers
above it learn, so pieces the questions never use keep their meaning.

What it is for, and what it measured, is in the README ("Tuning the model on your questions") and
`evals/tune_model.py`, which builds the examples from a questions file and records what it did.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


@dataclass(frozen=True)
class Example:
    """One labelled question: its text as it is searched (prompt included), the texts of the rows that answer
    it, and the best-ranked row text that does not (None: no such row among the ranked ones)."""

    query: str
    positives: tuple[str, ...]
    negative: str | None


@dataclass(frozen=True)
class Recipe:
    """How the model is tuned. The defaults are the recipe measured in the README, chosen before any run (the
    e5 paper's temperature, a common learning rate for small encoders); none was tuned on a split."""

    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 2e-5
    weight_decay: float = 0.01
    temperature: float = 0.05
    seed: int = 0

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def tune(model: SentenceTransformer, examples: Sequence[Example], recipe: Recipe = Recipe()) -> list[float]:
    """Train ``model`` in place on ``examples``; the loss of each step, in order.

    Deterministic for a given model, examples, recipe and torch thread count: the shuffles and the positive
    drawn for each question come from ``recipe.seed``, dropout from torch's generator seeded with it.
    """
    import torch
    import torch.nn.functional as F

    if not examples:
        raise ValueError("no examples to tune on: the questions file holds no answerable question with a row")
    torch.manual_seed(recipe.seed)
    draw = random.Random(recipe.seed)
    encoder: Any = model[0].auto_model
    for parameter in encoder.embeddings.parameters():
        parameter.requires_grad = False
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
    order = list(examples)
    losses: list[float] = []
    model.train()
    try:
        for _ in range(recipe.epochs):
            draw.shuffle(order)
            for start in range(0, len(order), recipe.batch_size):
                batch = order[start : start + recipe.batch_size]
                positives = [draw.choice(e.positives) for e in batch]
                rows = positives + [e.negative for e in batch if e.negative is not None]
                questions = _embed(model, [e.query for e in batch])
                passages = _embed(model, rows)
                logits = questions @ passages.T / recipe.temperature
                # A row that answers a question is not a wrong pick for it, whoever's row it is in the batch.
                also_right = torch.tensor(
                    [[j != i and row in e.positives for j, row in enumerate(rows)] for i, e in enumerate(batch)]
                )
                logits = logits.masked_fill(also_right, -1e4)
                loss = F.cross_entropy(logits, torch.arange(len(batch)))
                optimizer.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
                losses.append(float(loss.detach()))
    finally:
        model.eval()
    return losses


def _embed(model: SentenceTransformer, texts: list[str]) -> Any:
    import torch.nn.functional as F

    features = model.preprocess(texts)
    return F.normalize(model(features)["sentence_embedding"], dim=-1)
