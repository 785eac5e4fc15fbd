"""Ranking metrics as pure functions of tie-aware ranks.

Every metric here starts from the *rank* of a held-out item: the number of
competing items scored above it, plus **half** the number tied with it (the
datasets README's rule, equal to random tie-breaking in expectation). Without
the half-rule a model that scores most items 0 -- any neighbour model -- would
"win" every tie and look far better than it is.

Ranks are 0-based (0 = top of the list) and may be fractional. A user can have
several held-out items; per-entry arrays carry a ``rows`` array saying whose
entry each one is, and per-user metrics are then averaged by the caller.
"""
from __future__ import annotations

import numpy as np


def tie_aware_ranks(competitor_scores: np.ndarray, target_scores: np.ndarray) -> np.ndarray:
    """Rank of each target among its competitors: ``#higher + 0.5 * #tied``.

    ``competitor_scores`` is ``(m, c)``: row ``i`` holds the scores of the items
    target ``i`` competes with (never the target itself; use ``-inf`` for items
    that must not count, such as the shopper's history).
    """
    competitor_scores = np.asarray(competitor_scores)
    target = np.asarray(target_scores)[:, np.newaxis]
    higher = np.count_nonzero(competitor_scores > target, axis=1)
    tied = np.count_nonzero(competitor_scores == target, axis=1)
    return higher + 0.5 * tied


def _per_row_sum(values: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    return np.bincount(rows, weights=values.astype(np.float64), minlength=n_rows)


def discount(ranks: np.ndarray) -> np.ndarray:
    """DCG gain of an item at (possibly fractional) 0-based rank ``r``: ``1 / log2(r + 2)``."""
    return 1.0 / np.log2(np.asarray(ranks, dtype=np.float64) + 2.0)


def hit_rate_at_k(ranks: np.ndarray, rows: np.ndarray, n_rows: int, k: int) -> np.ndarray:
    """Per user: 1 if any held-out item ranks in the top ``k`` (rank < k), else 0."""
    return (_per_row_sum(np.asarray(ranks) < k, rows, n_rows) > 0).astype(np.float64)


def recall_at_k(ranks: np.ndarray, rows: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: held-out items in the top ``k`` divided by the number of held-out items.

    Plain recall (denominator ``|relevant|``, not ``min(k, |relevant|)``), so a
    user with 30 relevant items can reach at most 10/30 at k=10.
    """
    n_relevant = np.asarray(n_relevant, dtype=np.float64)
    return _per_row_sum(np.asarray(ranks) < k, rows, n_relevant.size) / np.maximum(n_relevant, 1.0)


def ndcg_at_k(ranks: np.ndarray, rows: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: binary-relevance NDCG@k, DCG over held-out items ranked < k divided by the
    ideal DCG of ``min(k, |relevant|)`` items at the top. With one held-out item this is
    ``1 / log2(rank + 2)`` if rank < k, the SASRec definition."""
    ranks = np.asarray(ranks, dtype=np.float64)
    n_relevant = np.asarray(n_relevant, dtype=np.int64)
    gains = np.where(ranks < k, discount(ranks), 0.0)
    dcg = _per_row_sum(gains, rows, n_relevant.size)
    ideal_gains = np.cumsum(discount(np.arange(k)))
    ideal = ideal_gains[np.clip(np.minimum(n_relevant, k) - 1, 0, k - 1)]
    return np.where(n_relevant > 0, dcg / ideal, 0.0)


def catalog_coverage(recommended: np.ndarray, n_items: int) -> float:
    """Share of the catalog that appears in at least one user's recommendation list.

    ``recommended`` is ``(n_users, k)`` item indices (negative values are padding).
    Low coverage means the model shows everyone the same few hits.
    """
    items = np.unique(np.asarray(recommended).ravel())
    items = items[items >= 0]
    return float(items.size) / float(n_items) if n_items else 0.0
