"""``action_give_feedback``: likes, dislikes and star ratings become events the recommender learns from.

A like is recorded as a 5-star rating, a dislike as a 1-star rating (a
negative signal that adds nothing to the shopper's tastes), an explicit
"4 stars" as itself. Feedback about the suggestions in general is only
acknowledged: there is no product to attach it to.
"""
from __future__ import annotations

from typing import Text

from rasa_sdk.events import SlotSet

from actions.base import ShopAction, Turn
from actions.parsing import parse_feedback
from actions.references import referenced_products

LIKE_STARS, DISLIKE_STARS = 5, 1


class ActionGiveFeedback(ShopAction):
    def name(self) -> Text:
        return "action_give_feedback"

    def respond(self, turn: Turn) -> None:
        feedback = parse_feedback(turn.text)
        products = referenced_products(turn.tracker, turn.recommender, limit=1)
        if not products and turn.entity("product"):
            turn.say_product_not_found()  # about a product we do not have: nothing to record
            return
        if not products:
            turn.say("feedback.general_positive" if feedback.positive else "feedback.general_negative")
            return
        product = products[0]
        stars = feedback.stars or (LIKE_STARS if feedback.positive else DISLIKE_STARS)
        turn.recommender.record_event(turn.user_id, product.id, "rating", value=float(stars))
        name = product.display_name(turn.language)
        if feedback.stars is not None:
            turn.say("feedback.rated", name=name, stars=stars)
        else:
            turn.say("feedback.positive_product" if feedback.positive else "feedback.negative_product", name=name)
        turn.events.append(SlotSet("last_product", product.id))
