"""A tiny ONNX embedding model and word-level tokenizer, shaped like the exported e5 (for fast, model-free tests).

The graph takes ``input_ids`` and ``attention_mask`` and returns ``embedding``: word vectors, one linear layer named
like e5's layer-4 FFN output (so the default quantization recipe applies to it), mean pooling over the mask, and
L2 normalisation - the same inputs, output and padding rules as `assistant.embedding.onnx_backend`'s export.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

WORDS = [
    *["passage:", "query:", "is", "are", "data", "encrypted", "at", "rest", "backup", "kept", "for", "days"],
    *["password", "length", "sso", "saml", "supported"],
    *["データ", "暗号化", "バックアップ", "世代", "パスワード", "데이터", "암호화", "백업", "비밀번호", "지원"],
]
DIMENSION = 16
LINEAR = "/model/encoder/layer.4/output/dense/MatMul"


def write_tiny_model(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """Write ``model.onnx`` and ``tokenizer.json`` into ``folder``; returns their paths."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, **{word: i + 4 for i, word in enumerate(WORDS)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tokenizer.save(str(folder / "tokenizer.json"))

    rng = np.random.default_rng(seed)
    table = rng.standard_normal((len(vocab), DIMENSION)).astype(np.float32)
    weight = (rng.standard_normal((DIMENSION, DIMENSION)) / np.sqrt(DIMENSION)).astype(np.float32)
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["words"], name="/model/embeddings/Gather"),
        helper.make_node("MatMul", ["words", "weight"], ["hidden"], name=LINEAR),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "last"], ["mask3"]),
        helper.make_node("Mul", ["hidden", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "tokens_axis"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "tokens_axis"], ["count"], keepdims=0),
        helper.make_node("Div", ["summed", "count"], ["mean"]),
        helper.make_node("LpNormalization", ["mean"], ["embedding"], axis=1, p=2),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", DIMENSION])],
        initializer=[
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(weight, "weight"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "last"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "tokens_axis"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    return folder / "model.onnx", folder / "tokenizer.json"
