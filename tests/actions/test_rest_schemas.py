"""Action output, wrapped as Rasa's REST channel wraps it, matches the schemas in docs/schemas/."""
import pytest

from actions.compare import ActionCompareProducts
from actions.recommend import ActionRecommendProducts
from actions.similar import ActionFindSimilar
from tests.actions.trackers import run, tracker
from tests.rest_schemas import shape_of


@pytest.fixture(autouse=True)
def recommender(serve, rich_recommender):
    return serve(rich_recommender)


def as_rest(messages):
    """CollectingDispatcher messages as REST replies: ``json_message`` becomes ``custom``, empties dropped."""
    replies = []
    for m in messages:
        reply = {"recipient_id": "shopper-test"}
        reply.update({k: v for k, v in m.items() if v not in (None, [], {}, "") and k in ("text", "buttons", "custom")})
        replies.append(reply)
    return replies


@pytest.mark.parametrize("action, text, intent, expected", [
    (ActionRecommendProducts(), "推荐一款手机", "request_recommendation", ["text", "products"]),
    (ActionRecommendProducts(), "recommend me a phone", "request_recommendation", ["text", "products"]),
    (ActionCompareProducts(), "compare Xiaomi A and Apple A", "compare_products", ["text", "comparison"]),
    (ActionFindSimilar(), "anything similar to the Xiaomi A", "find_similar", ["text", "products"]),
])
def test_replies_match_the_documented_shapes(action, text, intent, expected):
    messages, _ = run(action, tracker(text, intent, input_channel="rest"))
    assert [shape_of(r) for r in as_rest(messages)] == expected


def test_a_broken_card_is_caught():
    messages, _ = run(ActionRecommendProducts(), tracker("recommend me a phone", input_channel="rest"))
    broken = as_rest(messages)[1]
    del broken["custom"]["products"][0]["price"]
    with pytest.raises(AssertionError, match="products.json"):
        shape_of(broken)
