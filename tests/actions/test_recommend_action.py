"""action_recommend_products with real Rasa SDK trackers, in both languages."""
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker

from actions.recommend import ActionRecommendProducts
from actions.render import ITEM_REASONS
from tests.actions import trackers


def tracker(text: str, entities: Optional[List[Dict[str, Any]]] = None, sender: str = "shopper-test", slots=None) -> Tracker:
    return trackers.tracker(text, entities=entities, sender=sender, slots=slots)


@pytest.fixture(autouse=True)
def recommender(serve, small_recommender):
    return serve(small_recommender)


def run(t: Tracker):
    return trackers.run(ActionRecommendProducts(), t)


def payload(messages):
    custom = [m["custom"] for m in messages if m.get("custom")]
    assert len(custom) == 1
    return custom[0]


def test_english_request_with_entities(recommender):
    messages, slots = run(tracker("recommend me a phone under 3000", [{"entity": "category", "value": "phone"}, {"entity": "price", "value": "3000"}]))
    cards = payload(messages)
    assert cards["type"] == "products"
    assert cards["products"] and all(p["category"] == "phone" and p["price"] <= 3000 for p in cards["products"])
    assert all(p["id"] in recommender.catalog for p in cards["products"])
    assert set(cards["products"][0]) >= {"id", "name", "brand", "category", "price", "currency", "rating", "reason"}
    assert messages[0]["text"].startswith("Here are")
    assert "under ¥3,000" in messages[0]["text"]
    assert slots["language"] == "en" and slots["category"] == "phone" and slots["max_price"] == 3000


def test_chinese_request_without_entities_uses_aliases_and_parser(recommender):
    messages, slots = run(tracker("推荐一款3000元以内的手机"))
    cards = payload(messages)
    assert all(p["category"] == "phone" and p["price"] <= 3000 for p in cards["products"])
    assert messages[0]["text"].startswith("为你推荐")
    assert "3,000元以内的手机" in messages[0]["text"]
    assert cards["products"][0]["name"].startswith("小米")  # Chinese product names
    assert slots["language"] == "zh"


def test_known_shopper_hears_a_personal_reason():
    messages, _ = run(tracker("any phone for me?", sender="xiaomi-fan-1"))
    cards = payload(messages)
    assert cards["products"][0]["id"] == "phone-xiaomi-c"
    # xiaomi-fan-1 viewed phones a and b: the reason names one of them, in words of its own kind.
    first = cards["products"][0]
    assert first["reason_code"] in ITEM_REASONS
    assert "Xiaomi" in first["reason"]
    assert any(words in first["reason"] for words in ("also liked this", "similar to", "pick this next"))
    assert messages[0]["text"].startswith("Based on what you've looked at")


def test_brand_filter():
    messages, slots = run(tracker("苹果手机", [{"entity": "brand", "value": "apple"}, {"entity": "category", "value": "phone"}]))
    assert {p["brand"] for p in payload(messages)["products"]} == {"apple"}
    assert slots["brand"] == "apple"


@pytest.mark.parametrize(
    "text, entities, expected",
    [
        ("recommend me a car under 3000", [{"entity": "category", "value": "car"}], "I can't help with car"),
        ("推荐一辆汽车", [{"entity": "category", "value": "汽车"}], "汽车不在我的范围内"),
        ("any tablets under 3000?", [], "we don't carry tablets yet"),
        ("laptop under 100", [], "The cheapest is"),
        ("100元以内的笔记本", [], "最便宜的是"),
        ("recommend something", [], "What are you shopping for?"),
        ("laptop between 9000 and 1", [], "between ¥1 and ¥9,000"),  # a range given backwards is still understood
    ],
)
def test_polite_answers_without_exceptions(text, entities, expected):
    messages, _ = run(tracker(text, entities))
    assert expected in " ".join(m.get("text") or "" for m in messages)


def test_recommender_failure_is_a_polite_message(unavailable):
    messages, _ = run(tracker("推荐手机"))
    assert messages[0]["text"] == "抱歉，推荐服务暂时不可用，请稍后再试。" or "unavailable" in messages[0]["text"]


# -- corrections and questions -----------------------------------------------------------

SHOWN_XIAOMI = {"category": "phone", "last_recommendations": ["phone-xiaomi-b", "phone-xiaomi-c"]}


def test_cheaper_goes_below_the_middle_of_the_list_shown_with_new_products():
    messages, slots = run(tracker("something cheaper", slots=SHOWN_XIAOMI))
    products = payload(messages)["products"]
    assert products and all(p["price"] < (2499 + 3999) / 2 and p["category"] == "phone" for p in products)
    assert not {p["id"] for p in products} & set(SHOWN_XIAOMI["last_recommendations"])
    assert slots["max_price"] < (2499 + 3999) / 2


def test_another_brand_excludes_the_brands_shown():
    messages, _ = run(tracker("换个牌子", slots=SHOWN_XIAOMI))
    assert {p["brand"] for p in payload(messages)["products"]} == {"apple"}


def test_a_new_category_starts_afresh():
    messages, slots = run(tracker("actually make it a laptop", [{"entity": "category", "value": "laptop"}],
                                  slots={**SHOWN_XIAOMI, "brand": "xiaomi", "max_price": 3000.0}))
    assert all(p["category"] == "laptop" for p in payload(messages)["products"])
    assert slots["brand"] is None and slots["max_price"] is None


def test_budget_and_brand_carry_over_within_a_category():
    messages, _ = run(tracker("more options", slots={"category": "phone", "brand": "xiaomi", "max_price": 3000.0}))
    assert all(p["brand"] == "xiaomi" and p["price"] <= 3000 for p in payload(messages)["products"])


def test_skip_recommends_with_what_is_known():
    latest = tracker("随便", slots={"category": "phone"})
    latest.latest_message["intent"] = {"name": "skip", "confidence": 0.99}
    messages, _ = run(latest)
    assert payload(messages)["products"] and all(p["category"] == "phone" for p in payload(messages)["products"])


def test_what_matters_reorders_and_explains(serve, rich_recommender):
    serve(rich_recommender)  # the catalog with specs
    messages, _ = run(tracker("a phone with long battery life", [{"entity": "category", "value": "phone"},
                                                                 {"entity": "feature", "value": "battery"}]))
    cards = payload(messages)["products"]
    assert cards[0]["id"] == "phone-xiaomi-b" and cards[0]["reason_code"] == "strong_feature"
    assert "Battery (mAh): 5100" in cards[0]["reason"]
    assert messages[0]["text"].startswith("Here are")  # a new shopper: nothing they looked at to cite


def test_unexpected_errors_are_polite(monkeypatch, recommender):
    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(recommender, "recommend", fail)
    messages, _ = run(tracker("推荐一款手机"))
    assert "出了点问题" in messages[-1]["text"]
