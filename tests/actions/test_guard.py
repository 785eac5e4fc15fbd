"""The one guard: whatever fails inside an action, the shopper gets one polite answer in their language.

Each kind of action that used to guard itself is covered: the conversational actions
(:class:`actions.base.ShopAction`), the recommendation, and the form's validation.
"""
import asyncio
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.messages import t
from actions.product_info import ActionProductInfo
from actions.recommend import ActionRecommendProducts
from actions.recommendation_form import ValidateRecommendationForm
from tests.actions.trackers import tracker

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))

# Each kind of action, what the shopper says to it in each language, and the recommender method its work
# calls after it has started answering: making that method fail is an error in the middle of the work.
KINDS = [
    (ActionProductInfo(), "ask_product_info", {"en": "how much is the Xiaomi B?", "zh": "小米 B多少钱"}, "record_event"),
    (ActionRecommendProducts(), "request_recommendation", {"en": "recommend me a phone", "zh": "推荐一款手机"}, "recommend"),
    (ValidateRecommendationForm(), "request_recommendation", {"en": "recommend me a phone", "zh": "推荐一款手机"},
     "find_features"),
]
LANGUAGES = ["en", "zh"]


@pytest.fixture
def recommender(serve, rich_recommender):
    return serve(rich_recommender)


def run(action: Action, t: Tracker) -> Tuple[List[str], List[Dict[str, Any]]]:
    """The texts the action sent and the events it returned, whether its ``run`` is sync or async."""
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, t, DOMAIN)
    events = asyncio.run(result) if asyncio.iscoroutine(result) else result
    return [m.get("text") for m in dispatcher.messages], events


def expected_events(action: Action, language: str) -> List[Dict[str, Any]]:
    """After a failure the form's validation fills nothing; other actions only remember the language."""
    if isinstance(action, ValidateRecommendationForm):
        return []
    return [{"event": "slot", "timestamp": None, "name": "language", "value": language}]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("action, intent, said, failing", KINDS, ids=lambda kind: kind.name() if isinstance(kind, Action) else None)
def test_an_error_in_the_work_is_something_went_wrong_in_the_shoppers_language(
        monkeypatch, recommender, action, intent, said, failing, language):
    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(recommender, failing, fail)
    before = recommender.shopper_data("shopper-test")
    texts, events = run(action, tracker(said[language], intent))
    assert texts == [t(language, "error.unexpected")]  # only the apology: no half answer before it
    assert ("出了点问题" in texts[0]) == (language == "zh") and ("went wrong" in texts[0]) == (language == "en")
    assert events == expected_events(action, language)  # no slot the failed work meant to set
    assert recommender.shopper_data("shopper-test") == before


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("action, intent, said, failing", KINDS, ids=lambda kind: kind.name() if isinstance(kind, Action) else None)
def test_a_recommender_that_cannot_load_is_unavailable_in_the_shoppers_language(
        unavailable, action, intent, said, failing, language):
    texts, events = run(action, tracker(said[language], intent))
    assert texts == [t(language, "error.unavailable")]
    assert ("暂时不可用" in texts[0]) == (language == "zh") and ("unavailable" in texts[0]) == (language == "en")
    assert events == expected_events(action, language)


def test_the_guard_lets_the_work_answer_when_nothing_fails(recommender):
    """The same actions answer normally without a failure: the errors above come from the failing method."""
    for action, intent, said, failing in KINDS:
        texts, events = run(action, tracker(said["en"], intent))
        assert t("en", "error.unexpected") not in texts and t("en", "error.unavailable") not in texts
        assert events, action.name()
