"""The terminal (`rasa shell`, input channel ``cmdline``) gets lists and comparisons as text, never JSON.

Rasa's console prints a custom payload as raw JSON; ``Turn.show`` leaves the payload out for that channel
and keeps it for every other (REST, socket.io), whose clients draw it as cards and tables.
"""
import pytest

from actions.compare import ActionCompareProducts
from actions.recommend import ActionRecommendProducts
from tests.actions.trackers import payloads, run, texts, tracker


@pytest.fixture(autouse=True)
def recommender(serve, rich_recommender):
    return serve(rich_recommender)


@pytest.mark.parametrize("text, opening", [("recommend me a phone", "Here are"), ("推荐一款手机", "为你推荐")])
def test_terminal_recommendation_is_text_in_the_shoppers_language(text, opening):
    entities = [{"entity": "category", "value": "phone"}] if text.startswith("recommend") else []
    messages, _ = run(ActionRecommendProducts(), tracker(text, entities=entities, input_channel="cmdline"))
    assert payloads(messages) == [] and all(set(m) <= {"text"} or not m.get("custom") for m in messages)
    assert texts(messages).startswith(opening)
    assert "¥" in texts(messages) and "{" not in texts(messages)  # the list itself is in the text, not JSON


def test_terminal_comparison_is_text():
    messages, _ = run(ActionCompareProducts(), tracker("compare Xiaomi A and Apple A", "compare_products", input_channel="cmdline"))
    assert payloads(messages) == []
    assert "Price: ¥1,299 | ¥5,999" in texts(messages)


@pytest.mark.parametrize("channel", ["rest", "socketio", None])
def test_other_channels_keep_the_payload(channel):
    messages, _ = run(ActionCompareProducts(), tracker("compare Xiaomi A and Apple A", "compare_products", input_channel=channel))
    assert payloads(messages)[0]["type"] == "comparison"
    assert "Price: ¥1,299 | ¥5,999" in texts(messages)
