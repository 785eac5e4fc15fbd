"""``action_product_info``: "does the Pixel 8 have wireless charging?", "第二个多少钱"."""
from __future__ import annotations

from typing import Text

from rasa_sdk.events import SlotSet

from actions.accessories import answer_accessories
from actions.base import ShopAction, Turn
from actions.parsing import accessory_kind
from actions.references import referenced_products
from actions.shown_list import answer_about_shown, asked_feature
from actions.render import feature_answer, product_details


class ActionProductInfo(ShopAction):
    def name(self) -> Text:
        return "action_product_info"

    def respond(self, turn: Turn) -> None:
        if answer_about_shown(turn):  # "哪个拍照最好": about the list shown
            return
        if accessory_kind(turn.text) is not None and self._no_device_named(turn) and answer_accessories(turn, quiet_when_unknown=True):
            return  # "iphone 16 pro 的贴膜有吗": a question about what fits a device, not about a product
        product = turn.referenced_product()
        if product is None:
            return
        turn.events.append(SlotSet("last_product", product.id))
        feature = asked_feature(turn)
        answer = turn.recommender.describe(product.id, feature.id) if feature is not None else None
        if answer is not None:  # one answer: the spec asked about, not the whole description after it
            turn.dispatcher.utter_message(text=feature_answer(turn.language, answer))
        if answer is None or not answer.known:  # nothing asked, or the spec is unknown: what we do know
            turn.show(*product_details(turn.language, product))
        # Asking about a product is interest in it: a view shapes the next recommendations.
        turn.recommender.record_event(turn.user_id, product.id, "view")

    @staticmethod
    def _no_device_named(turn: Turn) -> bool:
        found = referenced_products(turn.tracker, turn.recommender, limit=1)
        return not found or found[0].category == "accessory"
