"""Short answers that depend on what was just asked: yes/no to a destructive act, acceptance, thanks and bye.

A destructive act (forgetting the shopper, emptying the cart) is never run on one message that might be
misread: its ``action_confirm_*`` says what would go (N events and the conversation; N items) and asks,
and ``action_answer_yes_no`` (the rule for affirm and deny) runs the act only when the turn right before
was that question and the reply is an explicit yes. Anything else (a no, a new request) leaves
everything as it was. :data:`CONFIRMED` is the one table of such acts: one mechanism, every use. The
tracker store erases the conversation when it sees ``action_forget_me`` run, so that one code path stays.

A yes with nothing pending that accepts the product shown ("好的，就它了", "great, I'll take it")
goes to the cart through ``action_add_to_cart``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import ShopAction, Turn, shopper_language
from actions.cart import ASK_EMPTY_CART, EMPTY_CART
from actions.messages import t

ASK_FORGET = "action_confirm_forget_me"
FORGET = "action_forget_me"
ADD_TO_CART = "action_add_to_cart"


@dataclass(frozen=True)
class Confirmed:
    """A destructive act behind a question: what runs on an explicit yes, what is said on anything else."""

    act: str
    cancelled: str  # locale key


#: The question's action -> the act it guards. A new destructive act adds a row here and asks first.
CONFIRMED: Mapping[str, Confirmed] = {
    ASK_FORGET: Confirmed(FORGET, "privacy.forget_cancelled"),
    ASK_EMPTY_CART: Confirmed(EMPTY_CART, "cart.empty_cancelled"),
}

_EXPLICIT_YES = re.compile(
    r"^\s*(yes|yeah|yep|yup|sure|confirm(ed)?|do it|go ahead|please do|yes,? (please|do it|delete|erase)|"
    r"确定|确认|是的?|对|好的?|删吧|删除吧|可以|嗯)(\W.*)?$", re.IGNORECASE)
_ACCEPT = re.compile(
    r"(i'?ll take it|i'?ll take (that|this) one|i'?ll (go for|get|buy) it|that'?s the one|sold|就它了|就要?这个|就这款|就买|要了|买了|就它吧)",
    re.IGNORECASE)
_BYE = re.compile(r"\b(bye|goodbye|see you|cya|good night)\b|再见|拜拜|回头见|下次见|88", re.IGNORECASE)


def explicit_yes(text: str) -> bool:
    """"yes", "确定", "ok do it": a reply that says yes and nothing else."""
    return bool(_EXPLICIT_YES.match(text or ""))


def accepts_product(text: str) -> bool:
    """"I'll take it", "就它了": the shopper decided to buy what was shown."""
    return bool(_ACCEPT.search(text or ""))


def says_bye(text: str) -> bool:
    return bool(_BYE.search(text or ""))


def previous_action(events: List[Dict[str, Any]]) -> Optional[str]:
    """The last action the assistant ran before the latest user message (not counting listening)."""
    seen_user = False
    for event in reversed(events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") not in ("action_listen", None):
            return event.get("name")
    return None


class ActionConfirmForgetMe(ShopAction):
    """"Forget me": say what would be erased (N events and the conversation) and ask for a yes."""

    def name(self) -> Text:
        return ASK_FORGET

    def respond(self, turn: Turn) -> None:
        count = len(turn.recommender.shopper_data(turn.user_id))
        turn.say("privacy.confirm_forget", count=count)


class ActionAnswerYesNo(Action):
    """Yes or no: confirms or cancels what was just asked, accepts the product shown, else acknowledges.

    Needs no recommender (the actions it hands over to do), so it is a plain action, not a ShopAction.
    """

    def name(self) -> Text:
        return "action_answer_yes_no"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = shopper_language(tracker)
        events: List[Dict[Text, Any]] = [SlotSet("language", language)]
        text = (tracker.latest_message or {}).get("text") or ""
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        pending = CONFIRMED.get(previous_action(tracker.events) or "")
        if pending is not None:
            if intent == "affirm" and explicit_yes(text):
                return events + [FollowupAction(pending.act)]
            dispatcher.utter_message(text=t(language, pending.cancelled))
            return events
        if intent == "affirm" and accepts_product(text) and tracker.get_slot("last_product"):
            return events + [FollowupAction(ADD_TO_CART)]
        dispatcher.utter_message(text=t(language, "social.affirm_ack" if intent == "affirm" else "social.deny_ack"))
        return events


class ActionThank(Action):
    """"Thanks": you're welcome; "thanks, bye": a polite goodbye, not another question."""

    def name(self) -> Text:
        return "action_thank"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = shopper_language(tracker)
        text = (tracker.latest_message or {}).get("text") or ""
        # The locale, not the domain's responses: those follow the language slot, one turn late on a first message.
        dispatcher.utter_message(text=t(language, "social.goodbye" if says_bye(text) else "social.welcome"))
        return [SlotSet("language", language)]
