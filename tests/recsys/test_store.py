"""The database: idempotent catalog import, links, events that refuse bad rows."""
import pandas as pd
import pytest

from recsys import Catalog
from recsys.store import Store, StoreError
from tests.conftest import SMALL_CATALOG, make_product, write_catalog


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'db' / 'daogou.db'}")


def catalog_of(tmp_path, rows) -> Catalog:
    products, aliases = write_catalog(tmp_path / "catalog", rows)
    return Catalog.load(products, aliases)


def event(user="u1", item="phone-xiaomi-a", kind="view", value=None):
    return {"timestamp": pd.Timestamp("2026-10-01T00:00:00Z"), "user_id": user, "session_id": "s1",
            "event_type": kind, "item_id": item, "value": value}


def test_import_is_idempotent(store, tmp_path):
    catalog = catalog_of(tmp_path, SMALL_CATALOG)
    first = store.import_catalog(catalog)
    second = store.import_catalog(catalog)
    assert (first.inserted, first.updated, first.unchanged) == (len(SMALL_CATALOG), 0, 0)
    assert (second.inserted, second.updated, second.unchanged, second.removed) == (0, 0, len(SMALL_CATALOG), 0)
    assert store.product_count() == len(SMALL_CATALOG)
    assert store.get_meta("catalog_hash") == catalog.content_hash


def test_reimport_updates_changed_rows_and_removes_gone_ones(store, tmp_path):
    store.import_catalog(catalog_of(tmp_path, SMALL_CATALOG))
    store.append_events(pd.DataFrame([event(item="phone-apple-b")]))
    rows = [dict(r) for r in SMALL_CATALOG if r["id"] not in {"phone-apple-a", "phone-apple-b"}]
    rows[0]["price"] = 999
    report = store.import_catalog(catalog_of(tmp_path / "v2", rows))
    assert (report.updated, report.removed) == (1, 2)
    ids = store.product_ids()
    assert "phone-apple-a" not in ids
    assert "phone-apple-b" in ids  # a shopper's history refers to it: kept, out of stock
    assert store.event_count() == 1


def test_compatibility_links_are_stored_both_ways(store, tmp_path):
    rows = [dict(r) for r in SMALL_CATALOG]
    charger = next(r for r in rows if r["id"] == "accessory-apple-charger")
    charger["fits"] = ["phone-apple-a", "laptop-apple-a"]
    store.import_catalog(catalog_of(tmp_path, rows))
    assert store.links() == [("accessory-apple-charger", "laptop-apple-a"), ("accessory-apple-charger", "phone-apple-a")]


def test_links_to_unknown_products_fail_the_load(tmp_path):
    rows = [dict(r) for r in SMALL_CATALOG] + [dict(make_product("accessory-apple-case", "accessory", "apple", 99), fits=["phone-nope"])]
    with pytest.raises(ValueError, match="products.jsonl:11: fits unknown product ids phone-nope"):
        catalog_of(tmp_path, rows)


@pytest.mark.parametrize(
    "bad, message",
    [(event(item="phone-nope"), "unknown product ids"), (event(kind="wishlist"), "unknown event types")],
)
def test_a_batch_with_a_bad_event_writes_nothing(store, tmp_path, bad, message):
    store.import_catalog(catalog_of(tmp_path, SMALL_CATALOG))
    with pytest.raises(StoreError, match=message):
        store.append_events(pd.DataFrame([event(), bad]))
    assert store.event_count() == 0


def test_events_round_trip_in_order_and_forget_user(store, tmp_path):
    store.import_catalog(catalog_of(tmp_path, SMALL_CATALOG))
    later = dict(event(user="u2", kind="rating", value=5.0), timestamp=pd.Timestamp("2026-10-02T00:00:00Z"))
    store.append_events(pd.DataFrame([later, event()]))
    frame = store.events_frame()
    assert list(frame["user_id"]) == ["u1", "u2"]
    assert frame["value"].iloc[1] == 5.0 and pd.isna(frame["value"].iloc[0])
    assert store.forget_user("u2") == 1
    assert list(store.events_frame()["user_id"]) == ["u1"]
