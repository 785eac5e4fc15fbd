"""``action_product_info``: "does the Pixel 8 have wireless charging?", "第二个多少钱"."""
from __future__ import annotations

from typing import Optional, Text

from rasa_sdk.events import SlotSet

from recsys import Feature

from actions.base import ShopAction, Turn
from actions.render import feature_answer, product_details


class ActionProductInfo(ShopAction):
    def name(self) -> Text:
        return "action_product_info"

    def respond(self, turn: Turn) -> None:
        product = turn.referenced_product()
        if product is None:
            return
        turn.events.append(SlotSet("last_product", product.id))
        feature = self._feature(turn)
        if feature is not None:
            turn.dispatcher.utter_message(text=feature_answer(turn.language, turn.recommender.describe(product.id, feature.id)))
        turn.show(*product_details(turn.language, product))
        # Asking about a product is interest in it: a view shapes the next recommendations.
        turn.recommender.record_event(turn.user_id, product.id, "view")

    @staticmethod
    def _feature(turn: Turn) -> Optional[Feature]:
        for value in turn.tracker.get_latest_entity_values("feature"):
            feature = turn.recommender.resolve_feature(str(value))
            if feature is not None:
                return feature
        found = turn.recommender.find_features(turn.text)
        return found[0] if found else None
