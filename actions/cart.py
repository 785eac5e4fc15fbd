"""``action_add_to_cart``: records a ``cart`` event, which shapes the shopper's next recommendations."""
from __future__ import annotations

from typing import Text

from rasa_sdk.events import SlotSet

from actions.base import ShopAction, Turn
from actions.render import money


class ActionAddToCart(ShopAction):
    def name(self) -> Text:
        return "action_add_to_cart"

    def respond(self, turn: Turn) -> None:
        product = turn.referenced_product()
        if product is None:
            return
        name = product.display_name(turn.language)
        if not product.in_stock:
            turn.say("cart.out_of_stock", name=name)
            return
        turn.recommender.record_event(turn.user_id, product.id, "cart")
        turn.say("cart.added", name=name, price=money(product.price))
        turn.events.append(SlotSet("last_product", product.id))
