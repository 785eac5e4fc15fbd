"""Sentence vectors from the pretrained encoder's lower layers, for the linear intent model.

The top layer's vector (`daogou_nlu.sentence_encoder`) is what e5 was trained
to make alike for messages that mean alike, so it blurs the wording a dialogue
act hangs on ("why not" against "why"). The lower layers' mean-pooled states
keep more of it. A linear model cannot compute them from the top vector;
given the states after layers 4 and 8, the linear intent model alone missed
559 instead of 677 of 8,199 held-out examples, and the ensemble 383 (shares
0.3/0.45/0.25) where it missed 391 before (0.25/0.5/0.25); fixed 3-fold split,
docs/nlu_evaluation.md.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import tensorflow as tf

from daogou_nlu.e5.layers import EncoderLayers, length_sorted_batches, mean_pool, padded_batch
from daogou_nlu.e5.pretrained import pretrained

BATCH = 128


class LowerLayerVectors:
    """Mean-pooled token states after each of `layers` (1 = after the first layer), one unit vector each, side by side."""

    def __init__(self, layers: Sequence[int]) -> None:
        weights, self._tokenizer = pretrained()
        self.layers = tuple(sorted({int(layer) for layer in layers}))
        if not self.layers or not all(1 <= layer <= weights.layers for layer in self.layers):
            raise ValueError(f"layers must be one or more of 1..{weights.layers}, not {list(layers)}")
        self._weights = weights
        self.dim = weights.hidden * len(self.layers)
        cuts = (0, *self.layers)
        segments = [EncoderLayers(weights, first, last, dropout=0.0, with_embeddings=first == 0)
                    for first, last in zip(cuts, cuts[1:])]

        def pooled(x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
            vectors = []
            for segment in segments:
                x = segment(x, mask)
                vectors.append(tf.math.l2_normalize(mean_pool(x, mask), axis=1))
            return tf.concat(vectors, axis=1)

        signature = [tf.TensorSpec((None, None, weights.hidden), tf.float32), tf.TensorSpec((None, None), tf.float32)]
        self._pooled = tf.function(pooled, input_signature=signature)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """One row of `dim` numbers per text."""
        words = [self._weights.word_vectors(np.array(self._tokenizer.encode(t))) for t in texts]
        vectors = np.zeros((len(texts), self.dim), np.float64)
        for batch in length_sorted_batches([len(w) for w in words], BATCH):
            x, mask = padded_batch([words[i] for i in batch])
            vectors[batch] = self._pooled(tf.constant(x), tf.constant(mask)).numpy()
        return vectors
