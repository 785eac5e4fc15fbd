"""Score a fitted model on an :class:`EvaluationSplit` and average the metrics.

Per block of shoppers: mask the history (except a held-out item that the
shopper had seen before, so a repeat purchase can still be found), rank each
held-out item against all unseen items (full ranking) and against its sampled
negatives (sampled protocol), keep the top-k lists for coverage.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

from recsys.evaluation import metrics
from recsys.evaluation.protocols import EvaluationSplit
from recsys.evaluation.scoring import iter_score_blocks
from recsys.models.base import RecommenderModel


@dataclass
class EvaluationResult:
    """Mean metrics over evaluated shoppers, plus timings; metric names are e.g. ``full_ndcg@10``."""

    model: str
    split: str
    metrics: Dict[str, float]
    n_evaluated: int
    fit_seconds: float = float("nan")
    score_seconds: float = float("nan")
    params: Dict[str, object] = field(default_factory=dict)
    protocol: str = ""


def _mask_history(scores: np.ndarray, histories: sp.csr_matrix, targets: sp.csr_matrix) -> None:
    """Set seen items to -inf in place, except those that are also targets."""
    seen = (histories != 0).astype(np.int8) - (histories != 0).multiply(targets != 0).astype(np.int8)
    seen = sp.coo_matrix(seen)
    keep = seen.data > 0
    scores[seen.row[keep], seen.col[keep]] = -np.inf


def _full_ranks(scores: np.ndarray, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    competitors = scores[rows]  # a copy: one row per held-out entry
    target_scores = competitors[np.arange(rows.size), items].copy()
    competitors[np.arange(rows.size), items] = -np.inf  # an item does not compete with itself
    return metrics.tie_aware_ranks(competitors, target_scores)


def _sampled_ranks(scores: np.ndarray, items: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    rows = np.arange(items.size)
    return metrics.tie_aware_ranks(scores[rows[:, np.newaxis], negatives], scores[rows, items])


def evaluate(
    model: RecommenderModel,
    split: EvaluationSplit,
    batch_size: int = 1024,
    progress: bool = True,
    description: Optional[str] = None,
) -> Dict[str, float]:
    """Mean per-shopper metrics of ``model`` (already fitted on ``split.train``).

    Full ranking: Hit/NDCG/Recall@k for each cutoff and catalog coverage@k.
    Sampled ranking (only when the split has negatives, i.e. one target per
    shopper): Hit/NDCG@k.
    """
    n = split.n_evaluated
    n_relevant = np.diff(split.targets.indptr)
    cutoffs = split.cutoffs
    full_ranks: List[np.ndarray] = []
    full_rows: List[np.ndarray] = []
    sampled_ranks: List[np.ndarray] = []
    top_lists: Dict[int, List[np.ndarray]] = {k: [] for k in cutoffs}
    blocks = iter_score_blocks(model, split.histories, split.users, batch_size, split.sequences)
    total = (n + batch_size - 1) // batch_size
    for rows, scores in tqdm(blocks, total=total, desc=description or model.name, disable=not progress, leave=False):
        scores = np.array(scores, copy=True)
        targets = split.targets[rows].tocoo()
        if split.negatives is not None:
            single = np.asarray(split.targets[rows].argmax(axis=1)).ravel()
            sampled_ranks.append(_sampled_ranks(scores, single, split.negatives[rows]))
        _mask_history(scores, split.histories[rows], split.targets[rows])
        full_ranks.append(_full_ranks(scores, targets.row, targets.col))
        full_rows.append(targets.row + rows.start)
        for k in cutoffs:
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            top_lists[k].append(np.where(np.isfinite(np.take_along_axis(scores, top, axis=1)), top, -1))
    ranks = np.concatenate(full_ranks)
    owners = np.concatenate(full_rows)
    result: Dict[str, float] = {}
    for k in cutoffs:
        result[f"full_hit@{k}"] = float(metrics.hit_rate_at_k(ranks, owners, n, k).mean())
        result[f"full_ndcg@{k}"] = float(metrics.ndcg_at_k(ranks, owners, n_relevant, k).mean())
        result[f"full_recall@{k}"] = float(metrics.recall_at_k(ranks, owners, n_relevant, k).mean())
        result[f"coverage@{k}"] = metrics.catalog_coverage(np.vstack(top_lists[k]), split.n_items)
        if split.negatives is not None:
            sampled = np.concatenate(sampled_ranks)
            single_owner = np.arange(n)
            result[f"sampled_hit@{k}"] = float(metrics.hit_rate_at_k(sampled, single_owner, n, k).mean())
            result[f"sampled_ndcg@{k}"] = float(metrics.ndcg_at_k(sampled, single_owner, np.ones(n, dtype=np.int64), k).mean())
    return result
