"""End to end: the real Rasa server and action server, talked to over the REST channel.

Starts both servers on free ports with the trained models in ``models/`` (``make test``
trains them first), then posts what a shopper would type.
"""
from __future__ import annotations

import json
import statistics

import pytest
import requests

from tests.e2e.chat import custom_of, parse, products_in, say, stored_user_texts, texts_of

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "message, language_marker",
    [("recommend me a phone under 3000", "Here are"), ("推荐一款3000元以内的手机", "为你推荐")],
)
def test_phone_under_3000(rasa_url, catalog, message, language_marker):
    replies = say(rasa_url, f"e2e-{language_marker}", message)
    products = products_in(replies)
    assert len(products) >= 3
    for product in products:
        assert product["category"] == "phone"
        assert product["price"] <= 3000
        assert product["id"] in catalog
        assert catalog.get(product["id"]).price == product["price"]
        assert product["currency"] == "CNY" and product["reason"]
    text = "\n".join(r.get("text", "") for r in replies)
    assert language_marker in text
    assert all(p["name"] in text for p in products)


def test_parse_reports_intent_and_entities(rasa_url, rasa_token):
    parsed = parse(rasa_url, rasa_token, "推荐一款3000元以内的手机")
    assert parsed["intent"]["name"] == "request_recommendation"
    entities = {(e["entity"], e["value"]) for e in parsed["entities"]}
    assert ("category", "phone") in entities and ("language", "zh") in entities


@pytest.mark.parametrize(
    "message, expected",
    [
        ("hi", "Daogou"),
        ("你好", "导购"),
        ("any tablets under 2000?", "tablets"),
        ("推荐一款100元以内的笔记本", "最便宜的是"),
    ],
)
def test_other_turns_answer_in_the_shoppers_language(rasa_url, message, expected):
    replies = say(rasa_url, "e2e-other", message)
    assert expected in "\n".join(r.get("text", "") for r in replies), json.dumps(replies, ensure_ascii=False)


@pytest.mark.parametrize("message", ["", " ", "x" * 5000, "🙂" * 50, '{"json": true}'])
def test_odd_messages_get_an_answer_not_an_error(rasa_url, message):
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": "e2e-odd", "message": message}, timeout=60)
    assert response.status_code == 200


CATEGORY_REQUESTS = {
    "phone": ("recommend me a phone", "推荐一款手机"),
    "laptop": ("any good laptops?", "推荐个笔记本"),
    "tablet": ("I need a tablet", "想买个平板"),
    "headphones": ("recommend some earbuds", "推荐一款蓝牙耳机"),
    "smartwatch": ("looking for a smartwatch", "推荐个智能手表"),
    "camera": ("suggest a camera", "想买个相机"),
    "monitor": ("recommend a monitor", "推荐一款显示器"),
    "tv": ("I want a new tv", "推荐一款电视"),
    "speaker": ("recommend a bluetooth speaker", "推荐个音箱"),
    "accessory": ("I need a charger", "推荐一个充电宝"),
}


@pytest.mark.parametrize("category, language", [(c, lang) for c in CATEGORY_REQUESTS for lang in (0, 1)])
def test_every_category_in_both_languages(rasa_url, catalog, category, language):
    """Only the category said: the form asks for a budget or main use; "anything" skips it."""
    message, sender = CATEGORY_REQUESTS[category][language], f"e2e-cat-{category}-{language}"
    question = texts_of(say(rasa_url, sender, message))
    assert ("budget" if language == 0 else "预算") in question, question
    products = products_in(say(rasa_url, sender, ("anything", "随便")[language]))
    assert products and all(p["category"] == category and p["id"] in catalog for p in products), message


# -- conversations: one per main path, in each language ------------------------------

