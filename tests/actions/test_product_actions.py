"""Product info, comparison, similar items and accessories, with real trackers, in both languages."""
import pytest

from actions.accessories import ActionFindAccessories
from actions.cart import ActionAddToCart
from actions.compare import ActionCompareProducts
from actions.feedback import ActionGiveFeedback
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


@pytest.mark.parametrize(
    "action, text, intent",
    [
        (ActionProductInfo(), "how much is the Nokia 9999 Ultra", "ask_product_info"),
        (ActionGiveFeedback(), "i love the Nokia 9999 Ultra", "give_feedback"),
        (ActionAddToCart(), "add the Nokia 9999 Ultra to my cart", "add_to_cart"),
        (ActionFindSimilar(), "something like the Nokia 9999 Ultra", "find_similar"),
        (ActionFindAccessories(), "cases for the Nokia 9999 Ultra", "find_accessories"),
        (ActionCompareProducts(), "compare the Xiaomi A with the Nokia 9999 Ultra", "compare_products"),
    ],
)
def test_a_named_product_we_lack_is_not_replaced_by_the_last_one(recommender, action, text, intent):
    """"It" must not stand in for a product the shopper named: no answer, rating or cart about the wrong one."""
    before = recommender.shopper_data("shopper-test")
    entities = [{"entity": "product", "value": "Nokia 9999 Ultra"}]
    messages, slots = run(action, tracker(text, intent, entities, slots={"last_product": "phone-xiaomi-b"}))
    assert texts(messages).startswith('Sorry, I couldn\'t find "Nokia 9999 Ultra"'), texts(messages)
    assert not payloads(messages) and "last_product" not in slots
    assert recommender.shopper_data("shopper-test") == before  # nothing recorded


ONE_PRODUCT_ACTIONS = [(ActionProductInfo(), "ask_product_info"), (ActionAddToCart(), "add_to_cart"),
                       (ActionFindSimilar(), "find_similar"), (ActionFindAccessories(), "find_accessories")]


@pytest.mark.parametrize("action, intent", ONE_PRODUCT_ACTIONS, ids=lambda a: a.name() if hasattr(a, "name") else None)
@pytest.mark.parametrize("text, expected", [("what about it?", "Which product do you mean?"), ("这个呢", "你指的是哪款商品")])
def test_an_action_about_one_product_asks_which_when_none_is_meant(recommender, action, intent, text, expected):
    """No product named, pointed at or talked about before: ask, and neither answer nor record anything."""
    messages, slots = run(action, tracker(text, intent))
    assert texts(messages).startswith(expected) and len(messages) == 1
    assert set(slots) == {"language"}
    assert recommender.shopper_data("shopper-test") == []


@pytest.mark.parametrize("text", ["add the lenovo yoga 9 to my cart", "add the z99 to my cart", "把联想小新加入购物车"])
def test_a_product_nlu_did_not_tag_is_not_replaced_by_the_last_one(recommender, text):
    """Another brand or a model code in the text: asking beats carting the wrong product."""
    messages, slots = run(ActionAddToCart(), tracker(text, "add_to_cart", slots={"last_product": "phone-xiaomi-b"}))
    assert texts(messages).startswith(("Which product do you mean?", "你指的是哪款商品")) and not slots.get("last_product")
    assert recommender.shopper_data("shopper-test") == []


@pytest.mark.parametrize("text", ["add it to my cart", "加入购物车", "add the xiaomi to my cart", "add the xiaomi b to cart"])
def test_it_means_the_last_product(recommender, text):
    messages, slots = run(ActionAddToCart(), tracker(text, "add_to_cart", slots={"last_product": "phone-xiaomi-b"}))
    assert slots["last_product"] == "phone-xiaomi-b", texts(messages)


@pytest.mark.parametrize("text", ["does it have an i9?", "is it ip68", "支持 wifi6e 吗", "does it do usb4 and bt5"])
def test_a_spec_with_digits_is_not_another_model(text):
    """"i9" or "ip68" asks about the last product's specs; only a model code ("z99") names another product.

    """
    messages, slots = run(ActionProductInfo(), tracker(text, "ask_product_info", slots={"last_product": "phone-xiaomi-b"}))
    assert slots["last_product"] == "phone-xiaomi-b" and any(n in texts(messages) for n in ("Xiaomi B", "小米 B"))


@pytest.mark.parametrize("text", ["how big is its battery", "电池多大"])
def test_a_spec_question_gets_one_answer(text):
    """One answer per turn: the spec asked about, without the whole description after it (issue 20)."""
    messages, _ = run(ActionProductInfo(), tracker(text, "ask_product_info", slots={"last_product": "phone-xiaomi-b"}))
    assert len(messages) == 1 and "¥2,499" not in texts(messages)


@pytest.mark.parametrize("text", ["这款手表能换表带吗", "is this laptop any good", "那个耳机多少钱"])
def test_another_kind_of_product_pointed_at_is_not_the_last_one(text):
    """"这款手表" after a phone is about some watch: asking beats describing the phone."""
    messages, slots = run(ActionProductInfo(), tracker(text, "ask_product_info", slots={"last_product": "phone-xiaomi-b"}))
    assert texts(messages).startswith(("Which product do you mean?", "你指的是哪款商品")), texts(messages)
    assert "last_product" not in slots


@pytest.mark.parametrize("text", ["这款手机多少钱", "is this phone any good", "how is the camera on it", "这个手机的相机怎么样"])
def test_the_same_kind_of_product_or_a_feature_still_means_the_last_one(text):
    messages, slots = run(ActionProductInfo(), tracker(text, "ask_product_info", slots={"last_product": "phone-xiaomi-b"}))
    assert slots["last_product"] == "phone-xiaomi-b" and "¥2,499" in texts(messages)


@pytest.mark.parametrize("mention", ["xiaomi", "Xiaomi-B"])
def test_part_of_the_last_products_name_still_means_it(mention):
    entities = [{"entity": "product", "value": mention}]
    messages, slots = run(ActionProductInfo(), tracker(f"how much is the {mention}", "ask_product_info", entities,
                                                       slots={"last_product": "phone-xiaomi-b"}))
    assert slots["last_product"] == "phone-xiaomi-b" and "¥2,499" in texts(messages)


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
