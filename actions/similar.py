"""``action_find_similar``: products like the one the shopper names or points at."""
from __future__ import annotations

from typing import Text

from rasa_sdk.events import SlotSet

from actions.base import ShopAction, Turn
from actions.messages import t
from actions.render import product_list

RESULTS = 5


class ActionFindSimilar(ShopAction):
    def name(self) -> Text:
        return "action_find_similar"

    def respond(self, turn: Turn) -> None:
        anchor = turn.referenced_product()
        if anchor is None:
            return
        similar = [r.product for r in turn.recommender.similar(anchor.id, k=RESULTS)]
        name = anchor.display_name(turn.language)
        if not similar:
            turn.say("similar.none", name=name)
            return
        turn.show(*product_list(turn.language, similar, t(turn.language, "similar.intro", name=name),
                                reason=t(turn.language, "reason.similar_to", item=name), reason_code="similar_to"))
        turn.events += [SlotSet("last_product", anchor.id), SlotSet("last_recommendations", [p.id for p in similar])]
