"""Neighbourhood models: item-kNN and user-kNN over the interaction matrix.

They need no training beyond counting co-occurrences, fold any history in for
free (a score is a sum over the shopper's items or similar shoppers), and are
the baseline every learned model must beat. The sparse helpers here
(:class:`RowWeighting`, :func:`keep_top_per_row`, :func:`sparse_to_arrays`) are
shared with the factorisation models.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import numpy as np
import scipy.sparse as sp

from recsys.events import Interactions
from recsys.models.base import RecommenderModel

WEIGHTINGS = ("none", "bm25", "tfidf")


# -- sparse helpers --------------------------------------------------------------------------------
def sparse_to_arrays(prefix: str, matrix: sp.csr_matrix) -> Dict[str, np.ndarray]:
    """A CSR matrix as plain arrays, because ``.npz`` artefacts are loaded with ``allow_pickle=False``."""
    matrix = matrix.tocsr()
    return {
        f"{prefix}_data": matrix.data,
        f"{prefix}_indices": matrix.indices,
        f"{prefix}_indptr": matrix.indptr,
        f"{prefix}_shape": np.asarray(matrix.shape, dtype=np.int64),
    }


def sparse_from_arrays(prefix: str, arrays: Dict[str, np.ndarray]) -> sp.csr_matrix:
    """Inverse of :func:`sparse_to_arrays`."""
    shape = tuple(int(v) for v in arrays[f"{prefix}_shape"])
    return sp.csr_matrix((arrays[f"{prefix}_data"], arrays[f"{prefix}_indices"], arrays[f"{prefix}_indptr"]), shape=shape)


def keep_top_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest entries of each row (``k <= 0`` keeps all).

    Vectorised (one lexsort) rather than a Python loop over rows, so pruning a
    23k x 23k similarity matrix takes a fraction of a second.
    """
    matrix = matrix.tocsr()
    matrix.eliminate_zeros()
    if k <= 0 or matrix.nnz == 0:
        return matrix
    lengths = np.diff(matrix.indptr)
    if lengths.max() <= k:
        return matrix
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    order = np.lexsort((-matrix.data, rows))  # by row, then by descending value
    rank = np.arange(matrix.nnz) - matrix.indptr[rows[order]]
    keep = order[rank < k]
    return sp.csr_matrix((matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape)


def l2_normalize_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit length (empty rows stay empty), the step that turns dot products into cosines."""
    matrix = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    matrix.data /= np.repeat(norms, np.diff(matrix.indptr)).astype(np.float32)
    return matrix


@dataclass
class RowWeighting:
    """BM25 or TF-IDF weights for user rows, fitted once on the training matrix.

    Rows are documents and items are terms: popular items get a low IDF (everyone
    has them, so they say little about taste) and BM25 also damps heavy users.
    The statistics are kept so that a new shopper's history row is weighted
    exactly as a training row would be, which keeps fold-in consistent.
    """

    kind: str = "none"
    idf: Optional[np.ndarray] = None
    average_length: float = 1.0
    k1: float = 100.0
    b: float = 0.8

    @classmethod
    def fit(cls, matrix: sp.csr_matrix, kind: str, k1: float = 100.0, b: float = 0.8) -> "RowWeighting":
        if kind not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, not {kind!r}")
        matrix = matrix.tocsr()
        document_frequency = np.bincount(matrix.indices, minlength=matrix.shape[1])
        idf = (np.log(max(matrix.shape[0], 1)) - np.log1p(document_frequency)).astype(np.float32)
        row_sums = np.asarray(matrix.sum(axis=1)).ravel()
        average = float(row_sums.mean()) if row_sums.size and row_sums.mean() > 0 else 1.0
        return cls(kind=kind, idf=idf, average_length=average, k1=k1, b=b)

    def transform(self, rows: sp.csr_matrix) -> sp.csr_matrix:
        rows = sp.csr_matrix(rows, dtype=np.float32, copy=True)
        if self.kind == "none" or rows.nnz == 0:
            return rows
        idf = self.idf[rows.indices]
        if self.kind == "tfidf":
            rows.data = np.sqrt(rows.data) * idf
            return rows
        row_sums = np.asarray(rows.sum(axis=1)).ravel()
        length_norm = (1.0 - self.b) + self.b * row_sums / self.average_length
        per_entry = np.repeat(length_norm, np.diff(rows.indptr))
        rows.data = (rows.data * (self.k1 + 1.0) / (self.k1 * per_entry + rows.data) * idf).astype(np.float32)
        return rows

    def to_arrays(self) -> Dict[str, np.ndarray]:
        return {"weighting_idf": self.idf, "weighting_average_length": np.array(self.average_length)}

    @classmethod
    def from_arrays(cls, kind: str, arrays: Dict[str, np.ndarray], k1: float = 100.0, b: float = 0.8) -> "RowWeighting":
        return cls(kind=kind, idf=arrays["weighting_idf"], average_length=float(arrays["weighting_average_length"]), k1=k1, b=b)


def as_rows(history: sp.csr_matrix, n_items: int) -> sp.csr_matrix:
    """A history (one row or a batch) as float32 CSR with the catalog's width."""
    if not (sp.isspmatrix_csr(history) and history.dtype == np.float32):  # serving's rows already are: no copy
        history = sp.csr_matrix(history, dtype=np.float32)
    if history.shape[1] != n_items:
        raise ValueError(f"history has {history.shape[1]} items, model was trained on {n_items}")
    return history


# -- item-kNN --------------------------------------------------------------------------------------
class ItemKNNModel(RecommenderModel):
    """Item-item neighbours (Sarwar et al. 2001; Deshpande & Karypis 2004).

    ``S[i, j]`` is how strongly item ``i`` suggests item ``j``: the cosine of
    their co-occurrence columns, or the BM25-weighted co-occurrence (which
    discounts popular items and heavy users). Each row keeps its ``neighbours``
    strongest entries, so ``S`` stays sparse and a score ``history @ S`` sums,
    over the shopper's items, what each of them suggests. The diagonal is zero:
    an item does not suggest itself.
    """

    name = "item_knn"

    def __init__(self, neighbours: int = 100, similarity: str = "cosine", k1: float = 100.0, b: float = 0.8) -> None:
        if similarity not in ("cosine", "bm25"):
            raise ValueError(f"similarity must be 'cosine' or 'bm25', not {similarity!r}")
        self.neighbours = int(neighbours)
        self.similarity = similarity
        self.k1 = float(k1)
        self.b = float(b)
        self.matrix = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, interactions: Interactions) -> "ItemKNNModel":
        matrix = sp.csr_matrix(interactions.matrix, dtype=np.float32)
        self.n_items = matrix.shape[1]
        if self.similarity == "cosine":
            columns = l2_normalize_rows(matrix.T.tocsr())  # item rows of unit length
            similarity = columns @ columns.T
        else:
            weighted = RowWeighting.fit(matrix, "bm25", self.k1, self.b).transform(matrix)
            similarity = weighted.T.tocsr() @ weighted
        similarity = sp.csr_matrix(similarity, dtype=np.float32)
        similarity = (similarity - sp.diags(similarity.diagonal())).tocsr()  # an item does not suggest itself
        self.matrix = keep_top_per_row(similarity, self.neighbours)
        return self

    def score_batch(self, histories: sp.csr_matrix, users: Optional[np.ndarray] = None,
                    sequences: Optional[Sequence[np.ndarray]] = None) -> np.ndarray:
        """Dense ``(n, n_items)`` scores for a batch of history rows (``users`` is not needed)."""
        return np.asarray((as_rows(histories, self.n_items) @ self.matrix).todense())

    def score(self, history: sp.csr_matrix, user: Optional[int] = None, sequence: Optional[np.ndarray] = None) -> np.ndarray:
        """One shopper's scores: the similarity rows of their items, weighted and summed by column.

        The same sum as ``history @ S``, in NumPy: serving asks for one row per request, and SciPy's
        sparse product builds and checks two matrices to give it (a tenth of a request's time)."""
        history = as_rows(history, self.n_items)
        if history.shape[0] != 1:
            return super().score(history, user=user, sequence=sequence)
        starts = self.matrix.indptr[history.indices]
        lengths = self.matrix.indptr[history.indices + 1] - starts
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        positions = offsets + np.arange(int(lengths.sum()))
        weights = np.repeat(history.data, lengths) * self.matrix.data[positions]
        return np.bincount(self.matrix.indices[positions], weights=weights, minlength=self.n_items).astype(np.float32)

    def _contributions(self, history: sp.csr_matrix, item: int) -> np.ndarray:
        """Weight x similarity of each history item to ``item``: one column read."""
        return history.data * self.matrix[history.indices, item].toarray().ravel()

    def _arrays(self) -> Dict[str, np.ndarray]:
        return sparse_to_arrays("similarity", self.matrix)

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        self.matrix = sparse_from_arrays("similarity", arrays)


