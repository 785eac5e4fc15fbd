"""``action_compare_products``: two or three products side by side on the specs of their category."""
from __future__ import annotations

from typing import Text

from rasa_sdk.events import SlotSet

from actions.base import ShopAction, Turn
from actions.references import referenced_products
from actions.render import comparison

MAX_COMPARED = 3


class ActionCompareProducts(ShopAction):
    def name(self) -> Text:
        return "action_compare_products"

    def respond(self, turn: Turn) -> None:
        products = referenced_products(turn.tracker, turn.recommender, limit=MAX_COMPARED)
        if len(products) < 2 and turn.tracker.get_slot("last_recommendations") and self._means_shown_list(turn):
            shown = [turn.recommender.product(pid) for pid in turn.tracker.get_slot("last_recommendations")[:MAX_COMPARED]]
            products = [p for p in shown if p is not None]
        if len(products) < 2:
            missing = [m for m in turn.tracker.get_latest_entity_values("product")
                       if turn.recommender.resolve_product(str(m)) is None]
            if missing:
                turn.say("error.unknown_product", what=str(missing[0]))
            else:
                turn.say("compare.need_two")
            return
        turn.show(*comparison(turn.language, turn.recommender.compare([p.id for p in products])))
        turn.events.append(SlotSet("last_product", products[0].id))

    @staticmethod
    def _means_shown_list(turn: Turn) -> bool:
        """"compare them", "这几个比较一下": no product named, so the list we just showed."""
        return not any(True for _ in turn.tracker.get_latest_entity_values("product"))
