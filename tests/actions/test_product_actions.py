"""Product info, comparison, similar items and accessories, with real trackers, in both languages."""
import pytest

from actions.accessories import ActionFindAccessories
from actions.compare import ActionCompareProducts
from actions.product_info import ActionProductInfo
from actions.similar import ActionFindSimilar
from tests.actions.trackers import payloads, run, texts, tracker

SHOWN = {"last_recommendations": ["phone-xiaomi-a", "phone-xiaomi-b", "phone-apple-a"]}


@pytest.fixture(autouse=True)
def recommender(serve, rich_recommender):
    return serve(rich_recommender)


def test_product_info_by_name_in_english(recommender):
    messages, slots = run(ActionProductInfo(), tracker("how much is the Xiaomi B?", "ask_product_info"))
    assert "Xiaomi B — ¥2,499" in texts(messages)
    assert "RAM (GB): 8" in texts(messages)
    assert payloads(messages)[0]["products"][0]["id"] == "phone-xiaomi-b"
    assert slots["last_product"] == "phone-xiaomi-b" and slots["language"] == "en"
    assert recommender.history("shopper-test")[0, recommender.catalog.index["phone-xiaomi-b"]] > 0  # a view was recorded


def test_product_info_by_position_in_chinese():
    messages, slots = run(ActionProductInfo(), tracker("第二个多少钱", "ask_product_info", slots=SHOWN))
    assert "小米 B — ¥2,499" in texts(messages) and "运行内存 (GB)：8" in texts(messages)
    assert slots["last_product"] == "phone-xiaomi-b" and slots["language"] == "zh"


@pytest.mark.parametrize(
    "text, entities, slots, expected",
    [
        ("does the Xiaomi B have NFC?", [{"entity": "feature", "value": "nfc"}], {}, "Yes, the Xiaomi B has NFC."),
        ("小米 A 有NFC吗", [], {}, "没有，小米 A不支持NFC。"),
        ("what's the battery of the first one", [], SHOWN, "Xiaomi A — battery life: Battery (mAh): 5000."),
        ("is it waterproof?", [], {"last_product": "phone-apple-a"}, "I don't have water resistance details for the Apple A"),
    ],
)
def test_feature_questions(text, entities, slots, expected):
    messages, _ = run(ActionProductInfo(), tracker(text, "ask_product_info", entities, slots=slots))
    assert expected in texts(messages)


@pytest.mark.parametrize(
    "text, entities, expected",
    [
        ("how much is the Nokia 3310?", [{"entity": "product", "value": "Nokia 3310"}], "couldn't find \"Nokia 3310\""),
        ("诺基亚 3310 多少钱", [{"entity": "product", "value": "诺基亚 3310"}], "没有找到“诺基亚 3310”"),
        ("how much is it?", [], "Which product do you mean?"),
        ("它多少钱", [], "你指的是哪款商品"),
    ],
)
def test_unknown_or_missing_products_get_a_helpful_answer(text, entities, expected):
    messages, _ = run(ActionProductInfo(), tracker(text, "ask_product_info", entities))
    assert expected in texts(messages)


def test_compare_named_products_side_by_side():
    messages, slots = run(ActionCompareProducts(), tracker("compare Xiaomi A and Apple A", "compare_products"))
    text = texts(messages)
    assert "Xiaomi A and Apple A side by side" in text
    assert "Price: ¥1,299 | ¥5,999" in text and "RAM (GB): 6 | 8" in text and "NFC: no | yes" in text
    comparison = payloads(messages)[0]
    assert comparison["type"] == "comparison" and [p["id"] for p in comparison["products"]] == ["phone-xiaomi-a", "phone-apple-a"]
    assert {row["spec"] for row in comparison["rows"]} >= {"ram_gb", "storage_gb", "battery_mah"}


def test_compare_positions_in_chinese():
    messages, _ = run(ActionCompareProducts(), tracker("比较一下第一个和第三个", "compare_products", slots=SHOWN))
    assert "小米 A和苹果 A对比" in texts(messages) and "价格：¥1,299 | ¥5,999" in texts(messages)


def test_compare_them_means_the_list_just_shown():
    messages, _ = run(ActionCompareProducts(), tracker("compare them", "compare_products", slots=SHOWN))
    assert len(payloads(messages)[0]["products"]) == 3


def test_compare_needs_two_products():
    messages, _ = run(ActionCompareProducts(), tracker("compare the Xiaomi A", "compare_products"))
    assert "two or three products" in texts(messages)


def test_similar_items_stay_in_the_category():
    messages, slots = run(ActionFindSimilar(), tracker("anything like the Xiaomi A?", "find_similar"))
    products = payloads(messages)[0]["products"]
    assert texts(messages).startswith("Similar to the Xiaomi A:")
    assert products and all(p["category"] == "phone" and p["id"] != "phone-xiaomi-a" for p in products)
    assert slots["last_recommendations"] == [p["id"] for p in products]


def test_similar_in_chinese_by_position():
    messages, _ = run(ActionFindSimilar(), tracker("跟第二个差不多的还有吗", "find_similar", slots=SHOWN))
    assert texts(messages).startswith("和小米 B相似的：")


def test_accessories_that_fit():
    messages, _ = run(ActionFindAccessories(), tracker("what accessories fit the Apple A?", "find_accessories"))
    assert [p["id"] for p in payloads(messages)[0]["products"]] == ["accessory-apple-charger"]
    assert payloads(messages)[0]["products"][0]["reason"] == "fits the Apple A"


def test_no_accessories_is_said_politely_in_chinese():
    messages, _ = run(ActionFindAccessories(), tracker("小米 A 有什么配件", "find_accessories"))
    assert "暂时还没有适配小米 A的配件" in texts(messages)
