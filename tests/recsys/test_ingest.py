"""Events as the shop API and the chat send them: checked, stored once, merged at log-in, purchases acted on."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from recsys import EventInput, QueryError, RecommendationQuery


def count(recommender) -> int:
    return recommender.store.event_count()


def test_an_event_id_is_stored_once_even_within_one_batch(small_recommender):
    before = count(small_recommender)
    event = EventInput(type="view", product_id="phone-xiaomi-a", user_id="u", event_id="same")
    outcomes = small_recommender.record_events([event, event])
    assert [o.status for o in outcomes] == ["stored", "duplicate"]
    assert [o.status for o in small_recommender.record_events([event])] == ["duplicate"]
    assert count(small_recommender) == before + 1


@pytest.mark.parametrize("event, field", [
    (EventInput(type="buy", product_id="phone-xiaomi-a", user_id="u"), "type"),
    (EventInput(type="view", product_id="nope", user_id="u"), "product_id"),
    (EventInput(type="view", product_id="phone-xiaomi-a"), "user_id"),
    (EventInput(type="rating", product_id="phone-xiaomi-a", user_id="u", value=6), "value"),
    (EventInput(type="rating", product_id="phone-xiaomi-a", user_id="u"), "value"),
    (EventInput(type="view", product_id="phone-xiaomi-a", user_id="u", value=3), "value"),
    (EventInput(type="view", product_id="phone-xiaomi-a", user_id="u",
                timestamp=datetime.now(timezone.utc) + timedelta(days=2)), "timestamp"),
    (EventInput(type="view", product_id="phone-xiaomi-a", user_id="x" * 200), "user_id"),
    (EventInput(type="view", product_id="phone-xiaomi-a", user_id="u", properties={"blob": "x" * 5000}), "properties"),
])
def test_a_rejected_event_names_its_field_and_stores_nothing_while_the_rest_of_the_batch_is_stored(small_recommender, event, field):
    before = count(small_recommender)
    good = EventInput(type="view", product_id="phone-xiaomi-b", user_id="u")
    outcomes = small_recommender.record_events([event, good])
    assert (outcomes[0].status, outcomes[0].field) == ("rejected", field)
    assert outcomes[1].status == "stored"
    assert count(small_recommender) == before + 1


def test_a_session_is_merged_into_the_user_when_an_event_carries_both(small_recommender):
    small_recommender.record_events([EventInput(type="view", product_id="laptop-lenovo-a", session_id="s-1"),
                                     EventInput(type="cart", product_id="laptop-lenovo-b", session_id="s-1")])
    assert len(small_recommender.shopper_data("session:s-1")) == 2
    small_recommender.record_events([EventInput(type="view", product_id="laptop-apple-a", user_id="alice", session_id="s-1")])
    assert small_recommender.shopper_data("session:s-1") == []
    assert [e.product.id for e in small_recommender.shopper_data("alice")] == ["laptop-lenovo-a", "laptop-lenovo-b", "laptop-apple-a"]


def test_the_chat_path_refuses_bad_events_with_a_query_error(small_recommender):
    before = count(small_recommender)
    with pytest.raises(QueryError, match="unknown product"):
        small_recommender.record_event("u", "nope", "view")
    assert count(small_recommender) == before


def test_a_dislike_event_hides_the_product(small_recommender):
    shown = [r.product.id for r in small_recommender.recommend(RecommendationQuery(user_id="d", category="phone", k=10))]
    small_recommender.record_events([EventInput(type="dislike", product_id=shown[0], user_id="d")])
    again = [r.product.id for r in small_recommender.recommend(RecommendationQuery(user_id="d", category="phone", k=10))]
    assert shown[0] not in again


def test_after_a_purchase_the_item_is_gone_and_an_accessory_that_fits_it_appears(rich_recommender):
    fits = {p.id: p.fits for p in rich_recommender.catalog.products if p.fits}
    accessory_id, devices = next(iter(fits.items()))
    device = devices[0]
    rich_recommender.record_events([EventInput(type="purchase", product_id=device, user_id="buyer")])
    shown = [r for r in rich_recommender.recommend(RecommendationQuery(user_id="buyer", k=5))]
    ids = [r.product.id for r in shown]
    assert device not in ids
    assert accessory_id in ids
    assert next(r for r in shown if r.product.id == accessory_id).reason.code == "fits_purchase"
