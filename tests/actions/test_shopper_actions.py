"""Cart, feedback, privacy and memory actions: what they record and what they say, in both languages."""
import importlib
import pkgutil

import pytest

import actions
from actions.base import ShopAction
from actions.cart import ActionAddToCart
from actions.feedback import ActionGiveFeedback
from actions.memory import ActionRecallRecommendations
from actions.privacy import ActionForgetMe, ActionShowMyData
from tests.actions.trackers import payloads, run, texts, tracker

SHOWN = {"last_recommendations": ["phone-xiaomi-a", "phone-xiaomi-b", "phone-apple-a"]}


@pytest.fixture(autouse=True)
def recommender(serve, rich_recommender):
    return serve(rich_recommender)


def events_of(recommender, user):
    return [(e.event_type, e.product.id, e.value) for e in recommender.shopper_data(user)]


def test_add_to_cart_records_a_cart_event(recommender):
    messages, slots = run(ActionAddToCart(), tracker("put the second one in my cart", "add_to_cart", sender="cart-1", slots=SHOWN))
    assert "Added the Xiaomi B (¥2,499) to your cart" in texts(messages)
    assert events_of(recommender, "cart-1") == [("cart", "phone-xiaomi-b", None)]
    assert slots["last_product"] == "phone-xiaomi-b"


def test_a_cart_shapes_the_next_recommendation(recommender):
    from recsys import RecommendationQuery

    before = recommender.recommend(RecommendationQuery(user_id="cart-2", category="phone", k=3))
    run(ActionAddToCart(), tracker("把Apple A加入购物车", "add_to_cart", sender="cart-2"))
    after = recommender.recommend(RecommendationQuery(user_id="cart-2", category="phone", k=3))
    assert "phone-apple-a" not in [r.product.id for r in after]  # seen items are not suggested again
    assert [r.reason.code for r in after] != [r.reason.code for r in before] or [r.product.id for r in after] != [r.product.id for r in before]


def test_out_of_stock_is_not_added(recommender):
    messages, _ = run(ActionAddToCart(), tracker("我要买这个", "add_to_cart", sender="cart-3", slots={"last_product": "phone-apple-out"}))
    assert "暂时缺货" in texts(messages)
    assert events_of(recommender, "cart-3") == []


def test_add_to_cart_without_a_product_asks_which():
    messages, _ = run(ActionAddToCart(), tracker("add it to the cart", "add_to_cart"))
    assert "Which product do you mean?" in texts(messages)


@pytest.mark.parametrize(
    "text, slots, stars, expected",
    [
        ("I don't like the first one", SHOWN, 1.0, "I won't push the Xiaomi A"),
        ("the second one looks great", SHOWN, 5.0, "Glad you like the Xiaomi B"),
        ("给小米 A打4分", {}, 4.0, "已记录你给小米 A打了4星"),
        ("第三个太丑了", SHOWN, 1.0, "不会再向你推荐苹果 A"),
    ],
)
def test_feedback_is_recorded_as_a_rating(recommender, text, slots, stars, expected):
    messages, _ = run(ActionGiveFeedback(), tracker(text, "give_feedback", sender="fb", slots=slots))
    assert expected in texts(messages)
    assert events_of(recommender, "fb")[-1][0::2] == ("rating", stars)


def test_a_dislike_keeps_the_product_out_of_the_next_list(recommender):
    from actions.recommend import ActionRecommendProducts

    shown = payloads(run(ActionRecommendProducts(), tracker("phones under 3000", sender="fb-3"))[0])[0]["products"]
    slots = {"last_recommendations": [p["id"] for p in shown], "category": "phone", "max_price": 3000.0}
    messages, _ = run(ActionGiveFeedback(), tracker("I don't like the first one", "give_feedback", sender="fb-3", slots=slots))
    assert "won't push" in texts(messages)
    again = payloads(run(ActionRecommendProducts(), tracker("show me phones under 3000 again", sender="fb-3"))[0])[0]["products"]
    assert shown[0]["id"] not in [p["id"] for p in again]


def test_general_feedback_is_acknowledged_without_an_event(recommender):
    messages, _ = run(ActionGiveFeedback(), tracker("推荐得不好", "give_feedback", sender="fb-2"))
    assert "预算、品牌还是用途" in texts(messages)
    assert events_of(recommender, "fb-2") == []


def test_show_my_data_lists_stored_events():
    messages, _ = run(ActionShowMyData(), tracker("what do you know about me", "privacy_show_data", sender="xiaomi-fan-1"))
    assert "Here's what I have stored about you" in texts(messages) and "Xiaomi" in texts(messages)
    data = payloads(messages)[0]
    assert data["type"] == "shopper_data" and data["events"]


def test_show_my_data_for_a_new_shopper_in_chinese():
    messages, _ = run(ActionShowMyData(), tracker("看看我的数据", "privacy_show_data", sender="nobody"))
    assert texts(messages) == "我这里没有你的浏览或购买记录，只保存了我们的对话。说“删除我的数据”，我就会清除。"


def test_forget_me_deletes_events_history_and_memory(recommender):
    assert recommender.shopper_data("xiaomi-fan-2")
    messages, slots = run(ActionForgetMe(), tracker("删除我的数据", "privacy_forget_me", sender="xiaomi-fan-2", slots=SHOWN))
    assert "已完成：删除了" in texts(messages)
    assert recommender.shopper_data("xiaomi-fan-2") == []
    assert recommender.history("xiaomi-fan-2").nnz == 0
    assert slots["last_recommendations"] is None and slots["last_product"] is None
    reasons = {r.reason.code for r in recommender.recommend(__import__("recsys").RecommendationQuery(user_id="xiaomi-fan-2", category="phone"))}
    assert reasons == {"popular"}  # treated as a new shopper


def test_recall_recommendations_across_sessions():
    messages, _ = run(ActionRecallRecommendations(), tracker("what did you recommend yesterday?", "recall_recommendations", slots=SHOWN))
    assert texts(messages).startswith("Here's what I recommended last time:\n1. Xiaomi A")
    assert [p["id"] for p in payloads(messages)[0]["products"]] == SHOWN["last_recommendations"]


def test_recall_without_memory_in_chinese():
    messages, _ = run(ActionRecallRecommendations(), tracker("你昨天推荐了什么", "recall_recommendations"))
    assert "我还没有给你推荐过商品" in texts(messages)


def every_shop_action():
    """One of each action, found as the action server finds them: by importing every module of the package."""
    for module in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{module.name}")
    return [cls() for cls in ShopAction.__subclasses__()]


ACTIONS = every_shop_action()


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name())
@pytest.mark.parametrize("text, expected", [("compare the first two", "unavailable"), ("比较前两个", "暂时不可用")])
def test_every_action_survives_an_unavailable_recommender(unavailable, action, text, expected):
    messages, _ = run(action, tracker(text, slots=SHOWN))
    assert expected in texts(messages)


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name())
def test_every_action_survives_a_failing_recommender(monkeypatch, recommender, action):
    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    for method in ("product", "resolve_product", "find_products", "compare", "similar", "accessories", "record_event",
                   "shopper_data", "forget", "recommend"):
        monkeypatch.setattr(recommender, method, fail)
    messages, _ = run(action, tracker("第一个", slots=SHOWN))
    # The form's questions need none of these methods, nor a recommendation without a category (it asks for one).
    if action.name().startswith("action_ask_") or action.name() == "action_recommend_products":
        assert "出了点问题" not in texts(messages) and ("你想买什么" in texts(messages) or "预算" in texts(messages))
    else:
        assert "出了点问题" in texts(messages) or "你指的是" in texts(messages)
