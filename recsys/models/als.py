"""Alternating least squares from ``implicit``: the first collaborative model."""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from recsys.events import Interactions
from recsys.models.base import RecommenderModel, top_k


class ALSModel(RecommenderModel):
    """Implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008).

    Interaction weights are scaled by ``alpha`` into confidences. Shoppers the
    model has not seen are folded in from their history with one least-squares
    solve, so a new session gets personal scores without retraining.
    """

    name = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        iterations: int = 15,
        alpha: float = 2.0,
        random_state: int = 0,
    ) -> None:
        self.factors = int(factors)
        self.regularization = float(regularization)
        self.iterations = int(iterations)
        self.alpha = float(alpha)
        self.random_state = int(random_state)
        self._als = self._new_als()

    def _new_als(self) -> AlternatingLeastSquares:
        with threadpool_limits(1, "blas"):  # implicit checks the BLAS pool when it is constructed
            return self._construct_als()

    def _construct_als(self) -> AlternatingLeastSquares:
        return AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            iterations=self.iterations,
            alpha=self.alpha,
            random_state=self.random_state,
            calculate_training_loss=False,
        )

    def params(self) -> Dict[str, Any]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "iterations": self.iterations,
            "alpha": self.alpha,
            "random_state": self.random_state,
        }

    def fit(self, interactions: Interactions, show_progress: bool = False) -> "ALSModel":
        self._als = self._new_als()
        # implicit parallelises ALS itself; a BLAS thread pool underneath it only fights for the cores.
        with threadpool_limits(1, "blas"):
            self._als.fit(interactions.matrix.tocsr().astype(np.float32), show_progress=show_progress)
        self.n_items = interactions.matrix.shape[1]
        return self

    def user_vector(self, history: sp.csr_matrix, user: Optional[int] = None) -> np.ndarray:
        if user is not None and 0 <= user < self._als.user_factors.shape[0]:
            return self._als.user_factors[user]
        if history.nnz == 0:
            return np.zeros(self._als.item_factors.shape[1], dtype=np.float32)
        return np.asarray(self._als.recalculate_user(0, history.tocsr().astype(np.float32))).ravel()

    def score(self, history: sp.csr_matrix, user: Optional[int] = None) -> np.ndarray:
        return self._als.item_factors @ self.user_vector(history, user)

    def similar_items(self, item: int, k: int = 10):
        factors = self._als.item_factors
        norms = np.linalg.norm(factors, axis=1) + 1e-9
        scores = (factors @ factors[item]) / (norms * norms[item])
        scores[item] = -np.inf
        return top_k(scores, k)

    def explain(self, history: sp.csr_matrix, item: int) -> Optional[int]:
        """The history item whose factors are closest (cosine) to the recommended one."""
        seen = history.indices
        if seen.size == 0:
            return None
        factors = self._als.item_factors
        target = factors[item]
        sims = (factors[seen] @ target) / (np.linalg.norm(factors[seen], axis=1) * np.linalg.norm(target) + 1e-9)
        best = int(np.argmax(sims))
        return int(seen[best]) if sims[best] > 0 else None

    def _arrays(self) -> Dict[str, np.ndarray]:
        return {"user_factors": self._als.user_factors, "item_factors": self._als.item_factors}

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        self._als.user_factors = arrays["user_factors"]
        self._als.item_factors = arrays["item_factors"]
