"""Int8 recipes side by side: the evaluation of fp32, each int8 copy, and int8 on one side only (issue 14).

Runs in its own process and prints one JSON object (hit@1, MRR@10 and answered-wrong, overall and per language,
per variant). Each variant gets its own index folder and build cache under ``--out``, from empty::

    python -m evals.bench.int8_recipes --questions evals/questions.dev.jsonl --out artifacts/int8

The copies are quantized into ``--out`` (not the model cache); the fp32 export comes from the model cache.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.corpus import load_corpus
from assistant.embedding import Embedder
from assistant.embedding.embedder import ModelIdentity, Progress
from assistant.embedding.loading import bundled_model
from assistant.embedding.onnx_backend import MODEL_FILE, TOKENIZER_FILE, OnnxEmbedder, ensure_exported
from assistant.embedding.quantization import INT8, QuantizationRecipe, quantize
from assistant.evaluation.questions import load_questions
from assistant.evaluation.runner import evaluate
from assistant.index import open_index
from assistant.retrieval import Assistant
from assistant.settings import DEFAULT_MODEL, Settings

LAYER_4_FFN_OUT = "/model/encoder/layer.4/output/dense/MatMul"


class SplitEmbedder(ModelIdentity):
    """Passages from one embedder, questions (and the rows the index embeds as questions) from another.

    >>> split = SplitEmbedder(fp32, int8, fingerprint="int8-questions-only")  # doctest: +SKIP
    >>> split.embed_queries(["SSO를 지원합니까?"]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, passages: OnnxEmbedder, queries: OnnxEmbedder, fingerprint: str) -> None:
        super().__init__(
            name=passages.name,
            fingerprint=fingerprint,
            dimension=passages.dimension,
            query_prompt=passages.query_prompt,
            passage_prompt=passages.passage_prompt,
        )
        self._passages = passages
        self._queries = queries

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._queries.embed_queries(texts)

    def embed_passages(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> npt.NDArray[np.float32]:
        return self._passages.embed_passages(texts, batch_size=batch_size, progress=progress)


def recipes(model: Path) -> dict[str, QuantizationRecipe]:
    """The recipes compared: the shipped one, it without the Gather, and the FFN weights alone."""
    import onnx

    names = [n.name for n in onnx.load(str(model), load_external_data=False).graph.node if n.op_type == "MatMul"]
    attention = tuple(n for n in names if "/attention/" in n)
    return {
        "int8": INT8,
        "int8-gather-fp32": QuantizationRecipe(op_types=("MatMul",)),
        "int8-ffn-only": QuantizationRecipe(op_types=("MatMul",), keep_float=(*attention, LAYER_4_FFN_OUT)),
    }


def _summary(assistant: Assistant, questions: Path) -> dict[str, Any]:
    report = evaluate(
        assistant, load_questions(questions), questions_file=str(questions), model=DEFAULT_MODEL
    ).model_dump(mode="json")
    metrics = ("hit@1", "mrr@10")
    return {
        **{m: round(report["overall"][m], 3) for m in metrics},
        "answered_wrong": report["abstention"]["answered_wrong"],
        "by_language": {k: {m: round(v[m], 3) for m in metrics} for k, v in report["by_language"].items()},
    }


def compare(questions: Path, out: Path) -> dict[str, Any]:
    settings = Settings.from_env()
    exported = ensure_exported(bundled_model(DEFAULT_MODEL, settings.cache_dir))
    corpus = load_corpus(settings.corpus_dir)

    def embedder(model: Path, fingerprint: str) -> OnnxEmbedder:
        return OnnxEmbedder(
            model, exported / TOKENIZER_FILE, name=DEFAULT_MODEL, fingerprint=fingerprint, dimension=384
        )

    fp32 = embedder(exported / MODEL_FILE, "fp32")
    variants: dict[str, Embedder] = {"fp32": fp32}
    for name, recipe in recipes(exported / MODEL_FILE).items():
        target = out / name / MODEL_FILE
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            quantize(exported / MODEL_FILE, target, recipe)
        int8 = embedder(target, name)
        variants[name] = int8
        if recipe == INT8:
            variants[f"{name}-questions-only"] = SplitEmbedder(fp32, int8, f"{name}-questions-only")
            variants[f"{name}-passages-only"] = SplitEmbedder(int8, fp32, f"{name}-passages-only")
    results: dict[str, Any] = {}
    for name, model in variants.items():
        folder = out / f"index-{name}"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(out / f"cache-{name}", ignore_errors=True)
        own = Settings.from_env(index_dir=folder, cache_dir=out / f"cache-{name}")
        index = open_index(own, corpus, model)
        results[name] = _summary(Assistant(own, model, index), questions)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=Path, default=Path("evals/questions.dev.jsonl"))
    parser.add_argument("--out", type=Path, default=Path("artifacts/int8"))
    args = parser.parse_args(argv)
    json.dump(compare(args.questions, args.out), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
