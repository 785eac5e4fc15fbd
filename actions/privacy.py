"""``action_show_my_data`` and ``action_forget_me``: what is stored about the shopper, and erasing it.

Stored data is the shopper's events in the recommender's database (views,
carts, purchases, ratings, under their sender id) plus the conversation in
Rasa's tracker store, with what it remembers in slots. Forgetting deletes the
events, drops the shopper's in-memory history and resets the remembering
slots; the tracker store (`daogou_server.tracker_store`) erases the stored
conversation when it sees this action run.
"""
from __future__ import annotations

from typing import Text

from rasa_sdk.events import SlotSet

from actions.base import ShopAction, Turn
from actions.messages import t

SHOWN_EVENTS = 10
#: Slots that remember the shopper within and across sessions.
MEMORY_SLOTS = ("last_recommendations", "last_product", "category", "brand", "min_price", "max_price", "accessories_offered")


class ActionShowMyData(ShopAction):
    def name(self) -> Text:
        return "action_show_my_data"

    def respond(self, turn: Turn) -> None:
        events = turn.recommender.shopper_data(turn.user_id)
        if not events:
            turn.say("privacy.none")
            return
        lines = [t(turn.language, "privacy.summary", count=len(events))]
        for event in events[-SHOWN_EVENTS:][::-1]:  # the latest first
            kind = t(turn.language, f"event.{event.event_type}")
            if event.event_type == "rating" and event.value is not None:
                kind = t(turn.language, "event.rating_value", stars=int(event.value))
            lines.append(t(turn.language, "privacy.event", date=event.timestamp[:10], event=kind,
                           name=event.product.display_name(turn.language)))
        if len(events) > SHOWN_EVENTS:
            lines.append(t(turn.language, "privacy.more", more=len(events) - SHOWN_EVENTS))
        lines.append(t(turn.language, "privacy.footer"))
        turn.show("\n".join(lines), {
            "type": "shopper_data", "language": turn.language,
            "events": [{"timestamp": e.timestamp, "event_type": e.event_type, "product_id": e.product.id, "value": e.value} for e in events],
        })


class ActionForgetMe(ShopAction):
    def name(self) -> Text:
        return "action_forget_me"

    def respond(self, turn: Turn) -> None:
        deleted = turn.recommender.forget(turn.user_id)
        if deleted:
            turn.say("privacy.forgotten", count=deleted)
        else:
            turn.say("privacy.nothing_to_forget")
        turn.events += [SlotSet(slot, None) for slot in MEMORY_SLOTS]
