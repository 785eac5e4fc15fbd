"""Alternating least squares from ``implicit``: the first collaborative model."""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from recsys.events import Interactions
from recsys.models.factorization import LatentFactorModel


class ALSModel(LatentFactorModel):
    """Implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008), fitted by ``implicit``.

    Interaction weights ``r`` become confidences ``alpha * r`` (``implicit``'s
    convention: unobserved items weigh 1, observed ones ``alpha * r``). A shopper the
    model has not seen (or one with clicks since training) is folded in by the
    same least-squares solve ALS uses for a user row. ``implicit``'s
    ``recalculate_user`` recomputes the items' Gram matrix ``Y^T Y`` on every call
    (a 25k-item catalog makes that milliseconds); it is cached here, so a fold-in
    costs one small ``factors x factors`` solve.
    """

    name = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        iterations: int = 15,
        alpha: float = 2.0,
        random_state: int = 0,
        use_cg: bool = True,
    ) -> None:
        self.factors = int(factors)
        self.regularization = float(regularization)
        self.iterations = int(iterations)
        self.alpha = float(alpha)
        self.random_state = int(random_state)
        #: ``implicit``'s solver: three conjugate-gradient steps per row and iteration (its default, fast),
        #: or an exact Cholesky solve (``False``), as MLlib's ALS solves: the Spark comparison uses both.
        self.use_cg = bool(use_cg)
        self.item_factors = np.zeros((0, self.factors), dtype=np.float32)
        self.user_factors = np.zeros((0, self.factors), dtype=np.float32)
        self._gram: Optional[np.ndarray] = None

    def fit(self, interactions: Interactions, show_progress: bool = False) -> "ALSModel":
        # implicit parallelises ALS itself; a BLAS thread pool underneath it only fights for the cores.
        with threadpool_limits(1, "blas"):  # implicit also checks the pool when it is constructed
            als = AlternatingLeastSquares(
                factors=self.factors, regularization=self.regularization, iterations=self.iterations,
                alpha=self.alpha, random_state=self.random_state, calculate_training_loss=False,
                use_cg=self.use_cg,
            )
            als.fit(interactions.matrix.tocsr().astype(np.float32), show_progress=show_progress)
        self._set_factors(np.asarray(als.user_factors), np.asarray(als.item_factors))
        return self

    def _set_factors(self, user_factors: np.ndarray, item_factors: np.ndarray) -> None:
        self.user_factors = np.ascontiguousarray(user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
        self.n_items = self.item_factors.shape[0]
        self._gram = self.item_factors.T.astype(np.float64) @ self.item_factors.astype(np.float64)

    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        """Solve ``(Y^T C Y + reg I) x = Y^T C p`` per row, with ``Y^T C Y = Y^T Y + Y_h^T (C_h - I) Y_h``."""
        histories = sp.csr_matrix(histories)
        vectors = np.zeros((histories.shape[0], self.factors), dtype=np.float32)
        identity = self.regularization * np.eye(self.factors)
        for row in range(histories.shape[0]):
            start, end = histories.indptr[row], histories.indptr[row + 1]
            if start == end:
                continue
            items = histories.indices[start:end]
            confidence = self.alpha * histories.data[start:end].astype(np.float64)
            seen = self.item_factors[items].astype(np.float64)
            system = self._gram + (seen.T * (confidence - 1.0)) @ seen + identity
            vectors[row] = np.linalg.solve(system, seen.T @ confidence)
        return vectors

    def _arrays(self) -> Dict[str, np.ndarray]:
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        self._set_factors(arrays["user_factors"], arrays["item_factors"])
