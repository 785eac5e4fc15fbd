"""``action_find_similar``: products like the one the shopper names or points at."""
from __future__ import annotations

from typing import Optional, Text

from rasa_sdk.events import SlotSet

from recsys import Product

from actions.base import ShopAction, Turn
from actions.messages import t
from actions.parsing import parse_budget, parse_refinement
from actions.render import product_list
from actions.spec_refinement import CANDIDATES, SpecLimits, explain_nothing, narrowed, spec_limits

RESULTS = 5


class ActionFindSimilar(ShopAction):
    def name(self) -> Text:
        return "action_find_similar"

    def respond(self, turn: Turn) -> None:
        anchor = turn.referenced_product()
        if anchor is None:
            return
        refinement = parse_refinement(turn.text)
        # "similar but lighter / with a bigger screen / newer": than the product pointed at.
        limits = spec_limits(refinement, [anchor]) if refinement.by_spec else SpecLimits()
        similar = [r.product for r in turn.recommender.similar(anchor.id, k=CANDIDATES if limits.any else RESULTS,
                                                               max_price=self._max_price(turn, anchor))]
        if limits.any:
            similar = narrowed(similar, limits)[:RESULTS]
        name = anchor.display_name(turn.language)
        if not similar:
            if limits.any:
                turn.dispatcher.utter_message(text=explain_nothing(turn.language, limits))
            else:
                turn.say("similar.none", name=name)
            return
        turn.show(*product_list(turn.language, similar, t(turn.language, "similar.intro", name=name),
                                reason=t(turn.language, "reason.similar_to", item=name), reason_code="similar_to"))
        turn.events += [SlotSet("last_product", anchor.id), SlotSet("last_recommendations", [p.id for p in similar])]

    @staticmethod
    def _max_price(turn: Turn, anchor: Product) -> Optional[float]:
        """The shopper's constraints carry: a budget said now or for this category before, and "but cheaper"."""
        budget = parse_budget(turn.text)
        limit = budget.max_price if budget is not None else None
        if limit is None and turn.tracker.get_slot("category") == anchor.category:
            limit = turn.tracker.get_slot("max_price")
        if parse_refinement(turn.text).cheaper:
            limit = min(limit, anchor.price - 1) if limit is not None else anchor.price - 1
        return limit
