"""A GRU over the last items a shopper touched, predicting the next one (GRU4Rec-style).

It is the one model that reads order: "viewed a phone, then a case" says
more than the unordered set. Trained sequence-to-sequence with a full softmax
over the catalog (cross-entropy, which beats the sampled BCE losses of the
original GRU4Rec/SASRec papers on sparse shop data), it serves any new session
from its item sequence without retraining.

Cost on two CPU cores is dominated by the output layer (positions x catalog),
so the network computes it only at real, non-padded positions, batches
sequences of similar length together (little padding to run the GRU over) and
ties the output to the input embeddings (one item table, half the parameters).
Early stopping watches next-item NDCG@10 on the last item of a few training
shoppers, held out inside :meth:`fit`. TensorFlow is imported only when this
model is used, so the rest of the library stays light.
"""
from __future__ import annotations

import logging
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from recsys.events import Interactions
from recsys.models.base import LinearMoments, RecommenderModel

logger = logging.getLogger(__name__)


def _tf():
    import tensorflow as tf

    return tf


def _left_pad(sequences: Sequence[np.ndarray], length: int) -> np.ndarray:
    """Shifted ids (0 = padding), each row right-aligned; rows longer than ``length`` keep their tail."""
    width = max([min(len(s), length) for s in sequences] + [1])
    batch = np.zeros((len(sequences), width), dtype=np.int32)
    for row, sequence in enumerate(sequences):
        tail = np.asarray(sequence, dtype=np.int64)[-length:] + 1
        if len(tail):
            batch[row, width - len(tail):] = tail
    return batch


