"""The demo-log simulator: deterministic, realistic in the ways the recommender relies on."""
import hashlib

import pandas as pd
import pytest

from recsys import Catalog
from recsys.events import EVENT_COLUMNS, load_events
from recsys.simulate import SimulationParams, simulate_events, write_simulation
from tests.conftest import SMALL_CATALOG, write_catalog


@pytest.fixture
def linked_catalog(tmp_path) -> Catalog:
    rows = [dict(r) for r in SMALL_CATALOG]
    charger = next(r for r in rows if r["id"] == "accessory-apple-charger")
    charger["fits"] = ["phone-apple-a", "phone-apple-b", "laptop-apple-a"]
    products, aliases = write_catalog(tmp_path / "catalog", rows)
    return Catalog.load(products, aliases)


PARAMS = SimulationParams(n_shoppers=300, seed=7)


def test_same_seed_same_log_and_bytes(linked_catalog, tmp_path):
    first = write_simulation(linked_catalog, PARAMS, tmp_path / "a" / "log.csv.gz", show_progress=False)
    second = write_simulation(linked_catalog, PARAMS, tmp_path / "b" / "log.csv.gz", show_progress=False)
    pd.testing.assert_frame_equal(first, second)
    digest = lambda p: hashlib.md5(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(tmp_path / "a" / "log.csv.gz") == digest(tmp_path / "b" / "log.csv.gz")
    other = simulate_events(linked_catalog, SimulationParams(n_shoppers=300, seed=8))
    assert not first.equals(other)


def test_log_reads_back_through_the_real_log_loader(linked_catalog, tmp_path):
    path = tmp_path / "events.csv.gz"
    written = write_simulation(linked_catalog, PARAMS, path, show_progress=False)
    loaded = load_events(path)
    assert list(loaded.columns) == list(EVENT_COLUMNS)
    assert len(loaded) == len(written)
    assert (tmp_path / "REPORT.md").read_text().count("synthetic") >= 1
    assert (tmp_path / "purchase_prices.png").stat().st_size > 1000


def test_shoppers_browse_before_they_buy_and_ratings_follow_purchases(linked_catalog):
    events = simulate_events(linked_catalog, PARAMS)
    assert set(events["event_type"]) == {"view", "cart", "purchase", "rating"}
    first_time = events.groupby(["user_id", "item_id", "event_type"])["timestamp"].min()
    for kind, needs in (("cart", "view"), ("purchase", "cart"), ("rating", "purchase")):
        for (user, item), when in events[events["event_type"] == kind].groupby(["user_id", "item_id"])["timestamp"].min().items():
            assert first_time.get((user, item, needs), pd.Timestamp.max.tz_localize("UTC")) <= when, (kind, user, item)


def test_accessories_are_bought_after_a_device_they_fit(linked_catalog):
    events = simulate_events(linked_catalog, SimulationParams(n_shoppers=600, seed=3))
    purchases = events[events["event_type"] == "purchase"]
    chargers = purchases[purchases["item_id"] == "accessory-apple-charger"]
    assert len(chargers) > 0
    fits = set(linked_catalog.get("accessory-apple-charger").fits)
    devices = purchases[purchases["item_id"].isin(fits)]
    follow_ups = chargers.merge(devices, on="user_id", suffixes=("", "_device"))
    assert (follow_ups["timestamp_device"] < follow_ups["timestamp"]).any()
