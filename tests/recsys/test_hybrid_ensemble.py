"""The hybrid as a model: weights learned on held-out training items, one blending code path."""
from typing import Any, Dict, Optional

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.ensemble import EnsembleModel, hold_out_last_items, tune_weights
from recsys.evaluation.datasets import Sequences
from recsys.evaluation.evaluator import evaluate
from recsys.evaluation.protocols import leave_last_two_out
from recsys.events import Interactions
from recsys.hybrid import HybridRanker
from recsys.models import PopularityModel
from recsys.models.base import RecommenderModel

N_ITEMS = 40


class NextItemModel(RecommenderModel):
    """Knows the rule of the toy data: after item i comes item i + 1."""

    name = "next"

    def fit(self, interactions: Interactions) -> "NextItemModel":
        self.n_items = interactions.matrix.shape[1]
        return self

    def score(self, history: sp.csr_matrix, user: Optional[int] = None, sequence: Optional[np.ndarray] = None) -> np.ndarray:
        scores = np.zeros(self.n_items)
        if sequence is not None and len(sequence):
            scores[(int(sequence[-1]) + 1) % self.n_items] = 1.0
        return scores

    def params(self) -> Dict[str, Any]:
        return {}

    def _arrays(self) -> Dict[str, np.ndarray]:
        return {}

    def _restore(self, arrays: Dict[str, np.ndarray]) -> None:
        pass


class WrongModel(NextItemModel):
    """Confidently wrong: always bets on the item after the next one."""

    name = "wrong"

    def score(self, history: sp.csr_matrix, user: Optional[int] = None, sequence: Optional[np.ndarray] = None) -> np.ndarray:
        scores = np.zeros(self.n_items)
        if sequence is not None and len(sequence):
            scores[(int(sequence[-1]) + 2) % self.n_items] = 1.0
        return scores


def walks(n_users: int = 120, seed: int = 0) -> Interactions:
    """Every shopper walks up the item ids from a random start: the order is the signal."""
    rng = np.random.default_rng(seed)
    sequences = []
    for _ in range(n_users):
        start, length = int(rng.integers(0, N_ITEMS - 8)), int(rng.integers(3, 8))
        sequences.append(start + np.arange(length))
    rows = np.repeat(np.arange(n_users), [len(s) for s in sequences])
    matrix = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, np.concatenate(sequences))), shape=(n_users, N_ITEMS))
    return Interactions(matrix=matrix, user_ids=[str(u) for u in range(n_users)], item_ids=[str(i) for i in range(N_ITEMS)],
                        sequences=sequences)


def test_tune_weights_trusts_the_model_that_carries_signal():
    split = hold_out_last_items(walks(), max_cases=60)
    models = {"next": NextItemModel().fit(split.train), "wrong": WrongModel().fit(split.train),
              "popularity": PopularityModel().fit(split.train)}
    weights, score = tune_weights(models, split.cases, objective="full")
    assert weights["next"] > 0 and weights["next"] > weights["wrong"]
    assert score == pytest.approx(1.0)  # the next item is always ranked first


def padded(interactions: Interactions, extra: int = 200) -> Interactions:
    """The same shoppers over a bigger catalog, so 100 unseen items can be sampled."""
    n_users = interactions.matrix.shape[0]
    return Interactions(matrix=sp.hstack([interactions.matrix, sp.csr_matrix((n_users, extra))], format="csr"),
                        user_ids=interactions.user_ids, item_ids=[str(i) for i in range(N_ITEMS + extra)],
                        sequences=interactions.sequences)


@pytest.mark.parametrize("objective", ["sampled", "mean"])
def test_tune_weights_sampled_objectives(objective):
    split = hold_out_last_items(padded(walks()), max_cases=60)
    models = {"next": NextItemModel().fit(split.train), "wrong": WrongModel().fit(split.train)}
    weights, score = tune_weights(models, split.cases, objective=objective)
    assert weights["next"] > weights["wrong"] and score == pytest.approx(1.0)


def test_batch_blend_is_the_serving_blend():
    interactions = walks()
    models = {"next": NextItemModel().fit(interactions), "popularity": PopularityModel().fit(interactions)}
    ranker = HybridRanker(models, {"next": 2.0, "popularity": 0.5})
    histories = interactions.matrix[:5]
    sequences = interactions.sequences[:5]
    batch = ranker.blend_batch(histories, np.arange(5), sequences)
    for i in range(5):
        single = ranker.blend(ranker.component_scores(histories[i], i, sequences[i]))
        np.testing.assert_allclose(batch[i], single, rtol=1e-5, atol=1e-5)
    cold = ranker.blend_batch(sp.csr_matrix((1, N_ITEMS)), None, [np.empty(0, dtype=np.int64)])
    np.testing.assert_allclose(cold[0], ranker.blend(ranker.component_scores(sp.csr_matrix((1, N_ITEMS)), None, None)), atol=1e-6)


def test_ensemble_learns_weights_on_training_data_and_evaluates_like_a_model(monkeypatch):
    from recsys import ensemble

    monkeypatch.setitem(ensemble.MODEL_CLASSES, "next", NextItemModel)
    monkeypatch.setitem(ensemble.MODEL_CLASSES, "wrong", WrongModel)
    # 200 items: room for 100 sampled negatives
    split = leave_last_two_out(Sequences(sequences=list(walks(200).sequences), n_items=200), stage="test")
    model = EnsembleModel(members="next+wrong", validation_users=50, objective="full").fit(split.train)
    assert model.member_names == ["next", "wrong", "popularity"]
    assert model.weights["next"] > model.weights["wrong"]
    assert set(model.fit_seconds) >= {"next", "wrong", "popularity", "weights"}
    result = evaluate(model, split, progress=False)
    assert result["full_hit@10"] == 1.0 and result["sampled_ndcg@10"] == 1.0


def test_ensemble_saves_and_loads(tmp_path):
    data = Sequences(sequences=list(walks(60).sequences), n_items=200)
    split = leave_last_two_out(data, stage="test")
    model = EnsembleModel(members="item_knn", validation_users=20).fit(split.train)
    model.save(tmp_path)
    loaded = EnsembleModel.load(tmp_path)
    assert loaded.weights == model.weights
    np.testing.assert_allclose(loaded.score_batch(split.histories, split.users, split.sequences),
                               model.score_batch(split.histories, split.users, split.sequences), atol=1e-6)


@pytest.mark.parametrize("module, forbidden", [
    ("recsys/hybrid.py", ("recsys.evaluation", "recsys.ensemble")),  # serving never loads weight learning
    ("recsys/specs.py", ("recsys.facade",)),  # no facade <-> specs cycle
    ("recsys/store.py", ("recsys.simulate",)),  # opening the database never simulates shoppers
])
def test_modules_import_only_what_their_job_needs(module, forbidden):
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parents[2] / module).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {m for m in imported if m.startswith(forbidden)}
