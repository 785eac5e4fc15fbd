"""Batched scoring: one dense ``(batch, n_items)`` block at a time.

Models may offer ``score_batch(histories, users=None)``; for those that do not,
rows are scored one by one through the contract's ``score``. Either way the
evaluator sees the same blocks and memory stays bounded by the batch size.
"""
from __future__ import annotations

from typing import Iterator, Tuple

import numpy as np
import scipy.sparse as sp

from recsys.models.base import RecommenderModel


def score_rows(model: RecommenderModel, histories: sp.csr_matrix, users: np.ndarray) -> np.ndarray:
    """Dense scores for a block of shoppers (``users[i] = -1`` marks a new shopper)."""
    batch = getattr(model, "score_batch", None)
    if callable(batch):
        return np.asarray(batch(histories, users))
    rows = [model.score(histories[i], user=int(users[i]) if users[i] >= 0 else None) for i in range(histories.shape[0])]
    return np.vstack(rows) if rows else np.empty((0, model.n_items))


def iter_score_blocks(
    model: RecommenderModel, histories: sp.csr_matrix, users: np.ndarray, batch_size: int = 1024
) -> Iterator[Tuple[slice, np.ndarray]]:
    """Yield ``(rows, scores)`` blocks covering every history row in order."""
    for start in range(0, histories.shape[0], batch_size):
        rows = slice(start, min(start + batch_size, histories.shape[0]))
        yield rows, score_rows(model, histories[rows], users[rows])
