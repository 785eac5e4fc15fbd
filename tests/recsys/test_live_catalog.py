"""The shop changes its catalog and the market moves while the recommender serves, with no retrain.

Two :class:`Recommender` instances on one SQLite file stand for two serving
processes: a product added, changed or withdrawn through one, and purchases
recorded through one, shape the other's next answer only through the database.
"""
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import func, select

from recsys import QueryError, RecommendationQuery, Recommender
from recsys.events import disliked_items
from recsys.live_catalog import changes_table
from recsys.market import MarketCounters
from tests.conftest import make_product, settings_in, RICH_CATALOG
from tests.recsys.conftest import ids, two_recommenders


@pytest.fixture
def two_rich_processes(tmp_path, trained_rich_directory):
    return two_recommenders(settings_in(tmp_path / "rich", RICH_CATALOG), trained_rich_directory)


def new_phone(pid="phone-xiaomi-new", price=2799.0, stock=10):
    record = make_product(pid, "phone", "xiaomi", price, stock=stock)
    record["description"] = {"en": "Xiaomi phone with a big battery", "zh": "小米大电池手机"}
    return record


def change_count(recommender):
    with recommender.store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(changes_table)).scalar_one()


def test_a_product_added_through_one_is_similar_and_recommended_in_the_other(two_processes):
    first, second = two_processes
    assert "phone-xiaomi-new" not in ids(second.similar("phone-xiaomi-b", k=5))  # the second has looked
    product = first.upsert_product(new_phone())
    assert product.id == "phone-xiaomi-new" and second.product("phone-xiaomi-new") == product
    assert "phone-xiaomi-new" in ids(second.similar("phone-xiaomi-b", k=5))
    case = first.upsert_product({**make_product("accessory-xiaomi-case", "accessory", "xiaomi", 59), "fits": ["phone-xiaomi-new"]})
    assert ("accessory-xiaomi-case", "phone-xiaomi-new") in second.store.links()
    assert [p.id for p in second.accessories("phone-xiaomi-new")] == [case.id]
    assert ids(second.similar("phone-xiaomi-new", k=2))[0].startswith("phone-xiaomi")  # it has neighbours itself
    for item in ("phone-xiaomi-a", "phone-xiaomi-b", "phone-xiaomi-c"):
        second.record_event("xiaomi-newcomer", item, "view")
    recs = first.recommend(RecommendationQuery(user_id="xiaomi-newcomer", category="phone", k=3))
    assert "phone-xiaomi-new" in ids(recs)  # through the content model: no model was trained on it
    second.record_event("xiaomi-newcomer", "phone-xiaomi-new", "cart")  # events may name it at once
    assert first.history("xiaomi-newcomer").nnz == 4


def test_a_price_or_stock_change_applies_at_once_in_the_other(two_processes):
    first, second = two_processes
    query = RecommendationQuery(category="phone", max_price=3000, k=5)
    assert "phone-xiaomi-a" in ids(second.recommend(query))
    record = second.product("phone-xiaomi-a").to_record()
    first.upsert_product({**record, "stock": 0})
    assert "phone-xiaomi-a" not in ids(second.recommend(query))
    first.upsert_product({**record, "stock": 5, "price": 3500.0, "list_price": 3500.0})
    changes = change_count(first)
    first.upsert_product({**record, "stock": 5, "price": 3500.0, "list_price": 3500.0})  # the same again
    assert change_count(first) == changes
    assert "phone-xiaomi-a" not in ids(second.recommend(query))  # now over the budget
    assert "phone-xiaomi-a" in ids(second.recommend(RecommendationQuery(category="phone", min_price=3400, k=5)))


def test_a_product_deleted_through_one_is_never_recommended_by_the_other_but_stays_in_histories(two_processes):
    first, second = two_processes
    fan = "xiaomi-fan-1"
    assert any(e.product.id == "laptop-lenovo-a" for e in second.shopper_data(fan))
    assert "laptop-lenovo-a" in ids(second.recommend(RecommendationQuery(category="laptop", k=5)))
    first.delete_product("laptop-lenovo-a")
    for user in (None, fan, "apple-fan-2", "someone-new"):
        for exclude_seen in (True, False):
            query = RecommendationQuery(user_id=user, k=10, exclude_seen=exclude_seen)
            assert "laptop-lenovo-a" not in ids(second.recommend(query))
    assert all("laptop-lenovo-a" not in ids(second.similar(p, k=5, same_category=False)) for p in ("laptop-lenovo-b", "phone-xiaomi-c"))
    assert any(e.product.id == "laptop-lenovo-a" for e in second.shopper_data(fan))  # a soft delete
    assert second.is_deleted("laptop-lenovo-a") and second.health().deleted_products == 1
    with pytest.raises(QueryError, match="unknown product"):
        second.delete_product("laptop-lenovo-a")  # already gone
    with pytest.raises(QueryError, match="unknown product"):
        second.delete_product("no-such-product")
    first.upsert_product(second.product("laptop-lenovo-a").to_record())  # stored again: back
    assert "laptop-lenovo-a" in ids(second.recommend(RecommendationQuery(category="laptop", k=5)))


