"""The pretrained weights and their tokenizer, read once per process."""
from __future__ import annotations

import functools

from daogou_nlu.e5.tokenizer import E5Tokenizer
from daogou_nlu.e5.weights import E5Weights, load_weights


@functools.lru_cache(maxsize=1)
def pretrained() -> tuple[E5Weights, E5Tokenizer]:
    """One copy of the pretrained weights per process (about 140 MB), shared by every model built on them."""
    weights = load_weights()
    return weights, E5Tokenizer(weights)
