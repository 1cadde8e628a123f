"""Tests for batching by token count: `token_batches`, and the ONNX embedder over a tiny model (no real model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.embedding.embedder import token_batches

from tiny_onnx import DIMENSION, write_tiny_model

TEXTS = [
    "is data encrypted at rest",
    "sso",
    "データ 暗号化",
    "backup kept for days backup kept for days backup kept for days backup kept for days",
    "비밀번호",
    "password length password length",
    "",
    "saml supported sso saml supported",
    "백업 데이터 암호화 지원",
    "unknown words map to one unk token each",
]


@pytest.mark.parametrize(("max_texts", "budget"), [(1, 100), (3, 1000), (64, 12), (64, 40), (2, 1)])
def test_token_batches_cover_every_text_once_within_the_limits(max_texts: int, budget: int) -> None:
    lengths = [5, 17, 3, 3, 9, 40, 1, 12, 12, 2, 7]
    batches = token_batches(lengths, max_texts=max_texts, token_budget=budget)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= max_texts
        widest = max(lengths[i] for i in batch)
        assert len(batch) == 1 or len(batch) * widest <= budget  # only a lone text may exceed the budget
    # Longest first across the whole run: each batch's texts are no longer than the previous batch's.
    flat = [lengths[i] for batch in batches for i in batch]
    assert flat == sorted(lengths, reverse=True)


def test_token_batches_fill_to_the_budget_and_keep_ties_in_order() -> None:
    assert token_batches([4, 4, 4, 4, 4], max_texts=64, token_budget=12) == [[0, 1, 2], [3, 4]]
    assert token_batches([2, 9, 2], max_texts=64, token_budget=8) == [[1], [0, 2]]
    assert token_batches([], max_texts=4, token_budget=8) == []


@pytest.mark.parametrize(("max_texts", "budget"), [(0, 10), (4, 0)])
def test_token_batches_refuse_empty_limits(max_texts: int, budget: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        token_batches([3], max_texts=max_texts, token_budget=budget)


def _tiny_embedder(folder: Path, token_budget: int) -> object:
    pytest.importorskip("onnxruntime")
    from assistant.embedding.onnx_backend import OnnxEmbedder

    model, tokenizer = write_tiny_model(folder)
    return OnnxEmbedder(
        model, tokenizer, name="tiny", fingerprint="t", dimension=DIMENSION, threads=1, token_budget=token_budget
    )


def test_onnx_batches_return_rows_in_input_order_equal_to_one_by_one(tmp_path: Path) -> None:
    from assistant.embedding.onnx_backend import OnnxEmbedder

    embedder = _tiny_embedder(tmp_path, token_budget=24)
    assert isinstance(embedder, OnnxEmbedder)
    calls: list[tuple[int, int]] = []
    batched = embedder.embed_passages(TEXTS, batch_size=3, progress=lambda done, total: calls.append((done, total)))
    one_by_one = np.concatenate([embedder.embed_passages([text]) for text in TEXTS])
    lengths = [len(embedder.token_ids("passage: " + text)) for text in TEXTS]
    expected_batches = token_batches(lengths, max_texts=3, token_budget=24)
    assert len(expected_batches) > 3  # several batches of different widths, so padding and reordering happen
    done = np.cumsum([len(batch) for batch in expected_batches]).tolist()
    assert calls == [(count, len(TEXTS)) for count in done]
    assert batched.shape == (len(TEXTS), DIMENSION)
    assert batched.dtype == np.float32
    np.testing.assert_allclose(batched, one_by_one, atol=1e-6)
    # Distinct texts, distinct rows: a row put back in the wrong place would not match its own text.
    for i in range(len(TEXTS)):
        assert int(np.argmax(one_by_one @ batched[i])) == i


def test_queries_batch_the_same_way(tmp_path: Path) -> None:
    embedder = _tiny_embedder(tmp_path, token_budget=8)
    from assistant.embedding.onnx_backend import OnnxEmbedder

    assert isinstance(embedder, OnnxEmbedder)
    together = embedder.embed_queries(TEXTS)
    alone = np.concatenate([embedder.embed_queries([text]) for text in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    assert embedder.embed_queries([]).shape == (0, DIMENSION)


def test_a_bad_token_budget_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="token_budget"):
        _tiny_embedder(tmp_path, token_budget=0)
