"""The hybrid ranker: blend every model's scores, then constraints, diversity and reasons.

Each model's scores are standardised over the catalog (z-scores), so weights
compare like with like whatever a model's scale; the weights are learned on a
validation split (each shopper's last item held out), not guessed. Hard
constraints come as a mask and are never relaxed here; a brand cap keeps one
brand from filling the whole list.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from recsys.evaluation.metrics import discount, tie_aware_ranks
from recsys.events import Interactions
from recsys.models.base import RecommenderModel

logger = logging.getLogger(__name__)

WEIGHT_GRID: Tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class RankedItem:
    item: int
    score: float
    #: Each model's weighted share of the blended score: which one speaks for the item.
    contributions: Mapping[str, float]


COLD_START = "popularity"


@dataclass
class HybridRanker:
    """Blends standardised model scores. ``popularity`` must be among the models: it alone
    answers a shopper with no history, whatever weight validation gave it for the others."""

    models: Mapping[str, RecommenderModel]
    weights: Dict[str, float]

    def __post_init__(self) -> None:
        if COLD_START not in self.models:
            raise ValueError(f"the hybrid needs a {COLD_START!r} model for shoppers without history")

    def component_scores(self, history: sp.csr_matrix, user: Optional[int], sequence: Optional[np.ndarray]) -> Dict[str, np.ndarray]:
        """Standardised scores of every weighted model, or popularity alone for an empty history."""
        if history.nnz == 0 and (sequence is None or len(sequence) == 0):
            return {COLD_START: standardise(self.models[COLD_START].score(history))}
        result = {}
        for name, model in self.models.items():
            if self.weights.get(name, 0.0) == 0.0:
                continue
            extra = {"sequence": sequence} if model.uses_sequence else {}
            result[name] = standardise(model.score(history, user=user, **extra))
        return result

    def weights_for(self, components: Mapping[str, np.ndarray]) -> Dict[str, float]:
        if set(components) == {COLD_START}:
            return {COLD_START: 1.0}
        return {name: self.weights[name] for name in components}

    def blend(self, components: Mapping[str, np.ndarray]) -> np.ndarray:
        weights = self.weights_for(components)
        total = np.zeros(next(iter(components.values())).shape, dtype=np.float64)
        for name, z in components.items():
            total += weights[name] * z
        return total

    def rank(
        self,
        history: sp.csr_matrix,
        allowed: np.ndarray,
        k: int,
        user: Optional[int] = None,
        sequence: Optional[np.ndarray] = None,
        exclude_seen: bool = True,
        brands: Optional[np.ndarray] = None,
        max_per_brand: Optional[int] = None,
    ) -> List[RankedItem]:
        components = self.component_scores(history, user, sequence)
        if not components:
            return []
        blended = self.blend(components)
        candidates = allowed.copy()
        if exclude_seen:
            candidates[history.indices] = False
        pool = np.flatnonzero(candidates)
        if pool.size == 0:
            return []
        # Enough candidates that the brand cap can still fill k slots.
        depth = min(pool.size, k * 10)
        top = pool[np.argpartition(-blended[pool], depth - 1)[:depth]]
        top = top[np.argsort(-blended[top], kind="stable")]
        chosen = diversify(top, k, brands, max_per_brand)
        weights = self.weights_for(components)
        return [
            RankedItem(int(i), float(blended[i]), {name: float(weights[name] * z[i]) for name, z in components.items()})
            for i in chosen
        ]


def standardise(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    spread = scores.std()
    if not np.isfinite(spread) or spread < 1e-12:
        return np.zeros_like(scores)
    return (scores - scores.mean()) / spread


def diversify(ranked: np.ndarray, k: int, brands: Optional[np.ndarray], max_per_brand: Optional[int]) -> List[int]:
    """Best-first, at most ``max_per_brand`` per brand; if that leaves slots empty, the best of the rest."""
    if brands is None or not max_per_brand:
        return [int(i) for i in ranked[:k]]
    chosen: List[int] = []
    skipped: List[int] = []
    counts: Dict[object, int] = {}
    for item in ranked:
        brand = brands[item]
        if counts.get(brand, 0) < max_per_brand:
            chosen.append(int(item))
            counts[brand] = counts.get(brand, 0) + 1
            if len(chosen) == k:
                return chosen
        else:
            skipped.append(int(item))
    return chosen + skipped[: k - len(chosen)]


# -- learning the weights ------------------------------------------------------------------------
@dataclass
class ValidationCase:
    user: int
    history: sp.csr_matrix
    sequence: np.ndarray
    target: int


@dataclass
class ValidationSplit:
    train: Interactions
    cases: List[ValidationCase] = field(default_factory=list)


def hold_out_last_items(interactions: Interactions, max_cases: int = 2000, seed: int = 0) -> ValidationSplit:
    """Hide each shopper's last item (when they touched it only at the end) for validation."""
    if interactions.sequences is None:
        raise ValueError("hold_out_last_items needs interaction sequences")
    matrix = interactions.matrix.tolil(copy=True)
    sequences = list(interactions.sequences)
    eligible = [u for u, s in enumerate(sequences) if len(s) >= 3 and s[-1] not in set(s[:-1].tolist())]
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(eligible, size=min(max_cases, len(eligible)), replace=False)) if eligible else []
    for user in chosen:
        matrix[user, sequences[user][-1]] = 0
        sequences[user] = sequences[user][:-1]
    train_matrix = matrix.tocsr()
    train_matrix.eliminate_zeros()
    train = Interactions(matrix=train_matrix, user_ids=interactions.user_ids, item_ids=interactions.item_ids,
                         age_days=None, sequences=sequences, item_features=interactions.item_features)
    cases = [ValidationCase(int(u), train_matrix[u], sequences[u], int(interactions.sequences[u][-1])) for u in chosen]
    return ValidationSplit(train=train, cases=cases)


