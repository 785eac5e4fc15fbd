"""Spark ``local[2]`` fits the collaborative members; the facade serves what it wrote.

One SparkSession for the module, bound to 127.0.0.1, no UI, two shuffle partitions.
"""
import os
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from recsys import Catalog, RecommendationQuery, Recommender
from recsys.ensemble import build_member
from recsys.events import Interactions
from recsys.export import SnapshotError, SnapshotWriter
from recsys.models import ALSModel, PopularityModel
from recsys.models.neighbours import ItemKNNModel
from recsys.spark import spark_session
from recsys.spark.members import fit_members
from recsys.spark.pipeline import SparkTraining, train_on_spark
from recsys.store import open_store


@pytest.fixture(scope="module")
def spark():
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = spark_session("local[2]", driver_memory="512m", shuffle_partitions=2)
    yield session
    session.stop()


def write_snapshot(path, frame, user_ids, item_ids):
    """A snapshot from a frame with string ids (the serving index's mapping), without a database."""
    users = {u: i for i, u in enumerate(user_ids)}
    items = {p: i for i, p in enumerate(item_ids)}
    coded = frame.assign(row=np.arange(1, len(frame) + 1), user=frame["user_id"].map(users).astype("int32"),
                         item=frame["item_id"].map(items).astype("int32"),
                         timestamp=pd.to_datetime(frame["timestamp"], utc=True), value=frame["value"].astype(float))
    writer = SnapshotWriter(path, datetime(2026, 12, 1, tzinfo=timezone.utc))
    writer.write(coded)
    return writer.close(user_ids, item_ids)


BLOCKS = 4


def planted_events(n_users=120, n_items=40, seed=0):
    """Four taste blocks: users of block b view items ``i % 4 == b`` only, bar a few stray views."""
    rng = np.random.default_rng(seed)
    rows, t = [], pd.Timestamp("2026-11-01T00:00:00Z")
    for u in range(n_users):
        block = u % BLOCKS
        own = [i for i in range(n_items) if i % BLOCKS == block]
        for item in rng.choice(own, size=6, replace=False):
            rows.append((t, f"u{u:03d}", "s", "view" if rng.random() < 0.7 else "purchase", f"p{item:02d}", None))
            t += pd.Timedelta(hours=1)
        if rng.random() < 0.2:
            rows.append((t, f"u{u:03d}", "s", "view", f"p{(block + 1) % BLOCKS:02d}", None))
    rows.append((t, "u000", "s", "rating", "p00", 5.0))
    return pd.DataFrame(rows, columns=["timestamp", "user_id", "session_id", "event_type", "item_id", "value"])


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    frame = planted_events()
    items = [f"p{i:02d}" for i in range(40)]
    interactions = Interactions.from_events(frame, items)
    snapshot = write_snapshot(tmp_path_factory.mktemp("planted") / "events", frame, interactions.user_ids, items)
    return interactions, snapshot


def test_spark_and_implicit_als_agree_on_the_planted_blocks(spark, planted):
    interactions, snapshot = planted
    params = dict(factors=BLOCKS, regularization=0.05, iterations=15, alpha=2.0)
    spark_als = fit_members(spark, snapshot, {"als": ALSModel(**params)})["als"]
    local_als = ALSModel(**params).fit(interactions)
    assert spark_als.user_factors.shape == local_als.user_factors.shape
    in_block = {"spark": [], "implicit": []}
    for user in range(0, 120, 5):
        block = user % BLOCKS
        history = interactions.matrix[user]
        tops = {name: m.recommend(history, k=3, user=user)[0] for name, m in (("spark", spark_als), ("implicit", local_als))}
        assert tops["spark"][0] % BLOCKS == block and tops["implicit"][0] % BLOCKS == block, (user, tops)  # best pick
        for name, top in tops.items():
            in_block[name].extend(i % BLOCKS == block for i in top)
    assert np.mean(in_block["spark"]) >= 0.8 and np.mean(in_block["implicit"]) >= 0.8, in_block
    # a new shopper folded in from a block-0 history is steered to block 0 by both
    new = interactions.matrix[0]
    assert all(i % BLOCKS == 0 for i in spark_als.recommend(new, k=3)[0])


