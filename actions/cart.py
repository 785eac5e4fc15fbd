"""The cart: adding to it (with what fits offered once) and emptying it (only after an explicit yes).

A ``cart`` event shapes the shopper's next recommendations; emptying records a ``remove_from_cart``
for every item still in it, so the history says what happened rather than losing it. Emptying is
destructive, so ``action_confirm_empty_cart`` names how many items would go and asks; the yes/no
rule (:mod:`actions.confirmations`) runs ``action_empty_cart`` only on an explicit yes.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import List, Sequence, Text

from rasa_sdk.events import SlotSet

from recsys import Product, StoredEvent

from actions.base import ShopAction, Turn
from actions.messages import join, t
from actions.render import money, product_list

ASK_EMPTY_CART = "action_confirm_empty_cart"
EMPTY_CART = "action_empty_cart"
#: Accessories offered with a product just added: a few, not a catalogue.
OFFERED_ACCESSORIES = 3


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
        turn.events.append(SlotSet("last_product", product.id))
        added = t(turn.language, "cart.added", name=name, price=money(product.price))
        offered = list(turn.tracker.get_slot("accessories_offered") or [])
        fitting = [] if product.id in offered else turn.recommender.accessories(product.id, k=OFFERED_ACCESSORIES)
        if not fitting:  # nothing fits, or it was offered already: once is helpful, twice is pushy
            turn.dispatcher.utter_message(text=added)
            return
        intro = added + "\n" + t(turn.language, "cart.offer_fitting", name=name)
        turn.show(*product_list(turn.language, fitting, intro,
                                reason=t(turn.language, "accessories.reason", name=name), reason_code="fits"))
        turn.events += [SlotSet("accessories_offered", offered + [product.id]),
                        SlotSet("last_recommendations", [p.id for p in fitting])]


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int


def cart_contents(events: Sequence[StoredEvent]) -> List[CartLine]:
    """What is in the cart now, from the shopper's events (oldest first), in the order first added.

    Each ``cart`` adds one, each ``remove_from_cart`` takes one away, a ``purchase`` empties that line.
    """
    quantities: Counter = Counter()
    products = {}
    for event in events:
        pid = event.product.id
        if event.event_type == "cart":
            quantities[pid] += 1
            products.setdefault(pid, event.product)
        elif event.event_type == "remove_from_cart" and quantities[pid] > 0:
            quantities[pid] -= 1
        elif event.event_type == "purchase":
            quantities[pid] = 0
    return [CartLine(products[pid], quantities[pid]) for pid in products if quantities[pid] > 0]


def _cart_or_say_empty(turn: Turn) -> List[CartLine]:
    """The shopper's cart now; an empty one is said to be empty (both steps of emptying start here)."""
    lines = cart_contents(turn.recommender.shopper_data(turn.user_id))
    if not lines:
        turn.say("cart.already_empty")
    return lines


class ActionConfirmEmptyCart(ShopAction):
    """"Empty my cart": say how many items would go, and ask for a yes (nothing is removed here)."""

    def name(self) -> Text:
        return ASK_EMPTY_CART

    def respond(self, turn: Turn) -> None:
        lines = _cart_or_say_empty(turn)
        if not lines:
            return
        turn.say("cart.confirm_empty", count=sum(line.quantity for line in lines),
                 names=join(turn.language, [line.product.display_name(turn.language) for line in lines]))


class ActionEmptyCart(ShopAction):
    """Run only after an explicit yes to :class:`ActionConfirmEmptyCart`: remove every item."""

    def name(self) -> Text:
        return EMPTY_CART

    def respond(self, turn: Turn) -> None:
        lines = _cart_or_say_empty(turn)
        if not lines:
            return
        for line in lines:
            for _ in range(line.quantity):
                turn.recommender.record_event(turn.user_id, line.product.id, "remove_from_cart")
        turn.say("cart.emptied", count=sum(line.quantity for line in lines))
