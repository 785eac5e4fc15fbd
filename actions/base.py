"""What every Daogou action shares: the recommender, the shopper's language, and never failing.

An action that raises would make the action server answer Rasa with a 500
and the shopper with silence; :class:`ShopAction` turns any error into a
polite message in the shopper's language and logs it.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from daogou_nlu.language import detect_language
from recsys import Recommender

from actions.messages import t
from actions.services import get_recommender

logger = logging.getLogger(__name__)


@dataclass
class Turn:
    """One action's view of the conversation turn."""

    tracker: Tracker
    dispatcher: CollectingDispatcher
    recommender: Recommender
    language: str
    events: List[Dict[Text, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return (self.tracker.latest_message or {}).get("text") or ""

    @property
    def user_id(self) -> str:
        return self.tracker.sender_id

    def say(self, key: str, **params: object) -> None:
        self.dispatcher.utter_message(text=t(self.language, key, **params))

    def entity(self, name: str) -> Optional[str]:
        value = next(self.tracker.get_latest_entity_values(name), None)
        return None if value is None else str(value)

    def say_product_not_found(self) -> None:
        """No product to act on: name the one we could not find, else ask which one is meant."""
        unknown = self.entity("product")
        if unknown:
            self.say("error.unknown_product", what=unknown)
        else:
            self.say("ask.which_product")


def shopper_language(tracker: Tracker) -> str:
    """The language of the latest message, else the one the conversation has been in."""
    text = (tracker.latest_message or {}).get("text") or ""
    return detect_language(text, default=tracker.get_slot("language") or "en")


class ShopAction(Action, ABC):
    """Base of the actions that talk to the recommender; subclasses implement :meth:`respond`.

    Abstract, so the action server does not register it as an action of its own.
    """

    @abstractmethod
    def respond(self, turn: Turn) -> None:
        """Answer the shopper: utter messages and append slot events to ``turn.events``."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = shopper_language(tracker)
        try:
            recommender = get_recommender()
        except Exception:  # the action server must answer even when the recommender cannot load
            logger.exception("recommender unavailable")
            dispatcher.utter_message(text=t(language, "error.unavailable"))
            return [SlotSet("language", language)]
        turn = Turn(tracker, dispatcher, recommender, language, [SlotSet("language", language)])
        try:
            self.respond(turn)
        except Exception:
            logger.exception("%s failed", self.name())
            dispatcher.utter_message(text=t(language, "error.unexpected"))
        return turn.events
