"""``action_find_accessories``: accessories that fit the device named, of the kind asked, within budget.

Two ways an accessory is known to fit: its compatibility links (``fits``) name a product we sell, or,
for a device we do not sell ("a case for the iPhone 16 Pro", whose cases and screen protectors we do
stock), its ``compatible_models`` spec names the model the shopper typed.
"""
from __future__ import annotations

from statistics import median
from typing import List, Optional, Text, Tuple

from rasa_sdk.events import SlotSet

from recsys import Product, Recommender

from actions.base import ShopAction, Turn
from actions.messages import t
from actions.parsing import accessory_kind, parse_budget, parse_refinement
from actions.references import referenced_products, squeezed
from actions.render import product_list

RESULTS = 5
#: Every fitting accessory, so a kind asked for is found among all of them before the list is cut.
ALL_FITTING = 50


class ActionFindAccessories(ShopAction):
    def name(self) -> Text:
        return "action_find_accessories"

    def respond(self, turn: Turn) -> None:
        answer_accessories(turn)


def answer_accessories(turn: Turn, quiet_when_unknown: bool = False) -> bool:
    """List what fits the device the message names; False when no device is found (said unless ``quiet``).

    ``quiet_when_unknown`` lets another action ("iphone 16 pro 的贴膜有吗" reaching product info) try
    this first and answer its own way when the message names no device with accessories.
    """
    found = referenced_products(turn.tracker, turn.recommender, limit=1)
    device = found[0] if found and found[0].category != "accessory" else None
    if device is not None:
        name = device.display_name(turn.language)
        fitting = turn.recommender.accessories(device.id, k=ALL_FITTING)
        turn.events.append(SlotSet("last_product", device.id))
    else:
        model, fitting = accessories_by_model(turn.recommender, turn.text)
        if model is None:
            if not quiet_when_unknown:
                turn.say_product_not_found()
            return False
        name = model
    if not fitting:
        turn.say("accessories.none", name=name)
        return True
    intro = t(turn.language, "accessories.intro", name=name)
    kind = accessory_kind(turn.text)
    if kind is not None:
        of_kind = [p for p in fitting if p.specs.get("accessory_type") == kind]
        if not of_kind:  # none of that kind fits: say so, and offer the nearest that does fit
            intro = t(turn.language, "accessories.none_of_kind", name=name, kind=t(turn.language, f"accessory.{kind}"))
        fitting = of_kind or fitting
    kept = within_what_was_said(turn.text, fitting)
    if not kept:  # nothing that fits is within the budget said: say so, and show the cheapest that fit
        intro = t(turn.language, "accessories.none_within_budget", name=name)
        kept = sorted(fitting, key=lambda p: p.price)
    fitting = kept[:RESULTS]
    turn.show(*product_list(turn.language, fitting, intro,
                            reason=t(turn.language, "accessories.reason", name=name), reason_code="fits"))
    turn.events.append(SlotSet("last_recommendations", [p.id for p in fitting]))
    return True


def within_what_was_said(text: str, fitting: List[Product]) -> List[Product]:
    """The shopper's constraints hold for accessories too: a budget said ("a case under 200") and "cheaper"
    (below the middle price of what fits; when one fits, it is kept). Empty when none is within the budget."""
    budget = parse_budget(text)
    kept = fitting
    if budget is not None and budget.max_price is not None:
        kept = [p for p in kept if p.price <= budget.max_price]
    if parse_refinement(text).cheaper and kept:
        middle = median(p.price for p in kept)
        kept = [p for p in kept if p.price < middle] or kept
    return kept


def accessories_by_model(recommender: Recommender, text: str) -> Tuple[Optional[str], List[Product]]:
    """(the model named, in-stock accessories made for it), by the longest model name in the text.

    The longest wins, so "iPhone 16 Pro Max" is not served the iPhone 16 Pro's cases.
    """
    wanted = squeezed(text)
    best: Optional[str] = None
    fitting: List[Product] = []
    for product in recommender.catalog.products:
        model = product.specs.get("compatible_models")
        if not isinstance(model, str) or not product.in_stock or recommender.is_deleted(product.id):
            continue
        key = squeezed(model)
        if not key or key not in wanted:
            continue
        if best is None or len(key) > len(squeezed(best)):
            best, fitting = model, [product]
        elif key == squeezed(best):
            fitting.append(product)
    return best, sorted(fitting, key=lambda p: (-(p.rating or 0.0), p.price, p.id))
