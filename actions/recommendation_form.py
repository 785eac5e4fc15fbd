"""The recommendation form: ask only for what is missing, like a salesperson would.

``recommendation_form`` (domain.yml) needs two things before it recommends:
the ``category``, then a ``shopping_need`` - a budget, a brand, a main use
("mostly gaming", "主要拍照") or an explicit "anything"/"随便". Whatever the
shopper already said fills them, so "phones under 3000" recommends at once
while "recommend something" asks twice. A correction after a list ("cheaper",
"换个牌子") keeps both filled and recommends again; a new category asks for
that category's budget.

Messages of other intents fill nothing (unless they are a bare answer such
as "3000"), so the form rejects them and the rules answer them (a FAQ, a
product question) or leave the form (compare, buy, goodbye); see
data/rules/form.yml.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from recsys import Recommender

from actions.base import Events, ShopAction, Turn, answering_failures, shopper_language
from actions.messages import t
from actions.render import category_list, category_name
from actions.services import get_recommender
from actions.shopper_request import REQUEST_INTENTS, Stated, request_messages, stated_in

#: ``shopping_need`` values that name a main use: "use:gaming".
MAIN_USE_PREFIX = "use:"


def stocked_categories(recommender: Recommender) -> List[str]:
    """The categories with products, in the alias table's order."""
    catalog = recommender.catalog
    return sorted(set(catalog.categories), key=list(catalog.aliases.categories).index)


def browsed_category(recommender: Recommender, user_id: Optional[str]) -> Optional[str]:
    """The category of the product the shopper touched last (viewed, carted, bought), if any."""
    sequence = recommender.sequence(user_id)
    if not len(sequence):
        return None
    return recommender.catalog.products[int(sequence[-1])].category


class ValidateRecommendationForm(FormValidationAction):
    """Fills the form's slots from what each message states (one reading: :func:`stated_in`)."""

    def name(self) -> Text:
        return "validate_recommendation_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        # On failure the form fills nothing: no event at all, not even the language slot, which
        # Rasa would count as a validated slot and so keep the form from being rejected.
        with answering_failures(self.name(), dispatcher, shopper_language(tracker), fallback=[]) as outcome:
            outcome.events = await super().run(dispatcher, tracker, domain)
        return outcome.events

    async def extract_category(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        stated = self._stated(tracker)
        if stated is None:
            return {}
        recommender = get_recommender()
        language = shopper_language(tracker)
        if stated.category is not None:
            if stated.category == tracker.get_slot("category"):
                return {"category": stated.category}
            if stated.category in stocked_categories(recommender):
                # A new category: what narrowed the old one (a phone budget) says nothing about it,
                # but what this request said before naming any category ("3k" ... "a phone") does.
                return {"category": stated.category, "shopping_need": self._earlier_need(tracker)}
            dispatcher.utter_message(text=t(language, "form.not_stocked", category=category_name(language, stated.category)))
            return {"category": None}
        if tracker.get_slot("category") is None:
            if stated.unknown_category is not None:
                dispatcher.utter_message(text=t(language, "form.unknown_category", what=stated.unknown_category))
                return {"category": None}
            browsed = browsed_category(recommender, tracker.sender_id)
            if browsed is not None and stated.need is None:
                # "What would you recommend for me?" from a shopper who has been looking at headphones
                # (on the shop's pages or here): a salesperson starts from what they were looking at.
                return {"category": browsed, "shopping_need": "unspecified"}
            # An on-topic answer without a category: ask again rather than leave the form.
            return {"category": None}
        return {}

    async def extract_shopping_need(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        stated = self._stated(tracker)
        if stated is None:
            return {}
        need = self._main_use(tracker) or stated.need
        if need == "refinement" and tracker.get_slot("shopping_need") is not None:
            return {}  # "cheaper" keeps what the shopper said matters ("mostly gaming")
        if need is not None:
            return {"shopping_need": need}
        if tracker.get_slot("requested_slot") == "shopping_need":
            return {"shopping_need": "unspecified"}  # "ok", "just show me": show what we have
        return {}

    def validate_category(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return {"category": value}

    def validate_shopping_need(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return {"shopping_need": value}

    @staticmethod
    def _stated(tracker: Tracker) -> Optional[Stated]:
        """What the latest message says about the request; None when it is about something else.

        A bare answer to the form's question ("3000", "三千", "苹果") counts whatever intent NLU gave
        it: alone, such a message is easy to misread ("3000" looks like nothing the model knows).
        """
        message = tracker.latest_message or {}
        stated = stated_in(message, get_recommender().catalog)
        if (message.get("intent") or {}).get("name") in REQUEST_INTENTS:
            return stated
        if tracker.get_slot("requested_slot") is not None and is_bare_answer(message.get("text") or "", stated):
            return stated
        return None

    @staticmethod
    def _earlier_need(tracker: Tracker) -> Optional[str]:
        """A budget, brand or main use stated earlier in this request, before its category."""
        recommender = get_recommender()
        for message in reversed(request_messages(tracker)[:-1]):
            feature = preferred_feature(message, recommender)
            need = f"{MAIN_USE_PREFIX}{feature}" if feature else stated_in(message, recommender.catalog).need
            if need in ("budget", "brand") or feature:
                return need
        return None

    @staticmethod
    def _main_use(tracker: Tracker) -> Optional[str]:
        feature = preferred_feature(tracker.latest_message or {}, get_recommender())
        return f"{MAIN_USE_PREFIX}{feature}" if feature else None


#: Longest message taken as a bare answer ("5000-8000", "around 3k", "华为的").
BARE_ANSWER_MAX_CHARS = 16


def is_bare_answer(text: str, stated: Stated) -> bool:
    """A short message that names a budget, category or brand: an answer, not a new topic."""
    return len(text.strip()) <= BARE_ANSWER_MAX_CHARS and (
        stated.budget is not None or stated.category is not None or stated.brand is not None)


def main_use(tracker: Tracker) -> Optional[str]:
    """The feature the form heard as this category's main use ("mostly gaming"), if any."""
    need = tracker.get_slot("shopping_need")
    return need[len(MAIN_USE_PREFIX):] if isinstance(need, str) and need.startswith(MAIN_USE_PREFIX) else None


def preferred_feature(message: Dict[str, Any], recommender: Recommender) -> Optional[str]:
    """What the shopper says matters ("long battery", "适合打游戏"): NLU's feature entity, else the text."""
    for entity in message.get("entities") or []:
        if entity.get("entity") == "feature":
            feature = recommender.resolve_feature(str(entity.get("value")))
            if feature is not None:
                return feature.id
    found = recommender.find_features(message.get("text") or "")
    return found[0].id if found else None


class ActionAskCategory(ShopAction):
    """The form's question for the category, listing what we sell."""

    def name(self) -> Text:
        return "action_ask_category"

    def respond(self, turn: Turn) -> None:
        """The question, with a quick reply per category: its name in the shopper's language, which the form
        reads as the answer like any typed one (channels without buttons show the list in the text)."""
        categories = stocked_categories(turn.recommender)
        text = t(turn.language, "ask.category", categories=category_list(turn.language, categories))
        buttons = [{"title": category_name(turn.language, c), "payload": category_name(turn.language, c)} for c in categories]
        turn.dispatcher.utter_message(text=text, buttons=buttons)


class ActionAskShoppingNeed(ShopAction):
    """The form's question for a budget or main use, naming the category."""

    def name(self) -> Text:
        return "action_ask_shopping_need"

    def respond(self, turn: Turn) -> None:
        category = turn.tracker.get_slot("category")
        turn.say("ask.shopping_need", category=category_name(turn.language, category))