def tune_weights(
    models: Mapping[str, RecommenderModel],
    cases: Sequence[ValidationCase],
    grid: Sequence[float] = WEIGHT_GRID,
    rounds: int = 2,
    k: int = 10,
    show_progress: bool = False,
) -> Tuple[Dict[str, float], float]:
    """Coordinate ascent on validation NDCG@k (full ranking, ties counted half, seen items excluded)."""
    names = list(models)
    probe = HybridRanker(models, {name: 1.0 for name in names})
    n_items = cases[0].history.shape[1] if cases else 0
    z_scores: Dict[str, List[np.ndarray]] = {name: [] for name in names}
    for case in tqdm(cases, desc="scoring validation shoppers", disable=not show_progress):
        components = probe.component_scores(case.history, case.user, case.sequence)
        for name in names:
            z_scores[name].append(components.get(name, np.zeros(n_items)))
    stacked = {name: np.vstack(rows) for name, rows in z_scores.items()}
    targets = np.array([c.target for c in cases])
    seen_rows = np.concatenate([np.full(c.history.nnz, i) for i, c in enumerate(cases)]) if cases else np.empty(0, int)
    seen_cols = np.concatenate([c.history.indices for c in cases]) if cases else np.empty(0, int)

    def ndcg(weights: Mapping[str, float]) -> float:
        blended = sum(weights[name] * stacked[name] for name in names)
        target_scores = blended[np.arange(len(cases)), targets]
        blended[seen_rows, seen_cols] = -np.inf
        blended[np.arange(len(cases)), targets] = -np.inf  # the target does not compete with itself
        ranks = tie_aware_ranks(blended, target_scores)
        return float(np.mean(np.where(ranks < k, discount(ranks), 0.0)))

    weights = dict(probe.weights)
    best = ndcg(weights)
    for _ in range(rounds):
        for name in names:
            for value in grid:
                trial = {**weights, name: value}
                if not any(trial.values()):
                    continue
                score = ndcg(trial)
                if score > best + 1e-9:
                    best, weights = score, trial
    logger.info("hybrid weights %s: validation NDCG@%d %.4f", weights, k, best)
    return weights, best