@pytest.mark.parametrize("change, field", [
    ({"price": -5}, "price"),
    ({"category": "spaceship"}, "category"),
    ({"brand": "nobody-knows"}, "brand"),
    ({"name": {"en": "Only English"}}, "name.zh"),
    ({"fits": ["no-such-product"]}, "fits"),
    ({"id": "Not An Id!"}, "id"),
    ({"stock": "many"}, "stock"),
])
def test_a_bad_product_is_refused_naming_the_field_and_nothing_is_written(two_processes, change, field):
    first, second = two_processes
    products, changes = first.store.product_count(), change_count(first)
    with pytest.raises(QueryError, match=field):
        first.upsert_product({**new_phone(), **change})
    assert (first.store.product_count(), change_count(first)) == (products, changes)
    assert len(second.catalog) == len(first.catalog) and "phone-xiaomi-new" not in second.catalog


def test_a_record_that_is_not_an_object_is_refused(small_recommender):
    with pytest.raises(QueryError, match="object"):
        small_recommender.upsert_product(["phone-xiaomi-new"])


def test_after_a_purchase_the_item_is_gone_and_its_accessory_raised(two_rich_processes):
    first, second = two_rich_processes
    buyer = "fresh-buyer"
    for item in ("phone-apple-a", "phone-apple-b", "laptop-apple-a"):
        second.record_event(buyer, item, "view")
    before = second.recommend(RecommendationQuery(user_id=buyer, k=3, exclude_seen=False))
    assert "phone-apple-a" in ids(before) and "accessory-apple-charger" not in ids(before)
    first.record_event(buyer, "phone-apple-a", "purchase")
    after = second.recommend(RecommendationQuery(user_id=buyer, k=3, exclude_seen=False))
    assert "phone-apple-a" not in ids(after)
    assert ids(after)[0] == "accessory-apple-charger"
    assert after[0].reason.code == "fits_purchase" and after[0].reason.params == {"item": "phone-apple-a"}


def test_a_product_bought_a_hundred_times_this_hour_rises_for_everybody(two_processes):
    first, second = two_processes
    query = RecommendationQuery(category="phone", k=10)  # a shopper with no history: popularity alone
    before = ids(second.recommend(query))
    underdog = before[-1]
    now = pd.Timestamp.now(tz="UTC")
    purchases = pd.DataFrame([(now, f"buyer-{i}", f"buyer-{i}-s", "purchase", underdog, None) for i in range(100)],
                             columns=["timestamp", "user_id", "session_id", "event_type", "item_id", "value"])
    first.store.append_events(purchases)
    after = ids(second.recommend(query))
    assert after[0] == underdog and before[0] != underdog
    assert ids(first.recommend(query))[0] == underdog  # the writer too


def test_market_counters_forget_what_left_the_window(small_recommender):
    clock = [datetime.now(timezone.utc)]
    market = MarketCounters(small_recommender.store, window=timedelta(hours=1), clock=lambda: clock[0])
    market.refresh()
    index, n = small_recommender.catalog.index, len(small_recommender.catalog)
    assert not market.as_array(index, n).any()  # bound to this catalog: kept in step from here on
    small_recommender.record_event("buyer", "phone-xiaomi-b", "purchase")
    small_recommender.record_event("buyer", "phone-xiaomi-b", "view")
    market.refresh()
    assert market.counts() == {"phone-xiaomi-b": pytest.approx(1.2)}
    expected = [1.2 if i == index["phone-xiaomi-b"] else 0.0 for i in range(n)]
    assert market.as_array(index, n) == pytest.approx(expected)
    assert market.as_array(dict(index), n) == pytest.approx(expected)  # rebuilt for another catalog
    clock[0] += timedelta(hours=1, minutes=2)
    market.refresh()
    assert market.counts() == {} and not market.as_array(index, n).any()


def test_events_older_than_the_window_are_history_not_market(small_recommender):
    market = MarketCounters(small_recommender.store)
    market.refresh()
    old = datetime.now(timezone.utc) - timedelta(days=2)
    small_recommender.store.record_event("late", "phone-xiaomi-b", "purchase", timestamp=old)
    market.refresh()
    assert market.counts() == {}


def test_an_explicit_dislike_counts_as_the_lowest_rating_until_a_good_one():
    t = pd.Timestamp("2026-11-01T00:00:00Z")
    rows = [(t, "u", "s", "dislike", "a", None), (t, "u", "s", "dislike", "b", None),
            (t + pd.Timedelta(minutes=1), "u", "s", "rating", "b", 5.0)]
    frame = pd.DataFrame(rows, columns=["timestamp", "user_id", "session_id", "event_type", "item_id", "value"])
    assert disliked_items(frame, {"a": 0, "b": 1}) == {"u": {0}}


def test_health_says_what_serves_and_follows_catalog_changes(two_processes):
    first, second = two_processes
    before = second.health()
    assert before.database_reachable and before.retrain.state == "idle" and before.catalog_change == 0
    assert before.products == before.trained_on_products == len(first.catalog)
    assert set(before.models) == set(first.settings.models) and before.trained_on_events == first.store.event_count()
    first.upsert_product(new_phone())
    after = second.health()
    assert after.products == before.products + 1 and after.catalog_change == 1
    assert after.catalog_hash != before.catalog_hash and after.trained_on_products == before.trained_on_products
