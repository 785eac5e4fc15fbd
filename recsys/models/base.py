"""The contract every model keeps, in the spirit of ``implicit``'s ``RecommenderBase``.

Models score items for a shopper described by a row of interactions, so the
same call serves a known shopper, a new one, and an anonymous session: a model
that knows the user index may use it, and must otherwise fold the history in.
"""
from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Dict, Optional, Sequence, Tuple, Type, TypeVar

import numpy as np
import scipy.sparse as sp

from recsys.events import Interactions

ModelT = TypeVar("ModelT", bound="RecommenderModel")


class ArtifactError(RuntimeError):
    """A saved model is missing, corrupt, or was trained for another catalog."""


def hyper_parameters(model: object) -> Dict[str, Any]:
    """A model's hyper-parameters, read from its ``__init__`` signature: each named argument's
    value, kept on the model under the same name. Stated once, in the signature; a subclass
    that passes ``**kwargs`` up adds its parent's arguments."""
    names: Dict[str, None] = {}
    for cls in type(model).__mro__:
        init = cls.__dict__.get("__init__")
        if init is None:
            continue
        parameters = list(inspect.signature(init).parameters.values())[1:]
        names.update((p.name, None) for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return {name: getattr(model, name) for name in names}


class RecommenderModel(ABC):
    """Fit on interactions; score, recommend, explain; save and load.

    Every model takes the same arguments everywhere: a history row (or block of
    rows), optionally the shopper's row in the trained factors (``user``), and
    optionally the order in which they touched items (``sequence``). A model
    uses what it can and ignores the rest, so callers never ask which kind they hold.
    A model implements :meth:`score` or :meth:`score_batch` (or both, when its batch
    path is faster than row by row); each defaults to the other.
    """

    name: ClassVar[str]
    #: The reason code a recommendation gets when this model speaks for it and names an anchor
    #: item (:meth:`explain`): collaborative models say "because you liked X".
    reason: ClassVar[str] = "because_you_liked"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        abstract = any(getattr(getattr(cls, name, None), "__isabstractmethod__", False) for name in dir(cls))
        if not abstract and cls.score is RecommenderModel.score and cls.score_batch is RecommenderModel.score_batch:
            raise TypeError(f"{cls.__name__} must implement score or score_batch")

    @abstractmethod
    def fit(self: ModelT, interactions: Interactions) -> ModelT:
        """Learn from a users x items matrix; returns self."""

    def score(self, history: sp.csr_matrix, user: Optional[int] = None, sequence: Optional[np.ndarray] = None) -> np.ndarray:
        """Scores of every item (shape ``(n_items,)``) for one shopper's history row."""
        users = None if user is None else np.array([user], dtype=np.int64)
        return np.asarray(self.score_batch(history, users, None if sequence is None else [sequence]))[0]

    def score_batch(
        self, histories: sp.csr_matrix, users: Optional[np.ndarray] = None, sequences: Optional[Sequence[np.ndarray]] = None
    ) -> np.ndarray:
        """Dense ``(n, n_items)`` scores for a block of shoppers (``users[i] = -1``: unknown shopper).

        The one batch entry point the evaluator and the hybrid use; row by row through
        :meth:`score` unless the model has a faster way.
        """
        n = histories.shape[0]
        rows = []
        for i in range(n):
            user = None if users is None or users[i] < 0 else int(users[i])
            sequence = None if sequences is None else sequences[i]
            rows.append(self.score(histories[i], user=user, sequence=sequence))
        return np.vstack(rows) if rows else np.empty((0, self.n_items))

    def params(self) -> Dict[str, Any]:
        """Hyper-parameters, recorded in the artefact's metadata (see :func:`hyper_parameters`)."""
        return hyper_parameters(self)

    @abstractmethod
    def _arrays(self) -> Dict[str, np.ndarray]:
        """Learned state as named arrays, for :meth:`save`."""

    @abstractmethod
    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        """Inverse of :meth:`_arrays`."""

    def score_items(
        self, history: sp.csr_matrix, items: np.ndarray, user: Optional[int] = None, sequence: Optional[np.ndarray] = None
    ) -> Tuple[np.ndarray, float, float]:
        """Scores of ``items`` only, with the mean and standard deviation of the *whole catalog's* scores.

        Serving ranks a few candidates (one category, a price range) but blends
        z-scores taken over the catalog, as the weights were learned. Linear
        models override this to touch only the candidates' rows (a 25k-item
        factor matrix read per query is memory-bound milliseconds) and get the
        catalog moments from precomputed :class:`LinearMoments`.
        """
        full = np.asarray(self.score(history, user=user, sequence=sequence), dtype=np.float64)
        return full[items], float(full.mean()), float(full.std())

    def similar_items(self, item: int, k: int = 10) -> Tuple[np.ndarray, np.ndarray]:
        """Items most like ``item`` by how shoppers treat them; the item itself is left out."""
        history = sp.csr_matrix((np.ones(1, dtype=np.float32), ([0], [item])), shape=(1, self.n_items))
        scores = self.score(history)
        scores[item] = -np.inf
        return top_k(scores, k)

    def explain(self, history: sp.csr_matrix, item: int, sequence: Optional[np.ndarray] = None) -> Optional[int]:
        """The history item that most supports recommending ``item``, or None if none does.

        Callers pass the history (and sequence) of ``item``'s category only, so an anchor
        is always of the same kind as the item it explains.
        """
        if history.indices.size == 0:
            return None
        contributions = np.asarray(self._contributions(history, item))
        best = int(np.argmax(contributions))
        return int(history.indices[best]) if contributions[best] > 0 else None

    def _contributions(self, history: sp.csr_matrix, item: int) -> np.ndarray:
        """How much each history item (in ``history.indices`` order) supports ``item``.

        Generic and slow: one full scoring per history item. Models with a
        cheaper way (a similarity column, a dot product) override it.
        """
        contributions = []
        for candidate in history.indices:
            single = sp.csr_matrix((np.ones(1, dtype=np.float32), ([0], [candidate])), shape=(1, self.n_items))
            contributions.append(self.score(single)[item])
        return np.array(contributions)

    def recommend(
        self,
        history: sp.csr_matrix,
        k: int = 10,
        user: Optional[int] = None,
        allowed: Optional[np.ndarray] = None,
        exclude_seen: bool = True,
        sequence: Optional[np.ndarray] = None,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and scores among ``allowed`` items."""
        scores = np.asarray(self.score(history, user=user, sequence=sequence), dtype=np.float64).copy()
        if allowed is not None:
            scores[~allowed] = -np.inf
        if exclude_seen:
            scores[history.indices] = -np.inf
        return top_k(scores, k)

    # -- persistence -------------------------------------------------------
    n_items: int = 0

    def save(self, directory: Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.name}.npz"
        tmp = directory / f".{self.name}.npz.tmp"
        with open(tmp, "wb") as handle:
            np.savez(handle, n_items=np.array(self.n_items), **self._arrays())
        tmp.replace(path)  # atomic: a reader never sees half a file
        (directory / f"{self.name}.json").write_text(json.dumps(self.params(), sort_keys=True))
        return path

    @classmethod
    def load(cls: Type[ModelT], directory: Path) -> ModelT:
        directory = Path(directory)
        try:
            params = json.loads((directory / f"{cls.name}.json").read_text())
            with np.load(directory / f"{cls.name}.npz", allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except (OSError, ValueError, KeyError) as exc:
            raise ArtifactError(f"cannot load {cls.name} model from {directory}: {exc}") from exc
        model = cls(**params)
        model.n_items = int(arrays.pop("n_items"))
        try:
            model._restore(arrays)
        except KeyError as exc:
            raise ArtifactError(f"{cls.name} model in {directory} lacks array {exc}") from exc
        return model


class LinearMoments:
    """Mean and standard deviation over all rows of ``factors @ u``, in O(k^2) per vector ``u``.

    ``mean = mean_row . u`` and ``E[s^2] = u^T (F^T F / n) u``, so a model whose
    scores are ``F @ u`` can standardise scores it computed for a few items only.
    """

    def __init__(self, factors: np.ndarray) -> None:
        self.source = factors  # the array these moments describe; a refit replaces it
        wide = np.asarray(factors, dtype=np.float64)
        self.mean_row = wide.mean(axis=0)
        self.second = wide.T @ wide / max(len(wide), 1)

    def mean_std(self, vector: np.ndarray) -> Tuple[float, float]:
        vector = np.asarray(vector, dtype=np.float64)
        mean = float(self.mean_row @ vector)
        variance = float(vector @ self.second @ vector) - mean * mean
        return mean, float(np.sqrt(max(variance, 0.0)))

    @classmethod
    def of(cls, cached: Optional["LinearMoments"], factors: np.ndarray) -> "LinearMoments":
        """``cached`` while it still describes ``factors``, else new moments."""
        return cached if cached is not None and cached.source is factors else cls(factors)


def top_k(scores: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k best finite scores, best first."""
    finite = np.isfinite(scores)
    count = int(min(k, finite.sum()))
    if count <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    candidates = np.argpartition(-np.where(finite, scores, -np.inf), count - 1)[:count]
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    return order, scores[order]
