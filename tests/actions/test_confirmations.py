"""Destructive acts need an explicit yes; acceptance goes to the cart; thanks-and-bye closes (issue 20)."""
import pytest

from actions.confirmations import ActionAnswerYesNo, ActionConfirmForgetMe, ActionThank, accepts_product, explicit_yes
from actions.parsing import accessory_kind
from tests.actions.trackers import run, texts, tracker


@pytest.fixture
def recommender(serve, rich_recommender):
    return serve(rich_recommender)


def _after_question(text: str, intent: str):
    """A tracker whose previous turn was the forget-me question."""
    current = tracker(text, intent)
    user = {"event": "user", "text": "forget me", "parse_data": {"intent": {"name": "privacy_forget_me"}}}
    asked = {"event": "action", "name": "action_confirm_forget_me"}
    listen = {"event": "action", "name": "action_listen"}
    current.events[:0] = [user, asked, listen]
    return current


@pytest.mark.parametrize("text", ["yes", "Yes, delete it", "确定", "确认", "是的"])
def test_explicit_yes(text):
    assert explicit_yes(text)


@pytest.mark.parametrize("text", ["'; DROP TABLE events; --", "maybe", "what will you delete?", "no", "不要"])
def test_not_a_yes(text):
    assert not explicit_yes(text)


@pytest.mark.parametrize("text", ["great, I'll take it", "好的，就它了", "就要这个了"])
def test_acceptance(text):
    assert accepts_product(text)


def test_forget_me_asks_naming_what_goes(recommender):
    recommender.record_event("shopper-test", "phone-xiaomi-b", "cart")
    messages, _ = run(ActionConfirmForgetMe(), tracker("删除我的数据", "privacy_forget_me"))
    assert "1" in texts(messages) and "确定" in texts(messages)
    assert len(recommender.shopper_data("shopper-test")) == 1


def test_only_an_explicit_yes_erases():
    from rasa_sdk.executor import CollectingDispatcher
    dispatcher = CollectingDispatcher()
    events = ActionAnswerYesNo().run(dispatcher, _after_question("yes", "affirm"), {})
    assert {"event": "followup", "name": "action_forget_me"} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    for text, intent in [("no", "deny"), ("hmm ok whatever you think", "affirm")]:
        dispatcher = CollectingDispatcher()
        events = ActionAnswerYesNo().run(dispatcher, _after_question(text, intent), {})
        assert not any(e.get("event") == "followup" for e in events)


def test_thanks_bye_closes():
    from rasa_sdk.executor import CollectingDispatcher
    dispatcher = CollectingDispatcher()
    ActionThank().run(dispatcher, tracker("thanks bye", "thank"), {})
    assert "bye" in dispatcher.messages[0]["text"].lower() and "anything else" not in dispatcher.messages[0]["text"].lower()


@pytest.mark.parametrize("text, kind", [("what case fits the airpods pro 2?", "case"), ("iphone 16 pro 的贴膜", "screen_protector"),
                                        ("usb-c cable for my ipad", "cable"), ("iphone 15 用什么充电器", "charger"),
                                        ("accessories for the pixel", None)])
def test_accessory_kind(text, kind):
    assert accessory_kind(text) == kind
