"""Popularity with recency decay: what a new shopper sees first."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import scipy.sparse as sp

from recsys.events import Interactions
from recsys.models.base import RecommenderModel


class PopularityModel(RecommenderModel):
    """Item score = sum over shoppers of event weight, each weighted by its age.

    Each shopper counts once per item (one obsessive browser does not make a
    hit), weighted by the age of their latest event with it: an interaction
    ``half_life_days`` old counts half as much as one from the log's last day,
    so new hits rise quickly and last season's fade.
    """

    name = "popularity"

    def __init__(self, half_life_days: float = 30.0) -> None:
        self.half_life_days = float(half_life_days)
        self.item_scores = np.zeros(0)

    def fit(self, interactions: Interactions) -> "PopularityModel":
        matrix = interactions.matrix
        self.n_items = matrix.shape[1]
        if interactions.age_days is None:
            self.item_scores = np.asarray((matrix > 0).sum(axis=0)).ravel().astype(np.float64)
            return self
        ages = interactions.age_days.tocoo()
        decay = np.power(0.5, (ages.data - 1.0) / self.half_life_days)  # stored ages are offset by one
        self.item_scores = np.bincount(ages.col, weights=decay, minlength=self.n_items)
        return self

    def score(self, history: sp.csr_matrix, user: Optional[int] = None, sequence: Optional[np.ndarray] = None) -> np.ndarray:
        return self.item_scores.copy()

    def score_items(self, history: sp.csr_matrix, items: np.ndarray, user: Optional[int] = None,
                    sequence: Optional[np.ndarray] = None) -> Tuple[np.ndarray, float, float]:
        if getattr(self, "_stats_of", None) is not self.item_scores:  # the scores are fixed between fits
            self._stats_of, self._stats = self.item_scores, (float(self.item_scores.mean()), float(self.item_scores.std()))
        return self.item_scores[items].astype(np.float64), *self._stats

    def similar_items(self, item: int, k: int = 10):
        raise NotImplementedError("popularity has no notion of similar items")

    def explain(self, history: sp.csr_matrix, item: int, sequence: Optional[np.ndarray] = None) -> Optional[int]:
        return None

    def _arrays(self) -> Dict[str, np.ndarray]:
        return {"item_scores": self.item_scores}

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        self.item_scores = arrays["item_scores"]
