"""The Recommender facade: constraints, fallbacks, reasons and artefacts."""
import json

import pytest

from recsys import RecommendationQuery, Recommender
from recsys.facade import QueryError
from recsys.models import ArtifactError
from tests.conftest import SMALL_CATALOG, make_product, write_catalog


def ids(recommendations):
    return [r.product.id for r in recommendations]


def test_unknown_shopper_gets_popular_products_within_constraints(small_recommender):
    recs = small_recommender.recommend(RecommendationQuery(user_id="never-seen", category="phone", max_price=3000, k=5))
    assert ids(recs) and all(r.product.category == "phone" and r.product.price <= 3000 and r.product.in_stock for r in recs)
    assert "phone-apple-out" not in ids(recs)  # out of stock
    assert {r.reason.code for r in recs} == {"popular"}
    assert recs[0].reason.params == {"category": "phone", "max_price": 3000}


def test_known_shopper_gets_personal_recommendations_with_reasons(small_recommender):
    # xiaomi-fan-1 saw every Xiaomi phone but the C; the reason names a phone they did see.
    recs = small_recommender.recommend(RecommendationQuery(user_id="xiaomi-fan-1", category="phone", k=1))
    assert ids(recs) == ["phone-xiaomi-c"]
    assert recs[0].reason.code in {"because_you_liked", "similar_to", "next_after"}
    assert recs[0].reason.params["item"] in {"phone-xiaomi-a", "phone-xiaomi-b"}


def test_reasons_never_cite_another_category(small_recommender):
    # xiaomi-fan-0 has only phones in their history: a laptop is explained by taste, not by a phone.
    recs = small_recommender.recommend(RecommendationQuery(user_id="xiaomi-fan-0", k=1))
    assert ids(recs) == ["laptop-lenovo-a"]
    assert recs[0].reason.code == "matches_your_taste"


def test_personal_results_are_topped_up_with_popular_ones(small_recommender):
    recs = small_recommender.recommend(RecommendationQuery(user_id="xiaomi-fan-0", category="phone", k=5))
    assert len(recs) == len(set(ids(recs)))
    assert all(r.product.category == "phone" for r in recs)
    seen = set(small_recommender.history("xiaomi-fan-0").indices)
    assert not {small_recommender.catalog.index[i] for i in ids(recs)} & seen


def test_brand_and_price_range(small_recommender):
    recs = small_recommender.recommend(RecommendationQuery(brand="apple", min_price=5000, max_price=9000, k=10))
    assert sorted(ids(recs)) == ["phone-apple-a", "phone-apple-b"]


def test_excluded_products_are_not_shown(small_recommender):
    shown = ids(small_recommender.recommend(RecommendationQuery(category="phone", k=2)))
    others = ids(small_recommender.recommend(RecommendationQuery(category="phone", k=2, exclude_items=tuple(shown))))
    assert others and not set(others) & set(shown)


def test_budget_below_everything_returns_nothing(small_recommender):
    assert small_recommender.recommend(RecommendationQuery(category="laptop", max_price=100)) == []


@pytest.mark.parametrize(
    "query",
    [
        RecommendationQuery(category="car"),
        RecommendationQuery(brand="acme"),
        RecommendationQuery(min_price=5000, max_price=100),
        RecommendationQuery(max_price=-1),
        RecommendationQuery(max_price=float("nan")),
        RecommendationQuery(k=0),
        RecommendationQuery(k=10_000),
        RecommendationQuery(exclude_items=("no-such-product",)),
    ],
)
def test_bad_queries_are_refused(small_recommender, query):
    with pytest.raises(QueryError):
        small_recommender.recommend(query)


def test_trained_models_are_loaded_not_retrained(small_settings, small_recommender):
    metadata = json.loads((small_settings.model_dir / "metadata.json").read_text())
    assert metadata["n_items"] == 10 and "als" in metadata["models"]
    loaded = Recommender.from_settings(small_settings, train_if_missing=False)
    query = RecommendationQuery(user_id="apple-fan-2", k=3)
    assert ids(loaded.recommend(query)) == ids(small_recommender.recommend(query))


def test_models_for_another_catalog_are_refused_then_retrained(small_settings, small_recommender):
    # A product inserted before others moves their positions: the models would score the wrong items.
    rows = [make_product("phone-xiaomi-new", "phone", "xiaomi", 1999)] + [dict(r) for r in SMALL_CATALOG]
    write_catalog(small_settings.catalog_path.parent, rows)
    with pytest.raises(ArtifactError, match="another catalog"):
        Recommender.from_settings(small_settings, train_if_missing=False)
    retrained = Recommender.from_settings(small_settings, train_if_missing=True)
    assert "phone-xiaomi-new" in retrained.catalog
    assert retrained.store.product_count() == len(rows)


def test_products_appended_to_the_catalog_file_are_served_by_the_trained_models(small_settings, small_recommender):
    """Positions of the trained products do not move, so the models serve on; the new one is scored by content."""
    rows = [dict(r) for r in SMALL_CATALOG] + [make_product("phone-xiaomi-new", "phone", "xiaomi", 1999)]
    write_catalog(small_settings.catalog_path.parent, rows)
    loaded = Recommender.from_settings(small_settings, train_if_missing=False)
    assert loaded.health().trained_on_products == len(SMALL_CATALOG) and len(loaded.catalog) == len(rows)
    assert "phone-xiaomi-new" in ids(loaded.similar("phone-xiaomi-b", k=5))


