"""A small self-attention next-item model in Keras, SASRec-like (Kang & McAuley, ICDM 2018).

Same job, data, training loop and serving contract as the GRU in
:mod:`recsys.models.sequence` (tied item embeddings, sampled or full softmax
cross-entropy at real positions only, early stopping on held-out last items);
only the encoder differs: causal self-attention blocks over the last
``max_length`` items instead of a recurrence, so every position sees the
whole past at once. It is *not* the paper's model: the loss is softmax
cross-entropy rather than binary cross-entropy with one negative, and
positions count from the oldest item of the window, not from the padding.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from recsys.models.base import RecommenderModel
from recsys.models.sequence import GRUSequenceModel, _left_pad, _tf


class SelfAttentionSequenceModel(GRUSequenceModel):
    """Item + reversed-position embeddings -> ``blocks`` x (causal attention, feed-forward) -> items."""

    name = "sasrec"

    def __init__(self, blocks: int = 2, heads: int = 1, learning_rate: float = 0.002, **kwargs: Any) -> None:
        # Attention trains stably at a quarter of the GRU's step size (0.008 diverged on Amazon Games).
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.blocks = int(blocks)
        self.heads = int(heads)
        self.hidden_units = self.embedding_dim  # residual connections need one width

    def _build(self, n_items: int) -> None:
        tf = _tf()
        try:
            tf.config.threading.set_intra_op_parallelism_threads(self.threads)
            tf.config.threading.set_inter_op_parallelism_threads(self.threads)
        except RuntimeError:
            pass
        tf.keras.utils.set_random_seed(self.random_state)
        d = self.embedding_dim
        inputs = tf.keras.Input(shape=(None,), dtype="int32")
        items = tf.keras.layers.Embedding(n_items + 1, d, name="items",
                                          embeddings_initializer=tf.keras.initializers.RandomNormal(stddev=0.05))
        positions = tf.keras.layers.Embedding(self.max_length, d, name="positions",
                                              embeddings_initializer=tf.keras.initializers.RandomNormal(stddev=0.05))
        real = tf.keras.layers.Lambda(lambda ids: tf.cast(ids > 0, tf.float32)[..., tf.newaxis])(inputs)
        # Position 0 is the oldest real item whatever the padding: a prefix is encoded exactly as it
        # was inside the longer training window (causal attention), so training matches serving.
        forward_positions = tf.keras.layers.Lambda(
            lambda ids: tf.clip_by_value(tf.cumsum(tf.cast(ids > 0, tf.int32), axis=1) - 1, 0, self.max_length - 1)
        )(inputs)
        x = items(inputs) + positions(forward_positions)
        x = tf.keras.layers.Dropout(self.dropout)(x) * real
        key_mask = tf.keras.layers.Lambda(lambda ids: (ids > 0)[:, tf.newaxis, :])(inputs)
        for block in range(self.blocks):
            query = tf.keras.layers.LayerNormalization(epsilon=1e-6, name=f"attention_norm_{block}")(x)
            attended = tf.keras.layers.MultiHeadAttention(
                self.heads, d // self.heads, dropout=self.dropout, name=f"attention_{block}"
            )(query, x, attention_mask=key_mask, use_causal_mask=True)
            x = query + attended
            y = tf.keras.layers.LayerNormalization(epsilon=1e-6, name=f"feed_forward_norm_{block}")(x)
            y = tf.keras.layers.Dense(d, activation="relu", name=f"feed_forward_in_{block}")(y)
            y = tf.keras.layers.Dropout(self.dropout)(y)
            y = tf.keras.layers.Dense(d, name=f"feed_forward_out_{block}")(y)
            y = tf.keras.layers.Dropout(self.dropout)(y)
            x = (x + y) * real
        x = tf.keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
        self._encoder = tf.keras.Model(inputs, x)
        self._bias = tf.Variable(tf.zeros([n_items]), name="item_bias")

    def _item_embeddings(self) -> np.ndarray:
        return np.asarray(self._encoder.get_layer("items").embeddings.numpy()[1:], dtype=np.float32)

    def _score_one(self, items: np.ndarray) -> np.ndarray:
        """One sequence through Keras (attention has no cheap NumPy replica here)."""
        if len(items) == 0:
            return np.zeros(self.n_items, dtype=np.float32)
        return self._logits([np.asarray(items)])[0]

    #: The GRU's candidate-only path replays a GRU in NumPy; this model's state comes from Keras,
    #: so loading builds the network at once rather than on a shopper's first request.
    score_items = RecommenderModel.score_items
    scores_in_numpy = False

    def score(self, history, user: Optional[int] = None, sequence: Optional[np.ndarray] = None) -> np.ndarray:
        return self._score_one(self._last_items(history, sequence))

    def _logits(self, sequences) -> np.ndarray:
        batch = _left_pad(sequences, self.max_length)
        states = self._network()(batch, training=False).numpy()[:, -1, :]
        logits = states @ self._item_embeddings().T + self._bias.numpy()
        logits[~batch.any(axis=1)] = 0.0
        return logits