def test_spark_als_weighs_pairs_as_implicit_does(spark, planted):
    """MLlib's last step solves each user row from the item factors: with implicit's confidence
    ``alpha * r`` (what ``fit_als`` translates to) and MLlib's regularisation ``lambda * n_u`` (ALS-WR),
    the rows Spark returns are exactly those solves."""
    interactions, snapshot = planted
    model = fit_members(spark, snapshot, {"als": ALSModel(factors=BLOCKS, regularization=0.05, iterations=5, alpha=2.0)})["als"]
    items = model.item_factors.astype(np.float64)
    matrix = interactions.matrix.tocsr()
    for user in range(0, 120, 7):
        seen = matrix.indices[matrix.indptr[user]:matrix.indptr[user + 1]]
        confidence = 2.0 * matrix.data[matrix.indptr[user]:matrix.indptr[user + 1]].astype(np.float64)
        system = items.T @ items + (items[seen].T * (confidence - 1.0)) @ items[seen] + 0.05 * len(seen) * np.eye(BLOCKS)
        expected = np.linalg.solve(system, items[seen].T @ confidence)
        np.testing.assert_allclose(model.user_factors[user], expected, rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match="alpha > 1"):
        fit_members(spark, snapshot, {"als": ALSModel(factors=BLOCKS, alpha=1.0)})


def test_spark_co_occurrence_and_popularity_match_the_single_machine_models(spark, planted):
    interactions, snapshot = planted
    fitted = fit_members(spark, snapshot, {"item_knn": build_member("item_knn", 0),
                                           "popularity": build_member("popularity", 0)})
    local_knn = build_member("item_knn", 0).fit(interactions)
    assert isinstance(fitted["item_knn"], ItemKNNModel) and fitted["item_knn"].similarity == "bm25"
    np.testing.assert_allclose(fitted["item_knn"].matrix.toarray(), local_knn.matrix.toarray(), rtol=1e-4, atol=1e-5)
    local_pop = PopularityModel().fit(interactions)
    np.testing.assert_allclose(fitted["popularity"].item_scores, local_pop.item_scores, rtol=1e-6)
    cosine = fit_members(spark, snapshot, {"item_knn": ItemKNNModel(neighbours=3, similarity="cosine")})["item_knn"]
    expected = ItemKNNModel(neighbours=3, similarity="cosine").fit(interactions).matrix
    np.testing.assert_allclose(cosine.matrix.toarray(), expected.toarray(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("column, value, words", [
    ("item", 40, "item=40 of 40 products"),
    ("item", -1, "item=-1"),
    ("user", None, "user=None"),
    ("event_type", "teleport", "'teleport'"),
    ("value", None, "value=None"),
])
def test_bad_rows_are_refused_with_the_row_named(spark, tmp_path, column, value, words):
    frame = planted_events()
    items = [f"p{i:02d}" for i in range(40)]
    users = sorted(frame["user_id"].unique())
    snapshot = write_snapshot(tmp_path / "events", frame, users, items)
    table = pd.read_parquet(snapshot.path)
    bad_row = int(table.loc[table["event_type"] == "rating", "row"].iloc[0]) if column == "value" else 17
    table[column] = table[column].astype(object)
    table.loc[table["row"] == bad_row, column] = value
    for part in snapshot.path.glob("date=*"):
        for file in part.iterdir():
            file.unlink()
        part.rmdir()
    table["date"] = table["timestamp"].dt.strftime("%Y-%m-%d")
    table.to_parquet(snapshot.path, partition_cols=["date"], index=False, coerce_timestamps="us",
                     allow_truncated_timestamps=True)
    with pytest.raises(SnapshotError, match=rf"event row {bad_row} .*{words}"):
        fit_members(spark, snapshot, {"popularity": PopularityModel()})


def test_train_on_spark_writes_artefacts_the_facade_serves(spark, small_settings):
    catalog = Catalog.load(small_settings.catalog_path, small_settings.aliases_path)
    open_store(small_settings, catalog, seed_log=small_settings.events_path)
    trained = train_on_spark(small_settings, SparkTraining(master="local[2]"), show_progress=False)
    assert set(trained.models) == set(small_settings.models)
    served = Recommender.from_settings(small_settings, train_if_missing=False)  # loads the files Spark wrote
    assert set(served.ranker.weights) == set(small_settings.models)
    recs = served.recommend(RecommendationQuery(user_id="xiaomi-fan-1", category="phone", max_price=4000, k=3))
    assert recs and all(r.product.category == "phone" and r.product.price <= 4000 and r.product.in_stock for r in recs)
    assert recs[0].product.id == "phone-xiaomi-c"  # the one Xiaomi phone this fan has not seen
    new = served.recommend(RecommendationQuery(user_id="never-seen", category="laptop", k=2))
    assert new and all(r.product.category == "laptop" for r in new)
    assert served.models["als"].user_factors.shape[0] == 16


def test_snapshot_for_another_catalog_is_refused(spark, small_settings, tmp_path):
    catalog = Catalog.load(small_settings.catalog_path, small_settings.aliases_path)
    store = open_store(small_settings, catalog, seed_log=small_settings.events_path)
    frame = store.events_frame()
    other = write_snapshot(tmp_path / "events", frame, sorted(frame["user_id"].unique()), list(catalog.ids)[::-1])
    with pytest.raises(ValueError, match="another catalog"):
        train_on_spark(small_settings, SparkTraining(snapshot=other.path), show_progress=False)
