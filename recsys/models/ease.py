"""EASE: a shallow linear item-item autoencoder with a closed-form solution (Steck, WWW 2019).

``B = argmin ||X - XB||^2 + lambda ||B||^2`` subject to ``diag(B) = 0`` is
``B = I - P / diag(P)`` with ``P = (X^T X + lambda I)^-1``. It is dense
(n_items^2 floats) and costs one symmetric inverse: ~2 GB and a few minutes for
24k items, nothing for a shop catalog of a few thousand. It often beats far more
elaborate models on sparse implicit data, which is why it is here.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from recsys.events import Interactions
from recsys.models.base import RecommenderModel
from recsys.models.neighbours import as_rows


def symmetric_positive_inverse(gram: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive-definite float32 matrix, in place where LAPACK allows.

    Cholesky (``potrf`` + ``potri``) needs about a quarter of the flops of the
    LU-based ``np.linalg.inv`` and no identity matrix beside the input. Passing
    ``gram.T`` (Fortran-ordered view of a symmetric matrix) avoids a copy.
    """
    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (gram,))
    factor, info = potrf(gram.T, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"Gram matrix is not positive definite (potrf info={info})")
    inverse, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"cannot invert Gram matrix (potri info={info})")
    # potri fills the upper triangle (Fortran order) only; mirror it to the lower one.
    upper = np.triu(inverse)
    upper += np.triu(inverse, 1).T
    return upper


class EASEModel(RecommenderModel):
    """Item-item weights ``B`` with a zero diagonal; score = history @ B.

    The history is binarised before scoring and fitting (EASE is defined on 0/1
    data; summed event weights would let one obsessive shopper dominate the Gram
    matrix). Works for any history, so fold-in is free.
    """

    name = "ease"

    def __init__(self, regularization: float = 200.0, binarize: bool = True) -> None:
        self.regularization = float(regularization)
        self.binarize = bool(binarize)
        self.weights = np.zeros((0, 0), dtype=np.float32)

    def _prepare(self, rows: sp.csr_matrix) -> sp.csr_matrix:
        rows = sp.csr_matrix(rows, dtype=np.float32, copy=True)
        if self.binarize:
            rows.data = np.ones_like(rows.data)
        return rows

    def fit(self, interactions: Interactions) -> "EASEModel":
        matrix = self._prepare(interactions.matrix)
        self.n_items = matrix.shape[1]
        gram = np.asarray((matrix.T @ matrix).todense(), dtype=np.float32)
        gram[np.diag_indices_from(gram)] += self.regularization
        precision = symmetric_positive_inverse(gram)
        del gram
        diagonal = precision.diagonal().copy()
        precision /= -diagonal[np.newaxis, :]  # B = I - P / diag(P), column-wise
        precision[np.diag_indices_from(precision)] = 0.0
        self.weights = precision
        return self

    def score_batch(self, histories: sp.csr_matrix, users: Optional[np.ndarray] = None,
                    sequences: Optional[Sequence[np.ndarray]] = None) -> np.ndarray:
        """Dense ``(n, n_items)`` scores for a batch of history rows."""
        return np.asarray(self._prepare(as_rows(histories, self.n_items)) @ self.weights)

    def _arrays(self) -> Dict[str, np.ndarray]:
        return {"weights": self.weights}

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        self.weights = arrays["weights"]