# -- user-kNN --------------------------------------------------------------------------------------
class UserKNNModel(RecommenderModel):
    """User-user neighbours (Herlocker et al. 1999), always folded in.

    The shopper's history is compared (cosine) with every training shopper;
    the ``neighbours`` most similar ones vote for their items, each vote weighted
    by similarity. The training matrix itself is the model, so ``user`` is not
    used: a known shopper and a new one with the same history get the same scores.
    """

    name = "user_knn"

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = int(neighbours)
        self.matrix = sp.csr_matrix((0, 0), dtype=np.float32)
        self._normalized = self.matrix

    def fit(self, interactions: Interactions) -> "UserKNNModel":
        self.matrix = sp.csr_matrix(interactions.matrix, dtype=np.float32)
        self.n_items = self.matrix.shape[1]
        self._normalized = l2_normalize_rows(self.matrix)
        return self

    def score_batch(self, histories: sp.csr_matrix, users: Optional[np.ndarray] = None,
                    sequences: Optional[Sequence[np.ndarray]] = None) -> np.ndarray:
        """Dense ``(n, n_items)`` scores: top-``neighbours`` similarity-weighted sum of neighbour rows."""
        queries = l2_normalize_rows(as_rows(histories, self.n_items))
        similarities = sp.csr_matrix(queries @ self._normalized.T, dtype=np.float32)
        weights = keep_top_per_row(similarities, self.neighbours)
        return np.asarray((weights @ self.matrix).todense())

    def _arrays(self) -> Dict[str, np.ndarray]:
        return sparse_to_arrays("users", self.matrix)

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        self.matrix = sparse_from_arrays("users", arrays)
        self._normalized = l2_normalize_rows(self.matrix)
