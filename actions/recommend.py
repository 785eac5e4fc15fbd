"""``action_recommend_products``: the shopper asked for suggestions."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from recsys import RecommendationQuery
from recsys.facade import QueryError

from actions.base import shopper_language
from actions.messages import t
from actions.render import category_list, category_name, money, render_recommendations
from actions.services import get_recommender
from actions.recommendation_form import main_use, preferred_feature, stocked_categories
from actions.shopper_request import read_request, request_messages

logger = logging.getLogger(__name__)

RESULTS_PER_ANSWER = 5


class ActionRecommendProducts(Action):
    def name(self) -> Text:
        return "action_recommend_products"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        try:
            return self._run(dispatcher, tracker)
        except Exception:  # never a 500 to Rasa: the shopper hears a polite message instead
            logger.exception("action_recommend_products failed")
            dispatcher.utter_message(text=t(shopper_language(tracker), "error.unexpected"))
            return []

    def _run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
        try:
            recommender = get_recommender()
        except Exception:  # the action server must answer even when the recommender cannot load
            logger.exception("recommender unavailable")
            language = tracker.get_slot("language") or "en"
            dispatcher.utter_message(text=t(language, "error.unavailable"))
            return []

        catalog = recommender.catalog
        messages = request_messages(tracker)
        request = read_request(tracker, catalog, messages)
        language = request.language
        events: List[Dict[Text, Any]] = [SlotSet("language", language)]
        stocked = stocked_categories(recommender)

        if request.unknown_category is not None and request.category is None:
            dispatcher.utter_message(text=t(language, "error.unknown_category", what=request.unknown_category, categories=category_list(language, stocked)))
            return events
        if request.category is None:
            dispatcher.utter_message(text=t(language, "ask.category", categories=category_list(language, stocked)))
            return events
        if request.category not in stocked:
            dispatcher.utter_message(text=t(language, "error.no_products_in_category", category=category_name(language, request.category), categories=category_list(language, stocked)))
            return events + [SlotSet("category", request.category)]

        budget = request.budget
        query = RecommendationQuery(
            user_id=tracker.sender_id,
            category=request.category,
            brand=request.brand,
            min_price=budget.min_price if budget else None,
            max_price=budget.max_price if budget else None,
            k=RESULTS_PER_ANSWER,
            exclude_brands=request.exclude_brands,
            exclude_items=request.exclude_items,
            prefer=self._preferred_feature(messages, tracker, recommender),
        )
        events += [
            SlotSet("category", query.category),
            SlotSet("brand", query.brand),
            SlotSet("min_price", query.min_price),
            SlotSet("max_price", query.max_price),
        ]
        try:
            recommendations = recommender.recommend(query)
        except QueryError as exc:
            dispatcher.utter_message(text=t(language, "error.bad_budget", detail=str(exc)))
            return events

        if not recommendations:
            dispatcher.utter_message(text=self._explain_empty(language, recommender.catalog, query))
            return events

        text, payload = render_recommendations(
            recommendations, catalog, language, query.category, query.brand, query.min_price, query.max_price
        )
        dispatcher.utter_message(text=text)
        dispatcher.utter_message(json_message=payload)
        return events + [SlotSet("last_recommendations", [r.product.id for r in recommendations])]

    @staticmethod
    def _preferred_feature(messages: List[Dict[str, Any]], tracker: Tracker, recommender) -> Optional[str]:
        """The main use or feature the shopper asked for in this request (the latest mention first), else earlier."""
        for message in reversed(messages):
            feature = preferred_feature(message, recommender)
            if feature is not None:
                return feature
        # Said earlier for this category ("mostly gaming", then "cheaper"): the form keeps it.
        feature = main_use(tracker)
        return feature if feature is not None and recommender.resolve_feature(feature) is not None else None

    @staticmethod
    def _explain_empty(language: str, catalog, query: RecommendationQuery) -> str:
        category = category_name(language, query.category)
        brand = catalog.aliases.display("brand", query.brand, language) if query.brand else ""
        cheapest = catalog.cheapest(category=query.category, brand=query.brand)
        if cheapest is not None and query.max_price is not None and cheapest.price > query.max_price:
            brand_prefix = f"{brand} " if brand and language == "en" else brand
            return t(language, "error.budget_too_low", category=category, brand=brand_prefix,
                     name=cheapest.display_name(language), price=money(cheapest.price))
        return t(language, "error.nothing_matches", category=category)
