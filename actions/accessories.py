"""``action_find_accessories``: accessories whose compatibility links name the product."""
from __future__ import annotations

from typing import Text

from rasa_sdk.events import SlotSet

from actions.base import ShopAction, Turn
from actions.messages import t
from actions.render import product_list

RESULTS = 5


class ActionFindAccessories(ShopAction):
    def name(self) -> Text:
        return "action_find_accessories"

    def respond(self, turn: Turn) -> None:
        device = turn.referenced_product()
        if device is None:
            return
        name = device.display_name(turn.language)
        fitting = turn.recommender.accessories(device.id, k=RESULTS)
        turn.events.append(SlotSet("last_product", device.id))
        if not fitting:
            turn.say("accessories.none", name=name)
            return
        turn.show(*product_list(turn.language, fitting, t(turn.language, "accessories.intro", name=name),
                                reason=t(turn.language, "accessories.reason", name=name), reason_code="fits"))
        turn.events.append(SlotSet("last_recommendations", [p.id for p in fitting]))
