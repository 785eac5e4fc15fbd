"""The hybrid as one model: fit the members, learn their blend weights, score like any model.

The offline evaluator (and anything else that wants "the hybrid" behind the
:class:`RecommenderModel` contract) uses this; the blending itself is
:class:`recsys.hybrid.HybridRanker`'s, so what is measured is what serves.
Weights are learned on each shopper's last *training* item (a hold-out carved
from the data passed to :meth:`EnsembleModel.fit`), never on evaluation items.
"""
from __future__ import annotations

import inspect
import json
import logging
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import scipy.sparse as sp

from recsys.events import Interactions
from recsys.hybrid import COLD_START, OBJECTIVES, HybridRanker, hold_out_last_items, tune_weights
from recsys.models import MODEL_CLASSES
from recsys.models.base import ArtifactError, RecommenderModel

logger = logging.getLogger(__name__)

#: Hyper-parameters of each member when it sits in the ensemble (chosen on the validation stage).
MEMBER_PARAMS: Mapping[str, Mapping[str, Any]] = {
    "item_knn": {"neighbours": 0, "similarity": "bm25"},
    "svd": {"weighting": "tfidf"},
}
DEFAULT_MEMBERS = "sasrec+gru+item_knn+popularity"


def build_member(name: str, seed: int) -> RecommenderModel:
    """A fresh member with the ensemble's hyper-parameters (and the seed, where it takes one)."""
    if name not in MODEL_CLASSES:
        raise ValueError(f"unknown ensemble member {name!r}; known: {', '.join(sorted(MODEL_CLASSES))}")
    cls = MODEL_CLASSES[name]
    params = dict(MEMBER_PARAMS.get(name, {}))
    if "random_state" in inspect.signature(cls).parameters:
        params.setdefault("random_state", seed)
    return cls(**params)


class EnsembleModel(RecommenderModel):
    """Members (``+``-separated names) blended by a :class:`HybridRanker` with learned weights.

    ``refit=False`` keeps the members fitted for weight learning, which lack only the few
    thousand held-out items; ``refit=True`` fits them again on everything (twice the time).
    ``fit_seconds`` records the whole ensemble's fit, weight learning included.

    Defaults were chosen on the Amazon Games validation stage only: ``sasrec`` and ``gru``
    carry the order of a history, BM25 item-kNN the co-occurrence, popularity the prior.
    ``objective="sampled"`` tunes the weights for the SASRec protocol's sampled NDCG@10
    (validation: sampled Hit@10 0.746 vs 0.743 with ``"mean"``, at full NDCG@10 0.054
    vs 0.058); ``"full"`` or ``"mean"`` suit a shop that shows full rankings. Adding
    ``ease`` helps (validation 0.750 / full 0.059) but costs ~4 more minutes of fit.
    """

    name = "hybrid"
    uses_sequence = True

    def __init__(
        self,
        members: str = DEFAULT_MEMBERS,
        validation_users: int = 3000,
        objective: str = "sampled",
        refit: bool = False,
        random_state: int = 0,
    ) -> None:
        names = [m for m in str(members).split("+") if m]
        if COLD_START not in names:
            names.append(COLD_START)  # the ranker's answer for a shopper without history
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, not {objective!r}")
        self.members = "+".join(names)
        self.validation_users = int(validation_users)
        self.objective = objective
        self.refit = bool(refit)
        self.random_state = int(random_state)
        self.ranker: Optional[HybridRanker] = None
        self.validation_score = float("nan")
        self.fit_seconds: Dict[str, float] = {}

    @property
    def member_names(self) -> List[str]:
        return self.members.split("+")

    def params(self) -> Dict[str, Any]:
        return {"members": self.members, "validation_users": self.validation_users, "objective": self.objective,
                "refit": self.refit, "random_state": self.random_state}

    def fit(self, interactions: Interactions) -> "EnsembleModel":
        if interactions.sequences is None:
            raise ValueError("the hybrid learns its weights on each shopper's last item: it needs ordered sequences")
        self.n_items = interactions.matrix.shape[1]
        split = hold_out_last_items(interactions, max_cases=self.validation_users, seed=self.random_state)
        models = self._fit_members(split.train if split.cases else interactions)
        if split.cases:
            started = time.perf_counter()
            weights, self.validation_score = tune_weights(models, split.cases, objective=self.objective, seed=self.random_state)
            self.fit_seconds["weights"] = round(time.perf_counter() - started, 2)
        else:
            weights = {name: 1.0 for name in models}
        if self.refit and split.cases:
            models = self._fit_members(interactions)
        self.ranker = HybridRanker(models, weights)
        logger.info("hybrid %s: weights %s, validation %s NDCG@10 %.4f, seconds %s", self.members, weights,
                    self.objective, self.validation_score, self.fit_seconds)
        return self

    def _fit_members(self, interactions: Interactions) -> Dict[str, RecommenderModel]:
        models = {}
        for name in self.member_names:
            started = time.perf_counter()
            models[name] = build_member(name, self.random_state).fit(interactions)
            self.fit_seconds[name] = round(self.fit_seconds.get(name, 0.0) + time.perf_counter() - started, 2)
        return models

    def fit_details(self) -> Dict[str, Any]:
        """What the last fit learned and cost, for benchmark records: weights, validation score, seconds."""
        return {"weights": self.weights, "validation_ndcg@10": round(self.validation_score, 4),
                "member_seconds": dict(self.fit_seconds)}

    @property
    def weights(self) -> Dict[str, float]:
        return dict(self.ranker.weights) if self.ranker else {}

    def score(self, history: sp.csr_matrix, user: Optional[int] = None, sequence: Optional[np.ndarray] = None) -> np.ndarray:
        users = np.array([-1 if user is None else user])
        return self.score_batch(history, users, None if sequence is None else [sequence])[0]

    def score_batch(
        self, histories: sp.csr_matrix, users: Optional[np.ndarray] = None, sequences: Optional[Sequence[np.ndarray]] = None
    ) -> np.ndarray:
        """The ranker's blend for a block of shoppers: one code path with serving."""
        if self.ranker is None:
            raise RuntimeError("fit the hybrid before scoring")
        return self.ranker.blend_batch(histories, users, sequences)

    # -- persistence: each member in its own files, the weights beside them --------------------
    def _arrays(self) -> Dict[str, np.ndarray]:
        return {}

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        pass

    def save(self, directory: Path) -> Path:
        directory = Path(directory) / self.name
        for model in self.ranker.models.values():
            model.save(directory)
        path = directory / "weights.json"
        path.write_text(json.dumps({"params": self.params(), "weights": self.weights, "n_items": self.n_items}, sort_keys=True))
        return path

    @classmethod
    def load(cls, directory: Path) -> "EnsembleModel":
        directory = Path(directory) / cls.name
        try:
            saved = json.loads((directory / "weights.json").read_text())
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"cannot load the hybrid from {directory}: {exc}") from exc
        model = cls(**saved["params"])
        model.n_items = int(saved["n_items"])
        models = {name: MODEL_CLASSES[name].load(directory) for name in model.member_names}
        model.ranker = HybridRanker(models, {k: float(v) for k, v in saved["weights"].items()})
        return model
