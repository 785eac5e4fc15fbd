"""``action_find_accessories``: accessories whose compatibility links name the product."""
from __future__ import annotations

from typing import Text

from rasa_sdk.events import SlotSet

from actions.base import ShopAction, Turn
from actions.messages import t
from actions.parsing import accessory_kind
from actions.render import product_list

RESULTS = 5
#: Every fitting accessory, so a kind asked for is found among all of them before the list is cut.
ALL_FITTING = 50


class ActionFindAccessories(ShopAction):
    def name(self) -> Text:
        return "action_find_accessories"

    def respond(self, turn: Turn) -> None:
        device = turn.referenced_product()
        if device is None:
            return
        name = device.display_name(turn.language)
        fitting = turn.recommender.accessories(device.id, k=ALL_FITTING)
        turn.events.append(SlotSet("last_product", device.id))
        if not fitting:
            turn.say("accessories.none", name=name)
            return
        intro = t(turn.language, "accessories.intro", name=name)
        kind = accessory_kind(turn.text)
        if kind is not None:
            of_kind = [p for p in fitting if p.specs.get("accessory_type") == kind]
            if not of_kind:  # none of that kind fits: say so, and offer the nearest that does fit
                intro = t(turn.language, "accessories.none_of_kind", name=name, kind=t(turn.language, f"accessory.{kind}"))
            fitting = of_kind or fitting
        fitting = fitting[:RESULTS]
        turn.show(*product_list(turn.language, fitting, intro,
                                reason=t(turn.language, "accessories.reason", name=name), reason_code="fits"))
        turn.events.append(SlotSet("last_recommendations", [p.id for p in fitting]))
