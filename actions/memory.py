"""``action_recall_recommendations``: "what did you recommend yesterday?" / "你昨天推荐了什么".

The memory is the ``last_recommendations`` slot, kept in Rasa's tracker store:
``carry_over_slots_to_new_session`` carries it into the shopper's next
session, so it answers across sessions and restarts: the tracker store is a
SQLite file by default (`endpoints.yml`, `daogou_server.tracker_store`).
"""
from __future__ import annotations

from typing import Text

from actions.base import ShopAction, Turn
from actions.messages import t
from actions.render import product_list


class ActionRecallRecommendations(ShopAction):
    def name(self) -> Text:
        return "action_recall_recommendations"

    def respond(self, turn: Turn) -> None:
        ids = turn.tracker.get_slot("last_recommendations") or []
        products = [p for p in (turn.recommender.product(pid) for pid in ids) if p is not None]
        if not products:
            turn.say("recall.none")
            return
        turn.show(*product_list(turn.language, products, t(turn.language, "recall.intro"), reason_code="recalled"))
