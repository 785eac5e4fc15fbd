"""What the content model and the GRU add: cold-start products, and order."""
import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.events import Interactions
from recsys.features import item_feature_matrix
from recsys.models import ContentModel, GRUSequenceModel
from tests.conftest import small_events


def test_content_model_ranks_a_product_nobody_touched(small_catalog):
    untouched = "phone-apple-out"
    events = small_events()
    assert untouched not in set(events["item_id"])
    interactions = Interactions.from_events(events, small_catalog.ids).with_item_features(item_feature_matrix(small_catalog))
    model = ContentModel().fit(interactions)
    history = sp.csr_matrix((np.ones(1), ([0], [small_catalog.index["phone-apple-a"]])), shape=(1, len(small_catalog)))
    items, _ = model.recommend(history, k=2)
    ranked = [small_catalog.products[i].id for i in items]
    assert untouched in ranked  # another Apple phone: the closest thing to what the shopper viewed


def test_content_similar_items_share_category_and_brand(small_catalog):
    interactions = Interactions.from_events(small_events(), small_catalog.ids).with_item_features(item_feature_matrix(small_catalog))
    model = ContentModel().fit(interactions)
    items, _ = model.similar_items(small_catalog.index["laptop-lenovo-a"], k=1)
    assert small_catalog.products[items[0]].id == "laptop-lenovo-b"


def ordered_events(n_users: int = 60) -> pd.DataFrame:
    """Everyone walks a -> b -> c -> d: order is the whole signal (the sets are all the same)."""
    path = ["phone-xiaomi-a", "phone-xiaomi-b", "phone-xiaomi-c", "laptop-lenovo-a"]
    t = pd.Timestamp("2026-10-01T00:00:00Z")
    rows = []
    for u in range(n_users):
        for step, item in enumerate(path):
            rows.append((t + pd.Timedelta(minutes=u * 10 + step), f"walker-{u}", f"s{u}", "view", item, None))
    return pd.DataFrame(rows, columns=["timestamp", "user_id", "session_id", "event_type", "item_id", "value"])


def test_sequences_follow_time_order_and_collapse_repeats(small_catalog):
    events = ordered_events(1)
    events = pd.concat([events, events.tail(1).assign(timestamp=events.timestamp.max() + pd.Timedelta(minutes=1))])
    interactions = Interactions.from_events(events, small_catalog.ids)
    walked = [small_catalog.products[i].id for i in interactions.sequences[0]]
    assert walked == ["phone-xiaomi-a", "phone-xiaomi-b", "phone-xiaomi-c", "laptop-lenovo-a"]


def test_gru_learns_what_comes_next(small_catalog):
    interactions = Interactions.from_events(ordered_events(), small_catalog.ids)
    model = GRUSequenceModel(epochs=30, batch_size=16, random_state=0).fit(interactions)
    index = small_catalog.index
    empty = sp.csr_matrix((1, len(small_catalog)))
    for walked, expected in (
        (["phone-xiaomi-a"], "phone-xiaomi-b"),
        (["phone-xiaomi-a", "phone-xiaomi-b"], "phone-xiaomi-c"),
        (["phone-xiaomi-a", "phone-xiaomi-b", "phone-xiaomi-c"], "laptop-lenovo-a"),
    ):
        scores = model.score(empty, sequence=np.array([index[i] for i in walked]))
        assert small_catalog.products[int(np.argmax(scores))].id == expected, walked


def test_gru_numpy_scoring_matches_keras(small_catalog):
    interactions = Interactions.from_events(ordered_events(10), small_catalog.ids)
    model = GRUSequenceModel(epochs=2).fit(interactions)
    sequence = np.array([small_catalog.index["phone-xiaomi-a"], small_catalog.index["phone-xiaomi-b"]])
    empty = sp.csr_matrix((1, len(small_catalog)))
    np.testing.assert_allclose(model.score(empty, sequence=sequence), model.score_batch(empty, sequences=[sequence])[0], rtol=1e-4, atol=1e-5)


def test_a_loaded_gru_serves_in_numpy_and_builds_keras_only_for_batches(small_catalog, tmp_path):
    """Loading skips the second it takes to build the Keras GRU; batch scoring builds it, with the same weights."""
    interactions = Interactions.from_events(ordered_events(10), small_catalog.ids)
    model = GRUSequenceModel(epochs=2).fit(interactions)
    model.save(tmp_path)
    loaded = GRUSequenceModel.load(tmp_path)
    sequence = np.array([small_catalog.index["phone-xiaomi-a"], small_catalog.index["phone-xiaomi-b"]])
    empty = sp.csr_matrix((1, len(small_catalog)))
    np.testing.assert_allclose(loaded.score(empty, sequence=sequence), model.score(empty, sequence=sequence), rtol=1e-6)
    assert loaded._encoder is None
    loaded.save(tmp_path / "again")  # saving a model that never built Keras writes the same weights
    np.testing.assert_allclose(GRUSequenceModel.load(tmp_path / "again").score(empty, sequence=sequence),
                               model.score(empty, sequence=sequence), rtol=1e-6)
    batch = loaded.score_batch(empty, sequences=[sequence])
    assert loaded._encoder is not None
    np.testing.assert_allclose(batch[0], model.score_batch(empty, sequences=[sequence])[0], rtol=1e-5, atol=1e-6)


def test_gru_sampled_softmax_learns_what_comes_next(small_catalog):
    interactions = Interactions.from_events(ordered_events(), small_catalog.ids)
    model = GRUSequenceModel(epochs=30, batch_size=16, sampled_negatives=3, validation_users=0).fit(interactions)
    index = small_catalog.index
    empty = sp.csr_matrix((1, len(small_catalog)))
    scores = model.score(empty, sequence=np.array([index["phone-xiaomi-a"], index["phone-xiaomi-b"]]))
    assert small_catalog.products[int(np.argmax(scores))].id == "phone-xiaomi-c"


def test_self_attention_learns_what_comes_next_and_reloads(small_catalog, tmp_path):
    from recsys.models import SelfAttentionSequenceModel

    interactions = Interactions.from_events(ordered_events(), small_catalog.ids)
    model = SelfAttentionSequenceModel(epochs=30, batch_size=16, dropout=0.1, validation_users=0).fit(interactions)
    index = small_catalog.index
    empty = sp.csr_matrix((1, len(small_catalog)))
    for walked, expected in ((["phone-xiaomi-a"], "phone-xiaomi-b"), (["phone-xiaomi-a", "phone-xiaomi-b"], "phone-xiaomi-c")):
        scores = model.score(empty, sequence=np.array([index[i] for i in walked]))
        assert small_catalog.products[int(np.argmax(scores))].id == expected, walked
    sequence = np.array([index["phone-xiaomi-a"], index["phone-xiaomi-b"]])
    # left padding in a batch does not change a sequence's scores
    batch = model.score_batch(sp.csr_matrix((2, len(small_catalog))), sequences=[sequence, np.array([index["phone-xiaomi-a"]] * 3 + list(sequence))])
    np.testing.assert_allclose(batch[0], model.score(empty, sequence=sequence), rtol=1e-4, atol=1e-4)
    model.save(tmp_path)
    loaded = SelfAttentionSequenceModel.load(tmp_path)
    np.testing.assert_allclose(loaded.score(empty, sequence=sequence), model.score(empty, sequence=sequence), rtol=1e-5, atol=1e-5)
