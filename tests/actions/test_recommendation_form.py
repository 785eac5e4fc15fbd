"""The recommendation form's validation and questions, and a request spread over several turns."""
import asyncio
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.recommend import ActionRecommendProducts
from actions.recommendation_form import ActionAskCategory, ActionAskShoppingNeed, ValidateRecommendationForm
from tests.actions import trackers

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def recommender(serve, rich_recommender):
    return serve(rich_recommender)


def user(text: str, intent: str = "request_recommendation", entities: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": entities or []}}


def form_tracker(*turns: Dict[str, Any], slots: Optional[Dict[str, Any]] = None, form_started_at: Optional[int] = None) -> Tracker:
    """A tracker whose events are the given user turns; the form became active after turn ``form_started_at``."""
    events: List[Dict[str, Any]] = []
    for index, turn in enumerate(turns):
        events.append(turn)
        if form_started_at == index:
            events += [{"event": "action", "name": "recommendation_form"}, {"event": "active_loop", "name": "recommendation_form"}]
        events.append({"event": "action", "name": "action_listen"})
    events.pop()
    return Tracker(sender_id="form-test", slots=dict(slots or {}), latest_message=turns[-1]["parse_data"], events=events,
                   paused=False, followup_action=None,
                   active_loop={"name": "recommendation_form"} if form_started_at is not None else {},
                   latest_action_name="action_listen")


def validate(t: Tracker):
    """The messages and slot events of the validation action, and the slot Rasa's form will ask for next."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateRecommendationForm().run(dispatcher, t, DOMAIN))
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    filled = {**t.slots, **slots}
    required = DOMAIN["forms"]["recommendation_form"]["required_slots"]
    slots["requested_slot"] = next((name for name in required if filled.get(name) is None), None)
    return dispatcher.messages, slots


def test_everything_said_at_once_needs_no_question():
    _, slots = validate(form_tracker(user("recommend me a phone under 3000")))
    assert slots == {"category": "phone", "shopping_need": "budget", "requested_slot": None}


@pytest.mark.parametrize("text, need", [("a Xiaomi phone", "brand"), ("推荐一款拍照好的手机", "use:camera"),
                                        ("a phone for gaming", "use:gaming")])
def test_a_brand_or_main_use_is_enough(text, need):
    _, slots = validate(form_tracker(user(text)))
    assert slots["category"] == "phone" and slots["shopping_need"] == need and slots["requested_slot"] is None


def test_only_a_category_asks_for_budget_or_use():
    _, slots = validate(form_tracker(user("recommend me a phone")))
    assert slots["category"] == "phone" and slots["requested_slot"] == "shopping_need"


def test_nothing_said_asks_for_the_category_first():
    _, slots = validate(form_tracker(user("can you recommend something")))
    assert slots["requested_slot"] == "category"


@pytest.mark.parametrize("text, intent, need", [
    ("随便", "skip", "skipped"), ("mostly gaming", "request_recommendation", "use:gaming"),
    ("5000以内", "request_recommendation", "budget"), ("ok", "affirm", "unspecified"),
    # A bare answer counts whatever intent NLU gives it ("3000" alone was read as goodbye).
    ("3000", "goodbye", "budget"), ("三千", "goodbye", "budget"), ("苹果", "greet", "brand"),
])
def test_answers_to_the_budget_question(text, intent, need):
    t = form_tracker(user("recommend me a laptop"), user(text, intent), slots={"category": "laptop", "requested_slot": "shopping_need"},
                     form_started_at=0)
    _, slots = validate(t)
    assert slots["shopping_need"] == need and slots["requested_slot"] is None


def test_other_intents_fill_nothing_so_the_form_hands_over():
    t = form_tracker(user("recommend me a laptop"), user("how long does shipping take", "faq"),
                     slots={"category": "laptop", "requested_slot": "shopping_need"}, form_started_at=0)
    _, slots = validate(t)
    assert "shopping_need" not in slots and "category" not in slots


def test_a_new_category_asks_its_own_budget():
    t = form_tracker(user("actually make it a laptop", entities=[{"entity": "category", "value": "laptop"}]),
                     slots={"category": "phone", "shopping_need": "budget", "last_recommendations": ["phone-xiaomi-b"]})
    _, slots = validate(t)
    assert slots["category"] == "laptop" and slots["shopping_need"] is None and slots["requested_slot"] == "shopping_need"


def test_a_correction_keeps_the_form_filled():
    t = form_tracker(user("something cheaper"), slots={"category": "phone", "shopping_need": "budget"})
    _, slots = validate(t)
    assert slots["requested_slot"] is None


def test_unknown_category_is_named_and_asked_again():
    messages, slots = validate(form_tracker(user("i want a drone", entities=[{"entity": "category", "value": "drone"}])))
    assert "don't sell drone" in trackers.texts(messages)
    assert slots["category"] is None and slots["requested_slot"] == "category"


def test_questions_in_the_shoppers_language():
    messages, _ = trackers.run(ActionAskShoppingNeed(), trackers.tracker("推荐一款笔记本", slots={"category": "laptop"}))
    assert "预算" in trackers.texts(messages) and "笔记本" in trackers.texts(messages)
    messages, _ = trackers.run(ActionAskCategory(), trackers.tracker("recommend something"))
    assert "What are you shopping for?" in trackers.texts(messages) and "phones" in trackers.texts(messages)


def test_a_request_over_several_turns_uses_all_of_them():
    """"recommend something" / "a phone" / (a FAQ) / "under 3000": one request."""
    t = form_tracker(user("recommend something"), user("a phone"), user("do you ship to beijing", "faq"), user("under 3000"),
                     slots={"category": "phone", "shopping_need": "budget"}, form_started_at=0)
    messages, slots = trackers.run(ActionRecommendProducts(), t)
    products = trackers.payloads(messages)[0]["products"]
    assert products and all(p["category"] == "phone" and p["price"] <= 3000 for p in products)
    assert slots["max_price"] == 3000


def test_a_main_use_from_an_earlier_turn_still_counts():
    t = form_tracker(user("a phone with long battery life"), user("under 5000"), slots={"category": "phone"}, form_started_at=0)
    messages, _ = trackers.run(ActionRecommendProducts(), t)
    assert trackers.payloads(messages)[0]["products"][0]["reason_code"] == "strong_feature"


def test_an_earlier_request_does_not_leak_into_a_new_one():
    t = form_tracker(user("a Samsung phone"), user("thanks", "thank"), user("recommend me a phone under 9000"), form_started_at=None)
    messages, slots = trackers.run(ActionRecommendProducts(), t)
    assert slots["brand"] is None


def test_a_correction_keeps_the_main_use():
    """"mostly gaming", then "cheaper": still ranked for gaming."""
    t = form_tracker(user("something cheaper"), slots={"category": "phone", "shopping_need": "use:battery"})
    _, slots = validate(t)
    assert "shopping_need" not in slots and slots["requested_slot"] is None
    messages, _ = trackers.run(ActionRecommendProducts(), form_tracker(user("more options"), slots={"category": "phone", "shopping_need": "use:battery"}))
    assert trackers.payloads(messages)[0]["products"][0]["reason_code"] == "strong_feature"


def test_a_failing_recommender_is_a_polite_message_not_an_error(unavailable):
    messages, slots = validate(form_tracker(user("推荐一款手机")))
    assert "暂时不可用" in trackers.texts(messages)
    assert "category" not in slots


def test_a_real_question_during_the_form_is_not_taken_for_an_answer():
    t = form_tracker(user("recommend me a phone"), user("how much is the iPhone 15 in your shop?", "ask_product_info"),
                     slots={"category": "phone", "requested_slot": "shopping_need"}, form_started_at=0)
    _, slots = validate(t)
    assert "shopping_need" not in slots


@pytest.mark.parametrize("first, need", [("3k", "budget"), ("三千以内", "budget"), ("something from xiaomi", "brand"),
                                         ("something for gaming", "use:gaming")])
def test_a_need_said_before_the_category_is_not_asked_again(first, need):
    """"3k" / (what are you shopping for?) / "a phone": recommend, do not ask for the budget again."""
    t = form_tracker(user(first), user("a phone", entities=[{"entity": "category", "value": "phone"}]),
                     slots={"requested_slot": "category"}, form_started_at=0)
    _, slots = validate(t)
    assert slots["category"] == "phone" and slots["shopping_need"] == need and slots["requested_slot"] is None
