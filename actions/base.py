"""What every Daogou action shares: the recommender, the shopper's language, and never failing.

An action that raises would make the action server answer Rasa with a 500
and the shopper with silence; :func:`answering_failures` is the one guard that
turns any error into a polite message in the shopper's language and logs it.
:class:`ShopAction` runs every conversational action under it, and the form's
validation (a Rasa SDK ``FormValidationAction``) uses it directly.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from daogou_nlu.language_detection import detect_language
from recsys import Product, Recommender

from actions.messages import t
from actions.references import referenced_products
from actions.services import RecommenderUnavailable, get_recommender

logger = logging.getLogger(__name__)

Events = List[Dict[Text, Any]]

#: Input channels that cannot draw a custom payload: they get the rendered text alone.
TEXT_ONLY_CHANNELS = frozenset({"cmdline"})


@dataclass
class Turn:
    """One action's view of the conversation turn."""

    tracker: Tracker
    dispatcher: CollectingDispatcher
    recommender: Recommender
    language: str
    events: Events = field(default_factory=list)

    @property
    def text(self) -> str:
        return (self.tracker.latest_message or {}).get("text") or ""

    @property
    def user_id(self) -> str:
        return self.tracker.sender_id

    def say(self, key: str, **params: object) -> None:
        self.dispatcher.utter_message(text=t(self.language, key, **params))

    def show(self, text: str, payload: Dict[str, Any]) -> None:
        """Send a rendered answer: the text for every channel, the payload for those that draw it as cards.

        The terminal (``rasa shell``, input channel ``cmdline``) prints a custom payload as raw JSON, and
        the text already holds the list or comparison, so there it gets the text alone. This is the one
        place that decides it: every action's rendered answer passes through here.
        """
        self.dispatcher.utter_message(text=text)
        if self.tracker.get_latest_input_channel() not in TEXT_ONLY_CHANNELS:
            self.dispatcher.utter_message(json_message=payload)

    def entity(self, name: str) -> Optional[str]:
        value = next(self.tracker.get_latest_entity_values(name), None)
        return None if value is None else str(value)

    def referenced_product(self) -> Optional[Product]:
        """The one product the message refers to; None once the shopper has been told it was not found.

        The opening of every action about one product ("is it waterproof?", "add it to my cart"):
        with no product to act on, it names the one we could not find, else asks which one is meant.
        """
        products = referenced_products(self.tracker, self.recommender, limit=1)
        if products:
            return products[0]
        self.say_product_not_found()
        return None

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


@dataclass
class Outcome:
    """What a guarded action returns: the events its work set, or the fallback after a failure."""

    events: Events


@contextmanager
def answering_failures(action: str, dispatcher: CollectingDispatcher, language: str, fallback: Events) -> Iterator[Outcome]:
    """Never a 500: an error in the block is logged and answered in the shopper's language.

    The shopper hears "recommendations are unavailable" when the recommender could not load and
    "something went wrong" for any other error, and only that: what the failed work had already
    said is taken back, so no half answer precedes the apology. The action then returns
    ``fallback`` instead of what the work set, so a failed turn changes no slot it meant to set.
    """
    outcome = Outcome(list(fallback))
    said_before = len(dispatcher.messages)
    try:
        yield outcome
    except Exception as exc:  # the guard: whatever the error, the shopper gets an answer
        logger.exception("%s failed", action)
        del dispatcher.messages[said_before:]
        key = "error.unavailable" if isinstance(exc, RecommenderUnavailable) else "error.unexpected"
        dispatcher.utter_message(text=t(language, key))
        outcome.events = list(fallback)


class ShopAction(Action, ABC):
    """Base of the actions that talk to the recommender; subclasses implement :meth:`respond`.

    Abstract, so the action server does not register it as an action of its own.
    """

    @abstractmethod
    def respond(self, turn: Turn) -> None:
        """Answer the shopper: utter messages and append slot events to ``turn.events``."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> Events:
        language = shopper_language(tracker)
        remembered_language: Events = [SlotSet("language", language)]
        with answering_failures(self.name(), dispatcher, language, fallback=remembered_language) as outcome:
            turn = Turn(tracker, dispatcher, get_recommender(), language, list(remembered_language))
            self.respond(turn)
            outcome.events = turn.events
        return outcome.events