SHOPPING_PATHS = {
    "en": {
        "ask": "recommend me a phone under 3000", "cheaper": "something cheaper", "other_brand": "another brand please",
        "info": "tell me more about the second one", "compare": "compare the first two", "cart": "add the first one to my cart",
        "show": "what do you know about me", "forget": "forget me", "switch": "actually make it a laptop",
        "switch_budget": "under 8000", "confirm": "yes",
        "markers": {"asks": "Are you sure?", "info": "Key specs", "cart": "to your cart", "show": "stored about you", "forget": "deleted", "compare": "side by side",
                    "switch": "budget for laptops"},
    },
    "zh": {
        "ask": "推荐一款3000元以内的手机", "cheaper": "有没有更便宜的", "other_brand": "换个牌子",
        "info": "第二个详细介绍一下", "compare": "前两个对比一下", "cart": "把第一个加入购物车",
        "show": "看看我的数据", "forget": "删除我的数据", "switch": "还是换成笔记本吧",
        "switch_budget": "8000以内", "confirm": "确定",
        "markers": {"asks": "确定要删除吗", "info": "主要参数", "cart": "加入购物车", "show": "存储的关于你的数据", "forget": "删除了", "compare": "对比", "switch": "买笔记本电脑的话"},
    },
}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_shopping_conversation(rasa_url, workdir, catalog, language):
    """Ask, narrow down (cheaper, another brand), switch category, learn, compare, buy, see and erase my data."""
    path, sender = SHOPPING_PATHS[language], f"e2e-path-{language}"
    markers = path["markers"]
    first = products_in(say(rasa_url, sender, path["ask"]))
    assert all(p["category"] == "phone" and p["price"] <= 3000 for p in first)

    cheaper = products_in(say(rasa_url, sender, path["cheaper"]))
    assert cheaper and max(p["price"] for p in cheaper) < statistics.median(p["price"] for p in first)
    assert not {p["id"] for p in cheaper} & {p["id"] for p in first}

    others = products_in(say(rasa_url, sender, path["other_brand"]))
    assert others and not {p["brand"] for p in others} & {p["brand"] for p in cheaper}
    assert all(p["category"] == "phone" for p in others)

    replies = say(rasa_url, sender, path["info"])
    assert markers["info"] in texts_of(replies) and others[1]["name"] in texts_of(replies)

    comparison = custom_of(say(rasa_url, sender, path["compare"]), "comparison")
    assert [p["id"] for p in comparison["products"]] == [p["id"] for p in others[:2]]

    replies = say(rasa_url, sender, path["cart"])
    assert markers["cart"] in texts_of(replies) and others[0]["name"] in texts_of(replies)

    replies = say(rasa_url, sender, path["show"])
    assert markers["show"] in texts_of(replies)
    assert {e["event_type"] for e in custom_of(replies, "shopper_data")["events"]} >= {"cart", "view"}

    assert markers["switch"] in texts_of(say(rasa_url, sender, path["switch"]))  # the laptop's budget first
    laptops = products_in(say(rasa_url, sender, path["switch_budget"]))
    assert laptops and all(p["category"] == "laptop" and p["price"] <= 8000 for p in laptops)

    assert path["ask"] in stored_user_texts(workdir, sender)
    assert markers["asks"] in texts_of(say(rasa_url, sender, path["forget"]))  # nothing erased before a yes
    assert path["ask"] in stored_user_texts(workdir, sender)
    assert markers["forget"] in texts_of(say(rasa_url, sender, path["confirm"]))
    assert not stored_user_texts(workdir, sender)  # the stored conversation is erased too, with the request
    assert "shopper_data" not in json.dumps(say(rasa_url, sender, path["show"]))
    assert stored_user_texts(workdir, sender) == [path["show"]]


@pytest.mark.parametrize(
    "message, product_name, expected",
    [
        ("does the Pixel 8 have wireless charging?", "Google Pixel 8", "wireless charging"),
        ("iPhone 15 多少钱", "苹果 iPhone 15", "¥"),
        ("how long is the battery life of the Huawei Watch GT 4", "Huawei Watch GT 4", "Battery life (hours): 336"),
        ("小米14有NFC吗", "小米 14", "NFC"),
    ],
)
def test_product_questions(rasa_url, message, product_name, expected):
    text = texts_of(say(rasa_url, "e2e-info", message))
    assert product_name in text and expected in text


@pytest.mark.parametrize("message", ["compare the iPhone 15 and the Galaxy S23", "小米14和iPhone 15哪个好"])
def test_compare_named_products(rasa_url, message):
    comparison = custom_of(say(rasa_url, "e2e-compare", message), "comparison")
    assert len(comparison["products"]) == 2 and comparison["rows"]


