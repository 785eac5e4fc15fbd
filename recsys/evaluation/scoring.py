"""Batched scoring: one dense ``(batch, n_items)`` block at a time.

Every model answers ``score_batch(histories, users, sequences)`` (row by row
through ``score`` unless it has a faster way, see :class:`RecommenderModel`), so
the evaluator sees the same blocks and memory stays bounded by the batch size.
"""
from __future__ import annotations

from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp

from recsys.models.base import RecommenderModel


def score_rows(
    model: RecommenderModel, histories: sp.csr_matrix, users: np.ndarray, sequences: Optional[Sequence[np.ndarray]] = None
) -> np.ndarray:
    """Dense scores for a block of shoppers (``users[i] = -1`` marks a new shopper)."""
    return model.score_batch(histories, users, sequences)


def iter_score_blocks(
    model: RecommenderModel,
    histories: sp.csr_matrix,
    users: np.ndarray,
    batch_size: int = 1024,
    sequences: Optional[List[np.ndarray]] = None,
) -> Iterator[Tuple[slice, np.ndarray]]:
    """Yield ``(rows, scores)`` blocks covering every history row in order."""
    for start in range(0, histories.shape[0], batch_size):
        rows = slice(start, min(start + batch_size, histories.shape[0]))
        block = None if sequences is None else sequences[rows]
        yield rows, score_rows(model, histories[rows], users[rows], block)
