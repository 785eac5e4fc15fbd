"""A GRU over the last items a shopper touched, predicting the next one (GRU4Rec-style).

It is the one model that reads order: "viewed a phone, then a case" says
more than the unordered set. Trained sequence-to-sequence (every position
predicts the next item, full softmax over the catalog), it serves any new
session from its item sequence without retraining. TensorFlow is imported
only when this model is used, so the rest of the library stays light.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np
import scipy.sparse as sp

from recsys.events import Interactions
from recsys.models.base import RecommenderModel


def _keras():
    import tensorflow as tf

    return tf


class GRUSequenceModel(RecommenderModel):
    """Embedding -> GRU -> softmax over items; item ids are shifted by one so 0 can pad."""

    name = "gru"
    uses_sequence = True

    def __init__(
        self,
        embedding_dim: int = 64,
        hidden_units: int = 96,
        max_length: int = 20,
        epochs: int = 8,
        batch_size: int = 128,
        learning_rate: float = 0.003,
        dropout: float = 0.2,
        random_state: int = 0,
    ) -> None:
        self.embedding_dim = int(embedding_dim)
        self.hidden_units = int(hidden_units)
        self.max_length = int(max_length)
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.dropout = float(dropout)
        self.random_state = int(random_state)
        self._network = None

    def params(self) -> Dict[str, Any]:
        return {
            "embedding_dim": self.embedding_dim, "hidden_units": self.hidden_units, "max_length": self.max_length,
            "epochs": self.epochs, "batch_size": self.batch_size, "learning_rate": self.learning_rate,
            "dropout": self.dropout, "random_state": self.random_state,
        }

    def _build(self, n_items: int):
        tf = _keras()
        tf.keras.utils.set_random_seed(self.random_state)
        inputs = tf.keras.Input(shape=(self.max_length,), dtype="int32")
        x = tf.keras.layers.Embedding(n_items + 1, self.embedding_dim, mask_zero=True)(inputs)
        x = tf.keras.layers.Dropout(self.dropout)(x)
        x = tf.keras.layers.GRU(self.hidden_units, return_sequences=True)(x)
        x = tf.keras.layers.Dropout(self.dropout)(x)
        outputs = tf.keras.layers.Dense(n_items)(x)
        network = tf.keras.Model(inputs, outputs)
        network.compile(
            optimizer=tf.keras.optimizers.Adam(self.learning_rate),
            loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        return network

    def _windows(self, sequences: List[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and next-item targets, left-padded; long sequences are cut into windows."""
        inputs, targets = [], []
        for sequence in sequences:
            shifted = np.asarray(sequence, dtype=np.int32) + 1
            for end in range(len(shifted), 1, -self.max_length):
                chunk = shifted[max(0, end - self.max_length - 1):end]
                x, y = chunk[:-1], chunk[1:]
                pad = self.max_length - len(x)
                inputs.append(np.pad(x, (pad, 0)))
                targets.append(np.pad(y, (pad, 0)))  # padded targets are masked through the embedding mask
        return np.array(inputs, dtype=np.int32), np.array(targets, dtype=np.int32)

    def fit(self, interactions: Interactions, show_progress: bool = False) -> "GRUSequenceModel":
        if interactions.sequences is None:
            raise ValueError("the GRU model needs ordered sequences (Interactions.from_events builds them)")
        self.n_items = interactions.matrix.shape[1]
        self._network = self._build(self.n_items)
        self._numpy_weights = None
        inputs, targets = self._windows([s for s in interactions.sequences if len(s) >= 2])
        if len(inputs):
            # Targets are shifted ids; the network predicts unshifted ids, so subtract one (pads become -1
            # and are given zero weight).
            weights = (targets > 0).astype(np.float32)
            self._network.fit(inputs, np.maximum(targets - 1, 0), sample_weight=weights, epochs=self.epochs,
                              batch_size=self.batch_size, shuffle=True, verbose=1 if show_progress else 0)
        return self

    def _last_items(self, history: sp.csr_matrix, sequence: Optional[np.ndarray]) -> np.ndarray:
        if sequence is not None and len(sequence):
            return np.asarray(sequence, dtype=np.int64)[-self.max_length:]
        # Without an order, the history's items in descending weight stand in for one.
        order = np.argsort(history.data, kind="stable")
        return history.indices[order][-self.max_length:]

    def score(self, history: sp.csr_matrix, user: Optional[int] = None, sequence: Optional[np.ndarray] = None) -> np.ndarray:
        return self._score_one(self._last_items(history, sequence))

    def _score_one(self, items: np.ndarray) -> np.ndarray:
        """One sequence through the network in NumPy: the same arithmetic as Keras (GRU with
        ``reset_after``), without its per-call overhead of several milliseconds."""
        if len(items) == 0:
            return np.zeros(self.n_items, dtype=np.float32)
        embedding, kernel, recurrent, bias, dense_w, dense_b = self._weights
        h = np.zeros(recurrent.shape[0], dtype=np.float32)
        units = recurrent.shape[0]
        for item in items:
            x = embedding[int(item) + 1] @ kernel + bias[0]
            r_h = h @ recurrent + bias[1]
            z = 1.0 / (1.0 + np.exp(-(x[:units] + r_h[:units])))
            r = 1.0 / (1.0 + np.exp(-(x[units:2 * units] + r_h[units:2 * units])))
            candidate = np.tanh(x[2 * units:] + r * r_h[2 * units:])
            h = z * h + (1.0 - z) * candidate
        return h @ dense_w + dense_b

    @property
    def _weights(self):
        if getattr(self, "_numpy_weights", None) is None:
            self._numpy_weights = tuple(np.asarray(w, dtype=np.float32) for w in self._network.get_weights())
        return self._numpy_weights

    def score_batch(self, sequences: List[np.ndarray]) -> np.ndarray:
        """Next-item scores for many sequences at once (evaluation and batch jobs)."""
        batch = np.zeros((len(sequences), self.max_length), dtype=np.int32)
        for row, sequence in enumerate(sequences):
            tail = np.asarray(sequence, dtype=np.int32)[-self.max_length:] + 1
            if len(tail):
                batch[row, -len(tail):] = tail
        empty = ~batch.any(axis=1)
        logits = self._network(batch, training=False).numpy()[:, -1, :]
        logits[empty] = 0.0
        return logits

    def _arrays(self) -> Dict[str, np.ndarray]:
        return {f"weight_{i}": w for i, w in enumerate(self._network.get_weights())}

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        self._numpy_weights = None
        self._network = self._build(self.n_items)
        self._network.set_weights([arrays[f"weight_{i}"] for i in range(len(arrays))])