def test_a_new_shoppers_clicks_shape_their_next_recommendation(small_recommender):
    before = small_recommender.recommend(RecommendationQuery(user_id="newcomer", k=3))
    assert {r.reason.code for r in before} == {"popular"}
    for item in ("phone-apple-a", "phone-apple-b"):
        small_recommender.record_event("newcomer", item, "view")
    after = small_recommender.recommend(RecommendationQuery(user_id="newcomer", k=2))
    assert {r.product.brand for r in after} == {"apple"}
    assert after[0].reason.code in {"because_you_liked", "matches_your_taste"}
    assert "phone-apple-a" not in ids(after)  # already seen
    assert len(small_recommender.store.events_frame(user_id="newcomer")) == 2


def test_a_known_shoppers_new_click_is_used_before_retraining(small_recommender):
    # apple-fan-0 has an Apple history; after heavy Xiaomi interest, Xiaomi phones come first.
    for item in ("phone-xiaomi-a", "phone-xiaomi-b", "phone-xiaomi-c"):
        small_recommender.record_event("apple-fan-0", item, "purchase")
    recs = small_recommender.recommend(RecommendationQuery(user_id="apple-fan-0", category="laptop", k=1))
    assert ids(recs) == ["laptop-lenovo-a"]


def test_a_disliked_product_is_not_recommended_to_that_shopper_again(small_settings, small_recommender):
    query = RecommendationQuery(user_id="picky", category="phone", k=3, exclude_seen=False)
    disliked = ids(small_recommender.recommend(query))[0]
    small_recommender.record_event("picky", disliked, "rating", value=1)
    assert disliked not in ids(small_recommender.recommend(query))
    assert disliked in ids(small_recommender.recommend(RecommendationQuery(user_id="someone-else", category="phone", k=3)))
    restarted = Recommender.from_settings(small_settings, train_if_missing=False)
    assert disliked not in ids(restarted.recommend(query))  # read back from the database
    restarted.record_event("picky", disliked, "rating", value=5)  # changed their mind
    assert disliked in ids(restarted.recommend(query))
    restarted.record_event("picky", disliked, "rating", value=2)
    restarted.forget("picky")
    assert disliked in ids(restarted.recommend(query))  # forgotten means forgotten, dislikes too


@pytest.mark.parametrize(
    "args, message",
    [
        (("someone", "no-such-product", "view"), "unknown product id"),
        (("someone", "phone-xiaomi-a", "wishlist"), "unknown event type"),
        (("someone", "phone-xiaomi-a", "rating"), "rating needs a value"),
        (("", "phone-xiaomi-a", "view"), "shopper id"),
    ],
)
def test_bad_events_are_refused_and_nothing_is_written(small_recommender, args, message):
    count = small_recommender.store.event_count()
    with pytest.raises(QueryError, match=message):
        small_recommender.record_event(*args)
    assert small_recommender.store.event_count() == count


def test_corrupt_metadata_is_a_clear_error(small_settings, small_recommender):
    (small_settings.model_dir / "metadata.json").write_text("{broken")
    with pytest.raises(ArtifactError, match="corrupt"):
        Recommender.from_settings(small_settings, train_if_missing=False)


def test_missing_event_log_is_simulated_with_its_report(small_settings):
    small_settings.events_path.unlink()
    recommender = Recommender.from_settings(small_settings)
    assert small_settings.events_path.exists()
    assert (small_settings.events_path.parent / "REPORT.md").exists()
    assert (small_settings.events_path.parent / "purchase_prices.png").exists()
    assert len(recommender.store.fingerprints()) > 100  # simulated shoppers


def test_new_artefacts_are_reloaded_and_bad_ones_refused(small_settings, small_recommender):
    query = RecommendationQuery(user_id="apple-fan-2", k=3)
    before = ids(small_recommender.recommend(query))
    Recommender.train(small_settings, show_progress=False)  # a retrain elsewhere, same data
    assert small_recommender.reload_models()
    assert ids(small_recommender.recommend(query)) == before
    (small_settings.model_dir / "als.npz").write_bytes(b"not a numpy archive")
    assert not small_recommender.reload_models()  # refused: the models in memory keep serving
    assert ids(small_recommender.recommend(query)) == before
    with pytest.raises(ArtifactError, match="als"):
        Recommender.from_settings(small_settings, train_if_missing=False)


def test_similar_products_stay_in_the_category_and_name_the_product(small_recommender):
    similar = small_recommender.similar("phone-xiaomi-a", k=3)
    assert similar and all(r.product.category == "phone" for r in similar)
    assert "phone-xiaomi-a" not in ids(similar)
    assert {r.reason.code for r in similar} == {"similar_to"}
    assert similar[0].reason.params == {"item": "phone-xiaomi-a"}
    with pytest.raises(QueryError, match="unknown product"):
        small_recommender.similar("no-such-product")


def test_a_product_nobody_touched_has_similar_products_on_day_one(small_settings, small_recommender):
    rows = [dict(r) for r in SMALL_CATALOG] + [make_product("phone-xiaomi-new", "phone", "xiaomi", 1999)]
    write_catalog(small_settings.catalog_path.parent, rows)
    recommender = Recommender.from_settings(small_settings)
    similar = recommender.similar("phone-xiaomi-new", k=2)
    assert [r.product.brand for r in similar] == ["xiaomi", "xiaomi"]
