"""``action_recommend_products``: the shopper asked for suggestions."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from recsys import Catalog, QueryError, RecommendationQuery, Recommender

from actions.base import ShopAction, Turn
from actions.shown_list import answer_about_shown
from actions.messages import t
from actions.render import category_list, category_name, money, render_recommendations
from actions.recommendation_form import main_use, preferred_feature, stocked_categories
from actions.shopper_request import read_request, request_messages
from actions.spec_refinement import CANDIDATES, explain_nothing, narrowed

RESULTS_PER_ANSWER = 5


class ActionRecommendProducts(ShopAction):
    def name(self) -> Text:
        return "action_recommend_products"

    def respond(self, turn: Turn) -> None:
        if answer_about_shown(turn):  # "which has the best battery?": about the list, not a new one
            return
        recommender, language, tracker = turn.recommender, turn.language, turn.tracker
        catalog = recommender.catalog
        messages = request_messages(tracker)
        request = read_request(tracker, catalog, messages)
        stocked = stocked_categories(recommender)

        if request.budget is not None and request.budget.implausible:
            bound = request.budget.max_price if request.budget.max_price is not None else request.budget.min_price
            turn.say("budget.implausible", amount=money(bound))
            return
        if request.unknown_category is not None and request.category is None:
            turn.say("error.unknown_category", what=request.unknown_category, categories=category_list(language, stocked))
            return
        if request.category is None:
            turn.say("ask.category", categories=category_list(language, stocked))
            return
        if request.category not in stocked:
            turn.say("error.no_products_in_category", category=category_name(language, request.category),
                     categories=category_list(language, stocked))
            turn.events.append(SlotSet("category", request.category))
            return

        budget = request.budget
        limits = request.spec_limits
        query = RecommendationQuery(
            user_id=tracker.sender_id,
            category=request.category,
            brand=request.brand,
            min_price=budget.min_price if budget else None,
            max_price=budget.max_price if budget else None,
            k=CANDIDATES if limits.any else RESULTS_PER_ANSWER,
            exclude_brands=request.exclude_brands,
            exclude_items=request.exclude_items,
            prefer=self._preferred_feature(messages, tracker, recommender),
        )
        turn.events += [
            SlotSet("category", query.category),
            SlotSet("brand", query.brand),
            SlotSet("min_price", query.min_price),
            SlotSet("max_price", query.max_price),
        ]
        try:
            recommendations = recommender.recommend(query)
        except QueryError as exc:
            turn.say("error.bad_budget", detail=str(exc))
            return
        if limits.any:  # "lighter / bigger screen / newer": only those that beat what was shown, best first
            keep = {p.id for p in narrowed([r.product for r in recommendations], limits)}
            recommendations = [r for r in recommendations if r.product.id in keep][:RESULTS_PER_ANSWER]
            if not recommendations:
                turn.dispatcher.utter_message(text=explain_nothing(language, limits))
                return

        if not recommendations:
            turn.dispatcher.utter_message(text=self._explain_empty(language, catalog, query))
            return

        turn.show(*render_recommendations(
            recommendations, catalog, language, query.category, query.brand, query.min_price, query.max_price
        ))
        turn.events.append(SlotSet("last_recommendations", [r.product.id for r in recommendations]))

    @staticmethod
    def _preferred_feature(messages: List[Dict[str, Any]], tracker: Tracker, recommender: Recommender) -> Optional[str]:
        """The main use or feature the shopper asked for in this request (the latest mention first), else earlier."""
        for message in reversed(messages):
            feature = preferred_feature(message, recommender)
            if feature is not None:
                return feature
        # Said earlier for this category ("mostly gaming", then "cheaper"): the form keeps it.
        feature = main_use(tracker)
        return feature if feature is not None and recommender.resolve_feature(feature) is not None else None

    @staticmethod
    def _explain_empty(language: str, catalog: Catalog, query: RecommendationQuery) -> str:
        category = category_name(language, query.category)
        brand = catalog.aliases.display("brand", query.brand, language) if query.brand else ""
        cheapest = catalog.cheapest(category=query.category, brand=query.brand)
        if cheapest is not None and query.max_price is not None and cheapest.price > query.max_price:
            brand_prefix = f"{brand} " if brand and language == "en" else brand
            return t(language, "error.budget_too_low", category=category, brand=brand_prefix,
                     name=cheapest.display_name(language), price=money(cheapest.price))
        return t(language, "error.nothing_matches", category=category)
