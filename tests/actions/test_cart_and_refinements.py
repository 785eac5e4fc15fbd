"""Issue 20, third round: emptying the cart is confirmed like forget-me, what fits a product is offered once on
adding it, "lighter / bigger screen / newer" narrow a list by catalog specs, accessories for a device we do not sell."""
from types import SimpleNamespace

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.accessories import accessories_by_model, within_what_was_said
from actions.cart import ActionAddToCart, ActionConfirmEmptyCart, ActionEmptyCart, cart_contents
from actions.confirmations import CONFIRMED, ActionAnswerYesNo
from actions.parsing import Refinement, parse_refinement
from actions.spec_refinement import explain_nothing, narrowed, spec_limits
from recsys import Product, StoredEvent
from tests.actions.trackers import payloads, run, texts, tracker


def product(pid: str, category: str = "laptop", weight=None, screen=None, year=None, compatible=None, stock=5) -> Product:
    specs = {k: v for k, v in (("weight_g", weight), ("screen_in", screen), ("compatible_models", compatible)) if v is not None}
    return Product(id=pid, category=category, brand="apple", model=pid, name={"en": pid, "zh": pid}, price=100.0,
                   list_price=None, stock=stock, rating=4.0, review_count=None, release_year=year, specs=specs,
                   description={}, selling_points={})


def event(kind: str, item: Product) -> StoredEvent:
    return StoredEvent(timestamp="2026-12-04T10:00:00Z", event_type=kind, product=item, value=None)


# -- the cart's contents, and emptying it only on an explicit yes ----------------------------

def test_cart_contents_follow_adds_removes_and_purchases():
    a, b, c = product("a"), product("b"), product("c")
    events = [event("cart", a), event("cart", b), event("cart", a), event("remove_from_cart", a), event("cart", c),
              event("purchase", c), event("view", b), event("remove_from_cart", b), event("remove_from_cart", b)]
    assert [(line.product.id, line.quantity) for line in cart_contents(events)] == [("a", 1)]


@pytest.fixture
def recommender(serve, rich_recommender):
    return serve(rich_recommender)


def _after(question: str, text: str, intent: str, sender: str):
    """A tracker whose previous turn ran ``question``."""
    current = tracker(text, intent, sender=sender)
    current.events[:0] = [{"event": "user", "text": "empty my cart", "parse_data": {"intent": {"name": "empty_cart"}}},
                          {"event": "action", "name": question}, {"event": "action", "name": "action_listen"}]
    return current


def _followups(events):
    return [e["name"] for e in events if e.get("event") == "followup"]


def test_empty_cart_asks_naming_how_many_and_removes_nothing(recommender):
    recommender.record_event("cart-q", "phone-xiaomi-b", "cart")
    recommender.record_event("cart-q", "phone-apple-a", "cart")
    messages, _ = run(ActionConfirmEmptyCart(), tracker("清空购物车", "empty_cart", sender="cart-q"))
    assert "2件" in texts(messages) and "确定" in texts(messages) and "小米 B" in texts(messages)
    assert len(cart_contents(recommender.shopper_data("cart-q"))) == 2


def test_an_empty_cart_is_said_and_not_asked_about(recommender):
    messages, _ = run(ActionConfirmEmptyCart(), tracker("empty my cart", "empty_cart", sender="cart-none"))
    assert "already empty" in texts(messages)


def test_only_an_explicit_yes_empties_the_cart_through_the_one_confirmation_table(recommender):
    assert CONFIRMED["action_confirm_empty_cart"].act == "action_empty_cart"
    events = ActionAnswerYesNo().run(CollectingDispatcher(), _after("action_confirm_empty_cart", "yes", "affirm", "c"), {})
    assert _followups(events) == ["action_empty_cart"]
    for text, intent in [("no", "deny"), ("'; DROP TABLE events; --", "affirm"), ("ok whatever", "affirm")]:
        dispatcher = CollectingDispatcher()
        events = ActionAnswerYesNo().run(dispatcher, _after("action_confirm_empty_cart", text, intent, "c"), {})
        assert _followups(events) == []
        assert "cart stays as it was" in dispatcher.messages[0]["text"]


def test_emptying_removes_every_item_and_keeps_the_history(recommender):
    for item in ("phone-xiaomi-b", "phone-xiaomi-b", "phone-apple-a"):
        recommender.record_event("cart-e", item, "cart")
    messages, _ = run(ActionEmptyCart(), tracker("yes", "affirm", sender="cart-e"))
    assert "3 item(s)" in texts(messages)
    assert cart_contents(recommender.shopper_data("cart-e")) == []
    kinds = [e.event_type for e in recommender.shopper_data("cart-e")]
    assert kinds.count("cart") == 3 and kinds.count("remove_from_cart") == 3


