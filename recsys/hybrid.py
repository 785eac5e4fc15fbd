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

    def component_scores_batch(
        self,
        histories: sp.csr_matrix,
        users: Optional[np.ndarray] = None,
        sequences: Optional[Sequence[np.ndarray]] = None,
        names: Optional[Sequence[str]] = None,
    ) -> Dict[str, np.ndarray]:
        """Row-standardised ``(n, n_items)`` scores of each weighted model (or of ``names``) for a block
        of shoppers, through each model's batch path; rows are what :meth:`component_scores` gives."""
        chosen = [n for n in self.models if self.weights.get(n, 0.0) != 0.0] if names is None else list(names)
        return {
            name: standardise(self.models[name].score_many(histories, users, sequences).astype(np.float32, copy=False))
            for name in chosen
        }

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

    def blend_batch(
        self, histories: sp.csr_matrix, users: Optional[np.ndarray] = None, sequences: Optional[Sequence[np.ndarray]] = None
    ) -> np.ndarray:
        """Blended scores for a block of shoppers, row ``i`` equal to ``blend(component_scores(...))``
        for shopper ``i``: shoppers with no history at all get popularity alone."""
        components = self.component_scores_batch(histories, users, sequences)
        blended = self.blend(components) if components else np.zeros(histories.shape, dtype=np.float64)
        lengths = np.array([0 if sequences is None or sequences[i] is None else len(sequences[i]) for i in range(histories.shape[0])])
        cold = (np.diff(histories.indptr) == 0) & (lengths == 0)
        if cold.any():
            popular = standardise(self.models[COLD_START].score_many(histories[np.flatnonzero(cold)]))
            blended[cold] = popular
        return blended

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
        """The best ``k`` allowed items, each with every model's weighted z-score.

        Only the candidates are scored (``score_items``), standardised with the
        catalog-wide moments each model reports, so the blend equals the one the
        weights were learned on while a query touches one category's rows.
        """
        candidates = allowed.copy()
        if exclude_seen:
            candidates[history.indices] = False
        pool = np.flatnonzero(candidates)
        if pool.size == 0:
            return []
        cold = history.nnz == 0 and (sequence is None or len(sequence) == 0)
        weights = {COLD_START: 1.0} if cold else {n: w for n, w in self.weights.items() if w != 0.0 and n in self.models}
        components: Dict[str, np.ndarray] = {}
        for name in weights:
            model = self.models[name]
            values, mean, std = model.score_items(history, pool, user=user, sequence=sequence if model.uses_sequence else None)
            components[name] = (values - mean) / std if np.isfinite(std) and std >= 1e-12 else np.zeros(pool.size)
        if not components:
            return []
        blended = sum(weights[name] * z for name, z in components.items())
        # Enough candidates that the brand cap can still fill k slots.
        depth = min(pool.size, k * 10)
        top = np.argpartition(-blended, depth - 1)[:depth]
        top = top[np.argsort(-blended[top], kind="stable")]
        chosen = diversify(pool[top], k, brands, max_per_brand)
        position = {int(item): int(at) for at, item in zip(top, pool[top])}
        return [
            RankedItem(item, float(blended[position[item]]),
                       {name: float(weights[name] * z[position[item]]) for name, z in components.items()})
            for item in chosen
        ]


def standardise(scores: np.ndarray) -> np.ndarray:
    """z-scores over the catalog (per row for a 2-D block); a constant row becomes zeros."""
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    mean = scores.mean(axis=-1, keepdims=True)
    spread = scores.std(axis=-1, keepdims=True)
    flat = ~np.isfinite(spread) | (spread < 1e-12)
    z = (scores - mean) / np.where(flat, 1.0, spread)
    z = np.where(flat, 0.0, z).astype(scores.dtype, copy=False)
    return z


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


OBJECTIVES = ("full", "sampled", "mean")


def tune_weights(
    models: Mapping[str, RecommenderModel],
    cases: Sequence[ValidationCase],
    grid: Sequence[float] = WEIGHT_GRID,
    rounds: int = 2,
    k: int = 10,
    show_progress: bool = False,
    objective: str = "full",
    seed: int = 0,
    batch_size: int = 512,
) -> Tuple[Dict[str, float], float]:
    """Coordinate ascent on validation NDCG@k of the held-out items, ties counted half.

    ``objective``: ``"full"`` ranks each target against every item the shopper has not
    seen; ``"sampled"`` against 100 unseen items drawn uniformly (the SASRec protocol's
    yardstick, which rewards popular items more); ``"mean"`` averages the two. Every
    model is scored once, in blocks, through the same standardisation as serving.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, not {objective!r}")
    names = list(models)
    probe = HybridRanker(models, {name: 1.0 for name in names}) if COLD_START in models else None
    n_items = cases[0].history.shape[1] if cases else 0
    histories = sp.vstack([c.history for c in cases], format="csr") if cases else sp.csr_matrix((0, n_items))
    users = np.array([c.user for c in cases], dtype=np.int64)
    sequences = [c.sequence for c in cases]
    stacked: Dict[str, np.ndarray] = {name: np.empty((len(cases), n_items), dtype=np.float32) for name in names}
    for start in tqdm(range(0, len(cases), batch_size), desc="scoring validation shoppers", disable=not show_progress):
        rows = slice(start, start + batch_size)
        if probe is not None:
            block = probe.component_scores_batch(histories[rows], users[rows], sequences[rows], names=names)
        else:
            block = {name: standardise(models[name].score_many(histories[rows], users[rows], sequences[rows]).astype(np.float32))
                     for name in names}
        for name in names:
            stacked[name][rows] = block[name]
    targets = np.array([c.target for c in cases], dtype=np.int64)
    rows_all = np.arange(len(cases))
    seen_rows = np.repeat(rows_all, np.diff(histories.indptr))
    seen_cols = histories.indices
    negatives = None
    if objective != "full" and cases:
        from recsys.evaluation.protocols import sample_negatives

        negatives = sample_negatives([np.append(c.history.indices, c.target) for c in cases], n_items, seed=seed)

    def ndcg_of(ranks: np.ndarray) -> float:
        return float(np.mean(np.where(ranks < k, discount(ranks), 0.0)))

    def score(weights: Mapping[str, float]) -> float:
        blended = np.zeros((len(cases), n_items), dtype=np.float32)
        for name in names:
            if weights[name]:
                blended += np.float32(weights[name]) * stacked[name]
        target_scores = blended[rows_all, targets].copy()
        parts = []
        if negatives is not None:
            parts.append(ndcg_of(tie_aware_ranks(blended[rows_all[:, np.newaxis], negatives], target_scores)))
        if objective != "sampled":
            blended[seen_rows, seen_cols] = -np.inf
            blended[rows_all, targets] = -np.inf  # the target does not compete with itself
            parts.append(ndcg_of(tie_aware_ranks(blended, target_scores)))
        return float(np.mean(parts))

    weights = {name: 1.0 for name in names}
    best = score(weights)
    for _ in range(rounds):
        for name in names:
            for value in grid:
                trial = {**weights, name: value}
                if not any(trial.values()):
                    continue
                trial_score = score(trial)
                if trial_score > best + 1e-9:
                    best, weights = trial_score, trial
    logger.info("hybrid weights %s: validation %s NDCG@%d %.4f", weights, objective, k, best)
    return weights, best
