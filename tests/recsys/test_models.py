"""The contract every model keeps (the hybrid too), plus model-specific checks."""
import numpy as np
import pandas as pd
import pytest

from recsys.ensemble import EnsembleModel
from recsys.events import Interactions
from recsys.features import item_feature_matrix
from recsys.models import MODEL_CLASSES, ALSModel, ArtifactError, PopularityModel
from recsys.models.base import RecommenderModel
from tests.conftest import small_events

#: Every model behind the contract: each family with its defaults, and the hybrid of a few of them.
CONTRACT_MODELS = {**{name: cls for name, cls in MODEL_CLASSES.items()}, EnsembleModel.name: EnsembleModel}


@pytest.fixture
def interactions(small_catalog) -> Interactions:
    return Interactions.from_events(small_events(), small_catalog.ids).with_item_features(item_feature_matrix(small_catalog))


def fitted(name, interactions) -> RecommenderModel:
    cls = CONTRACT_MODELS[name]
    if cls is EnsembleModel:
        model = EnsembleModel(members="item_knn+als+content", validation_users=8, objective="full")
    else:
        model = cls(random_state=0) if cls is ALSModel else cls()
    return model.fit(interactions)


@pytest.mark.parametrize("name", sorted(CONTRACT_MODELS))
def test_scores_cover_every_item(name, interactions):
    model = fitted(name, interactions)
    scores = model.score(interactions.matrix[0], user=0)
    assert scores.shape == (len(interactions.item_ids),)
    assert np.isfinite(scores).all()


@pytest.mark.parametrize("name", sorted(CONTRACT_MODELS))
def test_recommend_excludes_seen_unless_asked(name, interactions):
    model = fitted(name, interactions)
    history = interactions.matrix[0]
    items, _ = model.recommend(history, k=10, user=0)
    assert not set(items) & set(history.indices)
    items_with_seen, _ = model.recommend(history, k=10, user=0, exclude_seen=False)
    assert set(items_with_seen) & set(history.indices)


@pytest.mark.parametrize("name", sorted(CONTRACT_MODELS))
def test_recommend_respects_allowed_mask(name, interactions, small_catalog):
    model = fitted(name, interactions)
    allowed = small_catalog.mask(category="laptop")
    items, scores = model.recommend(interactions.matrix[0], k=10, user=0, allowed=allowed, exclude_seen=False)
    assert len(items) == allowed.sum()
    assert all(allowed[i] for i in items)
    assert list(scores) == sorted(scores, reverse=True)


@pytest.mark.parametrize("name", sorted(CONTRACT_MODELS))
def test_candidate_scores_carry_the_catalogs_moments(name, interactions):
    """score_items (what serving calls) equals the full scores on the candidates, with their mean and spread."""
    model = fitted(name, interactions)
    items = np.array([1, 4, 7])
    for user, known in ((0, 0), (5, None), (9, None)):
        history = interactions.matrix[user]
        sequence = interactions.sequences[user]
        full = np.asarray(model.score(history, user=known, sequence=sequence), dtype=np.float64)
        values, mean, std = model.score_items(history, items, user=known, sequence=sequence)
        np.testing.assert_allclose(values, full[items], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose([mean, std], [full.mean(), full.std()], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CONTRACT_MODELS))
def test_save_load_round_trip_gives_same_scores(name, interactions, tmp_path):
    model = fitted(name, interactions)
    model.save(tmp_path)
    loaded = CONTRACT_MODELS[name].load(tmp_path)
    assert loaded.params() == model.params()
    for user in range(3):
        np.testing.assert_allclose(loaded.score(interactions.matrix[user], user=user), model.score(interactions.matrix[user], user=user))


@pytest.mark.parametrize("name", sorted(CONTRACT_MODELS))
def test_loading_a_corrupt_artifact_fails_clearly(name, interactions, tmp_path):
    fitted(name, interactions).save(tmp_path)
    (tmp_path / f"{name}.npz").write_bytes(b"not a numpy archive")
    with pytest.raises(ArtifactError, match=name):
        CONTRACT_MODELS[name].load(tmp_path)


@pytest.mark.parametrize("name", sorted(CONTRACT_MODELS))
def test_one_batch_entry_point_matches_single_scores(name, interactions):
    """score_batch (what the evaluator and the hybrid call) gives each row's score, sequences included."""
    model = fitted(name, interactions)
    rows = np.array([0, 5, 9])
    users = np.array([0, -1, -1])
    sequences = [interactions.sequences[u] for u in rows]
    batch = model.score_batch(interactions.matrix[rows], users, sequences)
    for i, user in enumerate(rows):
        single = model.score(interactions.matrix[user], user=None if users[i] < 0 else int(users[i]), sequence=sequences[i])
        np.testing.assert_allclose(batch[i], single, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CONTRACT_MODELS))
def test_hyper_parameters_are_the_constructor_arguments(name, interactions):
    """params() is read from the __init__ signature, so it rebuilds an equal model."""
    model = fitted(name, interactions)
    assert CONTRACT_MODELS[name](**model.params()).params() == model.params()


def test_a_model_must_score_somehow():
    with pytest.raises(TypeError, match="score or score_batch"):
        type("Mute", (RecommenderModel,), {"name": "mute", "fit": lambda self, i: self, "_arrays": lambda self: {},
                                           "_restore": lambda self, a: None})


def test_als_learns_taste_groups(interactions, small_catalog):
    model = fitted("als", interactions)
    user = interactions.user_index["xiaomi-fan-0"]
    items, _ = model.recommend(interactions.matrix[user], k=1, user=user)
    # xiaomi-fan-0 skipped the Lenovo laptop that the other Xiaomi fans bought.
    assert small_catalog.products[items[0]].id == "laptop-lenovo-a"


def test_als_folds_in_a_new_shopper(interactions, small_catalog):
    model = fitted("als", interactions)
    history = interactions.matrix[interactions.user_index["apple-fan-1"]]
    np.testing.assert_allclose(model.score(history), model.score(history, user=None))
    top, _ = model.recommend(history, k=2)
    assert {small_catalog.products[i].brand for i in top} == {"apple"}


def test_als_similar_items_stay_in_taste_group(interactions, small_catalog):
    model = fitted("als", interactions)
    items, _ = model.similar_items(small_catalog.index["phone-apple-a"], k=2)
    assert {small_catalog.products[i].brand for i in items} == {"apple"}


def test_popularity_decays_with_age(small_catalog):
    now = pd.Timestamp("2026-10-01T00:00:00Z")
    events = pd.DataFrame(
        [
            (now - pd.Timedelta(days=60), "early", "s1", "purchase", "phone-xiaomi-a", None),
            (now - pd.Timedelta(days=60), "early", "s1", "view", "phone-xiaomi-b", None),
            (now, "recent", "s2", "view", "phone-xiaomi-b", None),  # the pair's latest event counts
            (now, "recent", "s2", "view", "phone-apple-a", None),
        ],
        columns=["timestamp", "user_id", "session_id", "event_type", "item_id", "value"],
    )
    model = PopularityModel(half_life_days=30).fit(Interactions.from_events(events, small_catalog.ids))
    score = {pid: model.item_scores[small_catalog.index[pid]] for pid in ("phone-xiaomi-a", "phone-xiaomi-b", "phone-apple-a")}
    assert score["phone-apple-a"] == pytest.approx(1.0)
    assert score["phone-xiaomi-a"] == pytest.approx(0.25)  # two half-lives old
    assert score["phone-xiaomi-b"] == pytest.approx(1.25)