# -- what fits is offered once ----------------------------------------------------------------

def test_adding_offers_what_fits_once(recommender):
    messages, slots = run(ActionAddToCart(), tracker("I'll take the apple a", "add_to_cart", sender="offer"))
    assert "Added the Apple A" in texts(messages) and "These fit the Apple A" in texts(messages)
    assert [p["id"] for p in payloads(messages)[0]["products"]] == ["accessory-apple-charger"]
    assert slots["accessories_offered"] == ["phone-apple-a"] and slots["last_recommendations"] == ["accessory-apple-charger"]
    messages, slots = run(ActionAddToCart(), tracker("add the apple a again", "add_to_cart", sender="offer", slots=slots))
    assert "Added the Apple A" in texts(messages) and payloads(messages) == [] and "accessories_offered" not in slots


def test_nothing_is_offered_when_nothing_fits(recommender):
    messages, slots = run(ActionAddToCart(), tracker("add the xiaomi a to my cart", "add_to_cart", sender="offer-2"))
    assert "Added the Xiaomi A" in texts(messages) and payloads(messages) == [] and "accessories_offered" not in slots


# -- lighter, bigger screen, newer ------------------------------------------------------------

@pytest.mark.parametrize("text, flag", [("any lighter ones?", "lighter"), ("有没有更轻的", "lighter"),
                                        ("something with a bigger screen?", "bigger_screen"), ("屏幕大一点的呢", "bigger_screen"),
                                        ("anything newer?", "newer"), ("有没有新一点的", "newer"), ("有更新款的吗", "newer")])
def test_spec_refinements_are_read(text, flag):
    refinement = parse_refinement(text)
    assert getattr(refinement, flag) and refinement.any
    assert [f for f in ("lighter", "bigger_screen", "newer") if getattr(refinement, f)] == [flag]


def test_lighter_means_lighter_than_the_middle_of_what_was_shown_and_unknown_is_never_lighter():
    shown = [product("s1", weight=1800), product("s2", weight=1400), product("s3", weight=None), product("s4", weight=1600)]
    limits = spec_limits(Refinement(lighter=True), shown)
    candidates = [product("c1", weight=1200), product("c2", weight=1600), product("c3"), product("c4", weight=1599)]
    assert [p.id for p in narrowed(candidates, limits)] == ["c1", "c4"]


def test_bigger_screen_and_newer_against_one_product():
    anchor = product("a", screen=11.0, year=2022)
    limits = spec_limits(Refinement(bigger_screen=True, newer=True), [anchor])
    candidates = [product("b", screen=12.9, year=2023), product("c", screen=12.9, year=2022), product("d", screen=10.9, year=2024)]
    assert [p.id for p in narrowed(candidates, limits)] == ["b"]


def test_a_spec_nobody_shown_has_is_said_not_guessed():
    limits = spec_limits(Refinement(lighter=True), [product("p1", "phone"), product("p2", "phone")])
    assert limits.unknown == ("lighter",) and not limits.limits
    assert narrowed([product("c1", "phone", weight=150)], limits) == []  # nothing is "lighter" than the unknown
    assert "weight" in explain_nothing("en", limits) and "重量" in explain_nothing("zh", limits)


# -- accessories for a device we do not sell -------------------------------------------------

def test_accessories_found_by_the_longest_model_name_typed():
    stock = [product("case-16", "accessory", compatible="iPhone 16"), product("case-16p", "accessory", compatible="iPhone 16 Pro"),
             product("glass-16pm", "accessory", compatible="iPhone 16 Pro Max"), product("gone", "accessory", compatible="iPhone 16 Pro", stock=0)]
    fake = SimpleNamespace(catalog=SimpleNamespace(products=stock), is_deleted=lambda pid: False)
    assert accessories_by_model(fake, "any cases for the iphone 16 pro?") == ("iPhone 16 Pro", [stock[1]])
    assert accessories_by_model(fake, "iphone16 pro max 的贴膜")[0] == "iPhone 16 Pro Max"
    assert accessories_by_model(fake, "a case for my phone") == (None, [])


def priced(pid: str, price: float) -> Product:
    item = product(pid, "accessory")
    return Product(**{**item.__dict__, "price": price})


def test_accessories_keep_a_budget_said_and_cheaper():
    cases = [priced("c1", 399), priced("c2", 79), priced("c3", 199)]
    assert [p.id for p in within_what_was_said("a case under 200", cases)] == ["c2", "c3"]
    assert [p.id for p in within_what_was_said("any cheaper cases?", cases)] == ["c2"]
    assert within_what_was_said("a case under 50", cases) == []  # said as such, not silently over budget
    assert within_what_was_said("cases for it", cases) == cases