@pytest.mark.parametrize(
    "message, category, marker",
    [
        ("what accessories fit the iPhone 15?", "accessory", "fit the Apple iPhone 15"),
        ("iPhone 15有什么配件", "accessory", "适配苹果 iPhone 15"),
        ("anything similar to the Sony WH-1000XM5?", "headphones", "Similar to"),
        ("有没有和小米14差不多的", "phone", "相似"),
    ],
)
def test_similar_and_accessories(rasa_url, message, category, marker):
    replies = say(rasa_url, "e2e-similar", message)
    assert marker in texts_of(replies)
    assert all(p["category"] == category for p in products_in(replies))


@pytest.mark.parametrize(
    "message, expected",
    [
        ("how long does shipping take", "ship"),
        ("可以退货吗", "退货"),
        ("how long is the warranty", "warranty"),
        ("支持支付宝吗", "支付宝"),
        ("what's the weather like tomorrow", "can't help"),
        ("推荐一台洗衣机", "抱歉"),
        ("what can you do", "compare"),
        ("你能做什么", "对比"),
    ],
)
def test_faq_out_of_scope_and_help(rasa_url, message, expected):
    assert expected in texts_of(say(rasa_url, "e2e-faq", message))


@pytest.mark.parametrize("language, ask, recall", [("en", "recommend me a tablet under 5000", "what did you recommend yesterday?"),
                                                   ("zh", "推荐一款5000以内的平板", "你昨天推荐了什么")])
def test_remembers_recommendations_across_sessions(rasa_url, language, ask, recall):
    sender = f"e2e-memory-{language}"
    shown = products_in(say(rasa_url, sender, ask))
    say(rasa_url, sender, "/session_start")
    replies = say(rasa_url, sender, recall)
    assert [p["id"] for p in products_in(replies)] == [p["id"] for p in shown]


CONTRACT_INTENTS = [
    ("hello there", "greet"), ("再见", "goodbye"), ("thanks a lot", "thank"), ("好的", "affirm"), ("no thanks", "deny"),
    ("推荐一款3000元以内的手机", "request_recommendation"), ("how much is the iPhone 15", "ask_product_info"),
    ("iPhone 15和小米14哪个好", "compare_products"), ("anything similar to the Pixel 8?", "find_similar"),
    ("把第一个加入购物车", "add_to_cart"), ("I don't like the first one", "give_feedback"),
    ("what data do you have on me", "privacy_show_data"), ("删除我的数据", "privacy_forget_me"),
    ("how long does shipping take", "faq"), ("are you a bot?", "bot_challenge"), ("what can you do", "help"),
    ("what's the weather like today", "out_of_scope"),
]


@pytest.mark.parametrize("text, intent", CONTRACT_INTENTS)
def test_contract_intents(rasa_url, rasa_token, text, intent):
    parsed = parse(rasa_url, rasa_token, text)
    assert parsed["intent"]["name"] == intent, parsed["intent"]


def test_mixed_language_message_is_understood(rasa_url, rasa_token):
    parsed = parse(rasa_url, rasa_token, "想要一个 noise cancelling 耳机")
    assert parsed["intent"]["name"] == "request_recommendation"
    entities = {(e["entity"], e["value"]) for e in parsed["entities"]}
    assert ("category", "headphones") in entities and ("language", "zh") in entities


@pytest.mark.parametrize("language, ask, use, category, question", [
    ("en", "recommend me a laptop", "mainly for gaming", "laptop", "mainly use it for"),
    ("zh", "推荐一款手机", "主要是拍照", "phone", "主要用途"),
])
def test_asks_what_matters_and_uses_the_answer(rasa_url, language, ask, use, category, question):
    sender = f"e2e-use-{language}"
    assert question in texts_of(say(rasa_url, sender, ask))
    products = products_in(say(rasa_url, sender, use))
    assert all(p["category"] == category for p in products)
    assert products[0]["reason_code"] == "strong_feature"


@pytest.mark.parametrize("language, ask, answer, max_price", [("en", "recommend me a phone", "3000", 3000),
                                                              ("zh", "推荐一款手机", "三千", 3000),
                                                              ("zh", "想买个笔记本", "四五千", 5000)])
def test_a_bare_budget_answers_the_forms_question(rasa_url, language, ask, answer, max_price):
    """A lone number is easy for NLU to misread; as the answer to the budget question it still counts."""
    sender = f"e2e-bare-{language}-{answer}"
    say(rasa_url, sender, ask)
    products = products_in(say(rasa_url, sender, answer))
    assert products and all(p["price"] <= max_price for p in products)
