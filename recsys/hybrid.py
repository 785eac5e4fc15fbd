"""The hybrid ranker: blend every model's scores, then constraints, diversity and reasons.

Each model's scores are standardised over the catalog (z-scores), so weights
compare like with like whatever a model's scale; the weights are learned on a
validation split (each shopper's last item held out, :mod:`recsys.ensemble`), not guessed. Hard
constraints come as a mask and are never relaxed here; a brand cap keeps one
brand from filling the whole list.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp

from recsys.models.base import RecommenderModel

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
            result[name] = standardise(model.score(history, user=user, sequence=sequence))
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
            name: standardise(self.models[name].score_batch(histories, users, sequences).astype(np.float32, copy=False))
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
            popular = standardise(self.models[COLD_START].score_batch(histories[np.flatnonzero(cold)]))
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
        boost: Optional[np.ndarray] = None,
    ) -> List[RankedItem]:
        """The best ``k`` allowed items, each with every model's weighted z-score.

        Only the candidates are scored (``score_items``), standardised with the
        catalog-wide moments each model reports, so the blend equals the one the
        weights were learned on while a query touches one category's rows.

        The catalog may have grown since a model was trained (products added while
        the shop runs): such a model sees only the history and sequence it knows and
        gives the products it does not know its mean (z = 0), so they are ranked by
        the models that do know them (content, popularity). ``boost`` (per catalog item, in z units
        of every weighted model at once, so it means the same whatever the weights sum to) is added
        to the blend; it shows as the ``boost`` contribution.
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
            components[name] = _known_scores(self.models[name], history, pool, user, sequence)
        if not components:
            return []
        if boost is not None and np.any(boost[pool]):
            components["boost"] = boost[pool].astype(np.float64)
            weights = {**weights, "boost": float(sum(weights.values()))}  # z units of every model at once
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


def within(n: int, history: sp.csr_matrix, sequence: Optional[np.ndarray]) -> Tuple[sp.csr_matrix, Optional[np.ndarray]]:
    """One shopper's history row and sequence as a model trained on the first ``n`` products sees them.

    Products added after training (positions ``>= n``) are dropped and the row gets the model's
    width; the usual case (nothing to drop, same width) costs a comparison.
    """
    if history.indices.size and history.indices.max() >= n:
        keep = history.indices < n
        history = sp.csr_matrix((history.data[keep], history.indices[keep], [0, int(keep.sum())]), shape=(1, n))
    elif history.shape[1] != n:
        history = sp.csr_matrix((history.data, history.indices, history.indptr), shape=(1, n))
    if sequence is not None and len(sequence) and np.max(sequence) >= n:
        sequence = np.asarray(sequence)[np.asarray(sequence) < n]
    return history, sequence


def _known_scores(model: RecommenderModel, history: sp.csr_matrix, pool: np.ndarray, user: Optional[int],
                  sequence: Optional[np.ndarray]) -> np.ndarray:
    """z-scores of ``pool`` by one model, restricted to the items it was trained on (0 for the others)."""
    history, sequence = within(model.n_items, history, sequence)
    known = pool < model.n_items
    z = np.zeros(pool.size, dtype=np.float64)
    if not known.any():
        return z
    values, mean, std = model.score_items(history, pool[known], user=user, sequence=sequence)
    if np.isfinite(std) and std >= 1e-12:
        z[known] = (values - mean) / std
    return z


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
