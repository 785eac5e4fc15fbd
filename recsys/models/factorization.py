"""Latent-factor models beside ALS: BPR, PureSVD and NMF.

All three reduce to ``score = user_vector @ item_factors.T``; they differ in how
the factors are learned and how a history row becomes a user vector (fold-in).
:class:`LatentFactorModel` holds the shared scoring, batching, similar-items and
explanation code, so each model only says how it fits and folds in.
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import NMF, TruncatedSVD, non_negative_factorization
from threadpoolctl import threadpool_limits

from recsys.events import Interactions
from recsys.models.base import LinearMoments, RecommenderModel, top_k
from recsys.models.neighbours import RowWeighting, as_rows


def clamp_rank(requested: int, shape: Tuple[int, int], strict: bool) -> int:
    """A factor count the data supports: decompositions cannot have more factors than the
    smaller side of the matrix (TruncatedSVD wants strictly fewer), and the contract test
    fits every model with its defaults on a 16 x 10 toy matrix."""
    limit = min(shape) - (1 if strict else 0)
    return max(1, min(int(requested), limit))


class LatentFactorModel(RecommenderModel):
    """Scores are dot products of a user vector with item factors.

    Subclasses set ``item_factors`` (and ``user_factors`` when known shoppers
    have learned vectors) in ``fit`` and implement :meth:`fold_in`.
    """

    item_factors: np.ndarray
    user_factors: Optional[np.ndarray] = None

    @abstractmethod
    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        """User vectors ``(n, factors)`` for history rows the model did not train on."""

    def user_vectors(self, histories: sp.csr_matrix, users: Optional[np.ndarray] = None) -> np.ndarray:
        """Learned vectors for known users, folded-in vectors for everyone else."""
        histories = as_rows(histories, self.n_items)
        if users is None or self.user_factors is None:
            return self.fold_in(histories)
        users = np.asarray(users, dtype=np.int64)
        known = (users >= 0) & (users < self.user_factors.shape[0])
        vectors = np.empty((histories.shape[0], self.item_factors.shape[1]), dtype=np.float32)
        vectors[known] = self.user_factors[users[known]]
        if not known.all():  # fold in only those who need it: NMF's fold-in is an iterative solve
            vectors[~known] = self.fold_in(histories[np.flatnonzero(~known)])
        return vectors

    def score_batch(self, histories: sp.csr_matrix, users: Optional[np.ndarray] = None,
                    sequences: Optional[Sequence[np.ndarray]] = None) -> np.ndarray:
        """Dense ``(n, n_items)`` scores for a batch of shoppers (``users[i] = -1`` for unknown ones)."""
        return self.user_vectors(histories, users) @ self.item_factors.T

    _moments: Optional[LinearMoments] = None

    def score_items(self, history: sp.csr_matrix, items: np.ndarray, user: Optional[int] = None,
                    sequence: Optional[np.ndarray] = None) -> Tuple[np.ndarray, float, float]:
        vector = self.user_vectors(history, None if user is None else np.array([user]))[0]
        self._moments = LinearMoments.of(self._moments, self.item_factors)
        mean, std = self._moments.mean_std(vector)
        return (self.item_factors[items] @ vector.astype(self.item_factors.dtype)).astype(np.float64), mean, std

    @property
    def similarity_factors(self) -> np.ndarray:
        """Item vectors compared by :meth:`similar_items` and :meth:`explain`."""
        return self.item_factors

    def _cosines(self, items: np.ndarray, target: int) -> np.ndarray:
        factors = self.similarity_factors
        norms = np.linalg.norm(factors[items], axis=1) * np.linalg.norm(factors[target]) + 1e-9
        return (factors[items] @ factors[target]) / norms

    def similar_items(self, item: int, k: int = 10):
        scores = self._cosines(np.arange(self.n_items), item).astype(np.float64)
        scores[item] = -np.inf
        return top_k(scores, k)

    def _contributions(self, history: sp.csr_matrix, item: int) -> np.ndarray:
        """Cosine of each history item's factors with ``item``'s."""
        return self._cosines(history.indices, item)


class BPRModel(LatentFactorModel):
    """Bayesian personalised ranking (Rendle et al. 2009) from ``implicit``.

    ``implicit`` appends an item-bias column to the item factors and a constant 1
    to user factors. A new shopper is folded in by ridge regression of the 0/1
    history row on all item factors (bias column included, so its weight is
    learned too): one precomputed ``(factors+1) x n_items`` projection makes
    fold-in a sparse matrix product, cheap enough for every request. On Amazon
    Games a folded-in vector ranks the next item better than the shopper's own
    learned BPR vector (see benchmarks/README.md), so fold-in is no second best.
    """

    name = "bpr"

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        fold_in_regularization: float = 10.0,
        random_state: int = 0,
    ) -> None:
        self.factors = int(factors)
        self.learning_rate = float(learning_rate)
        self.regularization = float(regularization)
        self.iterations = int(iterations)
        self.fold_in_regularization = float(fold_in_regularization)
        self.random_state = int(random_state)
        self.item_factors = np.zeros((0, self.factors + 1), dtype=np.float32)
        self.user_factors = None
        self._projection = np.zeros((self.factors + 1, 0), dtype=np.float32)

    def fit(self, interactions: Interactions, show_progress: bool = False) -> "BPRModel":
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        matrix = sp.csr_matrix(interactions.matrix, dtype=np.float32)
        # implicit runs its own threads; a BLAS pool beneath them only fights for the cores (as in als.py).
        with threadpool_limits(1, "blas"):
            bpr = BayesianPersonalizedRanking(
                factors=self.factors,
                learning_rate=self.learning_rate,
                regularization=self.regularization,
                iterations=self.iterations,
                random_state=self.random_state,
            )
            bpr.fit(matrix, show_progress=show_progress)
        self.n_items = matrix.shape[1]
        self.item_factors = np.asarray(bpr.item_factors, dtype=np.float32)
        self.user_factors = np.asarray(bpr.user_factors, dtype=np.float32)
        self._projection = self._ridge_projection()
        return self

    def _ridge_projection(self) -> np.ndarray:
        """``(V^T V + lambda I)^-1 V^T``: maps a history row to its least-squares user vector."""
        factors = self.item_factors.astype(np.float64)
        gram = factors.T @ factors + self.fold_in_regularization * np.eye(factors.shape[1])
        return np.linalg.solve(gram, factors.T).astype(np.float32)

    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        binary = histories.copy()
        binary.data = np.ones_like(binary.data)
        return np.asarray(binary @ self._projection.T, dtype=np.float32)

    @property
    def similarity_factors(self) -> np.ndarray:
        return self.item_factors[:, :-1]  # the bias column says how popular, not what kind

    def _arrays(self) -> Dict[str, np.ndarray]:
        return {"item_factors": self.item_factors, "user_factors": self.user_factors}

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        self.item_factors = arrays["item_factors"]
        self.user_factors = arrays["user_factors"]
        self._projection = self._ridge_projection()


class SVDModel(LatentFactorModel):
    """PureSVD (Cremonesi et al. 2010): truncated SVD of the (weighted) user-item matrix.

    With right singular vectors ``V`` (factors x items), a shopper's scores are the
    projection of their history onto the item space, ``(h @ V.T) @ V``. That
    needs no user factors, so a known shopper and a new one with the same history
    get the same scores and fold-in is exact. The optional BM25/TF-IDF weighting
    is fitted on the training matrix and applied to every history the same way.
    """

    name = "svd"

    def __init__(self, factors: int = 64, weighting: str = "none", n_iter: int = 5, random_state: int = 0) -> None:
        self.factors = int(factors)
        self.weighting = weighting
        self.n_iter = int(n_iter)
        self.random_state = int(random_state)
        self.item_factors = np.zeros((0, self.factors), dtype=np.float32)
        self.user_factors = None
        self._weights = RowWeighting(kind=weighting)

    def fit(self, interactions: Interactions) -> "SVDModel":
        matrix = sp.csr_matrix(interactions.matrix, dtype=np.float32)
        self.n_items = matrix.shape[1]
        self._weights = RowWeighting.fit(matrix, self.weighting)
        svd = TruncatedSVD(
            n_components=clamp_rank(self.factors, matrix.shape, strict=True),
            n_iter=self.n_iter,
            random_state=self.random_state,
        )
        svd.fit(self._weights.transform(matrix))
        self.item_factors = np.ascontiguousarray(svd.components_.T, dtype=np.float32)  # items x factors
        return self

    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        return np.asarray(self._weights.transform(histories) @ self.item_factors, dtype=np.float32)

    def _arrays(self) -> Dict[str, np.ndarray]:
        return {"item_factors": self.item_factors, **self._weights.to_arrays()}

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        self.item_factors = arrays["item_factors"]
        self._weights = RowWeighting.from_arrays(self.weighting, arrays)


class NMFModel(LatentFactorModel):
    """Non-negative matrix factorisation (Lee & Seung 2001) from scikit-learn.

    Non-negative factors read as additive "tastes", which makes them easy to
    inspect. Known shoppers use their learned row of ``W``; a new history is
    folded in by solving for ``w >= 0`` with the item components fixed (what
    ``NMF.transform`` does, via the public ``non_negative_factorization``, so a
    loaded model needs no private sklearn state).
    """

    name = "nmf"

    def __init__(self, factors: int = 64, alpha: float = 0.0, l1_ratio: float = 0.0, max_iter: int = 200, random_state: int = 0) -> None:
        self.factors = int(factors)
        self.alpha = float(alpha)
        self.l1_ratio = float(l1_ratio)
        self.max_iter = int(max_iter)
        self.random_state = int(random_state)
        self.item_factors = np.zeros((0, self.factors), dtype=np.float32)
        self.user_factors = None

    def _options(self) -> Dict[str, Any]:
        return {"alpha_W": self.alpha, "alpha_H": "same", "l1_ratio": self.l1_ratio, "max_iter": self.max_iter, "solver": "cd", "beta_loss": "frobenius"}

    def fit(self, interactions: Interactions) -> "NMFModel":
        matrix = sp.csr_matrix(interactions.matrix, dtype=np.float32)
        self.n_items = matrix.shape[1]
        nmf = NMF(
            n_components=clamp_rank(self.factors, matrix.shape, strict=False),
            init="nndsvda",
            random_state=self.random_state,
            **self._options(),
        )
        self.user_factors = np.asarray(nmf.fit_transform(matrix), dtype=np.float32)
        self.item_factors = np.ascontiguousarray(nmf.components_.T, dtype=np.float32)
        return self

    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        if histories.nnz == 0:
            return np.zeros((histories.shape[0], self.item_factors.shape[1]), dtype=np.float32)
        components = np.ascontiguousarray(self.item_factors.T)
        vectors, _, _ = non_negative_factorization(
            histories,
            H=components,
            n_components=components.shape[0],
            update_H=False,
            random_state=self.random_state,
            **self._options(),
        )
        return np.asarray(vectors, dtype=np.float32)

    def _arrays(self) -> Dict[str, np.ndarray]:
        return {"item_factors": self.item_factors, "user_factors": self.user_factors}

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        self.item_factors = arrays["item_factors"]
        self.user_factors = arrays["user_factors"]