class GRUSequenceModel(RecommenderModel):
    """Tied item embedding -> GRU -> dot product with every item's embedding, plus a per-item bias.

    Item ids are shifted by one inside the network so that 0 can pad.
    """

    name = "gru"
    reason = "next_after"

    def __init__(
        self,
        embedding_dim: int = 64,
        hidden_units: int = 64,
        max_length: int = 50,
        epochs: int = 20,
        batch_size: int = 256,
        learning_rate: float = 0.008,
        dropout: float = 0.3,
        validation_users: int = 2000,
        patience: int = 3,
        sampled_negatives: int = 2048,
        threads: int = 2,
        random_state: int = 0,
    ) -> None:
        self.embedding_dim = int(embedding_dim)
        self.hidden_units = int(hidden_units)
        self.max_length = int(max_length)
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.dropout = float(dropout)
        self.validation_users = int(validation_users)
        self.patience = int(patience)
        self.sampled_negatives = int(sampled_negatives)
        self.threads = int(threads)
        self.random_state = int(random_state)
        self._encoder = None
        self._bias = None
        self._numpy_weights: Optional[Tuple[np.ndarray, ...]] = None
        #: Per epoch: training loss and validation NDCG@10 (what early stopping saw).
        self.history_: List[Dict[str, float]] = []

    # -- the network ---------------------------------------------------------------------------
    def _build(self, n_items: int) -> None:
        tf = _tf()
        try:
            tf.config.threading.set_intra_op_parallelism_threads(self.threads)
            tf.config.threading.set_inter_op_parallelism_threads(self.threads)
        except RuntimeError:  # already initialised by an earlier model in this process
            pass
        tf.keras.utils.set_random_seed(self.random_state)
        inputs = tf.keras.Input(shape=(None,), dtype="int32")
        x = tf.keras.layers.Embedding(n_items + 1, self.embedding_dim, mask_zero=True, name="items",
                                      embeddings_initializer=tf.keras.initializers.RandomNormal(stddev=0.05))(inputs)
        x = tf.keras.layers.Dropout(self.dropout)(x)
        x = tf.keras.layers.GRU(self.hidden_units, return_sequences=True)(x)
        x = tf.keras.layers.Dropout(self.dropout)(x)
        if self.hidden_units != self.embedding_dim:
            x = tf.keras.layers.Dense(self.embedding_dim, use_bias=False, name="project")(x)
        self._encoder = tf.keras.Model(inputs, x)
        self._bias = tf.Variable(tf.zeros([n_items]), name="item_bias")

    def _item_table(self):
        """Output embeddings: the input table without the padding row."""
        return self._encoder.get_layer("items").embeddings[1:]

    def _train_step(self):
        tf = _tf()
        encoder, bias = self._encoder, self._bias
        variables = encoder.trainable_variables + [bias]
        optimizer = tf.keras.optimizers.Adam(self.learning_rate)

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32)])
        def step(inputs, targets):
            with tf.GradientTape() as tape:
                states = encoder(inputs, training=True)
                real = targets > 0  # the output layer runs at real positions only
                hidden = tf.boolean_mask(states, real)
                labels = tf.boolean_mask(targets, real) - 1
                loss = tf.reduce_mean(self._loss(hidden, labels))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        return step

    def _loss(self, hidden, labels):
        """Softmax cross-entropy of the next item: over the whole catalog, or (``sampled_negatives``
        > 0) over the target plus that many items drawn uniformly per batch, with the sampling
        correction and accidental hits removed -- about ten times cheaper on a catalog of 24k
        items and close to the full loss, since uniform draws are what it approximates."""
        tf = _tf()
        n_items = self.n_items
        if self.sampled_negatives <= 0 or self.sampled_negatives >= n_items:
            logits = tf.matmul(hidden, self._item_table(), transpose_b=True) + self._bias
            return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        true_classes = tf.cast(labels[:, tf.newaxis], tf.int64)
        sampled = tf.random.uniform_candidate_sampler(true_classes, 1, self.sampled_negatives, unique=True, range_max=n_items)
        return tf.nn.sampled_softmax_loss(
            weights=self._item_table(), biases=self._bias, labels=true_classes, inputs=hidden,
            num_sampled=self.sampled_negatives, num_classes=n_items, sampled_values=sampled,
            remove_accidental_hits=True,
        )

    def _windows(self, sequences: Sequence[np.ndarray]) -> List[np.ndarray]:
        """Shifted-id chunks of at most ``max_length + 1`` items; long sequences give several."""
        chunks = []
        for sequence in sequences:
            shifted = np.asarray(sequence, dtype=np.int32) + 1
            for end in range(len(shifted), 1, -self.max_length):
                chunks.append(shifted[max(0, end - self.max_length - 1):end])
        return chunks

    def _batches(self, chunks: List[np.ndarray], rng: np.random.Generator):
        """Batches of similar length (little padding), in random order; inputs and next-item targets."""
        order = np.argsort([len(c) + rng.random() for c in chunks], kind="stable")
        starts = list(range(0, len(order), self.batch_size))
        rng.shuffle(starts)
        for start in starts:
            rows = [chunks[i] for i in order[start:start + self.batch_size]]
            width = max(len(r) for r in rows) - 1
            inputs = np.zeros((len(rows), width), dtype=np.int32)
            targets = np.zeros((len(rows), width), dtype=np.int32)
            for row, chunk in enumerate(rows):
                inputs[row, width - len(chunk) + 1:] = chunk[:-1]
                targets[row, width - len(chunk) + 1:] = chunk[1:]
            yield inputs, targets

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, interactions: Interactions, show_progress: bool = False) -> "GRUSequenceModel":
        if interactions.sequences is None:
            raise ValueError("the GRU model needs ordered sequences (Interactions.from_events builds them)")
        self.n_items = interactions.matrix.shape[1]
        self._build(self.n_items)
        self._numpy_weights = None
        self.history_ = []
        rng = np.random.default_rng(self.random_state)
        sequences = [np.asarray(s, dtype=np.int64) for s in interactions.sequences if len(s) >= 2]
        train, held_out = self._hold_out(sequences, rng)
        chunks = self._windows(train)
        if not chunks:
            return self
        step = self._train_step()
        best, best_weights, stale = -1.0, None, 0
        for epoch in range(self.epochs):
            started = time.perf_counter()
            losses = [float(step(x, y)) for x, y in self._batches(chunks, rng)]
            self._numpy_weights = None
            quality = self._validation_ndcg(held_out) if held_out else float("nan")
            self.history_.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "validation_ndcg@10": quality,
                                  "seconds": time.perf_counter() - started})
            logger.info("%s epoch %d: loss %.4f, validation NDCG@10 %.4f, %.1fs", self.name, epoch + 1, np.mean(losses), quality,
                        time.perf_counter() - started)
            if not held_out:
                continue
            if quality >= best:  # a plateau keeps training; only a drop counts as stale
                best, best_weights, stale = quality, self._get_weights(), 0
            else:
                stale += 1
                if stale >= self.patience:
                    break
        if best_weights is not None:
            self._set_weights(best_weights)
        return self

    def _hold_out(self, sequences: List[np.ndarray], rng: np.random.Generator) -> Tuple[List[np.ndarray], List[Tuple[np.ndarray, int]]]:
        """Training sequences, and (prefix, last item) of a few shoppers for early stopping.

        The held-out last items are never trained on; with a few thousand shoppers out of
        tens of thousands that costs little and keeps the stopping epoch honest.
        """
        eligible = [i for i, s in enumerate(sequences) if len(s) >= 3]
        count = min(self.validation_users, len(eligible) // 5)
        if count <= 0:
            return sequences, []
        chosen = set(rng.choice(eligible, size=count, replace=False).tolist())
        train = [s[:-1] if i in chosen else s for i, s in enumerate(sequences)]
        held_out = [(sequences[i][:-1], int(sequences[i][-1])) for i in sorted(chosen)]
        return train, held_out

    def _validation_ndcg(self, held_out: List[Tuple[np.ndarray, int]], k: int = 10) -> float:
        """Full-ranking NDCG@k of the held-out next items, seen items excluded, ties counted half."""
        gains = []
        for start in range(0, len(held_out), 1024):
            block = held_out[start:start + 1024]
            scores = self._logits([p for p, _ in block])
            for row, (prefix, target) in enumerate(block):
                target_score = scores[row, target]
                scores[row, prefix] = -np.inf
                scores[row, target] = -np.inf
                rank = np.count_nonzero(scores[row] > target_score) + 0.5 * np.count_nonzero(scores[row] == target_score)
                gains.append(1.0 / np.log2(rank + 2.0) if rank < k else 0.0)
        return float(np.mean(gains))

    def _get_weights(self) -> List[np.ndarray]:
        if self._encoder is None:  # loaded, and scored in NumPy only so far
            return list(self._numpy_weights)
        return [np.asarray(w) for w in self._encoder.get_weights()] + [self._bias.numpy()]

    def _set_weights(self, weights: List[np.ndarray]) -> None:
        self._encoder.set_weights(weights[:-1])
        self._bias.assign(weights[-1])
        self._numpy_weights = None

    # -- scoring ---------------------------------------------------------------------------------
    def _last_items(self, history: sp.csr_matrix, sequence: Optional[np.ndarray]) -> np.ndarray:
        if sequence is not None and len(sequence):
            return np.asarray(sequence, dtype=np.int64)[-self.max_length:]
        # Without an order, the history's items in ascending weight stand in for one (strongest last).
        order = np.argsort(history.data, kind="stable")
        return history.indices[order][-self.max_length:]

    def score(self, history: sp.csr_matrix, user: Optional[int] = None, sequence: Optional[np.ndarray] = None) -> np.ndarray:
        return self._score_one(self._last_items(history, sequence))

    def _score_one(self, items: np.ndarray) -> np.ndarray:
        if len(items) == 0:
            return np.zeros(self.n_items, dtype=np.float32)
        embedding, item_bias = self._weights[0], self._weights[-1]
        return embedding[1:] @ self._state(items) + item_bias

    def score_items(self, history: sp.csr_matrix, items: np.ndarray, user: Optional[int] = None,
                    sequence: Optional[np.ndarray] = None) -> Tuple[np.ndarray, float, float]:
        """Logits of ``items`` only: ``[E | b] @ [h, 1]``, with the catalog's moments of that product."""
        last = self._last_items(history, sequence)
        if len(last) == 0:
            return np.zeros(len(items)), 0.0, 0.0
        head = self._output_head()
        self._moments = LinearMoments.of(self._moments, head)
        state = np.append(self._state(last), np.float32(1.0))
        mean, std = self._moments.mean_std(state)
        return (head[items] @ state).astype(np.float64), mean, std

    _moments: Optional[LinearMoments] = None

    def _output_head(self) -> np.ndarray:
        """The output layer as one ``(n_items, units + 1)`` matrix: tied item embeddings and the item bias."""
        if getattr(self, "_head_of", None) is not self._weights:
            embedding, item_bias = self._weights[0], self._weights[-1]
            self._head_of, self._head = self._weights, np.hstack([embedding[1:], item_bias[:, None]]).astype(np.float32)
        return self._head

    def _state(self, items: np.ndarray) -> np.ndarray:
        """The GRU's last hidden state (projected to the embedding size) in NumPy: the same
        arithmetic as Keras (GRU with ``reset_after``), without its per-call overhead of milliseconds.

        Serving pays for this on every request, so the inputs of all steps are projected in one product
        and each step does only what depends on the previous state (the recurrent product and the gates)."""
        embedding, kernel, recurrent, bias, *project, item_bias = self._weights
        units = recurrent.shape[0]
        inputs = embedding[np.asarray(items, dtype=np.int64) + 1] @ kernel + bias[0]
        inputs[:, :2 * units] += bias[1][:2 * units]  # the update and reset gates add both biases outright
        recurrent_bias = bias[1][2 * units:]  # the candidate's is gated by the reset gate (reset_after)
        h = np.zeros(units, dtype=np.float32)
        for x in inputs:
            r_h = h @ recurrent
            gates = expit(x[:2 * units] + r_h[:2 * units])
            candidate = np.tanh(x[2 * units:] + gates[units:] * (r_h[2 * units:] + recurrent_bias))
            h = candidate + gates[:units] * (h - candidate)
        if project:
            h = h @ project[0]
        return h

    @property
    def _weights(self) -> Tuple[np.ndarray, ...]:
        if self._numpy_weights is None:
            self._numpy_weights = tuple(np.asarray(w, dtype=np.float32) for w in self._get_weights())
        return self._numpy_weights

    def _logits(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Next-item scores for many sequences through Keras (empty ones score 0 everywhere)."""
        batch = _left_pad(sequences, self.max_length)
        states = self._network()(batch, training=False).numpy()[:, -1, :]
        embedding, item_bias = self._weights[0], self._weights[-1]
        logits = states @ embedding[1:].T + item_bias
        logits[~batch.any(axis=1)] = 0.0
        return logits

    def score_batch(
        self, histories: sp.csr_matrix, users: Optional[np.ndarray] = None, sequences: Optional[Sequence[np.ndarray]] = None
    ) -> np.ndarray:
        """Next-item scores for a block of shoppers; without ``sequences`` the history rows stand in."""
        rows = [
            self._last_items(histories[i], None if sequences is None else sequences[i]) for i in range(histories.shape[0])
        ]
        return self._logits(rows)

    def explain(self, history: sp.csr_matrix, item: int, sequence: Optional[np.ndarray] = None) -> Optional[int]:
        """The latest item the shopper touched: what the next item follows ("after X")."""
        return int(sequence[-1]) if sequence is not None and len(sequence) else None

    # -- persistence -------------------------------------------------------------------------------
    def _arrays(self) -> Dict[str, np.ndarray]:
        return {f"weight_{i}": w for i, w in enumerate(self._get_weights())}

    #: Whether one shopper's scores come from NumPy (`_state`), so that loading need not build Keras.
    scores_in_numpy = True

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        # Building the Keras GRU takes about a second (it traces its gradient functions), and serving
        # one shopper never needs it: the weights are kept as arrays, and `_network` builds it for
        # batch scoring.
        self._encoder, self._bias = None, None
        self._numpy_weights = tuple(np.asarray(arrays[f"weight_{i}"], dtype=np.float32) for i in range(len(arrays)))
        if not self.scores_in_numpy:
            self._network()

    def _network(self):
        """The Keras encoder, built from the loaded weights the first time something needs it."""
        if self._encoder is None:
            weights = list(self._numpy_weights)
            self._build(self.n_items)
            self._set_weights(weights)
        return self._encoder
